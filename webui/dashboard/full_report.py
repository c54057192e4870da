"""The full report's sections (SSL Labs is the model), shaped from the stored report document.

Each section is built only when the document holds its data, so reports stored before a field existed, and
scans whose probe did not run, simply leave the section out (or say why). Every value is turned into words
or numbers here: no Python repr (sets, None, True) ever reaches a template.
"""

from __future__ import annotations

from collections import OrderedDict
from collections.abc import Mapping
from types import SimpleNamespace
from typing import Any

from scanner.engine.results import PROTOCOLS
from scanner.report_reader import CertificateView, ReportView

# A stored report document, or a view already made of one.
Report = Mapping[str, Any] | ReportView

PROTOCOL_LABELS = {
    "SSLv2": "SSL 2.0",
    "SSLv3": "SSL 3.0",
    "TLSv1.0": "TLS 1.0",
    "TLSv1.1": "TLS 1.1",
    "TLSv1.2": "TLS 1.2",
    "TLSv1.3": "TLS 1.3",
}
VULNERABILITIES = (
    # (key, name, what a True value means: True = "vulnerable" unless inverted)
    ("heartbleed", "Heartbleed (CVE-2014-0160)", False),
    ("robot", "ROBOT (RSA padding oracle)", False),
    ("ccs_injection", "OpenSSL CCS injection (CVE-2014-0224)", False),
    ("insecure_renegotiation", "Insecure renegotiation (no RFC 5746)", False),
    ("client_renegotiation_dos", "Client-initiated renegotiation (DoS risk)", False),
    ("compression", "TLS compression (CRIME)", False),
    ("fallback_scsv", "Downgrade prevention (TLS_FALLBACK_SCSV)", True),
)
SOURCE_WORDS = {"sent": "sent by the server", "aia": "fetched via AIA", "trust_store": "from the trust store"}


def words(value: Any) -> str:
    """Any stored value as text a person reads: lists joined, booleans as yes/no, nothing as a dash."""
    if value is None or value == "":
        return "–"
    if isinstance(value, bool):
        return "yes" if value else "no"
    if isinstance(value, (list, tuple, set, frozenset)):
        return ", ".join(words(item) for item in sorted(value, key=str)) if value else "none"
    if isinstance(value, dict):
        return "; ".join(f"{key}: {words(item)}" for key, item in value.items()) or "none"
    return str(value)


def strength(bits: int | None) -> tuple[str, str]:
    """(word, css) for a symmetric key size."""
    if not bits:
        return "none", "bad"
    if bits < 112:
        return "insecure", "bad"
    if bits < 128:
        return "weak", "warn"
    return "strong", "good"


def cipher_suites_by_protocol(
    suites: tuple[Mapping[str, Any], ...] | list[dict] | None,
    preferred: Mapping[str, str] | None,
    order: Mapping[str, list[str]] | None = None,
) -> list[dict]:
    """Suites grouped per protocol, newest protocol first, each with strength, FS and AEAD marks; in the server's
    own order where the scan saw it (`order`: protocol -> names), with SSL Labs' WEAK mark on suites without
    forward secrecy or without AEAD (CBC)."""
    groups: OrderedDict[str, list[dict]] = OrderedDict((name, []) for name in reversed(PROTOCOLS))
    for suite in suites or []:
        word, css = strength(suite.get("key_bits"))
        kex = suite.get("kex_type")
        groups.setdefault(suite.get("protocol") or "?", []).append(
            {
                "name": suite.get("name") or "?",
                "bits": suite.get("key_bits"),
                "strength": word,
                "strength_css": css,
                "fs": bool(suite.get("forward_secrecy")),
                "aead": bool(suite.get("aead")),
                "kex": f"{kex} {suite['kex_bits']} bits" if kex and suite.get("kex_bits") else (kex or "–"),
                "preferred": bool(preferred) and preferred.get(suite.get("protocol")) == suite.get("name"),
                "weak": not suite.get("forward_secrecy") or not suite.get("aead"),
            }
        )
    order = order or {}
    for name, items in groups.items():
        if ranks := {suite: rank for rank, suite in enumerate(order.get(name) or ())}:
            items.sort(key=lambda item: ranks.get(item["name"], len(ranks)))
        else:  # only the server's first choice is known (e.g. two nassl builds): it leads, as in SSL Labs' list
            items.sort(key=lambda item: not item["preferred"])
    return [
        {"protocol": PROTOCOL_LABELS.get(name, name), "suites": items, "server_order": bool(order.get(name))}
        for name, items in groups.items()
        if items
    ]


def chains(certificate: CertificateView | None) -> dict | None:
    """The chain as the server sent it and as the validator built it (leaf first)."""
    if not certificate:
        return None
    built = certificate.chain
    if not built:
        return None
    rows = [
        {
            "subject": item.get("subject"),
            "issuer": item.get("issuer"),
            "key": f"{item.get('key_type')} {item.get('key_bits')} bits",
            "signature": item.get("signature_algorithm") or "–",
            "weak_signature": (item.get("signature_hash") or "").lower() in {"md5", "sha1"},
            "source": SOURCE_WORDS.get(item.get("source"), item.get("source") or "–"),
            "self_signed": bool(item.get("self_signed")),
            "sent": item.get("source") == "sent",
        }
        for item in built
    ]
    return {
        "served": [row for row in rows if row["sent"]],
        "built": rows,
        "order_wrong": certificate.chain_order_wrong,
        "completed_via_aia": certificate.chain_completed_via_aia,
    }


def trust_verdict(certificate: CertificateView | None, security_grade: str | None) -> dict | None:
    """Whether browsers trust the certificate, with every reason why not: the same facts the grade used,
    so "Trusted: yes" never stands next to a T."""
    if not certificate:
        return None
    reasons = []
    if certificate.expired:
        reasons.append("the certificate has expired")
    if certificate.not_yet_valid:
        reasons.append("the certificate is not valid yet")
    if certificate.self_signed:
        reasons.append("the certificate is self-signed")
    chain_ok = certificate.chain_trusted
    if chain_ok is None:
        chain_ok = certificate.trusted
    if not chain_ok:
        reasons.append(certificate.validation_error or "the chain does not lead to a trusted root")
    if certificate.name_mismatch:
        reasons.append("the name on the certificate does not match the site")
    if certificate.revocation_status == "revoked":
        reasons.append("the certificate is revoked")
    if not reasons and security_grade in ("T", "M"):
        reasons.append("the grade is " + security_grade + ": see the findings below")
    return {"trusted": not reasons, "reasons": list(dict.fromkeys(reasons))}


def validity(certificate: CertificateView | None, days_to_expiry: int | None) -> str | None:
    if not certificate:
        return None
    if certificate.not_yet_valid:
        return f"not valid until {str(certificate.not_before)[:10]}"
    if days_to_expiry is None:
        return None
    if days_to_expiry < 0:
        return f"expired {-days_to_expiry} day{'s' if days_to_expiry != -1 else ''} ago"
    return f"{days_to_expiry} day{'s' if days_to_expiry != 1 else ''} left"


def vulnerabilities(report: Report) -> list[dict]:
    found = ReportView.from_document(report).vulnerabilities
    rows = []
    for key, name, inverted in VULNERABILITIES:
        if key not in found:
            continue
        value = found[key]
        if value is None:
            rows.append({"name": name, "verdict": "not tested", "css": "muted"})
        elif inverted:
            rows.append(
                {"name": name, "verdict": "supported" if value else "not supported", "css": "good" if value else "warn"}
            )
        else:
            rows.append(
                {
                    "name": name,
                    "verdict": "vulnerable" if value else "not vulnerable",
                    "css": "bad" if value else "good",
                }
            )
    detail = found.get("robot_detail")
    if detail:
        rows.append({"name": "ROBOT detail", "verdict": str(detail), "css": "muted"})
    return rows


def key_exchange_groups(report: Report) -> list[dict]:
    report = ReportView.from_document(report)
    groups = report.key_exchange_groups or ()
    rows = []
    for group in groups:
        notes = []
        if group.get("prime") is False:
            notes.append("modulus is not prime")
        if group.get("safe_prime") is False:
            notes.append("not a safe prime")
        rows.append(
            {
                "kind": group.get("kind") or "–",
                "name": group.get("name") or "unnamed group",
                "bits": group.get("bits"),
                "notes": ", ".join(notes),
                "suites": list(group.get("suites") or []),
            }
        )
    if not rows:
        rows = [{"kind": "ECDH", "name": name, "bits": None, "notes": "", "suites": []} for name in report.curves or ()]
    return rows


def simulations(report: Report) -> list[dict]:
    items = ReportView.from_document(report).simulations
    rows = []
    for item in items:
        ok = bool(item.get("protocol"))
        rows.append(
            {
                "client": item.get("client") or "?",
                "ok": ok,
                "modern": item.get("modern", True),
                "protocol": PROTOCOL_LABELS.get(item.get("protocol"), item.get("protocol") or ""),
                "suite": item.get("suite") or "",
                "fs": item.get("forward_secrecy"),
                "error": item.get("error") or ("handshake failed" if not ok else ""),
            }
        )
    return rows


def endpoints(report: Report) -> list[dict]:
    """Every address behind the name (report `endpoints`), each graded on its own."""
    rows = []
    for endpoint in ReportView.from_document(report).endpoints:
        protocols_seen = endpoint.protocols or {}
        protocols = [PROTOCOL_LABELS.get(name, name) for name in PROTOCOLS if protocols_seen.get(name)]
        rows.append(
            {
                "ip": endpoint.ip or "?",
                "grade": endpoint.grade.security or "",
                "score": endpoint.grade.score,
                "error": endpoint.error or "",
                "protocols": ", ".join(protocols) if protocols else "–",
                "fingerprint": endpoint.certificate_fingerprint or "",
            }
        )
    return rows


def redirect_chains(report: Report) -> list[dict]:
    """Both walks: from http:// (the plain-HTTP redirect) and from https://."""
    report = ReportView.from_document(report)
    redirects = report.redirects
    walks = []
    if redirects:
        walks.append(
            {
                "title": "From http://",
                "hops": list(redirects.chain),
                "final": redirects.final_url,
                "error": redirects.error,
                "loop": redirects.loop,
                "too_many": redirects.too_many,
                "no_listener": redirects.http_listener is False,
            }
        )
    if report.has_https_walk:
        walks.append(
            {
                "title": "From https://",
                "hops": list(report.https_chain),
                "final": report.https_final_url,
                "error": report.https_error,
                "loop": False,
                "too_many": False,
                "no_listener": False,
                "downgrade": report.https_downgrade,
            }
        )
    return walks


def mixed_content(report: Report) -> dict | None:
    """The http:// resources the final HTTPS page loads; None when the page was not read (nothing to say)."""
    report = ReportView.from_document(report)
    content = report.content
    items = report.mixed_content
    if not content.get("page_fetched") and items is None:
        return None
    rows = [
        {"url": item.get("url"), "kind": item.get("kind") or "–", "element": item.get("element") or "–"}
        for item in (items or [])
    ]
    return {"items": rows, "active": sum(1 for row in rows if row["kind"] == "active"), "page": content.get("url")}


def score_breakdown(report: Report) -> list[dict] | None:
    """Protocol / key exchange / cipher strength, each 0-100 with its weight, computed by the grading's own
    scoring functions from the stored data (so the numbers match the score)."""
    from scanner.grading import scoring

    report = ReportView.from_document(report)
    protocols = report.protocols
    if not protocols or not report.certificate:
        return None
    ns = SimpleNamespace
    deployments = tuple(ns(**cert.data) for cert in report.certificate_deployments)
    tls = ns(
        protocols=protocols,
        cipher_suites=tuple(ns(**suite) for suite in report.cipher_suites or ()),
        key_exchange_groups=tuple(ns(**group) for group in report.key_exchange_groups or ()),
        certificate=deployments[0],
        certificate_deployments=deployments,
        # The key exchange score ignores curves no simulated client offers when a simulation ran.
        simulations=tuple(ns(**simulation) for simulation in report.simulations),
    )
    try:
        parts = [
            ("Protocol support", scoring.protocol_score(tls), scoring.WEIGHT_PROTOCOL),
            ("Key exchange", scoring.key_exchange_score(tls), scoring.WEIGHT_KEY_EXCHANGE),
            ("Cipher strength", scoring.cipher_score(tls), scoring.WEIGHT_CIPHER),
        ]
    except (AttributeError, TypeError, KeyError, ValueError):
        return None  # an older document without the fields the scoring reads
    return [
        {"name": name, "score": None if score is None else round(score), "weight": round(weight * 100)}
        for name, score, weight in parts
    ]


def attention(report: Report) -> list[str]:
    """Problems a visitor would hit, shown next to the grade so a big letter never hides them."""
    report = ReportView.from_document(report)
    notes = []
    redirects = report.redirects
    if redirects and redirects.loop:
        notes.append("The redirects loop: visitors never reach a page.")
    if redirects and redirects.too_many:
        notes.append("Too many redirects: browsers give up before reaching a page.")
    if report.https_downgrade:
        notes.append("The https:// site redirects to plain http://.")
    for finding in report.findings:
        if str(finding.severity).lower() == "critical" and finding.title not in notes:
            notes.append(str(finding.title))
    return notes


_RESUMPTION_WORDS = {
    "yes": ("Yes", "good"),
    "partly": ("Partly", "warn"),
    "no": ("No", "muted"),
    "tls1.3_only": ("Not applicable: TLS 1.3 only (it resumes with pre-shared keys, RFC 8446 §2.2)", "muted"),
}


def protocol_details(report: Report) -> list[dict]:
    """SSL Labs' "Protocol details" rows we measure: resumption by session ID and by ticket, and ALPN."""
    report = ReportView.from_document(report)
    resumption = report.session_resumption
    rows = []
    for label, key in (
        ("Session resumption (caching, session IDs)", "session_ids"),
        ("Session resumption (tickets, RFC 5077)", "tickets"),
    ):
        if not resumption:
            rows.append({"label": label, "value": "Not tested", "css": "muted"})
            continue
        value, css = _RESUMPTION_WORDS.get(resumption.get(key), ("Unknown", "muted"))
        attempted = resumption.get(f"{key}_attempted") or 0
        if attempted:
            value += f" ({resumption.get(f'{key}_resumed') or 0} of {attempted} attempts resumed)"
        rows.append({"label": label, "value": value, "css": css})
    alpn = report.alpn
    rows.append(
        {
            "label": "ALPN",
            "value": "Not tested" if alpn is None else (", ".join(alpn) if alpn else "No (no protocol accepted)"),
            "css": "muted" if not alpn else "",
        }
    )
    return rows
