"""Bill-payment effects on the worker pool: look-up, pay (journaled intent/outcome), schedules, receipt.

``billing.pay`` journals a ``transfer`` intent with the idempotency key before the ledger call and its
outcome after, so crash recovery's transfer resolver settles a payment in flight by that key exactly as it
does a transfer (``BillingService.settle`` answers the same question). ``billing.print`` does the same
with a ``print`` intent. Results go back to the journey as plain dicts (masked numbers only).
"""

from __future__ import annotations

import logging
import secrets
from typing import Any

from app.effects import EffectContext, handler
from app.effects.printer import _keep_copy, _printer, to_document
from bank.billing.service import BillingService, BillPaid, BillRefused, ScheduleInfo
from devices.base import Completion, Result
from kiosk.billing.receipt import bill_receipt

log = logging.getLogger(__name__)


def billing_service(services: Any) -> BillingService:
    """Built per effect from the shared services (cheap: it shares the bank's ledger and engine)."""
    return BillingService(
        services.engine,
        services.vault,
        ledger=services.bank.ledger,
        clock=services.clock,
        kiosk_id=services.settings.kiosk_id,
        journal=services.journal,
    )


def schedule_dict(info: ScheduleInfo) -> dict[str, Any]:
    return {
        "schedule_id": info.schedule_id,
        "biller": info.biller_code,
        "account_masked": info.account_masked,
        "amount_minor": info.amount_minor,
        "day_of_month": info.day_of_month,
        "last_period": info.last_period,
        "last_result": info.last_result,
    }


@handler("billing.lookup")
def lookup(ctx: EffectContext) -> None:
    biller, number = str(ctx.params["biller"]), str(ctx.params["number"])

    def work() -> dict[str, Any]:
        bill = billing_service(ctx.services).lookup(biller, number)
        if isinstance(bill, BillRefused):
            return {"refused": bill.reason.value}
        return {
            "biller": bill.biller_code,
            "account_masked": bill.account_masked,
            "period": bill.period,
            "billed_minor": bill.billed_minor,
            "paid_minor": bill.paid_minor,
            "due_minor": bill.due_minor,
            "due_date": bill.due_date.isoformat() if bill.due_date else None,
            "topup_amounts_minor": list(bill.topup_amounts_minor),
        }

    ctx.in_background(work)


@handler("billing.pay")
def pay(ctx: EffectContext) -> None:
    p = dict(ctx.params)
    key = str(p["idempotency_key"])
    session_id = str(p.get("session_id") or "") or None
    journal = ctx.services.journal
    intent = journal.intent("transfer", session_id=session_id, **dict(p.get("journal", {})))

    def attempt(service: BillingService) -> BillPaid | BillRefused:
        return service.pay(
            key,
            customer_id=int(p["customer_id"]),
            from_account_id=int(p["from_account_id"]),
            biller_code=str(p["biller"]),
            number=str(p["number"]),
            amount_minor=int(p["amount_minor"]),
            currency=str(p.get("currency", "CNY")),
        )

    def work() -> dict[str, Any]:
        service = billing_service(ctx.services)
        try:
            result = attempt(service)
        except Exception as exc:
            # Did the ledger post it? Ask by key (nothing half-done); a replay records a posted payment.
            log.error("bill payment %s failed: %s", key, exc)
            if service.settle(key) == "not_posted":
                return {"posted": False, "error": type(exc).__name__}
            result = attempt(service)
        if isinstance(result, BillRefused):
            return {"refused": result.reason.value}
        return {
            "reference": result.reference,
            "transfer_id": result.transfer_id,
            "amount_minor": result.amount_minor,
            "replayed": result.replayed,
        }

    def finished(ok: bool, payload: Any) -> None:
        if ok and isinstance(payload, dict) and payload.get("reference"):
            journal.outcome(
                intent, "success", reference=payload["reference"], transfer_id=payload["transfer_id"]
            )
            ctx.done(True, payload)
        elif ok and isinstance(payload, dict) and payload.get("refused"):
            journal.outcome(intent, "refused", reason=payload["refused"])
            ctx.done(True, payload)
        elif ok and isinstance(payload, dict):
            journal.outcome(intent, "not_posted", detail=str(payload.get("error", "")))
            ctx.done(False, payload, "not_posted", str(payload.get("error", "")))
        else:
            # Unknown: the intent stays open for recovery to settle by the key at the next start.
            log.error("bill payment %s ended unknown: %s", key, payload)
            ctx.done(False, {}, "unknown", str(payload))

    ctx.spawn(work, finished)


@handler("billing.schedules")
def schedules(ctx: EffectContext) -> None:
    customer_id = int(ctx.params["customer_id"])
    ctx.in_background(
        lambda: {
            "schedules": [schedule_dict(s) for s in billing_service(ctx.services).schedules(customer_id)]
        }
    )


@handler("billing.schedule_create")
def schedule_create(ctx: EffectContext) -> None:
    p = dict(ctx.params)

    def work() -> dict[str, Any]:
        service = billing_service(ctx.services)
        amount = p.get("amount_minor")
        info = service.create_schedule(
            customer_id=int(p["customer_id"]),
            from_account_id=int(p["from_account_id"]),
            biller_code=str(p["biller"]),
            number=str(p["number"]),
            day_of_month=int(p["day_of_month"]),
            amount_minor=None if amount is None else int(amount),
            currency=str(p.get("currency", "CNY")),
        )
        if isinstance(info, BillRefused):
            return {"refused": info.reason.value}
        ctx.services.journal.record(
            "bill_schedule_created",
            session_id=p.get("session_id"),
            schedule_id=info.schedule_id,
            biller=info.biller_code,
            account=info.account_masked,
            day_of_month=info.day_of_month,
            amount_minor=info.amount_minor,
        )
        return schedule_dict(info)

    ctx.in_background(work)


@handler("billing.schedule_cancel")
def schedule_cancel(ctx: EffectContext) -> None:
    p = dict(ctx.params)
    customer_id, schedule_id = int(p["customer_id"]), int(p["schedule_id"])

    def work() -> dict[str, Any]:
        service = billing_service(ctx.services)
        info = service.cancel_schedule(customer_id, schedule_id)
        ok = not isinstance(info, BillRefused)
        ctx.services.journal.record(
            "bill_schedule_cancelled" if ok else "bill_schedule_cancel_refused",
            session_id=p.get("session_id"),
            schedule_id=schedule_id,
        )
        return {
            "schedules": [schedule_dict(s) for s in service.schedules(customer_id)],
            "cancelled": schedule_id if ok else None,
            "error": "" if ok else "billing.error.unknown_schedule",
        }

    ctx.in_background(work)


@handler("billing.print")
def print_bill_receipt(ctx: EffectContext) -> None:
    printer = _printer(ctx)
    if printer is None:
        ctx.done(False, code=str(Completion.OFFLINE), detail="no printer configured")
        return
    services = ctx.services
    p = ctx.params
    reference = str(p.get("reference") or f"R{secrets.token_hex(4).upper()}")
    try:
        receipt = bill_receipt(
            str(p.get("lang", "en")),
            services.now_local(),
            reference,
            str(p.get("pan_masked", "")),
            dict(p["data"]),
        )
        document = to_document(receipt, services.settings.bank_name, services.settings.kiosk_id)
    except (KeyError, ValueError) as exc:
        ctx.done(False, code=str(Completion.INVALID_DATA), detail=str(exc))
        return
    _keep_copy(services, receipt)
    journal = services.journal
    intent = journal.intent("print", session_id=p.get("session_id"), **dict(p.get("journal", {})))

    def convert(result: Result[Any]) -> dict[str, Any]:
        journal.outcome(intent, "success" if result.ok else str(result.code), detail=result.detail[:200])
        return {"reference": reference, "text": receipt.as_text()}

    ctx.watch(printer.print_receipt(document), convert)
