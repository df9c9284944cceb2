"""Account opening and face login effects: the bank host for the customer and card, the PIN pad for a PIN.

Host calls run on the worker pool (``ctx.in_background``); the PIN pad through its driver's operations.
Journal records name what happened with masked numbers only.

``opening.set_pin`` runs both PIN entries itself so the journey never holds a PIN block: the first block
waits here while the customer types the second, then both go to the host's HSM (which compares them,
refuses weak PINs and stores only the PVV).
"""

from __future__ import annotations

import base64
import datetime as dt
import logging
import secrets
from typing import Any, Literal

from app.effects import EffectContext, handler
from devices.base import Completion, Result
from devices.printer.layout import ReceiptDocument, ReceiptLine
from hostlink import api
from hostlink.paths import write_private
from hostlink.redaction import mask_account, mask_name, redact
from kiosk.banktime import format_stamp
from kiosk.hostclient import HostRefused
from kiosk.i18n import tr

log = logging.getLogger(__name__)


def _record(ctx: EffectContext, event: str, **fields: Any) -> None:
    ctx.services.journal.record(event, session_id=ctx.params.get("session_id"), **fields)


@handler("opening.is_customer")
def check_customer(ctx: EffectContext) -> None:
    host = ctx.services.host
    number = str(ctx.params["id_number"])
    ctx.in_background(lambda: host.is_customer(number))


@handler("opening.open_account")
def open_new_account(ctx: EffectContext) -> None:
    services, p = ctx.services, ctx.params
    expiry = p.get("id_expiry")
    photo = p.get("photo")
    template = p.get("face_template")
    order = api.OpeningOrder(
        idempotency_key=api.new_idempotency_key(str(p.get("session_id") or "")),
        name=str(p["name"]),
        id_number=str(p["id_number"]),
        id_expiry=str(expiry) if expiry else None,
        phone=str(p["phone"]),
        address=str(p["address"]),
        occupation=str(p.get("occupation", "")),
        photo_b64=base64.b64encode(bytes(photo)).decode("ascii") if photo else None,
        face_template=_template_numbers(template),
        account_kind=_account_kind(p["account_kind"]),
        currency=services.settings.currency,
    )

    def work() -> dict[str, Any]:
        result = services.host.open_account(order)
        if result.refused:
            _record(ctx, "account_opening_refused", reason=result.refused)
            return {"refused": result.refused}
        _record(
            ctx,
            "account_opened",
            customer_id=result.customer_id,
            account_id=result.account_id,
            account=mask_account(result.account_number),
            card_id=result.card_id,
            pan_masked=result.pan_masked,
            account_kind=order.account_kind,
            face_enrolled=order.face_template is not None,
        )
        # The PAN is for the PIN blocks and track 2: kept in the journey's memory only.
        return result.model_dump(exclude={"refused"})

    ctx.in_background(work)


def _template_numbers(template: Any) -> list[float] | None:
    """The enrolled template as the host takes it: 128 numbers (the worker gives 128 little-endian floats)."""
    if template is None:
        return None
    if isinstance(template, bytes | bytearray):
        import numpy as np

        return [float(x) for x in np.frombuffer(bytes(template), dtype="<f8")]
    return [float(x) for x in template]


@handler("opening.set_pin")
def set_new_pin(ctx: EffectContext) -> None:
    """First entry, "again" prompt, second entry, then the HSM. Value ``"ok"``; else code = the refusal."""
    pad = ctx.devices.pin_pad if ctx.devices is not None else None
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
            session_id = str(p.get("session_id") or "")
            try:
                outcome = services.host.set_pin(
                    pan, first_block, second_block, session_id, api.new_idempotency_key(session_id)
                ).outcome
            except Exception as exc:
                log.exception("setting the new PIN failed")
                ctx.done(False, code="error", detail=type(exc).__name__)
                return
            unsubscribe()
            _record(ctx, "pin_set" if outcome == "ok" else "pin_set_refused", outcome=outcome)
            if outcome == "ok":
                ctx.done(True, "ok")
            else:
                ctx.done(False, outcome, code=outcome)

        entry(after_second)

    entry(after_first)


@handler("opening.activate_card")
def activate_card(ctx: EffectContext) -> None:
    services = ctx.services
    card_id = int(ctx.params["card_id"])

    key = api.new_idempotency_key(str(ctx.params.get("session_id") or ""))

    def work() -> bool:
        try:
            ok = services.host.set_card_status(card_id, "active", "issued", key).ok
        except HostRefused as exc:
            ok = False
            detail = exc.code
        else:
            detail = ""
        _record(ctx, "card_issued" if ok else "card_activation_failed", card_id=card_id)
        if not ok:
            raise RuntimeError(f"card {card_id} not activated {detail}".strip())
        return ok

    ctx.in_background(work)


@handler("opening.void")
def void(ctx: EffectContext) -> None:
    services, p = ctx.services, ctx.params

    order = api.OpeningVoid(
        customer_id=int(p["customer_id"]),
        account_id=int(p["account_id"]),
        card_id=int(p["card_id"]),
        reason=str(p.get("reason", ""))[:64],
    )
    key = api.new_idempotency_key(str(p.get("session_id") or ""))

    def work() -> bool:
        voided = services.host.void_opening(order, key).voided
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
        date=format_stamp(now),
        reference=reference,
        masked_pan=str(params.get("pan_masked", "")),
        title=tr("opening.receipt.title", lang),
        lines=(
            # Masked like every name on paper and in the terminal's copy (the screen showed it in full).
            ReceiptLine(tr("opening.receipt.name", lang), mask_name(str(params.get("name", "")))),
            # The customer's own new account number in full: the one thing this receipt is for.
            ReceiptLine(tr("opening.receipt.account", lang), str(params.get("account_number", ""))),
            ReceiptLine(tr("opening.receipt.kind", lang), tr(kind_key, lang)),
        ),
        footer=(tr("opening.receipt.footer", lang),),
        language="zh" if lang == "zh_CN" else "en",
    )


@handler("opening.print_receipt")
def print_receipt(ctx: EffectContext) -> None:
    printer = ctx.devices.printer if ctx.devices is not None else None
    if printer is None:
        ctx.done(False, code=str(Completion.OFFLINE), detail="no printer configured")
        return
    services = ctx.services
    reference = f"O{secrets.token_hex(4).upper()}"
    document = opening_receipt_document(ctx.params, services.settings, services.now_local(), reference)
    try:
        # The copy at rest masks the account number the paper shows in full (the customer has the paper).
        account = str(ctx.params.get("account_number", "")) or None
        text = "\n".join(
            [document.title, document.date]
            + [
                f"{line.label}: {mask_account(line.value) if line.value == account else line.value}"
                for line in document.lines
            ]
            + ([f"{document.masked_pan}"] if document.masked_pan else [])
            + [reference, *document.footer]
        )
        copy = services.receipts_dir / f"account_opening-{reference}.txt"
        write_private(copy, (redact(text) + "\n").encode("utf-8"))
    except OSError as exc:  # the copy is a convenience; the paper receipt is what counts
        log.warning("receipt copy not written: %s", exc)
    ctx.watch(printer.print_receipt(document), lambda result: {"reference": reference})


@handler("face_login.find_customer")
def find(ctx: EffectContext) -> None:
    services, p = ctx.services, ctx.params
    mode, value = str(p["mode"]), str(p["value"])

    def work() -> dict[str, Any] | None:
        answer = services.host.find_customer(mode, value)
        _record(ctx, "face_login_lookup", mode=mode, found=answer.found)
        return answer.model_dump(exclude={"found"}) if answer.found else None

    ctx.in_background(work)


def _account_kind(value: Any) -> Literal["current", "savings"]:
    if value == "current":
        return "current"
    if value == "savings":
        return "savings"
    raise ValueError(f"account kind {value!r} is not current or savings")
