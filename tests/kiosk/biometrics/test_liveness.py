"""The liveness state machine on synthetic landmarks (no dlib): challenges, baseline, blink, turns,
motion, attempts, and what the journal gets."""

from __future__ import annotations

import math
import random
from collections.abc import Callable, Iterator
from dataclasses import replace

import numpy as np
import pytest

from kiosk.biometrics.config import BiometricsConfig
from kiosk.biometrics.faces import FaceAnalysis, FaceBox, FaceOutcome, Landmarks
from kiosk.biometrics.liveness import (
    Challenge,
    LivenessFailure,
    LivenessProgress,
    LivenessSession,
    LivenessState,
    MotionMeter,
    eye_aspect_ratio,
    head_yaw,
    make_challenges,
)
from kiosk.biometrics.pose import head_pose, nose_parallax

FPS = 15.0
REACTION_S = 0.4  # a cooperative person's reaction to a prompt


def _face_3d(ear: float) -> np.ndarray:
    """68 points of a generic head (x right, y down, z away from the camera; ~cm), eyes open by ``ear``.

    The 14 points the pose model uses sit where it expects them; the rest are laid out plausibly."""
    points = np.zeros((68, 3))
    for i in range(17):  # jaw: an arc behind the face
        angle = math.pi * (i / 16.0)
        points[i] = (
            -7.0 * math.cos(angle),
            -2.0 + 9.4 * math.sin(angle) ** 0.8,
            -1.0 + 2.5 * math.sin(angle),
        )
    points[8] = (0.0, 7.415691, -4.070434)
    brow_outer, brow_inner = (
        np.array([-6.825897, -6.760612, -4.402142]),
        np.array([-1.330353, -7.122144, -6.903745]),
    )
    for k in range(5):
        points[17 + k] = brow_outer + (brow_inner - brow_outer) * k / 4
        mirrored = points[17 + k] * (-1, 1, 1)
        points[26 - k] = mirrored
    for k in range(4):  # nose bridge down to the tip, which stands out most
        points[27 + k] = (0.0, -4.5 + 1.3 * k, -6.6 - 0.6 * k)
    wings = [
        (-2.005628, -1.409845, -6.165652),
        (-1.0, -1.1, -6.9),
        (0.0, -1.0, -7.2),
        (1.0, -1.1, -6.9),
        (2.005628, -1.409845, -6.165652),
    ]
    points[31:36] = wings
    for start, outer, inner in ((36, -5.311432, -1.789930), (42, 1.789930, 5.311432)):
        width = inner - outer
        half = ear * abs(width) / 2  # EAR = (|p1-p5| + |p2-p4|) / (2 |p0-p3|) = 2 half / width
        xs = (
            outer,
            outer + width / 3,
            outer + 2 * width / 3,
            inner,
            outer + 2 * width / 3,
            outer + width / 3,
        )
        ys = (0.0, -half, -half, 0.0, half, half)
        for k in range(6):
            points[start + k] = (xs[k], -5.44 + ys[k], -4.2)
    mouth_left, mouth_right = (
        np.array([-2.774015, 2.080775, -5.048531]),
        np.array([2.774015, 2.080775, -5.048531]),
    )
    for k in range(7):  # upper outer lip 48..54
        x = -2.774015 + 5.54803 * k / 6
        points[48 + k] = (
            x,
            2.080775 - 0.8 * math.sin(math.pi * k / 6),
            -5.05 - 1.0 * math.sin(math.pi * k / 6),
        )
    for k in range(1, 6):  # lower outer lip 55..59, 57 where the model has it
        x = 2.774015 - 5.54803 * k / 6
        points[54 + k] = (
            x,
            2.080775 + 1.04 * math.sin(math.pi * k / 6),
            -5.05 - 1.05 * math.sin(math.pi * k / 6),
        )
    points[48], points[54] = mouth_left, mouth_right
    points[57] = (0.0, 3.116408, -6.097667)
    for k in range(8):  # inner lip ring 60..67
        angle = 2 * math.pi * k / 8
        points[60 + k] = (-2.0 * math.cos(angle), 2.3 - 0.3 * math.sin(angle), -5.6)
    return points


def landmarks(ear: float = 0.3, yaw: float = 0.0, roll: float = 0.0, flat: bool = False) -> Landmarks:
    """A synthetic head, ``yaw`` degrees turned (+ = the image's right) and ``roll`` degrees tilted in the
    image, seen 60 cm away by a 640 px pinhole camera, in face_recognition's landmark dictionary.
    ``flat``: a printed photo of the frontal head instead, turned and tilted the same way."""
    points = _face_3d(ear)
    if flat:
        points[:, 2] = -5.0
    theta = math.radians(-yaw)  # Ry(+theta) swings the nose to -x; our yaw is the opposite
    rotation_y = np.array(
        [[math.cos(theta), 0, math.sin(theta)], [0, 1, 0], [-math.sin(theta), 0, math.cos(theta)]]
    )
    phi = math.radians(roll)
    rotation_z = np.array([[math.cos(phi), -math.sin(phi), 0], [math.sin(phi), math.cos(phi), 0], [0, 0, 1]])
    camera = (points @ rotation_y.T) @ rotation_z.T + (0.0, 0.0, 60.0)
    image = camera[:, :2] / camera[:, 2:3] * 640.0 + (320.0, 240.0)
    p = [(round(x), round(y)) for x, y in image]
    return {
        "chin": tuple(p[0:17]),
        "left_eyebrow": tuple(p[17:22]),
        "right_eyebrow": tuple(p[22:27]),
        "nose_bridge": tuple(p[27:31]),
        "nose_tip": tuple(p[31:36]),
        "left_eye": tuple(p[36:42]),
        "right_eye": tuple(p[42:48]),
        "top_lip": (*p[48:55], p[64], p[63], p[62], p[61], p[60]),
        "bottom_lip": (*p[54:60], p[48], p[60], p[67], p[66], p[65], p[64]),
    }


def analysis(
    ear: float = 0.3,
    yaw: float = 0.0,
    outcome: FaceOutcome = FaceOutcome.OK,
    roll: float = 0.0,
    flat: bool = False,
) -> FaceAnalysis:
    marks = landmarks(ear, yaw, roll, flat)
    return FaceAnalysis(outcome, 1, FaceBox(0, 10, 10, 0), None, marks, (640, 480))


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
    """Frames of a cooperative person doing ``challenge`` (None: stands still, face visible): looking at
    the camera until the step's prompt is shown, then, after a reaction time, doing what it says."""
    frames = camera.frames()
    progress = []
    if challenge is not None:
        progress += wait_for_prompt(live, camera)
        for _ in range(round(REACTION_S * FPS)):
            frame, t = next(frames)
            progress.append(live.observe(analysis(), frame, t))
    script: list[tuple[float, float]]
    if challenge is Challenge.BLINK:
        script = [(0.3, 0.0), (0.25, 0.0), (0.08, 0.0), (0.07, 0.0), (0.2, 0.0), (0.3, 0.0)]
    elif challenge in (Challenge.TURN_LEFT, Challenge.TURN_RIGHT):
        sign = 1.0 if challenge is Challenge.TURN_LEFT else -1.0
        if mirrored:
            sign = -sign
        script = [(0.3, sign * y) for y in (5.0, 12.0, 25.0, 30.0, 20.0, 5.0)]  # degrees
    else:
        script = [(0.3, 0.0)] * 6
    for ear, yaw in script:
        frame, t = next(frames)
        progress.append(live.observe(analysis(ear, yaw), frame, t))
    return progress


def wait_for_prompt(live: LivenessSession, camera: Camera) -> list[LivenessProgress]:
    """Neutral frames through the random pause before a step, up to the frame that shows its prompt."""
    frames = camera.frames()
    progress: list[LivenessProgress] = []
    for _ in range(int(FPS * (live.config.hold_s[1] + 1))):
        frame, t = next(frames)
        progress.append(live.observe(analysis(), frame, t))
        if progress[-1].challenge is not None or progress[-1].state is not LivenessState.CHALLENGE:
            return progress
    raise AssertionError("no prompt after the pause")


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
    # The old 2-D measure: the nose's sideways offset from the eye midpoint, in inter-ocular distances.
    assert head_yaw(landmarks(yaw=20.0)) > 0.12
    assert abs(head_yaw(landmarks(roll=20.0, flat=True))) > 0.12  # ... which a tilted photo also moves
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


@pytest.mark.parametrize("live_score", [0.97, 0.2])
def test_a_completed_challenge_on_frames_the_passive_detector_calls_a_print_fails(live_score: float) -> None:
    scored: list[FaceBox] = []

    def passive(_rgb: np.ndarray, box: FaceBox) -> float:
        scored.append(box)
        return live_score

    def no_dlib(_frame: np.ndarray) -> FaceAnalysis:
        raise AssertionError("observe() is given the analysis")

    config = replace(BiometricsConfig(), max_attempts=1)
    live = LivenessSession(no_dlib, config, random.Random(7), passive=passive)
    camera = Camera()
    run_baseline(live, camera)
    for challenge in live.challenges:
        progress = perform(live, camera, challenge)
    decision = live.decision
    assert decision is not None and scored and decision.passive_live_median == pytest.approx(live_score)
    assert decision.to_journal()["passive_live_median"] == pytest.approx(live_score)
    if live_score >= config.passive_min_live:
        assert progress[-1].state is LivenessState.PASSED
    else:
        assert progress[-1].state is LivenessState.FAILED and decision.reason == "presented_medium"


def test_the_prompt_follows_the_current_step() -> None:
    live = session()
    camera = Camera()
    run_baseline(live, camera)
    first = live.challenges[0]
    shown = wait_for_prompt(live, camera)
    # First a pause: look at the camera; then the prompt of the first step.
    assert shown[0].challenge is None and shown[0].prompt == "liveness.look_at_camera"
    progress = shown[-1]
    assert progress.challenge is first and progress.step == 0 and progress.prompt == f"liveness.{first.value}"


def first_step_seed(wanted: Callable[[Challenge], bool]) -> int:
    """A session seed whose first step is what ``wanted`` accepts."""
    for seed in range(100):
        live = session(seed=seed)
        run_baseline(live, Camera())
        if wanted(live.challenges[0]):
            return seed
    raise AssertionError("no such seed")


def test_the_pause_before_a_prompt_is_random_so_a_replay_cannot_know_when_it_comes() -> None:
    pauses = set()
    for seed in range(12):
        live = session(seed=seed)
        camera = Camera()
        run_baseline(live, camera)
        pauses.add(len(wait_for_prompt(live, camera)))
    low, high = BiometricsConfig().hold_s
    assert len(pauses) >= 5 and min(pauses) >= low * FPS - 1 and max(pauses) <= high * FPS + 2


def test_a_turn_before_the_prompt_or_sooner_than_a_reaction_after_it_fails_the_attempt() -> None:
    seed = first_step_seed(lambda c: c is not Challenge.BLINK)
    for too_soon in (False, True):
        live = session(seed=seed)
        camera = Camera()
        frames = camera.frames()
        run_baseline(live, camera)
        if too_soon:
            wait_for_prompt(live, camera)  # the prompt is shown on this frame; the turn comes at once
        sign = 1.0 if live.challenges[0] is Challenge.TURN_LEFT else -1.0
        progress = [live.observe(analysis(yaw=sign * y), *next(frames)) for y in (20.0, 30.0)]
        retry = next(p for p in progress if p.state is LivenessState.RETRY)
        assert retry.last_failure is LivenessFailure.WRONG_ACTION, too_soon


def test_a_blink_under_way_when_the_prompt_comes_does_not_answer_it_and_a_fresh_one_does() -> None:
    live = session(seed=first_step_seed(lambda c: c is Challenge.BLINK))
    camera = Camera()
    frames = camera.frames()
    run_baseline(live, camera)
    shown = wait_for_prompt(live, camera)
    assert shown[-1].challenge is Challenge.BLINK
    # Eyes shut from the prompt until well after it could be read, then open: no blink, for the eyes
    # were never seen open since the prompt.
    for ear in (0.08, 0.07, 0.07, 0.07, 0.07, 0.3, 0.3):
        assert live.observe(analysis(ear), *next(frames)).step == 0
    # A blink after that is an answer: the next step's pause follows.
    progress = [live.observe(analysis(ear), *next(frames)) for ear in (0.08, 0.07, 0.3)]
    assert progress[-1].step == 1 and progress[-1].challenge is None


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


def test_head_pose_separates_yaw_from_roll_on_a_synthetic_head() -> None:
    for yaw in (-25.0, -10.0, 0.0, 15.0, 30.0):
        pose = head_pose(landmarks(yaw=yaw), (640, 480))
        assert pose.yaw == pytest.approx(yaw, abs=3.0)
        assert abs(pose.roll) < 3.0
    tilted = head_pose(landmarks(roll=20.0), (640, 480))
    assert tilted.roll == pytest.approx(20.0, abs=3.0) and abs(tilted.yaw) < 3.0


def test_only_a_head_in_depth_shows_nose_parallax() -> None:
    frontal = landmarks()
    needed = BiometricsConfig().turn_min_parallax
    assert nose_parallax(frontal, landmarks(yaw=20.0)) > needed
    assert nose_parallax(frontal, landmarks(yaw=-20.0)) < -needed
    photo = landmarks(flat=True)
    for turned in (
        landmarks(yaw=35.0, flat=True),
        landmarks(yaw=-35.0, flat=True),
        landmarks(roll=20.0, flat=True),
    ):
        assert abs(nose_parallax(photo, turned)) < 0.02


@pytest.mark.parametrize("attack", [{"roll": 20.0}, {"roll": -20.0}, {"yaw": 35.0}, {"yaw": -35.0}], ids=str)
@pytest.mark.parametrize("seed", [0, 5], ids=["asked_left", "asked_right"])
def test_a_photo_tilted_or_turned_on_cue_never_completes_a_turn(attack: dict[str, float], seed: int) -> None:
    live = session(replace(BiometricsConfig(), challenge_steps=1), seed=seed)
    camera = Camera()
    frames = camera.frames()
    progress = None
    for _ in range(live.config.baseline_frames):
        frame, t = next(frames)
        progress = live.observe(analysis(flat=True), frame, t)
    assert live.challenges[0] in (Challenge.TURN_LEFT, Challenge.TURN_RIGHT)
    for _ in range(int(FPS * (live.config.hold_s[1] + live.config.step_timeout_s + 1))):
        frame, t = next(frames)
        progress = live.observe(analysis(flat=True, **attack), frame, t)
        if progress.state is not LivenessState.CHALLENGE:
            break
    assert progress is not None and progress.state is not LivenessState.PASSED
    assert progress.last_failure in (LivenessFailure.TIMEOUT, None)
