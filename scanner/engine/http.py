"""HTTP probing: follow http:// redirects hop by hop, and read the HSTS policy over https://.

Every request goes to the address the network policy approved (pinned like
curl's --resolve), with the real Host header and SNI, so what is checked is
exactly what a browser would see for that name.
"""

from __future__ import annotations

import ssl
from collections.abc import Callable
from urllib.parse import urljoin, urlsplit

import httpx

from .results import HstsPolicy, HttpHop, HttpResult, ScanSettings

Resolver = Callable[[str], str]  # hostname -> approved IP; raises to refuse


def _insecure_context() -> ssl.SSLContext:
    # Certificate problems are the TLS probe's job; here we only want the HTTP answers.
    context = ssl.SSLContext(ssl.PROTOCOL_TLS_CLIENT)
    context.check_hostname = False
    context.verify_mode = ssl.CERT_NONE
    context.minimum_version = ssl.TLSVersion.MINIMUM_SUPPORTED
    context.set_ciphers("ALL:@SECLEVEL=0")
    return context


def _default_port(scheme: str) -> int:
    return 443 if scheme == "https" else 80


class PinnedClient:
    def __init__(self, resolver: Resolver, settings: ScanSettings) -> None:
        self.resolver = resolver
        self.client = httpx.Client(
            verify=_insecure_context(),
            timeout=httpx.Timeout(settings.http_timeout, connect=settings.connect_timeout),
            follow_redirects=False,
            trust_env=False,
        )

    def close(self) -> None:
        self.client.close()

    def get(self, url: str) -> httpx.Response:
        parts = urlsplit(url)
        host = parts.hostname or ""
        ip = self.resolver(host)
        port = parts.port or _default_port(parts.scheme)
        path = parts.path or "/"
        if parts.query:
            path += "?" + parts.query
        host_header = host if port == _default_port(parts.scheme) else f"{host}:{port}"
        request = self.client.build_request(
            "GET",
            f"{parts.scheme}://{ip}:{port}{path}",
            headers={"Host": host_header, "User-Agent": "https-compliance-scanner/1.0"},
            extensions={"sni_hostname": host} if parts.scheme == "https" else {},
        )
        return self.client.send(request)


def parse_hsts(raw: str) -> HstsPolicy:
    """RFC 6797 directives; an unparsable or duplicated max-age makes the policy invalid."""
    max_age: int | None = None
    seen_max_age = 0
    include_subdomains = preload = False
    for directive in raw.split(";"):
        name, _, value = directive.strip().partition("=")
        name = name.strip().lower()
        value = value.strip().strip('"')
        if name == "max-age":
            seen_max_age += 1
            max_age = int(value) if value.isdigit() else None
        elif name == "includesubdomains":
            include_subdomains = True
        elif name == "preload":
            preload = True
    if seen_max_age != 1:
        max_age = None
    return HstsPolicy(raw=raw, max_age=max_age, include_subdomains=include_subdomains, preload=preload)


def _describe(exc: Exception) -> str:
    if isinstance(exc, httpx.TimeoutException):
        return "timed out"
    if isinstance(exc, httpx.ConnectError):
        return f"connection failed ({exc})" if str(exc) else "connection failed"
    return f"{type(exc).__name__}: {exc}"


def follow_http_redirects(client: PinnedClient, start_url: str, max_redirects: int) -> HttpResult:
    chain: list[HttpHop] = []
    seen: set[str] = set()
    url = start_url
    while True:
        if url in seen:
            return HttpResult(http_listener=True, chain=tuple(chain), final_url=url, loop=True)
        seen.add(url)
        try:
            response = client.get(url)
        except httpx.ConnectError as exc:
            if not chain and "refused" in str(exc).lower():
                # Not an error: "nothing on port 80" is itself the finding.
                return HttpResult(http_listener=False)
            return HttpResult(http_listener=bool(chain), chain=tuple(chain), final_url=url, error=f"{url}: {_describe(exc)}")
        except Exception as exc:  # noqa: BLE001 - any failure is a finding, not a crash
            return HttpResult(http_listener=bool(chain), chain=tuple(chain), final_url=url, error=f"{url}: {_describe(exc)}")
        location = response.headers.get("location")
        chain.append(HttpHop(url=url, status=response.status_code, location=location))
        if not (300 <= response.status_code < 400 and location):
            return HttpResult(http_listener=True, chain=tuple(chain), final_url=url)
        if len(chain) > max_redirects:
            return HttpResult(http_listener=True, chain=tuple(chain), final_url=url, too_many_redirects=True)
        url = urljoin(url, location)


def fetch_hsts(client: PinnedClient, https_url: str) -> tuple[HstsPolicy | None, str | None]:
    try:
        response = client.get(https_url)
    except Exception as exc:  # noqa: BLE001
        return None, f"could not fetch {https_url}: {_describe(exc)}"
    values = response.headers.get_list("strict-transport-security")
    if not values:
        return None, None
    # Browsers honour only the first header (RFC 6797 section 8.1).
    return parse_hsts(values[0]), None


def probe_http(
    host: str, https_port: int, http_port: int, resolver: Resolver, settings: ScanSettings, *, with_hsts: bool = True
) -> HttpResult:
    client = PinnedClient(resolver, settings)
    try:
        http_url = f"http://{host}/" if http_port == 80 else f"http://{host}:{http_port}/"
        https_url = f"https://{host}/" if https_port == 443 else f"https://{host}:{https_port}/"
        walk = follow_http_redirects(client, http_url, settings.max_redirects)
        hsts, hsts_error = fetch_hsts(client, https_url) if with_hsts else (None, None)
    finally:
        client.close()
    return HttpResult(
        http_listener=walk.http_listener,
        chain=walk.chain,
        final_url=walk.final_url,
        loop=walk.loop,
        too_many_redirects=walk.too_many_redirects,
        error=walk.error,
        hsts=hsts,
        hsts_error=hsts_error,
    )
