"""A simulated certificate authority: Ed25519 keys derived from the network's seed, certificates for its names.

Ed25519 signatures are deterministic (RFC 8032 §5.1.6), so the same seed gives byte-identical certificates.
Validity is fixed dates, not the simulated clock: OpenSSL checks certificates against the real time
(X509_VERIFY_PARAM_set_time is out of Python's reach), so a good certificate is valid until 2099 and an expired
one ended in 2021.
"""

from __future__ import annotations

import datetime
import hashlib
from dataclasses import dataclass
from ipaddress import ip_address

from cryptography import x509
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from cryptography.x509.oid import ExtendedKeyUsageOID, NameOID

__all__ = ["CertificateAuthority", "Issued"]

NOT_BEFORE = datetime.datetime(2020, 1, 1, tzinfo=datetime.UTC)
NOT_AFTER = datetime.datetime(2099, 12, 31, tzinfo=datetime.UTC)
EXPIRED_AFTER = datetime.datetime(2021, 1, 1, tzinfo=datetime.UTC)
CA_NAME = "layersim Simulated Root CA"


@dataclass(frozen=True)
class Issued:
    """A certificate and its private key, both PEM."""

    cert_pem: bytes
    key_pem: bytes


def _key(seed: int, label: str) -> Ed25519PrivateKey:
    """An Ed25519 key drawn from (seed, label) alone."""
    digest = hashlib.sha256(f"layersim tls {seed} {label}".encode()).digest()
    return Ed25519PrivateKey.from_private_bytes(digest)


def _serial(seed: int, label: str) -> int:
    """A positive 63-bit serial number drawn from (seed, label) (RFC 5280 §4.1.2.2: at most 20 octets)."""
    return int.from_bytes(hashlib.sha256(f"layersim serial {seed} {label}".encode()).digest()[:8], "big") >> 1 or 1


class CertificateAuthority:
    """The simulated world's root CA: a self-signed certificate and the certificates it issues."""

    def __init__(self, seed: int) -> None:
        self.seed = seed
        self._key = _key(seed, "root")
        name = x509.Name([x509.NameAttribute(NameOID.ORGANIZATION_NAME, "layersim"),
                          x509.NameAttribute(NameOID.COMMON_NAME, CA_NAME)])
        self._name = name
        public = self._key.public_key()
        cert = (x509.CertificateBuilder().subject_name(name).issuer_name(name).public_key(public)
                .serial_number(_serial(seed, "root")).not_valid_before(NOT_BEFORE).not_valid_after(NOT_AFTER)
                .add_extension(x509.BasicConstraints(ca=True, path_length=None), critical=True)  # RFC 5280 §4.2.1.9
                .add_extension(x509.KeyUsage(digital_signature=False, content_commitment=False,
                                             key_encipherment=False, data_encipherment=False, key_agreement=False,
                                             key_cert_sign=True, crl_sign=True, encipher_only=False,
                                             decipher_only=False), critical=True)
                .add_extension(x509.SubjectKeyIdentifier.from_public_key(public), critical=False)
                .sign(self._key, None))
        self.cert = cert
        self.cert_pem = cert.public_bytes(serialization.Encoding.PEM)

    def issue(self, names: list[str], *, expired: bool = False) -> Issued:
        """A server certificate for `names` (DNS names or IP addresses; the first is the subject's CN)."""
        if not names:
            raise ValueError("a certificate needs at least one name")
        label = ",".join(names) + (" expired" if expired else "")
        key = _key(self.seed, label)
        public = key.public_key()
        alt: list[x509.GeneralName] = []
        for name in names:
            try:
                alt.append(x509.IPAddress(ip_address(name)))
            except ValueError:
                alt.append(x509.DNSName(name))
        cert = (x509.CertificateBuilder()
                .subject_name(x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, names[0])]))
                .issuer_name(self._name).public_key(public).serial_number(_serial(self.seed, label))
                .not_valid_before(NOT_BEFORE).not_valid_after(EXPIRED_AFTER if expired else NOT_AFTER)
                .add_extension(x509.SubjectAlternativeName(alt), critical=False)  # RFC 6125 §6.4: names from SAN
                .add_extension(x509.BasicConstraints(ca=False, path_length=None), critical=True)
                .add_extension(x509.ExtendedKeyUsage([ExtendedKeyUsageOID.SERVER_AUTH]), critical=False)
                .add_extension(x509.AuthorityKeyIdentifier.from_issuer_public_key(self._key.public_key()),
                               critical=False)
                .sign(self._key, None))
        key_pem = key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
                                    serialization.NoEncryption())
        return Issued(cert.public_bytes(serialization.Encoding.PEM) + self.cert_pem, key_pem)
