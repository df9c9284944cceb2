"""Passive presentation-attack detection (MiniFASNet): cost per frame and scores, genuine versus recaptured.

    smart-teller bench --only passive        (or: .venv/bin/python -m benchmarks --only passive)

Genuine: the photos of ``../shared/faces`` as they are, the same seen from further away (``far``: the whole
picture at 40 %) and in poor light (``dim``), frames of the shared video clip, and frames of the camera
simulator's virtual person (what the kiosk's tests and demo show the camera). Attacks, made here in code
from each genuine photo (three seeds each), deterministic per seed:

* ``print``: the photo printed and photographed again: detail lost to the print resolution, ink's narrower
  range and a warm paper cast, a faint halftone screen, a white paper margin, the sheet on a desk with
  uneven light, camera blur, sensor noise, JPEG;
* ``screen``: the photo shown on a phone and photographed: the screen's pixel grid and RGB stripes, a moiré
  pattern, display gamma and a blue cast with lifted blacks, a black bezel, a glare spot, blur, noise, JPEG;
* ``print_close`` / ``screen_close``: the same media held so close that they fill the frame: the texture
  is there, the sheet's margin or the phone's bezel and the room around are not;
* ``cutout``: the digital photo itself, untouched, shrunk onto a plain wall: the picture's edge and
  nothing else (which of the cues the model keys on).

Every image goes through the kiosk's own detector (``faces.py``) for the box; an image whose face is not
found is counted, not scored. Reported: per set the count and the live score's min / median / max, the
share of (genuine, attack) pairs ranked right, and APCER / BPCER at a few thresholds. Cost: the median and
95th percentile of one :meth:`PassiveDetector.score` call (both models, crop included) on a 640x480 frame.
"""

from __future__ import annotations

import statistics
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import cv2
import numpy as np
import numpy.typing as npt

from kiosk.biometrics.faces import FaceAnalyzer, FaceBox
from kiosk.biometrics.images import ImageError, RgbImage, load_rgb
from kiosk.biometrics.passive import PassiveDetector, effective_scale, model_input

FACES = Path(__file__).resolve().parents[2] / "shared" / "faces"
CLIP = "short_hamilton_clip.mp4"
THRESHOLDS = (0.5, 0.8, 0.9, 0.95)
ATTACK_VARIANTS = 3  # seeds per photo and species: placement, light, moire, glare differ
FloatImage = npt.NDArray[np.float64]


def _to_uint8(image: FloatImage) -> RgbImage:
    return np.ascontiguousarray(np.clip(image + 0.5, 0, 255).astype(np.uint8))


def _jpeg(rgb: RgbImage, quality: int) -> RgbImage:
    ok, data = cv2.imencode(".jpg", np.ascontiguousarray(rgb[..., ::-1]), [cv2.IMWRITE_JPEG_QUALITY, quality])
    if not ok:
        raise RuntimeError("JPEG encoding failed")
    decoded = cv2.imdecode(data, cv2.IMREAD_COLOR)
    return np.ascontiguousarray(np.asarray(decoded, dtype=np.uint8)[..., ::-1])


def _place(content: FloatImage, background: FloatImage, fill: float, rng: np.random.Generator) -> FloatImage:
    """``content`` shrunk to ``fill`` of the frame, slightly rotated, onto ``background`` (same size)."""
    height, width = background.shape[:2]
    ch, cw = content.shape[:2]
    scale = fill * min(width / cw, height / ch)
    angle = float(rng.uniform(-4.0, 4.0))
    matrix = cv2.getRotationMatrix2D((cw / 2, ch / 2), angle, scale)
    matrix[0, 2] += width / 2 - cw / 2
    matrix[1, 2] += height / 2 - ch / 2
    size = (width, height)
    warped = cv2.warpAffine(content.astype(np.float32), matrix, size, flags=cv2.INTER_AREA)
    mask = cv2.warpAffine(np.ones((ch, cw), np.float32), matrix, size, flags=cv2.INTER_LINEAR)[..., None]
    return np.asarray(warped * mask + background * (1.0 - mask), dtype=np.float64)


def _camera(image: FloatImage, rng: np.random.Generator, blur: float, quality: int) -> RgbImage:
    """The attacker's presentation as the kiosk camera sees it: uneven light, blur, noise, JPEG."""
    height, width = image.shape[:2]
    ys, xs = np.mgrid[0:height, 0:width].astype(np.float64)
    cx, cy = rng.uniform(0.2, 0.8) * width, rng.uniform(0.2, 0.8) * height
    light = 1.05 - 0.15 * np.hypot(xs - cx, ys - cy) / np.hypot(width, height)
    lit = image * light[..., None]
    lit = cv2.GaussianBlur(lit, (0, 0), blur)
    noisy = lit + rng.normal(0.0, 2.5, lit.shape)
    return _jpeg(_to_uint8(noisy), quality)


def print_attack(rgb: RgbImage, seed: int = 0, *, edges: bool = True) -> RgbImage:
    """``rgb`` as a re-photographed print (same frame size); ``edges=False``: held so close that the sheet
    fills the frame and neither its margin nor the desk shows."""
    rng = np.random.default_rng(seed)
    height, width = rgb.shape[:2]
    small = cv2.resize(rgb, (max(1, width // 2), max(1, height // 2)), interpolation=cv2.INTER_AREA)
    image = cv2.resize(small, (width, height), interpolation=cv2.INTER_LINEAR).astype(np.float64)
    image = 22.0 + image * (212.0 / 255.0)  # ink on paper: no deep black, no bright white
    grey = image.mean(axis=2, keepdims=True)
    image = grey + 0.8 * (image - grey)  # duller colours
    image = image * np.array([1.04, 1.0, 0.9])  # warm paper
    ys, xs = np.mgrid[0:height, 0:width].astype(np.float64)
    dots = np.cos(2 * np.pi * (xs + ys) / 4.2) * np.cos(2 * np.pi * (xs - ys) / 4.2)
    image = image * (1.0 + 0.035 * dots[..., None])  # halftone screen
    if not edges:
        return _camera(image, rng, blur=1.1, quality=85)
    margin = max(4, int(0.06 * min(height, width)))
    sheet = np.full((height + 2 * margin, width + 2 * margin, 3), 236.0) * np.array([1.0, 0.99, 0.95])
    sheet[margin : margin + height, margin : margin + width] = image
    desk = np.full((height, width, 3), (118.0, 96.0, 78.0)) + rng.normal(0.0, 6.0, (height, width, 1))
    placed = _place(sheet, desk, float(rng.uniform(0.82, 0.92)), rng)
    return _camera(placed, rng, blur=1.1, quality=85)


def screen_attack(rgb: RgbImage, seed: int = 0, *, edges: bool = True) -> RgbImage:
    """``rgb`` as a re-photographed phone screen (same frame size); ``edges=False``: the screen fills the
    frame, no bezel and no room in view."""
    rng = np.random.default_rng(seed)
    height, width = rgb.shape[:2]
    pitch = 3  # camera pixels per screen pixel
    grid = cv2.resize(rgb, (max(1, width // pitch), max(1, height // pitch)), interpolation=cv2.INTER_AREA)
    image = cv2.resize(grid, (width, height), interpolation=cv2.INTER_NEAREST).astype(np.float64) / 255.0
    image = image ** (1 / 1.35)  # display and camera gamma disagree
    image = 0.06 + 0.9 * image  # backlight: blacks are grey
    image = image * np.array([0.92, 0.98, 1.08]) * 255.0  # cold white point
    ys, xs = np.mgrid[0:height, 0:width].astype(np.float64)
    stripes = np.zeros((height, width, 3))
    for channel in range(3):
        stripes[..., channel] = np.where(xs.astype(int) % pitch == channel, 0.1, -0.05)
    image = image * (1.0 + stripes)  # RGB sub-pixels
    theta = float(rng.uniform(0.15, 0.35))
    frequency = float(rng.uniform(0.045, 0.07))
    moire = np.cos(2 * np.pi * frequency * (xs * np.cos(theta) + ys * np.sin(theta)))
    image = image * (1.0 + 0.07 * moire[..., None])
    glare_x, glare_y = rng.uniform(0.2, 0.8) * width, rng.uniform(0.1, 0.5) * height
    radius = 0.25 * min(height, width)
    glare = 70.0 * np.exp(-((xs - glare_x) ** 2 + (ys - glare_y) ** 2) / (2 * radius**2))
    image = image + glare[..., None]
    if not edges:
        return _camera(image, rng, blur=0.9, quality=85)
    bezel = max(6, int(0.05 * min(height, width)))
    phone = np.full((height + 2 * bezel, width + 2 * bezel, 3), 14.0)
    phone[bezel : bezel + height, bezel : bezel + width] = image
    room = np.full((height, width, 3), (150.0, 146.0, 140.0)) + rng.normal(0.0, 5.0, (height, width, 1))
    placed = _place(phone, room, float(rng.uniform(0.84, 0.94)), rng)
    return _camera(placed, rng, blur=0.9, quality=85)


def cutout_attack(rgb: RgbImage, seed: int = 0) -> RgbImage:
    """The untouched digital photo shrunk onto a plain wall: no recapture texture, only the picture's edge."""
    rng = np.random.default_rng(seed)
    height, width = rgb.shape[:2]
    wall = np.full((height, width, 3), (128.0, 124.0, 118.0))
    return _to_uint8(_place(rgb.astype(np.float64), wall, float(rng.uniform(0.55, 0.7)), rng))


def _close_print(rgb: RgbImage, seed: int) -> RgbImage:
    return print_attack(rgb, seed, edges=False)


def _close_screen(rgb: RgbImage, seed: int) -> RgbImage:
    return screen_attack(rgb, seed, edges=False)


ATTACKS: dict[str, Callable[[RgbImage, int], RgbImage]] = {
    "print": print_attack,
    "screen": screen_attack,
    "print_close": _close_print,
    "screen_close": _close_screen,
    "cutout": cutout_attack,
}


def genuine_far(rgb: RgbImage) -> RgbImage:
    """The same scene from further away: the whole picture at 40 % of its size (fewer pixels on the face)."""
    height, width = rgb.shape[:2]
    size = (max(1, int(width * 0.4)), max(1, int(height * 0.4)))
    return np.ascontiguousarray(cv2.resize(rgb, size, interpolation=cv2.INTER_AREA))


def genuine_dim(rgb: RgbImage, seed: int = 0) -> RgbImage:
    """The same scene in poor light: darker mid-tones, more sensor noise, stronger JPEG."""
    rng = np.random.default_rng(seed)
    dark = (rgb.astype(np.float64) / 255.0) ** 1.8 * 180.0 + rng.normal(0.0, 4.0, rgb.shape)
    return _jpeg(_to_uint8(dark), 80)


def genuine_photos(faces_dir: Path = FACES) -> Iterator[tuple[str, RgbImage]]:
    """The person photos of ``faces_dir`` (file name starts with a person), RGB."""
    for path in sorted(faces_dir.iterdir()):
        if path.suffix.lower() not in (".jpg", ".png") or path.stem in ("rgba_32bit", "two_people"):
            continue
        try:
            yield path.name, load_rgb(path)
        except ImageError:
            continue


def clip_frames(faces_dir: Path = FACES, count: int = 8) -> Iterator[tuple[str, RgbImage]]:
    capture = cv2.VideoCapture(str(faces_dir / CLIP))
    total = int(capture.get(cv2.CAP_PROP_FRAME_COUNT)) or count
    try:
        for index in np.linspace(0, max(0, total - 1), count).astype(int):
            capture.set(cv2.CAP_PROP_POS_FRAMES, int(index))
            ok, frame = capture.read()
            if ok:
                yield f"{CLIP}#{index}", np.ascontiguousarray(np.asarray(frame, np.uint8)[..., ::-1])
    finally:
        capture.release()


def virtual_person_frames(faces_dir: Path = FACES, count: int = 8) -> Iterator[tuple[str, RgbImage]]:
    from simulators.camera.virtual_person import VirtualPersonSource

    source = VirtualPersonSource(faces_dir / "obama_1.jpg", seed=1)
    for i in range(count):
        bgr = source.frame(0.5 * i)
        yield f"virtual_person@{0.5 * i:.1f}s", np.ascontiguousarray(bgr[..., ::-1])


def _scored(
    items: Iterator[tuple[str, RgbImage]], analyzer: FaceAnalyzer, detector: PassiveDetector
) -> dict[str, Any]:
    scores: dict[str, float] = {}
    missed: list[str] = []
    for name, rgb in items:
        box = analyzer.analyse(rgb, encoding=False).box
        if box is None:
            missed.append(name)
            continue
        scores[name] = round(detector.score(rgb, box), 4)
    values = list(scores.values())
    summary: dict[str, Any] = {"n": len(values), "no_face": missed, "scores": scores}
    if values:
        summary |= {"min": min(values), "median": statistics.median(values), "max": max(values)}
    return summary


def separation(genuine: list[float], attacks: list[float]) -> dict[str, Any]:
    """Share of (genuine, attack) pairs ranked right (ties count half), and APCER/BPCER per threshold."""
    if not genuine or not attacks:
        return {}
    wins = sum(1.0 if g > a else 0.5 if g == a else 0.0 for g in genuine for a in attacks)
    rates = {
        f"{t}": {
            "apcer": f"{sum(a >= t for a in attacks)}/{len(attacks)}",
            "bpcer": f"{sum(g < t for g in genuine)}/{len(genuine)}",
        }
        for t in THRESHOLDS
    }
    return {"pairs_ranked_right": round(wins / (len(genuine) * len(attacks)), 4), "at_threshold": rates}


def cost(detector: PassiveDetector, rgb: RgbImage, box: FaceBox, calls: int) -> dict[str, Any]:
    detector.score(rgb, box)  # warm-up: first run allocates
    times = []
    for _ in range(calls):
        started = time.perf_counter()
        detector.score(rgb, box)
        times.append((time.perf_counter() - started) * 1000.0)
    times.sort()
    result: dict[str, Any] = {
        "calls": calls,
        "median_ms": round(statistics.median(times), 3),
        "p95_ms": round(times[int(0.95 * (len(times) - 1))], 3),
    }
    for model in detector.models:  # the split: the crop (cut + resize) and the network alone
        crop_times, run_times = [], []
        for _ in range(calls):
            started = time.perf_counter()
            tensor = model_input(rgb, box, model.scale)
            cropped = time.perf_counter()
            detector.run_model(model, tensor)
            run_times.append((time.perf_counter() - cropped) * 1000.0)
            crop_times.append((cropped - started) * 1000.0)
        result[model.file] = {
            "crop_scale_used": round(effective_scale(rgb, box, model.scale), 3),
            "crop_median_ms": round(statistics.median(crop_times), 3),
            "network_median_ms": round(statistics.median(run_times), 3),
        }
    return result


def run(quick: bool = False) -> dict[str, Any]:
    started = time.perf_counter()
    detector = PassiveDetector()
    load_ms = (time.perf_counter() - started) * 1000.0
    analyzer = FaceAnalyzer()
    photos = list(genuine_photos())
    sets: dict[str, dict[str, Any]] = {
        "genuine_photos": _scored(iter(photos), analyzer, detector),
        "genuine_far": _scored(((n, genuine_far(rgb)) for n, rgb in photos), analyzer, detector),
        "genuine_dim": _scored(
            ((n, genuine_dim(rgb, i)) for i, (n, rgb) in enumerate(photos)), analyzer, detector
        ),
        "genuine_clip": _scored(clip_frames(count=4 if quick else 8), analyzer, detector),
        "virtual_person": _scored(virtual_person_frames(count=4 if quick else 8), analyzer, detector),
    }
    variants = 1 if quick else ATTACK_VARIANTS
    for species, attack in ATTACKS.items():
        made = (
            (f"{name}:{species}#{variant}", attack(rgb, 100 * variant + index))
            for index, (name, rgb) in enumerate(photos)
            for variant in range(variants)
        )
        sets[f"attack_{species}"] = _scored(made, analyzer, detector)
    genuine = [
        score
        for name in ("genuine_photos", "genuine_far", "genuine_dim", "genuine_clip")
        for score in sets[name]["scores"].values()
    ]
    comparison = {
        species: separation(genuine, list(sets[f"attack_{species}"]["scores"].values()))
        for species in ATTACKS
    }
    frame = next(virtual_person_frames(count=1))[1]
    box = analyzer.analyse(frame, encoding=False).box
    timing = cost(detector, frame, box, 50 if quick else 300) if box is not None else {}
    return {
        "passive": {
            "models": [m.file for m in detector.models],
            "load_ms": round(load_ms, 1),
            "cost_640x480": timing,
            "sets": sets,
            "genuine_vs_attack": comparison,
        }
    }
