"""PIN pad effects: enciphered PIN entry (``*`` per key as events) and clear-text amount entry."""

from __future__ import annotations

from typing import Any

from app.effects import EffectContext, handler


def _pad(ctx: EffectContext) -> Any:
    pad = ctx.devices.pin_pad if ctx.devices is not None else None
    if pad is None:
        ctx.done(False, code="offline", detail="no PIN pad configured")
    return pad


@handler("pin_pad.get_pin")
def get_pin(ctx: EffectContext) -> None:
    pad = _pad(ctx)
    if pad is None:
        return
    p = ctx.params
    # The result is the enciphered block: it goes to the journey and from there straight to the HSM.
    ctx.watch(
        pad.get_pin(
            int(p.get("min_len", 4)), int(p.get("max_len", 6)), float(p.get("timeout", 30.0)), str(p["pan"])
        )
    )


@handler("pin_pad.get_amount")
def get_amount(ctx: EffectContext) -> None:
    pad = _pad(ctx)
    if pad is not None:
        p = ctx.params
        ctx.watch(pad.get_amount(int(p.get("max_digits", 9)), float(p.get("timeout", 60.0))))
