"""Passive presentation-attack detection: MiniFASNet (minivision-ai/Silent-Face-Anti-Spoofing) on onnxruntime.

One frame and the face box, no cooperation: the two upstream models each look at a crop of the face
enlarged about its centre (x2.7 for MiniFASNetV2, x4.0 for MiniFASNetV1SE, so the second also sees the
edges of a print or a phone), resized to 80x80. Each returns softmax probabilities for three classes, of
which class 1 is "real face"; as upstream's ``test.py`` does, the live score is the mean of the two models'
class-1 probabilities. The models were converted once by ``scripts/convert_minifasnet.py`` (see
``kiosk/biometrics/models/README.md`` and ``docs/biometrics-passive.md``).

Input follows upstream exactly: the crop is cut as ``src/generate_patches.py`` cuts it (integer corners,
shifted inside the image, bilinear resize), channels in BGR order (upstream reads frames with
``cv2.imread``) and pixel values 0..255 as float, not rescaled (upstream's ``ToTensor`` leaves out the
division by 255).

onnxruntime runs with one intra-op and one inter-op thread: the kiosk's biometrics worker already owns a
core, and one 80x80 pass is a fraction of a millisecond of work per model.
"""

from __future__ import annotations

import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import cv2
import numpy as np
import numpy.typing as npt

from kiosk.biometrics.faces import FaceBox
from kiosk.biometrics.images import RgbImage

MODELS_DIR = Path(__file__).resolve().parent / "models"
INPUT_SIZE = 80
LIVE_CLASS = 1


@dataclass(frozen=True)
class PassiveModel:
    """One upstream model: its ONNX file and the crop scale it was trained on."""

    file: str
    scale: float


# The upstream release: file names encode scale, input size and architecture.
DEFAULT_MODELS: tuple[PassiveModel, ...] = (
    PassiveModel("2.7_80x80_MiniFASNetV2.onnx", 2.7),
    PassiveModel("4_0_0_80x80_MiniFASNetV1SE.onnx", 4.0),
)


@dataclass(frozen=True)
class PassiveResult:
    """The live score (mean class-1 probability), each model's probabilities, and what the call cost."""

    live: float
    probabilities: tuple[tuple[float, ...], ...]
    elapsed_ms: float


def crop_box(
    image_width: int, image_height: int, box: tuple[int, int, int, int], scale: float
) -> tuple[int, int, int, int]:
    """Upstream's ``CropImage._get_new_box``: the box ``(x, y, w, h)`` scaled about its centre, kept inside.

    Returns inclusive corners ``(left, top, right, bottom)``. The scale is reduced when the enlarged box
    would not fit the image; a box that sticks out is shifted back in, not clipped.
    """
    x, y, box_w, box_h = box
    if box_w <= 0 or box_h <= 0:
        raise ValueError(f"empty face box {box}")
    scale = min((image_height - 1) / box_h, min((image_width - 1) / box_w, scale))
    new_width = box_w * scale
    new_height = box_h * scale
    center_x, center_y = box_w / 2 + x, box_h / 2 + y
    left = center_x - new_width / 2
    top = center_y - new_height / 2
    right = center_x + new_width / 2
    bottom = center_y + new_height / 2
    if left < 0:
        right -= left
        left = 0
    if top < 0:
        bottom -= top
        top = 0
    if right > image_width - 1:
        left -= right - image_width + 1
        right = image_width - 1
    if bottom > image_height - 1:
        top -= bottom - image_height + 1
        bottom = image_height - 1
    return int(left), int(top), int(right), int(bottom)


def effective_scale(rgb: RgbImage, box: FaceBox | tuple[int, int, int, int], scale: float) -> float:
    """The scale upstream's crop really uses: ``scale``, unless the enlarged box would not fit the frame."""
    _, _, box_w, box_h = face_box_xywh(box) if isinstance(box, FaceBox) else box
    height, width = rgb.shape[:2]
    return float(min((height - 1) / box_h, (width - 1) / box_w, scale))


def face_box_xywh(box: FaceBox) -> tuple[int, int, int, int]:
    """Our :class:`FaceBox` (css order, exclusive right/bottom) as upstream's ``[x, y, w, h]``."""
    return box.left, box.top, box.width, box.height


def model_input(
    rgb: RgbImage, box: FaceBox | tuple[int, int, int, int], scale: float
) -> npt.NDArray[np.float32]:
    """The (1, 3, 80, 80) float32 tensor one model takes: upstream's crop, BGR, values 0..255."""
    if rgb.ndim != 3 or rgb.shape[2] != 3:
        raise ValueError(f"expected an HxWx3 RGB image, got shape {rgb.shape}")
    xywh = face_box_xywh(box) if isinstance(box, FaceBox) else box
    height, width = rgb.shape[:2]
    left, top, right, bottom = crop_box(width, height, xywh, scale)
    patch = rgb[top : bottom + 1, left : right + 1, ::-1]  # RGB -> BGR
    resized = cv2.resize(np.ascontiguousarray(patch), (INPUT_SIZE, INPUT_SIZE))
    chw = np.transpose(resized, (2, 0, 1)).astype(np.float32)
    return np.ascontiguousarray(chw[None])


def _session(path: Path) -> Any:
    import onnxruntime as ort  # imported here: only the biometrics worker needs it

    options = ort.SessionOptions()
    options.intra_op_num_threads = 1
    options.inter_op_num_threads = 1
    options.execution_mode = ort.ExecutionMode.ORT_SEQUENTIAL
    return ort.InferenceSession(str(path), sess_options=options, providers=["CPUExecutionProvider"])


class PassiveDetector:
    """Loads the MiniFASNet models once; :meth:`score` says how likely the face in a frame is live."""

    def __init__(
        self, models: tuple[PassiveModel, ...] = DEFAULT_MODELS, models_dir: Path = MODELS_DIR
    ) -> None:
        if not models:
            raise ValueError("at least one model is needed")
        self.models = models
        self._sessions: list[tuple[Any, str, str]] = []
        for model in models:
            session = _session(models_dir / model.file)
            input_name = session.get_inputs()[0].name
            self._sessions.append((session, input_name, "probs"))

    def assess(self, rgb: RgbImage, face_box: FaceBox | tuple[int, int, int, int]) -> PassiveResult:
        """Score one face; ``face_box``: a :class:`FaceBox` or upstream's ``(x, y, w, h)``."""
        started = time.perf_counter()
        all_probs: list[tuple[float, ...]] = []
        for model in self.models:
            probs = self.run_model(model, model_input(rgb, face_box, model.scale))
            all_probs.append(tuple(float(p) for p in probs[0]))
        live = float(np.mean([p[LIVE_CLASS] for p in all_probs]))
        elapsed_ms = (time.perf_counter() - started) * 1000.0
        return PassiveResult(live, tuple(all_probs), elapsed_ms)

    def run_model(self, model: PassiveModel, tensor: npt.NDArray[np.float32]) -> npt.NDArray[np.float32]:
        """One model's class probabilities (N, 3) for a prepared input (see :func:`model_input`)."""
        session, input_name, output_name = self._sessions[self.models.index(model)]
        (probs,) = session.run([output_name], {input_name: tensor})
        return np.asarray(probs, dtype=np.float32)

    def score(self, rgb_frame: RgbImage, face_box: FaceBox | tuple[int, int, int, int]) -> float:
        """Probability (0..1) that the face in ``face_box`` is a live face rather than a print or screen."""
        return self.assess(rgb_frame, face_box).live
