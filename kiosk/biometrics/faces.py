"""Face detection, landmarks and 128-d encodings with face_recognition (dlib).

Detection uses dlib's HOG detector on a downscaled copy of the frame (cheap; the scale lives in
:class:`BiometricsConfig`); the largest face's box is mapped back to full resolution for the landmarks and
the encoding, which need the detail. This module imports face_recognition lazily: it is meant to run
inside the worker process (dlib holds the GIL while it works).
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from enum import StrEnum
from typing import Any

import cv2
import numpy as np
import numpy.typing as npt

from kiosk.biometrics.config import BiometricsConfig
from kiosk.biometrics.images import RgbImage, normalise_array

Point = tuple[int, int]
Landmarks = dict[str, tuple[Point, ...]]
Encoding = npt.NDArray[np.float64]


class FaceOutcome(StrEnum):
    OK = "ok"
    NO_FACE = "no_face"
    SEVERAL_FACES = "several_faces"  # ask the customer to stand alone
    PARTIAL_FACE = "partial_face"  # the face box is cut by the frame edge


@dataclass(frozen=True)
class FaceBox:
    """A face rectangle in full-resolution pixel coordinates (face_recognition's css order)."""

    top: int
    right: int
    bottom: int
    left: int

    @property
    def width(self) -> int:
        return max(0, self.right - self.left)

    @property
    def height(self) -> int:
        return max(0, self.bottom - self.top)

    @property
    def area(self) -> int:
        return self.width * self.height

    def as_css(self) -> tuple[int, int, int, int]:
        return (self.top, self.right, self.bottom, self.left)


@dataclass(frozen=True)
class FaceAnalysis:
    """What one image holds. ``box``/``encoding``/``landmarks`` describe the largest face, if any."""

    outcome: FaceOutcome
    faces_found: int
    box: FaceBox | None = None
    encoding: Encoding | None = None
    landmarks: Landmarks | None = None
    image_size: tuple[int, int] = (0, 0)  # (width, height)

    def to_journal(self) -> dict[str, Any]:
        """Outcome and geometry only: never pixels, never the encoding (that is biometric data)."""
        return {
            "outcome": self.outcome.value,
            "faces_found": self.faces_found,
            "face_px": None if self.box is None else [self.box.width, self.box.height],
            "image_px": list(self.image_size),
        }


def detection_scale_for(shape: tuple[int, ...], config: BiometricsConfig) -> float:
    """The configured downscale, but never below ``detection_min_side`` on the short side, never up."""
    short_side = min(shape[0], shape[1])
    floor = min(1.0, config.detection_min_side / short_side) if short_side > 0 else 1.0
    return min(1.0, max(config.detection_scale, floor))


class FaceAnalyzer:
    """Detects, measures and encodes faces. Create one per process: dlib's models load once."""

    def __init__(self, config: BiometricsConfig | None = None) -> None:
        import face_recognition  # heavy: loads the dlib models (~100 MB)

        self.config = config or BiometricsConfig()
        self._fr: Any = face_recognition

    def detect(self, rgb: RgbImage) -> tuple[list[FaceBox], bool]:
        """All face boxes (full-resolution coordinates, largest first) and whether the largest is cut off."""
        scale = detection_scale_for(rgb.shape, self.config)
        if scale < 1.0:
            height, width = rgb.shape[:2]
            size = (max(1, round(width * scale)), max(1, round(height * scale)))
            small = cv2.resize(rgb, size, interpolation=cv2.INTER_AREA)
        else:
            small = rgb
        small_h, small_w = small.shape[:2]
        css_boxes = self._fr.face_locations(small, self.config.detection_upsample, "hog")
        margin = self.config.partial_face_margin_px
        boxes: list[tuple[FaceBox, bool]] = []
        for top, right, bottom, left in css_boxes:
            cut = (
                top < margin or left < margin or bottom > small_h - 1 - margin or right > small_w - 1 - margin
            )
            box = FaceBox(
                top=math.floor(top / scale),
                right=min(rgb.shape[1], math.ceil(right / scale)),
                bottom=min(rgb.shape[0], math.ceil(bottom / scale)),
                left=math.floor(left / scale),
            )
            boxes.append((box, cut))
        boxes.sort(key=lambda item: item[0].area, reverse=True)
        largest_cut = bool(boxes) and boxes[0][1]
        return [box for box, _ in boxes], largest_cut

    def analyse(self, image: RgbImage, *, encoding: bool = True, landmarks: bool = False) -> FaceAnalysis:
        rgb = normalise_array(image)
        size = (int(rgb.shape[1]), int(rgb.shape[0]))
        boxes, largest_cut = self.detect(rgb)
        if not boxes:
            return FaceAnalysis(FaceOutcome.NO_FACE, 0, image_size=size)
        largest = boxes[0]
        significant = [
            b for b in boxes[1:] if b.area >= self.config.several_faces_min_area_ratio * largest.area
        ]
        if significant:
            outcome = FaceOutcome.SEVERAL_FACES
        elif largest_cut:
            outcome = FaceOutcome.PARTIAL_FACE
        else:
            outcome = FaceOutcome.OK
        face_encoding: Encoding | None = None
        if encoding:
            found = self._fr.face_encodings(rgb, [largest.as_css()], self.config.num_jitters, "small")
            face_encoding = np.asarray(found[0], dtype=np.float64) if found else None
        face_landmarks: Landmarks | None = None
        if landmarks:
            marks = self._fr.face_landmarks(rgb, [largest.as_css()], "large")
            if marks:
                face_landmarks = {
                    name: tuple((int(x), int(y)) for x, y in points) for name, points in marks[0].items()
                }
        return FaceAnalysis(outcome, len(boxes), largest, face_encoding, face_landmarks, size)


def face_distance(a: Encoding, b: Encoding) -> float:
    """Euclidean distance of two 128-d encodings (face_recognition's measure)."""
    return float(np.linalg.norm(np.asarray(a, dtype=np.float64) - np.asarray(b, dtype=np.float64)))
