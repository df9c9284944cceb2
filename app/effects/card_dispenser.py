"""Card dispenser effects: is it ready to issue, encode + present + wait for the take, capture.

The new card's track 2 (``;PAN=YYMM svc disc?`` with its LRC) is built here from the PAN and expiry the
bank gave the journey; the PAN is never logged or journaled (the journey journals the masked PAN only).
"""

from __future__ import annotations

from typing import Any

from app.effects import EffectContext, handler
from devices.base import Completion, DeviceEvent, DeviceState
from devices.card_dispenser.interface import CardDispenser
from devices.card_reader.tracks import TrackError, encode_track2
from hostlink.chaos import crash_point

SERVICE_CODE = "101"  # international, normal authorisation, no restrictions (magstripe debit card)


def _dispenser(ctx: EffectContext) -> CardDispenser | None:
    return ctx.devices.card_dispenser if ctx.devices is not None else None


@handler("card_dispenser.ready")
def ready(ctx: EffectContext) -> None:
    """Online, not jammed, stock not empty (from the driver's status, polled on its I/O thread)."""
    dispenser = _dispenser(ctx)
    if dispenser is None:
        ctx.done(False, code=str(Completion.OFFLINE), detail="no card dispenser configured")
        return
    status = dispenser.status()
    detail = status.detail
    if detail.get("jammed"):
        ctx.done(False, code=str(Completion.MEDIA_JAMMED), detail="dispenser jammed")
    elif status.state is not DeviceState.ONLINE:
        ctx.done(False, code=str(Completion.OFFLINE), detail=f"dispenser {status.state}")
    elif detail.get("stock") == "empty":
        ctx.done(False, code=str(Completion.STOCK_EMPTY), detail="no blank cards")
    else:
        ctx.done(True, {"stock": detail.get("stock", "")})


@handler("card_dispenser.dispense")
def dispense(ctx: EffectContext) -> None:
    """Encode and present; the value is True once the customer took the card (TIMEOUT if not)."""
    dispenser = _dispenser(ctx)
    if dispenser is None:
        ctx.done(False, code=str(Completion.OFFLINE), detail="no card dispenser configured")
        return
    try:
        track2 = encode_track2(str(ctx.params["pan"]), str(ctx.params["expiry"]), SERVICE_CODE)
    except (KeyError, TrackError) as exc:
        ctx.done(False, code=str(Completion.INVALID_DATA), detail=f"track 2: {type(exc).__name__}")
        return

    def on_event(event: DeviceEvent) -> None:
        if event.kind == "card_presented" and not ctx.finished:
            crash_point("dispense.presented")  # encoded and at the gate, not yet taken
            ctx.progress("card_dispenser.presented")  # the take-card countdown starts now

    def ended(_result: Any) -> None:
        unsubscribe()
        crash_point("dispense.after")  # taken (or captured); the outcome is not journaled yet

    unsubscribe = dispenser.subscribe(on_event)
    crash_point("dispense.before")
    op = dispenser.dispense(track2, take_timeout=float(ctx.params.get("take_timeout", 30.0)))
    op.add_done_callback(ended)
    ctx.watch(op)


@handler("card_dispenser.capture")
def capture(ctx: EffectContext) -> None:
    dispenser = _dispenser(ctx)
    if dispenser is None:
        ctx.done(False, code=str(Completion.OFFLINE), detail="no card dispenser configured")
        return
    ctx.watch(dispenser.capture())
