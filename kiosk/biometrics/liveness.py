"""Liveness against photo and screen replay: a randomised challenge judged from landmarks.

A :class:`LivenessSession` is fed camera frames with their timestamps. It first measures this session's own
baseline while the head is at rest (open-eye aspect ratio, head pose, face shape), then asks for a random
sequence of actions — blink, turn left, turn right — and judges each from the 68 dlib landmarks relative to
that baseline (:mod:`kiosk.biometrics.pose`):

- a *turn* is a change of the head's yaw from ``solvePnP`` against a generic 3-D face (roll removed, so a
  picture tilted in its own plane is not a turn) **and** parallax: the nose tip must move beyond the face
  plane's own motion, the same way (a picture rotated about its vertical axis has none);
- a *blink* is a drop of the eye aspect ratio divided by the face's vertical scale (so a picture tipped
  back about its horizontal axis is not a blink);
- *timing*: an action counts only once the face is at rest after the prompt, no sooner than a human can
  react, and within ``response_window_s``; a head turn during a blink step fails the attempt. A replayed
  clip that acts at its own pace misses the window or does the wrong thing first.

Separately it checks that the frames really change: a still photo streamed by a camera (or a frozen replay)
produces identical frames and fails, whatever the landmarks say.

Head-turn direction is the *customer's* left/right. In an unmirrored camera image the customer's left is
on the image's right, so turning left moves the nose towards larger x. A mirrored (selfie-preview) camera
flips that; set ``BiometricsConfig.camera_mirrored`` to match the camera.

What this does not stop: a 3-D mask, a good real-time deepfake fed to a virtual camera, or a screen that
plays, on cue, clips of the customer really doing each asked action. It stops the cheap attacks (printed
photo held, shaken, tilted or turned; a phone replaying a clip) — measured per attack species by
``smart-teller bench --only face``, see docs/biometrics.md.
"""

from __future__ import annotations

import math
import random
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from enum import StrEnum
from typing import Any

import cv2
import numpy as np
import numpy.typing as npt

from kiosk.biometrics.config import BiometricsConfig
from kiosk.biometrics.faces import FaceAnalysis, FaceOutcome, Landmarks, Point
from kiosk.biometrics.images import RgbImage, normalise_array
from kiosk.biometrics.pose import face_aspect, has_68, head_pose, landmarks_68, nose_parallax

FloatArray = npt.NDArray[np.float64]
# The face's vertical scale may drop this much below the baseline before the blink measure corrects for it.
FORESHORTENING_TOLERANCE = 0.06


class Challenge(StrEnum):
    BLINK = "blink"
    TURN_LEFT = "turn_left"
    TURN_RIGHT = "turn_right"


class LivenessState(StrEnum):
    BASELINE = "baseline"  # look at the camera while we measure your open eyes
    CHALLENGE = "challenge"  # do what the prompt says
    RETRY = "retry"  # that attempt failed; a new challenge follows
    PASSED = "passed"
    FAILED = "failed"


class LivenessFailure(StrEnum):
    TIMEOUT = "timeout"  # the asked action did not happen in time
    WRONG_ACTION = "wrong_action"  # turned the other way, or turned when asked to blink
    FLAT_PICTURE = "flat_picture"  # timed out after a "turn" without parallax: a picture was rotated
    NO_MOTION = "no_motion"  # the frames do not change: a still photo or a frozen stream
    NO_FACE = "no_face"  # no usable single face to measure a baseline on


PROMPTS: dict[Challenge, str] = {
    Challenge.BLINK: "liveness.blink",
    Challenge.TURN_LEFT: "liveness.turn_left",
    Challenge.TURN_RIGHT: "liveness.turn_right",
}


def make_challenges(rng: random.Random, steps: int) -> tuple[Challenge, ...]:
    """A random sequence: with two or more steps it always holds a blink and a turn, in random order.

    Mixing the kinds means a replayed clip must both blink and turn the asked way at the asked moment.
    """
    if steps < 1:
        raise ValueError("a challenge needs at least one step")
    turns = (Challenge.TURN_LEFT, Challenge.TURN_RIGHT)
    if steps == 1:
        return (rng.choice((Challenge.BLINK, *turns)),)
    sequence = [Challenge.BLINK, rng.choice(turns)]
    kinds = (Challenge.BLINK, *turns)
    while len(sequence) < steps:
        sequence.append(rng.choice(kinds))
    rng.shuffle(sequence)
    return tuple(sequence)


def _distance(a: Point, b: Point) -> float:
    return math.hypot(a[0] - b[0], a[1] - b[1])


def eye_aspect_ratio(eye: Sequence[Point]) -> float:
    """Soukupová & Čech (2016): vertical over horizontal eye opening, ~0.3 open, ~0.1 closed."""
    if len(eye) != 6:
        raise ValueError("an eye has six landmarks")
    horizontal = _distance(eye[0], eye[3])
    if horizontal <= 0:
        return 0.0
    return (_distance(eye[1], eye[5]) + _distance(eye[2], eye[4])) / (2.0 * horizontal)


def mean_eye_aspect_ratio(landmarks: Landmarks) -> float:
    return (eye_aspect_ratio(landmarks["left_eye"]) + eye_aspect_ratio(landmarks["right_eye"])) / 2.0


def head_yaw(landmarks: Landmarks) -> float:
    """Sideways offset of the nose tip from the eye midpoint, in inter-ocular distances.

    Positive when the nose points towards the image's right (the customer's left, unmirrored camera).
    This is the measure the turn step used before head pose: it does not remove the head's roll, so a
    picture tilted in its own plane moves it. Kept as the benchmark's reference; liveness uses
    :func:`kiosk.biometrics.pose.head_pose`.
    """
    left = np.asarray(landmarks["left_eye"], dtype=np.float64).mean(axis=0)
    right = np.asarray(landmarks["right_eye"], dtype=np.float64).mean(axis=0)
    interocular = float(np.linalg.norm(right - left))
    if interocular <= 0:
        return 0.0
    nose_tip = np.asarray(landmarks["nose_bridge"][-1], dtype=np.float64)
    mid = (left + right) / 2.0
    return float((nose_tip[0] - mid[0]) / interocular)


class MotionMeter:
    """Does the scene change from frame to frame? Compares small blurred grey copies of the frames."""

    SIZE = (64, 48)

    def __init__(self, min_mean_diff: float, min_changed_fraction: float, min_pairs: int) -> None:
        self.min_mean_diff = min_mean_diff
        self.min_changed_fraction = min_changed_fraction
        self.min_pairs = min_pairs
        self.pairs = 0
        self.changed = 0
        self._previous: npt.NDArray[np.float32] | None = None

    def feed(self, rgb: RgbImage) -> float:
        grey = cv2.cvtColor(rgb, cv2.COLOR_RGB2GRAY)
        small = cv2.resize(grey, self.SIZE, interpolation=cv2.INTER_AREA)
        # The blur removes sensor noise so a camera pointed at a photo does not look "alive".
        signature = cv2.GaussianBlur(small, (3, 3), 0).astype(np.float32)
        diff = 0.0
        if self._previous is not None:
            diff = float(np.mean(np.abs(signature - self._previous)))
            self.pairs += 1
            if diff >= self.min_mean_diff:
                self.changed += 1
        self._previous = signature
        return diff

    @property
    def changed_fraction(self) -> float:
        return self.changed / self.pairs if self.pairs else 0.0

    @property
    def passed(self) -> bool:
        return self.pairs >= self.min_pairs and self.changed_fraction >= self.min_changed_fraction

    def reset(self) -> None:
        self.pairs = 0
        self.changed = 0
        self._previous = None


@dataclass(frozen=True)
class LivenessDecision:
    """The end of a liveness session. No image, no landmarks: safe to journal."""

    passed: bool
    reason: str  # "passed" or the LivenessFailure of the last attempt
    attempts_used: int
    max_attempts: int
    challenges: tuple[tuple[str, ...], ...]  # per attempt
    failures: tuple[str, ...]  # per failed attempt
    frames: int
    motion_changed_fraction: float
    duration_s: float

    def to_journal(self) -> dict[str, Any]:
        return {
            "event": "face_liveness",
            "passed": self.passed,
            "reason": self.reason,
            "attempts_used": self.attempts_used,
            "max_attempts": self.max_attempts,
            "challenges": [list(c) for c in self.challenges],
            "failures": list(self.failures),
            "frames": self.frames,
            "motion_changed_fraction": round(self.motion_changed_fraction, 3),
            "duration_s": round(self.duration_s, 3),
        }


@dataclass(frozen=True)
class LivenessProgress:
    """What to show now: the state, the current prompt and, at the end, the decision."""

    state: LivenessState
    prompt: str
    challenge: Challenge | None = None
    step: int = 0  # index of the current step in this attempt
    steps: int = 0
    attempt: int = 1
    attempts_left: int = 0
    face: FaceOutcome | None = None
    last_failure: LivenessFailure | None = None
    decision: LivenessDecision | None = None

    @property
    def finished(self) -> bool:
        return self.state in (LivenessState.PASSED, LivenessState.FAILED)


_FACE_PROMPTS = {
    FaceOutcome.NO_FACE: "face.look_at_camera",
    FaceOutcome.SEVERAL_FACES: "face.stand_alone",
    FaceOutcome.PARTIAL_FACE: "face.move_into_frame",
}


@dataclass(frozen=True)
class FrameMeasures:
    """What one frame's landmarks say, before it is compared with the baseline."""

    ear: float  # mean eye aspect ratio
    yaw: float  # degrees, head pose (roll removed)
    pitch: float
    roll: float
    aspect: float  # face_aspect: vertical scale of the face
    points: FloatArray  # the 68 landmarks (68x2), for the parallax check


def measure(landmarks: Landmarks, image_size: tuple[int, int]) -> FrameMeasures | None:
    """The measures of one face, or None if it lacks the 68 landmarks."""
    if not has_68(landmarks):
        return None
    points = landmarks_68(landmarks)
    pose = head_pose(points, image_size)
    return FrameMeasures(
        ear=mean_eye_aspect_ratio(landmarks),
        yaw=pose.yaw,
        pitch=pose.pitch,
        roll=pose.roll,
        aspect=face_aspect(points),
        points=points,
    )


@dataclass
class _Attempt:
    challenges: tuple[Challenge, ...]
    started_at: float
    step: int = 0
    step_started_at: float = 0.0
    eyes_closed: bool = False
    baseline: list[FrameMeasures] = field(default_factory=list)
    base_ear: float = 0.0
    base_yaw: float = 0.0
    base_aspect: float = 0.0
    base_points: FloatArray | None = None
    current: FrameMeasures | None = None
    landmarks: Landmarks | None = None
    armed_at: float | None = None  # when the face was first at rest in this step
    yaw_settled: bool = False  # the yaw came back to rest in this step (a new turn can be told apart)
    flat_turn_seen: bool = False  # a yaw change without parallax in this step

    @property
    def baseline_complete(self) -> bool:
        return self.base_points is not None


Analyse = Callable[[RgbImage], FaceAnalysis]


class LivenessSession:
    """One customer's liveness check. Not thread-safe: feed it from one place (the worker does).

    ``analyse`` maps a frame to a :class:`FaceAnalysis` with 68 landmarks (the worker passes its
    FaceAnalyzer); ``rng`` picks the challenges — inject a seeded one in tests, the default is the
    operating system's randomness so nobody can predict the sequence.
    """

    def __init__(
        self,
        analyse: Analyse,
        config: BiometricsConfig | None = None,
        rng: random.Random | None = None,
    ) -> None:
        self.config = config or BiometricsConfig()
        self._analyse = analyse
        self._rng = rng if rng is not None else random.SystemRandom()
        self._motion = MotionMeter(
            self.config.motion_min_mean_diff,
            self.config.motion_min_changed_fraction,
            self.config.motion_min_pairs,
        )
        self._attempt_number = 0
        self._attempt: _Attempt | None = None
        self._challenges_log: list[tuple[str, ...]] = []
        self._failures: list[str] = []
        self._frames = 0
        self._first_t: float | None = None
        self._last_t = 0.0
        self._decision: LivenessDecision | None = None

    @property
    def decision(self) -> LivenessDecision | None:
        return self._decision

    @property
    def challenges(self) -> tuple[Challenge, ...]:
        return self._attempt.challenges if self._attempt else ()

    @property
    def motion(self) -> MotionMeter:
        return self._motion

    def feed(self, frame: RgbImage, t: float) -> LivenessProgress:
        """One frame (RGB) taken at time ``t`` (seconds, any monotonic origin)."""
        if self._decision is not None:
            return self._final_progress()
        rgb = normalise_array(frame)
        analysis = self._analyse(rgb)
        return self.observe(analysis, rgb, t)

    def observe(self, analysis: FaceAnalysis, rgb: RgbImage, t: float) -> LivenessProgress:
        """The state machine, given a frame's analysis (split from :meth:`feed` so it can be unit tested)."""
        if self._decision is not None:
            return self._final_progress()
        if self._first_t is None:
            self._first_t = t
        self._last_t = t
        self._frames += 1
        self._motion.feed(rgb)
        if self._attempt is None:
            self._start_attempt(t)
        attempt = self._attempt
        assert attempt is not None
        usable = analysis.outcome is FaceOutcome.OK and analysis.landmarks is not None
        attempt.current = None
        attempt.landmarks = None
        if usable:
            assert analysis.landmarks is not None
            attempt.landmarks = analysis.landmarks
            attempt.current = measure(analysis.landmarks, analysis.image_size)
            usable = attempt.current is not None

        if not attempt.baseline_complete:
            if usable and self._add_to_baseline(attempt):
                attempt.step_started_at = t
                return self._progress(LivenessState.CHALLENGE, analysis.outcome)
            if t - attempt.started_at > self.config.baseline_timeout_s:
                return self._fail_attempt(LivenessFailure.NO_FACE, t)
            return self._progress(LivenessState.BASELINE, analysis.outcome)

        challenge = attempt.challenges[attempt.step]
        if usable:
            verdict = self._judge(challenge, attempt, t)
            if isinstance(verdict, LivenessFailure):
                return self._fail_attempt(verdict, t)
            if verdict is True:
                attempt.step += 1
                attempt.step_started_at = t
                attempt.eyes_closed = False
                attempt.armed_at = None
                attempt.yaw_settled = False
                attempt.flat_turn_seen = False
                if attempt.step == len(attempt.challenges):
                    if not self._motion.passed:
                        return self._fail_attempt(LivenessFailure.NO_MOTION, t)
                    return self._finish(True, "passed", t)
        if self._step_expired(attempt, t):
            if not self._motion.passed:
                reason = LivenessFailure.NO_MOTION
            elif attempt.flat_turn_seen:
                reason = LivenessFailure.FLAT_PICTURE
            else:
                reason = LivenessFailure.TIMEOUT
            return self._fail_attempt(reason, t)
        return self._progress(LivenessState.CHALLENGE, analysis.outcome)

    def _add_to_baseline(self, attempt: _Attempt) -> bool:
        """Keep the last ``baseline_frames`` measures; True once they form a steady baseline."""
        assert attempt.current is not None
        attempt.baseline.append(attempt.current)
        del attempt.baseline[: -self.config.baseline_frames]
        if len(attempt.baseline) < self.config.baseline_frames:
            return False
        yaws = [m.yaw for m in attempt.baseline]
        if max(yaws) - min(yaws) > self.config.baseline_max_yaw_spread_deg:
            return False  # the head is moving: not a baseline yet
        attempt.base_ear = float(np.median([m.ear for m in attempt.baseline]))
        attempt.base_yaw = float(np.median(yaws))
        attempt.base_aspect = float(np.median([m.aspect for m in attempt.baseline]))
        attempt.base_points = np.median(np.stack([m.points for m in attempt.baseline]), axis=0)
        return True

    def _step_expired(self, attempt: _Attempt, t: float) -> bool:
        if t - attempt.step_started_at > self.config.step_timeout_s:
            return True
        return attempt.armed_at is not None and t - attempt.armed_at > self.config.response_window_s

    def _judge(self, challenge: Challenge, attempt: _Attempt, t: float) -> bool | LivenessFailure:
        config = self.config
        current = attempt.current
        assert current is not None and attempt.base_points is not None
        # The eye opening over the face's vertical scale: tipping a picture back shrinks both alike. Shape
        # changes within the tolerance (a blink's own, ~4 %) are left alone.
        ratio = current.aspect / attempt.base_aspect if attempt.base_aspect > 0 else 1.0
        scale = min(1.0, ratio / (1.0 - FORESHORTENING_TOLERANCE))
        ear = current.ear / scale if scale > 0 else current.ear
        eyes_open = ear >= attempt.base_ear * config.blink_reopen_ratio
        yaw_change = current.yaw - attempt.base_yaw
        yaw_at_rest = abs(yaw_change) < config.turn_min_yaw_deg / 2
        reacting = t - attempt.step_started_at >= config.min_reaction_s
        attempt.yaw_settled = attempt.yaw_settled or yaw_at_rest
        at_rest = eyes_open if challenge is Challenge.BLINK else (eyes_open and yaw_at_rest)
        if attempt.armed_at is None and at_rest:
            attempt.armed_at = t
        armed = attempt.armed_at is not None and reacting
        if not armed:
            return False

        if challenge is Challenge.BLINK:
            if abs(yaw_change) >= config.turn_min_yaw_deg and attempt.yaw_settled:
                return LivenessFailure.WRONG_ACTION  # nobody asked to blink turns their head
            if ear < attempt.base_ear * config.blink_close_ratio:
                attempt.eyes_closed = True
            elif attempt.eyes_closed and eyes_open:
                return True
            return False
        # The customer's left is the image's right (+x) unless the camera mirrors the picture.
        wanted = 1.0 if challenge is Challenge.TURN_LEFT else -1.0
        if config.camera_mirrored:
            wanted = -wanted
        turned = yaw_change * wanted
        if turned <= -config.turn_min_yaw_deg:
            return LivenessFailure.WRONG_ACTION
        if turned >= config.turn_min_yaw_deg:
            # Parallax, in image terms: the nose moves beyond the face plane towards where the yaw points.
            parallax = nose_parallax(attempt.base_points, current.points) * math.copysign(1.0, yaw_change)
            if parallax >= config.turn_min_parallax:
                return True
            attempt.flat_turn_seen = True
        return False

    def _start_attempt(self, t: float) -> None:
        self._attempt_number += 1
        challenges = make_challenges(self._rng, self.config.challenge_steps)
        self._attempt = _Attempt(challenges=challenges, started_at=t, step_started_at=t)
        self._challenges_log.append(tuple(c.value for c in challenges))
        self._motion.reset()

    def _fail_attempt(self, reason: LivenessFailure, t: float) -> LivenessProgress:
        self._failures.append(reason.value)
        if self._attempt_number >= self.config.max_attempts:
            return self._finish(False, reason.value, t)
        self._attempt = None  # the next frame starts a new attempt with a new random challenge
        return LivenessProgress(
            state=LivenessState.RETRY,
            prompt="liveness.try_again",
            attempt=self._attempt_number,
            attempts_left=self.config.max_attempts - self._attempt_number,
            last_failure=reason,
        )

    def _finish(self, passed: bool, reason: str, t: float) -> LivenessProgress:
        self._decision = LivenessDecision(
            passed=passed,
            reason=reason,
            attempts_used=self._attempt_number,
            max_attempts=self.config.max_attempts,
            challenges=tuple(self._challenges_log),
            failures=tuple(self._failures),
            frames=self._frames,
            motion_changed_fraction=self._motion.changed_fraction,
            duration_s=t - (self._first_t if self._first_t is not None else t),
        )
        return self._final_progress()

    def _final_progress(self) -> LivenessProgress:
        decision = self._decision
        assert decision is not None
        return LivenessProgress(
            state=LivenessState.PASSED if decision.passed else LivenessState.FAILED,
            prompt="liveness.passed" if decision.passed else "liveness.failed",
            attempt=decision.attempts_used,
            attempts_left=decision.max_attempts - decision.attempts_used,
            last_failure=None if decision.passed else LivenessFailure(decision.reason),
            decision=decision,
        )

    def _progress(self, state: LivenessState, face: FaceOutcome) -> LivenessProgress:
        attempt = self._attempt
        assert attempt is not None
        challenge = attempt.challenges[attempt.step] if state is LivenessState.CHALLENGE else None
        if face is not FaceOutcome.OK:
            prompt = _FACE_PROMPTS[face]
        elif challenge is not None:
            prompt = PROMPTS[challenge]
        else:
            prompt = "liveness.look_at_camera"
        return LivenessProgress(
            state=state,
            prompt=prompt,
            challenge=challenge,
            step=attempt.step,
            steps=len(attempt.challenges),
            attempt=self._attempt_number,
            attempts_left=self.config.max_attempts - self._attempt_number,
            face=face,
        )
