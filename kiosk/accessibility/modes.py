"""The accessibility modes a customer (or staff) chose for this session.

- ``speech``: every screen's text is read aloud (headphone socket on the kiosk).
- ``keypad_only``: navigation with the PIN pad's function keys or the keyboard's arrows and ENTER; the
  focused button is spoken, so it implies speech.
- ``elderly``: text 1.3× larger and every timeout twice as long.
- ``assisted``: a member of staff guides the customer: a visible "Assisted by staff" banner and timeouts
  three times as long; staff end it.

The modes last one session: the window resets them when the session ends, so the next customer starts
from the defaults. Plain data, so the journeys' settings and the window's timers can both consult it.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, fields, replace
from typing import Any

ELDERLY_TEXT_SCALE = 1.3
ELDERLY_TIMEOUT_FACTOR = 2.0
ASSISTED_TIMEOUT_FACTOR = 3.0
MODE_NAMES: tuple[str, ...] = ("speech", "keypad_only", "elderly", "assisted")

# SessionConfig fields that are customer time limits (scaled); others (amounts, ids) are left alone.
SESSION_TIMEOUT_FIELDS: tuple[str, ...] = (
    "pin_timeout_s",
    "card_insert_timeout_s",
    "take_card_timeout_s",
    "take_card_warning_s",
)


@dataclass(frozen=True)
class AccessibilityModes:
    speech: bool = False
    keypad_only: bool = False
    elderly: bool = False
    assisted: bool = False

    @property
    def speaks(self) -> bool:
        return self.speech or self.keypad_only

    @property
    def text_scale(self) -> float:
        return ELDERLY_TEXT_SCALE if self.elderly else 1.0

    @property
    def timeout_factor(self) -> float:
        factor = 1.0
        if self.elderly:
            factor = max(factor, ELDERLY_TIMEOUT_FACTOR)
        if self.assisted:
            factor = max(factor, ASSISTED_TIMEOUT_FACTOR)
        return factor

    def scaled(self, seconds: float) -> float:
        return seconds * self.timeout_factor

    def toggled(self, mode: str) -> AccessibilityModes:
        if mode not in MODE_NAMES:
            raise ValueError(f"unknown accessibility mode {mode!r}")
        return replace(self, **{mode: not getattr(self, mode)})

    def active(self) -> list[str]:
        return [f.name for f in fields(self) if getattr(self, f.name)]

    @property
    def is_default(self) -> bool:
        return not self.active()


def scaled_session_timeouts(
    modes: AccessibilityModes, base: Mapping[str, Any], defaults: Mapping[str, float]
) -> dict[str, Any]:
    """The journeys' ``session_config`` overrides with every customer time limit scaled by the modes.

    ``base`` holds the overrides in force without accessibility (a test's short timeouts, say);
    ``defaults`` the SessionConfig defaults for fields ``base`` does not set.
    """
    scaled = dict(base)
    for name in SESSION_TIMEOUT_FIELDS:
        seconds = float(base.get(name, defaults[name]))
        scaled[name] = modes.scaled(seconds)
    return scaled
