"""The camera simulator serves MJPEG that OpenCV itself can read; sources switch and faults apply."""

from __future__ import annotations

import time
import urllib.request
from collections.abc import Iterator
from pathlib import Path

import cv2
import numpy as np
import pytest

from devices.simcontrol import ControlClient, ControlError
from simulators.camera import CameraServer, make_server
from simulators.camera.sources import ClockSource, EmptySceneSource, VideoFileSource, decode_clock

FACES = Path(__file__).resolve().parents[3] / ".." / "shared" / "faces"


@pytest.fixture
def cam() -> Iterator[CameraServer]:
    server = make_server(faces_dir=FACES).start()
    yield server
    server.close()


def _open(url: str) -> cv2.VideoCapture:
    cap = cv2.VideoCapture(url, cv2.CAP_FFMPEG, [cv2.CAP_PROP_OPEN_TIMEOUT_MSEC, 3000,
                                                 cv2.CAP_PROP_READ_TIMEOUT_MSEC, 1000])  # fmt: skip
    assert cap.isOpened()
    return cap


def test_opencv_reads_the_stream(cam: CameraServer) -> None:
    cap = _open(cam.describe()["url"])
    try:
        frames = 0
        started = time.monotonic()
        while time.monotonic() - started < 3.0:
            ok, image = cap.read()
            if ok:
                frames += 1
                assert image.shape == (480, 640, 3)
        assert frames >= 20  # loose sanity check; the rate is measured in benchmarks/camera.py
    finally:
        cap.release()


def test_snapshot_and_source_switching(cam: CameraServer) -> None:
    ctl = ControlClient(cam.describe()["control"])
    assert ctl.call("source", name="photo", photo="biden_1.jpg")["source_detail"] == "photo:biden_1.jpg"
    time.sleep(0.1)
    with urllib.request.urlopen(cam.describe()["snapshot"], timeout=3) as reply:
        data = reply.read()
    image = cv2.imdecode(np.frombuffer(data, np.uint8), cv2.IMREAD_COLOR)
    assert image.shape == (480, 640, 3)
    assert ctl.call("source", name="empty")["source"] == "empty"
    with pytest.raises(ControlError, match="cannot"):
        ctl.call("act", action="blink")  # an empty room cannot blink
    with pytest.raises(ControlError, match="unknown camera source"):
        ctl.call("source", name="nope")


def test_disconnect_refuses_and_freeze_repeats_bytes(cam: CameraServer) -> None:
    ctl = ControlClient(cam.describe()["control"])
    ctl.call("freeze")
    first, seq = cam.wait_frame(-1, 2)
    second, _ = cam.wait_frame(seq, 2)
    assert first is not None and first == second
    ctl.call("disconnect")
    cap = cv2.VideoCapture(cam.describe()["url"], cv2.CAP_FFMPEG, [cv2.CAP_PROP_OPEN_TIMEOUT_MSEC, 1000])
    assert not cap.isOpened()
    cap.release()
    ctl.call("clear_faults")
    _open(cam.describe()["url"]).release()


def test_sources_give_bgr_frames_that_never_repeat_exactly() -> None:
    empty = EmptySceneSource(seed=1)
    a, b = empty.frame(0.0), empty.frame(1 / 30)
    assert a.shape == (480, 640, 3) and a.dtype == np.uint8 and not np.array_equal(a, b)
    video = VideoFileSource(FACES / "short_hamilton_clip.mp4")
    try:
        early, looped = video.frame(0.0), video.frame(60.0)  # past the end: the clip loops
        assert early.shape == looped.shape == (480, 640, 3)
    finally:
        video.close()
    stamped = ClockSource().frame(0.0)
    _ok, jpeg = cv2.imencode(".jpg", stamped)
    decoded = cv2.imdecode(jpeg, cv2.IMREAD_COLOR)
    assert abs(decode_clock(decoded) - time.time() * 1000) < 5000


def test_act_reaches_the_virtual_person(cam: CameraServer) -> None:
    pytest.importorskip("simulators.camera.virtual_person")
    ctl = ControlClient(cam.describe()["control"])
    state = ctl.call("source", name="virtual_person", photo="obama_1.jpg")
    assert state["source"] == "virtual_person"
    ctl.call("act", action="blink")
    with pytest.raises(ControlError):
        ctl.call("act", action="moonwalk")
