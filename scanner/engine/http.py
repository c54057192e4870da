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

import re
import time
from collections.abc import Callable
from dataclasses import dataclass, field

import httpx
from lxml import etree

from .. import outbound
from ..netpolicy import NetworkPolicy
from .outbound_budget import OutboundBudget
from .results import HstsPolicy, HttpHop, HttpResult, MixedContentItem, ScanSettings

Resolver = Callable[[str], str]  # hostname -> approved IP; raises TargetRefused to refuse

PAGE_CAP = 1024 * 1024  # bytes of the final HTTPS page read for mixed content and the canonical link
REDIRECT_BODY_CAP = 64 * 1024  # a redirect's own body is never used
MAX_STORED_URL = 2048  # characters of any URL kept in the result (a 60 KB Location is stored once, cut here)
MAX_MIXED_ITEMS = 50  # offending URLs kept in the result; the finding needs examples, not a full crawl
HSTS_MAX_AGE_CAP = 10**12  # seconds (~31,700 years): larger values are clamped so they fit every consumer
_ASCII_DIGITS = re.compile(r"[0-9]+")  # never str.isdigit(): "²" and "٣" are digits to Python, not to RFC 6797


# --- HSTS ------------------------------------------------------------------------------------------------------


def parse_hsts(raw: str) -> HstsPolicy:
    """RFC 6797 section 6.1: directives split on ";", max-age is 1*DIGIT (ASCII), optionally quoted.

    A missing, unparsable or repeated max-age makes the policy invalid (max_age None); a repeated directive of
    any kind does too (RFC 6797 section 6.1, rule 2).
    """
    max_age: int | None = None
    seen: dict[str, int] = {}
    include_subdomains = preload = False
    valid = True
    for directive in raw.split(";"):
        name, has_value, value = directive.strip().partition("=")
        name = name.strip().lower()
        if not name:
            continue
        seen[name] = seen.get(name, 0) + 1
        value = value.strip()
        if len(value) >= 2 and value[0] == value[-1] == '"':
            value = value[1:-1]
        if name == "max-age":
            if has_value and _ASCII_DIGITS.fullmatch(value):
                max_age = min(int(value), HSTS_MAX_AGE_CAP)
            else:
                valid = False
        elif name == "includesubdomains":
            include_subdomains = True
        elif name == "preload":
            preload = True
    if not valid or seen.get("max-age") != 1 or any(count > 1 for count in seen.values()):
        max_age = None
    return HstsPolicy(raw=raw, max_age=max_age, include_subdomains=include_subdomains, preload=preload)


# --- mixed content and the canonical link ---------------------------------------------------------------------

# (tag, attribute) -> kind, after the W3C Mixed Content spec: "blockable" (active) and "upgradeable" (passive).
_ACTIVE = {
    ("script", "src"),
    ("iframe", "src"),
    ("frame", "src"),
    ("form", "action"),
    ("object", "data"),
    ("embed", "src"),
}
_PASSIVE = {
    ("img", "src"),
    ("img", "srcset"),
    ("audio", "src"),
    ("video", "src"),
    ("video", "poster"),
    ("source", "src"),
    ("source", "srcset"),
    ("track", "src"),
    ("input", "src"),
}
_STYLESHEET_RELS = {"stylesheet"}
_SCHEME = re.compile(r"([A-Za-z][A-Za-z0-9+.-]*):")


class _PageReader:
    """An lxml parser target: collects http:// subresources and the canonical link from start tags; URLs are
    resolved against the page (or its first <base href>)."""

    def __init__(self, page_url: str) -> None:
        self.base = page_url
        self.base_seen = False
        self.items: list[MixedContentItem] = []
        self._seen: set[tuple[str, str]] = set()
        self.canonical: str | None = None

    def start(self, tag: str, attrib: dict[str, str]) -> None:
        tag = tag.lower() if isinstance(tag, str) else ""
        values = {str(name).lower(): value for name, value in attrib.items()}
        if tag == "base" and not self.base_seen and values.get("href"):
            self.base_seen = True
            self.base = self._resolve(values["href"]) or self.base
            return
        if tag == "link":
            rels = {rel.lower() for rel in values.get("rel", "").split()}
            href = values.get("href")
            if href and "canonical" in rels and self.canonical is None:
                self.canonical = self._resolve(href)
            if href and rels & _STYLESHEET_RELS:
                self._add(href, "active", "link rel=stylesheet href")
            return
        for name, value in values.items():
            pair = (tag, name)
            if pair in _ACTIVE:
                self._add(value, "active", f"{tag} {name}")
            elif pair in _PASSIVE:
                if tag == "input" and values.get("type", "").lower() != "image":
                    continue
                for url in _srcset_urls(value) if name == "srcset" else (value,):
                    self._add(url, "passive", f"{tag} {name}")

    def end(self, tag: str) -> None:
        pass

    def data(self, data: str) -> None:
        pass

    def close(self) -> None:
        return None

    def _resolve(self, reference: str) -> str | None:
        try:
            return str(httpx.URL(self.base).join(reference.strip()))
        except (httpx.InvalidURL, ValueError, TypeError):
            return None

    def _add(self, reference: str, kind: str, element: str) -> None:
        if len(self.items) >= MAX_MIXED_ITEMS:
            return
        reference = reference.strip()
        # Cheap test first (a page may hold tens of thousands of references): only an explicit http: scheme,
        # or a relative reference under an http:// <base>, can be mixed content.
        scheme = _SCHEME.match(reference)
        if scheme:
            if scheme.group(1).lower() != "http":
                return
        elif not self.base.lower().startswith("http://"):
            return
        if (reference, element) in self._seen:
            return
        self._seen.add((reference, element))
        url = self._resolve(reference)
        if url is None or not url.lower().startswith("http://"):
            return
        self.items.append(MixedContentItem(url=_cap(url), kind=kind, element=element))


def _srcset_urls(srcset: str) -> list[str]:
    # "a.jpg 1x, http://b/c.jpg 2x": each candidate is a URL then an optional descriptor.
    return [candidate.split()[0] for candidate in srcset.split(",") if candidate.split()]


def _charset(content_type: str) -> str | None:
    match = re.search(r"charset=\"?([A-Za-z0-9._:-]+)", content_type, re.ASCII)
    return match.group(1) if match else None


@dataclass(frozen=True)
class PageFacts:
    mixed_content: tuple[MixedContentItem, ...]
    canonical_url: str | None


def read_page(url: str, body: bytes, content_type: str = "text/html") -> PageFacts:
    """Mixed content and the canonical link of one HTML page (`body` already capped by the caller).

    libxml2's HTML parser (through lxml) reads any tag soup in linear time; the standard library's html.parser
    goes quadratic on some malformed input (a megabyte of "<a" takes minutes), which a hostile page would use.
    """
    reader = _PageReader(url)
    try:
        parser = etree.HTMLParser(target=reader, encoding=_charset(content_type), recover=True, no_network=True)
    except LookupError:  # a charset libxml2 does not know: let it guess from the document
        parser = etree.HTMLParser(target=reader, recover=True, no_network=True)
    try:
        parser.feed(body)
        parser.close()
    except etree.LxmlError:
        pass  # unparsable past some point (or empty): keep what was read
    return PageFacts(mixed_content=tuple(reader.items), canonical_url=_cap(reader.canonical) if reader.canonical else None)


def _is_html(content_type: str) -> bool:
    media = content_type.split(";", 1)[0].strip().lower()
    return media in ("", "text/html", "application/xhtml+xml")


# --- the walks ---------------------------------------------------------------------------------------------------


def _cap(url: str) -> str:
    return url if len(url) <= MAX_STORED_URL else url[:MAX_STORED_URL] + "…"


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


def _describe(exc: outbound.OutboundError, budget: _Budget) -> str:
    if isinstance(exc, outbound.OutboundTimeout) and budget.spent:
        return f"{budget.passed()} (the server was too slow)"
    if isinstance(exc, outbound.BadResponse):
        return f"bad response: {exc}"
    return str(exc)


def _stop(walk: _Walk, url: str, reason: str) -> _Walk:
    walk.error, walk.reason, walk.final_url = f"{_cap(url)}: {reason}", reason, _cap(url)
    return walk


def _walk(start_url: str, policy: _ResolverPolicy, budget: _Budget, *, page_cap: int,
          fetched: dict[str, outbound.Response], outbound_budget: OutboundBudget | None = None) -> _Walk:
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
        try:
            if response is None:
                response = fetched[url] = outbound.request("GET", url, policy=policy, limits=limits, verify=False)
        except outbound.OutboundConnectError as exc:
            if not walk.chain and exc.refused:
                return walk  # "nothing listens on port 80" is itself the finding, not an error
            return _stop(walk, url, _describe(exc, budget))
        except outbound.OutboundError as exc:
            # A protocol failure or timeout after connecting still means something listens there.
            walk.listener = walk.listener or exc.connected
            return _stop(walk, url, _describe(exc, budget))
        walk.listener = True
        walk.first = walk.first or response
        if _scheme(url) == "http" and response.headers.get("strict-transport-security"):
            walk.hsts_over_http = True
        location = response.headers.get("location")
        walk.chain.append(HttpHop(url=_cap(url), status=response.status, location=_cap(location) if location else None))
        walk.final_url = _cap(url)
        if not (300 <= response.status < 400 and location):
            walk.last = response
            return walk
        if len(walk.chain) > budget.settings.max_redirects:
            walk.too_many = True
            return walk
        try:
            target = str(httpx.URL(url).join(location.strip()))
        except (httpx.InvalidURL, ValueError) as exc:
            return _stop(walk, url, f"the redirect target is not a valid URL ({exc})")
        if _scheme(url) == "https" and _scheme(target) == "http":
            walk.downgrade = True
        if _scheme(target) not in ("http", "https"):
            return _stop(walk, url, f"redirects to a non-HTTP URL ({_cap(target)})")
        if len(target) > MAX_STORED_URL:
            return _stop(walk, url, f"the redirect target is {len(target)} characters long; not followed")
        # Each hop the site chooses is a request to a host it picked: it takes one fetch from the scan's
        # outbound budget (a hop already read by the other walk costs nothing).
        if target not in fetched and outbound_budget is not None and not outbound_budget.take(OutboundBudget.REDIRECT):
            return _stop(walk, url, f"the redirect to {_cap(target)} was not followed: the scan's outbound budget "
                                    f"of {outbound_budget.limit} fetches is spent")
        url = target


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
    outbound_budget: OutboundBudget | None = None,
) -> HttpResult:
    """Walk http://host/ and (with_hsts, i.e. TLS answered) https://host/, within settings.http_deadline."""
    policy = _ResolverPolicy(resolver)
    budget = _Budget(settings)
    http_url = f"http://{host}/" if http_port == 80 else f"http://{host}:{http_port}/"
    budget.share(0.5 if with_hsts else 1.0)
    fetched: dict[str, outbound.Response] = {}
    plain = _walk(http_url, policy, budget, page_cap=REDIRECT_BODY_CAP, fetched=fetched,
                  outbound_budget=outbound_budget)
    result = HttpResult(
        http_listener=plain.listener,
        chain=tuple(plain.chain),
        final_url=plain.final_url,
        loop=plain.loop,
        too_many_redirects=plain.too_many,
        error=plain.error,
        hsts_over_http=plain.hsts_over_http,
    )
    if not with_hsts:
        return result

    https_url = _first_https_url(host, https_port)
    budget.share(1.0)
    secure = _walk(https_url, policy, budget, page_cap=PAGE_CAP, fetched=fetched,
                   outbound_budget=outbound_budget)
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
    page_fetched = False
    last = secure.last
    if last is not None and _scheme(last.url) == "https" and 200 <= last.status < 300:
        content_type = last.headers.get("content-type", "")
        encoded = last.headers.get("content-encoding", "identity").strip().lower() not in ("", "identity")
        if _is_html(content_type) and not encoded:
            facts = read_page(last.url, last.body, content_type)
            page_fetched = True

    return HttpResult(
        http_listener=result.http_listener,
        chain=result.chain,
        final_url=result.final_url,
        loop=result.loop,
        too_many_redirects=result.too_many_redirects,
        error=result.error,
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
    )
