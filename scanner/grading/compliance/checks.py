"""One small function per kind of compliance requirement (the `check` column of profiles.toml).

Each reads the stored scan report (scanner/report.py's JSON document, so an old scan can be re-evaluated
without rescanning) and returns what it saw when the requirement is *not* met, None when it is met, or
raises NotMeasured when the report holds no answer (a probe that did not run, a field older scans lack).
The level of the row (must / should...) decides whether a violation fails the profile or warns.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping
from datetime import datetime
from typing import TYPE_CHECKING, Any
from urllib.parse import urljoin, urlsplit

if TYPE_CHECKING:
    from scanner.grading.compliance import Requirement
    from scanner.report_reader import CertificateView, ReportView

OLD_PROTOCOLS = ("SSLv2", "SSLv3", "TLSv1.0", "TLSv1.1")


class NotMeasured(Exception):
    """The report does not say; the requirement is listed as not checked, never as met."""


def _listing(items: Iterable[str], limit: int = 6) -> str:
    items = list(dict.fromkeys(items))
    shown = ", ".join(items[:limit])
    return shown + (f" and {len(items) - limit} more" if len(items) > limit else "")


# --- what the report holds -----------------------------------------------------------------------------


def offered_protocols(report: ReportView) -> set[str]:
    """Every protocol any scanned address accepts (an old protocol on one address is enough to fail)."""
    tables = report.protocol_tables
    if not tables:
        raise NotMeasured("no protocol results")
    return {name for table in tables for name, offered in table.items() if offered}


def _suites(report: ReportView) -> tuple[Mapping[str, Any], ...]:
    suites = report.cipher_suites
    if suites is None:
        raise NotMeasured("no cipher suite results")
    return suites


def _groups(report: ReportView) -> list[tuple[str, str, int | None]]:
    """(kind, name, bits) of every key exchange group seen in a handshake or offered by the curve probe."""
    groups = [
        (
            group.get("kind", ""),
            group.get("name") or f"custom {group.get('kind')} {group.get('bits')}-bit",
            group.get("bits"),
        )
        for group in report.key_exchange_groups or ()
    ]
    seen = {name for _, name, _ in groups}
    groups += [("ECDH", curve, None) for curve in report.curves or () if curve not in seen]
    if report.key_exchange_groups is None and report.curves is None:
        raise NotMeasured("no key exchange results")
    return groups


def _certificates(report: ReportView) -> tuple[CertificateView, ...]:
    deployments = report.certificate_deployments
    if not deployments:
        raise NotMeasured("no certificate")
    return deployments


def _signed_certificates(certificate: CertificateView) -> list[Mapping[str, Any]]:
    """The leaf and every certificate above it whose signature a client checks (a trust-store root's is not)."""
    chain = [item for item in certificate.chain if item.get("source") != "trust_store"]
    chain = [item for item in chain if not item.get("self_signed")]
    return chain or [certificate.data]


def _label(certificate: CertificateView) -> str:
    return f"{certificate.key_type} {certificate.key_bits}-bit certificate"


# --- protocols -----------------------------------------------------------------------------------------


def protocols_offered(report: ReportView, row: Requirement) -> str | None:
    found = [name for name in row.values if name in offered_protocols(report)]
    return f"offers {_listing(found)}" if found else None


def protocol_required(report: ReportView, row: Requirement) -> str | None:
    tables = report.protocol_tables
    if not tables:
        raise NotMeasured("no protocol results")
    if all(any(table.get(name) for name in row.values) for table in tables):
        return None
    return f"does not offer {' or '.join(row.values)}"


# --- cipher suites and key exchange --------------------------------------------------------------------


def suites_outside(report: ReportView, row: Requirement) -> str | None:
    found = [suite["name"] for suite in _suites(report) if suite["name"] not in row.suites]
    return f"accepts {_listing(found)}" if found else None


def suites_in(report: ReportView, row: Requirement) -> str | None:
    found = [suite["name"] for suite in _suites(report) if suite["name"] in row.suites]
    return f"accepts {_listing(found)}" if found else None


def suites_matching(report: ReportView, row: Requirement) -> str | None:
    found = [suite["name"] for suite in _suites(report) if any(part in suite["name"] for part in row.values)]
    return f"accepts {_listing(found)}" if found else None


def groups_outside(report: ReportView, row: Requirement) -> str | None:
    found = [name for _, name, _ in _groups(report) if name not in row.values]
    return f"key exchange with {_listing(found)}" if found else None


def dh_min_bits(report: ReportView, row: Requirement) -> str | None:
    weak = [
        f"{name} ({bits} bits)" for kind, name, bits in _groups(report) if kind == "DH" and bits and bits < row.value
    ]
    return f"DHE with {_listing(weak)}" if weak else None


def dh_safe_prime(report: ReportView, row: Requirement) -> str | None:
    _groups(report)  # NotMeasured when the report has no key exchange results
    broken = [
        f"{group.get('name') or str(group.get('bits')) + '-bit group'} "
        f"({'composite' if group.get('prime') is False else 'not a safe prime'})"
        for group in report.key_exchange_groups or ()
        if group.get("kind") == "DH" and (group.get("prime") is False or group.get("safe_prime") is False)
    ]
    return f"DHE with {_listing(broken)}" if broken else None


def ecdh_min_bits(report: ReportView, row: Requirement) -> str | None:
    weak = [
        f"{name} ({bits} bits)" for kind, name, bits in _groups(report) if kind == "ECDH" and bits and bits < row.value
    ]
    return f"ECDHE with {_listing(weak)}" if weak else None


# --- certificates --------------------------------------------------------------------------------------


def cert_key_types(report: ReportView, row: Requirement) -> str | None:
    found = [_label(cert) for cert in _certificates(report) if cert.key_type not in row.values]
    return f"serves an {_listing(found)}" if found else None


def _min_bits(report: dict, row: Requirement, key_type: str) -> str | None:
    weak = [
        _label(cert) for cert in _certificates(report) if cert.key_type == key_type and (cert.key_bits or 0) < row.value
    ]
    return f"serves an {_listing(weak)} (needs {row.value})" if weak else None


def cert_rsa_min_bits(report: ReportView, row: Requirement) -> str | None:
    return _min_bits(report, row, "RSA")


def cert_ec_min_bits(report: ReportView, row: Requirement) -> str | None:
    return _min_bits(report, row, "EC")


def cert_signature_hashes(report: ReportView, row: Requirement) -> str | None:
    weak = [
        f"{item.get('subject')} signed with {item.get('signature_algorithm')}"
        for cert in _certificates(report)
        for item in _signed_certificates(cert)
        if item.get("signature_hash") is not None and item["signature_hash"] not in row.values
    ]
    return _listing(weak, limit=3) if weak else None


def cert_lifespan_max_days(report: ReportView, row: Requirement) -> str | None:
    long_lived = []
    for cert in _certificates(report):
        days = (datetime.fromisoformat(cert.not_after) - datetime.fromisoformat(cert.not_before)).days
        if days > row.value:
            long_lived.append(f"{_label(cert)} valid for {days} days")
    return _listing(long_lived) if long_lived else None


def cert_trusted(report: ReportView, row: Requirement) -> str | None:
    cert = _certificates(report)[0]
    if cert.trusted:
        return None
    if cert.expired:
        return f"certificate expired on {(cert.not_after or '')[:10]}"
    return cert.validation_error or "certificate is not trusted"


def cert_hostname(report: ReportView, row: Requirement) -> str | None:
    cert = _certificates(report)[0]
    return None if cert.hostname_match else f"certificate names {_listing(cert.san_dns_names)}"


def cert_not_revoked(report: ReportView, row: Requirement) -> str | None:
    certificate = _certificates(report)[0]
    revocation = certificate.revocation
    for intermediate in certificate.intermediate_revocations:
        if ((intermediate or {}).get("revocation") or {}).get("status") == "revoked":
            return f"intermediate certificate {intermediate.get('subject', '')} is revoked"
    if revocation is None or revocation.get("status") not in ("good", "revoked"):
        # Older reports have no revocation; an unreachable responder says nothing either way.
        raise NotMeasured("revocation status not known" + (f": {revocation.get('detail')}" if revocation else ""))
    if revocation["status"] == "revoked":
        return f"certificate is revoked (source: {revocation.get('source')})"
    return None


def ocsp_stapling(report: ReportView, row: Requirement) -> str | None:
    return None if _certificates(report)[0].ocsp_stapled else "no OCSP response stapled"


# --- extensions, vulnerabilities, HTTP -----------------------------------------------------------------


def vulnerability_absent(report: ReportView, row: Requirement) -> str | None:
    state = report.vulnerabilities.get(row.value)
    if state is None:
        raise NotMeasured(f"{row.value} was not determined")
    return f"{row.value.replace('_', ' ')}: vulnerable" if state else None


def fallback_scsv(report: ReportView, row: Requirement) -> str | None:
    if not offered_protocols(report) & set(OLD_PROTOCOLS):
        return None  # RFC 7507 protects a downgrade below TLS 1.2; nothing to fall back to
    state = report.vulnerabilities.get("fallback_scsv")
    if state is None:
        raise NotMeasured("TLS_FALLBACK_SCSV was not determined")
    return None if state else "offers TLS below 1.2 without TLS_FALLBACK_SCSV"


def extended_master_secret(report: ReportView, row: Requirement) -> str | None:
    if not offered_protocols(report) - {"TLSv1.3"}:
        return None  # TLS 1.3 always binds the session to the handshake
    state = report.extended_master_secret
    if state is None:
        raise NotMeasured("extended master secret was not determined")
    return None if state else "no extended master secret (RFC 7627)"


def hsts_min_age(report: ReportView, row: Requirement) -> str | None:
    hsts = report.hsts
    if hsts is None or (hsts.error and not hsts.present):
        raise NotMeasured("HSTS could not be read")
    if not hsts.present:
        return "no Strict-Transport-Security header"
    max_age = hsts.max_age or 0
    return f"max-age={max_age}" if max_age < row.value else None


def https_redirect(report: ReportView, row: Requirement) -> str | None:
    redirects = report.redirects
    if redirects is None:
        raise NotMeasured("the HTTP side was not scanned")
    if not redirects.http_listener:
        return None
    chain = redirects.chain
    if not chain:
        raise NotMeasured(redirects.error or "no HTTP answer")
    first = chain[0]
    if not (300 <= first["status"] < 400 and first.get("location")):
        return f"http:// answers {first['status']} without redirecting"
    target = urlsplit(urljoin(first["url"], first["location"]))
    if target.scheme != "https" or target.hostname != urlsplit(first["url"]).hostname:
        return f"first redirect goes to {first['location']}"
    return None


CHECKS: dict[str, Callable[[ReportView, Requirement], str | None]] = {
    function.__name__: function
    for function in (
        protocols_offered,
        protocol_required,
        suites_outside,
        suites_in,
        suites_matching,
        groups_outside,
        dh_min_bits,
        dh_safe_prime,
        ecdh_min_bits,
        cert_key_types,
        cert_rsa_min_bits,
        cert_ec_min_bits,
        cert_signature_hashes,
        cert_lifespan_max_days,
        cert_trusted,
        cert_hostname,
        cert_not_revoked,
        ocsp_stapling,
        vulnerability_absent,
        fallback_scsv,
        extended_master_secret,
        hsts_min_age,
        https_redirect,
    )
}
