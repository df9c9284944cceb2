"""The PIN pad (EPP) device class, as journeys and the UI see it.

The PIN never crosses this interface: ``get_pin`` yields the enciphered PIN block only, and key events
during PIN entry carry ``*`` instead of digits. Nor does a clear key: working keys go in as TR-31 key
blocks under the pad's terminal master key, and come back as key check values.
"""

from __future__ import annotations

from typing import Protocol

from devices.base import Device, DeviceInfo, Operation
from devices.pin_pad.protocol import KeyStatus

# Events: key_pressed {key: "*" | digit | "." | ENTER | CANCEL | CLEAR | BACKSPACE | F1..F8, mode},
#         tamper, state_changed.
# Status detail: tamper (bool), entry_active (bool), entry_mode, keys {"tdes": bool, "aes": bool}.


class PinPad(Device, Protocol):
    def info(self) -> DeviceInfo: ...

    def reset(self) -> Operation[str]:
        """Re-initialise the pad (clears a tamper state; erased keys stay erased)."""
        ...

    def get_pin(
        self, min_len: int, max_len: int, timeout: float, pan: str, pin_format: int = 0
    ) -> Operation[bytes]:
        """PIN entry; value: the enciphered ISO 9564 PIN block (format 0 or 4)."""
        ...

    def get_amount(self, max_digits: int = 9, timeout: float = 60.0, decimals: int = 2) -> Operation[int]:
        """Clear-text amount entry; value: integer minor units."""
        ...

    def load_working_key(self, kind: str, key_block: str) -> Operation[str]:
        """Load the PIN key (``kind="pin"``, TR-31 usage P0) or the MAC key (``"mac"``, usage M3) from a
        TR-31 version B key block under the pad's TMK; value: the loaded key's 6-hex check value."""
        ...

    def generate_mac(self, data: bytes) -> Operation[bytes]:
        """ISO 9797-1 MAC algorithm 3 of ``data`` under the pad's MAC key; value: the 8-byte MAC."""
        ...

    def key_status(self) -> Operation[KeyStatus]:
        """Check values of the TMK, PIN key and MAC key the pad holds (None for a missing key)."""
        ...
