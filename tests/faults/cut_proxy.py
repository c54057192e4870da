"""A TCP proxy that can be cut: every open connection reset and new ones refused for a while, as a database
restart or a network partition does to its clients. Put in front of PostgreSQL by the database fault tests.

    with CuttableProxy("127.0.0.1", 5432) as proxy:
        ... clients connect to 127.0.0.1:proxy.port ...
        proxy.cut(2.0)  # returns once the connections are reset; accepts again 2 s later
"""

from __future__ import annotations

import contextlib
import socket
import struct
import threading
import time
from typing import Self


class CuttableProxy:
    def __init__(self, target_host: str, target_port: int) -> None:
        self.target = (target_host, target_port)
        self.port = 0
        self._listener: socket.socket | None = None
        self._lock = threading.Lock()
        self._open: set[socket.socket] = set()
        self._stopped = threading.Event()
        self.cuts = 0

    def __enter__(self) -> Self:
        self._listen()
        return self

    def __exit__(self, *exc_info) -> None:
        self._stopped.set()
        self._close_listener()
        self._reset_all()

    def cut(self, seconds: float) -> None:
        """Reset every connection and refuse new ones (the port is closed) for `seconds`, in the background."""
        self.cuts += 1
        self._close_listener()
        self._reset_all()

        def reopen() -> None:
            time.sleep(seconds)
            if not self._stopped.is_set():
                self._listen()

        threading.Thread(target=reopen, name="proxy-reopen", daemon=True).start()

    def _listen(self) -> None:
        listener = socket.socket()
        listener.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        listener.bind(("127.0.0.1", self.port))
        listener.listen(256)
        self.port = listener.getsockname()[1]
        self._listener = listener
        threading.Thread(target=self._accept, args=(listener,), name="proxy-accept", daemon=True).start()

    def _close_listener(self) -> None:
        listener, self._listener = self._listener, None
        if listener is not None:
            with contextlib.suppress(OSError):
                listener.shutdown(socket.SHUT_RDWR)
            listener.close()

    def _reset_all(self) -> None:
        with self._lock:
            sockets, self._open = self._open, set()
        for sock in sockets:
            with contextlib.suppress(OSError):
                # Linger 0: close sends an RST, as a dead server or a broken path does, not a polite FIN.
                sock.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
                sock.shutdown(socket.SHUT_RD)  # wakes the pipe thread blocked reading it; sends nothing
            sock.close()

    def _accept(self, listener: socket.socket) -> None:
        while True:
            try:
                client, _ = listener.accept()
            except OSError:
                return  # closed by cut() or on exit
            try:
                server = socket.create_connection(self.target, timeout=5)
            except OSError:
                client.close()
                continue
            server.settimeout(None)
            with self._lock:
                self._open.update((client, server))
            for source, sink in ((client, server), (server, client)):
                threading.Thread(target=self._pipe, args=(source, sink), daemon=True).start()

    def _pipe(self, source: socket.socket, sink: socket.socket) -> None:
        try:
            while chunk := source.recv(65536):
                sink.sendall(chunk)
        except OSError:
            pass
        finally:
            for sock in (source, sink):
                with contextlib.suppress(OSError):
                    sock.shutdown(socket.SHUT_RDWR)
            source.close()  # each direction's thread closes the socket it reads; the other wakes on the shutdown
            with self._lock:
                self._open.discard(source)
                self._open.discard(sink)
