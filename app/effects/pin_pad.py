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

    def entry() -> None:
        # The result is the enciphered block: it goes to the journey and from there straight to the HSM.
        ctx.watch(
            pad.get_pin(
                int(p.get("min_len", 4)),
                int(p.get("max_len", 6)),
                float(p.get("timeout", 30.0)),
                str(p["pan"]),
            )
        )

    link = ctx.services.cardlink if ctx.services is not None else None
    if link is None or link.signed_on:
        entry()
        return

    def signed_on(ok: bool, payload: Any) -> None:
        # The block must be under the session TPK the host will use, so sign on before the entry.
        if ctx.token.cancelled or ctx.finished:
            return
        if ok:
            entry()
        else:
            ctx.done(False, None, "host_unavailable", f"ISO 8583 sign-on failed: {payload}")

    ctx.spawn(link.ensure_signed_on, signed_on)


@handler("pin_pad.get_amount")
def get_amount(ctx: EffectContext) -> None:
    pad = _pad(ctx)
    if pad is not None:
        p = ctx.params
        ctx.watch(pad.get_amount(int(p.get("max_digits", 9)), float(p.get("timeout", 60.0))))
