"""Undoing a posted transfer once: the compensating transfer, under ``rev:<key>``, made when a terminal
reverses a transfer the host had posted (ISO 8583 0420) and when the switch acknowledges the reversal of
an other-bank transfer it had approved (0430 after an 0210 00)."""

from __future__ import annotations

from typing import Any

from bank.ledger import Ledger
from bank.ledger.types import TransferOutcome, TransferRefused, TransferRequest
from bank.models import InternalAccount, TransferKind

REVERSAL_CHANNEL = "reversal"
REVERSED_REASON = "reversed by the terminal"


def reversal_key(key: str) -> str:
    """The ledger key of the transfer that compensates the one posted under ``key``."""
    return f"rev:{key}"[:64]


def fee_refund_key(key: str) -> str:
    """The ledger key of the transfer that gives back the fee of the one posted under ``key``."""
    return f"rev-fee:{key}"[:64]


def compensate(ledger: Ledger, transfer: Any, kiosk_id: str) -> TransferOutcome | TransferRefused:
    """Post the mirror of ``transfer`` (a ``Transfer`` or a row of its table): the money goes back the
    way it came, and its fee from the fee account, once each (their keys make a repeat a replay). The
    mirror's outcome; a refused fee refund is the outcome instead (the back office settles it)."""
    key, reference = str(transfer.idempotency_key), f"TR{transfer.id:010d}"

    def back(
        idempotency_key: str, kind: TransferKind, debit: int, amount: int, text: str
    ) -> TransferOutcome | TransferRefused:
        return ledger.transfer(
            TransferRequest(
                idempotency_key=idempotency_key,
                kind=kind,
                debit_account_id=debit,
                credit_account_id=int(transfer.debit_account_id),
                amount_minor=amount,
                currency=str(transfer.currency),
                description=text,
                payee_description=text,
                kiosk_id=kiosk_id,
                channel=REVERSAL_CHANNEL,
            )
        )

    mirror = back(
        reversal_key(key),
        TransferKind(transfer.kind),
        int(transfer.credit_account_id),
        int(transfer.amount_minor),
        f"Reversal of {reference}",
    )
    fee = int(transfer.fee_minor or 0)
    if isinstance(mirror, TransferRefused) or not fee:
        return mirror
    fees = ledger.internal_account_id(InternalAccount.FEES)
    refund = back(fee_refund_key(key), TransferKind.INTERNAL, fees, fee, f"Fee refund, {reference}")
    return refund if isinstance(refund, TransferRefused) else mirror
