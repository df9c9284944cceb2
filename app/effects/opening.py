"""Account opening and face login services: the bank, the HSM and the PIN pad for a new card.

Bank and HSM work runs on the worker pool (``ctx.in_background``); the PIN pad through its driver's
operations. Journal records name what happened with masked numbers only.

``opening.set_pin`` runs both PIN entries itself so the journey never holds a PIN block: the first block
waits here while the customer types the second, then both go straight to the HSM
(:meth:`bank.security.pins.PinService.set_pin` compares them, refuses weak PINs and stores only the PVV).
"""

from __future__ import annotations

import datetime as dt
import logging
import secrets
from typing import Any

from app.effects import EffectContext, handler
from bank.models import AccountKind, CardStatus
from bank.opening import AccountOpened, OpeningRequest
from bank.security.pins import SetPin
from devices.base import Completion, Result
from devices.printer.layout import ReceiptDocument, ReceiptLine
from kiosk.i18n import tr
from kiosk.journeys.face_login import find_customer
from kiosk.journeys.opening import is_customer, void_opening

log = logging.getLogger(__name__)


def _record(ctx: EffectContext, event: str, **fields: Any) -> None:
    ctx.services.journal.record(event, session_id=ctx.params.get("session_id"), **fields)


def _masked_account(number: str) -> str:
    return f"****{number[-4:]}"


@handler("opening.is_customer")
def check_customer(ctx: EffectContext) -> None:
    services = ctx.services
    number = str(ctx.params["id_number"])
    ctx.in_background(lambda: is_customer(services.engine, services.vault, number))


@handler("opening.open_account")
def open_new_account(ctx: EffectContext) -> None:
    services, p = ctx.services, ctx.params
    expiry = p.get("id_expiry")
    request = OpeningRequest(
        name=str(p["name"]),
        id_number=str(p["id_number"]),
        id_expiry=dt.date.fromisoformat(str(expiry)) if expiry else None,
        phone=str(p["phone"]),
        address=str(p["address"]),
        occupation=str(p.get("occupation", "")),
        photo=p.get("photo"),
        face_template=p.get("face_template"),
        account_kind=AccountKind(str(p["account_kind"])),
        currency=services.settings.currency,
    )

    def work() -> dict[str, Any]:
        result = services.open_account(request)
        if not isinstance(result, AccountOpened):
            _record(ctx, "account_opening_refused", reason=result.reason.value)
            return {"refused": result.reason.value}
        _record(
            ctx,
            "account_opened",
            customer_id=result.customer_id,
            account=_masked_account(result.account_number),
            card_id=result.card_id,
            pan_masked=result.pan_masked,
            account_kind=request.account_kind.value,
            face_enrolled=request.face_template is not None,
        )
        return {
            "customer_id": result.customer_id,
            "account_id": result.account_id,
            "card_id": result.card_id,
            "account_number": result.account_number,
            "pan": result.pan,  # for the PIN blocks and track 2; kept in the journey's memory only
            "pan_masked": result.pan_masked,
            "card_expiry": result.card_expiry,
        }

    ctx.in_background(work)


@handler("opening.set_pin")
def set_new_pin(ctx: EffectContext) -> None:
    """First entry, "again" prompt, second entry, then the HSM. Value ``"ok"``; else code = the refusal."""
    pad = ctx.devices.get("pin_pad") if ctx.devices is not None else None
    if pad is None:
        ctx.done(False, code=str(Completion.OFFLINE), detail="no PIN pad configured")
        return
    p = ctx.params
    pan = str(p["pan"])
    low, high, timeout = int(p.get("min_len", 4)), int(p.get("max_len", 6)), float(p.get("timeout", 30.0))
    services = ctx.services
    current: list[Any] = []

    def cancel_current() -> None:
        for op in current:
            op.cancel()

    ctx._cancel_hooks.append(cancel_current)

    def on_key(event: Any) -> None:
        # Relayed here (not from the app's device forwarding) so dots and the stage change stay in order.
        if event.kind == "key_pressed" and event.data.get("mode") == "pin" and not ctx.finished:
            ctx.progress("opening.pin_key", key=str(event.data.get("key", "")))

    unsubscribe = pad.subscribe(on_key)
    ctx._cancel_hooks.append(unsubscribe)

    def entry(then: Any) -> None:
        op = pad.get_pin(low, high, timeout, pan)
        current[:] = [op]
        op.add_done_callback(then)

    def fail(result: Result[Any]) -> None:
        unsubscribe()
        ctx.done(False, code=str(result.code), detail=result.detail)

    def after_first(first: Result[bytes]) -> None:
        if not first.ok or first.value is None:
            fail(first)
            return
        if ctx.token.cancelled:
            return
        ctx.progress("opening.pin_stage", stage="confirm")

        def after_second(second: Result[bytes]) -> None:
            if not second.ok or second.value is None:
                fail(second)
                return
            first_block, second_block = first.value, second.value
            assert first_block is not None and second_block is not None
            # On the pad's I/O thread, which has nothing else to do now: the HSM and one row update take
            # milliseconds, and Qt's pool may only be used from the GUI thread.
            try:
                outcome = services.pins.set_pin(
                    pan, first_block, second_block, session_id=p.get("session_id")
                )
            except Exception as exc:
                log.exception("setting the new PIN failed")
                ctx.done(False, code="error", detail=type(exc).__name__)
                return
            unsubscribe()
            if outcome is SetPin.OK:
                ctx.done(True, "ok")
            else:
                ctx.done(False, str(outcome.value), code=str(outcome.value))

        entry(after_second)

    entry(after_first)


@handler("opening.activate_card")
def activate_card(ctx: EffectContext) -> None:
    services = ctx.services
    card_id = int(ctx.params["card_id"])

    def work() -> bool:
        ok = bool(services.bank.set_card_status(card_id, CardStatus.ACTIVE))
        _record(ctx, "card_issued" if ok else "card_activation_failed", card_id=card_id)
        if not ok:
            raise RuntimeError(f"card {card_id} not found")
        return ok

    ctx.in_background(work)


@handler("opening.void")
def void(ctx: EffectContext) -> None:
    services, p = ctx.services, ctx.params

    def work() -> bool:
        voided = void_opening(services.engine, int(p["customer_id"]), int(p["account_id"]), int(p["card_id"]))
        _record(
            ctx,
            "account_opening_voided" if voided else "account_opening_void_refused",
            customer_id=int(p["customer_id"]),
            card_id=int(p["card_id"]),
            reason=str(p.get("reason", "")),
        )
        return voided

    ctx.in_background(work)


def opening_receipt_document(params: Any, settings: Any, now: dt.datetime, reference: str) -> ReceiptDocument:
    lang = str(params.get("lang", "en"))
    kind_key = f"opening.type.{params.get('account_kind', 'current')}"
    return ReceiptDocument(
        bank_name=settings.bank_name,
        kiosk_id=settings.kiosk_id,
        date=now.strftime("%Y-%m-%d %H:%M:%S"),
        reference=reference,
        masked_pan=str(params.get("pan_masked", "")),
        title=tr("opening.receipt.title", lang),
        lines=(
            ReceiptLine(tr("opening.receipt.name", lang), str(params.get("name", ""))),
            # The customer's own new account number in full: the one thing this receipt is for.
            ReceiptLine(tr("opening.receipt.account", lang), str(params.get("account_number", ""))),
            ReceiptLine(tr("opening.receipt.kind", lang), tr(kind_key, lang)),
        ),
        footer=(tr("opening.receipt.footer", lang),),
        language="zh" if lang == "zh_CN" else "en",
    )


@handler("opening.print_receipt")
def print_receipt(ctx: EffectContext) -> None:
    printer = ctx.devices.get("printer") if ctx.devices is not None else None
    if printer is None:
        ctx.done(False, code=str(Completion.OFFLINE), detail="no printer configured")
        return
    services = ctx.services
    reference = f"O{secrets.token_hex(4).upper()}"
    document = opening_receipt_document(ctx.params, services.settings, services.now_local(), reference)
    try:
        text = "\n".join(
            [document.title, document.date]
            + [f"{line.label}: {line.value}" for line in document.lines]
            + ([f"{document.masked_pan}"] if document.masked_pan else [])
            + [reference, *document.footer]
        )
        (services.receipts_dir / f"account_opening-{reference}.txt").write_text(text + "\n", encoding="utf-8")
    except OSError as exc:  # the copy is a convenience; the paper receipt is what counts
        log.warning("receipt copy not written: %s", exc)
    ctx.watch(printer.print_receipt(document), lambda result: {"reference": reference})


@handler("face_login.find_customer")
def find(ctx: EffectContext) -> None:
    services, p = ctx.services, ctx.params
    mode, value = str(p["mode"]), str(p["value"])

    def work() -> dict[str, Any] | None:
        found = find_customer(services.engine, services.vault, mode, value)
        _record(ctx, "face_login_lookup", mode=mode, found=found is not None)
        return found

    ctx.in_background(work)
