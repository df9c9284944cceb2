"""Head pose in 3-D from the 68 landmarks: yaw, pitch and roll, each on its own.

``cv2.solvePnP`` fits a generic 3-D face to 14 of dlib's landmarks (eyebrow and eye corners, the nose
wings, the mouth corners, the lower lip and the chin). The model is the anthropometric head of Martins &
Batista (ISR Coimbra, ``glAnthropometric3DModel.cpp``), the 14-point set that many open head-pose
estimators use with dlib's landmarks. The camera is taken as a pinhole whose focal length is the image
width, centred, without distortion: good enough for angles of a few degrees.

The rotation is split as R = Rz(roll) · Ry(yaw) · Rx(pitch): roll is applied last, about the camera's own
axis, so a picture turned in its own plane shows up as roll and leaves yaw alone. That is the point: a
printed photo or a phone tilted on cue must not pass a "turn your head" step.

Signs: yaw > 0 when the nose points towards the image's right (the customer's left in an unmirrored
image), pitch > 0 when the chin goes down, roll > 0 when the head tilts clockwise in the image.

Alongside the angles, :func:`planar_residual` says how well the landmarks of two frames are related by a
homography (the image of a flat object moved in space): a real head turning shows parallax (the nose
moves against the cheeks), a photo or a screen does not, however it is tilted or turned.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import cv2
import numpy as np
import numpy.typing as npt

from kiosk.biometrics.faces import Landmarks

FloatArray = npt.NDArray[np.float64]

# face_recognition's feature names, in dlib's 68-point order (its lips list the outer then inner contour).
_FEATURE_ORDER = (
    "chin",  # 0-16
    "left_eyebrow",  # 17-21
    "right_eyebrow",  # 22-26
    "nose_bridge",  # 27-30
    "nose_tip",  # 31-35
    "left_eye",  # 36-41
    "right_eye",  # 42-47
)

# (dlib index, model x, y, z): x to the image's right, y down, z away from the camera; units ~cm.
# Martins & Batista's model has x to the subject's left, y up and z towards the viewer: negated here so a
# frontal face has the identity rotation.
_MODEL: tuple[tuple[int, float, float, float], ...] = (
    (17, -6.825897, -6.760612, -4.402142),  # brow, outer end (image left)
    (21, -1.330353, -7.122144, -6.903745),  # brow, inner end
    (22, 1.330353, -7.122144, -6.903745),
    (26, 6.825897, -6.760612, -4.402142),
    (36, -5.311432, -5.485328, -3.987654),  # eye corners
    (39, -1.789930, -5.393625, -4.413414),
    (42, 1.789930, -5.393625, -4.413414),
    (45, 5.311432, -5.485328, -3.987654),
    (31, -2.005628, -1.409845, -6.165652),  # nose wings
    (35, 2.005628, -1.409845, -6.165652),
    (48, -2.774015, 2.080775, -5.048531),  # mouth corners
    (54, 2.774015, 2.080775, -5.048531),
    (57, 0.000000, 3.116408, -6.097667),  # lower lip, centre
    (8, 0.000000, 7.415691, -4.070434),  # chin
)
_MODEL_POINTS = np.array([[x, y, z] for _, x, y, z in _MODEL], dtype=np.float64)
_MODEL_INDICES = tuple(index for index, *_ in _MODEL)


@dataclass(frozen=True)
class HeadPose:
    """Angles in degrees; ``fit`` is the RMS reprojection error in inter-ocular distances."""

    yaw: float
    pitch: float
    roll: float
    fit: float


def landmark_array(landmarks: Landmarks) -> FloatArray:
    """The 68 points in dlib's order (x, y), from face_recognition's feature dictionary."""
    points: list[tuple[float, float]] = []
    for name in _FEATURE_ORDER:
        points.extend((float(x), float(y)) for x, y in landmarks[name])
    top, bottom = landmarks["top_lip"], landmarks["bottom_lip"]
    # top_lip: outer 48-54 then inner 64..60; bottom_lip: outer 54-59, 48 then inner 60, 67..64.
    outer = [*top[0:7], *bottom[1:6]]
    # inner 60..67: top_lip lists 64..60 at 7..11, bottom_lip lists 67..65 at 8..10.
    inner = [top[11], top[10], top[9], top[8], top[7], bottom[10], bottom[9], bottom[8]]
    points.extend((float(x), float(y)) for x, y in outer)
    points.extend((float(x), float(y)) for x, y in inner)
    if len(points) != 68:
        raise ValueError(f"expected 68 landmarks, got {len(points)}")
    return np.asarray(points, dtype=np.float64)


def interocular(points: FloatArray) -> float:
    """Distance between the eye centres (the unit the thresholds are in)."""
    return float(np.linalg.norm(points[36:42].mean(axis=0) - points[42:48].mean(axis=0)))


def head_pose(landmarks: Landmarks, image_size: tuple[int, int]) -> HeadPose:
    """Yaw, pitch and roll of the head whose 68 landmarks are given; ``image_size`` is (width, height)."""
    points = landmark_array(landmarks)
    image_points = np.ascontiguousarray(points[list(_MODEL_INDICES)])
    width, height = image_size
    focal = float(max(width, 1))
    camera = np.array([[focal, 0.0, width / 2.0], [0.0, focal, height / 2.0], [0.0, 0.0, 1.0]])
    # Start from a frontal face at a plausible distance: the iterative solver then never lands on the
    # mirror solution behind the camera.
    scale = interocular(points) / 7.1  # model eye centres are ~7.1 units apart
    rvec = np.zeros((3, 1), dtype=np.float64)
    tvec = np.array([[0.0], [0.0], [focal / max(scale, 1e-6)]], dtype=np.float64)
    centre = image_points.mean(axis=0)
    tvec[0, 0] = (centre[0] - width / 2.0) * tvec[2, 0] / focal
    tvec[1, 0] = (centre[1] - height / 2.0) * tvec[2, 0] / focal
    ok, rvec_out, tvec_out = cv2.solvePnP(
        _MODEL_POINTS, image_points, camera, None, rvec, tvec, True, cv2.SOLVEPNP_ITERATIVE
    )
    if not ok:
        raise ValueError("head pose: solvePnP found no solution")
    rotation = np.asarray(cv2.Rodrigues(np.asarray(rvec_out, dtype=np.float64))[0], dtype=np.float64)
    projected = np.asarray(
        cv2.projectPoints(_MODEL_POINTS, rvec_out, tvec_out, camera, None)[0], dtype=np.float64
    ).reshape(-1, 2)
    fit = float(np.sqrt(np.mean(np.sum((projected - image_points) ** 2, axis=1)))) / max(
        interocular(points), 1e-6
    )
    yaw, pitch, roll = _euler_zyx(rotation)
    return HeadPose(yaw=yaw, pitch=pitch, roll=roll, fit=fit)


def _euler_zyx(rotation: FloatArray) -> tuple[float, float, float]:
    """(yaw, pitch, roll) in degrees for R = Rz(roll) · Ry(yaw') · Rx(pitch), our signs."""
    beta = math.asin(max(-1.0, min(1.0, -float(rotation[2, 0]))))
    alpha = math.atan2(float(rotation[2, 1]), float(rotation[2, 2]))
    gamma = math.atan2(float(rotation[1, 0]), float(rotation[0, 0]))
    # Ry(+beta) swings the nose (z < 0) towards -x: our yaw is the opposite. Rx(+alpha) swings the nose
    # up (-y), i.e. the chin out and up: pitch > 0 is chin down, so negate that too.
    return -math.degrees(beta), -math.degrees(alpha), math.degrees(gamma)


def planar_residual(reference: Landmarks, current: Landmarks) -> float:
    """How far ``current``'s landmarks are from the best homography image of ``reference``'s.

    The largest point error after the fit, in inter-ocular distances. Any flat picture (a print, a phone
    screen) moved, tilted or turned in front of the camera maps its landmarks by a homography, so this
    stays at landmark noise (~0.02–0.04); a real head turned by 15° or more shows parallax well above it.
    """
    a = landmark_array(reference)
    b = landmark_array(current)
    # The jaw line is the head's silhouette, not points on its surface: its landmarks slide over the
    # cheek as the head turns. Leave it out and fit on the inner face.
    inner = slice(17, 68)
    a_in, b_in = a[inner], b[inner]
    homography, _ = cv2.findHomography(a_in, b_in, 0)
    if homography is None:
        return 0.0
    mapped = np.asarray(cv2.perspectiveTransform(a_in.reshape(-1, 1, 2), homography), dtype=np.float64)
    errors = np.linalg.norm(mapped.reshape(-1, 2) - b_in, axis=1)
    return float(np.max(errors)) / max(interocular(b), 1e-6)


_PLANE = [*range(17, 27), *range(36, 48), *range(48, 60)]  # brows, eyes, outer lips: the "face plane"
_NOSE = [30, 31, 32, 33, 34, 35]  # the tip and the wings: what stands out of that plane


def nose_parallax(reference: Landmarks, current: Landmarks) -> float:
    """Sideways move of the nose against the face plane between two frames, in inter-ocular distances.

    A homography fitted on the brows, eyes and lips of ``reference`` → ``current`` says where the nose
    would be if the face were flat (a print or a screen, however it is moved, tilted or turned); the
    nose's signed horizontal distance from there is the parallax only a real, protruding nose shows when
    the head turns. Positive towards the image's right, like yaw.
    """
    a = landmark_array(reference)
    b = landmark_array(current)
    homography, _ = cv2.findHomography(a[_PLANE], b[_PLANE], 0)
    if homography is None:
        return 0.0
    mapped = np.asarray(cv2.perspectiveTransform(a[_NOSE].reshape(-1, 1, 2), homography), dtype=np.float64)
    offset = float(np.mean(b[_NOSE, 0] - mapped.reshape(-1, 2)[:, 0]))
    return offset / max(interocular(b), 1e-6)
