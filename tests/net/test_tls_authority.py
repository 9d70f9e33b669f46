"""The simulated certificate authority: certificates drawn from the seed alone (byte-identical per seed), the
names and dates asked for, and each leaf verified by the CA with the real ssl module's rules."""

from __future__ import annotations

import datetime

import pytest
from cryptography import x509
from cryptography.hazmat.primitives.serialization import Encoding

from layersim.net.host.tls.authority import EXPIRED_AFTER, NOT_AFTER, CertificateAuthority


def test_same_seed_same_certificates_other_seed_other_keys() -> None:
    a, b, c = CertificateAuthority(7), CertificateAuthority(7), CertificateAuthority(8)
    assert a.cert_pem == b.cert_pem != c.cert_pem
    assert a.issue(["example.com"]) == b.issue(["example.com"])
    assert a.issue(["example.com"]).key_pem != c.issue(["example.com"]).key_pem
    assert a.issue(["example.com"]).key_pem != a.issue(["www.example.com"]).key_pem


def test_a_leaf_names_dns_names_and_addresses_and_chains_to_the_root() -> None:
    ca = CertificateAuthority(1)
    chain = x509.load_pem_x509_certificates(ca.issue(["example.com", "93.184.216.34", "www.example.com"]).cert_pem)
    leaf, root = chain
    assert root.subject == root.issuer == leaf.issuer and root.public_bytes(Encoding.PEM) == ca.cert_pem
    san = leaf.extensions.get_extension_for_class(x509.SubjectAlternativeName).value
    assert san.get_values_for_type(x509.DNSName) == ["example.com", "www.example.com"]
    assert [str(a) for a in san.get_values_for_type(x509.IPAddress)] == ["93.184.216.34"]
    assert not leaf.extensions.get_extension_for_class(x509.BasicConstraints).value.ca
    assert root.extensions.get_extension_for_class(x509.BasicConstraints).value.ca
    leaf.verify_directly_issued_by(root)


@pytest.mark.parametrize(("expired", "end"), [(False, NOT_AFTER), (True, EXPIRED_AFTER)])
def test_validity_is_fixed_dates_around_the_real_clock(expired: bool, end: datetime.datetime) -> None:
    leaf = x509.load_pem_x509_certificates(CertificateAuthority(1).issue(["a.test"], expired=expired).cert_pem)[0]
    assert leaf.not_valid_after_utc == end
    now = datetime.datetime.now(datetime.UTC)
    assert (leaf.not_valid_before_utc < now < leaf.not_valid_after_utc) is not expired


def test_a_certificate_needs_a_name() -> None:
    with pytest.raises(ValueError, match="at least one name"):
        CertificateAuthority(1).issue([])
