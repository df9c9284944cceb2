"""What the fleet's camera shows first: by default of ``smart-teller run --simulated`` the virtual person
of the seeded face-login customer, so face login can be tried without touching the panel."""

from __future__ import annotations

from pathlib import Path

import pytest

from bank.seed import FACE_LOGIN_CUSTOMERS
from devices.simcontrol import ControlClient
from simulators.fleet import FACE_LOGIN_CAMERA, SimulatorFleet, camera_options, default_faces_dir
from ui.commands.run import DEFAULT_CAMERA

FACES = default_faces_dir()
needs_faces = pytest.mark.skipif(not FACES.is_dir(), reason="the shared test faces are not here")


def test_face_login_camera_is_the_virtual_person_of_the_seeded_photo() -> None:
    photo = FACE_LOGIN_CUSTOMERS[0].face_photo
    assert DEFAULT_CAMERA == FACE_LOGIN_CAMERA
    if FACES.is_dir():
        assert camera_options(FACE_LOGIN_CAMERA, FACES) == {"source": "virtual_person", "photo": photo}


def test_a_photo_that_is_not_there_falls_back_to_the_video(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    assert camera_options(FACE_LOGIN_CAMERA, tmp_path) == {"source": "video"}
    assert "showing the video instead" in caplog.text
    assert camera_options("video", tmp_path) == {"source": "video"}


def test_named_sources_and_unknown_ones() -> None:
    if FACES.is_dir():
        assert camera_options("photo:obama_1.jpg", FACES) == {"source": "photo", "photo": "obama_1.jpg"}
    for wrong in ("webcam", "virtual_person", "clock:obama_1.jpg"):
        with pytest.raises(ValueError, match="unknown camera source"):
            camera_options(wrong, FACES)


@needs_faces
def test_the_fleet_camera_starts_with_the_face_login_person(tmp_path: Path) -> None:
    with SimulatorFleet(only=["camera"], out_dir=tmp_path, camera=FACE_LOGIN_CAMERA) as fleet:
        state = ControlClient(fleet.addresses["camera"]["control"]).call("state")
    assert state["source"] == "virtual_person"
    assert state["source_detail"] == f"virtual_person:{FACE_LOGIN_CUSTOMERS[0].face_photo}"
