"""A cooperative *virtual person* for the camera simulator: one face photo, animated on command.

It lets the demo, the tests and a developer at the control panel pass a liveness challenge without a real
face in front of a real camera. On ``act("blink")`` eyelids are painted over the eye landmarks for ~220 ms;
on ``act("turn_left")`` / ``act("turn_right")`` the face is warped as if the head turned (~1 s): the face is
modelled as a cylinder with a protruding nose, so the nose moves sideways more than the eyes, as on a real
head. Between actions a small idle sway and sensor noise keep the scene alive, as a live camera would.

Directions are the person's own: turning left moves the nose towards the image's right in the unmirrored
picture this source produces. Frames are BGR uint8, like OpenCV's ``VideoCapture``.
"""

from __future__ import annotations

import math
import threading
from dataclasses import dataclass
from pathlib import Path

import cv2
import numpy as np
import numpy.typing as npt

from kiosk.biometrics.faces import FaceAnalyzer, Landmarks
from kiosk.biometrics.images import load_rgb

FloatArray = npt.NDArray[np.float64]

BLINK_S = 0.28
TURN_S = 1.1
TURN_PEAK_DEG = 26.0
ACTIONS = ("blink", "turn_left", "turn_right", "idle")


@dataclass
class _Action:
    name: str
    started_at: float | None  # set by the first frame after act(): the source's own timeline


def _smooth_curve(points: FloatArray, samples: int = 16) -> FloatArray:
    """A smooth curve through the four points of one eyelid contour (corner, two lid points, corner)."""
    steps = np.linspace(0.0, 1.0, len(points))
    along = np.linspace(0.0, 1.0, samples)
    xs = np.interp(along, steps, points[:, 0])
    coefficients = np.polyfit(steps, points[:, 1], 2)
    return np.stack([xs, np.polyval(coefficients, along)], axis=1)


def _ease(x: float) -> float:
    return 0.5 - 0.5 * math.cos(math.pi * min(1.0, max(0.0, x)))


class VirtualPersonSource:
    """FrameSource: ``frame(t)`` gives a BGR frame at time ``t`` s; ``act(action)`` starts an action."""

    def __init__(
        self,
        photo: str | Path,
        seed: int = 0,
        size: tuple[int, int] = (640, 480),
        face_width: float = 0.4,
        light: float = 1.0,
    ) -> None:
        """``face_width``: the face's width as a fraction of the frame's (0.4 at arm's length; 0.25 is a
        customer standing back, 0.55 one leaning in). ``light``: the scene's brightness (1.0 as photographed;
        0.45 a dim branch corner, 1.4 a bright window behind the camera), applied as an exposure gain with
        the noise of the sensor after it."""
        if not 0.1 <= face_width <= 0.8:
            raise ValueError(f"face_width {face_width} must be between 0.1 and 0.8 of the frame")
        if not 0.2 <= light <= 2.0:
            raise ValueError(f"light {light} must be between 0.2 and 2.0")
        self.name = f"virtual_person:{Path(photo).name}"
        self.size = (int(size[0]), int(size[1]))  # JSON control calls pass a list
        self.face_width = float(face_width)
        self.light = float(light)
        self._rng = np.random.default_rng(seed)
        self._phase = float(np.random.default_rng(seed + 1).uniform(0, 2 * math.pi))
        self._lock = threading.Lock()
        self._actions: list[_Action] = []
        rgb = load_rgb(photo)
        analysis = FaceAnalyzer().analyse(rgb, encoding=False, landmarks=True)
        if analysis.landmarks is None:
            raise ValueError(f"{photo}: no face to animate ({analysis.outcome.value})")
        self._base, self._marks = self._compose(rgb, analysis.landmarks)
        self._skin = self._skin_colour()

    # --- the FrameSource protocol -------------------------------------------------------------------

    def act(self, action: str) -> None:
        if action not in ACTIONS:
            raise ValueError(f"unknown action {action!r}; expected one of {', '.join(ACTIONS)}")
        with self._lock:
            if action == "idle":
                self._actions.clear()
            else:
                self._actions.append(_Action(action, None))

    def frame(self, t: float) -> npt.NDArray[np.uint8]:
        blink, yaw_deg = self._pose_at(t)
        image = self._base.copy()
        marks = {name: points.copy() for name, points in self._marks.items()}
        if blink > 0.0:
            self._paint_eyelids(image, marks, blink)
        if yaw_deg != 0.0:
            image = self._turn(image, marks, yaw_deg)
        # Idle sway: a live person never holds perfectly still.
        # Slow sway plus a faster tremor (incommensurate frequencies, so it never loops): about as much
        # frame-to-frame change as the real video in ../shared/faces shows.
        phase = self._phase
        dx = 6.0 * math.sin(2 * math.pi * 0.45 * t + phase) + 2.0 * math.sin(
            2 * math.pi * 1.3 * t + 2 * phase
        )
        dy = 3.0 * math.sin(2 * math.pi * 0.31 * t + 3 * phase) + 1.5 * math.sin(
            2 * math.pi * 1.7 * t + phase
        )
        zoom = 1.0 + 0.006 * math.sin(2 * math.pi * 0.2 * t)
        width, height = self.size
        # OpenCV's stubs type every result as any integer or float array; the np.asarray calls only say
        # what they are (the matrix is float64, the warped image 8-bit like its input): no copies.
        matrix = np.asarray(
            cv2.getRotationMatrix2D((width / 2, height / 2), 0.4 * math.sin(2 * math.pi * 0.17 * t), zoom),
            dtype=np.float64,
        )
        matrix[:, 2] += (dx, dy)
        image = np.asarray(
            cv2.warpAffine(image, matrix, self.size, flags=cv2.INTER_LINEAR, borderMode=cv2.BORDER_REPLICATE),
            dtype=np.uint8,
        )
        noise = self._rng.normal(0.0, 1.5, image.shape)
        noisy = np.clip(image.astype(np.float32) * self.light + noise, 0, 255).astype(np.uint8)
        return np.ascontiguousarray(noisy[..., ::-1])  # RGB -> BGR

    # --- animation ------------------------------------------------------------------------------------

    def _pose_at(self, t: float) -> tuple[float, float]:
        """Eyelid closure (0..1) and head yaw (degrees, + = the person's left) at time t."""
        blink = 0.0
        yaw = 0.0
        with self._lock:
            for action in self._actions:
                if action.started_at is None:
                    action.started_at = t
            live: list[_Action] = []
            for action in self._actions:
                assert action.started_at is not None
                elapsed = t - action.started_at
                if action.name == "blink":
                    if elapsed <= BLINK_S:
                        # close over 30 %, stay shut, reopen over the last 30 %
                        x = elapsed / BLINK_S
                        blink = max(blink, min(1.0, _ease(x / 0.3), _ease((1.0 - x) / 0.3)))
                        live.append(action)
                elif elapsed <= TURN_S:
                    x = elapsed / TURN_S
                    amount = min(_ease(x / 0.3), _ease((1.0 - x) / 0.3))
                    sign = 1.0 if action.name == "turn_left" else -1.0
                    yaw += sign * TURN_PEAK_DEG * amount
                    live.append(action)
            self._actions = live
        return blink, yaw

    def _compose(
        self, rgb: npt.NDArray[np.uint8], landmarks: Landmarks
    ) -> tuple[npt.NDArray[np.uint8], dict[str, FloatArray]]:
        """Scale and place the photo: the face ``face_width`` of the frame wide, a little above centre."""
        width, height = self.size
        chin = np.asarray(landmarks["chin"], dtype=np.float64)
        face_width = float(chin[:, 0].max() - chin[:, 0].min())
        eyes = np.asarray(landmarks["left_eye"] + landmarks["right_eye"], dtype=np.float64)
        centre_x = float(eyes[:, 0].mean())
        centre_y = float((eyes[:, 1].mean() + chin[:, 1].max()) / 2)
        scale = self.face_width * width / max(face_width, 1.0)
        matrix = np.array(
            [[scale, 0.0, width / 2 - scale * centre_x], [0.0, scale, height * 0.52 - scale * centre_y]]
        )
        base = cv2.warpAffine(rgb, matrix, self.size, flags=cv2.INTER_AREA, borderMode=cv2.BORDER_REPLICATE)
        marks = {}
        for name, points in landmarks.items():
            array = np.asarray(points, dtype=np.float64)
            marks[name] = array @ matrix[:, :2].T + matrix[:, 2]
        return np.ascontiguousarray(base), marks

    def _skin_colour(self) -> FloatArray:
        """The median colour of the cheeks just below the eyes: what an eyelid looks like."""
        samples = []
        for eye in (self._marks["left_eye"], self._marks["right_eye"]):
            eye_width = float(eye[:, 0].max() - eye[:, 0].min())
            x0, x1 = int(eye[:, 0].min()), int(eye[:, 0].max())
            y0 = int(eye[:, 1].max() + 0.35 * eye_width)
            patch = self._base[y0 : y0 + max(2, int(0.3 * eye_width)), x0:x1]
            if patch.size:
                samples.append(patch.reshape(-1, 3))
        if not samples:
            return np.array([180.0, 140.0, 120.0])
        return np.asarray(np.median(np.concatenate(samples), axis=0), dtype=np.float64)

    def _paint_eyelids(
        self, image: npt.NDArray[np.uint8], marks: dict[str, FloatArray], closure: float
    ) -> None:
        """Lower each upper lid by ``closure``: skin from above the eye down to the lid edge, whose dark lash
        line ends on the lower eye contour when the eye is shut (what dlib's landmark model expects)."""
        for name in ("left_eye", "right_eye"):
            eye = marks[name]
            eye_width = float(np.linalg.norm(eye[3] - eye[0]))
            pad = max(2.0, 0.15 * eye_width)
            upper = _smooth_curve(np.stack([eye[0], eye[1], eye[2], eye[3]]))
            lower = _smooth_curve(np.stack([eye[0], eye[5], eye[4], eye[3]]))
            lid_edge = upper + closure * (lower - upper)
            above = upper - np.array([0.0, pad])
            above[0] -= (pad * 0.6, 0.0)
            above[-1] += (pad * 0.6, 0.0)
            polygon = np.concatenate([above, lid_edge[::-1] + np.array([0.0, 1.0])]).astype(np.int32)
            region = np.zeros(image.shape[:2], dtype=np.uint8)
            cv2.fillPoly(region, [polygon], 255, cv2.LINE_AA)
            soft = cv2.GaussianBlur(region, (0, 0), max(0.8, pad / 4)).astype(np.float32)[..., None] / 255.0
            blended = image.astype(np.float32) * (1.0 - soft) + self._skin.astype(np.float32) * soft
            image[:] = np.clip(blended, 0, 255).astype(np.uint8)
            lash = tuple(float(c) for c in self._skin * (1.0 - 0.7 * closure))
            cv2.polylines(
                image, [lid_edge.astype(np.int32)], False, lash, max(1, round(0.07 * eye_width)), cv2.LINE_AA
            )

    def _turn(
        self, image: npt.NDArray[np.uint8], marks: dict[str, FloatArray], yaw_deg: float
    ) -> npt.NDArray[np.uint8]:
        """Warp the head as a cylinder with a protruding nose, turned by ``yaw_deg`` about its axis."""
        theta = math.radians(yaw_deg)
        chin = marks["chin"]
        eyes = np.concatenate([marks["left_eye"], marks["right_eye"]])
        centre_x = float(eyes[:, 0].mean())
        radius = 0.55 * float(chin[:, 0].max() - chin[:, 0].min())
        nose_x, nose_y = (float(v) for v in marks["nose_bridge"][-1])
        head_top = float(eyes[:, 1].mean()) - 1.3 * radius
        head_bottom = float(chin[:, 1].max()) + 0.2 * radius
        height, width = image.shape[:2]
        xs, ys = np.meshgrid(np.arange(width, dtype=np.float32), np.arange(height, dtype=np.float32))
        u = (xs - centre_x) / radius
        depth = np.sqrt(np.clip(1.0 - u * u, 0.0, None))
        sigma = 0.38 * radius
        depth += 0.5 * np.exp(-((xs - nose_x) ** 2 + ((ys - nose_y) * 0.7) ** 2) / (2 * sigma**2))
        shift = radius * (u * (math.cos(theta) - 1.0) + (depth - 1.0) * math.sin(theta))
        # Only the head moves: fade the displacement out beyond the cheeks and above/below the head.
        outside = np.clip(np.abs(u) - 1.0, 0.0, None)
        vertical = np.clip(np.maximum(head_top - ys, ys - head_bottom), 0.0, None) / radius
        window = np.exp(-(outside**2) / 0.08) * np.exp(-(vertical**2) / 0.08)
        map_x = (xs - shift * window).astype(np.float32)
        warped = cv2.remap(image, map_x, ys, cv2.INTER_LINEAR, borderMode=cv2.BORDER_REPLICATE)
        return np.asarray(warped, dtype=np.uint8)  # 8-bit in, 8-bit out: the same array, typed as such
