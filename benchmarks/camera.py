"""Camera frame rate and latency through the driver vs OpenCV reading the same MJPEG stream directly.

The simulator serves the ``clock`` source: each frame carries the wall-clock millisecond at which it was
rendered, painted as 48 black/white blocks, so latency = arrival time - stamped time (same machine).
"""

from __future__ import annotations

import statistics
import threading
import time
from typing import Any

import cv2

from devices.camera.driver import OpenCvCameraDriver
from devices.camera.interface import CameraFrame
from simulators.camera import make_server
from simulators.camera.sources import as_frame, decode_clock


def _summary(latencies_ms: list[float], frames: int, seconds: float) -> dict[str, float]:
    ordered = sorted(latencies_ms) or [float("nan")]
    return {
        "fps": round(frames / seconds, 2),
        "latency_median_ms": round(statistics.median(ordered), 1),
        "latency_p95_ms": round(ordered[int(0.95 * (len(ordered) - 1))], 1),
    }


def _direct(url: str, seconds: float) -> dict[str, float]:
    cap = cv2.VideoCapture(url, cv2.CAP_FFMPEG, [cv2.CAP_PROP_OPEN_TIMEOUT_MSEC, 3000])
    latencies: list[float] = []
    frames = 0
    try:
        cap.read()  # connection warm-up
        started = time.monotonic()
        while time.monotonic() - started < seconds:
            ok, image = cap.read()
            if not ok:
                continue
            frames += 1
            latencies.append(time.time() * 1000 - decode_clock(as_frame(image)))
        elapsed = time.monotonic() - started
    finally:
        cap.release()
    return _summary(latencies, frames, elapsed)


def _driver(url: str, seconds: float) -> dict[str, float]:
    driver = OpenCvCameraDriver(url)
    latencies: list[float] = []
    lock = threading.Lock()
    counting = threading.Event()

    def on_frame(frame: CameraFrame) -> None:
        if counting.is_set():
            with lock:
                latencies.append(frame.timestamp * 1000 - decode_clock(frame.image))

    driver.subscribe_frames(on_frame)
    driver.start()
    try:
        driver.capture(timeout=5).result(6)  # warm-up
        counting.set()
        started = time.monotonic()
        time.sleep(seconds)
        counting.clear()
        elapsed = time.monotonic() - started
    finally:
        driver.close()
    with lock:
        return _summary(list(latencies), len(latencies), elapsed)


def run(quick: bool = False) -> dict[str, Any]:
    seconds = 3.0 if quick else 10.0
    server = make_server(source="clock", fps=30.0).start()
    try:
        url = server.describe()["url"]
        direct = _direct(url, seconds)
        through_driver = _driver(url, seconds)
    finally:
        server.close()
    return {
        "served_fps": 30.0,
        "frame_size": "640x480",
        "opencv_direct": direct,
        "driver": through_driver,
        "fps_ratio_driver_to_direct": round(through_driver["fps"] / direct["fps"], 3)
        if direct["fps"]
        else None,
        "seconds_per_run": seconds,
    }


if __name__ == "__main__":
    import json

    print(json.dumps(run(quick=True), indent=2))
