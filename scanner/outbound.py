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

import functools
import socket
import ssl
import time
import typing
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from typing import Protocol

import httpcore
import httpx

from .netpolicy import TargetRefused

USER_AGENT = "https-compliance-scanner/1.0"


class AddressPolicy(Protocol):
    """What `request` needs of a policy: NetworkPolicy, or anything answering `resolve` the same way."""

    def resolve(self, host: str) -> str: ...


@dataclass(frozen=True)
class Limits:
    connect_timeout: float = 5.0  # the TCP connect
    deadline: float = 30.0  # the whole request, from the DNS answer to the last body byte
    max_body: int = 1024 * 1024  # bytes kept of the body; the rest is not read
    max_header_bytes: int = 64 * 1024  # the response's header block (h11 itself stops at 100 KiB)
    max_headers: int = 100  # response header lines
    max_url: int = 8 * 1024  # characters of the request URL
    read_timeout: float | None = None  # one socket read or write waiting for the peer (None: up to the deadline)


@dataclass(frozen=True)
class Response:
    url: str
    ip: str  # the address actually connected to
    status: int
    headers: httpx.Headers
    body: bytes
    truncated: bool  # the body was longer than Limits.max_body and was cut there


class OutboundError(Exception):
    """The request could not be made or completed; str(error) is the reason in words.

    `connected` is True when the failure came after the TCP connection was made: something listens there.
    """

    connected: bool = False

    @property
    def reason(self) -> str:
        return str(self)


class OutboundRefused(OutboundError):
    """The network policy (or the URL itself) does not allow this request: retrying cannot help."""


class OutboundConnectError(OutboundError):
    """Nothing could be connected to (refused, unreachable, reset while connecting)."""

    def __init__(self, message: str, *, refused: bool = False) -> None:
        super().__init__(message)
        self.refused = refused  # the peer actively refused the TCP connection: nothing listens there


class OutboundTimeout(OutboundError):
    """The deadline for the whole request, or one socket operation's timeout, passed."""


class OutboundTLSError(OutboundError):
    """The TLS handshake failed (or the certificate was refused when verification is on)."""


class BadResponse(OutboundError):
    """The peer answered something that is not valid HTTP, or closed the connection mid-response."""


class ResponseTooLarge(BadResponse):
    """The response's headers (or, when truncation is not allowed, its body) exceed the limits."""


# --- the pinned, deadline-bound network layer underneath httpx --------------------------------------------------


class _Clock:
    def __init__(self, limits: Limits) -> None:
        self.limits = limits
        self.deadline = time.monotonic() + limits.deadline
        self.connected = False  # the TCP connection was made

    def remaining(self, what: str) -> float:
        left = self.deadline - time.monotonic()
        if left <= 0:
            raise OutboundTimeout(f"gave up {what}: the {self.limits.deadline:g} s deadline for the whole request passed")
        return left

    def wait(self, what: str, timeout: float | None) -> float:
        """How long the next socket operation may block: its own timeout, never past the deadline."""
        left = self.remaining(what)
        return left if timeout is None else min(timeout, left)


class _DeadlineStream(httpcore.NetworkStream):
    def __init__(self, sock: socket.socket, clock: _Clock, where: str) -> None:
        self._sock = sock
        self._clock = clock
        self._where = where

    def _timeout_error(self, what: str) -> OutboundTimeout:
        if self._clock.deadline - time.monotonic() <= 0.01:
            return OutboundTimeout(
                f"gave up {what} {self._where}: the {self._clock.limits.deadline:g} s deadline for the whole request passed"
            )
        return OutboundTimeout(f"timed out {what} {self._where}")

    def _arm(self, what: str, timeout: float | None) -> None:
        self._sock.settimeout(self._clock.wait(what, timeout))

    def read(self, max_bytes: int, timeout: float | None = None) -> bytes:
        self._arm("reading", self._clock.limits.read_timeout)
        try:
            return self._sock.recv(max_bytes)
        except TimeoutError:
            raise self._timeout_error("reading from") from None
        except OSError as exc:
            raise BadResponse(f"the connection to {self._where} broke while reading ({_os_reason(exc)})") from None

    def write(self, buffer: bytes, timeout: float | None = None) -> None:
        view = memoryview(buffer)
        while view:
            self._arm("writing", self._clock.limits.read_timeout)
            try:
                sent = self._sock.send(view)
            except TimeoutError:
                raise self._timeout_error("writing to") from None
            except OSError as exc:
                raise BadResponse(f"the connection to {self._where} broke while writing ({_os_reason(exc)})") from None
            view = view[sent:]

    def close(self) -> None:
        self._sock.close()

    def start_tls(
        self, ssl_context: ssl.SSLContext, server_hostname: str | None = None, timeout: float | None = None
    ) -> httpcore.NetworkStream:
        # One do_handshake call waits at most its socket timeout in total, so the deadline holds here too.
        self._arm("the TLS handshake", None)
        try:
            tls = ssl_context.wrap_socket(self._sock, server_hostname=server_hostname)
        except TimeoutError:
            self._sock.close()
            raise self._timeout_error("during the TLS handshake with") from None
        except ssl.SSLError as exc:
            self._sock.close()
            raise OutboundTLSError(f"the TLS handshake with {self._where} failed ({_ssl_reason(exc)})") from None
        except OSError as exc:
            self._sock.close()
            raise OutboundTLSError(
                f"the connection to {self._where} broke during the TLS handshake ({_os_reason(exc)})"
            ) from None
        return _DeadlineStream(tls, self._clock, self._where)

    def get_extra_info(self, info: str) -> typing.Any:
        if info == "ssl_object" and isinstance(self._sock, ssl.SSLSocket):
            return self._sock
        if info == "client_addr":
            return self._sock.getsockname()
        if info == "server_addr":
            return self._sock.getpeername()
        if info == "socket":
            return self._sock
        if info == "is_readable":
            return False  # one request per connection: never reused
        return None


class _PinnedBackend(httpcore.NetworkBackend):
    """Connects the one host name of this request to the one address the policy approved, nothing else."""

    def __init__(self, host: str, ip: str, clock: _Clock) -> None:
        self._host = host
        self._ip = ip
        self._clock = clock

    def connect_tcp(
        self,
        host: str,
        port: int,
        timeout: float | None = None,
        local_address: str | None = None,
        socket_options: Iterable[typing.Any] | None = None,
    ) -> httpcore.NetworkStream:
        if host.lower() != self._host:
            raise OutboundRefused(f"refusing to connect to {host}: this request was resolved for {self._host}")
        where = f"{self._host} ({_bracket(self._ip)}:{port})"
        wait = self._clock.wait("connecting", self._clock.limits.connect_timeout)
        try:
            sock = socket.create_connection((self._ip, port), timeout=wait)
        except TimeoutError:
            raise OutboundTimeout(f"timed out connecting to {where}") from None
        except ConnectionRefusedError:
            raise OutboundConnectError(f"connection refused by {where}", refused=True) from None
        except OSError as exc:
            raise OutboundConnectError(f"could not connect to {where} ({_os_reason(exc)})") from None
        sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        self._clock.connected = True
        return _DeadlineStream(sock, self._clock, where)

    def sleep(self, seconds: float) -> None:
        time.sleep(min(seconds, self._clock.remaining("waiting")))


class _CoreStream(httpx.SyncByteStream):
    def __init__(self, response: httpcore.Response) -> None:
        self._response = response

    def __iter__(self) -> Iterator[bytes]:
        with _mapped():
            yield from self._response.iter_stream()

    def close(self) -> None:
        self._response.close()


class _PinnedTransport(httpx.BaseTransport):
    """httpx on an httpcore pool whose network backend is pinned to one address and bound by one deadline."""

    def __init__(self, host: str, ip: str, clock: _Clock, ssl_context: ssl.SSLContext) -> None:
        self._pool = httpcore.ConnectionPool(
            ssl_context=ssl_context,
            max_connections=1,
            http1=True,
            http2=False,
            retries=0,
            network_backend=_PinnedBackend(host, ip, clock),
        )

    def handle_request(self, request: httpx.Request) -> httpx.Response:
        core_request = httpcore.Request(
            method=request.method,
            url=httpcore.URL(
                scheme=request.url.raw_scheme,
                host=request.url.raw_host,
                port=request.url.port,
                target=request.url.raw_path,
            ),
            headers=request.headers.raw,
            content=request.stream,
            extensions=request.extensions,
        )
        with _mapped():
            core_response = self._pool.handle_request(core_request)
        return httpx.Response(
            status_code=core_response.status,
            headers=core_response.headers,
            stream=_CoreStream(core_response),
            extensions=core_response.extensions,
        )

    def close(self) -> None:
        self._pool.close()


class _mapped:
    """httpcore's own exceptions (parse errors, early close) in our words; ours pass through."""

    def __enter__(self) -> None:
        return None

    def __exit__(self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: object) -> bool:
        if exc is None or isinstance(exc, OutboundError):
            return False
        if isinstance(exc, httpcore.TimeoutException):
            raise OutboundTimeout(f"timed out ({exc})") from None
        if isinstance(exc, httpcore.RemoteProtocolError) and "buffer too long" in str(exc).lower():
            # h11 stops buffering a response head at 100 KiB, whatever Limits.max_header_bytes says.
            raise ResponseTooLarge("the response's headers are larger than 100 KiB") from None
        if isinstance(exc, httpcore.RemoteProtocolError):
            raise BadResponse(f"not a valid HTTP response ({exc or 'connection closed early'})") from None
        if isinstance(exc, httpcore.ProtocolError):
            raise BadResponse(f"HTTP protocol error ({exc})") from None
        if isinstance(exc, httpcore.NetworkError):
            raise BadResponse(f"network error ({exc})") from None
        return False


# --- the public function -----------------------------------------------------------------------------------------


@functools.cache
def insecure_tls_context() -> ssl.SSLContext:
    """For the HTTP probe: certificate problems are the TLS probe's job; here we want the HTTP answers of any
    server a browser might still reach, old protocols included. One per process: an SSLContext is safe to
    share between threads, and building one costs more than the handshake's own Python work."""
    context = ssl.SSLContext(ssl.PROTOCOL_TLS_CLIENT)
    context.check_hostname = False
    context.verify_mode = ssl.CERT_NONE
    context.minimum_version = ssl.TLSVersion.MINIMUM_SUPPORTED
    context.set_ciphers("ALL:@SECLEVEL=0")
    return context


def request(
    method: str,
    url: str,
    *,
    policy: AddressPolicy,
    limits: Limits = Limits(),  # frozen: a shared default is safe
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
                        url=url, ip=ip, status=response.status_code, headers=response.headers, body=body, truncated=truncated
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
        raise ResponseTooLarge(f"{url[:200]} answered with {len(raw)} header lines, more than the {limits.max_headers} allowed")
    size = sum(len(name) + len(value) + 4 for name, value in raw)
    if size > limits.max_header_bytes:
        raise ResponseTooLarge(
            f"{url[:200]} answered with {size} bytes of headers, more than the {limits.max_header_bytes} allowed"
        )


def _read_body(response: httpx.Response, limits: Limits, clock: _Clock, allow_truncated: bool, url: str) -> tuple[bytes, bool]:
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


def _bracket(ip: str) -> str:
    return f"[{ip}]" if ":" in ip else ip


def _os_reason(exc: OSError) -> str:
    return exc.strerror or str(exc) or type(exc).__name__


def _ssl_reason(exc: ssl.SSLError) -> str:
    if isinstance(exc, ssl.SSLCertVerificationError) and exc.verify_message:
        # OpenSSL's own words for a refused certificate ("certificate has expired"), not just the reason code.
        return f"{exc.reason}: {exc.verify_message}"
    return exc.reason or exc.strerror or str(exc)
