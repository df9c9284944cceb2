"""Card reader effects: wait for a card, read it, give it back, capture it."""

from __future__ import annotations

import logging
from typing import Any

from app.effects import EffectContext, handler
from devices.base import Result

log = logging.getLogger(__name__)


def _reader(ctx: EffectContext) -> Any:
    reader = ctx.devices.card_reader if ctx.devices is not None else None
    if reader is None:
        ctx.done(False, code="offline", detail="no card reader configured")
    return reader


@handler("card_reader.wait_for_card")
def wait_for_card(ctx: EffectContext) -> None:
    reader = _reader(ctx)
    if reader is not None:
        ctx.watch(reader.wait_for_card(float(ctx.params.get("timeout", 30.0))))


def _card_fields(result: Result[Any]) -> dict[str, Any] | None:
    """Only what the journey needs: the PAN (memory only), its masked form and the expiry."""
    card = result.value
    if card is None or card.pan is None:
        return None
    expiry = card.track2.expiry if card.track2 is not None else (card.track1.expiry if card.track1 else "")
    return {"pan": card.pan, "pan_masked": card.masked_pan, "expiry": expiry}


@handler("card_reader.read")
def read(ctx: EffectContext) -> None:
    reader = _reader(ctx)
    if reader is not None:
        ctx.watch(reader.read_tracks((1, 2)), _card_fields)


@handler("card_reader.eject")
def eject(ctx: EffectContext) -> None:
    reader = _reader(ctx)
    if reader is not None:
        # Capture is a separate, separately journaled step the journey takes after a timeout.
        ctx.watch(reader.eject(float(ctx.params.get("take_timeout", 30.0)), capture_if_not_taken=False))


@handler("card_reader.capture")
def capture(ctx: EffectContext) -> None:
    reader = _reader(ctx)
    if reader is None:
        return
    operation = reader.capture()
    link = ctx.services.cardlink if ctx.services is not None else None
    pan, reason = str(ctx.params.get("pan") or ""), str(ctx.params.get("advice") or "")
    if link is not None and pan and reason:

        def advise(result: Result[Any]) -> None:
            # The bank learns of a card the terminal kept (0120 advice); the customer is not kept waiting.
            if result.ok:
                ctx.spawn(lambda: link.card_retained(pan, reason), _advised)

        operation.add_done_callback(advise)
    ctx.watch(operation)


def _advised(ok: bool, payload: Any) -> None:
    if ok and payload is None:
        log.warning("the retained-card advice is queued: the card link repeats it until the host answers")
    elif not ok or not getattr(payload, "approved", False):
        log.warning(
            "the retained-card advice was not taken by the host: %s", getattr(payload, "code", payload)
        )
