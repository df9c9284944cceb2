"""Verification through the real worker process on ../shared/faces: outcomes, thresholds, cancel, crash."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import numpy as np
import pytest
from PIL import Image

from kiosk.biometrics.config import BiometricsConfig, config_from_settings
from kiosk.biometrics.faces import FaceAnalysis, FaceOutcome
from kiosk.biometrics.images import load_rgb
from kiosk.biometrics.verify import (
    Comparison,
    VerificationDecision,
    VerificationOutcome,
    template_from_bytes,
    template_to_bytes,
)
from kiosk.biometrics.worker import BiometricsWorker, WorkerFailure, WorkerFailureReason

FACES = Path(__file__).resolve().parents[3] / ".." / "shared" / "faces"


@pytest.fixture(scope="module")
def worker() -> Iterator[BiometricsWorker]:
    with BiometricsWorker() as client:
        assert client.wait_ready()
        yield client


def verified(result: VerificationDecision | WorkerFailure) -> VerificationDecision:
    assert isinstance(result, VerificationDecision), result
    return result


def test_same_person_matches_and_another_person_does_not(worker: BiometricsWorker) -> None:
    same = verified(worker.verify(FACES / "obama_2.jpg", reference_image=FACES / "obama_1.jpg"))
    assert same.outcome is VerificationOutcome.MATCH and same.distance is not None
    assert same.distance < worker.config.threshold
    other = verified(worker.verify(FACES / "biden_2.jpg", reference_image=FACES / "obama_1.jpg"))
    assert other.outcome is VerificationOutcome.NO_MATCH and other.distance is not None
    assert other.distance > worker.config.threshold
    journal = other.to_journal()
    assert journal["outcome"] == "no_match" and set(journal) >= {"distance", "threshold"}


def test_enrolled_template_survives_serialisation(worker: BiometricsWorker) -> None:
    enrolled = worker.analyse(FACES / "obama_1.jpg")
    assert isinstance(enrolled, FaceAnalysis) and enrolled.encoding is not None
    template = template_from_bytes(template_to_bytes(enrolled.encoding))
    assert template is not None
    decision = verified(worker.verify(FACES / "obama_small.jpg", template=template))
    assert decision.matched
    broken = verified(worker.verify(FACES / "obama_small.jpg", template=np.zeros(12)))
    assert broken.outcome is VerificationOutcome.REFERENCE_UNUSABLE


def test_live_frame_must_hold_exactly_one_whole_face(worker: BiometricsWorker) -> None:
    reference = FACES / "biden_1.jpg"
    two = verified(worker.verify(FACES / "two_people.jpg", reference_image=reference))
    assert two.outcome is VerificationOutcome.SEVERAL_FACES and two.probe_faces == 2 and two.distance is None
    assert two.prompt == "face.stand_alone"
    partial = verified(worker.verify(FACES / "obama_partial_face.jpg", reference_image=FACES / "obama_1.jpg"))
    assert partial.outcome is VerificationOutcome.PARTIAL_FACE
    empty = np.full((480, 640, 3), 128, dtype=np.uint8)
    nobody = verified(worker.verify(empty, reference_image=reference))
    assert nobody.outcome is VerificationOutcome.NO_FACE and nobody.probe_faces == 0
    no_reference = verified(worker.verify(FACES / "biden_2.jpg", reference_image=empty))
    assert no_reference.outcome is VerificationOutcome.REFERENCE_UNUSABLE


def test_rgba_and_greyscale_images_are_handled(worker: BiometricsWorker) -> None:
    rgba = np.asarray(Image.open(FACES / "rgba_32bit.png"))
    assert rgba.shape[2] == 4
    grey = load_rgb(FACES / "obama_1.jpg").mean(axis=2).astype(np.uint8)
    assert grey.ndim == 2
    decision = verified(worker.verify(grey, reference_image=rgba))
    assert decision.matched


def test_compare_uses_the_largest_face_of_each_image(worker: BiometricsWorker) -> None:
    result = worker.compare(FACES / "two_people.jpg", FACES / "biden_2.jpg")
    assert isinstance(result, Comparison)
    assert (result.faces_a, result.faces_b) == (2, 1)
    assert result.match  # the larger face in two_people.jpg is Biden
    missing = worker.compare(np.zeros((100, 100, 3), dtype=np.uint8), FACES / "biden_2.jpg")
    assert isinstance(missing, Comparison) and missing.distance is None and not missing.match


def test_faces_report_partial_and_boxes_in_full_resolution(worker: BiometricsWorker) -> None:
    partial = worker.analyse(FACES / "obama_partial_face.jpg", encoding=False)
    assert isinstance(partial, FaceAnalysis) and partial.outcome is FaceOutcome.PARTIAL_FACE
    assert partial.box is not None and partial.box.left == 0
    big = worker.analyse(FACES / "biden_1.jpg", encoding=False, landmarks=True)
    assert isinstance(big, FaceAnalysis) and big.box is not None and big.landmarks is not None
    # face_recognition on the untouched image puts the face at (top 241, right 740, bottom 562, left 419)
    assert abs(big.box.top - 241) < 25 and abs(big.box.left - 419) < 25
    assert len(big.landmarks["left_eye"]) == 6 and len(big.landmarks["chin"]) == 17


def test_unreadable_input_is_a_value_not_an_exception(worker: BiometricsWorker) -> None:
    result = worker.verify(b"not a jpeg", reference_image=FACES / "obama_1.jpg")
    assert isinstance(result, WorkerFailure) and result.reason is WorkerFailureReason.BAD_REQUEST


def test_a_cancelled_request_returns_at_once(worker: BiometricsWorker) -> None:
    big = load_rgb(FACES / "biden_1.jpg")
    first = worker.submit("analyse", image=big, encoding=True, landmarks=False)
    second = worker.submit("analyse", image=big, encoding=True, landmarks=False)
    started = time.monotonic()
    second.cancel()
    assert second.result(0.5) == WorkerFailure(WorkerFailureReason.CANCELLED)
    assert time.monotonic() - started < 0.5
    assert isinstance(first.result(), FaceAnalysis)
    # The worker skipped (or dropped the reply of) the cancelled one and still serves the next request.
    assert isinstance(worker.analyse(FACES / "obama_small.jpg"), FaceAnalysis)


def test_a_crashed_worker_is_restarted_and_the_caller_told_to_try_again(worker: BiometricsWorker) -> None:
    pid = worker.pid
    assert pid is not None
    pending = worker.submit("analyse", image=load_rgb(FACES / "biden_1.jpg"), encoding=True, landmarks=False)
    os.kill(pid, signal.SIGKILL)
    failure = pending.result(10)
    assert isinstance(failure, WorkerFailure) and failure.reason is WorkerFailureReason.CRASHED
    assert failure.prompt == "face.try_again"
    again = verified(worker.verify(FACES / "obama_2.jpg", reference_image=FACES / "obama_1.jpg"))
    assert again.matched
    assert worker.pid not in (None, pid) and worker.restarts >= 1


def test_close_joins_the_process_and_later_calls_fail_cleanly() -> None:
    client = BiometricsWorker()
    client.start()
    process = client._process
    client.close()
    assert process is not None and not process.is_alive() and process.exitcode is not None
    assert client.stats() == WorkerFailure(WorkerFailureReason.CLOSED)


def test_settings_map_onto_the_config() -> None:
    from kiosk.settings import load_settings

    settings = load_settings(biometrics={"threshold": 0.42, "max_attempts": 5})
    config = config_from_settings(settings.biometrics)
    assert config.threshold == 0.42 and config.max_attempts == 5
    assert config.detection_upsample == BiometricsConfig().detection_upsample


def run_cli(*args: str) -> subprocess.CompletedProcess[str]:
    code = "import sys; from ui.cli import main; sys.exit(main(sys.argv[1:]))"
    return subprocess.run(
        [sys.executable, "-c", code, "face", "compare", *args], capture_output=True, text=True, timeout=120
    )


def test_cli_face_compare_prints_one_json_object_and_exits_zero_on_no_match() -> None:
    result = run_cli(str(FACES / "two_people.jpg"), str(FACES / "obama_2.jpg"), "--json")
    assert result.returncode == 0, result.stderr
    data = json.loads(result.stdout)
    assert set(data) == {"faces_a", "faces_b", "distance", "match", "threshold"}
    assert data["faces_a"] == 2 and data["faces_b"] == 1 and data["match"] is False
    assert isinstance(data["distance"], float) and data["distance"] > data["threshold"]


def test_cli_face_compare_unreadable_input_exits_2_with_one_line(tmp_path: Path) -> None:
    bogus = tmp_path / "x.jpg"
    bogus.write_bytes(b"nope")
    result = run_cli(str(FACES / "obama_1.jpg"), str(bogus))
    assert result.returncode == 2
    assert result.stdout == "" and len(result.stderr.strip().splitlines()) == 1
