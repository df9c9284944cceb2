"""Load and normalise images into the one form the face code accepts: contiguous RGB ``uint8`` HxWx3."""

from __future__ import annotations

import io
from pathlib import Path
from typing import Any

import numpy as np
import numpy.typing as npt

RgbImage = npt.NDArray[np.uint8]


class ImageError(ValueError):
    """The input is not an image we can read (unreadable file, bad bytes, unsupported shape)."""


def _from_pil_bytes(data: bytes, origin: str) -> RgbImage:
    from PIL import Image, ImageOps, UnidentifiedImageError

    try:
        with Image.open(io.BytesIO(data)) as opened:
            opened.load()
            # Phones store rotation in EXIF; an ID photo taken upright must stay upright.
            image = ImageOps.exif_transpose(opened)
            if image.mode in ("RGBA", "LA", "PA") or (image.mode == "P" and "transparency" in image.info):
                rgba = image.convert("RGBA")
                return _composite_rgba(np.asarray(rgba, dtype=np.uint8))
            return np.ascontiguousarray(np.asarray(image.convert("RGB"), dtype=np.uint8))
    except (UnidentifiedImageError, OSError, ValueError, Image.DecompressionBombError) as exc:
        raise ImageError(f"{origin}: not a readable image ({exc.__class__.__name__})") from exc


def _composite_rgba(rgba: npt.NDArray[np.uint8]) -> RgbImage:
    """Flatten alpha over white: transparent pixels often carry black RGB, which would hide a face."""
    alpha = rgba[..., 3:4].astype(np.float32) / 255.0
    rgb = rgba[..., :3].astype(np.float32) * alpha + 255.0 * (1.0 - alpha)
    return np.ascontiguousarray(np.clip(rgb + 0.5, 0, 255).astype(np.uint8))


def _to_uint8(array: npt.NDArray[Any]) -> npt.NDArray[np.uint8]:
    if array.dtype == np.uint8:
        return array
    if array.dtype == np.bool_:
        return array.astype(np.uint8) * 255
    if array.dtype == np.uint16:
        return (array >> 8).astype(np.uint8)
    if np.issubdtype(array.dtype, np.floating):
        if not np.all(np.isfinite(array)):
            raise ImageError("float image contains NaN or infinity")
        # Floats in [0, 1] are the usual convention (skimage, PIL -> float); larger values are 0..255.
        scale = 255.0 if float(array.max(initial=0.0)) <= 1.0 else 1.0
        return np.clip(array * scale + 0.5, 0, 255).astype(np.uint8)
    if np.issubdtype(array.dtype, np.integer):
        clipped: npt.NDArray[np.uint8] = np.clip(array, 0, 255).astype(np.uint8)
        return clipped
    raise ImageError(f"unsupported pixel type {array.dtype}")


def normalise_array(array: npt.NDArray[Any], *, bgr: bool = False) -> RgbImage:
    """Grey (HxW, HxWx1), RGB, RGBA (or BGR/BGRA with ``bgr=True``) of any common dtype to RGB uint8."""
    if not isinstance(array, np.ndarray):
        raise ImageError(f"expected a numpy array, got {type(array).__name__}")
    if array.ndim == 3 and array.shape[2] == 1:
        array = array[..., 0]
    if array.ndim == 2:
        grey = _to_uint8(array)
        return np.ascontiguousarray(np.repeat(grey[..., None], 3, axis=2))
    if array.ndim != 3 or array.shape[2] not in (3, 4):
        raise ImageError(f"unsupported image shape {array.shape}")
    if array.shape[0] == 0 or array.shape[1] == 0:
        raise ImageError("empty image")
    pixels = _to_uint8(array)
    if bgr:
        pixels = pixels[..., [2, 1, 0, 3]] if pixels.shape[2] == 4 else pixels[..., ::-1]
    if pixels.shape[2] == 4:
        return _composite_rgba(np.ascontiguousarray(pixels))
    return np.ascontiguousarray(pixels)


def load_rgb(source: str | Path | bytes | bytearray | memoryview | npt.NDArray[Any]) -> RgbImage:
    """Any supported input (path, encoded JPEG/PNG bytes, array) as contiguous RGB uint8 HxWx3."""
    if isinstance(source, np.ndarray):
        return normalise_array(source)
    if isinstance(source, bytes | bytearray | memoryview):
        data = bytes(source)
        if not data:
            raise ImageError("empty image data")
        return _from_pil_bytes(data, "image bytes")
    path = Path(source)
    try:
        data = path.read_bytes()
    except OSError as exc:
        raise ImageError(f"{path}: cannot read ({exc.strerror or exc.__class__.__name__})") from exc
    if not data:
        raise ImageError(f"{path}: empty file")
    return _from_pil_bytes(data, str(path))
