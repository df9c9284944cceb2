"""What the kiosk expects of an ID card reader (structural typing)."""

from __future__ import annotations

from typing import Protocol

from devices.base import Device, Operation
from devices.id_reader.protocol import Identity


class IdCardReader(Device, Protocol):
    def read_card(self, timeout: float = 30.0) -> Operation[Identity]: ...
