"""Help effects: raise a staff alert (database + journal) and log what the assistant answered."""

from __future__ import annotations

from typing import Any

from app.effects import EffectContext, handler
from hostlink import api


@handler("help.call_staff")
def call_staff(ctx: EffectContext) -> None:
    params = ctx.params

    services = ctx.services
    order = api.StaffAlertOrder(
        kind=str(params.get("kind", "call_staff")),
        session_id=str(params.get("session_id") or ""),
        lang=str(params.get("lang", "en")),
        topic=str(params.get("topic", ""))[:64],
    )
    # The host pages once per session and kind, however often "call staff" is pressed.
    key = api.new_idempotency_key(order.session_id)

    def work() -> dict[str, Any]:
        alert_id = services.host.raise_alert(order, key).alert_id
        services.journal.record(
            "staff_alert_raised",
            session_id=order.session_id or None,
            alert_id=alert_id,
            kind=order.kind,
            topic=order.topic,
        )
        return {"alert_id": alert_id}

    ctx.in_background(work)


@handler("help.log")
def log_answer(ctx: EffectContext) -> None:
    """Which FAQ entry was shown and how confident the match was (never the customer's own words)."""
    params = ctx.params

    def work() -> bool:
        ctx.services.journal.record(
            "help_answered",
            session_id=str(params.get("session_id") or "") or None,
            outcome=str(params.get("outcome", "")),
            entry=str(params.get("entry", "")),
            confidence=str(params.get("confidence", "")),
        )
        return True

    ctx.in_background(work)
