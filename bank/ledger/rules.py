"""The ledger's rules, pure: no database, no clock, no state of their own.

_request_problem screens a request before either path runs. The account rules read account rows as dicts
(locked by the caller) and pass, count the day's limit use in the dict, or raise _Refusal; the general path
applies them to every transfer the database's own transfer (migration 0009) declined, or to all of them
when a Ledger is made with ``server_transfers=False``. bank_day_of is the day a moment is booked on;
is_retryable sorts a database error into "try again" or not."""

from __future__ import annotations

from datetime import date, datetime, tzinfo
from typing import Any

from bank.ledger.types import BANK_TIMEZONE, RefusalReason, TransferRefused, TransferRequest, _Refusal
from bank.models import AccountKind, AccountStatus


def bank_day_of(moment: datetime, tz: tzinfo = BANK_TIMEZONE) -> date:
    """The bank day ``moment`` falls on in the bank's time zone ``tz``."""
    return moment.astimezone(tz).date()


def is_retryable(exc: BaseException) -> bool:
    """Serialisation failure / deadlock (PostgreSQL) or a busy database (SQLite): try again."""
    orig = getattr(exc, "orig", None)
    sqlstate = getattr(orig, "sqlstate", None)
    if sqlstate in ("40001", "40P01"):
        return True
    text = str(orig or exc).lower()
    return "database is locked" in text or "database is busy" in text


def _request_problem(request: TransferRequest) -> TransferRefused | None:
    if not isinstance(request.amount_minor, int) or request.amount_minor <= 0 or request.fee_minor < 0:
        return TransferRefused(RefusalReason.INVALID_AMOUNT, "the amount must be positive")
    if request.debit_account_id == request.credit_account_id:
        return TransferRefused(RefusalReason.SAME_ACCOUNT, "payer and payee are the same account")
    if not request.idempotency_key or len(request.idempotency_key) > 64:
        return TransferRefused(
            RefusalReason.INVALID_AMOUNT, "an idempotency key of 1-64 characters is needed"
        )
    return None


def _check_can_pay(account: dict[str, Any], request: TransferRequest) -> None:
    if account["currency"] != request.currency:
        raise _Refusal(RefusalReason.CURRENCY_MISMATCH, f"account is in {account['currency']}")
    if account["status"] == AccountStatus.FROZEN:
        raise _Refusal(RefusalReason.ACCOUNT_FROZEN, "the account is frozen")
    if account["status"] == AccountStatus.CLOSED:
        raise _Refusal(RefusalReason.ACCOUNT_CLOSED, "the account is closed")
    if account["kind"] == AccountKind.INTERNAL:
        return  # the bank's own books (funding, clearing) may run negative
    overdraft = account["overdraft_limit_minor"] if account["overdraft_allowed"] else 0
    available = account["balance_minor"] - account["pending_debits_minor"] + overdraft
    if request.hold_minor > available:
        raise _Refusal(
            RefusalReason.INSUFFICIENT_FUNDS, f"available {available}, needed {request.hold_minor}"
        )


def _check_can_receive(account: dict[str, Any], request: TransferRequest) -> None:
    if account["currency"] != request.currency:
        raise _Refusal(RefusalReason.CURRENCY_MISMATCH, f"payee account is in {account['currency']}")
    if account["status"] == AccountStatus.FROZEN:
        raise _Refusal(RefusalReason.PAYEE_ACCOUNT_FROZEN, "the payee account is frozen")
    if account["status"] == AccountStatus.CLOSED:
        raise _Refusal(RefusalReason.PAYEE_ACCOUNT_CLOSED, "the payee account is closed")


def _use_daily_limits(account: dict[str, Any], amount_minor: int, bank_day: date) -> None:
    if account["limit_day"] != bank_day:
        account["limit_day"], account["day_amount_minor"], account["day_count"] = bank_day, 0, 0
    if account["day_count"] + 1 > account["daily_transfer_count_limit"]:
        raise _Refusal(RefusalReason.DAILY_COUNT_LIMIT, f"{account['day_count']} transfers today already")
    if account["day_amount_minor"] + amount_minor > account["daily_transfer_limit_minor"]:
        left = account["daily_transfer_limit_minor"] - account["day_amount_minor"]
        raise _Refusal(RefusalReason.DAILY_LIMIT, f"{left} left of today's limit")
    account["day_amount_minor"] += amount_minor
    account["day_count"] += 1
