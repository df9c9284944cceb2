"""Read MiniFASNet's PyTorch weights without torch, and run the network in plain numpy.

Two jobs, both for ``scripts/convert_minifasnet.py``:

* :func:`load_state_dict` reads a ``.pth`` file of minivision-ai/Silent-Face-Anti-Spoofing. Those files are
  in torch's *legacy* format (torch < 1.6): five pickles in a row (magic number, protocol version, system
  info, the state dict, the list of storage keys) followed by the raw little-endian storages, each preceded
  by its element count as an 8-byte integer. The state dict pickle refers to the storages by key through
  ``persistent_id`` and rebuilds tensors with ``torch._utils._rebuild_tensor_v2``. A restricted unpickler
  maps exactly those few globals (``collections.OrderedDict``, the rebuild functions, the ``*Storage``
  types) to numpy stand-ins and refuses every other global, so no code in the file can run.

* :func:`forward` is the reference forward pass of the network (``src/model_lib/MiniFASNet.py`` upstream),
  written from the state dict's layer names and the upstream module code, in float64, with batch norm
  applied as such (not folded) and convolutions computed as sliding-window products. It shares nothing
  with the ONNX graph the converter builds, so agreement of the two is a check of the conversion.
"""

from __future__ import annotations

import io
import pickle
import re
import struct
from collections import OrderedDict
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import numpy.typing as npt

Array = npt.NDArray[Any]
StateDict = dict[str, Array]

LEGACY_MAGIC = 0x1950A86A20F9469CFC6C
BN_EPS = 1e-5  # torch.nn.BatchNorm default, which upstream keeps

_STORAGE_DTYPES: dict[str, np.dtype[Any]] = {
    "FloatStorage": np.dtype("<f4"),
    "DoubleStorage": np.dtype("<f8"),
    "HalfStorage": np.dtype("<f2"),
    "LongStorage": np.dtype("<i8"),
    "IntStorage": np.dtype("<i4"),
    "ShortStorage": np.dtype("<i2"),
    "CharStorage": np.dtype("i1"),
    "ByteStorage": np.dtype("u1"),
    "BoolStorage": np.dtype("?"),
}


class WeightsFormatError(ValueError):
    """The file is not a legacy torch state dict this reader understands."""


@dataclass(frozen=True)
class _StorageType:
    dtype: np.dtype[Any]


@dataclass(frozen=True)
class _StorageRef:
    key: str
    dtype: np.dtype[Any]
    numel: int


@dataclass(frozen=True)
class _PendingTensor:
    storage: _StorageRef
    offset: int
    size: tuple[int, ...]
    stride: tuple[int, ...]


def _rebuild_tensor(storage: _StorageRef, offset: int, size: Any, stride: Any, *_rest: Any) -> _PendingTensor:
    return _PendingTensor(storage, int(offset), tuple(int(s) for s in size), tuple(int(s) for s in stride))


def _empty_hooks() -> OrderedDict[str, Any]:
    return OrderedDict()


class _RestrictedUnpickler(pickle.Unpickler):
    """Resolves only the globals a torch state dict needs; anything else is an error."""

    def find_class(self, module: str, name: str) -> Any:
        if (module, name) == ("collections", "OrderedDict"):
            return OrderedDict
        if module == "torch._utils" and name in ("_rebuild_tensor_v2", "_rebuild_tensor"):
            return _rebuild_tensor
        if module == "torch" and name in _STORAGE_DTYPES:
            return _StorageType(_STORAGE_DTYPES[name])
        raise pickle.UnpicklingError(f"global {module}.{name} is not allowed in a weights file")

    def persistent_load(self, pid: Any) -> Any:
        if not (isinstance(pid, tuple) and len(pid) >= 5 and pid[0] == "storage"):
            raise pickle.UnpicklingError(f"unexpected persistent id {pid!r}")
        storage_type, key, _location, numel = pid[1], pid[2], pid[3], pid[4]
        if not isinstance(storage_type, _StorageType):
            raise pickle.UnpicklingError(f"unknown storage type {storage_type!r}")
        return _StorageRef(str(key), storage_type.dtype, int(numel))


def _load_pickle(stream: io.BytesIO) -> Any:
    return _RestrictedUnpickler(stream).load()


def load_state_dict(source: bytes | Path) -> StateDict:
    """The tensors of a legacy-format ``.pth`` file as numpy arrays, ``module.`` prefixes removed."""
    data = source.read_bytes() if isinstance(source, Path) else source
    if data[:2] == b"PK":
        raise WeightsFormatError("zip-format torch file: only the legacy format is supported")
    stream = io.BytesIO(data)
    try:
        magic = _load_pickle(stream)
        if magic != LEGACY_MAGIC:
            raise WeightsFormatError("not a legacy torch file (bad magic number)")
        _protocol = _load_pickle(stream)
        sys_info = _load_pickle(stream)
        if not (isinstance(sys_info, dict) and sys_info.get("little_endian", False)):
            raise WeightsFormatError("only little-endian torch files are supported")
        raw = _load_pickle(stream)
        keys = _load_pickle(stream)
    except (pickle.UnpicklingError, EOFError) as exc:
        raise WeightsFormatError(f"cannot read the state dict: {exc}") from exc
    buffers: dict[str, Array] = {}
    for key in keys:
        (count,) = struct.unpack("<q", stream.read(8))
        ref = _find_ref(raw, str(key))
        chunk = stream.read(count * ref.dtype.itemsize)
        if len(chunk) != count * ref.dtype.itemsize:
            raise WeightsFormatError(f"storage {key} is truncated")
        buffers[str(key)] = np.frombuffer(chunk, dtype=ref.dtype)
    state: StateDict = {}
    for name, pending in raw.items():
        if not isinstance(pending, _PendingTensor):
            raise WeightsFormatError(f"{name} is not a tensor")
        buffer = buffers[pending.storage.key]
        itemsize = buffer.dtype.itemsize
        view = np.lib.stride_tricks.as_strided(
            buffer[pending.offset :],
            shape=pending.size,
            strides=tuple(s * itemsize for s in pending.stride),
            writeable=False,
        )
        state[name.removeprefix("module.")] = np.array(view, dtype=buffer.dtype.newbyteorder("="))
    return state


def _find_ref(raw: Any, key: str) -> _StorageRef:
    for pending in raw.values():
        if isinstance(pending, _PendingTensor) and pending.storage.key == key:
            return pending.storage
    raise WeightsFormatError(f"storage {key} is not used by any tensor")


# --- the network --------------------------------------------------------------------------------------

# Stride of each stage of MiniFASNet (the upstream module code); every 3x3 convolution pads by 1.
STAGE_STRIDES = {"conv_23": 2, "conv_34": 2, "conv_45": 2}
RESIDUAL_STAGES = ("conv_3", "conv_4", "conv_5")
STAGES = ("conv_23", "conv_3", "conv_34", "conv_4", "conv_45", "conv_5")


def _conv(x: Array, weight: Array, stride: int, pad: int) -> Array:
    """Grouped 2-D convolution of ``x`` (N, C, H, W) with ``weight`` (O, C/groups, kh, kw), no bias."""
    n, c, _, _ = x.shape
    out_c, per_group, kh, kw = weight.shape
    groups = c // per_group
    padded = np.pad(x, ((0, 0), (0, 0), (pad, pad), (pad, pad)))
    windows = np.lib.stride_tricks.sliding_window_view(padded, (kh, kw), axis=(2, 3))
    windows = windows[:, :, ::stride, ::stride]  # (N, C, Ho, Wo, kh, kw)
    ho, wo = windows.shape[2], windows.shape[3]
    grouped = windows.reshape(n, groups, per_group, ho, wo, kh, kw)
    w = weight.reshape(groups, out_c // groups, per_group, kh, kw)
    out = np.einsum("ngchwij,gocij->ngohw", grouped, w, optimize=True)
    return np.asarray(out.reshape(n, out_c, ho, wo))


def _bn(x: Array, state: StateDict, prefix: str) -> Array:
    shape = (1, -1) + (1,) * (x.ndim - 2)
    mean = state[f"{prefix}.running_mean"].reshape(shape)
    var = state[f"{prefix}.running_var"].reshape(shape)
    gamma = state[f"{prefix}.weight"].reshape(shape)
    beta = state[f"{prefix}.bias"].reshape(shape)
    return np.asarray((x - mean) / np.sqrt(var + BN_EPS) * gamma + beta)


def _prelu(x: Array, slope: Array) -> Array:
    return np.where(x > 0, x, x * slope.reshape(1, -1, 1, 1))


def _conv_block(x: Array, state: StateDict, prefix: str, stride: int = 1, activation: bool = True) -> Array:
    weight = state[f"{prefix}.conv.weight"]
    pad = weight.shape[2] // 2 if weight.shape[2] == 3 else 0
    y = _bn(_conv(x, weight, stride, pad), state, f"{prefix}.bn")
    return _prelu(y, state[f"{prefix}.prelu.weight"]) if activation else y


def _se(x: Array, state: StateDict, prefix: str) -> Array:
    pooled = x.mean(axis=(2, 3), keepdims=True)
    y = _bn(_conv(pooled, state[f"{prefix}.fc1.weight"], 1, 0), state, f"{prefix}.bn1")
    y = np.maximum(y, 0.0)
    y = _bn(_conv(y, state[f"{prefix}.fc2.weight"], 1, 0), state, f"{prefix}.bn2")
    return np.asarray(x * (1.0 / (1.0 + np.exp(-y))))


def _depth_wise(x: Array, state: StateDict, prefix: str, stride: int, residual: bool) -> Array:
    y = _conv_block(x, state, f"{prefix}.conv")
    y = _conv_block(y, state, f"{prefix}.conv_dw", stride)
    y = _conv_block(y, state, f"{prefix}.project", activation=False)
    if not residual:
        return y
    if f"{prefix}.se_module.fc1.weight" in state:
        y = _se(y, state, f"{prefix}.se_module")
    return np.asarray(x + y)


def residual_blocks(state: StateDict, stage: str) -> int:
    """How many Depth_Wise blocks a residual stage holds, read from the layer names."""
    pattern = re.compile(rf"^{stage}\.model\.(\d+)\.")
    found = {int(m.group(1)) for name in state if (m := pattern.match(name))}
    return max(found) + 1 if found else 0


def forward(state: StateDict, x: Array) -> Array:
    """Logits (N, classes) of a batch ``x`` (N, 3, 80, 80) laid out as the upstream network expects."""
    weights = {k: v.astype(np.float64) for k, v in state.items()}
    y = np.asarray(x, dtype=np.float64)
    y = _conv_block(y, weights, "conv1", stride=2)
    y = _conv_block(y, weights, "conv2_dw")
    for stage in STAGES:
        if stage in RESIDUAL_STAGES:
            for i in range(residual_blocks(weights, stage)):
                y = _depth_wise(y, weights, f"{stage}.model.{i}", 1, residual=True)
        else:
            y = _depth_wise(y, weights, stage, STAGE_STRIDES[stage], residual=False)
    y = _conv_block(y, weights, "conv_6_sep")
    y = _conv_block(y, weights, "conv_6_dw", activation=False)
    y = y.reshape(y.shape[0], -1)
    y = y @ weights["linear.weight"].T
    y = _bn(y, weights, "bn")
    return np.asarray(y @ weights["prob.weight"].T)


def softmax(logits: Array) -> Array:
    shifted = logits - logits.max(axis=-1, keepdims=True)
    e = np.exp(shifted)
    return np.asarray(e / e.sum(axis=-1, keepdims=True))
