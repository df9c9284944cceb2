"""What every money movement at the kiosk does once the customer confirms it (transfers, bill payments).

One idempotency key per confirmation (a PIN re-entry or a retried bank call reuses it, so nothing posts
twice), and a PIN re-entry on the PIN pad when the amount reaches the threshold — which needs the card, so
a face-login session is told to use it.
"""

from __future__ import annotations

from hostlink.redaction import key_token
from kiosk.journeys.core import Journey, Outcome, Step
from kiosk.journeys.pin_entry import PinEntry
from kiosk.journeys.session import CustomerSession, SessionConfig, SessionJourney


class ConfirmedMovement(SessionJourney):
    """Base for journeys that move money. Subclasses implement :meth:`_confirm` (show the confirmation
    screen again) and :meth:`_post` (send the movement to the bank with ``self.idempotency_key``)."""

    def __init__(self, session: CustomerSession, config: SessionConfig) -> None:
        super().__init__()
        self.session = session
        self.config = config
        self.amount_minor = 0
        self.idempotency_key = ""

    def pin_required(self) -> bool:
        return self.amount_minor >= self.config.pin_reentry_threshold_minor

    def confirmed(self) -> Step:
        """The customer pressed Confirm on the confirmation screen."""
        if not self.idempotency_key:
            self.idempotency_key = f"{self.session.session_id}:{key_token()}"
        if self.pin_required():
            if not self.session.has_card:
                return self.notice("warning", "transfer.needs_card.title", "transfer.needs_card.body")
            self.state = "pin_reentry"
            return self.start_child(
                PinEntry(
                    self.session.pan,
                    self.session.pan_masked,
                    tries_left=3,
                    timeout_s=self.config.pin_timeout_s,
                    session_id=self.session.session_id,
                    reentry=True,
                )
            )
        return self._post()

    def on_child_done(self, child: Journey, outcome: Outcome) -> Step:
        if outcome.status == "ok":
            return self._post()
        if outcome.status == "cancelled":
            return self._confirm()
        return self.finish(outcome.status, **outcome.data)

    def _confirm(self) -> Step:
        raise NotImplementedError

    def _post(self) -> Step:
        raise NotImplementedError
