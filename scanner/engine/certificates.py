"""Facts about a certificate deployment that sslyze 6 does not give directly (hostname match, self-signed, chain gaps)."""

from __future__ import annotations

import ipaddress
from datetime import datetime

from cryptography import x509
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric import dsa, ec, ed448, ed25519, rsa
from cryptography.x509.oid import ExtensionOID, NameOID

from scanner.engine.results import CertificateInfo
from scanner.expiry import whole_days_until


def san_dns_names(cert: x509.Certificate) -> tuple[str, ...]:
    try:
        ext = cert.extensions.get_extension_for_oid(ExtensionOID.SUBJECT_ALTERNATIVE_NAME)
    except x509.ExtensionNotFound:
        return ()
    return tuple(name.lower() for name in ext.value.get_values_for_type(x509.DNSName))


def hostname_matches(hostname: str, dns_names: tuple[str, ...]) -> bool:
    """RFC 6125 matching against subjectAltName DNS names only: browsers ignore the subject CN, so no SAN, no match."""
    host_labels = hostname.lower().rstrip(".").split(".")
    for name in dns_names:
        labels = name.rstrip(".").split(".")
        if len(labels) != len(host_labels):
            continue
        if labels[0] == "*" and len(labels) > 2:
            if labels[1:] == host_labels[1:]:
                return True
        elif labels == host_labels:
            return True
    return False


def is_self_signed(cert: x509.Certificate) -> bool:
    return cert.issuer == cert.subject


def public_key_facts(cert: x509.Certificate) -> tuple[str, int]:
    key = cert.public_key()
    if isinstance(key, rsa.RSAPublicKey):
        return "RSA", key.key_size
    if isinstance(key, ec.EllipticCurvePublicKey):
        return "EC", key.curve.key_size
    if isinstance(key, ed25519.Ed25519PublicKey):
        return "Ed25519", 256
    if isinstance(key, ed448.Ed448PublicKey):
        return "Ed448", 456
    if isinstance(key, dsa.DSAPublicKey):
        return "DSA", key.key_size
    return type(key).__name__, 0


def chain_is_incomplete(received: list[x509.Certificate], verified: list[x509.Certificate] | None) -> bool:
    """True when the path to the root needs an intermediate the server did not send."""
    if not received:
        return False
    if verified:
        needed = [cert for cert in verified[1:] if not is_self_signed(cert)]
        return any(cert not in received for cert in needed)
    leaf = received[0]
    if is_self_signed(leaf):
        return False
    return not any(cert.subject == leaf.issuer for cert in received[1:])


def describe_name(name: x509.Name) -> str:
    common_names = name.get_attributes_for_oid(NameOID.COMMON_NAME)
    if common_names:
        return str(common_names[0].value)
    return name.rfc4514_string() or "(empty)"


def certificate_info(
    *,
    hostname: str,
    received: list[x509.Certificate],
    verified: list[x509.Certificate] | None,
    trusted_ignoring_name: bool,
    validation_error: str | None,
    sha1_in_chain: bool,
    ocsp_stapled: bool,
    now: datetime,
) -> CertificateInfo:
    leaf = received[0]
    names = san_dns_names(leaf)
    key_type, key_bits = public_key_facts(leaf)
    hash_algorithm = leaf.signature_hash_algorithm
    not_before = leaf.not_valid_before_utc
    not_after = leaf.not_valid_after_utc
    return CertificateInfo(
        subject=describe_name(leaf.subject),
        issuer=describe_name(leaf.issuer),
        serial=format(leaf.serial_number, "x"),
        sha256_fingerprint=leaf.fingerprint(hashes.SHA256()).hex(),
        not_before=not_before,
        not_after=not_after,
        days_to_expiry=whole_days_until(not_after, now),
        san_dns_names=names,
        key_type=key_type,
        key_bits=key_bits,
        signature_algorithm=getattr(leaf.signature_algorithm_oid, "_name", leaf.signature_algorithm_oid.dotted_string),
        signature_hash=hash_algorithm.name if hash_algorithm else None,
        trusted=trusted_ignoring_name,
        hostname_match=hostname_matches(hostname, names),
        self_signed=len(received) == 1 and is_self_signed(leaf),
        expired=now > not_after,
        not_yet_valid=now < not_before,
        chain_incomplete=chain_is_incomplete(received, verified),
        chain_length=len(received),
        sha1_in_chain=sha1_in_chain or (hash_algorithm is not None and hash_algorithm.name == "sha1"),
        ocsp_stapled=ocsp_stapled,
        validation_error=validation_error,
    )


def dns_subject_for_revalidation(leaf: x509.Certificate) -> x509.DNSName | x509.IPAddress | None:
    """A name the leaf is valid for, to ask 'is this chain trusted at all?' independently of the scanned name."""
    for name in san_dns_names(leaf):
        if not name.startswith("*."):
            return x509.DNSName(name)
        return x509.DNSName("x" + name[1:])
    try:
        ext = leaf.extensions.get_extension_for_oid(ExtensionOID.SUBJECT_ALTERNATIVE_NAME)
        ips = ext.value.get_values_for_type(x509.IPAddress)
        if ips:
            return x509.IPAddress(ipaddress.ip_address(ips[0]))
    except x509.ExtensionNotFound:
        pass
    return None
