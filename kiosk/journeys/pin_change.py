"""Change PIN, from the services menu of a card session (never after a face login: it needs the card).

Steps: the current PIN → a new PIN → the new PIN again, each on the PIN pad (``pin_pad.get_pin``: the
pad answers with an enciphered ISO 9564 format 0 block, never a PIN) → the ``bank.change_pin`` effect,
which sends the current PIN's block and the new one to the host (ISO 8583 0200, processing code 920000).

The two new entries are compared as blocks: format 0 under the same key and PAN is deterministic, so equal
PINs give equal blocks; a mismatch says so and asks for the new PIN again. The host checks the current PIN
and refuses a weak new one (one digit repeated, or a straight run such as 1234 or 9876), which this
journey cannot judge: it never sees a PIN. The blocks live in this object's memory only while the change
is in progress (never in a view, a repr, a journal or a log) and are dropped the moment it ends.

Outcomes the services menu reads: ``completed`` (changed, or a message saying why not, acknowledged: back
to "anything else?"); ``cancelled`` (back to the menu); ``retain`` (the third wrong current PIN: the card
journey captures the card exactly as after three wrong PINs at login, ``data["retain_reason"]`` for the
receipt); ``timeout``; ``failed`` (the PIN pad failed; ``data["message"]``).
"""

from __future__ import annotations

import hmac
from collections.abc import Mapping
from typing import Any

from kiosk.journeys.core import NOTHING, Event, Step, message
from kiosk.journeys.pin_entry import PIN_MAX_LENGTH, PIN_MIN_LENGTH, MaskedPinJourney
from kiosk.journeys.session import (
    CustomerSession,
    SessionConfig,
    register_logged_in_service,
)

STAGES = ("current", "new", "confirm")
NEW_PIN_ATTEMPTS = 3  # a mismatch or a weak PIN each use one; then nothing is changed
RETAIN_REASON = "retain.pin_change"


class PinChange(MaskedPinJourney):
    name = "pin_change"

    def __init__(self, session: CustomerSession, config: SessionConfig, tries_left: int = 3) -> None:
        super().__init__()
        self.session = session
        self.config = config
        self.tries_left = tries_left  # of the current PIN: the host's count, from its last answer
        self.stage = ""
        self.digits = 0
        self.new_pin_failures = 0
        self.changed = False
        # Enciphered blocks, memory only, while the change is in progress.
        self._current_block: bytes | None = None
        self._first_new_block: bytes | None = None
        self._new_block: bytes | None = None

    def __repr__(self) -> str:
        return f"PinChange(pan={self.session.pan_masked!r}, stage={self.stage!r}, state={self.state})"

    # -- the three entries ------------------------------------------------------------------------
    def on_start(self) -> Step:
        if not self.session.has_card:
            return self.finish("cancelled")  # the menu never offers it without a card
        return self._enter("current")

    def _enter(self, stage: str, error: str = "") -> Step:
        self.stage = stage
        self.digits = 0
        return self.go(
            f"pin_change_{stage}",
            "pin_entry",
            digits=0,
            max_digits=PIN_MAX_LENGTH,
            tries_left=self.tries_left if stage == "current" else 3,
            error=error,
            title_key=f"pin_change.{stage}.title",
            body_key=f"pin_change.{stage}.body",
        ).then(
            self.run(
                "pin_pad.get_pin",
                pan=self.session.pan,
                min_len=PIN_MIN_LENGTH,
                max_len=PIN_MAX_LENGTH,
                timeout=self.config.pin_timeout_s,
            )
        )

    def on_pin_change_current(self, event: Event) -> Step:
        return self._entry(event)

    def on_pin_change_new(self, event: Event) -> Step:
        return self._entry(event)

    def on_pin_change_confirm(self, event: Event) -> Step:
        return self._entry(event)

    def _entry(self, event: Event) -> Step:
        key = self.masked_key(event)
        if key is not None:
            return key
        if event.kind != "pin_pad.get_pin.done":
            return NOTHING
        if not event.ok:
            return self._entry_failed(event)
        block = bytes(event.value)
        if self.stage == "current":
            self._current_block = block
            # After a wrong current PIN the new one, already entered twice, is kept: only the current again.
            return self._send() if self._new_block is not None else self._enter("new")
        if self.stage == "new":
            self._first_new_block = block
            return self._enter("confirm")
        first, self._first_new_block = self._first_new_block, None
        if first is None or not hmac.compare_digest(first, block):
            return self._new_pin_refused("pin_change.mismatch")
        self._new_block = block
        return self._send()

    def _entry_failed(self, event: Event) -> Step:
        self._forget_blocks()
        if event.code == "cancelled":
            return self.finish("cancelled")
        if event.code == "timeout":
            return self.finish("timeout")
        if event.code == "host_unavailable":  # the card link could not sign on before the entry
            return self._unavailable()
        return self.finish(
            "failed", code=event.code, message=message("error", "error.pin_pad.title", "error.pin_pad.body")
        )

    def _new_pin_refused(self, error: str) -> Step:
        """The new PIN was not taken (the two entries differ, or the host found it weak): ask again."""
        self._first_new_block = self._new_block = None
        self.new_pin_failures += 1
        if self.new_pin_failures >= NEW_PIN_ATTEMPTS:
            self._forget_blocks()
            return self.notice("error", "pin_change.refused.title", "pin_change.too_many.body")
        return self._enter("new", error=error)

    # -- the bank ----------------------------------------------------------------------------------
    def _send(self) -> Step:
        assert self._current_block is not None and self._new_block is not None
        return self.go("pin_change_sending", "card_wait", message_key="pin_change.wait").then(
            self.run(
                "bank.change_pin",
                pan=self.session.pan,  # memory only: the effect sends it over ISO 8583 and journals it masked
                old_block=self._current_block,
                new_block=self._new_block,
                session_id=self.session.session_id,
            )
        )

    def on_pin_change_sending(self, event: Event) -> Step:
        if event.kind != "bank.change_pin.done":
            return NOTHING
        value = event.value if isinstance(event.value, Mapping) else {}
        if not event.ok:
            self._forget_blocks()
            if event.code == "not_available":
                return self.notice("info", "pin_change.not_available.title", "pin_change.not_available.body")
            if event.code == "unconfirmed":
                return self.notice("warning", "pin_change.unconfirmed.title", "pin_change.unconfirmed.body")
            return self._unavailable()
        outcome = str(value.get("outcome", ""))
        if outcome == "changed":
            self._forget_blocks()
            self.changed = True
            return self.notice("success", "pin_change.done.title", "pin_change.done.body")
        if outcome == "wrong":
            self._current_block = None
            self.tries_left = int(value.get("tries_left", 0))
            return self._enter("current", error="pin_change.wrong")
        if outcome == "retain":
            self._forget_blocks()
            return self.finish("retain", retain_reason=RETAIN_REASON)
        if outcome == "weak":
            return self._new_pin_refused("pin_change.weak")
        self._forget_blocks()
        return self.notice("error", "pin_change.refused.title", "pin_change.refused.body")

    def _unavailable(self) -> Step:
        return self.notice("error", "pin_change.unavailable.title", "pin_change.unavailable.body")

    def on_notice(self, event: Event) -> Step:
        if event.kind == "ui.ok":
            return self.finish("completed", changed=self.changed)
        return NOTHING

    # -- endings -----------------------------------------------------------------------------------
    def _forget_blocks(self) -> None:
        self._current_block = self._first_new_block = self._new_block = None

    def finish(self, status: str = "completed", /, **data: Any) -> Step:
        self._forget_blocks()
        return super().finish(status, **data)

    def cancel(self) -> Step:
        if self.state == "pin_change_sending":
            return NOTHING  # the host is changing it: its answer decides what the customer is told
        if self.state == "notice":
            return self.finish("completed", changed=self.changed)
        return self.finish("cancelled")

    def on_timeout(self) -> Step:
        if self.state == "pin_change_sending":
            return NOTHING
        return self.finish("timeout")


register_logged_in_service("change_pin", PinChange, label_key="services.change_pin", order=60, card_only=True)
