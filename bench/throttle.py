"""A throttling TCP proxy: a slow, high-latency link between the browser and the app.

Chromium's network emulation (CDP) does not apply to the service worker's requests, so a
reopen "on a weak link" needs a link that slows everything: this relay sits on
127.0.0.1:<port> in front of the real server, and

- delays each new connection by one round trip (the TCP handshake),
- delivers every chunk half a round trip after it has crossed the link,
- shares one bottleneck per direction between all connections (bytes/s),
- counts the bytes that cross it in each direction.

It runs its own asyncio loop in a daemon thread; settings may change between runs.
"""
from __future__ import annotations

import asyncio
import threading
from dataclasses import dataclass


@dataclass
class Link:
    """One direction of the bottleneck: when it is free again, and what crossed it."""
    bytes_per_s: float | None = None
    free_at: float = 0.0
    bytes: int = 0

    def schedule(self, now: float, size: int) -> float:
        """When a chunk arriving now has crossed the link."""
        start = max(now, self.free_at)
        self.free_at = start + (size / self.bytes_per_s if self.bytes_per_s else 0.0)
        self.bytes += size
        return self.free_at


class ThrottlingProxy:
    def __init__(self, target_port: int, target_host: str = "127.0.0.1"):
        self.target = (target_host, target_port)
        self.rtt_s = 0.0
        self.down = Link()  # server -> browser
        self.up = Link()    # browser -> server
        self.connections = 0
        self._writers: set = set()
        self._loop = asyncio.new_event_loop()
        self._ready = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True)
        self._thread.start()
        self._ready.wait(10)

    # ---- settings and counters ----------------------------------------------------

    def set_link(self, rtt_ms: float = 0, down_kbps: float | None = None,
                 up_kbps: float | None = None) -> None:
        self.rtt_s = rtt_ms / 1000
        self.down.bytes_per_s = down_kbps * 1000 / 8 if down_kbps else None
        self.up.bytes_per_s = up_kbps * 1000 / 8 if up_kbps else None

    def reset_counts(self) -> None:
        self.down.bytes = self.up.bytes = self.connections = 0

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def close(self) -> None:
        async def stop() -> None:
            self._server.close()
            for writer in list(self._writers):
                writer.close()
            for task in asyncio.all_tasks():
                if task is not asyncio.current_task():
                    task.cancel()
            self._loop.stop()

        asyncio.run_coroutine_threadsafe(stop(), self._loop)
        self._thread.join(timeout=5)
        self._loop.close()

    # ---- the relay ----------------------------------------------------------------

    def _run(self) -> None:
        asyncio.set_event_loop(self._loop)
        self._server = self._loop.run_until_complete(
            asyncio.start_server(self._client, "127.0.0.1", 0))
        self.port = self._server.sockets[0].getsockname()[1]
        self._ready.set()
        self._loop.run_forever()

    async def _client(self, client_reader, client_writer) -> None:
        self.connections += 1
        await asyncio.sleep(self.rtt_s)  # SYN, SYN-ACK
        try:
            server_reader, server_writer = await asyncio.open_connection(*self.target)
        except OSError:
            client_writer.close()
            return
        self._writers |= {client_writer, server_writer}
        try:
            await asyncio.gather(self._pump(client_reader, server_writer, self.up),
                                 self._pump(server_reader, client_writer, self.down))
        finally:
            self._writers -= {client_writer, server_writer}

    async def _pump(self, reader, writer, link: Link) -> None:
        loop = asyncio.get_running_loop()
        queue: asyncio.Queue = asyncio.Queue()

        async def deliver() -> None:
            while True:
                at, data = await queue.get()
                if data is None:
                    break
                delay = at - loop.time()
                if delay > 0:
                    await asyncio.sleep(delay)
                try:
                    writer.write(data)
                    await writer.drain()
                except (ConnectionError, OSError):
                    break
            try:
                writer.close()
            except (ConnectionError, OSError):
                pass

        sender = asyncio.ensure_future(deliver())
        try:
            while True:
                try:
                    data = await reader.read(16 * 1024)
                except (ConnectionError, OSError):
                    data = b""
                crossed = link.schedule(loop.time(), len(data)) if data else link.free_at
                queue.put_nowait((crossed + self.rtt_s / 2, data or None))
                if not data:
                    break
        finally:
            await sender
