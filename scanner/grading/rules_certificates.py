"""Certificate rules: dates, trust, name, chain, signatures, key, stapling (one check per function)."""

from __future__ import annotations

from collections.abc import Iterator

from scanner.engine.results import CertificateInfo, ScanResult
from scanner.grading import scoring
from scanner.grading.findings import Finding
from scanner.grading.policy import finding
from scanner.grading.readers import (
    EXPIRY_URGENT_DAYS,
    EXPIRY_WARNING_DAYS,
    FORGEABLE_HASHES,
    _signatures,
    chain_trusted,
)
from scanner.grading.registry import certificate_rule, rule

# --- certificate ---------------------------------------------------------------------------------------


@certificate_rule
def cert_expired(scan: ScanResult, cert: CertificateInfo) -> Iterator[Finding]:
    if cert.expired:
        yield finding(
            "cert.expired",
            f"The certificate for {cert.subject} expired on {cert.not_after:%Y-%m-%d} "
            f"({-cert.days_to_expiry} days ago). Browsers block the site with a full-page warning.",
        )


@certificate_rule
def cert_not_yet_valid(scan: ScanResult, cert: CertificateInfo) -> Iterator[Finding]:
    if cert.not_yet_valid:
        yield finding(
            "cert.not_yet_valid",
            f"The certificate for {cert.subject} is only valid from {cert.not_before:%Y-%m-%d %H:%M} UTC.",
        )


@certificate_rule
def cert_self_signed(scan: ScanResult, cert: CertificateInfo) -> Iterator[Finding]:
    if cert.self_signed:
        yield finding(
            "cert.self_signed", f"The certificate was issued by itself ({cert.issuer}); no browser trusts it."
        )


@certificate_rule
def cert_untrusted(scan: ScanResult, cert: CertificateInfo) -> Iterator[Finding]:
    # Expired, not-yet-valid and self-signed certificates fail validation too, but their own rule explains why;
    # a chain that is only incomplete is cert.chain_incomplete (cap B), not T.
    if chain_trusted(cert) or cert.expired or cert.not_yet_valid or cert.self_signed:
        return
    reason = cert.validation_error or "the chain does not lead to a trusted root"
    yield finding("cert.untrusted", f"Certificate issued by {cert.issuer} failed validation: {reason}.")


@certificate_rule
def cert_hostname_mismatch(scan: ScanResult, cert: CertificateInfo) -> Iterator[Finding]:
    if not cert.hostname_match:
        names = ", ".join(cert.san_dns_names) or "no DNS names"
        yield finding("cert.hostname_mismatch", f"{scan.host} is not among the certificate's names ({names}).")


@certificate_rule
def cert_chain_incomplete(scan: ScanResult, cert: CertificateInfo) -> Iterator[Finding]:
    if cert.chain_incomplete or cert.chain_completed_via_aia:
        how = (
            " (the missing intermediate was fetched from the certificate's AIA URL)"
            if cert.chain_completed_via_aia
            else ""
        )
        yield finding(
            "cert.chain_incomplete",
            f"The server sends {cert.chain_length} certificate(s){how}; clients "
            "that do not fetch missing intermediates themselves (many mobile apps, crawlers, curl) fail.",
        )


@certificate_rule
def cert_signature_hash(scan: ScanResult, cert: CertificateInfo) -> Iterator[Finding]:
    for whose, digest in _signatures(cert):
        if digest in FORGEABLE_HASHES:
            yield finding("cert.md5_signature", f"{whose} is signed with {digest.upper()}, which can be forged.")
        elif digest == "sha1":
            yield finding("cert.sha1_signature", f"{whose} is signed with SHA-1; browsers reject it.")


@certificate_rule
def cert_expiring(scan: ScanResult, cert: CertificateInfo) -> Iterator[Finding]:
    if cert.expired or cert.days_to_expiry >= EXPIRY_WARNING_DAYS:
        return
    finding_id = "cert.expiring_very_soon" if cert.days_to_expiry < EXPIRY_URGENT_DAYS else "cert.expiring_soon"
    yield finding(finding_id, f"The certificate expires on {cert.not_after:%Y-%m-%d}, in {cert.days_to_expiry} days.")


@certificate_rule
def cert_key_strength(scan: ScanResult, cert: CertificateInfo) -> Iterator[Finding]:
    key = scoring.certificate_key(cert)
    if key.score <= scoring.WEAK_KEX_SCORE:
        finding_id = "cert.insecure_key" if key.score <= scoring.INSECURE_KEX_SCORE else "cert.weak_key"
        yield finding(
            finding_id,
            f"The certificate has a {cert.key_bits}-bit {cert.key_type} key (key exchange score {key.score}).",
        )


@certificate_rule
def cert_no_ocsp_stapling(scan: ScanResult, cert: CertificateInfo) -> Iterator[Finding]:
    if not cert.ocsp_stapled:
        yield finding("cert.no_ocsp_stapling", "The server did not staple an OCSP response; clients must ask the CA.")


@certificate_rule
def cert_chain_order_wrong(scan: ScanResult, cert: CertificateInfo) -> Iterator[Finding]:
    if cert.chain_order_wrong:
        sent = " → ".join(link.subject for link in cert.chain if link.source == "sent")
        yield finding(
            "cert.chain_order_wrong", f"The certificates arrive out of order; the path built from them is {sent}."
        )


@rule
def client_certificate_requested(scan: ScanResult) -> Iterator[Finding]:
    if scan.tls is not None and scan.tls.client_certificate_requested:
        yield finding(
            "tls.client_certificate_requested",
            "The server sends a CertificateRequest during the handshake; the scan went on without one.",
        )
