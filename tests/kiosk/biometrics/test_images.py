"""Image normalisation: every input form becomes contiguous RGB uint8 HxWx3, bad input a clear error."""

from __future__ import annotations

import io
from pathlib import Path

import numpy as np
import pytest
from PIL import Image

from kiosk.biometrics.images import ImageError, load_rgb, normalise_array


def test_grey_becomes_three_equal_channels() -> None:
    grey = np.arange(12, dtype=np.uint8).reshape(3, 4)
    rgb = normalise_array(grey)
    assert rgb.shape == (3, 4, 3) and rgb.dtype == np.uint8 and rgb.flags["C_CONTIGUOUS"]
    assert (rgb[..., 0] == grey).all() and (rgb[..., 2] == grey).all()
    assert normalise_array(grey[..., None]).shape == (3, 4, 3)


def test_rgba_is_flattened_over_white() -> None:
    rgba = np.zeros((2, 2, 4), dtype=np.uint8)
    rgba[0, 0] = (10, 20, 30, 255)  # opaque: kept
    rgba[0, 1] = (0, 0, 0, 0)  # transparent black: white, not a black hole
    rgba[1, 0] = (0, 0, 0, 128)  # half: 255 * 127/255 = 127
    rgb = normalise_array(rgba)
    assert tuple(rgb[0, 0]) == (10, 20, 30)
    assert tuple(rgb[0, 1]) == (255, 255, 255)
    assert tuple(rgb[1, 0]) == (127, 127, 127)


def test_bgr_flag_swaps_channels_and_dtypes_are_scaled() -> None:
    bgr = np.array([[[1, 2, 3]]], dtype=np.uint8)
    assert tuple(normalise_array(bgr, bgr=True)[0, 0]) == (3, 2, 1)
    assert tuple(normalise_array(np.array([[[0.0, 0.5, 1.0]]]))[0, 0]) == (0, 128, 255)
    assert tuple(normalise_array(np.array([[[0, 256, 65535]]], dtype=np.uint16))[0, 0]) == (0, 1, 255)


def test_non_contiguous_input_is_made_contiguous() -> None:
    wide = np.zeros((4, 8, 3), dtype=np.uint8)
    view = wide[:, ::2]
    assert not view.flags["C_CONTIGUOUS"]
    assert normalise_array(view).flags["C_CONTIGUOUS"]


@pytest.mark.parametrize("shape", [(4, 4, 2), (4, 4, 5), (4,), (0, 4, 3)])
def test_unsupported_shapes_are_refused(shape: tuple[int, ...]) -> None:
    with pytest.raises(ImageError):
        normalise_array(np.zeros(shape, dtype=np.uint8))


def test_nan_floats_are_refused() -> None:
    with pytest.raises(ImageError):
        normalise_array(np.full((2, 2, 3), np.nan))


def _encoded(image: Image.Image, fmt: str) -> bytes:
    buffer = io.BytesIO()
    image.save(buffer, format=fmt)
    return buffer.getvalue()


def test_jpeg_and_png_bytes_decode_to_rgb() -> None:
    red = Image.new("RGB", (5, 3), (200, 10, 10))
    jpeg = load_rgb(_encoded(red, "JPEG"))
    assert jpeg.shape == (3, 5, 3)
    assert abs(int(jpeg[1, 2, 0]) - 200) < 8
    grey_png = load_rgb(_encoded(Image.new("L", (2, 2), 77), "PNG"))
    assert tuple(grey_png[0, 0]) == (77, 77, 77)
    transparent = load_rgb(_encoded(Image.new("RGBA", (2, 2), (0, 0, 0, 0)), "PNG"))
    assert tuple(transparent[0, 0]) == (255, 255, 255)


def test_exif_orientation_is_applied() -> None:
    image = Image.new("RGB", (6, 2), (0, 0, 255))
    exif = Image.Exif()
    exif[0x0112] = 6  # rotate 90° clockwise to display
    buffer = io.BytesIO()
    image.save(buffer, format="JPEG", exif=exif)
    assert load_rgb(buffer.getvalue()).shape == (6, 2, 3)


def test_unreadable_inputs_raise_image_error(tmp_path: Path) -> None:
    with pytest.raises(ImageError, match="not a readable image"):
        load_rgb(b"this is not an image")
    with pytest.raises(ImageError, match="empty"):
        load_rgb(b"")
    with pytest.raises(ImageError, match="cannot read"):
        load_rgb(tmp_path / "missing.jpg")
    text = tmp_path / "notes.jpg"
    text.write_text("hello")
    with pytest.raises(ImageError):
        load_rgb(text)
