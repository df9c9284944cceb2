"""Help effects: raise a staff alert (database + journal) and log what the assistant answered."""

from __future__ import annotations

from typing import Any

from app.effects import EffectContext, handler
from bank.alerts.service import StaffAlerts


def staff_alerts(services: Any) -> StaffAlerts:
    return StaffAlerts(services.engine, services.journal, services.settings.kiosk_id, clock=services.clock)


@handler("help.call_staff")
def call_staff(ctx: EffectContext) -> None:
    params = ctx.params

    def work() -> dict[str, Any]:
        alert = staff_alerts(ctx.services).raise_alert(
            str(params.get("kind", "call_staff")),
            str(params.get("kiosk_id") or "") or None,
            str(params.get("session_id") or "") or None,
            lang=str(params.get("lang", "en")),
            topic=str(params.get("topic", "")),
        )
        return {"alert_id": alert.id}

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
