"""Liveness against photo and screen replay: a randomised challenge judged from landmarks.

A :class:`LivenessSession` is fed camera frames with their timestamps. It first measures this session's own
baseline (open-eye aspect ratio, frontal head yaw), then asks for a random sequence of actions — blink,
turn left, turn right — and judges each from the 68 dlib landmarks relative to that baseline. Separately it
checks that the frames really change: a still photo streamed by a camera (or a frozen replay) produces
identical frames and fails, whatever the landmarks say.

Head-turn direction is the *customer's* left/right. In an unmirrored camera image the customer's left is
on the image's right, so turning left moves the nose towards larger x. A mirrored (selfie-preview) camera
flips that; set ``BiometricsConfig.camera_mirrored`` to match the camera.

What this does not stop: a 3-D mask, a good real-time deepfake fed to a virtual camera, or a video that
happens to perform the asked action. It raises the cost of the cheap attacks (printed photo, phone screen).
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
from kiosk.biometrics.faces import FaceAnalysis, FaceBox, FaceOutcome, Landmarks, Point
from kiosk.biometrics.images import RgbImage, normalise_array
from kiosk.biometrics.pose import head_pose, nose_parallax


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
    WRONG_ACTION = "wrong_action"  # turned the other way
    NO_MOTION = "no_motion"  # the frames do not change: a still photo or a frozen stream
    NO_FACE = "no_face"  # no usable single face to measure a baseline on
    PRESENTED_MEDIUM = "presented_medium"  # the passive detector sees a print or a screen


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
    Not used to judge a turn any more: it moves when a flat picture is tilted in its own plane (see
    :mod:`kiosk.biometrics.pose` for the 3-D pose that a turn is judged by).
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
    passive_live_median: float | None = None  # the last attempt's, when the passive detector ran

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
            "passive_live_median": (
                round(self.passive_live_median, 3) if self.passive_live_median is not None else None
            ),
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


@dataclass
class _Attempt:
    challenges: tuple[Challenge, ...]
    started_at: float
    step: int = 0
    step_started_at: float = 0.0
    eyes_closed: bool = False
    eyes_open_seen: bool = False  # open eyes seen since the current prompt
    baseline_ears: list[float] = field(default_factory=list)
    baseline_yaws: list[float] = field(default_factory=list)
    reference: Landmarks | None = None  # the last baseline frame's landmarks: parallax is measured from it
    ear: float = 0.0
    yaw: float = 0.0  # degrees, roll removed (pose.head_pose)
    parallax: float = 0.0  # nose against the face plane since the reference, inter-ocular distances
    turned_back: bool = True  # False from a completed turn until the head is frontal again
    frontal_frames: int = 0  # consecutive frontal frames since the last completed turn
    # The current step's prompt: None while holding before it (a random pause, config.hold_s).
    prompt_at: float | None = None
    hold_from: float | None = None  # when the head was frontal and the pause began
    hold_s: float = 0.0


Analyse = Callable[[RgbImage], FaceAnalysis]
PassiveScore = Callable[[RgbImage, FaceBox], float]  # live probability of the face in the box
FRONTAL_FRAMES = 2


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
        passive: PassiveScore | None = None,
    ) -> None:
        self.config = config or BiometricsConfig()
        self._analyse = analyse
        self._passive = passive if self.config.passive_every_frames > 0 else None
        self._passive_scores: list[float] = []
        self._passive_median: float | None = None
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
        sampled = self._frames % max(1, self.config.passive_every_frames) == 0
        if usable and sampled and self._passive is not None and analysis.box is not None:
            self._passive_scores.append(float(self._passive(rgb, analysis.box)))
        if usable:
            assert analysis.landmarks is not None
            attempt.ear = mean_eye_aspect_ratio(analysis.landmarks)
            size = analysis.image_size if min(analysis.image_size) > 0 else (rgb.shape[1], rgb.shape[0])
            attempt.yaw = head_pose(analysis.landmarks, size).yaw
            if attempt.reference is not None:
                attempt.parallax = nose_parallax(attempt.reference, analysis.landmarks)

        if len(attempt.baseline_ears) < self.config.baseline_frames:
            if usable:
                assert analysis.landmarks is not None
                attempt.baseline_ears.append(attempt.ear)
                attempt.baseline_yaws.append(attempt.yaw)
                attempt.reference = analysis.landmarks
                if len(attempt.baseline_ears) == self.config.baseline_frames:
                    self._begin_step(attempt, t)
                    return self._progress(LivenessState.CHALLENGE, analysis.outcome, holding=True)
            if t - attempt.started_at > self.config.baseline_timeout_s:
                return self._fail_attempt(LivenessFailure.NO_FACE, t)
            return self._progress(LivenessState.BASELINE, analysis.outcome)

        challenge = attempt.challenges[attempt.step]
        if usable and not attempt.turned_back:
            # Frontal again on two frames in a row, by both measures with a margin: solvePnP's yaw jumps
            # by 10° and more from frame to frame near the end of a turn, and one frame of it reading
            # "not turned" while the nose still showed the turn made a returning head look like a new one.
            attempt.frontal_frames = attempt.frontal_frames + 1 if self._frontal(attempt) else 0
            attempt.turned_back = attempt.frontal_frames >= FRONTAL_FRAMES
        if attempt.prompt_at is None:
            return self._hold(attempt, usable, analysis.outcome, t)
        if usable and attempt.turned_back:
            verdict = self._judge(challenge, attempt, t - attempt.prompt_at)
            if verdict is LivenessFailure.WRONG_ACTION:
                return self._fail_attempt(verdict, t)
            if verdict is True:
                # The head comes back from a turn after the step is done: judge nothing until it has.
                attempt.turned_back = challenge is Challenge.BLINK
                attempt.frontal_frames = 0
                attempt.step += 1
                if attempt.step == len(attempt.challenges):
                    if not self._motion.passed:
                        return self._fail_attempt(LivenessFailure.NO_MOTION, t)
                    if self._looks_presented():
                        return self._fail_attempt(LivenessFailure.PRESENTED_MEDIUM, t)
                    return self._finish(True, "passed", t)
                self._begin_step(attempt, t)
                return self._progress(LivenessState.CHALLENGE, analysis.outcome, holding=True)
        if t - attempt.prompt_at > self.config.step_timeout_s:
            reason = LivenessFailure.TIMEOUT if self._motion.passed else LivenessFailure.NO_MOTION
            return self._fail_attempt(reason, t)
        return self._progress(LivenessState.CHALLENGE, analysis.outcome)

    def _begin_step(self, attempt: _Attempt, t: float) -> None:
        """Hold before the next prompt: a random pause, counted from when the head is frontal."""
        low, high = self.config.hold_s
        attempt.prompt_at = None
        attempt.hold_s = self._rng.uniform(low, high) if high > 0 else 0.0
        attempt.hold_from = t if attempt.turned_back else None
        attempt.step_started_at = t
        attempt.eyes_closed = False
        attempt.eyes_open_seen = False

    def _hold(self, attempt: _Attempt, usable: bool, face: FaceOutcome, t: float) -> LivenessProgress:
        if usable and attempt.turned_back:
            if attempt.hold_from is None:
                attempt.hold_from = t
            if self._turn_direction(attempt) != 0:
                # Turned before any prompt asked for it: a routine played back, not a reaction.
                return self._fail_attempt(LivenessFailure.WRONG_ACTION, t)
        if attempt.hold_from is not None and t - attempt.hold_from >= attempt.hold_s:
            attempt.prompt_at = t
            return self._progress(LivenessState.CHALLENGE, face)
        if t - attempt.step_started_at > self.config.step_timeout_s + self.config.hold_s[1]:
            # The head never came back to the camera after a turn.
            reason = LivenessFailure.TIMEOUT if self._motion.passed else LivenessFailure.NO_MOTION
            return self._fail_attempt(reason, t)
        return self._progress(LivenessState.CHALLENGE, face, holding=True)

    def _judge(self, challenge: Challenge, attempt: _Attempt, since_prompt: float) -> bool | LivenessFailure:
        config = self.config
        early = since_prompt < config.reaction_min_s
        if challenge is Challenge.BLINK:
            # A head turn nobody asked for is a replay doing its own routine, not a customer blinking.
            if self._turn_direction(attempt) != 0:
                return LivenessFailure.WRONG_ACTION
            baseline_ear = float(np.median(attempt.baseline_ears))
            if attempt.ear < baseline_ear * config.blink_close_ratio:
                # Only eyes seen open since the prompt, closing once it could be read, answer it: a
                # blink already under way when it was shown does not.
                if attempt.eyes_open_seen and not early:
                    attempt.eyes_closed = True
            elif attempt.ear > baseline_ear * config.blink_reopen_ratio:
                if attempt.eyes_closed:
                    return True
                attempt.eyes_open_seen = True
            return False
        # The customer's left is the image's right (+x) unless the camera mirrors the picture.
        wanted = 1 if challenge is Challenge.TURN_LEFT else -1
        if config.camera_mirrored:
            wanted = -wanted
        direction = self._turn_direction(attempt)
        if direction != 0 and early:
            return LivenessFailure.WRONG_ACTION  # the turn began before its prompt was shown
        if direction == wanted:
            return True
        if direction == -wanted:
            return LivenessFailure.WRONG_ACTION
        return False

    @staticmethod
    def _yaw_from_baseline(attempt: _Attempt) -> float:
        """Degrees the head is turned from this session's frontal pose (the baseline frames' median)."""
        return attempt.yaw - float(np.median(attempt.baseline_yaws))

    def _frontal(self, attempt: _Attempt) -> bool:
        config = self.config
        turned = self._yaw_from_baseline(attempt)
        return abs(turned) < config.turn_min_yaw_deg and abs(attempt.parallax) < config.turn_min_parallax / 2

    def _turn_direction(self, attempt: _Attempt) -> int:
        """+1 / -1 when the head is turned towards the image's right / left, 0 when it is not turned.

        A turn needs both: the 3-D pose turned (roll removed, so a picture tilted in its plane does not
        count) and the nose moved the same way against the face plane (a flat picture turned about its
        vertical axis fools solvePnP into a yaw, but shows no parallax)."""
        config = self.config
        turned = self._yaw_from_baseline(attempt)
        if turned >= config.turn_min_yaw_deg and attempt.parallax >= config.turn_min_parallax:
            return 1
        if turned <= -config.turn_min_yaw_deg and attempt.parallax <= -config.turn_min_parallax:
            return -1
        return 0

    def _looks_presented(self) -> bool:
        """The passive detector's verdict on this attempt's frames: the median live score is too low."""
        if self._passive is None or not self._passive_scores:
            return False
        self._passive_median = float(np.median(self._passive_scores))
        return self._passive_median < self.config.passive_min_live

    def _start_attempt(self, t: float) -> None:
        self._attempt_number += 1
        challenges = make_challenges(self._rng, self.config.challenge_steps)
        self._attempt = _Attempt(challenges=challenges, started_at=t, step_started_at=t)
        self._challenges_log.append(tuple(c.value for c in challenges))
        self._motion.reset()
        self._passive_scores = []

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
            passive_live_median=self._passive_median,
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

    def _progress(
        self, state: LivenessState, face: FaceOutcome, *, holding: bool = False
    ) -> LivenessProgress:
        """``holding``: in the pause before a step's prompt, which shows "look at the camera"."""
        attempt = self._attempt
        assert attempt is not None
        asking = state is LivenessState.CHALLENGE and not holding
        challenge = attempt.challenges[attempt.step] if asking else None
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
