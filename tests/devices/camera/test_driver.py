"""Camera driver against the MJPEG simulator: RGB frames, watchdog on frozen/stalled/dropped streams."""

from __future__ import annotations

import time
from collections.abc import Iterator
from pathlib import Path

import numpy as np
import pytest

from devices.base import Completion, DeviceState
from devices.camera.driver import OpenCvCameraDriver
from devices.camera.interface import CameraFrame
from devices.simcontrol import ControlClient
from simulators.camera import CameraServer, make_server

FACES = Path(__file__).resolve().parents[3] / ".." / "shared" / "faces"


@pytest.fixture
def cam() -> Iterator[CameraServer]:
    server = make_server(faces_dir=FACES, source="empty").start()
    yield server
    server.close()


@pytest.fixture
def driver(cam: CameraServer) -> Iterator[OpenCvCameraDriver]:
    drv = OpenCvCameraDriver(cam.describe()["url"])
    drv.start()
    yield drv
    drv.close()


def _until(predicate: object, timeout: float) -> float:
    started = time.monotonic()
    while time.monotonic() - started < timeout:
        if predicate():  # type: ignore[operator]
            return time.monotonic() - started
        time.sleep(0.02)
    raise AssertionError("condition not reached")


def test_frames_are_contiguous_rgb(driver: OpenCvCameraDriver) -> None:
    got: list[CameraFrame] = []
    driver.subscribe_frames(got.append)
    result = driver.capture(timeout=3).result(5)
    assert result.code is Completion.SUCCESS
    frame = result.value
    assert frame is not None
    assert frame.image.shape == (480, 640, 3) and frame.image.dtype == np.uint8
    assert frame.image.flags["C_CONTIGUOUS"]
    wall = frame.image[200:240, 50:100].reshape(-1, 3).mean(axis=0)
    assert wall[0] > wall[2]  # the simulated wall is warmer (more red than blue): channels are RGB
    _until(lambda: len(got) >= 5, 3)
    assert [f.seq for f in got] == sorted({f.seq for f in got})
    assert driver.status().state is DeviceState.ONLINE


def test_settings_are_read_back(driver: OpenCvCameraDriver) -> None:
    driver.capture(timeout=3).result(5)
    settings = driver.settings()
    assert settings["requested"] == {"width": 640, "height": 480, "fps": 30.0}
    assert settings["actual"]["width"] == 640 and settings["actual"]["height"] == 480
    # FFmpeg's MJPEG demuxer reports 25 fps whatever the stream does: the ignored request is reported
    assert settings["actual"]["fps"] is not None
    assert ("fps" in settings["ignored"]) == (abs(settings["actual"]["fps"] - 30.0) > 0.5)


@pytest.mark.parametrize("fault", ["freeze", "stall", "disconnect"])
def test_watchdog_offline_then_reconnect(cam: CameraServer, driver: OpenCvCameraDriver, fault: str) -> None:
    ctl = ControlClient(cam.describe()["control"])
    _until(lambda: driver.status().state is DeviceState.ONLINE, 5)
    ctl.call(fault)
    went_offline = _until(lambda: driver.status().state is not DeviceState.ONLINE, 4)
    assert went_offline < 2.0  # 1 s watchdog plus polling slack
    ctl.call("clear_faults")
    _until(lambda: driver.status().state is DeviceState.ONLINE, 5)
    assert driver.capture(timeout=3).result(5).ok


def test_photo_source_is_live_not_frozen(cam: CameraServer, driver: OpenCvCameraDriver) -> None:
    ControlClient(cam.describe()["control"]).call("source", name="photo")
    time.sleep(1.5)
    assert driver.status().state is DeviceState.ONLINE  # sensor noise: a photo attack still streams


def test_video_file_as_a_camera() -> None:
    drv = OpenCvCameraDriver(str(FACES / "short_hamilton_clip.mp4"), width=None, height=None, fps=None)
    drv.start()
    try:
        frame = drv.capture(timeout=3).result(5).value
        assert frame is not None and frame.image.shape == (360, 640, 3)
    finally:
        drv.close()


def test_missing_camera_stays_offline() -> None:
    drv = OpenCvCameraDriver("http://127.0.0.1:9/stream.mjpg", open_timeout_s=0.5)
    drv.start()
    try:
        result = drv.capture(timeout=0.8).result(3)
        assert result.code is Completion.OFFLINE
        assert drv.status().state is DeviceState.OFFLINE
    finally:
        drv.close()
