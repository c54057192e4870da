"""What the web security score does not count but a site owner should hear (cookie prefixes, HTTP compression,
security.txt), and the report's per-header verdicts. Split from websecurity_tests.py, which holds the scored tests.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from datetime import UTC, datetime
from typing import Protocol

from scanner.engine.results import ScanResult
from scanner.engine.web_results import WebFacts
from scanner.grading.findings import Finding
from scanner.grading.policy import finding


def extra_findings(scan: ScanResult, facts: WebFacts) -> Iterator[Finding]:
    for cookie in facts.cookies:
        # RFC 6265bis §4.1.3: __Secure- needs Secure; __Host- also needs Path=/ and no Domain.
        if (
            cookie.name.startswith("__Secure-")
            and not cookie.secure
            or cookie.name.startswith("__Host-")
            and (not cookie.secure or cookie.path != "/" or cookie.domain)
        ):
            yield finding("cookies.prefix_invalid", f"{cookie.name} breaks its prefix's rules, so browsers reject it.")
    if facts.content_encoding:
        yield finding(
            "web.http_compression",
            f"{facts.page_url} is served with Content-Encoding: "
            f"{facts.content_encoding} over HTTPS when the client asks for it.",
        )
    yield from _security_txt(facts)


def _security_txt(facts: WebFacts) -> Iterator[Finding]:
    txt = facts.security_txt
    if txt is None or txt.status is None and txt.error:
        return
    plain = (txt.content_type or "").split(";")[0].strip().lower() == "text/plain"
    if txt.status != 200 or not plain:
        yield finding(
            "web.security_txt.missing",
            f"{txt.url} answers {txt.status}"
            + (f" with {txt.content_type}" if txt.status == 200 else "")
            + ", not a text/plain security.txt.",
        )
        return
    if not txt.https:
        yield finding("web.security_txt.invalid", f"security.txt ends at {txt.url}, not https:// (RFC 9116 §3).")
    if not txt.contact:
        yield finding("web.security_txt.invalid", "security.txt has no Contact: field (RFC 9116 §2.5.3).")
    expires = _parse_expires(txt.expires)
    if expires is None:
        yield finding("web.security_txt.invalid", f"security.txt has no valid Expires: field ({txt.expires!r}).")
    elif expires <= datetime.now(UTC):
        yield finding("web.security_txt.expired", f"security.txt expired on {txt.expires}.")


def _parse_expires(value: str | None) -> datetime | None:
    """RFC 9116 §2.5.5: an RFC 3339 date-time (Internet profile of ISO 8601)."""
    if not value:
        return None
    try:
        parsed = datetime.fromisoformat(value.strip().replace("z", "Z"))
    except ValueError:
        return None
    return parsed if parsed.tzinfo else parsed.replace(tzinfo=UTC)


class ScoredTest(Protocol):
    """What header_verdicts reads of a scored test: websecurity.Modifier, not imported (websecurity imports
    this module)."""

    @property
    def test(self) -> str: ...

    @property
    def points(self) -> int: ...

    @property
    def detail(self) -> str: ...


def header_verdicts(scan: ScanResult, facts: WebFacts, modifiers: Iterable[ScoredTest]) -> dict[str, dict]:
    """The report's `headers`: per header {present, value, verdict, notes}. The verdict is the scored test's
    ("good" for a bonus, "ok" for 0, "bad" for a penalty); headers Observatory does not score are "info"."""
    by_test = {item.test: item for item in modifiers}
    scored = {
        "content-security-policy": "content-security-policy",
        "x-frame-options": "x-frame-options",
        "x-content-type-options": "x-content-type-options",
        "referrer-policy": "referrer-policy",
        "cross-origin-resource-policy": "cross-origin-resource-policy",
        "access-control-allow-origin": "cross-origin-resource-sharing",
        "strict-transport-security": "strict-transport-security",
    }
    names = ["strict-transport-security", *(name for name in _REPORTED if name != "strict-transport-security")]
    report = {}
    for name in names:
        if name == "strict-transport-security":
            hsts = scan.http.hsts
            values = (hsts.raw,) if hsts else ()
        else:
            values = facts.headers.get(name, ())
        modifier = by_test.get(scored.get(name, ""))
        notes = [modifier.detail] if modifier else []
        if modifier is None:
            verdict = "info"
        else:
            verdict = "good" if modifier.points > 0 else "ok" if modifier.points == 0 else "bad"
        if name == "content-security-policy" and facts.csp:
            policy = facts.csp[0]
            notes += [
                f"{key} present"
                for key in ("frame-ancestors", "object-src", "upgrade-insecure-requests")
                if policy.sources(key) is not None
            ]
            notes += [f"directive {directive} repeated (ignored)" for directive in policy.duplicates]
            if len(facts.csp) > 1:
                notes.append(f"{len(facts.csp)} policies sent; the first is scored")
        report[name] = {
            "present": bool(values),
            "value": "; ".join(values) if values else None,
            "verdict": verdict,
            "notes": notes,
        }
    return report


_REPORTED = (
    "content-security-policy",
    "content-security-policy-report-only",
    "x-frame-options",
    "x-content-type-options",
    "referrer-policy",
    "permissions-policy",
    "cross-origin-opener-policy",
    "cross-origin-resource-policy",
    "cross-origin-embedder-policy",
    "access-control-allow-origin",
)
