"""End of a card session: the card goes back to the gate with a take-card countdown, or is captured.

The reader's eject waits ``take_card_timeout_s`` for the customer to take the card; the screen counts
down and switches to a warning (and a beep) for the last ``take_card_warning_s``. A card not taken in
time is captured to the retain bin (journaled like the eject), because a card left in the gate is the
next person's to take. A jammed reader ends ``failed``: the card is stuck, the journal says so, and the
customer is told to ask the staff.

Outcomes: ``taken``; ``retained`` (not taken, captured); ``failed`` (eject or capture failed).
"""

from __future__ import annotations

from kiosk.journeys.core import NOTHING, Event, Step
from kiosk.journeys.session import SessionJourney


class CardReturn(SessionJourney):
    name = "card_return"

    def __init__(
        self, pan_masked: str, take_timeout_s: float, warning_s: float, reason: str = "end", pan: str = ""
    ) -> None:
        super().__init__()
        self.pan_masked = pan_masked
        self._pan = pan  # memory only: the capture advises the bank (ISO 8583 0120) of the retained card
        self.take_timeout_s = take_timeout_s
        self.warning_s = warning_s
        self.reason = reason

    def on_start(self) -> Step:
        return self.go(
            "card_take", countdown_s=self.take_timeout_s, warning_s=self.warning_s, reason=self.reason
        ).then(
            self.run(
                "card_reader.eject",
                take_timeout=self.take_timeout_s,
                journal={"pan": self.pan_masked, "reason": self.reason},
            )
        )

    def on_card_take(self, event: Event) -> Step:
        if event.kind != "card_reader.eject.done":
            return NOTHING
        if event.ok:
            return self.finish("taken")
        if event.code == "timeout":
            return self.go("card_capturing", "card_wait", message_key="card.wait.retaining").then(
                self.run(
                    "card_reader.capture",
                    pan=self._pan,
                    advice="not_taken",
                    journal={"pan": self.pan_masked, "reason": "not_taken"},
                )
            )
        return self.finish("failed", code=event.code)

    def on_card_capturing(self, event: Event) -> Step:
        if event.kind != "card_reader.capture.done":
            return NOTHING
        if event.ok:
            return self.finish("retained")
        if event.code == "no_media":
            return self.finish("taken")  # taken in the last moment, between the eject's end and capture
        return self.finish("failed", code=event.code)

    def on_timeout(self) -> Step:
        return NOTHING  # the take-card countdown is the only clock here

    def cancel(self) -> Step:
        return NOTHING  # nothing to cancel: the card is on its way out
