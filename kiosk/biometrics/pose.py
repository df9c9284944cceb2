"""Head pose from the 68 dlib landmarks, and the geometry checks that tell a head from a flat picture.

:func:`head_pose` fits a generic 3-D face model (12 anthropometric points, millimetres) to the image
landmarks with ``cv2.solvePnP`` (SQPnP: globally optimal for a given camera) and splits the rotation into
yaw, pitch and roll. The decomposition is R = Rz(roll) · Ry(yaw) · Rx(pitch) in camera axes, so rotating
the whole picture in its own plane (about the optical axis) changes only ``roll``: a photo tilted on cue is
not a turn.

A flat picture moved in any way (held, shaken, tilted, rotated about its vertical axis) is a plane, and a
plane's views are related by a homography. :func:`nose_parallax` fits a homography from the baseline
frame's outer face points (eye corners, mouth corners, chin, jaw) to the current frame's and measures how
far the nose tip has moved beyond what that plane predicts, along the eye line, in inter-ocular distances.
A real head turn moves the protruding nose further than the face's outline (parallax); a picture does not.

:func:`face_aspect` (nose bridge to mouth over the cheek width) drops when a picture is tipped back about
its horizontal axis; the blink measure divides that out so that flicking a photo is not a blink.

The camera is modelled as a pinhole with the focal length equal to the image width (a ~53° horizontal
field of view) and the principal point in the centre; only changes of pose relative to the session's own
baseline are judged, which makes the result insensitive to that guess.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import cv2
import numpy as np
import numpy.typing as npt

from kiosk.biometrics.faces import Landmarks

FloatArray = npt.NDArray[np.float64]

# The generic head, in camera-like axes: x to the image's right (the person's left), y down, z away from
# the camera; origin at the sellion (27). Millimetres, from adult anthropometric averages (Farkas): outer
# eye corners ~90 mm apart, inner ~32 mm, mouth ~50 mm wide, nasion to chin ~120 mm, nose tip ~25 mm in
# front of the nasion, outer eye corners ~22 mm behind it.
MODEL_INDICES = (27, 30, 31, 33, 35, 36, 39, 42, 45, 48, 54, 8)
MODEL_POINTS: FloatArray = np.array(
    [
        (0.0, 0.0, 0.0),  # 27 sellion (top of the nose bridge)
        (0.0, 45.0, -25.0),  # 30 nose tip (pronasale)
        (-14.0, 50.0, -3.0),  # 31 nose wing, image left
        (0.0, 55.0, -10.0),  # 33 subnasale
        (14.0, 50.0, -3.0),  # 35 nose wing, image right
        (-45.0, 5.0, 22.0),  # 36 outer eye corner, image left
        (-16.0, 5.0, 8.0),  # 39 inner eye corner, image left
        (16.0, 5.0, 8.0),  # 42 inner eye corner, image right
        (45.0, 5.0, 22.0),  # 45 outer eye corner, image right
        (-25.0, 75.0, 12.0),  # 48 mouth corner, image left
        (25.0, 75.0, 12.0),  # 54 mouth corner, image right
        (0.0, 118.0, 2.0),  # 8 chin (menton)
    ],
    dtype=np.float64,
)
# The points a picture's plane is fitted on: jaw line, chin, eye corners, mouth corners (not the nose).
PLANE_INDICES = (0, 2, 4, 6, 8, 10, 12, 14, 16, 36, 39, 42, 45, 48, 54)
NOSE_TIP = 30


@dataclass(frozen=True)
class HeadPose:
    """Degrees. yaw > 0: the nose points towards the image's right (the person's left, unmirrored camera);
    pitch > 0: the chin goes down; roll > 0: the head tilts clockwise in the image."""

    yaw: float
    pitch: float
    roll: float


def landmarks_68(landmarks: Landmarks) -> FloatArray:
    """The 68 points in dlib's order, rebuilt from face_recognition's named groups (68x2 float)."""
    top_lip = landmarks["top_lip"]
    bottom_lip = landmarks["bottom_lip"]
    points = [
        *landmarks["chin"],  # 0-16
        *landmarks["left_eyebrow"],  # 17-21
        *landmarks["right_eyebrow"],  # 22-26
        *landmarks["nose_bridge"],  # 27-30
        *landmarks["nose_tip"],  # 31-35
        *landmarks["left_eye"],  # 36-41
        *landmarks["right_eye"],  # 42-47
        *top_lip[:7],  # 48-54
        *bottom_lip[1:6],  # 55-59
        top_lip[11],  # 60
        top_lip[10],  # 61
        top_lip[9],  # 62
        top_lip[8],  # 63
        top_lip[7],  # 64
        bottom_lip[10],  # 65
        bottom_lip[9],  # 66
        bottom_lip[8],  # 67
    ]
    array = np.asarray(points, dtype=np.float64)
    if array.shape != (68, 2):
        raise ValueError(f"expected 68 landmarks, got {array.shape[0]}")
    return array


def has_68(landmarks: Landmarks) -> bool:
    groups = ("chin", "left_eyebrow", "right_eyebrow", "nose_bridge", "nose_tip", "left_eye", "right_eye")
    return all(name in landmarks for name in (*groups, "top_lip", "bottom_lip"))


def camera_matrix(image_size: tuple[int, int]) -> FloatArray:
    width, height = image_size
    focal = float(max(width, 1))
    return np.array([[focal, 0.0, width / 2.0], [0.0, focal, height / 2.0], [0.0, 0.0, 1.0]])


def euler_zyx(rotation: FloatArray) -> HeadPose:
    """Split R = Rz(roll) · Ry(yaw) · Rx(pitch) into degrees."""
    yaw = math.asin(max(-1.0, min(1.0, -float(rotation[2, 0]))))
    pitch = math.atan2(float(rotation[2, 1]), float(rotation[2, 2]))
    roll = math.atan2(float(rotation[1, 0]), float(rotation[0, 0]))
    # Ry's sign: positive yaw about +y turns the nose (-z) towards -x; we report nose-towards-+x as positive.
    return HeadPose(yaw=-math.degrees(yaw), pitch=math.degrees(pitch), roll=math.degrees(roll))


def head_pose(points: FloatArray, image_size: tuple[int, int]) -> HeadPose:
    """Yaw, pitch and roll of the head whose 68 landmarks are ``points`` in an image of ``image_size``."""
    image_points = np.ascontiguousarray(points[list(MODEL_INDICES)], dtype=np.float64).reshape(-1, 1, 2)
    ok, rvec, _tvec = cv2.solvePnP(
        MODEL_POINTS.reshape(-1, 1, 3),
        image_points,
        camera_matrix(image_size),
        np.zeros(4),
        flags=cv2.SOLVEPNP_SQPNP,
    )
    if not ok:
        return HeadPose(0.0, 0.0, 0.0)
    rotation, _ = cv2.Rodrigues(rvec)
    return euler_zyx(np.asarray(rotation, dtype=np.float64))


def interocular(points: FloatArray) -> float:
    """Distance between the eye centres (mean of each eye's six points)."""
    return float(np.linalg.norm(points[42:48].mean(axis=0) - points[36:42].mean(axis=0)))


def face_aspect(points: FloatArray) -> float:
    """Nose bridge top (27) to the mouth corners' midpoint over the cheek width (2-14): it uses no eye
    point, so a blink leaves it alone (within ~4 % on the virtual person), it ignores roll, and it shrinks
    by cos φ when a picture is tipped back by φ about its horizontal axis."""
    mouth = (points[48] + points[54]) / 2.0
    width = float(np.linalg.norm(points[14] - points[2]))
    return float(np.linalg.norm(mouth - points[27])) / width if width > 0 else 0.0


def nose_parallax(baseline: FloatArray, current: FloatArray) -> float:
    """How far the nose tip moved beyond the face plane's motion, along the current eye line (+ = image
    right), in inter-ocular distances. ~0 for any view of a flat picture; grows with a real head turn."""
    source = np.ascontiguousarray(baseline[list(PLANE_INDICES)], dtype=np.float64)
    target = np.ascontiguousarray(current[list(PLANE_INDICES)], dtype=np.float64)
    homography, _ = cv2.findHomography(source, target, 0)
    if homography is None:
        return 0.0
    nose = np.array([baseline[NOSE_TIP, 0], baseline[NOSE_TIP, 1], 1.0])
    mapped = homography @ nose
    if abs(float(mapped[2])) < 1e-9:
        return 0.0
    predicted = mapped[:2] / mapped[2]
    offset = current[NOSE_TIP] - predicted
    eye_line = current[42:48].mean(axis=0) - current[36:42].mean(axis=0)
    length = float(np.linalg.norm(eye_line))
    if length <= 0:
        return 0.0
    return float(np.dot(offset, eye_line / length)) / length
