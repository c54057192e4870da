"""Flaky and limited servers for the engine's tests: a TCP proxy in front of a lab server that resets every
n-th connection (an overloaded balancer, a rate limit), or that serves one connection at a time and resets
any other made meanwhile (small embedded TLS stacks, some middleboxes).

    with FlakyProxy(case.ip, case.ip, case.https_port, reset_every=3) as proxy:
        ... scan case.hostname on port proxy.port ...
"""

from __future__ import annotations

import contextlib
import socket
import struct
import threading
from typing import Self


class FlakyProxy:
    def __init__(
        self,
        listen_ip: str,
        target_ip: str,
        target_port: int,
        *,
        reset_every: int | None = None,
        one_at_a_time: bool = False,
    ) -> None:
        self.listen_ip, self.target = listen_ip, (target_ip, target_port)
        self.reset_every, self.one_at_a_time = reset_every, one_at_a_time
        self.port = 0
        self.connections = 0
        self.resets = 0
        self._open = 0
        self._lock = threading.Lock()
        self._listener = socket.socket()

    def __enter__(self) -> Self:
        self._listener.bind((self.listen_ip, 0))
        self._listener.listen(256)
        self.port = self._listener.getsockname()[1]
        threading.Thread(target=self._accept, name="flaky-proxy", daemon=True).start()
        return self

    def __exit__(self, *exc_info) -> None:
        with contextlib.suppress(OSError):
            self._listener.shutdown(socket.SHUT_RDWR)
        self._listener.close()

    def _accept(self) -> None:
        while True:
            try:
                client, _ = self._listener.accept()
            except OSError:
                return
            with self._lock:
                self.connections += 1
                reset = (self.reset_every is not None and self.connections % self.reset_every == 0) or (
                    self.one_at_a_time and self._open > 0
                )
                if reset:
                    self.resets += 1
                else:
                    self._open += 1
            if reset:
                # Linger 0: the close is a TCP reset, as a server dropping the connection sends.
                client.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
                client.close()
                continue
            threading.Thread(target=self._serve, args=(client,), daemon=True).start()

    def _serve(self, client: socket.socket) -> None:
        try:
            server = socket.create_connection(self.target, timeout=5)
        except OSError:
            client.close()
            self._closed()
            return
        server.settimeout(None)
        pipes = [
            threading.Thread(target=self._pipe, args=pair, daemon=True) for pair in ((client, server), (server, client))
        ]
        for pipe in pipes:
            pipe.start()
        for pipe in pipes:
            pipe.join()
        client.close()
        server.close()
        self._closed()

    def _closed(self) -> None:
        with self._lock:
            self._open -= 1

    @staticmethod
    def _pipe(source: socket.socket, sink: socket.socket) -> None:
        try:
            while chunk := source.recv(65536):
                sink.sendall(chunk)
        except OSError:
            pass
        finally:
            for sock in (source, sink):
                with contextlib.suppress(OSError):
                    sock.shutdown(socket.SHUT_RDWR)
