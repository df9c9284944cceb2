"""The virtual person passes a liveness challenge when it does what is asked and fails when it does not;
a still photo fails; the real video passes the motion check."""

from __future__ import annotations

import random
from collections.abc import Iterator
from dataclasses import replace
from pathlib import Path

import cv2
import numpy as np
import pytest

from kiosk.biometrics.config import BiometricsConfig
from kiosk.biometrics.faces import FaceAnalysis, FaceAnalyzer, Landmarks
from kiosk.biometrics.liveness import LivenessProgress, LivenessSession, LivenessState, MotionMeter
from kiosk.biometrics.pose import head_pose, nose_parallax
from kiosk.biometrics.worker import BiometricsWorker
from simulators.camera.virtual_person import VirtualPersonSource

FACES = Path(__file__).resolve().parents[2] / ".." / "shared" / "faces"
FPS = 15.0
REACTION_S = 0.4  # a cooperative person's reaction to a prompt
QUICK = replace(BiometricsConfig(), step_timeout_s=1.5, max_attempts=1)


@pytest.fixture(scope="module")
def analyzer() -> FaceAnalyzer:
    return FaceAnalyzer()


def landmarks_of(analyzer: FaceAnalyzer):  # type: ignore[no-untyped-def]
    def analyse(rgb: np.ndarray) -> FaceAnalysis:
        return analyzer.analyse(rgb, encoding=False, landmarks=True)

    return analyse


def drive(feed, source: VirtualPersonSource, *, cooperate: bool, max_frames: int = 400) -> LivenessProgress:  # type: ignore[no-untyped-def]
    """Play the camera at 15 fps; a cooperative person acts once on each new prompt, a human reaction
    time after it appears (sooner than 0.2 s the check takes it for a routine started before)."""
    seen: dict[tuple[int, int], float] = {}
    acted: set[tuple[int, int]] = set()
    progress = None
    for index in range(max_frames):
        t = index / FPS
        rgb = np.ascontiguousarray(source.frame(t)[..., ::-1])
        progress = feed(rgb, t)
        if progress.finished:
            return progress
        key = (progress.attempt, progress.step)
        if cooperate and progress.state is LivenessState.CHALLENGE and progress.challenge:
            shown = seen.setdefault(key, t)
            if key not in acted and t - shown >= REACTION_S:
                acted.add(key)
                source.act(progress.challenge.value)
    raise AssertionError(f"no decision after {max_frames} frames: {progress}")


def test_frames_are_bgr_of_the_requested_size_and_never_identical(tmp_path: Path) -> None:
    source = VirtualPersonSource(FACES / "alex_lacamoire_1.png", seed=1, size=(320, 240))
    first, second = source.frame(0.0), source.frame(1 / FPS)
    assert first.shape == (240, 320, 3) and first.dtype == np.uint8
    assert np.mean(np.abs(first.astype(int) - second.astype(int))) > 0.5
    with pytest.raises(ValueError):
        source.act("dance")
    blank = tmp_path / "blank.png"
    cv2.imwrite(str(blank), np.full((240, 320, 3), 90, dtype=np.uint8))
    with pytest.raises(ValueError, match="no face"):
        VirtualPersonSource(blank)


def test_distance_and_light_change_the_face_size_and_the_exposure(analyzer: FaceAnalyzer) -> None:
    photo = FACES / "biden_2.jpg"
    widths = {}
    for face_width in (0.26, 0.4, 0.55):
        frame = np.ascontiguousarray(VirtualPersonSource(photo, face_width=face_width).frame(0.0)[..., ::-1])
        found = analyzer.analyse(frame, encoding=False, landmarks=True)
        assert found.box is not None, face_width
        widths[face_width] = found.box.right - found.box.left
    assert widths[0.26] < 0.8 * widths[0.4] and widths[0.55] > 1.2 * widths[0.4]
    lit = {
        light: float(VirtualPersonSource(photo, light=light).frame(0.0).mean()) for light in (0.5, 1.0, 1.4)
    }
    assert lit[0.5] < 0.6 * lit[1.0] and lit[1.4] > 1.15 * lit[1.0]
    for bad in ({"face_width": 0.05}, {"light": 3.0}):
        with pytest.raises(ValueError):
            VirtualPersonSource(photo, **bad)  # type: ignore[arg-type]


def test_turning_left_moves_the_nose_to_the_image_right(analyzer: FaceAnalyzer) -> None:
    source = VirtualPersonSource(FACES / "lin_manuel_miranda_1.png")

    def pose_at(t: float) -> tuple[float, Landmarks]:
        frame = np.ascontiguousarray(source.frame(t)[..., ::-1])
        found = analyzer.analyse(frame, encoding=False, landmarks=True)
        assert found.landmarks is not None
        return head_pose(found.landmarks, found.image_size).yaw, found.landmarks

    frontal, reference = pose_at(0.0)
    source.act("turn_left")
    pose_at(1.0)  # the action starts with this frame
    left, left_marks = pose_at(1.5)
    source.act("turn_right")
    pose_at(3.0)
    right, right_marks = pose_at(3.5)
    config = BiometricsConfig()
    assert left - frontal > config.turn_min_yaw_deg
    assert frontal - right > config.turn_min_yaw_deg
    assert nose_parallax(reference, left_marks) > config.turn_min_parallax
    assert nose_parallax(reference, right_marks) < -config.turn_min_parallax


@pytest.mark.parametrize("photo", ["alex_lacamoire_1.png", "lin_manuel_miranda_1.png"])
def test_a_virtual_person_who_does_what_is_asked_passes(analyzer: FaceAnalyzer, photo: str) -> None:
    session = LivenessSession(landmarks_of(analyzer), BiometricsConfig(), random.Random(11))
    progress = drive(session.feed, VirtualPersonSource(FACES / photo, seed=2), cooperate=True)
    assert progress.state is LivenessState.PASSED, session.decision
    assert progress.decision is not None and progress.decision.attempts_used == 1


def test_a_virtual_person_who_ignores_the_challenge_fails(analyzer: FaceAnalyzer) -> None:
    session = LivenessSession(landmarks_of(analyzer), QUICK, random.Random(11))
    progress = drive(session.feed, VirtualPersonSource(FACES / "alex_lacamoire_1.png"), cooperate=False)
    assert progress.state is LivenessState.FAILED
    assert progress.decision is not None and progress.decision.reason == "timeout"


def test_a_still_photo_streamed_as_frames_fails(analyzer: FaceAnalyzer) -> None:
    still = np.ascontiguousarray(VirtualPersonSource(FACES / "obama_2.jpg").frame(0.0)[..., ::-1])
    session = LivenessSession(landmarks_of(analyzer), QUICK, random.Random(11))
    progress = None
    for index in range(60):
        progress = session.feed(still, index / FPS)
        if progress.finished:
            break
    assert progress is not None and progress.state is LivenessState.FAILED
    assert progress.decision is not None and progress.decision.reason == "no_motion"
    assert progress.decision.motion_changed_fraction == 0.0


def clip_frames() -> Iterator[np.ndarray]:
    capture = cv2.VideoCapture(str(FACES / "short_hamilton_clip.mp4"))
    try:
        while True:
            ok, frame = capture.read()
            if not ok:
                return
            yield np.ascontiguousarray(frame[..., ::-1])
    finally:
        capture.release()


def test_the_real_video_passes_the_motion_check_and_its_frozen_frame_does_not() -> None:
    config = BiometricsConfig()
    moving = MotionMeter(
        config.motion_min_mean_diff, config.motion_min_changed_fraction, config.motion_min_pairs
    )
    frozen = MotionMeter(
        config.motion_min_mean_diff, config.motion_min_changed_fraction, config.motion_min_pairs
    )
    first = None
    for frame in clip_frames():
        first = frame if first is None else first
        moving.feed(frame)
        frozen.feed(first)
    assert moving.pairs > 200
    assert moving.passed and moving.changed_fraction > 0.5
    assert not frozen.passed


def test_a_looping_video_that_ignores_the_challenge_fails(analyzer: FaceAnalyzer) -> None:
    session = LivenessSession(landmarks_of(analyzer), QUICK, random.Random(11))
    progress = None
    for index, frame in enumerate(clip_frames()):
        progress = session.feed(frame, index / 30.0)
        if progress.finished:
            break
    assert progress is not None and progress.state is LivenessState.FAILED


def test_liveness_through_the_worker_process() -> None:
    with BiometricsWorker() as worker:
        session = worker.liveness_start(seed=5)
        assert isinstance(session, str)

        def feed(rgb: np.ndarray, t: float) -> LivenessProgress:
            result = worker.liveness_feed(session, rgb, t)
            assert isinstance(result, LivenessProgress), result
            return result

        progress = drive(feed, VirtualPersonSource(FACES / "alex_lacamoire_1.png", seed=4), cooperate=True)
    assert progress.state is LivenessState.PASSED
    assert progress.decision is not None and progress.decision.to_journal()["passed"] is True
