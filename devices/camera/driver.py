"""Camera driver over OpenCV ``VideoCapture``: a device index (``0`` or ``"0"``), a video file, or an
MJPEG-over-HTTP URL.

The driver's I/O thread reads frames continuously and hands each *new* frame (converted to contiguous
RGB) to frame subscribers and to :meth:`latest_frame`. A watchdog treats a camera that delivers no new
frame for ``watchdog_s`` (1 s) as offline — including the sneaky case where ``read()`` keeps returning
True with the same stale image (frames are compared by CRC32 of their pixels) — and the thread then
reconnects. Requested width/height/fps are applied and read back; OpenCV silently ignores settings a
backend cannot honour, so both are reported.
"""

from __future__ import annotations

import logging
import threading
import time
import zlib
from collections.abc import Callable
from pathlib import Path
from typing import Any

import cv2
import numpy as np
import numpy.typing as npt

from devices.base import (
    Completion,
    DeviceInfo,
    DeviceLinkError,
    DeviceState,
    DeviceStatus,
    DriverBase,
    Operation,
    Result,
)
from devices.camera.interface import CameraFrame, FrameCallback
from devices.selftest import SelfTestBuilder, SelfTestReport

log = logging.getLogger(__name__)


def _parse_source(source: int | str) -> int | str:
    if isinstance(source, int):
        return source
    return int(source) if source.strip().isdigit() else source


class OpenCvCameraDriver(DriverBase):
    device_class = "camera"
    model = "OpenCV VideoCapture camera"
    reconnect_interval = 0.3

    def __init__(
        self,
        source: int | str,
        *,
        name: str | None = None,
        width: int | None = 640,
        height: int | None = 480,
        fps: float | None = 30.0,
        watchdog_s: float = 1.0,
        open_timeout_s: float = 2.0,
        loop_files: bool = True,
    ) -> None:
        super().__init__(str(source), name=name)
        self.source = _parse_source(source)
        self.requested = {"width": width, "height": height, "fps": fps}
        self.watchdog_s = watchdog_s
        self.open_timeout_s = open_timeout_s
        self.loop_files = loop_files
        self._is_file = (
            isinstance(self.source, str) and "://" not in self.source and Path(self.source).exists()
        )
        self._cap: Any = None
        self._frame_lock = threading.Lock()
        self._latest: CameraFrame | None = None
        self._frame_subs: list[FrameCallback] = []
        self._seq = 0
        self._last_crc: int | None = None
        self._last_new_frame = time.monotonic()
        self._connected_at = time.monotonic()
        self._file_period = 0.0
        self._next_file_frame = 0.0
        self._actual: dict[str, float | None] = {"width": None, "height": None, "fps": None}
        self.frames_delivered = 0
        self.frozen_frames = 0
        self.reconnects = 0

    # -- public ------------------------------------------------------------------------------
    def subscribe_frames(self, callback: FrameCallback) -> Callable[[], None]:
        """``callback(frame)`` runs on the camera's I/O thread for every new frame: keep it short."""
        with self._frame_lock:
            self._frame_subs.append(callback)

        def unsubscribe() -> None:
            with self._frame_lock:
                if callback in self._frame_subs:
                    self._frame_subs.remove(callback)

        return unsubscribe

    def latest_frame(self, max_age: float | None = None) -> CameraFrame | None:
        with self._frame_lock:
            frame = self._latest
        if frame is None or (max_age is not None and time.monotonic() - frame.monotonic > max_age):
            return None
        return frame

    def capture(self, timeout: float = 2.0) -> Operation[CameraFrame]:
        """The next new frame (not one already delivered), or TIMEOUT/OFFLINE."""
        op: Operation[CameraFrame] = Operation("capture")
        if self._thread is None:
            op._finish(Result.fail(Completion.OFFLINE, "camera driver is not running"))
            return op
        start_seq = self._seq
        got = threading.Event()

        def on_frame(frame: CameraFrame) -> None:
            if frame.seq > start_seq and not got.is_set():
                got.set()
                op._finish(Result.success(frame))

        unsubscribe = self.subscribe_frames(on_frame)

        def expire() -> None:
            if not got.wait(timeout):
                state = self.status().state
                code = Completion.OFFLINE if state is not DeviceState.ONLINE else Completion.TIMEOUT
                op._finish(Result.fail(code, f"no new frame within {timeout}s"))
            unsubscribe()

        waiter = threading.Thread(target=expire, name="camera-capture-wait", daemon=True)
        waiter.start()
        op.add_done_callback(lambda _result: got.set())
        return op

    def settings(self) -> dict[str, Any]:
        """Requested and read-back settings, and which requests the backend did not honour."""
        with self._status_lock:
            actual = dict(self._actual)
        ignored = [
            key
            for key, wanted in self.requested.items()
            if wanted is not None
            and actual.get(key) is not None
            and abs(float(actual[key] or 0) - wanted) > 0.5
        ]
        return {"requested": dict(self.requested), "actual": actual, "ignored": ignored}

    def info(self) -> DeviceInfo:
        return DeviceInfo(
            self.device_class, self.model, self.url, f"OpenCV {cv2.__version__}", self.settings()
        )

    @property
    def capabilities(self) -> dict[str, Any]:
        return dict(self.info().capabilities)

    def self_test(self, timeout: float = 2.0) -> Operation[SelfTestReport]:
        """A new frame arrives within ``timeout`` and the stream delivers what was asked of it.

        Frames are read continuously on the I/O thread, so the test waits for the next one rather than
        queueing a command behind the read loop.
        """
        op: Operation[SelfTestReport] = Operation("self_test")

        def judge(result: Result[CameraFrame]) -> None:
            test = SelfTestBuilder(self.device_class)
            test.firmware = f"OpenCV {cv2.__version__}"
            frame = result.value
            test.check("new frame", result.ok and frame is not None, "" if result.ok else result.detail)
            if frame is not None:
                # streams rarely honour a frame rate; a wrong size would break face detection, so it fails
                test.facts.update(width=frame.width, height=frame.height, settings=self.settings())
                wanted = (self.requested["width"], self.requested["height"])
                size_ok = all(
                    w is None or abs(w - got) < 1
                    for w, got in zip(wanted, (frame.width, frame.height), strict=True)
                )
                test.check(
                    "frame size",
                    size_ok,
                    "" if size_ok else f"{frame.width}x{frame.height}, asked {wanted[0]}x{wanted[1]}",
                )
            if result.code is Completion.OFFLINE:
                op._finish(Result(Completion.OFFLINE, test.report(), result.detail))
            else:
                op._finish(test.result())

        self.capture(timeout).add_done_callback(judge)
        return op

    def status(self) -> DeviceStatus:
        status = super().status()
        age = time.monotonic() - self._last_new_frame
        if status.state is DeviceState.ONLINE and age > self.watchdog_s:
            # the watchdog verdict is immediate, even while the I/O thread sits in a blocking read()
            detail = {**status.detail, "frame_age_s": round(age, 3)}
            return DeviceStatus(status.device, DeviceState.OFFLINE, detail, f"no new frame for {age:.1f}s")
        return status

    # -- DriverBase hooks --------------------------------------------------------------------
    def _idle_interval(self) -> float:
        return 0.0  # frames are the idle work: read continuously

    def _connect(self) -> None:
        timeout_ms = int(self.open_timeout_s * 1000)
        read_ms = int(max(0.2, self.watchdog_s) * 1000)
        if isinstance(self.source, int):
            cap = cv2.VideoCapture(self.source)
        else:
            params = [cv2.CAP_PROP_OPEN_TIMEOUT_MSEC, timeout_ms, cv2.CAP_PROP_READ_TIMEOUT_MSEC, read_ms]
            cap = cv2.VideoCapture(self.source, cv2.CAP_FFMPEG, params)
        if not cap.isOpened():
            cap.release()
            raise DeviceLinkError(f"cannot open camera {self.url}")
        self._apply_settings(cap)
        self._cap = cap
        self._connected_at = time.monotonic()
        self._last_new_frame = self._connected_at  # the watchdog starts counting now
        fps = cap.get(cv2.CAP_PROP_FPS) or 0.0
        self._file_period = 1.0 / fps if self._is_file and fps > 0 else 0.0
        self._next_file_frame = time.monotonic()

    def _on_connected(self) -> None:
        # stay offline until a new frame proves the stream is alive
        self.reconnects += 1
        self._set_state(DeviceState.OFFLINE, error="connected, waiting for frames", **self.settings())

    def _disconnect(self) -> None:
        if self._cap is not None:
            self._cap.release()
            self._cap = None

    def _idle(self) -> None:
        cap = self._cap
        if cap is None:
            raise DeviceLinkError("not connected")
        if self._file_period:
            delay = self._next_file_frame - time.monotonic()
            if delay > 0:
                time.sleep(delay)  # a file plays at its own rate, like a camera
            self._next_file_frame = max(self._next_file_frame + self._file_period, time.monotonic() - 1)
        ok, image = cap.read()
        now = time.monotonic()
        if not ok or image is None:
            if self._is_file and self.loop_files:
                cap.set(cv2.CAP_PROP_POS_FRAMES, 0)
            self._check_watchdog(now, "read() returned no frame")
            return
        crc = zlib.crc32(np.ascontiguousarray(image).data)
        if crc == self._last_crc:
            self.frozen_frames += 1
            self._check_watchdog(now, "the stream repeats the same frame")
            return
        self._last_crc = crc
        self._deliver(image, now)

    # -- internals ---------------------------------------------------------------------------
    def _apply_settings(self, cap: Any) -> None:
        wanted = self.requested
        if wanted["width"] is not None:
            cap.set(cv2.CAP_PROP_FRAME_WIDTH, float(wanted["width"]))
        if wanted["height"] is not None:
            cap.set(cv2.CAP_PROP_FRAME_HEIGHT, float(wanted["height"]))
        if wanted["fps"] is not None:
            cap.set(cv2.CAP_PROP_FPS, float(wanted["fps"]))
        actual = {
            "width": cap.get(cv2.CAP_PROP_FRAME_WIDTH) or None,
            "height": cap.get(cv2.CAP_PROP_FRAME_HEIGHT) or None,
            "fps": cap.get(cv2.CAP_PROP_FPS) or None,
        }
        with self._status_lock:
            self._actual = actual
        ignored = self.settings()["ignored"]
        if ignored:
            log.info("camera %s ignored requested %s: actual %s", self.url, ignored, actual)

    def _check_watchdog(self, now: float, reason: str) -> None:
        if now - self._last_new_frame > self.watchdog_s:
            raise DeviceLinkError(f"no new frame for {now - self._last_new_frame:.1f}s: {reason}")

    def _deliver(self, image: npt.NDArray[np.uint8], now: float) -> None:
        # a fresh contiguous array the caller may keep
        rgb: npt.NDArray[np.uint8] = np.asarray(cv2.cvtColor(image, cv2.COLOR_BGR2RGB), dtype=np.uint8)
        self._seq += 1
        frame = CameraFrame(rgb, time.time(), now, self._seq)
        with self._frame_lock:
            self._latest = frame
            subscribers = list(self._frame_subs)
        self._last_new_frame = now
        self.frames_delivered += 1
        if self._actual.get("width") != frame.width or self._actual.get("height") != frame.height:
            with self._status_lock:  # what the stream really delivers beats what the backend claims
                self._actual = {**self._actual, "width": float(frame.width), "height": float(frame.height)}
        if super().status().state is not DeviceState.ONLINE:
            self._set_state(DeviceState.ONLINE, error=None, **self.settings())
        for callback in subscribers:
            try:
                callback(frame)
            except Exception:  # a faulty subscriber must not stop the camera
                log.exception("frame subscriber failed")
