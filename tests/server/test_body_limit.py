"""The cap on request bodies, in the app and in the real server."""

import httpx
import pytest

from tests.server.conftest import StartServer

pytestmark = pytest.mark.anyio


@pytest.mark.slow
def test_a_huge_body_is_refused_by_the_real_server_before_it_is_sent(
    start_server: StartServer,
) -> None:
    import http.client
    from urllib.parse import urlsplit

    server = start_server(settings={"MAX_BODY_BYTES": "1024"})
    url = urlsplit(server.url)
    conn = http.client.HTTPConnection(url.hostname, url.port, timeout=10)
    conn.putrequest("POST", "/addNumbers")
    conn.putheader("Content-Type", "application/json")
    conn.putheader("Content-Length", str(50 * 1024 * 1024))  # declared, never sent
    conn.endheaders(b'{"a": 1, ')
    response = conn.getresponse()
    assert response.status == 413
    assert response.read() == b'{"detail": "request body over 1024 bytes"}'
    conn.close()


async def test_a_body_over_the_cap_is_refused_before_it_is_read(client: httpx.AsyncClient) -> None:
    huge = b'{"a": 1, "b": 2, "pad": "' + b"x" * (50 * 1024 * 1024) + b'"}'
    response = await client.post(
        "/addNumbers", content=huge, headers={"content-type": "application/json"}
    )
    assert response.status_code == 413
    assert response.json() == {"detail": "request body over 4096 bytes"}


async def test_a_chunked_body_over_the_cap_is_refused_as_it_arrives(
    client: httpx.AsyncClient,
) -> None:
    sent = []

    async def chunks():  # no Content-Length: the cap is counted as the body comes
        for _ in range(100):
            sent.append(1)
            yield b" " * 1024

    response = await client.post(
        "/addNumbers", content=chunks(), headers={"content-type": "application/json"}
    )
    assert response.status_code == 413
    assert len(sent) < 100  # not read to the end


async def test_a_chunked_body_under_the_cap_is_served(client: httpx.AsyncClient) -> None:
    async def chunks():
        yield b'{"a": 1,'
        yield b' "b": 2}'

    response = await client.post(
        "/addNumbers", content=chunks(), headers={"content-type": "application/json"}
    )
    assert response.status_code == 200 and response.json() == {"result": 3}
