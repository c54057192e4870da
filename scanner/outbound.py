"""The one outbound HTTP client for everything the service fetches (webhooks, AIA downloads, the HTTP probe).

Safe by construction rather than by a check beforehand:

- the URL's host is resolved once, through the network policy, and the socket connects to *that* address
  (the host name still gives the Host header and SNI); a second DNS answer can never be connected to;
- the whole request (connect, TLS handshake, headers, body) has one deadline: every socket operation waits at
  most until it, so a server dripping one byte per second cannot stretch it;
- the body is streamed with a byte cap, headers are capped in bytes and in number, URLs in length;
- redirects are never followed here: the caller decides (and each hop goes through this function again).

Usage::

    response = request("GET", "https://example.com/", policy=policy, limits=Limits(deadline=10, max_body=65536))

Everything that goes wrong raises an OutboundError whose message says, in words, what was tried and what
happened.
"""

from __future__ import annotations

import ssl

import httpx

from .insecure_tls import insecure_tls_context
from .netpolicy import TargetRefused
from .outbound_connection import (  # noqa: F401 - the client's public types and errors, re-exported
    USER_AGENT,
    AddressPolicy,
    BadResponse,
    Limits,
    OutboundConnectError,
    OutboundError,
    OutboundRefused,
    OutboundTimeout,
    OutboundTLSError,
    Response,
    ResponseTooLarge,
    _Clock,
    _mapped,
    _PinnedTransport,
)

DEFAULT_LIMITS = Limits()  # frozen: one shared default is safe


# --- the public function -----------------------------------------------------------------------------------------


def request(
    method: str,
    url: str,
    *,
    policy: AddressPolicy,
    limits: Limits = DEFAULT_LIMITS,
    headers: dict[str, str] | None = None,
    content: bytes | None = None,
    verify: bool | ssl.SSLContext = True,
    allow_truncated: bool = True,
) -> Response:
    """Make one HTTP request to `url` at the address `policy.resolve` approves for its host; never follows redirects.

    The body is read up to `limits.max_body` bytes; past that it is cut (`truncated=True`), or, with
    `allow_truncated=False`, the request fails with ResponseTooLarge. Raises OutboundError (a subclass) with
    the reason in words.
    """
    clock = _Clock(limits)
    if len(url) > limits.max_url:
        raise OutboundRefused(f"the URL is {len(url)} characters long, more than the {limits.max_url} allowed")
    try:
        parsed = httpx.URL(url)
    except (httpx.InvalidURL, ValueError) as exc:
        raise OutboundRefused(f"{url[:200]} is not a valid URL ({exc})") from None
    if parsed.scheme not in ("http", "https") or not parsed.host:
        raise OutboundRefused(f"{url[:200]} is not an http:// or https:// URL with a host")
    # The ASCII (IDNA) form: what DNS, pins and httpcore's connect all see; a trailing dot is not part of the name.
    host = parsed.raw_host.decode("ascii").lower()
    try:
        ip = policy.resolve(host.rstrip("."))
    except TargetRefused as exc:
        raise OutboundRefused(str(exc)) from None
    except (ValueError, UnicodeError) as exc:
        raise OutboundRefused(f"{host} cannot be resolved: {exc}") from None

    if isinstance(verify, ssl.SSLContext):
        context = verify
    elif verify:
        context = ssl.create_default_context()
    else:
        context = insecure_tls_context()
    request_headers = {"User-Agent": USER_AGENT, "Accept-Encoding": "identity", "Connection": "close"}
    request_headers.update(headers or {})

    transport = _PinnedTransport(host, ip, clock, context)
    try:
        with httpx.Client(transport=transport, follow_redirects=False, trust_env=False, timeout=None) as client:
            try:
                # Sent through the transport, not client.send(): the client parses a redirect's Location to build
                # the next request even when it is not following it, and a `javascript:` or `data:` Location made
                # that raise InvalidURL. Whether and where to go next is the caller's business.
                outgoing = client.build_request(method, parsed, headers=request_headers, content=content)
                response = transport.handle_request(outgoing)
                response.request = outgoing
                try:
                    _check_headers(response, limits, url)
                    body, truncated = _read_body(response, limits, clock, allow_truncated, url)
                    return Response(
                        url=url,
                        ip=ip,
                        status=response.status_code,
                        headers=response.headers,
                        body=body,
                        truncated=truncated,
                    )
                finally:
                    response.close()
            except httpx.HTTPError as exc:  # anything httpx itself raises (decoding, stream state...)
                raise BadResponse(f"{url[:200]}: {type(exc).__name__}: {exc}") from None
    except OutboundError as exc:
        exc.connected = clock.connected
        raise
    finally:
        transport.close()


def _check_headers(response: httpx.Response, limits: Limits, url: str) -> None:
    raw = response.headers.raw
    if len(raw) > limits.max_headers:
        raise ResponseTooLarge(
            f"{url[:200]} answered with {len(raw)} header lines, more than the {limits.max_headers} allowed"
        )
    size = sum(len(name) + len(value) + 4 for name, value in raw)
    if size > limits.max_header_bytes:
        raise ResponseTooLarge(
            f"{url[:200]} answered with {size} bytes of headers, more than the {limits.max_header_bytes} allowed"
        )


def _read_body(
    response: httpx.Response, limits: Limits, clock: _Clock, allow_truncated: bool, url: str
) -> tuple[bytes, bool]:
    chunks: list[bytes] = []
    kept = 0
    for chunk in response.iter_raw(chunk_size=64 * 1024):
        clock.remaining("reading the body")
        room = limits.max_body - kept
        if len(chunk) > room:
            if not allow_truncated:
                raise ResponseTooLarge(f"{url[:200]} sent a body larger than the {limits.max_body} bytes allowed")
            chunks.append(chunk[:room])
            # Stop here: the rest is never read, the connection is closed with the response.
            return b"".join(chunks), True
        chunks.append(chunk)
        kept += len(chunk)
    return b"".join(chunks), False
