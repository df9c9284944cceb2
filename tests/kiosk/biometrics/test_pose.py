"""Head pose on real face photos (dlib landmarks): an in-plane tilt changes roll, not yaw; a real turn of the
virtual person changes yaw past the threshold, with parallax; a flat picture turned has none."""

from __future__ import annotations

from pathlib import Path

import cv2
import numpy as np
import pytest

from kiosk.biometrics.config import BiometricsConfig
from kiosk.biometrics.faces import FaceAnalyzer
from kiosk.biometrics.images import load_rgb
from kiosk.biometrics.liveness import FrameMeasures, head_yaw, measure
from kiosk.biometrics.pose import euler_zyx, nose_parallax
from simulators.camera.virtual_person import VirtualPersonSource

FACES = Path(__file__).resolve().parents[3] / ".." / "shared" / "faces"
PHOTOS = (
    "alex_lacamoire_1.png",
    "biden_1.jpg",
    "biden_2.jpg",
    "lin_manuel_miranda_1.png",
    "obama_1.jpg",
    "obama_2.jpg",
    "obama_480p.jpg",
)


@pytest.fixture(scope="module")
def analyzer() -> FaceAnalyzer:
    return FaceAnalyzer()


def rotated(image: np.ndarray, degrees: float) -> np.ndarray:
    """The photo rotated in its own plane (counter-clockwise as seen), on a padded canvas."""
    h, w = image.shape[:2]
    canvas = cv2.copyMakeBorder(image, h // 2, h // 2, w // 2, w // 2, cv2.BORDER_REPLICATE)
    height, width = canvas.shape[:2]
    matrix = cv2.getRotationMatrix2D((width / 2, height / 2), degrees, 1.0)
    return cv2.warpAffine(canvas, matrix, (width, height), borderMode=cv2.BORDER_REPLICATE)


def measured(analyzer: FaceAnalyzer, rgb: np.ndarray) -> tuple[FrameMeasures, float]:
    found = analyzer.analyse(np.ascontiguousarray(rgb), encoding=False, landmarks=True)
    assert found.landmarks is not None
    result = measure(found.landmarks, found.image_size)
    assert result is not None
    return result, head_yaw(found.landmarks)


def test_euler_split_of_a_pure_roll_is_roll() -> None:
    angle = np.radians(20.0)
    rz = np.array([[np.cos(angle), -np.sin(angle), 0], [np.sin(angle), np.cos(angle), 0], [0, 0, 1]])
    pose = euler_zyx(rz)
    assert pose.roll == pytest.approx(20.0) and pose.yaw == pytest.approx(0.0, abs=1e-9)
    assert pose.pitch == pytest.approx(0.0, abs=1e-9)


@pytest.mark.parametrize("photo", PHOTOS)
def test_an_in_plane_tilt_of_a_real_photo_changes_roll_not_yaw(analyzer: FaceAnalyzer, photo: str) -> None:
    image = load_rgb(FACES / photo)
    upright, upright_offset = measured(analyzer, rotated(image, 0.0))
    threshold = BiometricsConfig().turn_min_yaw_deg
    for degrees in (15.0, -15.0, 20.0, -20.0):
        tilted, tilted_offset = measured(analyzer, rotated(image, degrees))
        # The old measure moved by about a turn's worth (the bug) ...
        assert abs(tilted_offset - upright_offset) > 0.08, (photo, degrees)
        # ... the pose's yaw stays put and the tilt shows up as roll (cv2's angle is counter-clockwise).
        assert abs(tilted.yaw - upright.yaw) < threshold / 2, (photo, degrees, tilted.yaw, upright.yaw)
        assert tilted.roll - upright.roll == pytest.approx(-degrees, abs=5.0), (photo, degrees)
        assert abs(nose_parallax(upright.points, tilted.points)) < BiometricsConfig().turn_min_parallax / 2


def test_a_real_turn_of_the_virtual_person_passes_the_yaw_and_parallax_thresholds(
    analyzer: FaceAnalyzer,
) -> None:
    config = BiometricsConfig()
    for photo in ("lin_manuel_miranda_1.png", "biden_2.jpg"):
        source = VirtualPersonSource(FACES / photo, seed=1, analyzer=analyzer)
        frontal, _ = measured(analyzer, source.frame(0.0)[..., ::-1])
        source.act("turn_left")
        source.frame(0.1)  # the action starts with this frame
        left, _ = measured(analyzer, source.frame(0.6)[..., ::-1])
        source.act("turn_right")
        source.frame(2.0)
        right, _ = measured(analyzer, source.frame(2.5)[..., ::-1])
        assert left.yaw - frontal.yaw >= config.turn_min_yaw_deg, photo
        assert frontal.yaw - right.yaw >= config.turn_min_yaw_deg, photo
        assert nose_parallax(frontal.points, left.points) >= config.turn_min_parallax, photo
        assert -nose_parallax(frontal.points, right.points) >= config.turn_min_parallax, photo
