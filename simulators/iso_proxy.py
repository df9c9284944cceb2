"""A fault-injecting ISO 8583 proxy between a terminal and its host: forwards every message, and can
lose answers on the way back (what a dropped link after the host acted looks like).

``lose_answers(mti, count)`` loses the next ``count`` answers with that MTI; with ``then_everything``
every later answer is lost too until :meth:`IsoProxy.restore`. ``lose_requests`` does the same on the
way to the host (the link dropped before the host got it: nothing was done). Used by the tests of lost
0210s and of reversals a terminal must deliver after a restart; ``lost`` keeps what it swallowed.
"""

from __future__ import annotations

import contextlib
import socket
import threading

from hostlink.iso8583.framing import FrameReader, frame


class IsoProxy:
    def __init__(self, target: tuple[str, int], host: str = "127.0.0.1") -> None:
        self.target = target
        self._listener = socket.create_server((host, 0))
        self._listener.settimeout(0.2)
        self.address = f"{host}:{self._listener.getsockname()[1]}"
        self._lock = threading.Lock()
        self._lose: dict[tuple[bool, bytes], int] = {}
        self._then_everything = False
        self._blackhole = False
        self._blackhole_requests = False
        self.lost: list[bytes] = []
        self._stop = threading.Event()
        self._threads: list[threading.Thread] = []
        self._sockets: list[socket.socket] = []
        accept = threading.Thread(target=self._accept, name="iso-proxy", daemon=True)
        accept.start()
        self._threads.append(accept)

    def lose_answers(self, mti: str, count: int = 1, *, then_everything: bool = False) -> None:
        with self._lock:
            self._lose[True, mti.encode("ascii")] = count
            self._then_everything = then_everything

    def lose_requests(self, mti: str, count: int = 1, *, then_everything: bool = False) -> None:
        with self._lock:
            self._lose[False, mti.encode("ascii")] = count
            self._then_everything = then_everything

    def restore(self) -> None:
        with self._lock:
            self._lose.clear()
            self._blackhole = self._blackhole_requests = self._then_everything = False

    def _drop(self, message: bytes, answers: bool) -> bool:
        with self._lock:
            if self._blackhole if answers else self._blackhole_requests:
                return True
            left = self._lose.get((answers, message[:4]), 0)
            if left <= 0:
                return False
            self._lose[answers, message[:4]] = left - 1
            self.lost.append(message)
            if answers:
                self._blackhole = self._then_everything
            else:
                self._blackhole_requests = self._then_everything
            return True

    def _accept(self) -> None:
        while not self._stop.is_set():
            try:
                client, _ = self._listener.accept()
            except TimeoutError:
                continue
            except OSError:
                return
            try:
                upstream = socket.create_connection(self.target, timeout=5)
            except OSError:
                client.close()
                continue
            upstream.settimeout(None)
            self._sockets += [client, upstream]
            for src, dst, answers in ((client, upstream, False), (upstream, client, True)):
                thread = threading.Thread(target=self._pump, args=(src, dst, answers), daemon=True)
                thread.start()
                self._threads.append(thread)

    def _pump(self, src: socket.socket, dst: socket.socket, answers: bool) -> None:
        reader = FrameReader()
        try:
            while not self._stop.is_set():
                data = src.recv(65536)
                if not data:
                    break
                for message in reader.feed(data):
                    if self._drop(message, answers):
                        continue
                    dst.sendall(frame(message))
        except (OSError, ValueError):
            pass
        finally:
            for sock in (src, dst):
                with contextlib.suppress(OSError):
                    sock.shutdown(socket.SHUT_RDWR)

    def close(self) -> None:
        self._stop.set()
        self._listener.close()
        for sock in self._sockets:
            with contextlib.suppress(OSError):
                sock.close()
        for thread in self._threads:
            thread.join(timeout=5)
