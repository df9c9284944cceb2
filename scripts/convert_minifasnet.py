"""Convert MiniFASNet's PyTorch weights (minivision-ai/Silent-Face-Anti-Spoofing) to ONNX, without torch.

    .venv/bin/python scripts/convert_minifasnet.py --upstream PATH [--out kiosk/biometrics/models]
        [--faces ../shared/faces]

``PATH`` is the upstream repository: a checkout, or a bare git directory (read with ``git show HEAD:...``).
The script

1. reads ``resources/anti_spoof_models/{2.7_80x80_MiniFASNetV2,4_0_0_80x80_MiniFASNetV1SE}.pth`` and checks
   their SHA-256 against the pinned release (a different file is refused: the crop scales, the class order
   and this documentation belong to that release);
2. loads each state dict with a restricted unpickler (``scripts/minifasnet_reference.py``: numpy arrays,
   no torch, no code from the file runs);
3. builds the ONNX graph with ``onnx.helper`` from the upstream layer list: Conv with batch norm folded in
   (in float64, stored as float32), PRelu, squeeze-and-excitation blocks (GlobalAveragePool, 1x1 Conv,
   Relu, 1x1 Conv, Sigmoid, Mul) for V1SE, residual Add, Flatten, the linear layer and the 1-D batch norm
   folded into one Gemm, the classifier Gemm, Softmax. Outputs ``logits`` and ``probs`` (N, 3);
4. checks the graph (``onnx.checker``) and runs it with onnxruntime against the independent numpy forward
   pass of the unfolded weights, on a seeded random input and on the face crops of every image in
   ``--faces`` (the kiosk's own detector and crop): the largest difference of the logits must stay below
   1e-4, or nothing is kept;
5. writes the ``.onnx`` files, upstream's ``LICENSE``, and ``golden.json`` (reference logits on fixed
   inputs, which the tests compare the shipped models with) into ``--out``, and prints the checksums for
   the README there.

The output is byte-for-byte repeatable: same inputs, same files.
"""

from __future__ import annotations

import argparse
import hashlib
import json
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import numpy.typing as npt
import onnx
from onnx import TensorProto, helper, numpy_helper

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "scripts"))

import minifasnet_reference as ref  # noqa: E402

from kiosk.biometrics.passive import DEFAULT_MODELS, MODELS_DIR, PassiveModel, model_input  # noqa: E402

Array = npt.NDArray[Any]
WEIGHTS_DIR = "resources/anti_spoof_models"
OPSET = 17
TOLERANCE = 1e-4
GOLDEN_SEED = 26
GOLDEN_IMAGE = "obama_1.jpg"

# SHA-256 of the release files (upstream commit b6d5f04ad78778917853b25c778acef6d5626d15).
PINNED_SHA256 = {
    "2.7_80x80_MiniFASNetV2.pth": "a5eb02e1843f19b5386b953cc4c9f011c3f985d0ee2bb9819eea9a142099bec0",
    "4_0_0_80x80_MiniFASNetV1SE.pth": "84ee1d37d96894d5e82de5a57df044ef80a58be2b218b5ed7cdfd875ec2f5990",
}


# --- reading the upstream repository -------------------------------------------------------------------


@dataclass(frozen=True)
class Upstream:
    path: Path
    is_git_dir: bool

    def read(self, relative: str) -> bytes:
        if self.is_git_dir:
            done = subprocess.run(
                ["git", f"--git-dir={self.path}", "show", f"HEAD:{relative}"], capture_output=True, check=True
            )
            return done.stdout
        return (self.path / relative).read_bytes()

    def commit(self) -> str:
        args = [f"--git-dir={self.path}"] if self.is_git_dir else ["-C", str(self.path)]
        done = subprocess.run(
            ["git", *args, "rev-parse", "HEAD"], capture_output=True, text=True, check=False
        )
        return done.stdout.strip() if done.returncode == 0 else "unknown"


def open_upstream(path: Path) -> Upstream:
    if (path / WEIGHTS_DIR).is_dir():
        return Upstream(path, is_git_dir=False)
    if (path / "HEAD").is_file() and (path / "objects").is_dir():
        return Upstream(path, is_git_dir=True)
    raise SystemExit(f"{path}: neither a checkout with {WEIGHTS_DIR}/ nor a git directory")


def pth_name(model: PassiveModel) -> str:
    return model.file.removesuffix(".onnx") + ".pth"


# --- building the graph ---------------------------------------------------------------------------------


class GraphBuilder:
    """Collects nodes and float32 initializers; every tensor name is unique and readable."""

    def __init__(self, state: ref.StateDict) -> None:
        self.state = {k: v.astype(np.float64) for k, v in state.items()}
        self.nodes: list[onnx.NodeProto] = []
        self.initializers: list[onnx.TensorProto] = []

    def constant(self, name: str, value: Array) -> str:
        self.initializers.append(numpy_helper.from_array(np.asarray(value, dtype=np.float32), name))
        return name

    def node(self, op: str, inputs: list[str], output: str, **attrs: Any) -> str:
        self.nodes.append(helper.make_node(op, inputs, [output], name=output, **attrs))
        return output

    def folded_bn(self, prefix: str) -> tuple[Array, Array]:
        """Batch norm as ``y = x * scale + shift``."""
        scale = self.state[f"{prefix}.weight"] / np.sqrt(self.state[f"{prefix}.running_var"] + ref.BN_EPS)
        shift = self.state[f"{prefix}.bias"] - self.state[f"{prefix}.running_mean"] * scale
        return scale, shift

    def conv_bn(self, x: str, conv: str, bn: str, stride: int, out: str) -> str:
        weight = self.state[f"{conv}.weight"]
        scale, shift = self.folded_bn(bn)
        in_channels = weight.shape[1]
        groups = self._channels[x] // in_channels
        kernel = weight.shape[2]
        pad = kernel // 2 if kernel == 3 else 0
        w = self.constant(f"{out}.w", weight * scale[:, None, None, None])
        b = self.constant(f"{out}.b", shift)
        self.node(
            "Conv",
            [x, w, b],
            out,
            kernel_shape=[kernel, kernel],
            strides=[stride, stride],
            pads=[pad, pad, pad, pad],
            group=groups,
        )
        self._channels[out] = weight.shape[0]
        return out

    def conv_block(self, x: str, prefix: str, stride: int = 1, activation: bool = True) -> str:
        y = self.conv_bn(x, f"{prefix}.conv", f"{prefix}.bn", stride, f"{prefix}.conv_bn")
        if not activation:
            return y
        slope = self.constant(f"{prefix}.prelu.slope", self.state[f"{prefix}.prelu.weight"][:, None, None])
        out = self.node("PRelu", [y, slope], f"{prefix}.prelu")
        self._channels[out] = self._channels[y]
        return out

    def se(self, x: str, prefix: str) -> str:
        pooled = self.node("GlobalAveragePool", [x], f"{prefix}.pool")
        self._channels[pooled] = self._channels[x]
        y = self.conv_bn(pooled, f"{prefix}.fc1", f"{prefix}.bn1", 1, f"{prefix}.fc1_bn1")
        y = self.node("Relu", [y], f"{prefix}.relu")
        self._channels[y] = self._channels[f"{prefix}.fc1_bn1"]
        y = self.conv_bn(y, f"{prefix}.fc2", f"{prefix}.bn2", 1, f"{prefix}.fc2_bn2")
        gate = self.node("Sigmoid", [y], f"{prefix}.sigmoid")
        out = self.node("Mul", [x, gate], f"{prefix}.scaled")
        self._channels[out] = self._channels[x]
        return out

    def depth_wise(self, x: str, prefix: str, stride: int, residual: bool) -> str:
        y = self.conv_block(x, f"{prefix}.conv")
        y = self.conv_block(y, f"{prefix}.conv_dw", stride)
        y = self.conv_block(y, f"{prefix}.project", activation=False)
        if not residual:
            return y
        if f"{prefix}.se_module.fc1.weight" in self.state:
            y = self.se(y, f"{prefix}.se_module")
        out = self.node("Add", [x, y], f"{prefix}.residual")
        self._channels[out] = self._channels[x]
        return out

    def build(self, graph_name: str) -> onnx.ModelProto:
        self._channels: dict[str, int] = {"input": 3}
        y = self.conv_block("input", "conv1", stride=2)
        y = self.conv_block(y, "conv2_dw")
        for stage in ref.STAGES:
            if stage in ref.RESIDUAL_STAGES:
                for i in range(ref.residual_blocks(self.state, stage)):
                    y = self.depth_wise(y, f"{stage}.model.{i}", 1, residual=True)
            else:
                y = self.depth_wise(y, stage, ref.STAGE_STRIDES[stage], residual=False)
        y = self.conv_block(y, "conv_6_sep")
        y = self.conv_block(y, "conv_6_dw", activation=False)
        flat = self.node("Flatten", [y], "flatten", axis=1)
        scale, shift = self.folded_bn("bn")
        embed_w = self.constant("embedding.w", self.state["linear.weight"] * scale[:, None])
        embed_b = self.constant("embedding.b", shift)
        embedding = self.node("Gemm", [flat, embed_w, embed_b], "embedding", transB=1)
        prob_w = self.constant("classifier.w", self.state["prob.weight"])
        self.node("Gemm", [embedding, prob_w], "logits", transB=1)
        self.node("Softmax", ["logits"], "probs", axis=1)
        classes = self.state["prob.weight"].shape[0]
        graph = helper.make_graph(
            self.nodes,
            graph_name,
            [helper.make_tensor_value_info("input", TensorProto.FLOAT, ["N", 3, 80, 80])],
            [
                helper.make_tensor_value_info("logits", TensorProto.FLOAT, ["N", classes]),
                helper.make_tensor_value_info("probs", TensorProto.FLOAT, ["N", classes]),
            ],
            self.initializers,
        )
        model = helper.make_model(
            graph,
            opset_imports=[helper.make_opsetid("", OPSET)],
            producer_name="smart-teller scripts/convert_minifasnet.py",
            doc_string=(
                f"{graph_name} from minivision-ai/Silent-Face-Anti-Spoofing (Apache-2.0). Input: BGR face "
                "crop 80x80, float 0..255, NCHW. Class 1 of probs is 'real face'."
            ),
        )
        model.ir_version = 8  # readable by onnxruntime >= 1.10
        onnx.checker.check_model(model, full_check=True)
        return model


# --- checking against the numpy reference ---------------------------------------------------------------


def run_onnx(model_bytes: bytes, batch: Array) -> Array:
    import onnxruntime as ort

    options = ort.SessionOptions()
    options.intra_op_num_threads = 1
    session = ort.InferenceSession(model_bytes, sess_options=options, providers=["CPUExecutionProvider"])
    (logits,) = session.run(["logits"], {"input": batch.astype(np.float32)})
    return np.asarray(logits, dtype=np.float64)


def seeded_input() -> Array:
    """A fixed (1, 3, 80, 80) input in the 0..255 range; the tests make the same one."""
    return np.random.default_rng(GOLDEN_SEED).uniform(0.0, 255.0, (1, 3, 80, 80)).astype(np.float32)


def face_crops(faces_dir: Path, model: PassiveModel) -> tuple[list[str], Array, dict[str, list[int]]]:
    """Crops (the kiosk's HOG face box, upstream's crop) of every image with a face in ``faces_dir``."""
    from kiosk.biometrics.faces import FaceAnalyzer
    from kiosk.biometrics.images import ImageError, load_rgb

    analyzer = FaceAnalyzer()
    names: list[str] = []
    crops: list[Array] = []
    boxes: dict[str, list[int]] = {}
    for path in sorted(faces_dir.iterdir()):
        if path.suffix.lower() not in (".jpg", ".jpeg", ".png"):
            continue
        try:
            rgb = load_rgb(path)
        except ImageError:
            continue
        found = analyzer.analyse(rgb, encoding=False)
        if found.box is None:
            continue
        names.append(path.name)
        crops.append(model_input(rgb, found.box, model.scale)[0])
        boxes[path.name] = [found.box.top, found.box.right, found.box.bottom, found.box.left]
    return names, np.stack(crops), boxes


def upstream_sample_check(upstream: Upstream, models_dir: Path) -> None:
    """Upstream's own labelled sample photos (``T`` real, ``F`` fake), boxed by the kiosk's detector.

    Upstream boxes faces with a RetinaFace Caffe model, which OpenCV 5 no longer reads; the kiosk's HOG
    box is tighter, so these scores show the pipeline's orientation (channel order, scaling, class), not
    upstream's exact figures.
    """
    from kiosk.biometrics.faces import FaceAnalyzer
    from kiosk.biometrics.images import load_rgb
    from kiosk.biometrics.passive import PassiveDetector

    analyzer = FaceAnalyzer()
    detector = PassiveDetector(models_dir=models_dir)
    for sample in ("image_F1.jpg", "image_F2.jpg", "image_T1.jpg"):
        rgb = load_rgb(upstream.read(f"images/sample/{sample}"))
        found = analyzer.analyse(rgb, encoding=False)
        if found.box is None:
            print(f"  upstream sample {sample}: no face found")
            continue
        result = detector.assess(rgb, found.box)
        print(f"  upstream sample {sample}: live {result.live:.4f}")


# --- main -----------------------------------------------------------------------------------------------


def sha256(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument(
        "--upstream", type=Path, required=True, help="checkout or git dir of the upstream repo"
    )
    parser.add_argument("--out", type=Path, default=MODELS_DIR)
    parser.add_argument("--faces", type=Path, default=ROOT / ".." / "shared" / "faces")
    args = parser.parse_args(argv)
    upstream = open_upstream(args.upstream.resolve())
    print(f"upstream {upstream.path} at commit {upstream.commit()}")

    built: list[tuple[PassiveModel, bytes]] = []
    golden: dict[str, Any] = {
        "seed": GOLDEN_SEED,
        "image": GOLDEN_IMAGE,
        "tolerance": TOLERANCE,
        "models": {},
    }
    for model in DEFAULT_MODELS:
        name = pth_name(model)
        weights = upstream.read(f"{WEIGHTS_DIR}/{name}")
        digest = sha256(weights)
        if digest != PINNED_SHA256[name]:
            raise SystemExit(f"{name}: sha256 {digest} is not the pinned release {PINNED_SHA256[name]}")
        state = ref.load_state_dict(weights)
        onnx_model = GraphBuilder(state).build(model.file.removesuffix(".onnx"))
        data = onnx_model.SerializeToString(deterministic=True)

        checks: dict[str, Array] = {"seeded": seeded_input()}
        names, crops, boxes = face_crops(args.faces, model)
        checks["faces"] = crops
        worst = 0.0
        entry: dict[str, Any] = {"pth_sha256": digest, "scale": model.scale}
        for label, batch in checks.items():
            expected = ref.forward(state, batch)
            got = run_onnx(data, batch)
            diff = float(np.abs(expected - got).max())
            worst = max(worst, diff)
            print(f"{model.file}: {label} ({len(batch)} inputs) max |logit difference| {diff:.2e}")
            if label == "seeded":
                entry["seeded_logits"] = expected[0].tolist()
        golden_index = names.index(GOLDEN_IMAGE)
        entry["image_box_css"] = boxes[GOLDEN_IMAGE]
        entry["image_logits"] = ref.forward(state, crops[golden_index : golden_index + 1])[0].tolist()
        live = ref.softmax(ref.forward(state, crops))[:, 1]
        for face_name, p in zip(names, live, strict=True):
            print(f"  reference live probability {face_name}: {p:.4f}")
        if worst >= TOLERANCE:
            raise SystemExit(f"{model.file}: ONNX and reference differ by {worst:.2e} >= {TOLERANCE}")
        golden["models"][model.file] = entry
        built.append((model, data))

    args.out.mkdir(parents=True, exist_ok=True)
    for model, data in built:
        (args.out / model.file).write_bytes(data)
        print(f"wrote {args.out / model.file}  sha256 {sha256(data)}  {len(data)} bytes")
    (args.out / "LICENSE").write_bytes(upstream.read("LICENSE"))
    (args.out / "golden.json").write_text(json.dumps(golden, indent=2) + "\n")
    upstream_sample_check(upstream, args.out)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
