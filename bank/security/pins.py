"""PIN checks with a try counter per card, and setting the PIN of a new card.

The counter lives on the card row (``pin_failures``) so it survives restarts and counts across kiosks that
share one bank database; the row is locked for the check (``SELECT … FOR UPDATE`` on PostgreSQL, the
``BEGIN IMMEDIATE`` write lock on SQLite). ``settings.security.pin_tries`` wrong PINs in a row → the card
is set to ``retained`` and the result says RETAIN, so the journey captures it; a correct PIN resets the
counter. Every check is journaled (masked PAN, tries left — never the PIN block).
"""

from __future__ import annotations

import enum
from dataclasses import dataclass

from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker

from bank.audit import AuditPort
from bank.models import Card, CardStatus, pan_lookup_hash
from bank.security.hsm import HsmError, SimulatedHsm
from bank.security.vault import Vault


class PinCheck(enum.StrEnum):
    OK = "ok"
    WRONG = "wrong"  # tries left
    RETAIN = "retain"  # last try used: card now retained, capture it
    CARD_NOT_USABLE = "card_not_usable"  # retained, blocked or not yet issued
    NO_PIN = "no_pin"  # the card has no PIN set
    UNKNOWN_CARD = "unknown_card"


@dataclass(frozen=True)
class PinCheckResult:
    outcome: PinCheck
    tries_left: int
    card_id: int | None = None

    @property
    def ok(self) -> bool:
        return self.outcome is PinCheck.OK


class SetPin(enum.StrEnum):
    OK = "ok"
    MISMATCH = "mismatch"  # the two entries differ
    WEAK = "weak"  # 1111, 1234 and the like
    UNREADABLE = "unreadable"  # the PIN block could not be deciphered
    UNKNOWN_CARD = "unknown_card"


def apply_pin_result(card: Card, correct: bool, max_tries: int) -> PinCheckResult:
    """Update one card's counter and status for one check (the caller holds the row and commits)."""
    if correct:
        card.pin_failures = 0
        return PinCheckResult(PinCheck.OK, max_tries, card.id)
    card.pin_failures = (card.pin_failures or 0) + 1
    left = max(0, max_tries - card.pin_failures)
    if left == 0:
        card.status = CardStatus.RETAINED.value
        return PinCheckResult(PinCheck.RETAIN, 0, card.id)
    return PinCheckResult(PinCheck.WRONG, left, card.id)


class PinService:
    def __init__(
        self,
        hsm: SimulatedHsm,
        sessions: sessionmaker[Session],
        vault: Vault,
        journal: AuditPort | None = None,
        *,
        max_tries: int = 3,
    ) -> None:
        self._hsm = hsm
        self._sessions = sessions
        self._vault = vault
        self._journal = journal
        self._max_tries = max_tries

    def _card_for_update(self, db: Session, pan: str) -> Card | None:
        query = select(Card).where(Card.pan_hash == pan_lookup_hash(self._vault, pan)).with_for_update()
        return db.scalars(query).one_or_none()

    def check_pin(self, pan: str, pin_block: bytes, *, session_id: str | None = None) -> PinCheckResult:
        with self._sessions.begin() as db:
            card = self._card_for_update(db, pan)
            if card is None:
                result = PinCheckResult(PinCheck.UNKNOWN_CARD, 0)
                masked = None
            else:
                masked = card.pan_masked
                left = max(0, self._max_tries - (card.pin_failures or 0))
                if card.status != CardStatus.ACTIVE.value:
                    result = PinCheckResult(PinCheck.CARD_NOT_USABLE, left, card.id)
                elif card.pvv is None:
                    result = PinCheckResult(PinCheck.NO_PIN, left, card.id)
                else:
                    correct = self._hsm.verify_pin(pin_block, pan, card.pvv)
                    result = apply_pin_result(card, correct, self._max_tries)
        self._journal_check(result, masked, session_id)
        return result

    def _journal_check(self, result: PinCheckResult, masked: str | None, session_id: str | None) -> None:
        if self._journal is None:
            return
        event = {
            PinCheck.OK: "pin_verified",
            PinCheck.WRONG: "pin_wrong",
            PinCheck.RETAIN: "card_retained_pin_tries_exceeded",
        }.get(result.outcome, "pin_check_refused")
        self._journal.record(
            event,
            session_id=session_id,
            card_id=result.card_id,
            pan_masked=masked,
            outcome=result.outcome.value,
            tries_left=result.tries_left,
        )

    def set_pin(
        self, pan: str, pin_block: bytes, confirm_block: bytes, *, session_id: str | None = None
    ) -> SetPin:
        """A new card's PIN, entered twice: stores the PVV and clears the counter."""
        try:
            pvv = self._hsm.pvv_from_pin_block(pin_block, pan)  # raises on an undecipherable block
            if not self._hsm.pin_blocks_match(pin_block, confirm_block, pan):
                outcome = SetPin.MISMATCH
            elif self._hsm.is_weak_pin(pin_block, pan):
                outcome = SetPin.WEAK
            else:
                outcome = SetPin.OK
        except HsmError:
            outcome = SetPin.UNREADABLE
        card_id: int | None = None
        masked: str | None = None
        if outcome is SetPin.OK:
            with self._sessions.begin() as db:
                card = self._card_for_update(db, pan)
                if card is None:
                    outcome = SetPin.UNKNOWN_CARD
                else:
                    card.pvv, card.pin_failures = pvv, 0
                    card_id, masked = card.id, card.pan_masked
        if self._journal is not None:
            self._journal.record(
                "pin_set" if outcome is SetPin.OK else "pin_set_refused",
                session_id=session_id,
                card_id=card_id,
                pan_masked=masked,
                outcome=outcome.value,
            )
        return outcome
