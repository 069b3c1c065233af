"""The test receiver decodes envelopes exactly as the SDK serialises and compresses them."""

import gzip
import urllib.request

import brotli  # type: ignore[import-untyped]  # ships no type hints
import pytest
import sentry_sdk
from sentry_sdk.envelope import Envelope, Item, PayloadRef

from tests.server.sentry_receiver import SentryReceiver, decode_body, parse_envelope


def sdk_envelope() -> bytes:
    envelope = Envelope(headers={"event_id": "abc"})
    envelope.add_event({"event_id": "abc", "message": "hello\nworld"})
    envelope.add_item(Item(payload=PayloadRef(bytes=b"raw\nbytes"), type="attachment"))
    return envelope.serialize()


def test_parses_sdk_envelopes_with_and_without_lengths() -> None:
    data = sdk_envelope()
    parsed = parse_envelope(data)
    assert parsed.headers == {"event_id": "abc"}
    assert [i.type for i in parsed.items] == ["event", "attachment"]
    assert parsed.items[0].json()["message"] == "hello\nworld"
    assert parsed.items[1].payload == b"raw\nbytes"
    unsized = b'{}\n{"type":"event"}\n{"message":"x"}\n'
    assert parse_envelope(unsized).items[0].json() == {"message": "x"}


@pytest.mark.parametrize(
    ("encoding", "compress"),
    [("gzip", gzip.compress), ("br", brotli.compress), (None, lambda b: b)],
)
def test_receiver_decodes_each_content_encoding(encoding: str | None, compress: object) -> None:
    receiver = SentryReceiver()
    receiver.start()
    try:
        body = compress(sdk_envelope())  # type: ignore[operator]
        headers = {"Content-Type": "application/x-sentry-envelope"}
        if encoding:
            headers["Content-Encoding"] = encoding
        request = urllib.request.Request(
            f"http://127.0.0.1:{receiver.port}/api/1/envelope/", data=body, headers=headers
        )
        with urllib.request.urlopen(request, timeout=5) as response:
            assert response.status == 200
        event = receiver.wait_for("event", lambda e: True, timeout=5)
        assert event["message"] == "hello\nworld"
    finally:
        receiver.stop()


@pytest.mark.parametrize("algo", ["gzip", "br"])
def test_receives_what_a_real_sdk_client_sends(receiver: SentryReceiver, algo: str) -> None:
    # A standalone client (not bound to the global scope): nothing leaks into other tests.
    client = sentry_sdk.Client(
        dsn=receiver.dsn,
        default_integrations=False,
        _experiments={"transport_compression_algo": algo},
    )
    try:
        client.capture_event({"message": f"hello over {algo}"})
        client.flush(timeout=5)
    finally:
        client.close(timeout=1)
    assert receiver.wait_for("event", lambda e: True)["message"] == f"hello over {algo}"
    assert receiver.encodings == [algo]


def test_unknown_encoding_is_an_error() -> None:
    with pytest.raises(ValueError):
        decode_body(b"", "zstd")
