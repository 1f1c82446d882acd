"""A throwaway certificate authority and server certificate for loopback TLS.

Used by the demo and the end-to-end tests: the client trusts only this CA, so
certificate verification stays on, as in production. Made with the
``cryptography`` package, a demo and test dependency only.
"""

from __future__ import annotations

import datetime
import ipaddress
import pathlib
from dataclasses import dataclass

from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import ExtendedKeyUsageOID, NameOID


@dataclass(frozen=True)
class ServerCertificate:
    """Paths of the PEM files a TLS server and its clients need."""

    ca_file: pathlib.Path
    cert_file: pathlib.Path
    key_file: pathlib.Path


def make_server_certificate(
    directory: pathlib.Path, names: tuple[str, ...] = ("localhost", "127.0.0.1")
) -> ServerCertificate:
    """Write a new CA and a certificate for ``names`` (DNS names or IPs)."""
    directory.mkdir(parents=True, exist_ok=True)
    ca_key = ec.generate_private_key(ec.SECP256R1())
    ca_name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "flask_https_guard test CA")])
    # Key identifiers and key usages: Python 3.13 verifies strictly
    # (VERIFY_X509_STRICT) and refuses certificates without them.
    ca_cert = (
        _builder(ca_name, ca_name, ca_key.public_key())
        .add_extension(x509.BasicConstraints(ca=True, path_length=0), critical=True)
        .add_extension(_key_usage(for_ca=True), critical=True)
        .add_extension(
            x509.SubjectKeyIdentifier.from_public_key(ca_key.public_key()), critical=False
        )
        .sign(ca_key, hashes.SHA256())
    )
    server_key = ec.generate_private_key(ec.SECP256R1())
    server_name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, names[0])])
    server_cert = (
        _builder(server_name, ca_name, server_key.public_key())
        .add_extension(
            x509.SubjectAlternativeName([_general_name(n) for n in names]), critical=False
        )
        .add_extension(x509.BasicConstraints(ca=False, path_length=None), critical=True)
        .add_extension(_key_usage(for_ca=False), critical=True)
        .add_extension(x509.ExtendedKeyUsage([ExtendedKeyUsageOID.SERVER_AUTH]), critical=False)
        .add_extension(
            x509.SubjectKeyIdentifier.from_public_key(server_key.public_key()), critical=False
        )
        .add_extension(
            x509.AuthorityKeyIdentifier.from_issuer_public_key(ca_key.public_key()), critical=False
        )
        .sign(ca_key, hashes.SHA256())
    )
    certificate = ServerCertificate(
        directory / "ca.pem", directory / "server.pem", directory / "server-key.pem"
    )
    certificate.ca_file.write_bytes(ca_cert.public_bytes(serialization.Encoding.PEM))
    certificate.cert_file.write_bytes(server_cert.public_bytes(serialization.Encoding.PEM))
    certificate.key_file.write_bytes(
        server_key.private_bytes(
            serialization.Encoding.PEM,
            serialization.PrivateFormat.PKCS8,
            serialization.NoEncryption(),
        )
    )
    return certificate


def _builder(
    subject: x509.Name, issuer: x509.Name, public_key: ec.EllipticCurvePublicKey
) -> x509.CertificateBuilder:
    now = datetime.datetime.now(datetime.timezone.utc)
    return (
        x509.CertificateBuilder()
        .subject_name(subject)
        .issuer_name(issuer)
        .public_key(public_key)
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - datetime.timedelta(minutes=5))
        .not_valid_after(now + datetime.timedelta(days=1))
    )


def _key_usage(for_ca: bool) -> x509.KeyUsage:
    return x509.KeyUsage(
        digital_signature=not for_ca,
        content_commitment=False,
        key_encipherment=False,
        data_encipherment=False,
        key_agreement=False,
        key_cert_sign=for_ca,
        crl_sign=for_ca,
        encipher_only=False,
        decipher_only=False,
    )


def _general_name(name: str) -> x509.GeneralName:
    try:
        return x509.IPAddress(ipaddress.ip_address(name))
    except ValueError:
        return x509.DNSName(name)
