"""Test certificates, made by trustme: a private CA, a server certificate, a client one."""

import ssl
from dataclasses import dataclass
from pathlib import Path

import trustme


@dataclass
class Certs:
    ca_pem: Path  # what --ca-cert takes
    server_pem: Path  # certificate and key, for gunicorn's --certfile/--keyfile
    server_key: Path
    client_pem: Path  # certificate and key in one file, for --client-cert
    ca: trustme.CA
    server: trustme.LeafCert

    def server_context(self, client_cert_required: bool = False) -> ssl.SSLContext:
        context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
        self.server.configure_cert(context)
        if client_cert_required:
            context.verify_mode = ssl.CERT_REQUIRED
            self.ca.configure_trust(context)
        return context


def make_certs(directory: Path, *hosts: str) -> Certs:
    """A CA and a server certificate for `hosts` (default: 127.0.0.1 and localhost)."""
    ca = trustme.CA()
    server = ca.issue_cert(*(hosts or ("127.0.0.1", "localhost")))
    client = ca.issue_cert("loadgen-client@example.org")
    paths = Certs(directory / "ca.pem", directory / "server.pem", directory / "server.key",
                  directory / "client.pem", ca, server)  # fmt: skip
    ca.cert_pem.write_to_path(str(paths.ca_pem))
    server.cert_chain_pems[0].write_to_path(str(paths.server_pem))
    server.private_key_pem.write_to_path(str(paths.server_key))
    client.private_key_and_cert_chain_pem.write_to_path(str(paths.client_pem))
    return paths
