"""The PIN pad (EPP) device class, as journeys and the UI see it.

The PIN never crosses this interface: ``get_pin`` yields the enciphered PIN block only, and key events
during PIN entry carry ``*`` instead of digits.
"""

from __future__ import annotations

from typing import Protocol

from devices.base import Device, DeviceInfo, Operation

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
