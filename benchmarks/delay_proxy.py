"""A TCP proxy on loopback that adds a fixed delay in each direction and counts connections.

`tc netem` is not available here, so this stands in for a real network path: every chunk read from one side is
written to the other side `delay` seconds later, in order. With delay 0 it is a plain connection counter.

    with DelayProxy("127.0.0.1", target_ip, target_port, delay=0.025) as proxy:
        ... connect to (proxy.ip, proxy.port) ...
        proxy.connections  # TCP connections accepted so far
        proxy.most_open  # the most connections open at once
        proxy.from_clients  # what each connection's client sent
"""

from __future__ import annotations

import asyncio
import threading
from typing import Self


class DelayProxy:
    def __init__(
        self,
        listen_ip: str,
        target_ip: str,
        target_port: int,
        *,
        delay: float = 0.0,
        serve_first: int | None = None,
        port: int = 0,
    ) -> None:
        self.ip = listen_ip
        self._wanted_port = port  # 0: any free port
        # Only the first `serve_first` connections reach the server; later ones are closed at once (a server
        # that starts refusing mid-scan, as rate limits and IDS do).
        self.serve_first = serve_first
        self.stall = False  # when True, refused connections are instead held open and never answered (a tarpit)
        self.port = 0
        self.target = (target_ip, target_port)
        self.delay = delay
        self.connections = 0
        self.open_now = 0  # connections whose client has not closed its side yet
        self.most_open = 0  # the most that were ever open at once, as the clients saw them
        self.from_clients: list[bytearray] = []  # every byte each connection's client sent, in order
        self._loop = asyncio.new_event_loop()
        # Connections cut by stop() leave cancelled pipes behind; that is the point of stopping, not an error.
        self._loop.set_exception_handler(lambda loop, context: None)
        self._thread = threading.Thread(target=self._loop.run_forever, name="delay-proxy", daemon=True)
        self._server: asyncio.base_events.Server | None = None

    def reset(self) -> None:
        self.connections = self.most_open = 0
        self.from_clients = []

    def start(self) -> Self:
        self._thread.start()
        future = asyncio.run_coroutine_threadsafe(self._listen(), self._loop)
        future.result(timeout=5)
        return self

    def stop(self) -> None:
        async def close() -> None:
            if self._server is not None:
                self._server.close()
            for task in asyncio.all_tasks():
                if task is not asyncio.current_task():
                    task.cancel()

        asyncio.run_coroutine_threadsafe(close(), self._loop).result(timeout=5)
        self._loop.call_soon_threadsafe(self._loop.stop)
        self._thread.join(5)
        self._loop.close()

    def __enter__(self) -> Self:
        return self.start()

    def __exit__(self, *exc_info) -> None:
        self.stop()

    async def _listen(self) -> None:
        self._server = await asyncio.start_server(self._handle, self.ip, self._wanted_port, backlog=1024)
        self.port = self._server.sockets[0].getsockname()[1]

    async def _handle(self, client_reader: asyncio.StreamReader, client_writer: asyncio.StreamWriter) -> None:
        self.connections += 1
        self.open_now += 1
        self.most_open = max(self.most_open, self.open_now)
        closed = False

        def client_closed() -> None:
            # Counted from the client's side: a server slow to close its end does not make the client busier.
            nonlocal closed
            if not closed:
                closed = True
                self.open_now -= 1

        try:
            await self._serve(client_reader, client_writer, client_closed)
        finally:
            client_closed()

    async def _serve(
        self, client_reader: asyncio.StreamReader, client_writer: asyncio.StreamWriter, client_closed
    ) -> None:
        if self.serve_first is not None and self.connections > self.serve_first:
            if self.stall:
                await asyncio.sleep(3600)  # cancelled by stop()
            client_writer.close()
            return
        try:
            await asyncio.sleep(self.delay)  # the SYN's trip to the server
            server_reader, server_writer = await asyncio.open_connection(*self.target)
        except OSError:
            client_writer.close()
            return
        try:
            sent = bytearray()
            self.from_clients.append(sent)
            await asyncio.gather(
                self._pipe(client_reader, server_writer, sent, client_closed),
                self._pipe(server_reader, client_writer),
                return_exceptions=True,
            )
        except asyncio.CancelledError:  # stop() while connections are open
            pass

    async def _pipe(
        self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter, log: bytearray | None = None, on_eof=None
    ) -> None:
        # A queue keeps chunks in order while each one waits out its own delay.
        queue: asyncio.Queue[tuple[float, bytes]] = asyncio.Queue()
        loop = asyncio.get_running_loop()

        async def deliver() -> None:
            while True:
                due, chunk = await queue.get()
                wait = due - loop.time()
                if wait > 0:
                    await asyncio.sleep(wait)
                if not chunk:
                    try:
                        writer.write_eof()
                    except OSError:
                        pass
                    return
                writer.write(chunk)
                await writer.drain()

        sender = asyncio.create_task(deliver())
        try:
            while True:
                chunk = await reader.read(65536)
                if log is not None:
                    log += chunk
                await queue.put((loop.time() + self.delay, chunk))
                if not chunk:
                    if on_eof is not None:
                        on_eof()
                    break
            await sender
        except (OSError, asyncio.CancelledError):
            if on_eof is not None:
                on_eof()  # a reset is a close too
            sender.cancel()
        finally:
            writer.close()
