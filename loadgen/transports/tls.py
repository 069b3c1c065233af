"""TLS for https:// targets: the context every connection of a client shares.

Verification is on by default against the system's trust store; a private CA
(`--ca-cert`, a self-signed staging certificate) is trusted besides it;
`--insecure` turns verification off (and the reports say so). A client
certificate and key give mutual TLS. ALPN offers HTTP/1.1, or what the
caller speaks (`h2`, and `http/1.1` too when it may fall back to it).

Under TLS 1.3 a server that requires a client certificate checks it only
after the client has finished its side of the handshake: the refusal (an
alert) arrives where the response was awaited, and would read as a reset.
Under TLS 1.2 it is a "handshake failure" alert, which a server that shares
no cipher sends too. `describe` says what each may mean.
"""

from __future__ import annotations

import ssl

from loadgen.transports.base import ClientOptions


def tls_context(options: ClientOptions, alpn: tuple[str, ...] = ("http/1.1",)) -> ssl.SSLContext:
    """The client context offering `alpn`; ValueError naming the file that cannot be used."""
    context = ssl.create_default_context(ssl.Purpose.SERVER_AUTH)
    loading = "CA certificate"
    try:
        if options.ca_cert:
            context.load_verify_locations(cafile=options.ca_cert)
        loading = "client certificate"
        if options.client_cert:
            context.load_cert_chain(options.client_cert, options.client_key)
    except (OSError, ssl.SSLError) as e:
        if loading == "client certificate" and _keyless(options):
            raise ValueError(
                f"cannot use the client certificate {options.client_cert}: it holds no private "
                "key; give its key file with --client-key"
            ) from None
        names = options.ca_cert if loading == "CA certificate" else options.client_cert
        raise ValueError(f"cannot use the {loading} {names}: {describe(e)}") from None
    if options.insecure:
        context.check_hostname = False
        context.verify_mode = ssl.CERT_NONE
    context.set_alpn_protocols(list(alpn))
    return context


def _keyless(options: ClientOptions) -> bool:
    """The client certificate file was given without --client-key and holds no key
    (OpenSSL then says only "PEM lib")."""
    if options.client_key or not options.client_cert:
        return False
    try:
        with open(options.client_cert, "rb") as f:
            return b"PRIVATE KEY-----" not in f.read()
    except OSError:  # missing or unreadable: the error says so itself
        return False


# OpenSSL's reasons that deserve more words than their own.
_REASONS = {
    # TLS 1.3: the server required a client certificate and was sent none.
    "TLSV13_ALERT_CERTIFICATE_REQUIRED": "the server asked for a client certificate and got "
    "none (give --client-cert)",
    # TLS 1.2: a server requiring a client certificate, sent none, refuses the
    # handshake with this alert, as one sharing no version or cipher does.
    "SSLV3_ALERT_HANDSHAKE_FAILURE": "the server refused the handshake (alert handshake "
    "failure): it may require a client certificate (give --client-cert), or share no TLS "
    "version or cipher with loadgen",
}


def describe(error: BaseException) -> str:
    """An SSL or file error in one line: "certificate verify failed: self-signed certificate"."""
    reason = getattr(error, "reason", None)  # set by OpenSSL, absent when made by hand
    if isinstance(error, ssl.SSLError) and reason in _REASONS:
        return _REASONS[reason]
    if isinstance(error, ssl.SSLCertVerificationError) and error.verify_message:
        return f"certificate verify failed: {error.verify_message}"
    if isinstance(error, ssl.SSLError) and error.reason:
        return error.reason.lower().replace("_", " ")
    if isinstance(error, OSError) and error.strerror:
        name = f" ({error.filename})" if error.filename else ""
        return f"{error.strerror}{name}"
    return str(error) or type(error).__name__
