"""Certificate trust beyond the handshake: revocation, must-staple, lifetimes, RSA exponent, distrusted
roots. Each rule states what the engine observed; policy.toml decides what it costs."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime

from scanner.engine.results import CAA_NONE, REVOCATION_REVOKED, REVOCATION_UNKNOWN, CertificateInfo, ScanResult
from scanner.grading.findings import Finding
from scanner.grading.policy import finding
from scanner.grading.rules import certificate_rule, rule

# CA/Browser Forum Baseline Requirements §6.3.2 (ballot SC-081): the longest validity a TLS leaf may have,
# by the date it was issued (notBefore), latest first. Before 2026-03-15: 398 days (ballot SC-22, 2020).
MAX_VALIDITY_DAYS: tuple[tuple[datetime, int], ...] = (
    (datetime(2029, 3, 15, tzinfo=UTC), 47),
    (datetime(2027, 3, 15, tzinfo=UTC), 100),
    (datetime(2026, 3, 15, tzinfo=UTC), 200),
    (datetime(2020, 9, 1, tzinfo=UTC), 398),
)
# RFC 8017 allows e = 3; CA/B Forum BR §6.1.6 requires an odd e of at least 65537 (2^16 + 1).
MIN_RSA_EXPONENT = 65537
# The Symantec-operated roots Chrome, Firefox and Safari distrusted in 2018 (VeriSign, Thawte, GeoTrust, RapidSSL
# and Symantec brands), recognised by the root's organisation. DigiCert's later roots carry "DigiCert Inc".
SYMANTEC_ROOT_ORGANISATIONS = ("Symantec Corporation", "VeriSign, Inc.", "GeoTrust Inc.", "thawte, Inc.", "Equifax")


# Chrome's Certificate Transparency policy (https://googlechrome.github.io/CertificateTransparency/ct_policy.html):
# embedded SCTs: 2 for a certificate valid at most 180 days, 3 beyond; delivered by OCSP or TLS: 2.
CT_SHORT_LIFETIME_DAYS = 180
CT_EMBEDDED_SHORT, CT_EMBEDDED_LONG, CT_DELIVERED = 2, 3, 2


def max_validity_days(not_before: datetime) -> int | None:
    return next((days for since, days in MAX_VALIDITY_DAYS if not_before >= since), None)


@certificate_rule
def cert_revoked(scan: ScanResult, cert: CertificateInfo) -> Iterator[Finding]:
    for intermediate in cert.intermediate_revocations:
        if intermediate.revocation.status == REVOCATION_REVOKED:
            yield finding(
                "cert.revoked",
                f"The intermediate CA certificate {intermediate.subject} is revoked: {intermediate.revocation.detail}.",
            )
    check = cert.revocation
    if check is None:
        return
    if check.status == REVOCATION_REVOKED:
        yield finding("cert.revoked", f"The certificate (serial {cert.serial}) is revoked: {check.detail}.")
    elif check.status == REVOCATION_UNKNOWN and check.checked_at is not None:
        yield finding("cert.revocation_unknown", f"Revocation could not be checked: {check.detail}.")
    if check.staple_problem == "expired":
        yield finding("cert.ocsp_staple_expired", f"The stapled OCSP response is stale: {check.staple_problem_detail}.")
    elif check.staple_problem is not None:
        yield finding(
            "cert.ocsp_staple_untrusted", f"The stapled OCSP response cannot be used: {check.staple_problem_detail}."
        )


@certificate_rule
def cert_must_staple_missing(scan: ScanResult, cert: CertificateInfo) -> Iterator[Finding]:
    if cert.must_staple and not cert.ocsp_stapled:
        yield finding(
            "cert.must_staple_missing",
            "The certificate carries the OCSP must-staple flag (TLS feature "
            "status_request) but the server sent no OCSP response in the handshake.",
        )


@certificate_rule
def cert_lifetime_too_long(scan: ScanResult, cert: CertificateInfo) -> Iterator[Finding]:
    allowed = max_validity_days(cert.not_before)
    if allowed is None:
        return
    # BR §6.3.2 counts the validity period inclusively: notAfter - notBefore plus one second.
    days = (cert.not_after - cert.not_before).total_seconds() / 86400
    if days > allowed:
        yield finding(
            "cert.lifetime_too_long",
            f"Issued {cert.not_before:%Y-%m-%d} and valid for {days:.0f} days; "
            f"certificates issued then may be valid for at most {allowed} days.",
        )


@certificate_rule
def cert_rsa_small_exponent(scan: ScanResult, cert: CertificateInfo) -> Iterator[Finding]:
    if cert.rsa_public_exponent is not None and cert.rsa_public_exponent < MIN_RSA_EXPONENT:
        yield finding(
            "cert.rsa_small_exponent",
            f"The RSA key's public exponent is {cert.rsa_public_exponent} (at least {MIN_RSA_EXPONENT} is required).",
        )


@certificate_rule
def cert_symantec_distrusted(scan: ScanResult, cert: CertificateInfo) -> Iterator[Finding]:
    root = cert.root_subject or ""
    if any(
        f"O={organisation}" in root or f"O={organisation.replace(',', chr(92) + ',')}" in root
        for organisation in SYMANTEC_ROOT_ORGANISATIONS
    ):
        yield finding(
            "cert.symantec_distrusted",
            f"The chain ends at {root}, a Symantec-operated root that browsers no longer trust.",
        )


@certificate_rule
def ct_insufficient_scts(scan: ScanResult, cert: CertificateInfo) -> Iterator[Finding]:
    # Only for a chain browsers trust on their own: a private CA (the operator's CA file) is not held to CT.
    if cert.scts is None or cert.public_root is not True:
        return
    lifetime_days = (cert.not_after - cert.not_before).days
    needed = CT_EMBEDDED_SHORT if lifetime_days <= CT_SHORT_LIFETIME_DAYS else CT_EMBEDDED_LONG
    delivered = (cert.scts.ocsp or 0) + (cert.scts.tls_extension or 0)
    if cert.scts.embedded >= needed or delivered >= CT_DELIVERED:
        return
    unmeasured = " SCTs in the TLS extension were not measured." if cert.scts.tls_extension is None else ""
    yield finding(
        "ct.insufficient_scts",
        f"{cert.scts.embedded} embedded SCT(s) for a {lifetime_days}-day "
        f"certificate (Chrome asks for {needed}), {cert.scts.ocsp or 0} in the OCSP staple.{unmeasured}",
    )


# The CAA issuer domain each CA documents in its CPS (RFC 8659 §4.2), by the O= of its issuing certificates.
# Only CAs listed here can be told apart; any other issuer is "unknown", never "not allowed".
CAA_DOMAINS_BY_ORGANISATION = {
    "Let's Encrypt": ("letsencrypt.org",),
    "DigiCert Inc": ("digicert.com", "www.digicert.com"),
    "Sectigo Limited": ("sectigo.com", "comodoca.com"),
    "ZeroSSL": ("sectigo.com",),
    "Google Trust Services": ("pki.goog",),
    "Google Trust Services LLC": ("pki.goog",),
    "Amazon": ("amazon.com", "amazontrust.com", "awstrust.com", "amazonaws.com"),
    "GlobalSign nv-sa": ("globalsign.com",),
    "GoDaddy.com, Inc.": ("godaddy.com",),
    "Entrust, Inc.": ("entrust.net",),
}


def caa_allows_issuer(scan: ScanResult, cert: CertificateInfo) -> bool | None:
    """Do the name's CAA `issue` records allow the CA that issued `cert`? None when that cannot be told."""
    domains = CAA_DOMAINS_BY_ORGANISATION.get(cert.issuer_organization or "")
    if scan.caa is None or scan.caa.status != "found" or not domains:
        return None
    issue = [
        record.value.split(";", 1)[0].strip().lower() for record in scan.caa.records if record.tag.lower() == "issue"
    ]
    if not issue:
        return None  # only issuewild/iodef: RFC 8659 §4.2 leaves non-wildcard issuance unrestricted
    return any(value in domains for value in issue)


@certificate_rule
def caa_issuer_not_allowed(scan: ScanResult, cert: CertificateInfo) -> Iterator[Finding]:
    if caa_allows_issuer(scan, cert) is False:
        allowed = ", ".join(record.value for record in scan.caa.records if record.tag.lower() == "issue")
        yield finding(
            "caa.issuer_not_allowed",
            f"The certificate comes from {cert.issuer_organization}, but the CAA "
            f"records at {scan.caa.domain} only allow: {allowed}. Its next renewal will be refused.",
        )


@rule
def caa_missing(scan: ScanResult) -> Iterator[Finding]:
    if scan.caa is not None and scan.caa.status == CAA_NONE:
        yield finding(
            "caa.missing",
            f"Neither {scan.host} nor its parent domains publish CAA records, so any CA may issue certificates for it.",
        )
