"""The one JSON document a scan produces: the CLI prints it, the API serves it, the database stores it.

The schema is documented in the README ("Scan report"); bump SCHEMA_VERSION on incompatible changes.
"""

from __future__ import annotations

import dataclasses
from datetime import datetime
from typing import TYPE_CHECKING, Any

from .engine.results import PROTOCOLS, ScanResult
from .grading.compliance import evaluate as evaluate_compliance

if TYPE_CHECKING:
    from .grading import Grades

SCHEMA_VERSION = 1


def _plain(value: Any) -> Any:
    if dataclasses.is_dataclass(value):
        return {field.name: _plain(getattr(value, field.name)) for field in dataclasses.fields(value)}
    if isinstance(value, datetime):
        return value.isoformat()
    if isinstance(value, dict):
        return {key: _plain(item) for key, item in value.items()}
    if isinstance(value, (list, tuple)):
        return [_plain(item) for item in value]
    return value


def _certificate(result: ScanResult) -> dict | None:
    cert = result.tls.certificate if result.tls else None
    # Revocation and SCTs are the certificate's own fields; CAA belongs to the name, shown here with them.
    return {**_plain(cert), "caa": _plain(result.caa)} if cert else None


def _protocols(result: ScanResult) -> dict | None:
    if not result.tls:
        return None
    return {name: result.tls.protocols.get(name, False) for name in PROTOCOLS}


def _redirects(result: ScanResult) -> dict | None:
    http = result.http
    if http is None:
        return None
    return {
        "http_listener": http.http_listener,
        "chain": [{"url": hop.url, "status": hop.status, "location": hop.location} for hop in http.chain],
        "final_url": http.final_url,
        "loop": http.loop,
        "too_many": http.too_many_redirects,
        "error": http.error,
        "oversized_redirect": http.oversized_redirect,
        # The walk that starts at https://host/ (a redirect back to http:// is a downgrade).
        "https_chain": [{"url": hop.url, "status": hop.status, "location": hop.location} for hop in http.https_chain],
        "https_final_url": http.https_final_url,
        "https_downgrade": http.https_downgrade,
        "https_error": http.https_error,
    }


def _hsts(result: ScanResult) -> dict | None:
    if result.http is None:
        return None
    policy = result.http.hsts
    return {
        "present": policy is not None,
        "raw": policy.raw if policy else None,
        "max_age": policy.max_age if policy else None,
        "include_subdomains": policy.include_subdomains if policy else False,
        "preload": policy.preload if policy else False,
        "error": result.http.hsts_error,
        "over_http": result.http.hsts_over_http,
    }


def _content(result: ScanResult) -> dict | None:
    """The final HTTPS page as read (first 1 MiB): mixed content and the canonical link."""
    http = result.http
    if http is None:
        return None
    return {
        "page_fetched": http.page_fetched,
        "url": http.https_final_url if http.page_fetched else None,
        "mixed_content": [_plain(item) for item in http.mixed_content],
        "canonical_url": http.canonical_url,
    }


def _web_posture(result: ScanResult, grades: Grades) -> dict[str, Any]:
    """headers, cookies, security.txt, robots.txt, ALPN and the web security score (all null when the
    final https page was never read)."""
    facts = result.http.web if result.http else None
    web = getattr(grades, "web_security", None)
    return {
        "web_security": web.to_dict() if web else None,
        "headers": web.headers if web else None,
        "cookies": [_plain(cookie) for cookie in facts.cookies] if facts else None,
        "security_txt": _plain(facts.security_txt) if facts and facts.security_txt else None,
        "robots_txt": _plain(facts.robots_txt) if facts and facts.robots_txt else None,
        "alpn": list(facts.alpn) if facts and facts.alpn is not None else None,
        "www_apex": _plain(facts.sibling) if facts and facts.sibling else None,
        "web_page": None
        if facts is None
        else {
            "url": facts.page_url,
            "status": facts.page_status,
            "content_encoding": facts.content_encoding,
            # HTTP/3 is only advertised (Alt-Svc, RFC 9114 §3.1.1); it is not probed over QUIC.
            "http3_advertised": any("h3" in value for value in facts.headers.get("alt-svc", ())),
            "cors": {
                "origin_sent": facts.cors_origin_sent,
                "allow_origin": facts.cors_allow_origin,
                "allow_credentials": facts.cors_allow_credentials,
            },
            "scripts": [_plain(script) for script in facts.scripts[:50]],
            "canonical_links": list(facts.canonical_links),
            "notes": list(facts.notes) + ([facts.alpn_error] if facts.alpn_error else []),
        },
    }


def _endpoints(result: ScanResult) -> list[dict]:
    """Every address behind the name, graded on its own (the site's grade is the worst of them)."""
    from .grading import grade  # grading reads engine results only; imported here to keep this module light

    entries = []
    for endpoint in result.endpoints:
        view = dataclasses.replace(result, ip=endpoint.ip, tls=endpoint.tls, error=endpoint.error, endpoints=())
        grades = grade(view) if endpoint.tls is not None else None
        cert = endpoint.tls.certificate if endpoint.tls else None
        entries.append(
            {
                "ip": endpoint.ip,
                "status": "failed" if endpoint.error else "done",
                "error": endpoint.error,
                "grade": {
                    "security": grades.security if grades else None,
                    "security_ignoring_trust": grades.security_ignoring_trust if grades else None,
                    "score": grades.score if grades else None,
                },
                "protocols": (
                    {name: endpoint.tls.protocols.get(name, False) for name in PROTOCOLS} if endpoint.tls else None
                ),
                "certificate_fingerprint": cert.sha256_fingerprint if cert else None,
                "findings": [finding.to_dict() for finding in grades.findings] if grades else [],
            }
        )
    return entries


def build_report(result: ScanResult, grades: Grades) -> dict[str, Any]:
    tls = result.tls
    document = {
        "schema_version": SCHEMA_VERSION,
        "target": {"host": result.host, "port": result.https_port, "http_port": result.http_port, "ip": result.ip},
        "status": result.status,
        "error": result.error,
        # Graded from what was measured, but some optional probe was not tested or failed (see `probes`).
        "partial": result.partial if not result.error else False,
        "probes": {
            name: {"status": outcome.status, "reason": outcome.reason} for name, outcome in result.probes.items()
        },
        "started_at": result.started_at.isoformat(),
        "duration_s": result.duration_s,
        "grade": grades.summary(),
        "endpoints": _endpoints(result),
        # Fetches to hosts the site names (AIA, OCSP/CRL, redirects) skipped once the scan's budget was spent.
        "outbound": {"budget": result.outbound_budget, "skipped": dict(result.outbound_skipped)},
        "certificate": _certificate(result),
        "protocols": _protocols(result),
        "cipher_suites": _plain(tls.cipher_suites) if tls else None,
        "vulnerabilities": _plain(tls.vulnerabilities) if tls else None,
        "curves": list(tls.curves) if tls else None,
        "certificate_deployments": _plain(tls.certificate_deployments) if tls else None,
        "key_exchange_groups": _plain(tls.key_exchange_groups) if tls else None,
        "client_certificate_requested": tls.client_certificate_requested if tls else None,
        "cipher_preference": (
            {
                "server_enforced": tls.server_cipher_preference,
                "preferred_suites": dict(tls.preferred_suites),
                "suite_order": {protocol: list(order) for protocol, order in tls.server_suite_order.items()},
            }
            if tls
            else None
        ),
        "simulations": _plain(tls.simulations) if tls else None,
        "mozilla_intermediate": (
            None
            if not tls or tls.mozilla_intermediate_issues is None
            else {"compliant": not tls.mozilla_intermediate_issues, "issues": tls.mozilla_intermediate_issues}
        ),
        "redirects": _redirects(result),
        "hsts": _hsts(result),
        "content": _content(result),
        **_web_posture(result, grades),
        "findings": [finding.to_dict() for finding in grades.findings],
        "extended_master_secret": tls.extended_master_secret if tls else None,
        "session_resumption": _plain(tls.session_resumption) if tls and tls.session_resumption else None,
    }
    # Read from the document itself, so a stored report can be re-evaluated the same way (with_compliance).
    document["compliance"] = evaluate_compliance(document)
    return document


def with_compliance(document: dict) -> dict:
    """A stored report with `compliance` evaluated against the current profiles (profile updates apply to old
    scans without rescanning; evaluating one report takes well under a millisecond)."""
    return {**document, "compliance": evaluate_compliance(document)}


def grade_and_report(result: ScanResult) -> tuple[Grades, dict[str, Any]]:
    """The scan's grades and its report document, as they are stored and shown."""
    from .grading import grade

    grades = grade(result)
    return grades, build_report(result, grades)
