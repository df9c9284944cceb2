"""Camera simulator: MJPEG over HTTP on loopback (``/stream.mjpg``, ``/snapshot.jpg``).

One producer thread renders the current source at the configured rate and JPEG-encodes each frame once;
every client handler sends the latest frame as a ``multipart/x-mixed-replace`` part. Faults:

* ``freeze``: the same JPEG bytes are sent again and again (``read()`` keeps returning True — the case a
  camera watchdog must catch);
* ``stall``: nothing is sent, connections stay open;
* ``disconnect``: open streams are closed and new connections refused until ``reconnect``.
"""

from __future__ import annotations

import contextlib
import socket
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import cv2

from simulators.base import JsonControlServer
from simulators.camera.sources import FrameSource, create_source

BOUNDARY = b"smartteller"


class _HttpServer(ThreadingHTTPServer):
    daemon_threads = True
    allow_reuse_address = True
    camera: CameraServer

    def verify_request(self, request: Any, client_address: Any) -> bool:
        if self.camera.disconnected:
            with contextlib.suppress(OSError):
                request.shutdown(socket.SHUT_RDWR)
            return False  # an unplugged camera refuses the host
        return True


class _Handler(BaseHTTPRequestHandler):
    server: _HttpServer
    protocol_version = "HTTP/1.0"

    def log_message(self, format: str, *args: Any) -> None:
        pass  # the simulator is quiet; tests read its state through the control API

    def do_GET(self) -> None:
        camera = self.server.camera
        path = self.path.split("?", 1)[0]
        if path == "/snapshot.jpg":
            jpeg, _ = camera.wait_frame(-1, 2.0)
            if jpeg is None:
                self.send_error(503, "no frame")
                return
            self.send_response(200)
            self.send_header("Content-Type", "image/jpeg")
            self.send_header("Content-Length", str(len(jpeg)))
            self.end_headers()
            self.wfile.write(jpeg)
            return
        if path not in ("/stream.mjpg", "/"):
            self.send_error(404, "try /stream.mjpg or /snapshot.jpg")
            return
        self.send_response(200)
        self.send_header("Content-Type", f"multipart/x-mixed-replace; boundary={BOUNDARY.decode()}")
        self.send_header("Cache-Control", "no-cache, private")
        self.send_header("Pragma", "no-cache")
        self.end_headers()
        camera.clients_started += 1
        seq = -1
        generation = camera.generation
        try:
            while not camera.closed and generation == camera.generation:
                jpeg, seq = camera.wait_frame(seq, 0.5)
                if jpeg is None:
                    continue
                part = (
                    b"--" + BOUNDARY + b"\r\nContent-Type: image/jpeg\r\nContent-Length: "
                    + str(len(jpeg)).encode() + b"\r\n\r\n" + jpeg + b"\r\n"
                )  # fmt: skip
                self.wfile.write(part)
                self.wfile.flush()
        except OSError:
            pass  # the client went away


class CameraServer:
    def __init__(
        self,
        *,
        seed: int = 0,
        port: int = 0,
        control_port: int = 0,
        fps: float = 30.0,
        size: tuple[int, int] = (640, 480),
        source: str = "video",
        photo: str | None = None,
        faces_dir: str | Path | None = None,
        jpeg_quality: int = 80,
    ) -> None:
        self.seed = seed
        self.fps = fps
        self.size = size
        self.faces_dir = faces_dir
        self.jpeg_quality = jpeg_quality
        self._http = _HttpServer(("127.0.0.1", port), _Handler)
        self._http.camera = self
        self.port: int = self._http.server_address[1]
        self.url = f"http://127.0.0.1:{self.port}/stream.mjpg"
        self.control = JsonControlServer(self.handle_control, control_port)
        self._cond = threading.Condition()
        self._jpeg: bytes | None = None
        self._seq = 0
        self.frozen = False
        self.stalled = False
        self.disconnected = False
        self.closed = False
        self.generation = 0  # bumped to end every open stream
        self.clients_started = 0
        self.frames_encoded = 0
        self._source_lock = threading.Lock()
        self._source: FrameSource = self._make_source(source, {"photo": photo} if photo else {})
        self._source_name = source
        self._source_started = time.monotonic()
        self._producer = threading.Thread(target=self._produce, name="sim-camera-producer", daemon=True)
        self._http_thread = threading.Thread(
            target=self._http.serve_forever,
            kwargs={"poll_interval": 0.1},
            name="sim-camera-http",
            daemon=True,
        )

    # -- lifecycle ---------------------------------------------------------------------------
    def start(self) -> CameraServer:
        self.control.start()
        self._producer.start()
        self._http_thread.start()
        return self

    def close(self) -> None:
        self.closed = True
        self.generation += 1
        with self._cond:
            self._cond.notify_all()
        self._http.shutdown()
        self._http.server_close()
        self._http_thread.join(5)
        self._producer.join(5)
        self.control.close()
        closer = getattr(self._source, "close", None)
        if callable(closer):
            closer()

    def __enter__(self) -> CameraServer:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.close()

    def describe(self) -> dict[str, Any]:
        return {"url": self.url, "control": self.control.address,
                "snapshot": f"http://127.0.0.1:{self.port}/snapshot.jpg"}  # fmt: skip

    # -- frames ------------------------------------------------------------------------------
    def _make_source(self, name: str, kwargs: dict[str, Any]) -> FrameSource:
        options: dict[str, Any] = {"seed": self.seed, **kwargs}
        if name in ("video", "photo", "virtual_person", "empty", "clock"):
            options.setdefault("size", self.size)
        if name in ("video", "photo") and self.faces_dir is not None:
            options.setdefault("faces_dir", self.faces_dir)
        if name == "virtual_person" and self.faces_dir is not None:
            options.setdefault("faces_dir", self.faces_dir)
        return create_source(name, **options)

    def _produce(self) -> None:
        period = 1.0 / self.fps
        next_at = time.monotonic()
        while not self.closed:
            now = time.monotonic()
            if now < next_at:
                time.sleep(next_at - now)
            next_at = max(next_at + period, time.monotonic() - period)  # do not burst after a hiccup
            if self.stalled or self.disconnected:
                continue
            if self.frozen and self._jpeg is not None:
                jpeg = self._jpeg  # the very same bytes again
            else:
                try:
                    jpeg = self._render()
                except Exception as exc:  # a broken source must not kill the producer
                    self.last_error = f"{type(exc).__name__}: {exc}"
                    continue
            with self._cond:
                self._jpeg = jpeg
                self._seq += 1
                self._cond.notify_all()

    def _render(self) -> bytes:
        with self._source_lock:
            source = self._source
            t = time.monotonic() - self._source_started
        image = source.frame(t)
        ok, buf = cv2.imencode(".jpg", image, [cv2.IMWRITE_JPEG_QUALITY, self.jpeg_quality])
        if not ok:
            raise RuntimeError("JPEG encoding failed")
        self.frames_encoded += 1
        return bytes(buf)

    def wait_frame(self, after_seq: int, timeout: float) -> tuple[bytes | None, int]:
        """The newest frame with a sequence number above ``after_seq`` (None on timeout)."""
        with self._cond:
            if self._seq <= after_seq or self._jpeg is None:
                self._cond.wait(timeout)
            if self._seq <= after_seq or self._jpeg is None:
                return None, after_seq
            return self._jpeg, self._seq

    # -- control -----------------------------------------------------------------------------
    last_error: str | None = None

    def handle_control(self, cmd: str, args: dict[str, Any]) -> Any:
        if cmd == "source":
            name = str(args.pop("name", args.pop("source", "")))
            new = self._make_source(name, args)
            with self._source_lock:
                old, self._source = self._source, new
                self._source_name = name
                self._source_started = time.monotonic()
            closer = getattr(old, "close", None)
            if callable(closer):
                closer()
            return self.state()
        if cmd == "act":
            with self._source_lock:
                source = self._source
            source.act(str(args["action"]))
            return self.state()
        if cmd == "freeze":
            self.frozen = bool(args.get("on", True))
            return self.state()
        if cmd == "stall":
            self.stalled = bool(args.get("on", True))
            return self.state()
        if cmd in ("disconnect", "unplug"):
            self.disconnected = True
            self.generation += 1  # every open stream ends
            with self._cond:
                self._cond.notify_all()
            return self.state()
        if cmd in ("reconnect", "plug"):
            self.disconnected = False
            return self.state()
        if cmd == "clear_faults":
            self.frozen = self.stalled = self.disconnected = False
            return self.state()
        if cmd == "state":
            return self.state()
        raise ValueError(f"unknown command {cmd!r} for camera")

    def state(self) -> dict[str, Any]:
        return {
            "source": self._source_name,
            "source_detail": self._source.name,
            "frozen": self.frozen,
            "stalled": self.stalled,
            "disconnected": self.disconnected,
            "fps": self.fps,
            "size": list(self.size),
            "frames_encoded": self.frames_encoded,
            "clients_started": self.clients_started,
            "last_error": self.last_error,
        }
