"""The connection under scanner/outbound.py: httpx on a pinned, deadline-bound socket, and the errors every
outbound request can end with (each message says, in words, what was tried and what happened)."""

from __future__ import annotations

import socket
import ssl
import time
import typing
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from typing import Protocol

import httpcore
import httpx

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
            raise OutboundTimeout(
                f"gave up {what}: the {self.limits.deadline:g} s deadline for the whole request passed"
            )
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


def _bracket(ip: str) -> str:
    return f"[{ip}]" if ":" in ip else ip


def _os_reason(exc: OSError) -> str:
    return exc.strerror or str(exc) or type(exc).__name__


def _ssl_reason(exc: ssl.SSLError) -> str:
    if isinstance(exc, ssl.SSLCertVerificationError) and exc.verify_message:
        # OpenSSL's own words for a refused certificate ("certificate has expired"), not just the reason code.
        return f"{exc.reason}: {exc.verify_message}"
    return exc.reason or exc.strerror or str(exc)
