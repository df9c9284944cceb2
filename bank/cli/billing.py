"""``smart-teller host billing run-scheduled``: pay the scheduled bill payments that are due (cron, timers).

Each active schedule whose day of the month has come and that has not run this month is paid once (the
idempotency key names the schedule and the month, so running twice pays once). Prints one JSON object per
run; exit 1 when any due payment was refused (insufficient funds, a frozen account ...), naming the first.
"""

from __future__ import annotations

import json
from datetime import datetime

import typer

app = typer.Typer(
    name="billing", help="Bill payments: run the scheduled payments that are due.", no_args_is_help=True
)


@app.command("run-scheduled")
def run_scheduled(
    now: str = typer.Option(
        "", "--now", help="Run as of this ISO time (default: now), e.g. 2026-03-12T09:00+08:00"
    ),
) -> None:
    """Pay every scheduled payment due today (or as of --now); JSON lines out."""
    from bank.audit import HostAudit
    from bank.billing.service import BillingService
    from bank.runtime import start_runtime
    from bank.settings import load_host_settings as load_settings

    moment = None
    if now:
        try:
            moment = datetime.fromisoformat(now)
        except ValueError:
            typer.echo(f"smart-teller: --now is not an ISO time: {now!r}", err=True)
            raise typer.Exit(2) from None
        if moment.tzinfo is None:
            typer.echo("smart-teller: --now needs a UTC offset (e.g. +08:00)", err=True)
            raise typer.Exit(2)
    settings = load_settings()
    runtime = start_runtime(settings)
    journal = HostAudit(runtime.engine, settings.host_id)
    try:
        service = BillingService(runtime.engine, runtime.vault, kiosk_id=settings.host_id, journal=journal)
        runs = service.run_due(moment)
    finally:
        runtime.close()
    for run in runs:
        typer.echo(
            json.dumps(
                {
                    "schedule_id": run.schedule_id,
                    "period": run.period,
                    "result": run.result,
                    "reference": run.reference,
                    "amount_minor": run.amount_minor,
                }
            )
        )
    refused = [r for r in runs if r.result not in ("paid", "nothing_due")]
    if refused:
        first = refused[0]
        typer.echo(
            f"smart-teller: {len(refused)} scheduled payment(s) refused;"
            f" first: schedule {first.schedule_id}: {first.result}",
            err=True,
        )
        raise typer.Exit(1)
