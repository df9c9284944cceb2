"""Presentation attacks on the liveness check, generated in code (ISO/IEC 30107-3 style species).

Each attack is a camera :class:`FrameSource`: a *carrier* (a printed photo, or a phone screen playing a
clip) held in front of the camera in a room, moved by an attacker who reacts to the prompts the way the
species says. ``act()`` is the prompt the attacker sees ("blink", "turn_left", ...): the attacker can only
move the carrier, never the face in it.

Species (``SPECIES``):

* ``still_print`` — a print held still.
* ``print_shaken`` — a print moved and shaken all the time (translation, in-plane wobble, distance).
* ``print_tilted_on_cue`` — on "turn", the print is tilted in its own plane by 15–25° the way asked; on
  "blink", it is jerked (which moves the landmarks a little).
* ``print_turned_on_cue`` — on "turn", the print is rotated about its vertical axis by 25–45° (a
  perspective warp), the way asked.
* ``replay_tilted_on_cue`` — a phone screen replaying the real clip ``short_hamilton_clip.mp4`` (its
  blinks are real blinks), tilted in plane on "turn".
* ``replay_wrong_timing`` — a phone screen replaying a recording of the customer (the virtual person)
  blinking and turning left and right at fixed times, whatever is asked.

:func:`play_session` runs a :class:`~kiosk.biometrics.liveness.LivenessSession` against a source at a
fixed frame rate and tells the source each new prompt after a reaction delay; genuine sessions use the
same loop with a :class:`~simulators.camera.virtual_person.VirtualPersonSource` that acts as asked.
"""

from __future__ import annotations

import math
import random
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import cv2
import numpy as np
import numpy.typing as npt

from kiosk.biometrics.images import load_rgb
from kiosk.biometrics.liveness import LivenessDecision, LivenessProgress, LivenessState
from simulators.camera.sources import VideoFileSource, default_faces_dir
from simulators.camera.virtual_person import VirtualPersonSource

Frame = npt.NDArray[np.uint8]  # BGR, like the other sources
SPECIES = (
    "still_print",
    "print_shaken",
    "print_tilted_on_cue",
    "print_turned_on_cue",
    "replay_tilted_on_cue",
    "replay_wrong_timing",
)
MOVE_S = 1.0  # how long the attacker takes for a tilt or turn, there and back


def _room(size: tuple[int, int], rng: np.random.Generator) -> Frame:
    """A plain, softly lit wall behind the carrier."""
    width, height = size
    base = rng.uniform(90, 170, 3)
    ramp = np.linspace(0.85, 1.1, width, dtype=np.float32)[None, :, None]
    wall = np.clip(np.ones((height, width, 3), np.float32) * base * ramp, 0, 255)
    return np.ascontiguousarray(wall.astype(np.uint8))


def _as_print(rgb: Frame, rng: np.random.Generator) -> Frame:
    """Ink on paper: lower contrast, a warm white point, slight blur and a white margin."""
    paper = rgb.astype(np.float32) * rng.uniform(0.75, 0.85) + rng.uniform(25, 40)
    paper *= np.array([1.0, 0.98, 0.93], np.float32)
    paper = np.asarray(cv2.GaussianBlur(paper, (0, 0), 0.8), np.float32)
    margin = max(6, rgb.shape[1] // 20)
    framed = cv2.copyMakeBorder(
        paper, margin, margin, margin, margin, cv2.BORDER_CONSTANT, value=(235, 232, 220)
    )
    return np.clip(framed, 0, 255).astype(np.uint8)


def _as_screen(rgb: Frame) -> Frame:
    """A phone screen: gamma and a faint pixel grid, inside a black bezel."""
    lit = 255.0 * (rgb.astype(np.float32) / 255.0) ** 0.85
    grid = np.ones(rgb.shape[:2], np.float32)
    grid[::3, :] *= 0.93
    grid[:, ::3] *= 0.93
    lit *= grid[..., None]
    bezel = max(8, rgb.shape[1] // 14)
    framed = cv2.copyMakeBorder(
        lit, bezel, bezel, bezel // 2, bezel // 2, cv2.BORDER_CONSTANT, value=(12, 12, 14)
    )
    return np.clip(framed, 0, 255).astype(np.uint8)


def _pose_matrix(
    carrier: tuple[int, int],
    size: tuple[int, int],
    centre: tuple[float, float],
    scale: float,
    roll_deg: float,
    yaw_deg: float,
) -> npt.NDArray[np.float64]:
    """The homography placing a flat carrier (w × h px) in the image: scaled, rolled in plane, turned about
    its vertical axis by ``yaw_deg`` (pinhole, focal length = image width) and centred at ``centre``."""
    cw, ch = carrier
    width, _ = size
    focal = float(width)
    distance = focal  # the carrier is seen at 1 focal length; scale sets its size
    theta = math.radians(yaw_deg)
    corners = np.array([[0, 0], [cw, 0], [cw, ch], [0, ch]], np.float64) - (cw / 2, ch / 2)
    projected = []
    for x, y in corners * scale:
        xr, zr = x * math.cos(theta), distance - x * math.sin(theta)
        projected.append((focal * xr / zr, focal * y / zr))
    phi = math.radians(roll_deg)
    rotation = np.array([[math.cos(phi), -math.sin(phi)], [math.sin(phi), math.cos(phi)]])
    placed = np.asarray(projected) @ rotation.T + centre
    src = np.array([[0, 0], [cw, 0], [cw, ch], [0, ch]], np.float32)
    return np.asarray(cv2.getPerspectiveTransform(src, np.asarray(placed, np.float32)), np.float64)


@dataclass
class _Move:
    kind: str  # "roll", "yaw" or "jerk"
    sign: float
    amount: float
    started_at: float | None = None


class PresentationAttack:
    """FrameSource: one attack species, carrier and attacker seeded by ``seed``."""

    def __init__(
        self,
        species: str,
        seed: int = 0,
        size: tuple[int, int] = (640, 480),
        faces_dir: Path | None = None,
        photo: str | None = None,
    ) -> None:
        if species not in SPECIES:
            raise ValueError(f"unknown attack species {species!r}; expected one of {', '.join(SPECIES)}")
        faces = faces_dir or default_faces_dir()
        self.species = species
        self.name = f"attack:{species}"
        self.size = size
        self._rng = np.random.default_rng(seed)
        self._room = _room(size, self._rng)
        self._moves: list[_Move] = []
        self._phase = float(self._rng.uniform(0, 2 * math.pi))
        self._clip: Callable[[float], Frame] | None = None
        self._clip_offset = float(self._rng.uniform(0, 8))
        self._print: Frame | None = None
        photos = (
            "alex_lacamoire_1.png",
            "lin_manuel_miranda_1.png",
            "biden_2.jpg",
            "obama_2.jpg",
            "obama_1.jpg",
        )
        if species.startswith("replay"):
            if species == "replay_tilted_on_cue":
                video = VideoFileSource(faces / "short_hamilton_clip.mp4", seed=seed, size=(480, 360))
                self._clip = lambda t: _as_screen(video.frame(t)[..., ::-1])
            else:
                self._clip = self._recorded_customer(faces / (photo or photos[seed % len(photos)]), seed)
            self._scale = float(self._rng.uniform(0.95, 1.15))
        else:
            rgb = load_rgb(faces / (photo or photos[seed % len(photos)]))
            height = 420
            sized = cv2.resize(
                rgb, (round(rgb.shape[1] * height / rgb.shape[0]), height), interpolation=cv2.INTER_AREA
            )
            self._print = _as_print(np.asarray(sized, np.uint8), self._rng)
            self._scale = float(self._rng.uniform(0.95, 1.2))
        self._noise_rng = np.random.default_rng(seed + 1000)

    @staticmethod
    def _recorded_customer(photo: Path, seed: int) -> Callable[[float], Frame]:
        """The customer filmed doing a fixed routine (blink, left, blink, right every 8 s), on a screen."""
        person = VirtualPersonSource(photo, seed=seed, size=(480, 360))
        script = ((1.0, "blink"), (2.5, "turn_left"), (4.5, "blink"), (6.0, "turn_right"))
        done: set[tuple[int, float]] = set()

        def frame(t: float) -> Frame:
            loop = int(t // 8.0)
            for at, action in script:
                if t - loop * 8.0 >= at and (loop, at) not in done:
                    done.add((loop, at))
                    person.act(action)
            return _as_screen(np.ascontiguousarray(person.frame(t)[..., ::-1]))

        return frame

    # --- FrameSource ---------------------------------------------------------------------------------

    def act(self, action: str) -> None:
        """The attacker reads the prompt and moves the carrier as the species does."""
        if action == "idle":
            self._moves.clear()
            return
        sign = 1.0 if action == "turn_left" else -1.0
        rng = self._rng
        if self.species in ("print_tilted_on_cue", "replay_tilted_on_cue"):
            if action.startswith("turn"):
                self._moves.append(_Move("roll", sign, float(rng.uniform(15, 25))))
            else:
                self._moves.append(_Move("jerk", 1.0, float(rng.uniform(4, 8))))
        elif self.species == "print_turned_on_cue":
            if action.startswith("turn"):
                self._moves.append(_Move("yaw", sign, float(rng.uniform(25, 45))))
            else:
                self._moves.append(_Move("jerk", 1.0, float(rng.uniform(4, 8))))
        # still_print, print_shaken and replay_wrong_timing ignore the prompt.

    def frame(self, t: float) -> Frame:
        if self._clip is not None:
            carrier = self._clip(t + self._clip_offset)
        else:
            assert self._print is not None
            carrier = self._print
        roll, yaw, dx, dy, zoom = 0.0, 0.0, 0.0, 0.0, 1.0
        hand = 0.0 if self.species == "still_print" else 1.0
        # A hand never holds a carrier perfectly still; the shaker moves it on purpose and a lot.
        shake = 6.0 if self.species == "print_shaken" else 1.0
        p = self._phase
        dx += (
            hand * shake * (2.0 * math.sin(2 * math.pi * 0.7 * t + p) + 1.0 * math.sin(2 * math.pi * 2.3 * t))
        )
        dy += (
            hand
            * shake
            * (1.5 * math.sin(2 * math.pi * 0.5 * t + 2 * p) + 0.8 * math.sin(2 * math.pi * 1.9 * t))
        )
        roll += hand * shake * 0.4 * math.sin(2 * math.pi * 0.9 * t + p)
        zoom += hand * (0.04 if self.species == "print_shaken" else 0.005) * math.sin(2 * math.pi * 0.6 * t)
        live: list[_Move] = []
        for move in self._moves:
            if move.started_at is None:
                move.started_at = t
            x = (t - move.started_at) / MOVE_S
            if x > 1.0:
                continue
            live.append(move)
            amount = move.sign * move.amount * math.sin(math.pi * x)
            if move.kind == "roll":
                roll += amount
            elif move.kind == "yaw":
                yaw += amount
            else:
                dx += amount * 3.0
                dy -= amount * 2.0
        self._moves = live
        width, height = self.size
        ch, cw = carrier.shape[:2]
        scale = self._scale * zoom * 0.9 * height / max(ch, 1)
        matrix = _pose_matrix((cw, ch), self.size, (width / 2 + dx, height * 0.5 + dy), scale, roll, yaw)
        image = self._room.copy()
        warped = cv2.warpPerspective(carrier, matrix, self.size, flags=cv2.INTER_LINEAR)
        mask = cv2.warpPerspective(
            np.full((ch, cw), 255, np.uint8), matrix, self.size, flags=cv2.INTER_LINEAR
        )
        alpha = (mask.astype(np.float32) / 255.0)[..., None]
        image = image.astype(np.float32) * (1 - alpha) + warped.astype(np.float32) * alpha
        noise = self._noise_rng.normal(0.0, 1.5, image.shape)
        rgb = np.clip(image + noise, 0, 255).astype(np.uint8)
        return np.ascontiguousarray(rgb[..., ::-1])  # RGB -> BGR


@dataclass(frozen=True)
class SessionResult:
    passed: bool
    decision: LivenessDecision | None
    frames: int


def play_session(
    feed: Callable[[npt.NDArray[np.uint8], float], LivenessProgress],
    source: PresentationAttack | VirtualPersonSource,
    *,
    fps: float = 10.0,
    reaction_s: tuple[float, float] = (0.3, 1.0),
    seed: int = 0,
    max_seconds: float = 60.0,
) -> SessionResult:
    """Play ``source`` into a liveness session's ``feed`` at ``fps``; each new prompt reaches the source
    (``act``) after a reaction delay drawn from ``reaction_s``, as a person (or attacker) reads it."""
    rng = random.Random(seed)
    told: set[tuple[int, int]] = set()
    pending: list[tuple[float, str]] = []
    progress: LivenessProgress | None = None
    frames = 0
    t = 0.0
    while t <= max_seconds:
        for due, action in list(pending):
            if t >= due:
                pending.remove((due, action))
                source.act(action)
        rgb = np.ascontiguousarray(source.frame(t)[..., ::-1])
        progress = feed(rgb, t)
        frames += 1
        if progress.finished:
            break
        if progress.state is LivenessState.CHALLENGE and progress.challenge is not None:
            key = (progress.attempt, progress.step)
            if key not in told:
                told.add(key)
                pending.append((t + rng.uniform(*reaction_s), progress.challenge.value))
        t += 1.0 / fps
    decision = progress.decision if progress is not None else None
    return SessionResult(bool(decision and decision.passed), decision, frames)
