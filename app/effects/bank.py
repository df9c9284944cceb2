"""Bank and HSM effects, run on the worker pool: card look-up, PIN check, accounts, enquiries, transfers.

Results go back to the journeys as plain dicts (minor units, ISO dates, masked numbers). A PIN block is
handed from the effect's params straight to the PIN service and dropped; nothing here logs it.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from datetime import date
from typing import Any

from app.effects import EffectContext, handler
from bank.ledger import TransferOutcome, TransferRefused
from bank.service import EnquiryRefused, StatementLine
from hostlink.money import Money

log = logging.getLogger(__name__)


def _background(ctx: EffectContext, work: Callable[[Any], Any]) -> None:
    services = ctx.services
    ctx.in_background(lambda: work(services))


def _line(line: StatementLine) -> dict[str, Any]:
    return {
        "date": line.when.strftime("%Y-%m-%d"),
        "description": line.description,
        "amount_minor": line.amount.minor,
        "balance_minor": line.balance_after.minor,
    }


@handler("bank.card_lookup")
def card_lookup(ctx: EffectContext) -> None:
    pan = str(ctx.params["pan"])

    def work(services: Any) -> dict[str, Any] | None:
        card = services.bank.card_by_pan(pan)
        if card is None:
            return None
        account = services.bank.account(card.account_id)
        tries = services.settings.security.pin_tries
        return {
            "card_id": card.card_id,
            "status": card.status,
            "expiry": card.expiry,
            "customer_id": card.customer_id,
            "account_id": card.account_id,
            "account_masked": account.masked_number if account else "",
            "has_pin": card.pvv is not None,
            "tries_left": max(0, tries - card.pin_failures),
        }

    _background(ctx, work)


@handler("security.check_pin")
def check_pin(ctx: EffectContext) -> None:
    pan = str(ctx.params["pan"])
    block = ctx.params["pin_block"]
    session_id = str(ctx.params.get("session_id") or "") or None

    def work(services: Any) -> dict[str, Any]:
        result = services.pins.check_pin(pan, bytes(block), session_id=session_id)
        return {"outcome": result.outcome.value, "tries_left": result.tries_left}

    _background(ctx, work)


@handler("bank.accounts")
def accounts(ctx: EffectContext) -> None:
    customer_id = int(ctx.params["customer_id"])

    def work(services: Any) -> list[dict[str, Any]]:
        return [
            {
                "account_id": a.account_id,
                "masked": a.masked_number,
                "kind": a.kind,
                "status": a.status,
                "available_minor": a.available.minor,
            }
            for a in services.bank.accounts_of_customer(customer_id)
        ]

    _background(ctx, work)


@handler("bank.balance")
def balance(ctx: EffectContext) -> None:
    account_id = int(ctx.params["account_id"])

    def work(services: Any) -> dict[str, Any]:
        result = services.bank.balance(account_id)
        if isinstance(result, EnquiryRefused):
            raise LookupError(result.reason.value)
        return {
            "ledger_minor": result.ledger.minor,
            "available_minor": result.available.minor,
            "pending_minor": result.pending.minor,
            "overdraft_minor": result.overdraft_limit.minor,
            "status": result.status,
        }

    _background(ctx, work)


@handler("bank.mini_statement")
def mini_statement(ctx: EffectContext) -> None:
    account_id = int(ctx.params["account_id"])

    def work(services: Any) -> dict[str, Any]:
        result = services.bank.mini_statement(account_id)
        if isinstance(result, EnquiryRefused):
            raise LookupError(result.reason.value)
        return {"lines": [_line(line) for line in result.lines]}

    _background(ctx, work)


@handler("bank.history")
def history(ctx: EffectContext) -> None:
    p = ctx.params
    account_id, before = int(p["account_id"]), p.get("before")
    start, end = date.fromisoformat(str(p["start"])), date.fromisoformat(str(p["end"]))
    page_size = int(p.get("page_size", 8))

    def work(services: Any) -> dict[str, Any]:
        result = services.bank.history(
            account_id, start, end, page_size=page_size, before=None if before is None else int(before)
        )
        if isinstance(result, EnquiryRefused):
            return {"refused": result.reason.value, "lines": [], "next_cursor": None}
        return {"lines": [_line(line) for line in result.lines], "next_cursor": result.next_cursor}

    _background(ctx, work)


def reference_of(transfer_id: int) -> str:
    """The number the customer quotes: ``TR`` and the transfer id, zero-padded."""
    return f"TR{transfer_id:010d}"


@handler("bank.transfer")
def transfer(ctx: EffectContext) -> None:
    p = dict(ctx.params)
    key = str(p["idempotency_key"])

    def post(services: Any) -> Any:
        bank = services.bank
        amount = Money(int(p["amount_minor"]), str(p.get("currency", "CNY")))
        kind = p["kind"]
        if kind == "own":
            return bank.transfer_own(key, int(p["from_account_id"]), int(p["to_account_id"]), amount)
        if kind == "customer":
            return bank.transfer_to_customer(
                key, int(p["from_account_id"]), str(p["payee_account"]), str(p["payee_name"]), amount
            )
        if kind == "other_bank":
            return bank.transfer_other_bank(
                key,
                int(p["from_account_id"]),
                str(p["bank_code"]),
                str(p["payee_account"]),
                str(p["payee_name"]),
                amount,
            )
        raise ValueError(f"unknown transfer kind {kind!r}")

    def work(services: Any) -> dict[str, Any]:
        try:
            result = post(services)
        except Exception as exc:
            # Did anything post? The ledger answers by the idempotency key (nothing half-done).
            log.error("transfer %s failed: %s", key, exc)
            try:
                replay = services.bank.ledger.replay(key)
            except Exception:
                log.exception("transfer %s: the ledger could not be asked either", key)
                raise exc from None
            if replay is None:
                return {"posted": False, "error": type(exc).__name__}
            result = replay
        if isinstance(result, TransferRefused):
            return {"refused": result.reason.value}
        assert isinstance(result, TransferOutcome)
        return {
            "reference": reference_of(result.transfer_id),
            "transfer_id": result.transfer_id,
            "status": result.status.value,
            "fee_minor": result.fee_minor,
            "replayed": result.replayed,
        }

    def finished(ok: bool, payload: Any) -> None:
        # The code and detail are what the journal's transfer outcome says: the dispute team must tell a
        # posted transfer (with its reference) from a refused one without opening the ledger.
        if ok and isinstance(payload, dict) and payload.get("posted") is False:
            ctx.done(False, payload, "not_posted", str(payload.get("error", "")))
        elif ok and isinstance(payload, dict) and payload.get("refused"):
            ctx.done(True, payload, "refused", str(payload["refused"]))
        elif ok and isinstance(payload, dict):
            ctx.done(
                True, payload, detail=f"{payload.get('reference', '')} {payload.get('status', '')}".strip()
            )
        elif ok:
            ctx.done(True, payload)
        else:
            ctx.done(False, {}, "unknown", str(payload))

    ctx.spawn(lambda: work(ctx.services), finished)
