"""PIN entry on the EPP and the check at the HSM, with the try counter — for login and re-entry.

The screen shows one ``*`` per key from the pad's events (``pin_pad.key_pressed``, mode ``pin``); the
pad returns an enciphered PIN block, which goes straight into the ``security.check_pin`` effect and is
never kept here. A wrong PIN starts entry again with the tries left; the last wrong try ends ``retain``
(the bank has already marked the card retained; the parent captures it).

Outcomes: ``ok``; ``retain``; ``refused`` (``data["outcome"]``: card not usable, no PIN, unknown card);
``cancelled`` (Cancel on the screen or the pad); ``timeout`` (no PIN in time); ``failed`` (the pad or the
bank failed; ``data["message"]``).
"""

from __future__ import annotations

from collections.abc import Mapping

from kiosk.journeys.core import NOTHING, Event, Step, message
from kiosk.journeys.session import SessionJourney

PIN_MIN_LENGTH = 4
PIN_MAX_LENGTH = 6


def digits_after(digits: int, key: str) -> int | None:
    """The digits shown after the pad's ``key`` event (``*`` per digit); None: not a digit key."""
    name = key.upper()
    if name in ("BACKSPACE", "BKSP"):
        return max(0, digits - 1)
    if name == "CLEAR":
        return 0
    if name == "*" or (len(name) == 1 and name.isdigit()):
        return min(PIN_MAX_LENGTH, digits + 1)
    return None


class MaskedPinJourney(SessionJourney):
    """A journey that shows a PIN being typed on the pad: one mark per digit, never a digit."""

    digits = 0

    def masked_key(self, event: Event) -> Step | None:
        """The screen after a ``pin_pad.key_pressed`` event; None when ``event`` is not one."""
        if event.kind != "pin_pad.key_pressed":
            return None
        if event.data.get("mode", "pin") != "pin":
            return NOTHING
        digits = digits_after(self.digits, str(event.data.get("key", "*")))
        if digits is None:
            return NOTHING
        self.digits = digits
        return self.stay(digits=digits)


class PinEntry(MaskedPinJourney):
    name = "pin_entry"

    def __init__(
        self,
        pan: str,
        pan_masked: str,
        *,
        tries_left: int,
        timeout_s: float,
        session_id: str = "",
        reentry: bool = False,
    ) -> None:
        super().__init__()
        self._pan = pan
        self.pan_masked = pan_masked
        self.tries_left = tries_left
        self.timeout_s = timeout_s
        self.session_id = session_id
        self.reentry = reentry
        self.digits = 0

    def __repr__(self) -> str:
        return f"PinEntry(pan={self.pan_masked!r}, tries_left={self.tries_left})"

    def _enter(self, error: str = "") -> Step:
        self.digits = 0
        return self.go(
            "pin_entry",
            digits=0,
            max_digits=PIN_MAX_LENGTH,
            tries_left=self.tries_left,
            error=error,
            reentry=self.reentry,
        ).then(
            self.run(
                "pin_pad.get_pin",
                pan=self._pan,
                min_len=PIN_MIN_LENGTH,
                max_len=PIN_MAX_LENGTH,
                timeout=self.timeout_s,
            )
        )

    def on_start(self) -> Step:
        return self._enter()

    def on_pin_entry(self, event: Event) -> Step:
        key = self.masked_key(event)
        if key is not None:
            return key
        if event.kind != "pin_pad.get_pin.done":
            return NOTHING
        if event.ok:
            # The enciphered block passes straight through to the HSM effect; this journey keeps nothing.
            return self.go("pin_checking", "card_wait", message_key="card.wait.pin").then(
                self.run(
                    "security.check_pin",
                    pan=self._pan,
                    pin_block=event.value,
                    session_id=self.session_id,
                )
            )
        if event.code == "cancelled":
            return self.finish("cancelled")
        if event.code == "timeout":
            return self.finish("timeout")
        return self.finish(
            "failed",
            code=event.code,
            message=message("error", "error.pin_pad.title", "error.pin_pad.body"),
        )

    def on_pin_checking(self, event: Event) -> Step:
        if event.kind != "security.check_pin.done":
            return NOTHING
        value = event.value if isinstance(event.value, Mapping) else {}
        if not event.ok:
            return self.finish(
                "failed", code=event.code, message=message("error", "error.bank.title", "error.bank.body")
            )
        outcome = str(value.get("outcome", ""))
        self.tries_left = int(value.get("tries_left", 0))
        if outcome == "ok":
            return self.finish("ok")
        if outcome == "wrong":
            return self._enter(error="pin.wrong")
        if outcome == "retain":
            return self.finish("retain")
        return self.finish("refused", outcome=outcome)

    def on_timeout(self) -> Step:
        return self.finish("timeout")
