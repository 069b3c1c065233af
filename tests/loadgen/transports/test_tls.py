"""The TLS context a client shares, and TLS failures said in one line."""

import asyncio
import contextlib
import socket
import ssl
import threading

import pytest

from loadgen.core import loop
from loadgen.transports.base import ClientOptions
from loadgen.transports.http1 import FastClient
from loadgen.transports.models import TLS, ClientError
from loadgen.transports.tls import describe, tls_context


def test_verification_is_on_unless_insecure_and_alpn_offers_http_1_1():
    context = tls_context(ClientOptions())
    assert context.verify_mode == ssl.CERT_REQUIRED and context.check_hostname
    insecure = tls_context(ClientOptions(insecure=True))
    assert insecure.verify_mode == ssl.CERT_NONE and not insecure.check_hostname


def test_a_certificate_file_that_cannot_be_used_is_named(tmp_path):
    missing = tmp_path / "nope.pem"
    with pytest.raises(ValueError, match=r"nope\.pem"):
        tls_context(ClientOptions(ca_cert=str(missing)))
    (tmp_path / "junk.pem").write_text("not a certificate")
    with pytest.raises(ValueError, match=r"cannot use the CA certificate .*junk\.pem"):
        tls_context(ClientOptions(ca_cert=str(tmp_path / "junk.pem")))


def test_failures_read_as_people_say_them():
    error = ssl.SSLCertVerificationError(1, "x")
    error.verify_message = "self-signed certificate"
    assert describe(error) == "certificate verify failed: self-signed certificate"
    wrong = ssl.SSLError(1, "x")
    wrong.reason = "WRONG_VERSION_NUMBER"
    assert describe(wrong) == "wrong version number"


@pytest.fixture(scope="module")
def certs(tmp_path_factory):
    from tests.support.certs import make_certs

    return make_certs(tmp_path_factory.mktemp("certs"))


def test_a_client_certificate_without_its_key_asks_for_client_key(certs):
    # server.pem holds the certificate alone (its key is server.key): OpenSSL says "PEM lib".
    keyless = ClientOptions(client_cert=str(certs.server_pem))
    with pytest.raises(ValueError, match=r"server\.pem: it holds no private key; .*--client-key"):
        tls_context(keyless)
    tls_context(ClientOptions(client_cert=str(certs.server_pem), client_key=str(certs.server_key)))
    tls_context(ClientOptions(client_cert=str(certs.client_pem)))  # key and cert in one file


@contextlib.contextmanager
def mtls_server(context):
    """A TLS server requiring a client certificate, on blocking sockets in a thread, as
    most servers do it: the refusal goes out as an alert (asyncio's own servers drop it)."""
    listener = socket.create_server(("127.0.0.1", 0))
    port = listener.getsockname()[1]

    def serve():
        with contextlib.suppress(OSError):  # the listener closed: the test is over
            while True:
                conn, _ = listener.accept()
                with conn, contextlib.suppress(OSError):  # ssl.SSLError is an OSError
                    context.wrap_socket(conn, server_side=True).recv(1024)

    thread = threading.Thread(target=serve, daemon=True)
    thread.start()
    try:
        yield f"https://127.0.0.1:{port}"
    finally:
        listener.shutdown(socket.SHUT_RDWR)  # wakes the accept() waiting in the thread
        listener.close()
        thread.join(5)


async def first_answer(url, options):
    client = FastClient(url, 1, options)
    try:
        return await asyncio.wait_for(client.request("GET", "/", None, None), 5)
    finally:
        await client.aclose()


def test_a_server_requiring_a_client_certificate_is_a_tls_error_saying_so(certs):
    # On uvloop, as runs are (asyncio's own SSL transport reads the refusal as a reset).
    required = certs.server_context(client_cert_required=True)
    # TLS 1.3: the refusal is an alert after the handshake, where the answer was awaited.
    with mtls_server(required) as url, pytest.raises(ClientError) as info:
        loop.run(first_answer(url, ClientOptions(ca_cert=str(certs.ca_pem))))
    assert info.value.kind == TLS, info.value
    assert "the server asked for a client certificate" in str(info.value)
    # TLS 1.2: a handshake failure alert, which may mean this or no cipher in common.
    tls12 = certs.server_context(client_cert_required=True)
    tls12.maximum_version = ssl.TLSVersion.TLSv1_2
    with mtls_server(tls12) as url, pytest.raises(ClientError) as info:
        loop.run(first_answer(url, ClientOptions(ca_cert=str(certs.ca_pem))))
    assert info.value.kind == TLS, info.value
    assert "it may require a client certificate (give --client-cert)" in str(info.value)
