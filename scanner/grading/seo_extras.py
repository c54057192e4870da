"""SEO readiness extras (issue 23): HTTP/2 through ALPN, robots.txt over HTTPS, the canonical links' count and
form. Rules like seo.py's; they read the web probe's facts, so a result without them (not measured) adds nothing.
"""

from __future__ import annotations

from collections.abc import Iterator

from scanner.engine.results import ScanResult
from scanner.engine.web_results import WebFacts
from scanner.grading.findings import Finding
from scanner.grading.policy import finding
from scanner.grading.rules import rule


def _facts(scan: ScanResult) -> WebFacts | None:
    return scan.http.web if scan.http and not scan.error else None


@rule
def http2(scan: ScanResult) -> Iterator[Finding]:
    facts = _facts(scan)
    if facts is None or facts.alpn is None or "h2" in facts.alpn:
        return
    offered = ", ".join(facts.alpn) if facts.alpn else "no protocol (the server ignores ALPN)"
    yield finding(
        "seo.no_http2", f"Offered h2 and http/1.1 in separate ALPN handshakes; the server accepted {offered}."
    )


@rule
def robots_txt(scan: ScanResult) -> Iterator[Finding]:
    facts = _facts(scan)
    robots = facts.robots_txt if facts else None
    if robots is None:
        return
    if robots.status is None or robots.status >= 500:
        reason = robots.error or f"status {robots.status}"
        yield finding("seo.robots_unreachable", f"{robots.url}: {reason}.")
    elif robots.disallow_all:
        yield finding("seo.robots_disallow_all", f"{robots.url} has `Disallow: /` for `User-agent: *`.")


@rule
def canonical_links(scan: ScanResult) -> Iterator[Finding]:
    facts = _facts(scan)
    if facts is None or not facts.canonical_links:
        return
    distinct = list(dict.fromkeys(facts.canonical_links))
    if len(distinct) > 1:
        yield finding("seo.canonical_multiple", "The page declares " + ", ".join(distinct[:5]) + " as canonical.")
    invalid = [link for link in distinct if not link.lower().startswith(("https://", "http://"))]
    if invalid:
        yield finding("seo.canonical_invalid", f"The canonical link {invalid[0]!r} is not a valid absolute URL.")
