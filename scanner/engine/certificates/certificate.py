"""Facts about a certificate deployment that sslyze 6 does not give directly (hostname match, self-signed, chain gaps)."""

from __future__ import annotations

import ipaddress
from datetime import datetime
from typing import Protocol

from cryptography import x509
from cryptography.exceptions import UnsupportedAlgorithm
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric import dsa, ec, ed448, ed25519, rsa
from cryptography.x509.oid import ExtensionOID, NameOID

from scanner.engine.results import CertificateInfo, ChainCertificate
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


def describe_name(name: x509.Name) -> str:
    common_names = name.get_attributes_for_oid(NameOID.COMMON_NAME)
    if common_names:
        return str(common_names[0].value)
    return name.rfc4514_string() or "(empty)"


class ValidatedPath(Protocol):
    """What certificate_info reads of chain.PathOutcome (not imported: chain imports this module)."""

    @property
    def leaf(self) -> x509.Certificate: ...

    @property
    def chain_trusted(self) -> bool: ...

    @property
    def path(self) -> tuple[ChainCertificate, ...]: ...

    @property
    def path_certificates(self) -> tuple[x509.Certificate, ...]: ...

    @property
    def order_wrong(self) -> bool: ...

    @property
    def completed_via_aia(self) -> bool: ...

    @property
    def missing_intermediate(self) -> bool: ...


def certificate_info(
    *,
    hostname: str,
    received: list[x509.Certificate],
    outcome: ValidatedPath,
    validation_error: str | None,
    detail_raw: str | None,
    ocsp_stapled: bool,
    now: datetime,
) -> CertificateInfo:
    leaf = outcome.leaf
    names = san_dns_names(leaf)
    key_type, key_bits = public_key_facts(leaf)
    hash_algorithm = _signature_hash(leaf)
    not_before = leaf.not_valid_before_utc
    not_after = leaf.not_valid_after_utc
    # Dates of every certificate a browser would check (the trust anchor's own are the store's business).
    checked = [cert for cert in outcome.path_certificates if cert in received or not is_self_signed(cert)]
    expired = now > not_after or any(now > cert.not_valid_after_utc for cert in checked)
    not_yet_valid = now < not_before or any(now < cert.not_valid_before_utc for cert in checked)
    signed = [link for link in outcome.path if not (link.self_signed and link.source == "trust_store")]
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
        # What a browser decides now: a trusted path, within its dates (the name is hostname_match's job).
        trusted=outcome.chain_trusted and not expired and not not_yet_valid,
        hostname_match=hostname_matches(hostname, names),
        self_signed=is_self_signed(leaf) and len(outcome.path) == 1,
        expired=expired,
        not_yet_valid=not_yet_valid,
        chain_incomplete=outcome.missing_intermediate,
        chain_length=len(received),
        sha1_in_chain=any((link.signature_hash or "") == "sha1" for link in signed),
        ocsp_stapled=ocsp_stapled,
        validation_error=validation_error,
        chain_trusted=outcome.chain_trusted,
        chain_order_wrong=outcome.order_wrong,
        chain_completed_via_aia=outcome.completed_via_aia,
        chain=outcome.path,
        detail_raw=detail_raw,
    )


def _signature_hash(cert: x509.Certificate) -> hashes.HashAlgorithm | None:
    try:
        return cert.signature_hash_algorithm
    except UnsupportedAlgorithm:  # an algorithm cryptography cannot name
        return None


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


_WEAK_HASHES = ("md2", "md4", "md5", "sha1")


def explain_untrusted(
    leaf: x509.Certificate, path: tuple[x509.Certificate, ...], raw_errors: tuple[str, ...], aia_error: str | None
) -> str:
    """Why no browser would build a trusted path, in words. Facts we can see beat the verifier's text."""
    raw = " ".join(raw_errors).lower()
    if is_self_signed(leaf):
        return "the certificate is self-signed, so no browser trusts it"
    for cert in path:
        digest = _hash_name(cert)
        if digest in _WEAK_HASHES and not (is_self_signed(cert) and cert is not leaf):
            return (
                f"the certificate of {describe_name(cert.subject)} is signed with {digest.upper().replace('SHA1', 'SHA-1')}, "
                "which browsers no longer accept"
            )
    if len(path) == 1:
        missing = f"the issuer of the certificate ({describe_name(leaf.issuer)}) is neither sent by the server"
        if aia_error:
            return f"{missing} nor could it be downloaded: {aia_error}"
        return f"{missing} nor known to browsers"
    if "validation time" in raw:
        return "a certificate in the chain is outside its validity dates"
    if "basicconstraints" in raw:
        return "a certificate in the chain has basic constraints browsers refuse (a CA flag where none belongs, or none where one must be)"
    if "extension" in raw:
        return (
            "a certificate in the chain lacks an extension browsers require or marks one wrongly "
            "(for example Key Usage, Subject/Authority Key Identifier or Basic Constraints)"
        )
    if "key" in raw and ("small" in raw or "size" in raw or "weak" in raw):
        return "a key in the chain is too small for browsers"
    if "signature" in raw or "algorithm" in raw:
        return "a signature in the chain uses an algorithm browsers do not accept"
    return (
        f"the chain ends at {describe_name(path[-1].issuer if not is_self_signed(path[-1]) else path[-1].subject)}, "
        "which is not a root certificate browsers trust"
    )


def _hash_name(cert: x509.Certificate) -> str | None:
    try:
        digest = cert.signature_hash_algorithm
    except UnsupportedAlgorithm:  # an algorithm cryptography cannot name
        return None
    return digest.name if digest else None
