"""The HTTP side of a site: both redirect walks (from http://host/ and from https://host/), the HSTS policy of the
first HTTPS response, and the final HTTPS page's HTML (mixed content, canonical URL).

Every request goes through scanner.outbound: the host is resolved once through the network policy and the
connection pinned to that address (Host and SNI from the name), with byte caps and a deadline. The whole HTTP
side shares one wall-clock budget (ScanSettings.http_deadline): a server dripping bytes ends the probe at that
deadline with a clear reason, and the scan goes on with everything else it measured.

Only the outbound client's own errors are caught here (and lxml's): anything else, Celery's
SoftTimeLimitExceeded included, propagates.
"""

from __future__ import annotations

import functools
import ssl
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import TypeVar

import httpx

from scanner import outbound
from scanner.engine.http.hsts_header import HSTS_MAX_AGE_CAP, parse_hsts  # noqa: F401 - re-exported
from scanner.engine.http.http_trust import fetch_hop, upgrades_insecure_requests, verified_context
from scanner.engine.http.page import MAX_MIXED_ITEMS, MAX_STORED_URL, PageFacts, cap_url, is_html, read_page  # noqa: F401 - re-exported
from scanner.engine.http.webprobe import probe_web
from scanner.engine.results import HstsPolicy, HttpHop, HttpResult, ScanSettings
from scanner.engine.runtime.allowance import ConnectionAllowance
from scanner.engine.runtime.outbound_budget import OutboundBudget
from scanner.engine.runtime.resets import was_reset
from scanner.engine.web_results import WebFacts
from scanner.netpolicy import NetworkPolicy, TargetRefused

T = TypeVar("T")
Resolver = Callable[[str], str]  # hostname -> approved IP; raises TargetRefused to refuse

PAGE_CAP = 1024 * 1024  # bytes of the final HTTPS page read for mixed content and the canonical link
REDIRECT_BODY_CAP = 64 * 1024  # a redirect's own body is never used


# --- the walks ---------------------------------------------------------------------------------------------------


_cap = cap_url


def _scheme(url: str) -> str:
    return url.split(":", 1)[0].lower()


class _ResolverPolicy:
    """Adapts the engine's resolver callable to what scanner.outbound expects of a policy."""

    def __init__(self, resolver: Resolver | NetworkPolicy) -> None:
        self._resolve = resolver.resolve if isinstance(resolver, NetworkPolicy) else resolver

    def resolve(self, host: str) -> str:
        return self._resolve(host)


class _Budget:
    """The HTTP side's one wall-clock budget, shared by every request of both walks.

    The http:// walk may spend at most half of it, so a server dripping on port 80 still leaves time to read
    HTTPS (HSTS, the page); the https:// walk gets whatever is left.
    """

    def __init__(self, settings: ScanSettings) -> None:
        self.settings = settings
        self.started = time.monotonic()
        self.end = self.started + settings.http_deadline
        self.deadline = self.end

    def share(self, fraction: float) -> None:
        """Bound the next walk to `fraction` of the whole budget (never past its end)."""
        self.deadline = min(self.end, self.started + self.settings.http_deadline * fraction)

    def limits(self, max_body: int) -> outbound.Limits | None:
        left = self.deadline - time.monotonic()
        if left <= 0:
            return None
        return outbound.Limits(
            connect_timeout=self.settings.connect_timeout,
            read_timeout=self.settings.http_timeout,
            deadline=left,
            max_body=max_body,
        )

    @property
    def spent(self) -> bool:
        return time.monotonic() >= self.deadline - 0.05

    def passed(self) -> str:
        if self.deadline < self.end:
            return f"the http:// walk's share of the HTTP probe's {self.settings.http_deadline:g} s deadline passed"
        return f"the HTTP probe's {self.settings.http_deadline:g} s deadline passed"


@dataclass
class _Walk:
    chain: list[HttpHop] = field(default_factory=list)
    final_url: str | None = None
    loop: bool = False
    too_many: bool = False
    error: str | None = None  # "<url>: <reason>", as the report shows it
    reason: str | None = None  # the same reason without the URL
    listener: bool = False  # something answered on the first hop's port (even if not with valid HTTP)
    first: outbound.Response | None = None  # the first response (HSTS is read from the HTTPS one)
    last: outbound.Response | None = None  # the final, non-redirect response
    downgrade: bool = False  # an https:// response redirected to http://
    hsts_over_http: bool = False  # a plain-http response carried Strict-Transport-Security
    oversized: bool = False  # stopped at a redirect too long to follow (HttpResult.oversized_redirect)


def _describe(exc: outbound.OutboundError, budget: _Budget) -> str:
    if isinstance(exc, outbound.OutboundTimeout) and budget.spent:
        return f"{budget.passed()} (the server was too slow)"
    if isinstance(exc, outbound.BadResponse):
        return f"bad response: {exc}"
    return str(exc)


def _stop(walk: _Walk, url: str, reason: str) -> _Walk:
    walk.error, walk.reason, walk.final_url = f"{_cap(url)}: {reason}", reason, _cap(url)
    return walk


def _walk(
    start_url: str,
    policy: _ResolverPolicy,
    budget: _Budget,
    *,
    page_cap: int,
    fetched: dict[str, outbound.Response],
    scanned_host: str = "",
    ca_file: str | None = None,
    outbound_budget: OutboundBudget | None = None,
) -> _Walk:
    """Follow redirects from `start_url`. `fetched` holds the responses both walks have read, by URL: the
    http:// walk usually ends at the very URL the https:// walk starts from, which is then read once (with the
    page's cap, since its body is the page), not twice."""
    walk = _Walk()
    seen: set[str] = set()
    url = start_url
    while True:
        if url in seen:
            walk.loop, walk.final_url = True, _cap(url)
            return walk
        seen.add(url)
        response = fetched.get(url)
        limits = budget.limits(PAGE_CAP if _scheme(url) == "https" else page_cap)
        if response is None and limits is None:
            return _stop(walk, url, f"not fetched, {budget.passed()}")
        certificate_error = None
        other_host = _scheme(url) == "https" and (httpx.URL(url).host or "").lower() != scanned_host.lower()
        try:
            if response is None:
                verify = verified_context(ca_file) if other_host and scanned_host else None
                cap = PAGE_CAP if _scheme(url) == "https" else page_cap

                def fetch_once(
                    limits: outbound.Limits, url: str = url, verify: ssl.SSLContext | None = verify, cap: int = cap
                ) -> tuple[outbound.Response, str | None]:
                    return fetch_hop(url, policy, limits, verify, functools.partial(budget.limits, cap))

                response, certificate_error = _request_retrying_resets(fetch_once, budget, limits)
                fetched[url] = response
        except outbound.OutboundConnectError as exc:
            if not walk.chain and exc.refused:
                return walk  # "nothing listens on port 80" is itself the finding, not an error
            return _stop(walk, url, _describe(exc, budget))
        except outbound.ResponseTooLarge as exc:
            # A response head too large to read is, in practice, a runaway Location: its own finding.
            walk.listener, walk.oversized = True, True
            return _stop(walk, url, _describe(exc, budget))
        except outbound.OutboundError as exc:
            # A protocol failure or timeout after connecting still means something listens there.
            walk.listener = walk.listener or exc.connected
            # httpx refuses a Location over 64 KiB itself ("Invalid URL in location header: URL too long").
            walk.oversized = isinstance(exc, outbound.BadResponse) and "location header" in str(exc).lower()
            return _stop(walk, url, _describe(exc, budget))
        walk.listener = True
        walk.first = walk.first or response
        if _scheme(url) == "http" and response.headers.get("strict-transport-security"):
            walk.hsts_over_http = True
        location = response.headers.get("location")
        walk.chain.append(
            HttpHop(
                url=_cap(url),
                status=response.status,
                location=_cap(location) if location else None,
                certificate_error=certificate_error,
            )
        )
        walk.final_url = _cap(url)
        if not (300 <= response.status < 400 and location):
            walk.last = response
            return walk
        if len(walk.chain) > budget.settings.max_redirects:
            walk.too_many = True
            return walk
        if len(location) > MAX_STORED_URL:
            # Checked before httpx parses it (httpx refuses URLs over 64 KiB with a bare "URL too long").
            walk.oversized = True
            return _stop(walk, url, f"the redirect's Location header is {len(location)} characters long; not followed")
        try:
            target = str(httpx.URL(url).join(location.strip()))
        except (httpx.InvalidURL, ValueError) as exc:
            return _stop(walk, url, f"the redirect target is not a valid URL ({exc})")
        if _scheme(url) == "https" and _scheme(target) == "http":
            walk.downgrade = True
        if _scheme(target) not in ("http", "https"):
            return _stop(walk, url, f"redirects to a non-HTTP URL ({_cap(target)})")
        if len(target) > MAX_STORED_URL:
            walk.oversized = True
            return _stop(walk, url, f"the redirect target is {len(target)} characters long; not followed")
        # Each hop the site chooses is a request to a host it picked: it takes one fetch from the scan's
        # outbound budget (a hop already read by the other walk costs nothing).
        if target not in fetched and outbound_budget is not None and not outbound_budget.take(OutboundBudget.REDIRECT):
            return _stop(
                walk,
                url,
                f"the redirect to {_cap(target)} was not followed: the scan's outbound budget "
                f"of {outbound_budget.limit} fetches is spent",
            )
        url = target


# A request cut by a reset (before or after connecting) is made again this many times: a server that drops
# some connections (rate limit, overloaded balancer) must not read as "unreachable" or "no HSTS".
RESET_RETRIES = 2


def _request_retrying_resets(fetch_once: Callable[[outbound.Limits], T], budget: _Budget, limits: outbound.Limits) -> T:
    """`fetch_once(limits)`, made again (bounded) when the connection was reset: a flaky server's reset must not
    read as its answer."""
    for attempt in range(RESET_RETRIES + 1):
        try:
            return fetch_once(limits)
        except (outbound.OutboundConnectError, outbound.BadResponse, outbound.OutboundTLSError) as exc:
            refused = isinstance(exc, outbound.OutboundConnectError) and exc.refused
            if refused or not was_reset(exc) or attempt == RESET_RETRIES:
                raise
            time.sleep(0.1 * 2**attempt)
            limits = budget.limits(limits.max_body) or limits
    raise AssertionError("unreachable")


def _first_https_url(host: str, port: int) -> str:
    return f"https://{host}/" if port == 443 else f"https://{host}:{port}/"


def probe_http(
    host: str,
    https_port: int,
    http_port: int,
    resolver: Resolver | NetworkPolicy,
    settings: ScanSettings,
    *,
    with_hsts: bool = True,
    ca_file: str | None = None,
    outbound_budget: OutboundBudget | None = None,
    connections: ConnectionAllowance | None = None,
) -> HttpResult:
    """Walk http://host/ and (with_hsts, i.e. TLS answered) https://host/, within settings.http_deadline.
    `connections`: how many of the web probe's requests may be open at once (webprobe.py; default one)."""
    policy = _ResolverPolicy(resolver)
    budget = _Budget(settings)
    http_url = f"http://{host}/" if http_port == 80 else f"http://{host}:{http_port}/"
    budget.share(0.5 if with_hsts else 1.0)
    fetched: dict[str, outbound.Response] = {}
    plain = _walk(
        http_url,
        policy,
        budget,
        page_cap=REDIRECT_BODY_CAP,
        fetched=fetched,
        scanned_host=host,
        ca_file=ca_file,
        outbound_budget=outbound_budget,
    )
    result = HttpResult(
        http_listener=plain.listener,
        chain=tuple(plain.chain),
        final_url=plain.final_url,
        loop=plain.loop,
        too_many_redirects=plain.too_many,
        error=plain.error,
        oversized_redirect=plain.oversized,
        hsts_over_http=plain.hsts_over_http,
    )
    if not with_hsts:
        return result

    https_url = _first_https_url(host, https_port)
    budget.share(1.0)
    secure = _walk(
        https_url,
        policy,
        budget,
        page_cap=PAGE_CAP,
        fetched=fetched,
        scanned_host=host,
        ca_file=ca_file,
        outbound_budget=outbound_budget,
    )
    hsts: HstsPolicy | None = None
    hsts_error: str | None = None
    if secure.first is None:
        # Nothing was read over HTTPS: the header's presence is unknown, which is not an invalid header.
        hsts_error = f"could not fetch {https_url}: {secure.reason or 'no response'}"
    else:
        values = secure.first.headers.get_list("strict-transport-security")
        if values:
            hsts = parse_hsts(values[0])  # browsers honour only the first header (RFC 6797 section 8.1)

    facts = PageFacts(mixed_content=(), canonical_url=None)
    page_fetched = upgrades = False
    web = None
    last = secure.last
    if last is not None and _scheme(last.url) == "https" and 200 <= last.status < 300:
        content_type = last.headers.get("content-type", "")
        encoded = last.headers.get("content-encoding", "identity").strip().lower() not in ("", "identity")
        if is_html(content_type) and not encoded:
            facts = read_page(last.url, last.body, content_type)
            page_fetched = True
            upgrades = upgrades_insecure_requests(last.headers.get_list("content-security-policy"))
    if last is not None and _scheme(last.url) == "https":
        web = _probe_web(host, https_port, secure, facts, policy, budget, ca_file, connections)

    return HttpResult(
        http_listener=result.http_listener,
        chain=result.chain,
        final_url=result.final_url,
        loop=result.loop,
        too_many_redirects=result.too_many_redirects,
        error=result.error,
        oversized_redirect=result.oversized_redirect,
        hsts=hsts,
        hsts_error=hsts_error,
        https_chain=tuple(secure.chain),
        https_final_url=secure.final_url,
        https_downgrade=secure.downgrade,
        https_error=secure.error,
        hsts_over_http=plain.hsts_over_http or secure.hsts_over_http,
        mixed_content=facts.mixed_content,
        canonical_url=facts.canonical_url,
        page_fetched=page_fetched,
        web=web,
        upgrade_insecure_requests=upgrades,
    )


def _probe_web(
    host: str,
    https_port: int,
    secure: _Walk,
    facts: PageFacts,
    policy: _ResolverPolicy,
    budget: _Budget,
    ca_file: str | None,
    connections: ConnectionAllowance | None,
) -> WebFacts:
    """Headers, cookies, CORS, compression, security.txt, robots.txt and ALPN of the final https page, inside
    what is left of the HTTP side's budget (scanner/engine/http/webprobe.py)."""

    def fetch(
        url: str, headers: dict[str, str], max_body: int, verify: bool | ssl.SSLContext = False
    ) -> outbound.Response:
        limits = budget.limits(max_body)
        if limits is None:
            raise outbound.OutboundTimeout(f"not fetched, {budget.passed()}")
        return outbound.request("GET", url, policy=policy, limits=limits, headers=headers, verify=verify)

    # The www./apex counterpart must pass the checks a browser makes (its name, the trust store or --ca-file).
    trust = ssl.create_default_context(cafile=ca_file) if ca_file else True

    def fetch_verified(url: str, headers: dict[str, str], max_body: int) -> outbound.Response:
        return fetch(url, headers, max_body, verify=trust)

    try:
        ip: str | None = policy.resolve(host)
    except (TargetRefused, ValueError):
        ip = None
    # The ALPN handshakes share the budget too (webprobe skips them when it is spent).
    return probe_web(
        secure.first,
        secure.last,
        facts,
        fetch,
        host=host,
        https_port=https_port,
        ip=ip,
        connect_timeout=budget.settings.connect_timeout,
        deadline=budget.end,
        fetch_verified=fetch_verified,
        connections=connections,
    )
