"""What the kiosk expects of an ID card reader (structural typing)."""

from __future__ import annotations

from collections.abc import Callable
from typing import Protocol

from devices.base import DeviceEvent, DeviceStatus, Operation
from devices.id_reader.protocol import Identity


class IdCardReader(Protocol):
    def start(self) -> None: ...

    def close(self, timeout: float = 5.0) -> None: ...

    def status(self) -> DeviceStatus: ...

    def subscribe(self, callback: Callable[[DeviceEvent], None]) -> Callable[[], None]: ...

    def read_card(self, timeout: float = 30.0) -> Operation[Identity]: ...
