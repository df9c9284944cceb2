"""1:1 verification: the live face against a reference (ID-card photo or enrolled template)."""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum
from typing import Any

import numpy as np

from kiosk.biometrics.faces import Encoding, FaceAnalysis, FaceOutcome, face_distance

ENCODING_SIZE = 128


class VerificationOutcome(StrEnum):
    MATCH = "match"
    NO_MATCH = "no_match"
    NO_FACE = "no_face"  # nobody in front of the camera: ask the customer to look at it
    SEVERAL_FACES = "several_faces"  # ask the customer to stand alone
    PARTIAL_FACE = "partial_face"  # ask the customer to move into the frame
    REFERENCE_UNUSABLE = "reference_unusable"  # no face on the ID photo / a broken template
    TRY_AGAIN = "try_again"  # the worker crashed, timed out or the request was cancelled


# What the customer is asked to do, as a message key the UI translates.
CUSTOMER_PROMPTS: dict[VerificationOutcome, str] = {
    VerificationOutcome.MATCH: "face.match",
    VerificationOutcome.NO_MATCH: "face.no_match",
    VerificationOutcome.NO_FACE: "face.look_at_camera",
    VerificationOutcome.SEVERAL_FACES: "face.stand_alone",
    VerificationOutcome.PARTIAL_FACE: "face.move_into_frame",
    VerificationOutcome.REFERENCE_UNUSABLE: "face.reference_unusable",
    VerificationOutcome.TRY_AGAIN: "face.try_again",
}


@dataclass(frozen=True)
class VerificationDecision:
    """A 1:1 decision. Holds no image and no encoding, so it can be journaled as is."""

    outcome: VerificationOutcome
    distance: float | None
    threshold: float
    probe_faces: int
    reference_faces: int
    detail: str = ""

    @property
    def matched(self) -> bool:
        return self.outcome is VerificationOutcome.MATCH

    @property
    def prompt(self) -> str:
        return CUSTOMER_PROMPTS[self.outcome]

    def to_journal(self) -> dict[str, Any]:
        return {
            "event": "face_verification",
            "outcome": self.outcome.value,
            "distance": None if self.distance is None else round(self.distance, 4),
            "threshold": self.threshold,
            "probe_faces": self.probe_faces,
            "reference_faces": self.reference_faces,
            "detail": self.detail,
        }


def check_template(template: Any) -> Encoding | None:
    """A stored template as a 128-float vector, or None if it is not one (wrong size, NaN)."""
    try:
        vector = np.asarray(template, dtype=np.float64).reshape(-1)
    except (TypeError, ValueError):
        return None
    if vector.size != ENCODING_SIZE or not np.all(np.isfinite(vector)):
        return None
    return vector


def template_to_bytes(encoding: Encoding) -> bytes:
    """Serialise an enrolled template (128 little-endian float64); encrypt before storing it."""
    vector = check_template(encoding)
    if vector is None:
        raise ValueError("a face template is 128 finite numbers")
    return vector.astype("<f8").tobytes()


def template_from_bytes(data: bytes) -> Encoding | None:
    if len(data) != ENCODING_SIZE * 8:
        return None
    return check_template(np.frombuffer(data, dtype="<f8"))


_PROBE_REFUSALS = {
    FaceOutcome.NO_FACE: VerificationOutcome.NO_FACE,
    FaceOutcome.SEVERAL_FACES: VerificationOutcome.SEVERAL_FACES,
    FaceOutcome.PARTIAL_FACE: VerificationOutcome.PARTIAL_FACE,
}


def decide(
    probe: FaceAnalysis, reference: Encoding | None, threshold: float, reference_faces: int
) -> VerificationDecision:
    """Match the live face against a reference encoding.

    The live probe must show exactly one whole face: a second person or a face cut by the edge is refused
    with a prompt, never matched. The reference (ID photo) only needs a face; its largest is used.
    """
    if reference is None:
        return VerificationDecision(
            VerificationOutcome.REFERENCE_UNUSABLE, None, threshold, probe.faces_found, reference_faces
        )
    refusal = _PROBE_REFUSALS.get(probe.outcome)
    if refusal is not None:
        return VerificationDecision(refusal, None, threshold, probe.faces_found, reference_faces)
    if probe.encoding is None:
        return VerificationDecision(
            VerificationOutcome.NO_FACE, None, threshold, probe.faces_found, reference_faces, "no encoding"
        )
    distance = face_distance(probe.encoding, reference)
    outcome = VerificationOutcome.MATCH if distance <= threshold else VerificationOutcome.NO_MATCH
    return VerificationDecision(outcome, distance, threshold, probe.faces_found, reference_faces)


@dataclass(frozen=True)
class Comparison:
    """``face compare``: faces found in each image, the largest faces' distance and the decision."""

    faces_a: int
    faces_b: int
    distance: float | None
    threshold: float

    @property
    def match(self) -> bool:
        return self.distance is not None and self.distance <= self.threshold

    def to_json(self) -> dict[str, Any]:
        return {
            "faces_a": self.faces_a,
            "faces_b": self.faces_b,
            "distance": self.distance,
            "match": self.match,
            "threshold": self.threshold,
        }


def compare(a: FaceAnalysis, b: FaceAnalysis, threshold: float) -> Comparison:
    """Compare the largest face of each image, whatever else the images hold."""
    distance = None
    if a.encoding is not None and b.encoding is not None:
        distance = face_distance(a.encoding, b.encoding)
    return Comparison(a.faces_found, b.faces_found, distance, threshold)
