"""The host's ISO 8583 listener: TCP, 2-byte big-endian length header, one reader thread per connection.

A terminal keeps one connection open and sends requests one after another; each is answered in order on
the same connection. The requests themselves are handled on a fixed set of ``workers`` threads shared by
all connections: the ledger keeps one database connection per thread that has posted a transfer, so with
a thread per terminal a host with more terminals connected than its engine's pool holds (5 + 10 overflow)
left the rest waiting for a database connection until the pool timed out (the fleet bench, 64 terminals).
A length of zero or over the maximum, or a message that does not decode, closes that connection (its
framing can no longer be trusted); nothing else about the host changes. An idle
connection is closed after ``idle_timeout_s``. ``close()`` stops accepting, closes every connection and
joins every thread.
"""

from __future__ import annotations

import contextlib
import logging
import socket
import threading
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor

from hostlink.iso8583.framing import FrameReader, FramingError, frame

log = logging.getLogger(__name__)

Handler = Callable[[bytes], "bytes | None"]


class IsoServer:
    def __init__(
        self,
        handler: Handler,
        *,
        host: str = "127.0.0.1",
        port: int = 0,
        max_connections: int = 256,
        idle_timeout_s: float = 300.0,
        workers: int = 8,
    ) -> None:
        self.handler = handler
        # At most ``workers`` requests at once, so at most that many ledger connections held (each worker
        # may also check out one for a moment: 2 × 8 stays within the pool's 15).
        self._workers = ThreadPoolExecutor(max_workers=workers, thread_name_prefix="iso8583-work")
        self.max_connections = max_connections
        self.idle_timeout_s = idle_timeout_s
        self._listener = socket.create_server((host, port), reuse_port=False)
        self._listener.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        self._listener.settimeout(0.5)
        self.address = self._listener.getsockname()[:2]
        self._stopping = threading.Event()
        self._lock = threading.Lock()
        self._connections: dict[socket.socket, threading.Thread] = {}
        self._acceptor = threading.Thread(target=self._accept, name="iso8583-accept", daemon=True)
        self.accepted = 0
        self.closed_for_bad_frames = 0

    @property
    def url(self) -> str:
        return f"{self.address[0]}:{self.address[1]}"

    def start(self) -> IsoServer:
        self._acceptor.start()
        return self

    def _accept(self) -> None:
        while not self._stopping.is_set():
            try:
                conn, _peer = self._listener.accept()
            except TimeoutError:
                continue
            except OSError:
                if self._stopping.is_set():
                    return
                raise
            with self._lock:
                if len(self._connections) >= self.max_connections:
                    conn.close()
                    log.warning("ISO 8583: connection refused, %d open already", self.max_connections)
                    continue
                conn.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
                thread = threading.Thread(target=self._serve, args=(conn,), name="iso8583-conn", daemon=True)
                self._connections[conn] = thread
                self.accepted += 1
            thread.start()

    def _serve(self, conn: socket.socket) -> None:
        reader = FrameReader()
        conn.settimeout(self.idle_timeout_s)
        try:
            while not self._stopping.is_set():
                try:
                    data = conn.recv(65536)
                except TimeoutError:
                    log.info("ISO 8583: idle connection closed")
                    return
                if not data:
                    return
                try:
                    messages = reader.feed(data)
                except FramingError as exc:
                    self.closed_for_bad_frames += 1
                    log.warning("ISO 8583: bad frame, connection closed: %s", exc)
                    return
                for message in messages:
                    answer = self._workers.submit(self.handler, message).result()
                    if answer is None:
                        self.closed_for_bad_frames += 1
                        return
                    conn.sendall(frame(answer))
        except OSError as exc:
            if not self._stopping.is_set():
                log.info("ISO 8583: connection ended: %s", exc)
        finally:
            with self._lock:
                self._connections.pop(conn, None)
            with contextlib.suppress(OSError):
                conn.close()

    def open_connections(self) -> int:
        with self._lock:
            return len(self._connections)

    def close(self) -> None:
        self._stopping.set()
        self._listener.close()
        if self._acceptor.is_alive():
            self._acceptor.join(timeout=5)
        with self._lock:
            connections = dict(self._connections)
        for conn in connections:
            with contextlib.suppress(OSError):
                conn.shutdown(socket.SHUT_RDWR)
        for thread in connections.values():
            thread.join(timeout=5)
        self._workers.shutdown(wait=True, cancel_futures=True)
