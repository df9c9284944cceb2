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
from app.effects.bank import iso_refusal
from app.effects.printer import _keep_copy, _printer, to_document
from devices.base import Completion, Result
from hostlink import api
from kiosk.billing.receipt import bill_receipt
from kiosk.cardlink import CardLink, CardLinkUnavailable
from kiosk.hostclient import HostUnavailable

log = logging.getLogger(__name__)


def schedule_dict(info: api.ScheduleView) -> dict[str, Any]:
    return info.model_dump()


@handler("billing.lookup")
def lookup(ctx: EffectContext) -> None:
    biller, number = str(ctx.params["biller"]), str(ctx.params["number"])

    host = ctx.services.host

    def work() -> dict[str, Any]:
        bill = host.bill_lookup(biller, number)
        if bill.refused:
            return {"refused": bill.refused}
        return bill.model_dump(exclude={"refused"})

    ctx.in_background(work)


@handler("billing.pay")
def pay(ctx: EffectContext) -> None:
    p = dict(ctx.params)
    key = str(p["idempotency_key"])
    session_id = str(p.get("session_id") or "") or None
    journal = ctx.services.journal
    intent = journal.intent("transfer", session_id=session_id, **dict(p.get("journal", {})))

    host = ctx.services.host
    order = api.BillPayment(
        idempotency_key=key,
        customer_id=int(p["customer_id"]),
        from_account_id=int(p["from_account_id"]),
        biller=str(p["biller"]),
        number=str(p["number"]),
        amount_minor=int(p["amount_minor"]),
        currency=str(p.get("currency", "CNY")),
    )

    link = ctx.services.cardlink
    pan = str(p.get("pan") or "")

    def over_iso(link: CardLink) -> dict[str, Any]:
        try:
            answer = link.pay_bill(
                pan,
                str(p.get("expiry") or ""),
                from_account_id=order.from_account_id,
                biller=order.biller,
                number=order.number,
                amount_minor=order.amount_minor,
                idempotency_key=key,
            )
        except CardLinkUnavailable as exc:
            log.error("bill payment %s: no answer over ISO 8583, reversed: %s", key, exc)
            return {"posted": False, "error": "host_unavailable", "reversed": True}
        if not answer.approved:
            return {"refused": iso_refusal(answer)}
        transfer = answer.extra.get("transfer", "")
        return {
            "reference": answer.extra.get("reference", ""),
            "transfer_id": int(transfer[2:]) if transfer[2:].isdigit() else 0,
            "amount_minor": order.amount_minor,
            "replayed": False,
        }

    def work() -> dict[str, Any]:
        if link is not None and pan:
            return over_iso(link)
        try:
            result = host.pay_bill(order)
        except HostUnavailable as exc:
            # Did the ledger post it? Ask by key (nothing half-done); a replay returns a posted payment.
            log.error("bill payment %s: no answer from the host: %s", key, exc)
            if host.bill_state(key).status == "not_posted":
                return {"posted": False, "error": "host_unavailable"}
            result = host.pay_bill(order)
        if result.refused:
            return {"refused": result.refused}
        return result.model_dump(exclude={"refused"})

    def finished(ok: bool, payload: Any) -> None:
        if ok and isinstance(payload, dict) and payload.get("reference"):
            journal.outcome(
                intent, "success", reference=payload["reference"], transfer_id=payload["transfer_id"]
            )
            ctx.done(True, payload)
        elif ok and isinstance(payload, dict) and payload.get("refused"):
            journal.outcome(intent, "refused", reason=payload["refused"])
            ctx.done(True, payload)
        elif ok and isinstance(payload, dict) and payload.get("reversed"):
            journal.outcome(intent, "reversed", detail=str(payload.get("error", "")))
            ctx.done(False, payload, "not_posted", str(payload.get("error", "")))
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
    host = ctx.services.host
    ctx.in_background(
        lambda: {"schedules": [schedule_dict(s) for s in host.schedules(customer_id).schedules]}
    )


@handler("billing.schedule_create")
def schedule_create(ctx: EffectContext) -> None:
    p = dict(ctx.params)

    services = ctx.services
    amount = p.get("amount_minor")
    order = api.ScheduleOrder(
        customer_id=int(p["customer_id"]),
        from_account_id=int(p["from_account_id"]),
        biller=str(p["biller"]),
        number=str(p["number"]),
        day_of_month=int(p["day_of_month"]),
        amount_minor=None if amount is None else int(amount),
        currency=str(p.get("currency", "CNY")),
    )
    key = api.new_idempotency_key(str(p.get("session_id") or ""))

    def work() -> dict[str, Any]:
        answer = services.host.create_schedule(order, key)
        if answer.refused or answer.schedule is None:
            return {"refused": answer.refused or "unknown"}
        info = answer.schedule
        ctx.services.journal.record(
            "bill_schedule_created",
            session_id=p.get("session_id"),
            schedule_id=info.schedule_id,
            biller=info.biller,
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

    services = ctx.services
    key = api.new_idempotency_key(str(p.get("session_id") or ""))

    def work() -> dict[str, Any]:
        answer = services.host.cancel_schedule(
            api.ScheduleCancel(customer_id=customer_id, schedule_id=schedule_id), key
        )
        ok = not answer.refused
        ctx.services.journal.record(
            "bill_schedule_cancelled" if ok else "bill_schedule_cancel_refused",
            session_id=p.get("session_id"),
            schedule_id=schedule_id,
        )
        return {
            "schedules": [schedule_dict(s) for s in services.host.schedules(customer_id).schedules],
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
