"""Frame sources for the camera simulator.

A source produces BGR uint8 frames (like OpenCV's ``VideoCapture``) for a time ``t`` in seconds since the
source started. Synthetic sources add a little seeded sensor noise so that consecutive frames are never
byte-identical — a real sensor never repeats itself, and the camera driver treats identical frames as a
frozen stream.
"""

from __future__ import annotations

import importlib
import threading
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING, Any, Protocol

import cv2
import numpy as np
import numpy.typing as npt

if TYPE_CHECKING:
    from cv2.typing import MatLike

Frame = npt.NDArray[np.uint8]
DEFAULT_SIZE = (640, 480)  # width, height
NOISE_VARIANTS = 6


class FrameSource(Protocol):
    name: str

    def frame(self, t: float) -> Frame:
        """BGR uint8 HxWx3; ``t`` = seconds since the source started."""
        ...

    def act(self, action: str) -> None:
        """Scripted action (e.g. "blink", "turn_left"); ValueError if this source cannot do it."""
        ...


def default_faces_dir() -> Path:
    return Path(__file__).resolve().parents[3] / "shared" / "faces"


def as_frame(image: MatLike) -> Frame:
    """An OpenCV image as a :data:`Frame`. OpenCV's stubs type every image as any integer or float array;
    the images here are 8-bit (decoded frames and photos, or results of 8-bit input), and for those this
    is the same array, not a copy."""
    return np.asarray(image, dtype=np.uint8)


def fill_frame(image: Frame, size: tuple[int, int]) -> Frame:
    """Scale to cover ``size`` (w, h) and centre-crop, as a camera's field of view would."""
    width, height = size
    h, w = image.shape[:2]
    scale = max(width / w, height / h)
    resized = cv2.resize(image, (max(width, round(w * scale)), max(height, round(h * scale))),
                         interpolation=cv2.INTER_AREA if scale < 1 else cv2.INTER_LINEAR)  # fmt: skip
    y = (resized.shape[0] - height) // 2
    x = (resized.shape[1] - width) // 2
    return np.ascontiguousarray(resized[y : y + height, x : x + width])


class _SensorNoise:
    """A few precomputed noise fields, cycled per frame: cheap, seeded, never two equal frames in a row."""

    def __init__(self, size: tuple[int, int], seed: int, amplitude: int = 3) -> None:
        rng = np.random.default_rng(seed)
        width, height = size
        self._fields = [
            rng.integers(-amplitude, amplitude + 1, size=(height, width, 3), dtype=np.int16)
            for _ in range(NOISE_VARIANTS)
        ]

    def apply(self, image: Frame, index: int) -> Frame:
        noisy: npt.NDArray[np.int16] = image.astype(np.int16) + self._fields[index % len(self._fields)]
        return np.clip(noisy, 0, 255).astype(np.uint8)


def _unsupported(source: str, action: str) -> ValueError:
    return ValueError(f"source {source!r} cannot {action!r}")


class VideoFileSource:
    """A video file looping forever, decoded on the fly (the clip is never held whole in memory)."""

    def __init__(self, path: str | Path | None = None, seed: int = 0, size: tuple[int, int] = DEFAULT_SIZE):
        self.path = Path(path) if path is not None else default_faces_dir() / "short_hamilton_clip.mp4"
        self.name = f"video:{self.path.name}"
        self.size = size
        self._lock = threading.Lock()
        self._cap = cv2.VideoCapture(str(self.path))
        if not self._cap.isOpened():
            raise ValueError(f"cannot open video {self.path}")
        self.fps = self._cap.get(cv2.CAP_PROP_FPS) or 25.0
        self._index = -1  # index of _current
        self._current: Frame | None = None
        self._count: int | None = None  # learnt when the file first ends

    def frame(self, t: float) -> Frame:
        with self._lock:
            wanted = int(t * self.fps)
            if self._count:
                wanted %= self._count
            if wanted < self._index:
                self._rewind()
            while self._index < wanted or self._current is None:
                ok, image = self._cap.read()
                if not ok:
                    if self._index < 0:
                        raise ValueError(f"video {self.path} has no frames")
                    self._count = self._index + 1
                    wanted %= self._count
                    self._rewind()
                    continue
                self._index += 1
                self._current = as_frame(image)
            return fill_frame(self._current, self.size)

    def _rewind(self) -> None:
        self._cap.set(cv2.CAP_PROP_POS_FRAMES, 0)
        self._index = -1
        self._current = None

    def act(self, action: str) -> None:
        raise _unsupported(self.name, action)

    def close(self) -> None:
        with self._lock:
            self._cap.release()


class PhotoSource:
    """A still photo held up to the camera (a *photo attack*): the same picture, only sensor noise."""

    def __init__(self, photo: str | Path | None = None, seed: int = 0, size: tuple[int, int] = DEFAULT_SIZE):
        path = Path(photo) if photo is not None else default_faces_dir() / "obama_1.jpg"
        image = cv2.imread(str(path), cv2.IMREAD_COLOR)
        if image is None:
            raise ValueError(f"cannot read photo {path}")
        self.name = f"photo:{path.name}"
        self._base = fill_frame(as_frame(image), size)
        self._noise = _SensorNoise(size, seed)
        self._fps = 30.0

    def frame(self, t: float) -> Frame:
        return self._noise.apply(self._base, int(t * self._fps))

    def act(self, action: str) -> None:
        raise _unsupported(self.name, action)


class EmptySceneSource:
    """A synthetic empty kiosk alcove: wall, floor, a door frame and a light patch — no person."""

    def __init__(self, seed: int = 0, size: tuple[int, int] = DEFAULT_SIZE) -> None:
        self.name = "empty"
        width, height = size
        rng = np.random.default_rng(seed)
        scene = np.zeros((height, width, 3), dtype=np.uint8)
        wall = np.linspace(170, 130, height)[:, None]
        scene[:, :, 0] = np.clip(wall * 0.95, 0, 255).astype(np.uint8)
        scene[:, :, 1] = np.clip(wall * 1.0, 0, 255).astype(np.uint8)
        scene[:, :, 2] = np.clip(wall * 1.05, 0, 255).astype(np.uint8)
        floor_y = int(height * 0.72)
        scene[floor_y:] = (70, 85, 95)
        door_x = int(rng.uniform(0.55, 0.7) * width)
        cv2.rectangle(scene, (door_x, int(height * 0.18)), (door_x + width // 6, floor_y), (60, 75, 90), -1)
        cv2.rectangle(scene, (door_x, int(height * 0.18)), (door_x + width // 6, floor_y), (40, 45, 50), 4)
        cv2.circle(scene, (width // 5, height // 6), width // 12, (215, 225, 230), -1)
        self._base = as_frame(cv2.GaussianBlur(scene, (5, 5), 0))
        self._noise = _SensorNoise(size, seed)

    def frame(self, t: float) -> Frame:
        return self._noise.apply(self._base, int(t * 30))

    def act(self, action: str) -> None:
        raise _unsupported(self.name, action)


CLOCK_BITS = 48
CLOCK_BLOCK = 12  # pixels per bit, so JPEG cannot blur a bit away


def encode_clock(image: Frame, epoch_ms: int) -> None:
    """Paint ``epoch_ms`` as 48 black/white blocks along the top rows (for latency measurements)."""
    for bit in range(CLOCK_BITS):
        value = 255 if (epoch_ms >> (CLOCK_BITS - 1 - bit)) & 1 else 0
        x = (bit % 48) * CLOCK_BLOCK + 16
        image[4 : 4 + CLOCK_BLOCK, x : x + CLOCK_BLOCK] = value


def decode_clock(image: npt.NDArray[np.uint8]) -> int:
    """Read back what :func:`encode_clock` painted (works on BGR or RGB frames)."""
    value = 0
    for bit in range(CLOCK_BITS):
        x = bit * CLOCK_BLOCK + 16 + CLOCK_BLOCK // 2
        value = (value << 1) | int(image[4 + CLOCK_BLOCK // 2, x].mean() > 127)
    return value


class ClockSource:
    """A grey frame stamped with the wall-clock time at which it was generated (latency benchmark)."""

    def __init__(self, seed: int = 0, size: tuple[int, int] = DEFAULT_SIZE) -> None:
        import time

        self.name = "clock"
        self._time = time.time
        width, height = size
        self._base = np.full((height, width, 3), 128, dtype=np.uint8)

    def frame(self, t: float) -> Frame:
        image = self._base.copy()
        encode_clock(image, int(self._time() * 1000))
        return image

    def act(self, action: str) -> None:
        raise _unsupported(self.name, action)


def _face_path(photo: str | Path | None, faces_dir: str | Path | None) -> Path:
    folder = Path(faces_dir) if faces_dir is not None else default_faces_dir()
    chosen = Path(photo) if photo else folder / "obama_1.jpg"
    if not chosen.is_absolute() and not chosen.exists():
        chosen = folder / chosen  # a bare file name means one of the shared faces
    return chosen


def _virtual_person(**kwargs: Any) -> FrameSource:
    # imported lazily: it pulls in face analysis, and another module owns it
    module = importlib.import_module("simulators.camera.virtual_person")
    source: FrameSource = module.VirtualPersonSource(**kwargs)
    return source


def _virtual_person_factory(
    photo: str | Path | None = None, seed: int = 0, faces_dir: str | Path | None = None, **kwargs: Any
) -> FrameSource:
    return _virtual_person(photo=_face_path(photo, faces_dir), seed=seed, **kwargs)


def _video_factory(path: str | Path | None = None, seed: int = 0, faces_dir: str | Path | None = None,
                   **kwargs: Any) -> FrameSource:  # fmt: skip
    folder = Path(faces_dir) if faces_dir is not None else default_faces_dir()
    return VideoFileSource(path if path else folder / "short_hamilton_clip.mp4", seed=seed, **kwargs)


def _photo_factory(photo: str | Path | None = None, seed: int = 0, faces_dir: str | Path | None = None,
                   **kwargs: Any) -> FrameSource:  # fmt: skip
    return PhotoSource(_face_path(photo, faces_dir), seed=seed, **kwargs)


def _empty_factory(seed: int = 0, faces_dir: str | Path | None = None, **kwargs: Any) -> FrameSource:
    return EmptySceneSource(seed=seed, **kwargs)


def _clock_factory(seed: int = 0, faces_dir: str | Path | None = None, **kwargs: Any) -> FrameSource:
    return ClockSource(seed=seed, **kwargs)


SOURCE_FACTORIES: dict[str, Callable[..., FrameSource]] = {
    "video": _video_factory,
    "photo": _photo_factory,
    "empty": _empty_factory,
    "clock": _clock_factory,
    "virtual_person": _virtual_person_factory,
}


def create_source(name: str, **kwargs: Any) -> FrameSource:
    factory = SOURCE_FACTORIES.get(name)
    if factory is None:
        raise ValueError(f"unknown camera source {name!r}; known: {', '.join(SOURCE_FACTORIES)}")
    return factory(**kwargs)
