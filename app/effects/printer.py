"""Printer effects: is it ready (paper, cover, link), and print a journey's receipt.

A journey asks for a receipt by kind and data (``kiosk.journeys.receipts``); the receipt is built here
with the kiosk's clock and mapped onto the device layer's :class:`~devices.printer.layout.ReceiptDocument`.
Its text is also kept in ``<data dir>/receipts/`` for the demo and the dispute team (masked PAN only).
"""

from __future__ import annotations

import logging
import secrets
from typing import Any

from app.effects import EffectContext, handler
from devices.base import Completion, Result
from devices.printer.interface import ReceiptPrinter
from devices.printer.layout import ReceiptDocument, ReceiptLine
from hostlink.chaos import crash_point
from hostlink.paths import write_private
from hostlink.redaction import redact
from kiosk.journeys.receipts import Receipt, build_receipt

log = logging.getLogger(__name__)


def _printer(ctx: EffectContext) -> ReceiptPrinter | None:
    return ctx.devices.printer if ctx.devices is not None else None


def to_document(receipt: Receipt, bank_name: str, kiosk_id: str) -> ReceiptDocument:
    return ReceiptDocument(
        bank_name=bank_name,
        kiosk_id=kiosk_id,
        date=receipt.date,
        reference=receipt.reference,
        masked_pan=receipt.masked_pan,
        title=receipt.title,
        lines=tuple(ReceiptLine(label, value) for label, value in receipt.lines),
        amounts=tuple(ReceiptLine(label, value) for label, value in receipt.amounts),
        qr_payload=receipt.qr_payload,
        footer=receipt.footer,
        language="zh" if receipt.language == "zh_CN" else "en",
    )


@handler("printer.status")
def status(ctx: EffectContext) -> None:
    printer = _printer(ctx)
    if printer is None:
        ctx.done(True, {"ready": False, "reason": "not_configured"})
        return

    def convert(result: Result[Any]) -> dict[str, Any]:
        st = result.value
        if not result.ok or st is None:
            return {"ready": False, "reason": str(result.code)}
        problem = getattr(st, "paper_out", False) or getattr(st, "cover_open", False)
        problem = problem or getattr(st, "offline", False) or getattr(st, "error", False)
        return {"ready": not problem, "reason": "" if not problem else "not_ready"}

    # Always "done ok": a printer that cannot print is an answer (continue without a receipt).
    printer.query_status().add_done_callback(lambda result: ctx.done(True, convert(result)))


@handler("printer.print")
def print_receipt(ctx: EffectContext) -> None:
    printer = _printer(ctx)
    if printer is None:
        ctx.done(False, code=str(Completion.OFFLINE), detail="no printer configured")
        return
    services = ctx.services
    settings = services.settings
    p = ctx.params
    reference = str(p.get("reference") or f"R{secrets.token_hex(4).upper()}")
    try:
        receipt = build_receipt(
            str(p["kind"]),
            str(p.get("lang", "en")),
            services.now_local(),
            reference,
            str(p.get("pan_masked", "")),
            dict(p.get("data", {})),
            settings.currency,
        )
        document = to_document(receipt, settings.bank_name, settings.kiosk_id)
    except (KeyError, ValueError) as exc:
        log.error("receipt %s could not be built: %s", p.get("kind"), exc)
        ctx.done(False, code=str(Completion.INVALID_DATA), detail=str(exc))
        return
    _keep_copy(services, receipt)

    def convert(result: Result[Any]) -> dict[str, Any]:
        crash_point("print.after")  # printed (or not); the outcome is not journaled yet
        return {"reference": reference, "text": receipt.as_text()}

    crash_point("print.before")
    ctx.watch(printer.print_receipt(document), convert)


def _keep_copy(services: Any, receipt: Receipt) -> None:
    try:
        path = services.receipts_dir / f"{receipt.kind}-{receipt.reference}.txt"
        # Masked already (PAN, accounts, names); redact() again in case a journey's data slipped through.
        write_private(path, (redact(receipt.as_text()) + "\n").encode("utf-8"))
    except OSError as exc:  # a copy is a convenience; the paper receipt is what counts
        log.warning("receipt copy not written: %s", exc)
