"""SEO readiness: its own rule set and its own 100-point score.

The score starts from "is there usable HTTPS at all" (no: 0), then takes each finding's SEO penalty from
policy.toml: valid certificate, one permanent same-host http:// -> https:// first hop, chain length, no loop,
no downgrade on either side, HSTS and preload eligibility, no mixed content, a canonical link on https://.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from urllib.parse import urljoin, urlsplit

from scanner.engine.results import HttpHop, HttpResult, ScanResult
from scanner.grading.findings import Finding
from scanner.grading.policy import finding
from scanner.grading.rules import rule

MAX_REDIRECTS_TO_HTTPS = 3  # hstspreload's maxRedirects
TEMPORARY_REDIRECTS = {302, 303, 307}
FULL_SCORE = 100


def seo_score(findings: Iterable[Finding]) -> int:
    """100 minus every finding's penalty, at least 0 (seo.no_https alone costs all 100)."""
    return max(0, FULL_SCORE - sum(item.seo_penalty for item in findings))


def usable_https(scan: ScanResult) -> bool:
    """A TLS handshake succeeded: some protocol was accepted and a certificate seen."""
    tls = scan.tls
    return tls is not None and tls.certificate is not None and any(tls.protocols.values())


def _redirect_targets(hops: Iterable[HttpHop]) -> list[tuple[HttpHop, str]]:
    """(hop, absolute target URL) for every redirect; Location may legally be relative."""
    return [(hop, urljoin(hop.url, hop.location)) for hop in hops if 300 <= hop.status < 400 and hop.location]


def _scheme(url: str) -> str:
    return urlsplit(url).scheme.lower()


def _hostname(url: str) -> str:
    return (urlsplit(url).hostname or "").lower().rstrip(".")


def _walked_http(scan: ScanResult) -> HttpResult | None:
    """The port-80 redirect walk, when it ran to its end and something answered."""
    http = scan.http
    if http is None or http.error or not http.http_listener or not http.chain:
        return None
    return http


@rule
def no_https(scan: ScanResult) -> Iterator[Finding]:
    if scan.error or not usable_https(scan):
        reason = scan.error or "no TLS handshake succeeded on the HTTPS port"
        yield finding("seo.no_https", f"https://{scan.host}/ is not usable: {reason}.")


@rule
def http_reachability(scan: ScanResult) -> Iterator[Finding]:
    http = scan.http
    if http is not None and http.error and http.oversized_redirect:
        yield finding("http.redirect.oversized", f"The redirect walk from http://{scan.host}/ stopped: {http.error}.")
    elif http is not None and http.error:
        yield finding("http.unreachable", f"The redirect walk from http://{scan.host}/ stopped: {http.error}.")
    elif http is not None and not http.http_listener:
        yield finding(
            "http.no_listener",
            f"http://{scan.host}/ is closed; visitors who type the bare name or an "
            "http:// link get an error, but nothing insecure is served.",
        )


@rule
def http_redirect_to_https(scan: ScanResult) -> Iterator[Finding]:
    http = _walked_http(scan)
    if http is None or http.loop or http.too_many_redirects or _scheme(http.chain[0].url) != "http":
        return
    targets = _redirect_targets(http.chain)
    if not any(_scheme(target) == "https" for _, target in targets):
        landing = http.final_url or http.chain[-1].url
        yield finding(
            "http.redirect.missing",
            f"http://{scan.host}/ ends at {landing} (status "
            f"{http.chain[-1].status}) without reaching HTTPS, so the insecure copy can be indexed.",
        )
    elif _scheme(targets[0][1]) == "http":
        yield finding(
            "http.redirect.first_hop_not_https",
            f"{targets[0][0].url} redirects first to {targets[0][1]}; "
            "the first hop should go straight to https:// on the same host.",
        )


@rule
def http_first_redirect(scan: ScanResult) -> Iterator[Finding]:
    http = _walked_http(scan)
    targets = _redirect_targets(http.chain) if http else []
    if not targets:
        return
    first, target = targets[0]
    if first.status in TEMPORARY_REDIRECTS:
        yield finding(
            "http.redirect.temporary",
            f"{first.url} answers {first.status} → {first.location}; search "
            "engines treat a temporary redirect as a weak canonical signal and may keep the HTTP URL.",
        )
    if _hostname(target) != _hostname(first.url):
        yield finding(
            "http.redirect.off_host",
            f"{first.url} redirects first to {target}; HSTS for "
            f"{_hostname(first.url)} is never set and the hstspreload list rejects this.",
        )


@rule
def http_redirect_chain(scan: ScanResult) -> Iterator[Finding]:
    http = _walked_http(scan)
    if http is None:
        return
    hops = len(http.redirects)
    if http.loop:
        yield finding(
            "http.redirect.loop",
            "The chain comes back to a URL it already visited: " + " → ".join(hop.url for hop in http.chain) + ".",
        )
    elif http.too_many_redirects:
        # Past the limit browsers and crawlers stop: the page is never reached (SSL Labs and testssl.sh do not grade it).
        yield finding("http.redirect.over_limit", f"The walk gave up after {hops} redirects without reaching a page.")
    elif hops > MAX_REDIRECTS_TO_HTTPS:
        yield finding(
            "http.redirect.too_many",
            f"Reaching {http.final_url} takes {hops} redirects "
            f"(more than {MAX_REDIRECTS_TO_HTTPS}); each hop costs a round trip and crawl budget.",
        )


@rule
def redirect_hop_certificate(scan: ScanResult) -> Iterator[Finding]:
    http = scan.http
    for hop in dict.fromkeys((http.chain + http.https_chain) if http else ()):
        if hop.certificate_error:
            yield finding(
                "http.redirect.hop_certificate_invalid",
                f"The redirect passes through {hop.url}, whose certificate browsers refuse: {hop.certificate_error}.",
            )


@rule
def https_downgrade(scan: ScanResult) -> Iterator[Finding]:
    http = scan.http
    if http is None:
        return
    # Either walk may show it: an https:// hop of the port-80 chain, or the walk that starts at https://.
    downgrades = [
        f"{hop.url} → {target}"
        for hop, target in _redirect_targets(http.chain + http.https_chain)
        if _scheme(hop.url) == "https" and _scheme(target) == "http"
    ]
    if downgrades or http.https_downgrade:
        shown = "; ".join(dict.fromkeys(downgrades)) or f"the walk from https://{scan.host}/ ends on http://"
        yield finding("http.redirect.https_downgrade", f"HTTPS sends visitors back to plain HTTP: {shown}.")


@rule
def mixed_content(scan: ScanResult) -> Iterator[Finding]:
    items = scan.http.mixed_content if scan.http else ()
    upgraded = scan.http is not None and scan.http.upgrade_insecure_requests
    for kind in ("active", "passive"):
        urls = [f"{item.url} ({item.element})" for item in items if item.kind == kind]
        if urls:
            listed = ", ".join(urls[:5]) + (f" and {len(urls) - 5} more" if len(urls) > 5 else "")
            if kind == "passive" and upgraded:
                # Browsers fetch these over https:// (CSP upgrade-insecure-requests): nothing loads insecurely.
                yield finding(
                    "content.mixed.passive_upgraded",
                    f"The HTTPS page names: {listed}; its "
                    "Content-Security-Policy upgrade-insecure-requests makes browsers load them over https://.",
                )
            else:
                yield finding(f"content.mixed.{kind}", f"The HTTPS page loads: {listed}.")


@rule
def canonical_link(scan: ScanResult) -> Iterator[Finding]:
    http = scan.http
    if http is None or not http.canonical_url:
        return
    page = http.https_final_url or http.final_url or f"https://{scan.host}/"
    canonical = urljoin(page, http.canonical_url)
    if _scheme(canonical) == "http":
        yield finding("seo.canonical_not_https", f"The page declares {canonical} as canonical, the insecure copy.")
    elif _hostname(canonical) != _hostname(page):
        yield finding("seo.canonical_other_host", f"The page {page} declares {canonical} as canonical.")
