"""What the kiosk expects of a camera (structural typing), and the frame it delivers."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, Protocol

import numpy as np
import numpy.typing as npt

from devices.base import Device, Operation


@dataclass(frozen=True)
class CameraFrame:
    """One new frame: contiguous RGB uint8 HxWx3, when it arrived (wall clock and monotonic), its number."""

    image: npt.NDArray[np.uint8]
    timestamp: float
    monotonic: float
    seq: int

    @property
    def width(self) -> int:
        return int(self.image.shape[1])

    @property
    def height(self) -> int:
        return int(self.image.shape[0])


FrameCallback = Callable[[CameraFrame], None]


class Camera(Device, Protocol):
    def subscribe_frames(self, callback: FrameCallback) -> Callable[[], None]: ...

    def latest_frame(self, max_age: float | None = None) -> CameraFrame | None: ...

    def capture(self, timeout: float = 2.0) -> Operation[CameraFrame]: ...

    def settings(self) -> dict[str, Any]: ...
