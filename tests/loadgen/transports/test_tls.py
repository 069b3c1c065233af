"""The TLS context a client shares, and TLS failures said in one line."""

import ssl

import pytest

from loadgen.transports.base import ClientOptions
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
