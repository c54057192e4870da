"""The web-posture probe: headers, cookies and scripts of the responses the HTTP walk already read,
plus a few small requests of its own, all through the HTTP side's pinned client and inside its deadline:

- the final page once more, with a foreign `Origin` (does CORS let any site read it with credentials?) and
  `Accept-Encoding: gzip, deflate, br` (HTTP compression over HTTPS: BREACH, as internet.nl notes);
- /.well-known/security.txt (RFC 9116) and /robots.txt (RFC 9309), bodies capped;
- ALPN handshakes for h2 and http/1.1.

These requests do not depend on one another. Each waits for a connection of the scan's allowance
(runtime/allowance.py: one at a time beside the TLS scan, which holds the address's other connections, more
once it has ended), and up to REQUESTS_AT_ONCE go side by side (fewer than a browser opens to one host): at
real latency each costs a few round trips, and a slow web server's requests one after another would keep the
scan waiting after its TLS side has finished.

Nothing here judges what it reads (scanner/grading/websecurity.py does).
"""

from __future__ import annotations

import time
from collections.abc import Callable
from concurrent.futures import Executor, Future, ThreadPoolExecutor
from typing import TypeVar

import httpx

from scanner import outbound
from scanner.engine.http.headers import (
    cookies_from,
    parse_csp,
    robots_disallows_all,
    security_headers,
    security_txt_fields,
)
from scanner.engine.http.page import PageFacts, cap_url, is_html
from scanner.engine.runtime.allowance import ConnectionAllowance
from scanner.engine.web_results import RobotsTxt, SecurityTxt, SiblingHost, WebFacts

from . import alpn

# (url, extra request headers, body cap) -> response; raises outbound.OutboundError (the HTTP side's budget too)
Fetch = Callable[[str, dict[str, str], int], outbound.Response]

FOREIGN_ORIGIN = "https://origin-check.invalid"  # never a real site (RFC 6761 .invalid)
SECURITY_TXT_CAP = 32 * 1024
ROBOTS_CAP = 512 * 1024  # Google reads the first 500 KiB of robots.txt
MAX_FILE_REDIRECTS = 3
MIN_ALPN_TIME = 0.2  # seconds of the HTTP budget the ALPN handshakes need at least to be worth starting
REQUESTS_AT_ONCE = 4
T = TypeVar("T")


def _origin(url: str) -> str:
    parsed = httpx.URL(url)
    default = {"https": 443, "http": 80}.get(parsed.scheme)
    port = "" if parsed.port in (None, default) else f":{parsed.port}"
    return f"{parsed.scheme}://{parsed.host}{port}"


def _get(fetch: Fetch, url: str, cap: int) -> outbound.Response:
    """GET `url`, following at most MAX_FILE_REDIRECTS redirects (RFC 9116 §3 and RFC 9309 §2.3.1.2 allow them)."""
    for _ in range(MAX_FILE_REDIRECTS + 1):
        response = fetch(url, {}, cap)
        location = response.headers.get("location")
        if not (300 <= response.status < 400 and location):
            return response
        url = str(httpx.URL(url).join(location.strip()))
        if httpx.URL(url).scheme not in ("http", "https"):
            break
    return response


def _security_txt(fetch: Fetch, origin: str) -> SecurityTxt:
    url = f"{origin}/.well-known/security.txt"
    try:
        response = _get(fetch, url, SECURITY_TXT_CAP)
    except (outbound.OutboundError, httpx.InvalidURL, ValueError) as exc:
        return SecurityTxt(url=url, status=None, error=str(exc)[:300])
    content_type = response.headers.get("content-type", "")
    contacts, expires = (), None
    if response.status == 200 and content_type.split(";")[0].strip().lower() == "text/plain":
        contacts, expires = security_txt_fields(response.body.decode("utf-8", "replace"))
    return SecurityTxt(
        url=cap_url(response.url),
        status=response.status,
        content_type=content_type[:100] or None,
        https=response.url.lower().startswith("https://"),
        contact=contacts,
        expires=expires,
    )


def _robots_txt(fetch: Fetch, origin: str) -> RobotsTxt:
    url = f"{origin}/robots.txt"
    try:
        response = _get(fetch, url, ROBOTS_CAP)
    except (outbound.OutboundError, httpx.InvalidURL, ValueError) as exc:
        return RobotsTxt(url=url, status=None, error=str(exc)[:300])
    text = response.body.decode("utf-8", "replace") if response.status == 200 else ""
    return RobotsTxt(url=cap_url(response.url), status=response.status, disallow_all=robots_disallows_all(text))


def sibling_name(host: str) -> str | None:
    """www.example.com <-> example.com. Without a public suffix list only two-label names count as an apex
    (example.co.uk and deeper subdomains get no www. counterpart); any www. name has its parent checked."""
    if host.startswith("www."):
        parent = host[4:]
        return parent if "." in parent else None
    return f"www.{host}" if host.count(".") == 1 else None


def _sibling(fetch_verified: Fetch, name: str, https_port: int) -> SiblingHost:
    url = f"https://{name}/" if https_port == 443 else f"https://{name}:{https_port}/"
    try:
        response = fetch_verified(url, {}, 1024)
    except outbound.OutboundRefused as exc:  # no address, or one the network policy refuses
        return SiblingHost(host=name, resolves=False, error=str(exc)[:300])
    except outbound.OutboundError as exc:
        return SiblingHost(host=name, resolves=True, error=str(exc)[:300])
    location = response.headers.get("location")
    return SiblingHost(
        host=name,
        resolves=True,
        https_ok=True,
        status=response.status,
        location=cap_url(location) if location else None,
    )


def probe_web(
    first: outbound.Response | None,
    last: outbound.Response,
    page: PageFacts,
    fetch: Fetch,
    *,
    host: str,
    https_port: int,
    ip: str | None,
    connect_timeout: float,
    deadline: float,
    fetch_verified: Fetch | None = None,
    connections: ConnectionAllowance | None = None,
) -> WebFacts:
    """Facts about the final https:// page `last` (and the first HTTPS response `first`, whose cookies count too).
    `connections`: the scan's allowance for the HTTP side (default: one connection at a time)."""
    headers = last.headers
    csp = tuple(policy for value in headers.get_list("content-security-policy") for policy in parse_csp(value))
    report_only = tuple(
        policy
        for value in headers.get_list("content-security-policy-report-only")
        for policy in parse_csp(value, report_only=True)
    )
    responses = [(first.url, first.headers)] if first is not None and first is not last else []
    cookies, raw_cookies = cookies_from([*responses, (last.url, headers)])

    origin = _origin(last.url)
    sibling = sibling_name(host)
    with _Requests(connections or ConnectionAllowance()) as pool:
        cors = pool.submit(_cors_and_compression, fetch, last.url)
        security_txt = pool.submit(_security_txt, fetch, origin)
        robots_txt = pool.submit(_robots_txt, fetch, origin)
        counterpart = pool.submit(_sibling, fetch_verified, sibling, https_port) if sibling and fetch_verified else None
        alpn_protocols, alpn_error = _alpn(pool, host, ip, https_port, connect_timeout, deadline)
        cors_allow_origin, cors_credentials, content_encoding, cors_note = cors.result()
    notes = [cors_note] if cors_note else []
    return WebFacts(
        page_url=cap_url(last.url),
        page_status=last.status,
        page_is_html=is_html(headers.get("content-type", "")),
        headers=security_headers(headers),
        csp=csp,
        csp_report_only=report_only,
        cookies=cookies,
        set_cookie_raw=raw_cookies,
        scripts=page.scripts,
        canonical_links=page.canonical_links,
        cors_origin_sent=FOREIGN_ORIGIN,
        cors_allow_origin=cors_allow_origin[:300] if cors_allow_origin else None,
        cors_allow_credentials=cors_credentials,
        content_encoding=content_encoding,
        security_txt=security_txt.result(),
        robots_txt=robots_txt.result(),
        alpn=alpn_protocols,
        alpn_error=alpn_error,
        sibling=counterpart.result() if counterpart else None,
        notes=tuple(notes),
    )


class _Requests(Executor):
    """A few threads running the probe's requests, each once the allowance has a connection free for it."""

    def __init__(self, connections: ConnectionAllowance) -> None:
        self._connections = connections
        self._pool = ThreadPoolExecutor(REQUESTS_AT_ONCE, thread_name_prefix="web")

    def submit(self, fn: Callable[..., T], /, *args: object, **kwargs: object) -> Future[T]:
        def holding_a_connection() -> T:
            with self._connections.connection():
                return fn(*args, **kwargs)

        return self._pool.submit(holding_a_connection)

    def shutdown(self, wait: bool = True, *, cancel_futures: bool = False) -> None:
        self._pool.shutdown(wait, cancel_futures=cancel_futures)


def _cors_and_compression(fetch: Fetch, url: str) -> tuple[str | None, bool, str | None, str | None]:
    """The page once more with a foreign Origin and every compression offered: (Access-Control-Allow-Origin,
    whether credentials are allowed, Content-Encoding, or a note saying why neither was checked)."""
    try:
        extra = fetch(url, {"Origin": FOREIGN_ORIGIN, "Accept-Encoding": "gzip, deflate, br"}, 1024)
    except outbound.OutboundError as exc:
        return None, False, None, f"CORS and compression not checked: {exc}"
    credentials = extra.headers.get("access-control-allow-credentials", "").strip().lower() == "true"
    encoding = extra.headers.get("content-encoding", "").strip().lower()
    return (
        extra.headers.get("access-control-allow-origin"),
        credentials,
        encoding if encoding not in ("", "identity") else None,
        None,
    )


def _alpn(
    pool: Executor, host: str, ip: str | None, port: int, connect_timeout: float, deadline: float
) -> tuple[tuple[str, ...] | None, str | None]:
    """(the protocols the server accepts, or None with the reason they are not known)."""
    if ip is None:
        return None, None
    if deadline - time.monotonic() <= MIN_ALPN_TIME:
        return None, "ALPN not tested: the HTTP probe's deadline passed"
    try:
        return alpn.accepted_protocols(host, ip, port, connect_timeout, deadline=deadline, pool=pool), None
    except OSError as exc:
        return None, f"no TLS handshake for ALPN: {exc}"[:300]
