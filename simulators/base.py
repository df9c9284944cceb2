"""Shared plumbing for simulators: a loopback TCP byte-stream server with link faults, and the
JSON-lines control server that tests, the demo and the developer panel use.

A serial device simulator subclasses :class:`SimulatedDevice`: it gets raw bytes from the host and returns
the bytes to send back. :class:`DeviceServer` serves it on ``127.0.0.1`` (reachable by pyserial as
``socket://127.0.0.1:PORT``) and applies the transport faults every device shares: ``unplug``/``plug``
(drop the link and refuse connections), ``garbage`` (answer the next N writes with random bytes) and
``silent`` (swallow input, answer nothing).
"""

from __future__ import annotations

import contextlib
import json
import logging
import random
import select
import socket
import threading
import time
from collections.abc import Callable
from typing import Any

log = logging.getLogger(__name__)

# A control request is one short JSON line; anything longer is refused and the connection closed, so a
# client cannot make the simulator buffer without limit.
MAX_CONTROL_LINE = 64 * 1024
# A host connection that has sent nothing for this long gives way to a newer connection waiting behind
# it, so an idle (or hostile) client cannot hold a device port for ever. An idle host with nobody
# waiting keeps its link: a kiosk on its attract screen may not talk to the card reader for minutes.
DEFAULT_IDLE_TIMEOUT_S = 30.0


def _wake_accept(sock: socket.socket) -> None:
    """Shutting a listening socket down wakes a thread blocked in accept() at once (Linux)."""
    with contextlib.suppress(OSError):
        sock.shutdown(socket.SHUT_RDWR)


class SimulatedDevice:
    """Base for a device's behaviour. Control commands are methods named ``ctl_<cmd>``."""

    device_class = "device"

    def __init__(self, seed: int = 0) -> None:
        self.rng = random.Random(seed)
        self.lock = threading.RLock()

    def on_connect(self) -> None:
        """A host connected (after power-up or a re-plug)."""

    def on_bytes(self, data: bytes) -> bytes:
        """Bytes from the host; returns the bytes to write back (possibly empty)."""
        raise NotImplementedError

    def snapshot(self) -> dict[str, Any]:
        """The simulator's visible state, for the control panel and tests."""
        return {}

    def control(self, cmd: str, args: dict[str, Any]) -> Any:
        handler: Callable[..., Any] | None = getattr(self, f"ctl_{cmd}", None)
        if handler is None:
            raise ValueError(f"unknown command {cmd!r} for {self.device_class}")
        with self.lock:
            return handler(**args)

    def ctl_state(self) -> dict[str, Any]:
        return self.snapshot()


class JsonControlServer:
    """JSON-lines control API on loopback; ``handler(cmd, args)`` returns the result or raises."""

    def __init__(self, handler: Callable[[str, dict[str, Any]], Any], port: int = 0) -> None:
        self._handler = handler
        self._sock = socket.create_server(("127.0.0.1", port))
        self._sock.settimeout(0.2)
        self.port: int = self._sock.getsockname()[1]
        self.address = f"tcp://127.0.0.1:{self.port}"
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._serve, name="sim-control", daemon=True)

    def start(self) -> None:
        self._thread.start()

    def close(self) -> None:
        self._stop.set()
        _wake_accept(self._sock)
        self._thread.join(5)
        self._sock.close()

    def _serve(self) -> None:
        while not self._stop.is_set():
            try:
                conn, _ = self._sock.accept()
            except (TimeoutError, OSError):
                continue
            with conn:
                conn.settimeout(5)
                self._answer(conn)

    def _answer(self, conn: socket.socket) -> None:
        buf = b""
        try:
            while not buf.endswith(b"\n"):
                chunk = conn.recv(65536)
                if not chunk:
                    return
                buf += chunk
                if len(buf) > MAX_CONTROL_LINE and b"\n" not in buf[:MAX_CONTROL_LINE]:
                    refusal = {"ok": False, "error": f"request line longer than {MAX_CONTROL_LINE} bytes"}
                    with contextlib.suppress(OSError):
                        conn.sendall(json.dumps(refusal).encode() + b"\n")
                    return  # the caller closes the connection
            request = json.loads(buf)
            cmd = str(request["cmd"])
            args = dict(request.get("args") or {})
            reply: dict[str, Any] = {"ok": True, "result": self._handler(cmd, args)}
        except Exception as exc:  # a bad control request is answered, never fatal
            reply = {"ok": False, "error": f"{type(exc).__name__}: {exc}"}
        with contextlib.suppress(OSError):
            conn.sendall(json.dumps(reply, default=str).encode() + b"\n")


class DeviceServer:
    """Serves one :class:`SimulatedDevice` on a loopback TCP port, one host connection at a time.

    A connection idle for ``idle_timeout_s`` (default :data:`DEFAULT_IDLE_TIMEOUT_S`) is dropped as soon
    as a newer connection is waiting, which is then served.
    """

    def __init__(
        self,
        device: SimulatedDevice,
        port: int = 0,
        control_port: int = 0,
        *,
        idle_timeout_s: float = DEFAULT_IDLE_TIMEOUT_S,
    ) -> None:
        if idle_timeout_s <= 0:
            raise ValueError("idle_timeout_s must be positive")
        self.idle_timeout_s = idle_timeout_s
        self.device = device
        self._sock = socket.create_server(("127.0.0.1", port))
        self._sock.settimeout(0.2)
        self.port: int = self._sock.getsockname()[1]
        self.url = f"socket://127.0.0.1:{self.port}"
        self.control = JsonControlServer(self._control, control_port)
        self._stop = threading.Event()
        self._plugged = threading.Event()
        self._plugged.set()
        self._garbage_replies = 0
        self._silent = False
        self._conn: socket.socket | None = None
        self._conn_lock = threading.Lock()
        self._thread = threading.Thread(target=self._serve, name=f"sim-{device.device_class}", daemon=True)

    # -- lifecycle ---------------------------------------------------------------------------
    def start(self) -> DeviceServer:
        self.control.start()
        self._thread.start()
        return self

    def close(self) -> None:
        self._stop.set()
        self._drop_connection()
        _wake_accept(self._sock)
        self._thread.join(5)
        self._sock.close()
        self.control.close()

    def __enter__(self) -> DeviceServer:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.close()

    def describe(self) -> dict[str, Any]:
        return {"url": self.url, "control": self.control.address}

    # -- transport faults --------------------------------------------------------------------
    def _control(self, cmd: str, args: dict[str, Any]) -> Any:
        if cmd == "unplug":
            self._plugged.clear()
            self._drop_connection()
            return {"plugged": False}
        if cmd == "plug":
            self._plugged.set()
            return {"plugged": True}
        if cmd == "garbage":
            self._garbage_replies = int(args.get("count", 1))
            return {"garbage_replies": self._garbage_replies}
        if cmd == "silent":
            self._silent = bool(args.get("on", True))
            return {"silent": self._silent}
        if cmd == "clear_faults":
            self._plugged.set()
            self._garbage_replies = 0
            self._silent = False
            return self.device.control("clear_faults", {}) if hasattr(self.device, "ctl_clear_faults") else {}
        if cmd == "state":
            state = self.device.control("state", {})
            state.update(plugged=self._plugged.is_set(), silent=self._silent)
            return state
        return self.device.control(cmd, args)

    def _superseded(self, last_activity: float) -> bool:
        """True when the current connection has been idle for ``idle_timeout_s`` and another connection
        is waiting to be accepted (the listening socket is readable)."""
        if time.monotonic() - last_activity < self.idle_timeout_s:
            return False
        try:
            waiting, _, _ = select.select([self._sock], [], [], 0)
        except (OSError, ValueError):
            return False
        if waiting:
            log.info("%s: idle host connection dropped for a newer one", self.device.device_class)
        return bool(waiting)

    def _drop_connection(self) -> None:
        with self._conn_lock:
            if self._conn is not None:
                with contextlib.suppress(OSError):
                    self._conn.shutdown(socket.SHUT_RDWR)
                self._conn.close()
                self._conn = None

    # -- serving -----------------------------------------------------------------------------
    def _serve(self) -> None:
        while not self._stop.is_set():
            try:
                conn, _ = self._sock.accept()
            except (TimeoutError, OSError):
                continue
            if not self._plugged.is_set():
                conn.close()  # an unplugged device refuses the host
                continue
            with self._conn_lock:
                self._conn = conn
            conn.settimeout(0.2)
            self.device.on_connect()
            self._pump(conn)
            self._drop_connection()

    def _pump(self, conn: socket.socket) -> None:
        last_activity = time.monotonic()
        while not self._stop.is_set() and self._plugged.is_set():
            try:
                data = conn.recv(4096)
            except TimeoutError:
                if self._superseded(last_activity):
                    return
                continue
            except OSError:
                return
            if not data:
                return
            last_activity = time.monotonic()
            if self._silent:
                continue
            with self.device.lock:
                reply = self.device.on_bytes(data)
            if reply and self._garbage_replies > 0:
                self._garbage_replies -= 1
                reply = bytes(self.device.rng.randrange(256) for _ in range(len(reply)))
            if reply:
                try:
                    conn.sendall(reply)
                except OSError:
                    return
