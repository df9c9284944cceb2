"""A presentation-attack test set for the liveness check, generated in code (ISO/IEC 30107-3 style).

Every *presentation* is a camera source (BGR frames of ``CAMERA_SIZE``) that a driver plays into a
:class:`~kiosk.biometrics.liveness.LivenessSession` at ``FPS``, telling the presenter each new prompt after
a human reaction time. Attack presentations are built from the face photos and the video in
``../shared/faces``; genuine ones are the camera simulator's virtual person doing what is asked.

Attack species (each named; see :data:`SPECIES`):

- ``print_still`` — a printed photo on a stand in front of the camera.
- ``print_shaken`` — a hand-held print, moved and shaken throughout (and harder on every prompt).
- ``print_tilted`` — a hand-held print tilted 15° or 20° in its own plane on a turn prompt, the way that
  moves the nose towards the asked side; on a blink prompt it is flicked back ~50° about its horizontal
  axis (which shrinks the eyes' aspect ratio).
- ``print_turned`` — a hand-held print rotated 30-45° about its vertical axis on a turn prompt (a
  perspective warp of a flat face), flicked back on a blink prompt.
- ``replay_tilted`` — a phone screen replaying a clip of the customer (the virtual person) who blinks
  exactly on the blink prompt, tilted 15° or 20° in plane on a turn prompt.
- ``replay_mistimed`` — a screen looping a real clip that acts at its own pace: either the shared video
  (a real person moving and turning) or a recording of the customer's earlier session (blinks and real
  turns, in that session's order and timing). It ignores the prompts.

The print and the screen are rendered as planes posed in 3-D in front of a pinhole camera (focal length =
image width), over a synthetic alcove, with print or screen tone and sensor noise. Everything is seeded.
"""

from __future__ import annotations

import math
import random
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from functools import lru_cache
from pathlib import Path
from typing import Any, Protocol

import cv2
import numpy as np
import numpy.typing as npt

from kiosk.biometrics.config import BiometricsConfig
from kiosk.biometrics.faces import FaceAnalyzer
from kiosk.biometrics.images import RgbImage
from kiosk.biometrics.liveness import (
    Challenge,
    LivenessDecision,
    LivenessFailure,
    LivenessProgress,
    LivenessSession,
    LivenessState,
    _Attempt,
    head_yaw,
)
from simulators.camera.sources import EmptySceneSource, default_faces_dir
from simulators.camera.virtual_person import VirtualPersonSource

Frame = npt.NDArray[np.uint8]
FloatArray = npt.NDArray[np.float64]

CAMERA_SIZE = (640, 480)
FPS = 15.0
FOCAL = float(CAMERA_SIZE[0])
# Photos dlib reads well, open-eyed and roughly frontal (docs/biometrics.md: the virtual person).
GENUINE_PHOTOS = ("alex_lacamoire_1.png", "lin_manuel_miranda_1.png", "biden_2.jpg", "obama_2.jpg")
PRINT_PHOTOS = (
    "alex_lacamoire_1.png",
    "biden_1.jpg",
    "biden_2.jpg",
    "lin_manuel_miranda_1.png",
    "obama_1.jpg",
    "obama_2.jpg",
    "obama_480p.jpg",
)
VIDEO = "short_hamilton_clip.mp4"
VIDEO_FACE_FRAMES = (84, 212)  # the stretch of the shared video with one face in view
# Genuine conditions: the face's share of the frame width (distance) and the light.
DISTANCES = {"near": 0.44, "arm": 0.4, "far": 0.28}
LIGHTS = ("office", "dim", "bright", "side")


class Presenter(Protocol):
    name: str

    def frame(self, t: float) -> Frame: ...

    def act(self, action: str) -> None: ...


# --- a plane in front of the camera ----------------------------------------------------------------------


@dataclass(frozen=True)
class PlanePose:
    """Where a flat artefact is: its centre (mm, camera axes) and its rotation (degrees).

    roll: about the optical axis (in its own plane); yaw: about its vertical axis; pitch: about its
    horizontal axis (positive tips the top away from the camera)."""

    distance: float
    x: float = 0.0
    y: float = 0.0
    yaw: float = 0.0
    pitch: float = 0.0
    roll: float = 0.0


def _rotation(yaw: float, pitch: float, roll: float) -> FloatArray:
    a, b, c = (math.radians(v) for v in (yaw, pitch, roll))
    ry = np.array([[math.cos(a), 0, math.sin(a)], [0, 1, 0], [-math.sin(a), 0, math.cos(a)]])
    rx = np.array([[1, 0, 0], [0, math.cos(b), -math.sin(b)], [0, math.sin(b), math.cos(b)]])
    rz = np.array([[math.cos(c), -math.sin(c), 0], [math.sin(c), math.cos(c), 0], [0, 0, 1]])
    return np.asarray(rz @ ry @ rx, dtype=np.float64)


def plane_homography(origin_px: tuple[float, float], mm_per_px: float, pose: PlanePose) -> FloatArray:
    """The homography taking the artefact's pixels to the camera image for the given pose; the pose's
    centre is the artefact's pixel ``origin_px`` (the face's centre: it is what the attacker aims)."""
    ox, oy = origin_px
    cam_w, cam_h = CAMERA_SIZE
    camera = np.array([[FOCAL, 0, cam_w / 2], [0, FOCAL, cam_h / 2], [0, 0, 1]])
    to_plane = np.array([[mm_per_px, 0, -mm_per_px * ox], [0, mm_per_px, -mm_per_px * oy], [0, 0, 1]])
    rotation = _rotation(pose.yaw, pose.pitch, pose.roll)
    extrinsic = np.column_stack([rotation[:, 0], rotation[:, 1], [pose.x, pose.y, pose.distance]])
    return np.asarray(camera @ extrinsic @ to_plane, dtype=np.float64)


def composite(background: Frame, content: Frame, homography: FloatArray) -> Frame:
    warped = cv2.warpPerspective(content, homography, CAMERA_SIZE, flags=cv2.INTER_LINEAR)
    mask = cv2.warpPerspective(
        np.full(content.shape[:2], 255, dtype=np.uint8), homography, CAMERA_SIZE, flags=cv2.INTER_LINEAR
    )
    alpha = (mask.astype(np.float32) / 255.0)[..., None]
    mixed = warped.astype(np.float32) * alpha + background.astype(np.float32) * (1.0 - alpha)
    result: Frame = np.clip(mixed, 0, 255).astype(np.uint8)
    return result


def _ease(x: float) -> float:
    return 0.5 - 0.5 * math.cos(math.pi * min(1.0, max(0.0, x)))


def _pulse(elapsed: float, rise: float, hold: float, fall: float) -> float:
    """0 → 1 over ``rise`` s, 1 for ``hold`` s, back to 0 over ``fall`` s."""
    if elapsed < 0 or elapsed > rise + hold + fall:
        return 0.0
    if elapsed < rise:
        return _ease(elapsed / rise)
    if elapsed < rise + hold:
        return 1.0
    return 1.0 - _ease((elapsed - rise - hold) / fall)


class _Hand:
    """A hand holding something: slow drift and tremor from incommensurate sines (seeded)."""

    def __init__(self, rng: np.random.Generator, mm: float, degrees: float) -> None:
        self.phases = rng.uniform(0, 2 * math.pi, 12)
        self.mm = mm
        self.degrees = degrees

    def offset(self, t: float) -> tuple[float, float, float, float, float, float]:
        p = self.phases

        def wave(i: int, f1: float, f2: float) -> float:
            return 0.75 * math.sin(2 * math.pi * f1 * t + p[i]) + 0.25 * math.sin(
                2 * math.pi * f2 * t + p[i + 6]
            )

        return (
            self.mm * wave(0, 0.37, 2.9),
            self.mm * 0.6 * wave(1, 0.29, 3.3),
            self.mm * 0.8 * wave(2, 0.23, 2.3),  # distance
            self.degrees * wave(3, 0.31, 3.7),  # yaw
            self.degrees * wave(4, 0.41, 2.7),  # pitch
            self.degrees * wave(5, 0.19, 3.1),  # roll
        )


@dataclass
class _Cue:
    action: str
    at: float | None = None  # set by the next frame: the presenter's own timeline


class _Artefact:
    """A flat thing held in front of the camera: subclasses say what it shows and how it is held."""

    def __init__(self, name: str, seed: int) -> None:
        self.name = name
        self.rng = np.random.default_rng(seed)
        self._noise_rng = np.random.default_rng(seed + 7)
        self._background = EmptySceneSource(seed=seed, size=CAMERA_SIZE).frame(0.0)
        self._cues: list[_Cue] = []
        self.mm_per_px = 1.0
        self.origin_px = (0.0, 0.0)
        self.rest = PlanePose(distance=500.0)

    def act(self, action: str) -> None:
        self._cues.append(_Cue(action))

    def _timed_cues(self, t: float) -> list[tuple[str, float]]:
        for cue in self._cues:
            if cue.at is None:
                cue.at = t
        return [(cue.action, t - cue.at) for cue in self._cues if cue.at is not None]

    def content(self, t: float) -> Frame:
        raise NotImplementedError

    def pose(self, t: float) -> PlanePose:
        return self.rest

    def frame(self, t: float) -> Frame:
        pose = self.pose(t)
        image = self.content(t)
        shown = composite(self._background, image, plane_homography(self.origin_px, self.mm_per_px, pose))
        noise = self._noise_rng.normal(0.0, 1.5, shown.shape)
        return np.clip(shown.astype(np.float32) + noise, 0, 255).astype(np.uint8)

    def _place(
        self, centre_px: tuple[float, float], face_px: float, face_fraction: float, distance: float
    ) -> None:
        """Size the artefact so the face (``face_px`` wide, centred at ``centre_px`` on the artefact) shows
        ``face_fraction`` of the camera width at ``distance`` mm."""
        wanted_px = face_fraction * CAMERA_SIZE[0]
        # camera px per content px at that distance = FOCAL * mm_per_px / distance
        self.mm_per_px = wanted_px / face_px * distance / FOCAL
        self.origin_px = centre_px
        self.rest = PlanePose(distance=distance)


def _sign_for(action: str) -> float:
    """+1 when the asked turn wants the nose towards the image's right (the customer's left)."""
    return 1.0 if action == "turn_left" else -1.0


@lru_cache(maxsize=16)
def _print_of(photo: Path) -> tuple[Frame, float, tuple[float, float]]:
    """The photo cropped around the face as a print (BGR, paper margin, print tone), the face width on it
    in pixels and the face's centre on it."""
    image = cv2.imread(str(photo), cv2.IMREAD_COLOR)
    if image is None:
        raise ValueError(f"cannot read {photo}")
    analyzer = _analyzer()
    found = analyzer.analyse(np.ascontiguousarray(image[..., ::-1]), encoding=False, landmarks=False)
    if found.box is None:
        raise ValueError(f"{photo}: no face")
    box = found.box
    cx, cy = (box.left + box.right) / 2, (box.top + box.bottom) / 2
    x0, x1 = max(0, int(cx - 1.3 * box.width)), min(image.shape[1], int(cx + 1.3 * box.width))
    y0, y1 = max(0, int(cy - 1.5 * box.height)), min(image.shape[0], int(cy + 1.6 * box.height))
    image = image[y0:y1, x0:x1]
    margin = max(8, image.shape[1] // 25)
    toned = np.clip(image.astype(np.float32) * 0.86 + 18.0, 0, 255).astype(np.uint8)  # ink on paper
    toned = cv2.GaussianBlur(toned, (3, 3), 0)
    paper = cv2.copyMakeBorder(
        toned, margin, margin, margin, margin, cv2.BORDER_CONSTANT, value=(235, 238, 240)
    )
    return np.ascontiguousarray(paper), float(box.width), (cx - x0 + margin, cy - y0 + margin)


@lru_cache(maxsize=1)
def _analyzer() -> FaceAnalyzer:
    return FaceAnalyzer()


class PrintAttack(_Artefact):
    """A printed photo. ``motion``: "still" | "shaken" | "tilted" | "turned" (see the module docstring)."""

    def __init__(self, photo: Path, motion: str, seed: int) -> None:
        super().__init__(f"print_{motion}:{photo.name}", seed)
        if motion not in ("still", "shaken", "tilted", "turned"):
            raise ValueError(motion)
        self.motion = motion
        self._paper, face_px, centre = _print_of(photo)
        rng = self.rng
        distance = float(rng.uniform(380, 620))
        self._place(centre, face_px, float(rng.uniform(0.28, 0.42)), distance)
        self.rest = PlanePose(
            distance=distance,
            x=float(rng.uniform(-25, 25)),
            y=float(rng.uniform(-15, 15)),
            yaw=float(rng.uniform(-4, 4)),
            pitch=float(rng.uniform(-4, 4)),
            roll=float(rng.uniform(-3, 3)),
        )
        self.tilt = float(rng.choice([15.0, 20.0]))
        self.turn = float(rng.uniform(30.0, 45.0))
        hand_mm, hand_deg = {"still": (0.0, 0.0), "shaken": (30.0, 9.0)}.get(motion, (4.0, 1.2))
        self._hand = _Hand(rng, hand_mm, hand_deg)

    def content(self, t: float) -> Frame:
        return self._paper

    def pose(self, t: float) -> PlanePose:
        dx, dy, dz, yaw, pitch, roll = self._hand.offset(t)
        rest = self.rest
        extra_yaw = extra_pitch = extra_roll = 0.0
        if self.motion != "still":
            for action, elapsed in self._timed_cues(t):
                if action == "blink":
                    # flick the print back about its horizontal axis: the eyes look narrower
                    extra_pitch += 50.0 * _pulse(elapsed, 0.1, 0.12, 0.1)
                elif action in ("turn_left", "turn_right"):
                    amount = _pulse(elapsed, 0.35, 1.2, 0.35)
                    sign = _sign_for(action)
                    if self.motion == "tilted":
                        extra_roll += -sign * self.tilt * amount  # nose swings towards the asked side
                    elif self.motion == "turned":
                        extra_yaw += -sign * self.turn * amount  # the picture faces the asked side
                    else:  # shaken: shake harder
                        extra_roll += 15.0 * amount * math.sin(2 * math.pi * 3.0 * elapsed)
                        extra_yaw += 15.0 * amount * math.sin(2 * math.pi * 2.3 * elapsed + 1.0)
        return PlanePose(
            distance=rest.distance + dz,
            x=rest.x + dx,
            y=rest.y + dy,
            yaw=rest.yaw + yaw + extra_yaw,
            pitch=rest.pitch + pitch + extra_pitch,
            roll=rest.roll + roll + extra_roll,
        )


def _screen_tone(frame: Frame) -> Frame:
    """What a camera sees of a phone screen: brighter blacks, a little blur, a faint pixel grid."""
    toned = cv2.GaussianBlur(frame.astype(np.float32) * 0.9 + 22.0, (3, 3), 0)
    grid = np.ones(frame.shape[:2], dtype=np.float32)
    grid[::3, :] = 0.94
    grid[:, ::3] *= 0.94
    shown = np.clip(toned * grid[..., None], 0, 255).astype(np.uint8)
    bezel: Frame = np.asarray(
        cv2.copyMakeBorder(shown, 14, 14, 14, 14, cv2.BORDER_CONSTANT, value=(12, 12, 12)), dtype=np.uint8
    )
    return bezel


# Where the virtual person's face sits on the screen (its frame, plus the bezel): centre, a little above.
_SCREEN_FACE_CENTRE = (CAMERA_SIZE[0] / 2 + 14, CAMERA_SIZE[1] * 0.45 + 14)


class ReplayTiltedAttack(_Artefact):
    """A phone replaying a clip of the customer at rest who blinks exactly on the blink prompt; tilted in
    its own plane on a turn prompt."""

    def __init__(self, photo: Path, seed: int) -> None:
        super().__init__(f"replay_tilted:{photo.name}", seed)
        rng = self.rng
        self._clip = VirtualPersonSource(photo, seed=seed, face_fraction=0.4, analyzer=_analyzer())
        distance = float(rng.uniform(250, 380))
        self._place(_SCREEN_FACE_CENTRE, 0.4 * CAMERA_SIZE[0], float(rng.uniform(0.25, 0.35)), distance)
        self.rest = PlanePose(distance=distance, x=float(rng.uniform(-20, 20)), y=float(rng.uniform(-10, 10)))
        self.tilt = float(rng.choice([15.0, 20.0]))
        self._hand = _Hand(rng, 3.0, 1.0)

    def act(self, action: str) -> None:
        super().act(action)
        if action == "blink":
            self._clip.act("blink")  # the attacker plays the customer's blink right on cue

    def content(self, t: float) -> Frame:
        return _screen_tone(self._clip.frame(t))

    def pose(self, t: float) -> PlanePose:
        dx, dy, dz, yaw, pitch, roll = self._hand.offset(t)
        extra_roll = 0.0
        for action, elapsed in self._timed_cues(t):
            if action in ("turn_left", "turn_right"):
                extra_roll += -_sign_for(action) * self.tilt * _pulse(elapsed, 0.35, 1.2, 0.35)
        rest = self.rest
        return PlanePose(
            distance=rest.distance + dz,
            x=rest.x + dx,
            y=rest.y + dy,
            yaw=yaw,
            pitch=pitch,
            roll=roll + extra_roll,
        )


@lru_cache(maxsize=1)
def _video_frames(path: Path) -> tuple[Frame, ...]:
    capture = cv2.VideoCapture(str(path))
    frames: list[Frame] = []
    try:
        index = 0
        while True:
            ok, frame = capture.read()
            if not ok:
                break
            if VIDEO_FACE_FRAMES[0] <= index <= VIDEO_FACE_FRAMES[1]:
                frames.append(np.ascontiguousarray(frame, dtype=np.uint8))
            index += 1
    finally:
        capture.release()
    if not frames:
        raise ValueError(f"{path}: no frames")
    return tuple(frames)


class ReplayMistimedAttack(_Artefact):
    """A screen looping a clip that acts at its own pace (the shared video, or a recorded earlier session
    of the customer with its own blink and turn); prompts are ignored."""

    def __init__(self, faces: Path, seed: int, photo: Path | None = None) -> None:
        kind = "earlier_session" if photo is not None else "video"
        super().__init__(f"replay_mistimed:{kind}:{photo.name if photo else VIDEO}", seed)
        rng = self.rng
        distance = float(rng.uniform(250, 380))
        self._offset = float(rng.uniform(0, 6.0))
        self._person: VirtualPersonSource | None = None
        self._video: tuple[Frame, ...] = ()
        if photo is not None:
            self._person = VirtualPersonSource(photo, seed=seed, face_fraction=0.4, analyzer=_analyzer())
            # The earlier session: rest, one action, a reaction time, the other action, rest; looped.
            order = ["blink", str(rng.choice(["turn_left", "turn_right"]))]
            rng.shuffle(order)
            first = float(rng.uniform(0.8, 1.6))
            second = first + (0.45 if order[0] == "blink" else 0.6) + float(rng.uniform(0.4, 1.2))
            self._script = [(first, order[0]), (second, order[1])]
            self._loop = second + float(rng.uniform(1.5, 2.5))
            self._played: set[tuple[int, int]] = set()
            self._place(_SCREEN_FACE_CENTRE, 0.4 * CAMERA_SIZE[0], float(rng.uniform(0.25, 0.35)), distance)
        else:
            self._video = _video_frames(faces / VIDEO)
            height, width = self._video[0].shape[:2]
            self._place((width / 2 + 14, height / 2 + 14), 95.0, float(rng.uniform(0.22, 0.3)), distance)
        self.rest = PlanePose(distance=distance, x=float(rng.uniform(-20, 20)), y=float(rng.uniform(-10, 10)))
        self._hand = _Hand(rng, 3.0, 1.0)

    def act(self, action: str) -> None:
        """The clip plays on whatever is asked."""

    def content(self, t: float) -> Frame:
        clip_t = t + self._offset
        if self._person is not None:
            loop = int(clip_t // self._loop)
            within = clip_t - loop * self._loop
            for index, (at, action) in enumerate(self._script):
                if within >= at and (loop, index) not in self._played:
                    self._played.add((loop, index))
                    self._person.act(action)
            return _screen_tone(self._person.frame(clip_t))
        index = int(clip_t * 30.0) % len(self._video)
        return _screen_tone(self._video[index])

    def pose(self, t: float) -> PlanePose:
        dx, dy, dz, yaw, pitch, roll = self._hand.offset(t)
        rest = self.rest
        return PlanePose(
            distance=rest.distance + dz, x=rest.x + dx, y=rest.y + dy, yaw=yaw, pitch=pitch, roll=roll
        )


# --- genuine presentations --------------------------------------------------------------------------------


def apply_light(frame: Frame, light: str) -> Frame:
    """Lighting of the kiosk alcove: office (as is), dim, bright (overexposed), side (one side darker)."""
    if light == "office":
        return frame
    image = frame.astype(np.float32)
    if light == "dim":
        image = 255.0 * (image / 255.0) ** 1.6 * 0.7
    elif light == "bright":
        image = image * 1.35 + 25.0
    elif light == "side":
        ramp = np.linspace(1.15, 0.45, frame.shape[1], dtype=np.float32)[None, :, None]
        image = image * ramp
    else:
        raise ValueError(f"unknown light {light!r}; expected one of {', '.join(LIGHTS)}")
    return np.clip(image, 0, 255).astype(np.uint8)


class GenuinePresenter:
    """The virtual person at a distance and in a light, doing what is asked."""

    def __init__(self, photo: Path, distance: str, light: str, seed: int) -> None:
        self.name = f"genuine:{photo.name}:{distance}:{light}"
        self.light = light
        self._person = VirtualPersonSource(
            photo, seed=seed, face_fraction=DISTANCES[distance], analyzer=_analyzer()
        )

    def act(self, action: str) -> None:
        self._person.act(action)

    def frame(self, t: float) -> Frame:
        return apply_light(self._person.frame(t), self.light)


# --- the set ------------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Presentation:
    species: str  # "genuine" or an attack species
    seed: int
    build: Callable[[], Presenter] = field(compare=False, repr=False)

    @property
    def genuine(self) -> bool:
        return self.species == "genuine"


SPECIES = ("print_still", "print_shaken", "print_tilted", "print_turned", "replay_tilted", "replay_mistimed")


def attack_presentations(
    species: str, count: int, seed: int = 0, faces: Path | None = None
) -> list[Presentation]:
    """``count`` seeded presentations of one attack species, cycling through the shared photos."""
    folder = faces or default_faces_dir()
    result = []
    for index in range(count):
        s = seed * 1000 + index

        def build(index: int = index, s: int = s) -> Presenter:
            if species.startswith("print_"):
                printed = folder / PRINT_PHOTOS[index % len(PRINT_PHOTOS)]
                return PrintAttack(printed, species.removeprefix("print_"), s)
            if species == "replay_tilted":
                return ReplayTiltedAttack(folder / GENUINE_PHOTOS[index % len(GENUINE_PHOTOS)], s)
            if species == "replay_mistimed":
                recorded = (
                    None if index % 2 == 0 else folder / GENUINE_PHOTOS[(index // 2) % len(GENUINE_PHOTOS)]
                )
                return ReplayMistimedAttack(folder, s, recorded)
            raise ValueError(f"unknown species {species!r}; expected one of {', '.join(SPECIES)}")

        result.append(Presentation(species, s, build))
    return result


def genuine_presentations(count: int, seed: int = 0, faces: Path | None = None) -> list[Presentation]:
    """``count`` genuine sessions cycling through photos × distances × lights."""
    folder = faces or default_faces_dir()
    conditions = [(d, light) for d in DISTANCES for light in LIGHTS]
    result = []
    for index in range(count):
        s = seed * 1000 + index
        photo = folder / GENUINE_PHOTOS[index % len(GENUINE_PHOTOS)]
        distance, light = conditions[(index // len(GENUINE_PHOTOS) + index) % len(conditions)]

        def build(photo: Path = photo, distance: str = distance, light: str = light, s: int = s) -> Presenter:
            return GenuinePresenter(photo, distance, light, s)

        result.append(Presentation("genuine", s, build))
    return result


# --- playing a presentation ------------------------------------------------------------------------------


@dataclass(frozen=True)
class Outcome:
    species: str
    name: str
    accepted: bool
    reason: str
    frames: int
    attempts: int = 1
    first_attempt_accepted: bool = False


Feed = Callable[[RgbImage, float], LivenessProgress]


def play(
    presenter: Presenter,
    feed: Feed,
    seed: int,
    max_s: float = 30.0,
    reaction_s: tuple[float, float] = (0.4, 1.2),
) -> tuple[LivenessDecision | None, int]:
    """Play ``presenter`` into ``feed`` at FPS; each new prompt reaches it after a reaction time."""
    rng = random.Random(seed)
    seen: set[tuple[int, int]] = set()
    pending: list[tuple[float, str]] = []
    for index in range(int(max_s * FPS)):
        t = index / FPS
        for due, action in [p for p in pending if p[0] <= t]:
            presenter.act(action)
            pending.remove((due, action))
        rgb = np.ascontiguousarray(presenter.frame(t)[..., ::-1])
        progress = feed(rgb, t)
        if progress.finished:
            return progress.decision, index + 1
        key = (progress.attempt, progress.step)
        if progress.state is LivenessState.CHALLENGE and progress.challenge is not None and key not in seen:
            seen.add(key)
            pending.append((t + rng.uniform(*reaction_s), progress.challenge.value))
    return None, int(max_s * FPS)


class NoseOffsetReference(LivenessSession):
    """The liveness check as it was before head pose: turns judged by :func:`head_yaw` (the nose's
    sideways offset in inter-ocular distances, ≥ 0.12, roll not removed), blinks by the raw eye aspect
    ratio, no steadiness, parallax or timing checks, 6 s per step. The benchmark's reference only."""

    TURN_MIN_OFFSET = 0.12

    def __init__(
        self, analyse: Any, config: BiometricsConfig | None = None, rng: random.Random | None = None
    ) -> None:
        super().__init__(analyse, config, rng)
        self._base_offsets: list[float] = []

    def _add_to_baseline(self, attempt: _Attempt) -> bool:
        assert attempt.landmarks is not None
        if not attempt.baseline:
            self._base_offsets = []
        self._base_offsets.append(head_yaw(attempt.landmarks))
        attempt.baseline.append(attempt.current)  # type: ignore[arg-type]
        if len(attempt.baseline) < self.config.baseline_frames:
            return False
        attempt.base_ear = float(np.median([m.ear for m in attempt.baseline]))
        attempt.base_points = attempt.baseline[-1].points
        return True

    def _step_expired(self, attempt: _Attempt, t: float) -> bool:
        return t - attempt.step_started_at > self.config.step_timeout_s

    def _judge(self, challenge: Challenge, attempt: _Attempt, t: float) -> bool | LivenessFailure:
        assert attempt.current is not None and attempt.landmarks is not None
        if challenge is Challenge.BLINK:
            ear = attempt.current.ear
            if ear < attempt.base_ear * self.config.blink_close_ratio:
                attempt.eyes_closed = True
            elif attempt.eyes_closed and ear > attempt.base_ear * self.config.blink_reopen_ratio:
                return True
            return False
        wanted = 1.0 if challenge is Challenge.TURN_LEFT else -1.0
        if self.config.camera_mirrored:
            wanted = -wanted
        turned = (head_yaw(attempt.landmarks) - float(np.median(self._base_offsets))) * wanted
        if turned >= self.TURN_MIN_OFFSET:
            return True
        if turned <= -self.TURN_MIN_OFFSET:
            return LivenessFailure.WRONG_ACTION
        return False


def run_presentation(
    presentation: Presentation,
    analyse: Callable[[RgbImage], Any],
    config: BiometricsConfig,
    reference: bool = False,
    max_attempts: int | None = None,
) -> Outcome:
    """One presentation as one transaction: the kiosk's decision after up to ``max_attempts`` attempts
    (default: the config's), each a new random challenge. ``reference``: judge with the old measure."""
    from dataclasses import replace

    if max_attempts is not None:
        config = replace(config, max_attempts=max_attempts)
    session_type = NoseOffsetReference if reference else LivenessSession
    session = session_type(analyse, config, random.Random(presentation.seed))
    presenter = presentation.build()
    limit = config.max_attempts * (config.baseline_timeout_s + config.challenge_steps * config.step_timeout_s)
    decision, frames = play(presenter, session.feed, presentation.seed + 1, max_s=limit + 1.0)
    if decision is None:
        return Outcome(presentation.species, presenter.name, False, "undecided", frames)
    first = decision.passed and decision.attempts_used == 1
    return Outcome(
        presentation.species,
        presenter.name,
        decision.passed,
        decision.reason,
        frames,
        decision.attempts_used,
        first,
    )


def rates(outcomes: Sequence[Outcome]) -> dict[str, Any]:
    """APCER per attack species and BPCER, with counts (ISO/IEC 30107-3)."""
    report: dict[str, Any] = {}
    for species in (*SPECIES, "genuine"):
        mine = [o for o in outcomes if o.species == species]
        if not mine:
            continue
        if species == "genuine":
            refused = [o for o in mine if not o.accepted]
            first_refused = [o for o in mine if not o.first_attempt_accepted]
            report["bpcer"] = {
                "refused": len(refused),
                "presentations": len(mine),
                "rate": len(refused) / len(mine),
                "attempts_allowed": max(o.attempts for o in mine) if refused else None,
                "refusals": sorted(f"{o.name}: {o.reason}" for o in refused),
                "first_attempt_refused": len(first_refused),
                "first_attempt_rate": len(first_refused) / len(mine),
            }
        else:
            accepted = [o for o in mine if o.accepted]
            reasons: dict[str, int] = {}
            for o in mine:
                reasons[o.reason] = reasons.get(o.reason, 0) + 1
            # (the reason of a refused transaction is its last attempt's)
            report.setdefault("apcer", {})[species] = {
                "accepted": len(accepted),
                "presentations": len(mine),
                "rate": len(accepted) / len(mine),
                "outcomes": dict(sorted(reasons.items())),
                "accepted_presentations": sorted(o.name for o in accepted),
            }
    return report
