"""Card + PIN: insert the card, read it, find it at the bank, PIN on the EPP, then the services menu.

Every way out returns the card (:class:`~kiosk.journeys.card_return.CardReturn`) or captures it, and the
journey ends with the message the app shows: thank you, timed out, a device or bank problem, or card
retained (three wrong PINs: captured, a retain receipt printed when the printer is up, the customer told
where to collect it). The PAN is held in memory for the session only; views and the journal get the
masked form.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import date
from typing import Any

from hostlink.redaction import mask_pan
from kiosk.journeys.card_return import CardReturn
from kiosk.journeys.core import NOTHING, Event, Journey, Outcome, Step, message
from kiosk.journeys.pin_entry import PinEntry
from kiosk.journeys.session import CustomerSession, ServicesMenu, SessionConfig, SessionJourney

# Final messages by how the session ended (the card was returned first).
END_MESSAGES: dict[str, dict[str, Any]] = {
    "completed": message("success", "end.thanks.title", "end.thanks.body"),
    "cancelled": message("info", "end.cancelled.title", "end.cancelled.body"),
    "timeout": message("info", "end.timeout.title", "end.timeout.body"),
    "unreadable": message("error", "card.unreadable.title", "card.unreadable.body"),
    "unknown_card": message("error", "card.unknown.title", "card.unknown.body"),
    "card_not_usable": message("error", "card.not_usable.title", "card.not_usable.body"),
    "no_pin": message("error", "card.not_usable.title", "card.not_usable.body"),
    "expired": message("error", "card.expired.title", "card.expired.body"),
}


def card_expired(expiry_yymm: str, today: date) -> bool:
    """A card is valid to the end of its expiry month."""
    if len(expiry_yymm) != 4 or not expiry_yymm.isdigit():
        return True
    year, month = 2000 + int(expiry_yymm[:2]), int(expiry_yymm[2:])
    return (year, month) < (today.year, today.month)


class CardJourney(SessionJourney):
    name = "card"

    def __init__(
        self, session_id: str, lang: str, config: SessionConfig, today: date, pin_tries: int = 3
    ) -> None:
        super().__init__()
        self.session_id = session_id
        self.lang = lang
        self.config = config
        self.today = today
        self.pin_tries = pin_tries
        self._pan = ""
        self.pan_masked = ""
        self.card_inside = False
        self.session: CustomerSession | None = None
        self._end: tuple[str, dict[str, Any]] = ("completed", {})
        self.retain_reason = ""

    def __repr__(self) -> str:
        return f"CardJourney(session={self.session_id}, pan={self.pan_masked!r}, state={self.state})"

    # -- insert and read ------------------------------------------------------------------------
    def on_start(self) -> Step:
        return self.go("card_insert", timeout_s=self.config.card_insert_timeout_s).then(
            self.run("card_reader.wait_for_card", timeout=self.config.card_insert_timeout_s)
        )

    def on_card_insert(self, event: Event) -> Step:
        if event.kind != "card_reader.wait_for_card.done":
            return NOTHING
        if event.ok:
            self.card_inside = True
            return self.go("card_reading", "card_wait", message_key="card.wait.reading").then(
                self.run("card_reader.read")
            )
        if event.code == "timeout":
            return self.finish("timeout", message=message("info", "card.no_card.title", "card.no_card.body"))
        if event.code == "cancelled":
            return self.finish("cancelled")
        return self._device_failed(event.code)

    def on_card_reading(self, event: Event) -> Step:
        if event.kind != "card_reader.read.done":
            return NOTHING
        value = event.value if isinstance(event.value, Mapping) else {}
        pan = str(value.get("pan") or "")
        if not event.ok or not pan:
            if event.code in ("media_jammed", "hardware_error", "offline"):
                return self._device_failed(event.code)
            return self._return_card("unreadable")
        self._pan = pan
        self.pan_masked = mask_pan(pan)
        return self.go("card_checking", "card_wait", message_key="card.wait.checking").then(
            self.run("bank.card_lookup", pan=pan)
        )

    def on_card_checking(self, event: Event) -> Step:
        if event.kind != "bank.card_lookup.done":
            return NOTHING
        if not event.ok:
            return self._return_card("failed", message("error", "error.bank.title", "error.bank.body"))
        card = event.value if isinstance(event.value, Mapping) else None
        if card is None:
            return self._return_card("unknown_card")
        if card.get("status") != "active":
            return self._return_card("card_not_usable")
        if card_expired(str(card.get("expiry", "")), self.today):
            return self._return_card("expired")
        if not card.get("has_pin", True):
            return self._return_card("no_pin")
        self.session = CustomerSession(
            session_id=self.session_id,
            customer_id=int(card["customer_id"]),
            account_id=int(card["account_id"]),
            account_masked=str(card["account_masked"]),
            lang=self.lang,
            auth="card",
            pan=self._pan,
            pan_masked=self.pan_masked,
            today=self.today,
        )
        self.state = "pin"
        tries = int(card.get("tries_left", self.pin_tries))
        return self.start_child(
            PinEntry(
                self._pan,
                self.pan_masked,
                tries_left=tries,
                timeout_s=self.config.pin_timeout_s,
                session_id=self.session_id,
            )
        )

    # -- children ---------------------------------------------------------------------------------
    def on_child_done(self, child: Journey, outcome: Outcome) -> Step:
        if isinstance(child, PinEntry):
            return self._after_pin(outcome)
        if isinstance(child, ServicesMenu):
            if outcome.status == "retain":
                # Exactly as three wrong PINs at login; only the receipt's reason says where it happened.
                return self._retain(str(outcome.data.get("retain_reason") or "retain.pin_reentry"))
            data = dict(outcome.data)
            return self._return_card(outcome.status, data.get("message"))
        if isinstance(child, CardReturn):
            return self._after_return(outcome)
        return self.finish(outcome.status, **outcome.data)

    def _after_pin(self, outcome: Outcome) -> Step:
        status = outcome.status
        if status == "ok":
            assert self.session is not None
            self.state = "services"
            return self.start_child(ServicesMenu(self.session, self.config))
        if status == "retain":
            return self._retain("retain.pin")
        if status == "refused":
            return self._return_card(str(outcome.data.get("outcome", "card_not_usable")))
        return self._return_card(status, outcome.data.get("message"))

    def _after_return(self, outcome: Outcome) -> Step:
        self.card_inside = outcome.status == "failed"
        status, data = self._end
        if outcome.status == "retained":
            return self.finish(
                "card_not_taken",
                after=status,
                message=message("warning", "card.retained.title", "card.retained.body"),
            )
        if outcome.status == "failed":
            return self.finish(
                "failed", after=status, message=message("error", "card.stuck.title", "card.stuck.body")
            )
        return self.finish(status, **data)

    # -- ways out ---------------------------------------------------------------------------------
    def _return_card(self, status: str, final_message: Any = None) -> Step:
        """Give the card back, then end with ``status`` and its message."""
        msg = final_message if isinstance(final_message, Mapping) else END_MESSAGES.get(status)
        if msg is None:
            msg = message("error", "error.generic.title", "error.generic.body")
        self._end = (status, {"message": dict(msg)})
        self.state = "returning"
        return self.start_child(
            CardReturn(
                self.pan_masked,
                self.config.take_card_timeout_s,
                self.config.take_card_warning_s,
                reason=status,
                pan=self._pan,
            )
        )

    def _retain(self, reason_key: str) -> Step:
        self.retain_reason = reason_key
        return self.go("retaining", "card_wait", message_key="card.wait.retaining").then(
            self.run("card_reader.capture", journal={"pan": self.pan_masked, "reason": reason_key})
        )

    def on_retaining(self, event: Event) -> Step:
        if event.kind != "card_reader.capture.done":
            return NOTHING
        self.card_inside = not event.ok
        if not event.ok:
            # The bank already marked the card retained; the reader could not take it in.
            return self.finish(
                "failed", code=event.code, message=message("error", "card.stuck.title", "card.stuck.body")
            )
        if self.session is not None and not self.session.printer_ok:
            return self._retained_done(printed=False)
        return self.go("retain_printing", "card_wait", message_key="card.wait.printing").then(
            self.run(
                "printer.print",
                kind="retain",
                lang=self.lang,
                pan_masked=self.pan_masked,
                data={"reason_key": self.retain_reason},
                journal={"receipt": "retain", "pan": self.pan_masked},
            )
        )

    def on_retain_printing(self, event: Event) -> Step:
        if event.kind != "printer.print.done":
            return NOTHING
        return self._retained_done(printed=event.ok)

    def _retained_done(self, printed: bool) -> Step:
        body = "retain.pin.body" if printed else "retain.pin.body_no_receipt"
        return self.finish("retained", message=message("warning", "retain.pin.title", body))

    def _device_failed(self, code: str) -> Step:
        msg = message("error", "error.card_reader.title", "error.card_reader.body")
        if self.card_inside:
            return self._return_card("failed", msg)
        return self.finish("failed", code=code, message=msg)

    # -- cancel and timeout -------------------------------------------------------------------------
    def cancel(self) -> Step:
        if self.state in ("returning", "retaining", "retain_printing"):
            return NOTHING
        if self.card_inside:
            return self._return_card("cancelled")
        return self.finish("cancelled")

    def on_timeout(self) -> Step:
        if self.state in ("returning", "retaining", "retain_printing"):
            return NOTHING
        if self.card_inside:
            return self._return_card("timeout")
        return self.finish("timeout")
