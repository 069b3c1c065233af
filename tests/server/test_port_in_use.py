"""server.launch.port_in_use: busy only while something listens.

A restarted server's port keeps the connections it closed in TIME_WAIT for a
minute; the server itself binds with SO_REUSEADDR and starts at once, so the
check before starting it must not call that port busy.
"""

import socket
import time
from collections.abc import Iterator
from contextlib import contextmanager

import psutil

from server.launch import free_port, port_in_use


@contextmanager
def listener(host: str = "127.0.0.1", port: int = 0, reuse: bool = False) -> Iterator[int]:
    """A listening socket on host:port (the OS picks a port for 0); its port."""
    with socket.socket() as sock:
        if reuse:  # as gunicorn and uvicorn bind
            sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        sock.bind((host, port))
        sock.listen()
        yield sock.getsockname()[1]


def time_wait_ports() -> set[int]:
    """Local ports of this machine's loopback sockets in TIME_WAIT."""
    return {
        c.laddr.port
        for c in psutil.net_connections(kind="tcp4")
        if c.status == psutil.CONN_TIME_WAIT
    }


def port_left_in_time_wait() -> int:
    """A loopback port whose server side holds a connection in TIME_WAIT, nothing listening.

    The server binds with SO_REUSEADDR, as gunicorn, uvicorn and Locust's UI
    do (a socket it accepts inherits the flag, which a later bind checks), and
    closes first (as a server closing an idle keep-alive connection, or
    stopping, does), so it is the server's port that waits.
    """
    with socket.socket() as server:
        server.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        server.bind(("127.0.0.1", 0))
        server.listen()
        port = server.getsockname()[1]
        with socket.create_connection(("127.0.0.1", port)) as client:
            accepted, _ = server.accept()
            accepted.close()  # the server side's FIN first: it will hold TIME_WAIT
            assert client.recv(1) == b""
    deadline = time.monotonic() + 5
    while port not in time_wait_ports():
        assert time.monotonic() < deadline, f"port {port} never entered TIME_WAIT"
        time.sleep(0.01)
    return port


def test_a_port_in_time_wait_is_free():
    port = port_left_in_time_wait()
    assert not port_in_use("127.0.0.1", port)
    with listener(port=port, reuse=True):  # as the restarted server binds it
        assert port_in_use("127.0.0.1", port)


def test_a_listening_port_is_busy_however_it_was_bound():
    for reuse in (False, True):
        with listener(reuse=reuse) as port:
            assert port_in_use("127.0.0.1", port)
    with listener("0.0.0.0", reuse=True) as port:  # every address, loopback included
        assert port_in_use("127.0.0.1", port)


def test_a_port_nobody_holds_is_free():
    assert not port_in_use("127.0.0.1", free_port())
