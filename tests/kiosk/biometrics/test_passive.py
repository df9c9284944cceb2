"""Passive presentation-attack detection (MiniFASNet on onnxruntime): models, conversion, crop, scores."""

from __future__ import annotations

import importlib.util
import io
import json
import os
import pickle
import statistics
import struct
import sys
import types
from collections import OrderedDict
from pathlib import Path
from typing import Any

import numpy as np
import pytest

from benchmarks.passive import print_attack, screen_attack, separation
from kiosk.biometrics.faces import FaceAnalyzer, FaceBox
from kiosk.biometrics.images import load_rgb
from kiosk.biometrics.passive import (
    DEFAULT_MODELS,
    MODELS_DIR,
    PassiveDetector,
    crop_box,
    effective_scale,
    model_input,
)

ROOT = Path(__file__).resolve().parents[3]
FACES = ROOT / ".." / "shared" / "faces"
GOLDEN = json.loads((MODELS_DIR / "golden.json").read_text())
PERSON_PHOTOS = [
    "alex_lacamoire_1.png",
    "biden_1.jpg",
    "biden_2.jpg",
    "lin_manuel_miranda_1.png",
    "obama_1.jpg",
    "obama_2.jpg",
    "obama_480p.jpg",
    "obama_partial_face.jpg",
    "obama_small.jpg",
]


def _reference_module() -> Any:
    spec = importlib.util.spec_from_file_location(
        "minifasnet_reference", ROOT / "scripts" / "minifasnet_reference.py"
    )
    assert spec is not None and spec.loader is not None
    if spec.name in sys.modules:
        return sys.modules[spec.name]
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module  # dataclasses look their module up while it loads
    spec.loader.exec_module(module)
    return module


@pytest.fixture(scope="module")
def detector() -> PassiveDetector:
    return PassiveDetector()


@pytest.fixture(scope="module")
def analyzer() -> FaceAnalyzer:
    return FaceAnalyzer()


# --- the shipped models --------------------------------------------------------------------------------


def test_models_load_with_one_thread_and_the_expected_interface(detector: PassiveDetector) -> None:
    assert [m.file for m in detector.models] == [m.file for m in DEFAULT_MODELS]
    for session, input_name, _ in detector._sessions:
        assert input_name == "input"
        assert session.get_inputs()[0].shape[1:] == [3, 80, 80]
        assert [o.name for o in session.get_outputs()] == ["logits", "probs"]
        assert session.get_session_options().intra_op_num_threads == 1
    assert "Apache License" in (MODELS_DIR / "LICENSE").read_text()[:300]


def _logits(model_file: str, tensor: np.ndarray) -> np.ndarray:
    import onnxruntime as ort

    session = ort.InferenceSession(str(MODELS_DIR / model_file), providers=["CPUExecutionProvider"])
    (logits,) = session.run(["logits"], {"input": tensor.astype(np.float32)})
    return np.asarray(logits, dtype=np.float64).reshape(-1)


@pytest.mark.parametrize("model_file", [m.file for m in DEFAULT_MODELS])
def test_onnx_equals_the_numpy_reference_on_a_seeded_input(model_file: str) -> None:
    # The same input scripts/convert_minifasnet.py fed the numpy forward pass of the original weights.
    tensor = np.random.default_rng(GOLDEN["seed"]).uniform(0.0, 255.0, (1, 3, 80, 80)).astype(np.float32)
    expected = np.array(GOLDEN["models"][model_file]["seeded_logits"])
    assert np.abs(_logits(model_file, tensor) - expected).max() < GOLDEN["tolerance"]


@pytest.mark.parametrize("model_file", [m.file for m in DEFAULT_MODELS])
def test_onnx_equals_the_numpy_reference_on_a_real_face_crop(model_file: str) -> None:
    entry = GOLDEN["models"][model_file]
    top, right, bottom, left = entry["image_box_css"]
    rgb = load_rgb(FACES / GOLDEN["image"])
    tensor = model_input(rgb, FaceBox(top, right, bottom, left), entry["scale"])
    expected = np.array(entry["image_logits"])
    assert np.abs(_logits(model_file, tensor) - expected).max() < GOLDEN["tolerance"]


# --- the torch-free weights reader ---------------------------------------------------------------------


class _FakeStorage:
    def __init__(self, key: str, values: np.ndarray) -> None:
        self.key, self.values = key, values


def _legacy_pth(tensors: dict[str, tuple[_FakeStorage, int, tuple[int, ...], tuple[int, ...]]]) -> bytes:
    """Bytes in torch's legacy format, written without torch by impersonating its globals."""
    torch_mod = types.ModuleType("torch")
    utils_mod = types.ModuleType("torch._utils")

    class FloatStorage:
        pass

    def _rebuild_tensor_v2(*args: object) -> None:
        raise AssertionError("never called while writing")

    FloatStorage.__module__, FloatStorage.__qualname__ = "torch", "FloatStorage"
    _rebuild_tensor_v2.__module__, _rebuild_tensor_v2.__qualname__ = "torch._utils", "_rebuild_tensor_v2"
    torch_mod.FloatStorage = FloatStorage  # type: ignore[attr-defined]
    utils_mod._rebuild_tensor_v2 = _rebuild_tensor_v2  # type: ignore[attr-defined]

    class Tensor:
        def __init__(
            self, storage: _FakeStorage, offset: int, size: tuple[int, ...], stride: tuple[int, ...]
        ):
            self.args: tuple[object, ...] = (storage, offset, size, stride, False, OrderedDict())

        def __reduce__(self) -> tuple[object, tuple[object, ...]]:
            return (_rebuild_tensor_v2, self.args)

    class Writer(pickle.Pickler):
        def persistent_id(self, obj: object) -> object:
            if isinstance(obj, _FakeStorage):
                return ("storage", FloatStorage, obj.key, "cpu", obj.values.size, None)
            return None

    saved = {name: sys.modules.get(name) for name in ("torch", "torch._utils")}
    sys.modules["torch"], sys.modules["torch._utils"] = torch_mod, utils_mod
    try:
        out = io.BytesIO()
        for header in (0x1950A86A20F9469CFC6C, 1001, {"protocol_version": 1001, "little_endian": True}):
            pickle.dump(header, out, protocol=2)
        state = OrderedDict((name, Tensor(*spec)) for name, spec in tensors.items())
        Writer(out, protocol=2).dump(state)
        storages = {spec[0].key: spec[0] for spec in tensors.values()}
        pickle.dump(list(storages), out, protocol=2)
        for storage in storages.values():
            out.write(struct.pack("<q", storage.values.size))
            out.write(storage.values.astype("<f4").tobytes())
        return out.getvalue()
    finally:
        for name, module in saved.items():
            if module is None:
                sys.modules.pop(name, None)
            else:
                sys.modules[name] = module


def test_reader_rebuilds_tensors_with_offsets_strides_and_prefixes() -> None:
    ref = _reference_module()
    shared = _FakeStorage("1", np.arange(12, dtype=np.float32))
    data = _legacy_pth(
        {
            "module.a.weight": (shared, 0, (3, 4), (4, 1)),
            "module.a.transposed": (shared, 0, (4, 3), (1, 4)),
            "b.tail": (shared, 10, (2,), (1,)),
        }
    )
    state = ref.load_state_dict(data)
    assert sorted(state) == ["a.transposed", "a.weight", "b.tail"]
    np.testing.assert_array_equal(state["a.weight"], np.arange(12).reshape(3, 4))
    np.testing.assert_array_equal(state["a.transposed"], np.arange(12).reshape(3, 4).T)
    np.testing.assert_array_equal(state["b.tail"], [10, 11])
    assert state["a.weight"].dtype == np.float32


def test_reader_refuses_any_other_global() -> None:
    ref = _reference_module()

    class Evil:
        def __reduce__(self) -> tuple[object, tuple[str]]:
            return (os.system, ("echo pwned",))

    out = io.BytesIO()
    for header in (0x1950A86A20F9469CFC6C, 1001, {"little_endian": True}):
        pickle.dump(header, out, protocol=2)
    pickle.dump(OrderedDict(x=Evil()), out, protocol=2)
    with pytest.raises(ref.WeightsFormatError, match="not allowed"):
        ref.load_state_dict(out.getvalue())
    with pytest.raises(ref.WeightsFormatError, match="magic"):
        ref.load_state_dict(pickle.dumps(123, protocol=2))


# --- upstream's crop -----------------------------------------------------------------------------------


def test_crop_scales_about_the_centre_and_is_shifted_not_clipped_at_the_edges() -> None:
    assert crop_box(640, 480, (100, 100, 100, 100), 2.7) == (15, 15, 285, 285)
    assert crop_box(640, 480, (0, 0, 100, 100), 2.7) == (0, 0, 270, 270)
    # x4 would not fit: the scale drops to (480 - 1) / 300 and the box is pushed back inside.
    assert crop_box(640, 480, (200, 100, 300, 300), 4.0) == (110, 0, 589, 479)
    assert effective_scale(np.zeros((480, 640, 3), np.uint8), (200, 100, 300, 300), 4.0) == pytest.approx(
        479 / 300
    )
    with pytest.raises(ValueError, match="empty"):
        crop_box(640, 480, (10, 10, 0, 5), 2.7)


def test_model_input_is_bgr_float_0_to_255_at_80x80() -> None:
    rgb = np.zeros((480, 640, 3), np.uint8)
    rgb[..., 0] = 200  # red
    rgb[..., 2] = 30  # blue
    tensor = model_input(rgb, FaceBox(top=100, right=300, bottom=300, left=100), 2.7)
    assert tensor.shape == (1, 3, 80, 80) and tensor.dtype == np.float32
    assert np.all(tensor[0, 0] == 30) and np.all(tensor[0, 1] == 0) and np.all(tensor[0, 2] == 200)


# --- scores on real faces and on recaptures of them ---------------------------------------------------


@pytest.fixture(scope="module")
def scores(detector: PassiveDetector, analyzer: FaceAnalyzer) -> dict[str, list[float]]:
    found: dict[str, list[float]] = {"genuine": [], "print": [], "screen": []}
    for index, name in enumerate(PERSON_PHOTOS):
        rgb = load_rgb(FACES / name)
        for kind, image in (
            ("genuine", rgb),
            ("print", print_attack(rgb, index)),
            ("screen", screen_attack(rgb, index)),
        ):
            box = analyzer.analyse(image, encoding=False).box
            assert box is not None, f"{kind} {name}: no face found"
            result = detector.assess(image, box)
            for probs in result.probabilities:
                assert sum(probs) == pytest.approx(1.0, abs=1e-5)
            assert 0.0 <= result.live <= 1.0 and result.elapsed_ms > 0
            found[kind].append(result.live)
    return found


def test_genuine_photos_score_as_live(scores: dict[str, list[float]]) -> None:
    # Measured: 0.80 .. 1.00, median 0.998 (benchmarks/passive.py).
    assert min(scores["genuine"]) > 0.5


def test_every_screen_replay_scores_below_every_genuine_photo(scores: dict[str, list[float]]) -> None:
    # Measured: screens 0.00 .. 0.37, genuine from 0.80.
    assert max(scores["screen"]) < min(scores["genuine"])
    assert separation(scores["genuine"], scores["screen"])["pairs_ranked_right"] == 1.0


def test_prints_mostly_score_lower_than_genuine_photos(scores: dict[str, list[float]]) -> None:
    # Measured: prints 0.01 .. 0.98 (median 0.43); the separation is partial, not clean.
    assert statistics.median(scores["print"]) < min(scores["genuine"])
    assert separation(scores["genuine"], scores["print"])["pairs_ranked_right"] >= 0.9
