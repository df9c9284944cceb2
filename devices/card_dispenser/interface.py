"""The card dispenser device class, as journeys and the UI see it."""

from __future__ import annotations

from typing import Protocol

from devices.base import Device, DeviceInfo, Operation

# Events: stock_low, stock_empty, card_presented, media_taken, card_captured, jam, state_changed.
# Status detail: stock (ok/low/empty), position (none/encoder/gate), jammed.


class CardDispenser(Device, Protocol):
    def info(self) -> DeviceInfo: ...

    def reset(self) -> Operation[str]: ...

    def move_to_encoder(self) -> Operation[None]: ...

    def write_track2(self, track2: str) -> Operation[None]: ...

    def present(self) -> Operation[None]: ...

    def wait_for_take(self, timeout: float) -> Operation[bool]: ...

    def capture(self) -> Operation[None]: ...

    def dispense(self, track2: str, take_timeout: float | None = None) -> Operation[bool]:
        """Pick a blank card, encode track 2, present it (and wait for the take); a card whose write
        failed goes to the reject bin, never to the customer. Value: taken (False if not waited for)."""
        ...
