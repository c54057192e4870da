"""Minimal threaded HTTP, HTTPS and tarpit servers for the lab.

Scanners open many short, often deliberately broken connections (cipher
enumeration, Heartbleed/ROBOT probes, handshake-only checks), so every
connection gets its own daemon thread, errors on a single connection are
swallowed silently, and nothing a client does can stall the accept loop.
"""

from __future__ import annotations

import http
import logging
import selectors
import socket
import ssl
import threading
import time
from collections import Counter
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import ClassVar, Self
from urllib.parse import urlsplit

logger = logging.getLogger(__name__)

#: Route-table key used when no exact path matches.
ANY_PATH = "*"

CONNECTION_TIMEOUT = 10.0
_MAX_REQUEST_HEAD = 64 * 1024
_LISTEN_BACKLOG = 1024


@dataclass(frozen=True)
class Response:
    """A canned HTTP response; `Connection: close` and `Content-Length` are always added."""

    status: int
    headers: tuple[tuple[str, str], ...] = ()
    body: bytes = b""

    def header(self, name: str) -> str | None:
        for key, value in self.headers:
            if key.lower() == name.lower():
                return value
        return None


RouteTable = Mapping[str, Response]

_NOT_FOUND = Response(404, (("Content-Type", "text/plain; charset=utf-8"),), b"not found\n")
_BAD_REQUEST = Response(400, (("Content-Type", "text/plain; charset=utf-8"),), b"bad request\n")


def bind_listener(ip: str, port: int) -> socket.socket:
    """Bind and listen; port 0 lets the OS pick a free port."""
    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    try:
        # Lets a restarted lab rebind while old connections sit in TIME_WAIT.
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        sock.bind((ip, port))
        sock.listen(_LISTEN_BACKLOG)
    except BaseException:
        sock.close()
        raise
    return sock


def _force_shutdown(sock: socket.socket) -> None:
    # A plain close() does not wake a thread blocked in recv() on Linux;
    # shutdown() does. The base-class method is called directly because
    # SSLSocket.shutdown() drops its SSL object under the reading thread.
    try:
        socket.socket.shutdown(sock, socket.SHUT_RDWR)
    except OSError:
        pass


class _Server:
    """A listening socket, its accept loop, and bookkeeping of live connections."""

    kind = "server"

    def __init__(self, ip: str, port: int) -> None:
        self._listener = bind_listener(ip, port)
        self.ip, self.port = self._listener.getsockname()[:2]
        self._stopping = threading.Event()
        # A socketpair lets stop() wake the selector immediately instead of polling.
        self._wake_r, self._wake_w = socket.socketpair()
        self._accept_thread: threading.Thread | None = None
        self._lock = threading.Lock()
        self._connections: set[socket.socket] = set()
        self._threads: set[threading.Thread] = set()

    def __repr__(self) -> str:
        return f"<{type(self).__name__} {self.ip}:{self.port}>"

    def start(self) -> None:
        if self._accept_thread is not None:
            raise RuntimeError(f"{self!r} already started")
        self._accept_thread = threading.Thread(
            target=self._accept_loop, name=f"lab-{self.kind}-{self.ip}:{self.port}", daemon=True
        )
        self._accept_thread.start()

    def stop(self, timeout: float = 5.0) -> None:
        """Close the listener and every open connection, then join all threads."""
        deadline = time.monotonic() + timeout
        self._stopping.set()
        try:
            self._wake_w.send(b"x")
        except OSError:
            pass
        if self._accept_thread is not None:
            self._accept_thread.join(max(0.0, deadline - time.monotonic()))
        self._listener.close()
        self._wake_r.close()
        self._wake_w.close()

        with self._lock:
            connections = list(self._connections)
            threads = list(self._threads)
        for conn in connections:
            _force_shutdown(conn)
            conn.close()
        for thread in threads:
            thread.join(max(0.0, deadline - time.monotonic()))
        with self._lock:
            self._connections.clear()

    def _accept_loop(self) -> None:
        with selectors.DefaultSelector() as selector:
            selector.register(self._listener, selectors.EVENT_READ)
            selector.register(self._wake_r, selectors.EVENT_READ)
            while not self._stopping.is_set():
                for key, _ in selector.select():
                    if key.fileobj is self._wake_r or self._stopping.is_set():
                        return
                    try:
                        conn, _peer = self._listener.accept()
                    except OSError:
                        continue
                    conn.settimeout(CONNECTION_TIMEOUT)
                    self._on_accept(conn)

    def _track(self, conn: socket.socket) -> bool:
        with self._lock:
            if self._stopping.is_set():
                return False
            self._connections.add(conn)
            return True

    def _untrack(self, conn: socket.socket) -> None:
        with self._lock:
            self._connections.discard(conn)

    def _over_tls(self, conn: socket.socket, context: ssl.SSLContext, serve) -> None:
        """Handshake on `conn` in this (connection) thread, then `serve` the TLS socket."""
        tls = context.wrap_socket(conn, server_side=True, do_handshake_on_connect=False)
        # wrap_socket() detached `conn`; track the TLS socket so stop() can still reach it.
        self._untrack(conn)
        if not self._track(tls):
            tls.close()
            return
        try:
            tls.do_handshake()
            serve(tls)
        finally:
            self._untrack(tls)
            tls.close()

    def _on_accept(self, conn: socket.socket) -> None:
        if not self._track(conn):
            conn.close()
            return
        thread = threading.Thread(target=self._run_connection, args=(conn,), daemon=True)
        with self._lock:
            self._threads.add(thread)
        thread.start()

    def _run_connection(self, conn: socket.socket) -> None:
        try:
            self._handle(conn)
        except (OSError, ValueError):
            # Aborted handshakes, resets and timeouts are the normal life of a
            # server under a scanner; they are not worth a traceback.
            pass
        except Exception:
            logger.debug("lab connection handler failed", exc_info=True)
        finally:
            self._untrack(conn)
            conn.close()
            with self._lock:
                self._threads.discard(threading.current_thread())

    def _handle(self, conn: socket.socket) -> None:
        raise NotImplementedError


class TarpitServer(_Server):
    """Accepts TCP connections and then never reads nor writes until stop()."""

    kind = "tarpit"

    def _on_accept(self, conn: socket.socket) -> None:
        # No thread needed: the socket just sits in the set until stop() closes it.
        if not self._track(conn):
            conn.close()


class HttpServer(_Server):
    """Plain HTTP/1.1: one request per connection, answered from a route table."""

    kind = "http"

    def __init__(self, ip: str, port: int, routes: RouteTable) -> None:
        super().__init__(ip, port)
        self.routes = dict(routes)
        self.hits: Counter[str] = Counter()  # requests per path, so a test can count downloads (CRLs, AIA)
        self._hits_lock = threading.Lock()

    def _handle(self, conn: socket.socket) -> None:
        self._serve_one_request(conn)

    def _serve_one_request(self, conn: socket.socket) -> None:
        head = _read_request_head(conn)
        if head is None:
            return
        method, path = _parse_request_line(head)
        with self._hits_lock:
            self.hits[path] += 1
        if method is None:
            response = _BAD_REQUEST
        else:
            response = self.routes.get(path) or self.routes.get(ANY_PATH) or _NOT_FOUND
        conn.sendall(_render(response, include_body=method != "HEAD"))


class HttpsServer(HttpServer):
    """HTTP over TLS; the handshake runs in the connection thread, never in the accept loop.

    `fallback_alert`: a TLS alert description this server answers (fatal, before any handshake) to a
    ClientHello carrying TLS_FALLBACK_SCSV, as a filtering front end might; every other ClientHello is served.
    """

    kind = "https"

    def __init__(
        self, ip: str, port: int, context: ssl.SSLContext, routes: RouteTable, *, fallback_alert: int | None = None
    ) -> None:
        super().__init__(ip, port, routes)
        self.context = context
        self.fallback_alert = fallback_alert

    def _handle(self, conn: socket.socket) -> None:
        if self.fallback_alert is not None:
            conn.settimeout(CONNECTION_TIMEOUT)
            hello = _peek_client_hello(conn)
            if hello is not None and _FALLBACK_SCSV in _offered_suites(hello):
                # A fatal alert (RFC 5246 §7.2) in a record of the version the client asked for, which is what
                # its TLS stack expects to read (an older record version is "wrong version number" to OpenSSL).
                client_version = hello[9:11]
                conn.sendall(bytes([_ALERT_RECORD]) + client_version + b"\x00\x02\x02" + bytes([self.fallback_alert]))
                return
        self._over_tls(conn, self.context, self._serve_one_request)


_ALERT_RECORD = 21
_FALLBACK_SCSV = b"\x56\x00"  # RFC 7507


def _peek_client_hello(conn: socket.socket) -> bytes | None:
    """The client's first TLS record, left unread on the socket for the TLS server (None if it never comes)."""
    while True:
        seen = conn.recv(_MAX_REQUEST_HEAD, socket.MSG_PEEK)
        if len(seen) >= 5 and len(seen) >= 5 + int.from_bytes(seen[3:5], "big"):
            return seen
        if not seen:
            return None
        time.sleep(0.01)  # MSG_PEEK returns at once while the bytes are there: wait for the rest


def _offered_suites(hello: bytes) -> list[bytes]:
    """The cipher suites of a ClientHello record (one record, as every client of the lab sends it)."""
    # record header (5), handshake header (4), version (2), random (32), then the session id (1 + n)
    at = 5 + 4 + 2 + 32
    at += 1 + hello[at]
    length = int.from_bytes(hello[at : at + 2], "big")
    suites = hello[at + 2 : at + 2 + length]
    return [suites[i : i + 2] for i in range(0, len(suites), 2)]


def _read_request_head(conn: socket.socket) -> bytes | None:
    buffer = b""
    while b"\r\n\r\n" not in buffer:
        if len(buffer) > _MAX_REQUEST_HEAD:
            return None
        chunk = conn.recv(4096)
        if not chunk:
            # Handshake-only probes land here; a partial head is not worth answering.
            return None
        buffer += chunk
    return buffer.split(b"\r\n\r\n", 1)[0]


def _parse_request_line(head: bytes) -> tuple[str | None, str]:
    request_line = head.split(b"\r\n", 1)[0].decode("latin-1")
    parts = request_line.split(" ")
    if len(parts) != 3 or not parts[2].startswith("HTTP/"):
        return None, ""
    method, target = parts[0].upper(), parts[1]
    # Absolute-form targets (proxies) and query strings are reduced to the path.
    return method, urlsplit(target).path or "/"


def _render(response: Response, *, include_body: bool) -> bytes:
    try:
        reason = http.HTTPStatus(response.status).phrase
    except ValueError:
        reason = "Unknown"
    lines = [f"HTTP/1.1 {response.status} {reason}", "Server: https-scanner-lab"]
    if response.header("Content-Type") is None:
        lines.append("Content-Type: text/html; charset=utf-8")
    lines.extend(f"{name}: {value}" for name, value in response.headers)
    lines.append(f"Content-Length: {len(response.body)}")
    lines.append("Connection: close")
    head = ("\r\n".join(lines) + "\r\n\r\n").encode("latin-1")
    return head + (response.body if include_body else b"")


@dataclass
class ServerGroup:
    """Starts and stops a set of servers together."""

    servers: list[_Server] = field(default_factory=list)

    def add(self, server: _Server) -> _Server:
        self.servers.append(server)
        return server

    def start(self) -> None:
        for server in self.servers:
            server.start()

    def stop(self, timeout: float = 5.0) -> None:
        # Stop everything in parallel so the total time stays ~one server's worth.
        threads = [threading.Thread(target=server.stop, args=(timeout,), daemon=True) for server in self.servers]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join(timeout + 1.0)
        self.servers.clear()


# --- Hostile HTTP servers (the `http` helper's block; reused by the fault suite) -------------------------------


class HostileHttpServer(_Server):
    """An HTTP(S) server that misbehaves in one chosen way, for testing bounded clients.

    Start one on its own::

        with HostileHttpServer("drip") as server:       # 127.0.0.1, a free port
            fetch(server.url)                           # http://127.0.0.1:PORT/

    `behaviour` is one of:

    - ``"drip"``: a valid head announcing `size` bytes, then the body one byte every `interval` seconds;
    - ``"drip_head"``: the status line and headers themselves one byte every `interval` seconds;
    - ``"endless"``: a 200 with no length, then body bytes for as long as the client reads;
    - ``"huge"``: a 200 with ``Content-Length: size`` (default 1 GiB) and that many bytes, streamed from one
      reused buffer (the server never holds the body in memory);
    - ``"long_location"``: a 302 whose Location is `size` bytes long (default 60 KB);
    - ``"many_headers"``: a 200 with `size` header lines (default 10,000);
    - ``"garbage"``: something that is not HTTP at all (an SSH banner), then close.

    `tls` (a server-side SSLContext) serves it over HTTPS instead. `bytes_sent` counts body bytes written, so a
    test can show the client stopped reading; `connections` counts accepted connections.
    """

    kind = "hostile"
    BEHAVIOURS = ("drip", "drip_head", "endless", "huge", "long_location", "many_headers", "garbage")
    _DEFAULT_SIZE: ClassVar[dict[str, int]] = {
        "drip": 1_000_000,
        "drip_head": 0,
        "endless": 0,
        "huge": 1 << 30,
        "long_location": 60_000,
        "many_headers": 10_000,
        "garbage": 0,
    }

    def __init__(
        self,
        behaviour: str,
        ip: str = "127.0.0.1",
        port: int = 0,
        *,
        tls: ssl.SSLContext | None = None,
        interval: float = 1.0,
        size: int | None = None,
    ) -> None:
        if behaviour not in self.BEHAVIOURS:
            raise ValueError(f"unknown behaviour {behaviour!r}; one of {', '.join(self.BEHAVIOURS)}")
        super().__init__(ip, port)
        self.behaviour = behaviour
        self.tls = tls
        self.interval = interval
        self.size = self._DEFAULT_SIZE[behaviour] if size is None else size
        self.bytes_sent = 0
        self.connections = 0

    @property
    def url(self) -> str:
        return f"{'https' if self.tls else 'http'}://{self.ip}:{self.port}/"

    def __enter__(self) -> Self:
        self.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.stop()

    def _handle(self, conn: socket.socket) -> None:
        with self._lock:
            self.connections += 1
        if self.tls is not None:
            self._over_tls(conn, self.tls, self._misbehave)
        else:
            self._misbehave(conn)

    def _send_body(self, conn: socket.socket, data: bytes | memoryview) -> None:
        conn.sendall(data)
        with self._lock:
            self.bytes_sent += len(data)

    def _misbehave(self, conn: socket.socket) -> None:
        if _read_request_head(conn) is None:
            return
        conn.settimeout(max(CONNECTION_TIMEOUT, self.interval * 3))
        head = "HTTP/1.1 200 OK\r\nContent-Type: text/html\r\nConnection: close\r\n"
        if self.behaviour == "drip":
            conn.sendall(f"{head}Content-Length: {self.size}\r\n\r\n".encode())
            for _ in range(self.size):
                if self._stopping.wait(self.interval):
                    return
                self._send_body(conn, b"x")
        elif self.behaviour == "drip_head":
            for byte in f"{head}Content-Length: 0\r\n\r\n".encode():
                if self._stopping.wait(self.interval):
                    return
                conn.sendall(bytes([byte]))
        elif self.behaviour == "endless":
            conn.sendall(head.encode() + b"\r\n")
            block = b"<p>endless</p>\n" * 4096
            while not self._stopping.is_set():
                self._send_body(conn, block)
        elif self.behaviour == "huge":
            conn.sendall(f"{head}Content-Length: {self.size}\r\n\r\n".encode())
            block = memoryview(bytes(64 * 1024))
            left = self.size
            while left > 0 and not self._stopping.is_set():
                piece = block[: min(left, len(block))]
                self._send_body(conn, piece)
                left -= len(piece)
        elif self.behaviour == "long_location":
            target = "https://" + "a" * 50 + ".example/" + "p" * max(0, self.size - 68)
            conn.sendall(
                f"HTTP/1.1 302 Found\r\nLocation: {target}\r\nContent-Length: 0\r\nConnection: close\r\n\r\n".encode()
            )
        elif self.behaviour == "many_headers":
            lines = "".join(f"X-Filler-{i}: {i}\r\n" for i in range(self.size))
            conn.sendall(f"{head}{lines}Content-Length: 2\r\n\r\nok".encode())
        elif self.behaviour == "garbage":
            conn.sendall(b"SSH-2.0-OpenSSH_9.6\r\n")
