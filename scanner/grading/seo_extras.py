"""SEO readiness extras: HTTP/2 through ALPN, robots.txt over HTTPS, the canonical links' count and
form, and the www./apex counterpart (Google and hstspreload look at both). Rules like seo.py's; they read the web probe's facts, so a result without them (not measured) adds nothing.
"""

from __future__ import annotations

from collections.abc import Iterator
from urllib.parse import urljoin, urlsplit

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


def _host(url: str) -> str:
    return (urlsplit(url).hostname or "").lower().rstrip(".")


@rule
def www_and_apex(scan: ScanResult) -> Iterator[Finding]:
    """The counterpart must serve HTTPS with a valid certificate, and one of the two must redirect to the other
    (hstspreload.org requirement 3 serves www over HTTPS; Google: one canonical host per site)."""
    facts = _facts(scan)
    sibling = facts.sibling if facts else None
    if sibling is None or not sibling.resolves:
        return
    if not sibling.https_ok:
        yield finding(
            "seo.www_apex_no_https", f"{sibling.host} resolves but https://{sibling.host}/ fails: {sibling.error}."
        )
        return
    canonical = _host(facts.page_url)
    redirected = sibling.status is not None and 300 <= sibling.status < 400 and sibling.location
    target = _host(urljoin(f"https://{sibling.host}/", sibling.location)) if redirected else sibling.host
    if canonical != sibling.host and target != canonical:
        yield finding(
            "seo.www_apex_duplicate",
            f"https://{sibling.host}/ answers {sibling.status}"
            + (f" → {sibling.location}" if redirected else " with its own page")
            + f" while {scan.host} ends at {facts.page_url}: two hosts serve the site.",
        )
