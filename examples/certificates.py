"""A throwaway local certificate authority and a server certificate for loopback TLS.

Used by the demo, the examples and the end-to-end tests. A new certificate
authority (CA) is made each time, with ``trustme``; clients trust that CA
only, so certificate verification stays on, as it is in production. Nothing
here is ever trusted outside the process that made it.
"""

from __future__ import annotations

import pathlib
import ssl
from dataclasses import dataclass

import trustme

LOOPBACK_NAMES = ("localhost", "127.0.0.1")


@dataclass(frozen=True)
class ServerCertificate:
    """Paths of the PEM files a TLS server and its clients need."""

    ca_file: pathlib.Path
    cert_file: pathlib.Path
    key_file: pathlib.Path


def make_server_certificate(
    directory: pathlib.Path, names: tuple[str, ...] = LOOPBACK_NAMES
) -> ServerCertificate:
    """Make a throwaway CA, issue a certificate for ``names`` (DNS names or
    IPs), and write both to ``directory``.

    ``directory`` then holds the CA's certificate but not its private key:
    the key stays in memory, so no file can sign anything later.
    """
    directory.mkdir(parents=True, exist_ok=True)
    authority = trustme.CA(organization_name="flask_https_guard throwaway local CA")
    server = authority.issue_cert(*names)
    certificate = ServerCertificate(
        directory / "ca.pem", directory / "server.pem", directory / "server-key.pem"
    )
    authority.cert_pem.write_to_path(str(certificate.ca_file))
    server.cert_chain_pems[0].write_to_path(str(certificate.cert_file))
    server.private_key_pem.write_to_path(str(certificate.key_file))
    return certificate


@dataclass(frozen=True)
class LoopbackTLS:
    """In-memory TLS contexts for a server and its clients, from one throwaway CA."""

    server: ssl.SSLContext
    client: ssl.SSLContext


def make_loopback_tls(names: tuple[str, ...] = LOOPBACK_NAMES) -> LoopbackTLS:
    """A server context for ``names`` and a client context that trusts only
    the throwaway CA that issued it. Nothing is written to disk."""
    authority = trustme.CA(organization_name="flask_https_guard throwaway local CA")
    server = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    authority.issue_cert(*names).configure_cert(server)
    # Trust this CA only, not the system's store.
    client = ssl.SSLContext(ssl.PROTOCOL_TLS_CLIENT)
    authority.configure_trust(client)
    return LoopbackTLS(server, client)
