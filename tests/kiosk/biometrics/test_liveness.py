"""The liveness state machine on synthetic landmarks (no dlib): challenges, baseline, blink, turns,
motion, attempts, and what the journal gets."""

from __future__ import annotations

import math
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
    LivenessProgress,
    LivenessSession,
    LivenessState,
    MotionMeter,
    eye_aspect_ratio,
    head_yaw,
    make_challenges,
    mean_eye_aspect_ratio,
    measure,
)

FPS = 15.0
IMAGE_SIZE = (640, 480)


def _head(ear: float) -> np.ndarray:
    """A synthetic head: the 68 landmarks in 3-D (mm; x right, y down, z away from the camera)."""
    h = 14.5 * ear  # lids h mm from the corner line: EAR = 2h / 29
    points: list[tuple[float, float, float]] = []
    for i in range(17):  # jaw, from the image-left ear round the chin
        a = math.pi * i / 16
        points.append((-68 * math.cos(a), 20 + 95 * math.sin(a), 75 * abs(math.cos(a))))
    for x in (-55, -45, -35, -25, -14):
        points.append((x, -12.0, 12 - abs(x) / 6))
    for x in (14, 25, 35, 45, 55):
        points.append((x, -12.0, 12 - abs(x) / 6))
    points += [(0, 0, 0), (0, 15, -8), (0, 30, -16), (0, 45, -25)]
    points += [(-14, 50, -3), (-7, 53, -8), (0, 55, -10), (7, 53, -8), (14, 50, -3)]
    for side in (-1, 1):
        outer, inner = (-45, 5, 22), (-16, 5, 8)
        eye = [outer, (-35, 5 - h, 14), (-26, 5 - h, 11), inner, (-26, 5 + h, 11), (-35, 5 + h, 14)]
        if side == 1:  # the image-right eye starts at its inner corner
            eye = [
                (16, 5, 8),
                (26, 5 - h, 11),
                (35, 5 - h, 14),
                (45, 5, 22),
                (35, 5 + h, 14),
                (26, 5 + h, 11),
            ]
        points += eye
    points += [(-25, 75, 12), (-15, 71, 5), (-6, 69, 1), (0, 70, 0), (6, 69, 1), (15, 71, 5), (25, 75, 12)]
    points += [(15, 80, 5), (6, 83, 1), (0, 84, 0), (-6, 83, 1), (-15, 80, 5)]
    points += [(-20, 75, 10), (-6, 73, 3), (0, 73, 2), (6, 73, 3), (20, 75, 10), (6, 77, 3), (0, 77, 2)]
    points += [(-6, 77, 3)]
    return np.asarray(points, dtype=np.float64)


def _rotation(yaw: float, pitch: float, roll: float) -> np.ndarray:
    """R = Rz(roll) Ry(-yaw) Rx(pitch): positive yaw turns the nose towards the image's right."""
    a, b, c = math.radians(-yaw), math.radians(pitch), math.radians(roll)
    ry = np.array([[math.cos(a), 0, math.sin(a)], [0, 1, 0], [-math.sin(a), 0, math.cos(a)]])
    rx = np.array([[1, 0, 0], [0, math.cos(b), -math.sin(b)], [0, math.sin(b), math.cos(b)]])
    rz = np.array([[math.cos(c), -math.sin(c), 0], [math.sin(c), math.cos(c), 0], [0, 0, 1]])
    return rz @ ry @ rx


def _project(points3d: np.ndarray, distance: float = 600.0) -> np.ndarray:
    camera = points3d + np.array([0.0, -60.0, distance])
    return 640.0 * camera[:, :2] / camera[:, 2:3] + np.array([320.0, 240.0])


def _as_landmarks(points: np.ndarray) -> Landmarks:
    p = [(round(float(x)), round(float(y))) for x, y in points]

    def pick(*indices: int) -> tuple[tuple[int, int], ...]:
        return tuple(p[i] for i in indices)

    return {
        "chin": pick(*range(17)),
        "left_eyebrow": pick(*range(17, 22)),
        "right_eyebrow": pick(*range(22, 27)),
        "nose_bridge": pick(*range(27, 31)),
        "nose_tip": pick(*range(31, 36)),
        "left_eye": pick(*range(36, 42)),
        "right_eye": pick(*range(42, 48)),
        "top_lip": pick(*range(48, 55), 64, 63, 62, 61, 60),
        "bottom_lip": pick(*range(54, 60), 48, 60, 67, 66, 65, 64),
    }


def landmarks(ear: float = 0.3, yaw: float = 0.0, pitch: float = 0.0, roll: float = 0.0) -> Landmarks:
    """The 68 landmarks of the synthetic head in that pose, as face_recognition names them (int pixels)."""
    head = _head(ear) @ _rotation(yaw, pitch, roll).T
    return _as_landmarks(_project(head))


def picture(ear: float = 0.3, yaw: float = 0.0, pitch: float = 0.0, roll: float = 0.0) -> Landmarks:
    """A *flat* photo of the frontal head, itself turned in 3-D by yaw/pitch/roll (a print held up)."""
    flat = _project(_head(ear))
    plane = np.column_stack([(flat - np.array([320.0, 240.0])) * 600.0 / 640.0, np.zeros(len(flat))])
    turned = plane @ _rotation(yaw, pitch, roll).T
    camera = turned + np.array([0.0, 0.0, 600.0])
    return _as_landmarks(640.0 * camera[:, :2] / camera[:, 2:3] + np.array([320.0, 240.0]))


def analysis(
    ear: float = 0.3, yaw: float = 0.0, outcome: FaceOutcome = FaceOutcome.OK, marks: Landmarks | None = None
) -> FaceAnalysis:
    found = marks if marks is not None else landmarks(ear, yaw)
    return FaceAnalysis(outcome, 1, FaceBox(0, 10, 10, 0), None, found, IMAGE_SIZE)


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
    live: LivenessSession,
    camera: Camera,
    challenge: Challenge | None,
    mirrored: bool = False,
    reaction_frames: int = 5,
) -> list[LivenessProgress]:
    """Frames of a cooperative person doing ``challenge`` after a reaction time (None: stands still)."""
    frames = camera.frames()
    progress = []
    script: list[tuple[float, float]] = [(0.3, 0.0)] * reaction_frames
    if challenge is Challenge.BLINK:
        script += [(0.3, 0.0), (0.25, 0.0), (0.08, 0.0), (0.07, 0.0), (0.2, 0.0), (0.3, 0.0)]
    elif challenge in (Challenge.TURN_LEFT, Challenge.TURN_RIGHT):
        sign = 1.0 if challenge is Challenge.TURN_LEFT else -1.0
        if mirrored:
            sign = -sign
        script += [(0.3, sign * y) for y in (5.0, 12.0, 22.0, 25.0, 15.0, 5.0, 0.0)]
    else:
        script += [(0.3, 0.0)] * 6
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


def test_eye_aspect_ratio_and_the_old_nose_offset_from_hand_computed_geometry() -> None:
    # Corners 30 apart, lids 4.5 above/below: (9 + 9) / (2 * 30) = 0.3
    eye = ((0, 0), (10, -4.5), (20, -4.5), (30, 0), (20, 4.5), (10, 4.5))
    assert eye_aspect_ratio(eye) == pytest.approx(0.3)  # type: ignore[arg-type]
    assert mean_eye_aspect_ratio(landmarks(ear=0.3)) == pytest.approx(0.3, abs=0.03)
    assert head_yaw(landmarks()) == pytest.approx(0.0, abs=0.02)
    assert head_yaw(landmarks(yaw=20)) > 0.15  # the nose moves towards the image's right
    with pytest.raises(ValueError):
        eye_aspect_ratio(eye[:5])  # type: ignore[arg-type]


def test_head_pose_recovers_yaw_pitch_and_roll_of_the_synthetic_head() -> None:
    for yaw, pitch, roll in [(0, 0, 0), (20, 0, 0), (-15, 5, 0), (0, 0, 20), (10, -5, -15)]:
        found = measure(landmarks(yaw=yaw, pitch=pitch, roll=roll), IMAGE_SIZE)
        assert found is not None
        assert found.yaw == pytest.approx(yaw, abs=2.5), (yaw, pitch, roll)
        assert found.roll == pytest.approx(roll, abs=2.5), (yaw, pitch, roll)
        assert found.pitch == pytest.approx(pitch, abs=4.0), (yaw, pitch, roll)


def test_an_in_plane_tilt_moves_the_old_measure_but_not_the_pose_yaw() -> None:
    """The bug: rolling a frontal face by 15-20° moved the old nose offset past 0.12; the pose yaw stays."""
    for roll in (15.0, -15.0, 20.0, -20.0):
        tilted = landmarks(roll=roll)
        assert abs(head_yaw(tilted)) >= 0.12
        found = measure(tilted, IMAGE_SIZE)
        assert found is not None
        assert abs(found.yaw) < 2.5 and found.roll == pytest.approx(roll, abs=2.5)
    assert measure({"left_eye": landmarks()["left_eye"]}, IMAGE_SIZE) is None


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


def play_script(live: LivenessSession, camera: Camera, marks: list[Landmarks]) -> list[LivenessProgress]:
    frames = camera.frames()
    progress = []
    for found in marks:
        frame, t = next(frames)
        progress.append(live.observe(analysis(marks=found), frame, t))
    return progress


def first_turn_session(seed_range: range = range(40)) -> tuple[LivenessSession, Camera, Challenge]:
    """A session whose first step is a turn, through the baseline."""
    for seed in seed_range:
        live = session(replace(BiometricsConfig(), max_attempts=1), seed=seed)
        if live.config and make_challenges(random.Random(seed), 2)[0] is not Challenge.BLINK:
            camera = Camera()
            run_baseline(live, camera)
            return live, camera, live.challenges[0]
    raise AssertionError("no seed starts with a turn")


def first_blink_session() -> tuple[LivenessSession, Camera]:
    for seed in range(40):
        if make_challenges(random.Random(seed), 2)[0] is Challenge.BLINK:
            live = session(replace(BiometricsConfig(), max_attempts=1), seed=seed)
            camera = Camera()
            run_baseline(live, camera)
            return live, camera
    raise AssertionError("no seed starts with a blink")


@pytest.mark.parametrize("roll", [15.0, 20.0])
def test_a_picture_tilted_in_plane_towards_the_asked_side_is_not_a_turn(roll: float) -> None:
    live, camera, turn = first_turn_session()
    sign = 1.0 if turn is Challenge.TURN_LEFT else -1.0
    # Rolling clockwise in the image (negative roll) swings the nose to the image's right.
    script = [picture()] * 5 + [picture(roll=-sign * r) for r in (5, 10, roll, roll, roll)] * 10
    progress = play_script(live, camera, script)
    assert all(p.step == 0 for p in progress if p.state is LivenessState.CHALLENGE)
    assert live.decision is not None and not live.decision.passed
    assert live.decision.reason == "timeout"


@pytest.mark.parametrize("yaw", [25.0, 40.0])
def test_a_picture_rotated_about_its_vertical_axis_is_refused_for_lack_of_parallax(yaw: float) -> None:
    live, camera, turn = first_turn_session()
    sign = 1.0 if turn is Challenge.TURN_LEFT else -1.0
    script = [picture()] * 5 + [picture(yaw=sign * y) for y in (10, 20, yaw, yaw, yaw)] * 10
    measured = measure(picture(yaw=sign * yaw), IMAGE_SIZE)
    assert measured is not None
    progress = play_script(live, camera, script)
    assert all(p.step == 0 for p in progress if p.state is LivenessState.CHALLENGE)
    assert live.decision is not None and not live.decision.passed
    # Whatever yaw the pose fit reads into the flat picture, it never passes the step.
    assert live.decision.reason in ("flat_picture", "timeout")


def test_a_real_turn_of_the_synthetic_head_passes_the_turn_step() -> None:
    live, camera, turn = first_turn_session()
    perform(live, camera, turn)
    assert live._attempt is not None and live._attempt.step == 1


def test_a_picture_flicked_back_is_not_a_blink_but_a_closed_eye_is() -> None:
    live, camera = first_blink_session()
    flick = [picture()] * 5 + [picture(pitch=p) for p in (20, 45, 55, 45, 20, 0, 0)] * 6
    progress = play_script(live, camera, flick)
    assert all(p.step == 0 for p in progress if p.state is LivenessState.CHALLENGE)
    live, camera = first_blink_session()
    progress = perform(live, camera, Challenge.BLINK)
    assert progress[-1].step == 1


def test_a_head_turn_while_asked_to_blink_fails_the_attempt() -> None:
    live, camera = first_blink_session()
    progress = perform(live, camera, Challenge.TURN_LEFT)
    assert live.decision is not None and live.decision.reason == "wrong_action"
    assert progress[-1].state is LivenessState.FAILED


def test_an_action_already_under_way_at_the_prompt_or_too_late_does_not_count() -> None:
    # Too early: the eyes close in the first frames after the prompt, faster than anyone reacts.
    live, camera = first_blink_session()
    play_script(live, camera, [landmarks(ear=e) for e in (0.08, 0.07, 0.2, 0.3, 0.3, 0.3, 0.3, 0.3)])
    assert live._attempt is not None and live._attempt.step == 0
    # The same blink a reaction time later counts.
    live, camera = first_blink_session()
    play_script(live, camera, [landmarks(ear=e) for e in (0.3, 0.3, 0.3, 0.3, 0.08, 0.07, 0.2, 0.3)])
    assert live._attempt is not None and live._attempt.step == 1
    # Too late: the blink comes after the response window.
    live, camera = first_blink_session()
    late = int(live.config.response_window_s * FPS) + 3
    perform(live, camera, Challenge.BLINK, reaction_frames=late)
    assert live.decision is not None and live.decision.reason == "timeout"


def test_a_moving_head_gives_no_baseline_until_it_rests() -> None:
    live = session(replace(BiometricsConfig(), max_attempts=1, baseline_timeout_s=1.0))
    frames = Camera().frames()
    for index in range(40):
        frame, t = next(frames)
        progress = live.observe(analysis(yaw=15.0 * math.sin(index / 2.0)), frame, t)
        if progress.finished:
            break
    assert live.decision is not None and live.decision.reason == "no_face"
