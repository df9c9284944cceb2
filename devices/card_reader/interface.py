"""The card reader device class, as journeys and the UI see it."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Protocol

from devices.base import Device, DeviceInfo, Operation
from devices.card_reader.tracks import Track1, Track2
from hostlink.redaction import mask_pan

# Events: card_inserted, media_taken, card_captured, retain_bin_full, jam, state_changed.
# Status detail: media (none/at_gate/inside), retained (count), bin_capacity, bin_full, jammed.


@dataclass(frozen=True, repr=False)
class CardData:
    """What ``read_tracks`` read. Holds track data: keep it only until authorisation, never log it."""

    track1: Track1 | None = None
    track2: Track2 | None = None
    track3: str | None = None
    unreadable: tuple[int, ...] = field(default_factory=tuple)

    @property
    def pan(self) -> str | None:
        if self.track2 is not None:
            return self.track2.pan
        return self.track1.pan if self.track1 is not None else None

    @property
    def masked_pan(self) -> str:
        return mask_pan(self.pan) if self.pan else ""

    def __repr__(self) -> str:
        read = [n for n, t in ((1, self.track1), (2, self.track2), (3, self.track3)) if t is not None]
        return f"CardData(pan={self.masked_pan!r}, read={read}, unreadable={list(self.unreadable)})"


class CardReader(Device, Protocol):
    def info(self) -> DeviceInfo: ...

    def reset(self) -> Operation[str]:
        """Initialise the reader; value: firmware identification."""
        ...

    def wait_for_card(self, timeout: float) -> Operation[str]:
        """Open the shutter and wait for a card (cancellable); value: media position."""
        ...

    def read_tracks(self, tracks: tuple[int, ...] = (1, 2)) -> Operation[CardData]: ...

    def eject(self, take_timeout: float) -> Operation[bool]:
        """Move the card to the gate and wait for the customer to take it; value: taken or not."""
        ...

    def capture(self) -> Operation[int]:
        """Retain the card in the bin; value: the bin count afterwards."""
        ...
