"""The liveness state machine on synthetic landmarks (no dlib): challenges, baseline, blink, turns,
motion, attempts, and what the journal gets."""

from __future__ import annotations

import random
from collections.abc import Iterator
from dataclasses import replace

import numpy as np
import pytest

from kiosk.biometrics.config import BiometricsConfig
from kiosk.biometrics.faces import FaceAnalysis, FaceBox, FaceOutcome, Landmarks
from kiosk.biometrics.liveness import (
    Challenge,
    LivenessFailure,
    LivenessSession,
    LivenessState,
    MotionMeter,
    eye_aspect_ratio,
    head_yaw,
    make_challenges,
)

FPS = 15.0


def landmarks(ear: float = 0.3, yaw: float = 0.0) -> Landmarks:
    """Two 30 px wide eyes 60 px apart; EAR = 4h / 60 for lids h px from the corner line."""
    h = 15.0 * ear

    def eye(cx: float, cy: float) -> tuple[tuple[int, int], ...]:
        points = [
            (cx - 15, cy),
            (cx - 5, cy - h),
            (cx + 5, cy - h),
            (cx + 15, cy),
            (cx + 5, cy + h),
            (cx - 5, cy + h),
        ]
        return tuple((round(x * 10), round(y * 10)) for x, y in points)  # x10: keep precision in ints

    nose = (round((130 + yaw * 60) * 10), 1400)
    return {"left_eye": eye(100, 100), "right_eye": eye(160, 100), "nose_bridge": ((1300, 1100), nose)}


def analysis(ear: float = 0.3, yaw: float = 0.0, outcome: FaceOutcome = FaceOutcome.OK) -> FaceAnalysis:
    return FaceAnalysis(outcome, 1, FaceBox(0, 10, 10, 0), None, landmarks(ear, yaw), (64, 48))


class Camera:
    """Frames that change (a live scene) or never change (a still photo)."""

    def __init__(self, live: bool = True) -> None:
        self.live = live
        self.rng = np.random.default_rng(0)
        self.still = self.rng.integers(0, 255, (48, 64, 3), dtype=np.uint8)
        self.t = 0.0

    def frames(self) -> Iterator[tuple[np.ndarray, float]]:
        while True:
            frame = self.rng.integers(0, 255, (48, 64, 3), dtype=np.uint8) if self.live else self.still
            yield frame, self.t
            self.t += 1 / FPS


def session(config: BiometricsConfig | None = None, seed: int = 7) -> LivenessSession:
    def no_dlib(_frame: np.ndarray) -> FaceAnalysis:
        raise AssertionError("observe() is given the analysis; feed() is not used here")

    return LivenessSession(no_dlib, config or BiometricsConfig(), random.Random(seed))


def perform(
    live: LivenessSession, camera: Camera, challenge: Challenge | None, mirrored: bool = False
) -> list:
    """Frames of a cooperative person doing ``challenge`` (None: stands still, face visible)."""
    frames = camera.frames()
    progress = []
    script: list[tuple[float, float]]
    if challenge is Challenge.BLINK:
        script = [(0.3, 0.0), (0.25, 0.0), (0.08, 0.0), (0.07, 0.0), (0.2, 0.0), (0.3, 0.0)]
    elif challenge in (Challenge.TURN_LEFT, Challenge.TURN_RIGHT):
        sign = 1.0 if challenge is Challenge.TURN_LEFT else -1.0
        if mirrored:
            sign = -sign
        script = [(0.3, sign * y) for y in (0.05, 0.12, 0.25, 0.3, 0.2, 0.05)]
    else:
        script = [(0.3, 0.0)] * 6
    for ear, yaw in script:
        frame, t = next(frames)
        progress.append(live.observe(analysis(ear, yaw), frame, t))
    return progress


def run_baseline(live: LivenessSession, camera: Camera) -> None:
    frames = camera.frames()
    for _ in range(live.config.baseline_frames):
        frame, t = next(frames)
        progress = live.observe(analysis(), frame, t)
    assert progress.state is LivenessState.CHALLENGE


def test_eye_aspect_ratio_and_yaw_from_hand_computed_geometry() -> None:
    # Corners 30 apart, lids 4.5 above/below: (9 + 9) / (2 * 30) = 0.3
    eye = ((0, 0), (10, -4.5), (20, -4.5), (30, 0), (20, 4.5), (10, 4.5))
    assert eye_aspect_ratio(eye) == pytest.approx(0.3)  # type: ignore[arg-type]
    assert head_yaw(landmarks(yaw=0.25)) == pytest.approx(0.25, abs=0.01)
    assert head_yaw(landmarks(yaw=-0.1)) == pytest.approx(-0.1, abs=0.01)
    with pytest.raises(ValueError):
        eye_aspect_ratio(eye[:5])  # type: ignore[arg-type]


def test_challenges_are_seeded_random_and_mix_blink_and_turn() -> None:
    sequences = {make_challenges(random.Random(seed), 2) for seed in range(40)}
    assert len(sequences) >= 3  # order and direction vary
    for sequence in sequences:
        assert Challenge.BLINK in sequence
        assert {Challenge.TURN_LEFT, Challenge.TURN_RIGHT} & set(sequence)
    assert make_challenges(random.Random(5), 3) == make_challenges(random.Random(5), 3)
    assert len(make_challenges(random.Random(5), 1)) == 1
    with pytest.raises(ValueError):
        make_challenges(random.Random(5), 0)


@pytest.mark.parametrize("mirrored", [False, True])
def test_cooperative_person_passes(mirrored: bool) -> None:
    live = session(replace(BiometricsConfig(), camera_mirrored=mirrored))
    camera = Camera()
    run_baseline(live, camera)
    for challenge in live.challenges:
        progress = perform(live, camera, challenge, mirrored=mirrored)
    assert progress[-1].state is LivenessState.PASSED
    decision = live.decision
    assert decision is not None and decision.passed and decision.attempts_used == 1
    journal = decision.to_journal()
    assert journal["passed"] is True and journal["challenges"] == [[c.value for c in live.challenges]]
    assert not {"frame", "image", "landmarks", "encoding"} & set(journal)


def test_the_prompt_follows_the_current_step() -> None:
    live = session()
    camera = Camera()
    run_baseline(live, camera)
    first = live.challenges[0]
    progress = perform(live, camera, None)[-1]
    assert progress.challenge is first and progress.step == 0 and progress.prompt == f"liveness.{first.value}"


def test_turning_the_wrong_way_fails_the_attempt_and_a_new_challenge_follows() -> None:
    live = session(seed=3)
    camera = Camera()
    run_baseline(live, camera)
    challenges = live.challenges
    turn = next(c for c in challenges if c is not Challenge.BLINK)
    wrong = Challenge.TURN_RIGHT if turn is Challenge.TURN_LEFT else Challenge.TURN_LEFT
    if challenges[0] is Challenge.BLINK:
        perform(live, camera, Challenge.BLINK)
    progress = perform(live, camera, wrong)
    retry = next(p for p in progress if p.state is LivenessState.RETRY)
    assert retry.last_failure is LivenessFailure.WRONG_ACTION and retry.attempts_left == 2


def test_a_person_who_ignores_the_challenge_times_out_and_attempts_are_limited() -> None:
    config = replace(BiometricsConfig(), step_timeout_s=1.0, max_attempts=2)
    live = session(config)
    camera = Camera()
    frames = camera.frames()
    states = []
    for _ in range(200):
        frame, t = next(frames)
        progress = live.observe(analysis(), frame, t)
        states.append(progress.state)
        if progress.finished:
            break
    assert progress.state is LivenessState.FAILED
    assert states.count(LivenessState.RETRY) == 1
    decision = live.decision
    assert decision is not None and not decision.passed
    assert decision.failures == ("timeout", "timeout") and decision.attempts_used == 2
    assert len(decision.challenges) == 2  # a fresh random challenge per attempt
    # After the end every further frame just repeats the decision.
    frame, t = next(frames)
    assert live.observe(analysis(), frame, t).decision is decision


def test_a_still_photo_that_even_blinks_and_turns_fails_for_lack_of_motion() -> None:
    """Perfect landmarks from identical frames (a replayed, frozen stream): refused as no_motion."""
    live = session(replace(BiometricsConfig(), max_attempts=1))
    camera = Camera(live=False)
    run_baseline(live, camera)
    for challenge in live.challenges:
        progress = perform(live, camera, challenge)
    assert progress[-1].state is LivenessState.FAILED
    assert live.decision is not None and live.decision.reason == "no_motion"


def test_no_face_during_the_baseline_fails_after_the_baseline_timeout() -> None:
    live = session(replace(BiometricsConfig(), max_attempts=1, baseline_timeout_s=1.0))
    frames = Camera().frames()
    empty = FaceAnalysis(FaceOutcome.NO_FACE, 0)
    for _ in range(40):
        frame, t = next(frames)
        progress = live.observe(empty, frame, t)
        if progress.finished:
            break
    assert live.decision is not None and live.decision.reason == "no_face"


def test_two_people_get_the_stand_alone_prompt_and_no_progress() -> None:
    live = session()
    frames = Camera().frames()
    frame, t = next(frames)
    progress = live.observe(analysis(outcome=FaceOutcome.SEVERAL_FACES), frame, t)
    assert progress.state is LivenessState.BASELINE and progress.prompt == "face.stand_alone"


def test_motion_meter_separates_changing_from_identical_frames() -> None:
    rng = np.random.default_rng(1)
    moving = MotionMeter(0.6, 0.3, 5)
    still = MotionMeter(0.6, 0.3, 5)
    photo = rng.integers(0, 255, (48, 64, 3), dtype=np.uint8)
    for _ in range(10):
        moving.feed(rng.integers(0, 255, (48, 64, 3), dtype=np.uint8))
        still.feed(photo)
    assert moving.passed and moving.changed_fraction == 1.0
    assert not still.passed and still.changed_fraction == 0.0
    too_few = MotionMeter(0.6, 0.3, 50)
    for _ in range(10):
        too_few.feed(rng.integers(0, 255, (48, 64, 3), dtype=np.uint8))
    assert not too_few.passed
