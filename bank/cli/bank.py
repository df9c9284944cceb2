"""``smart-teller host bank check|seed|clear|simulate``: ledger invariants, seed data, one clearing-house
cycle, and the seeded randomised simulation of the bank (on a throw-away database, never the configured
one)."""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING, cast

import typer

if TYPE_CHECKING:
    from bank.settings import HostSettings as Settings

app = typer.Typer(
    name="bank", help="The bank's ledger: invariant check, seed data, clearing.", no_args_is_help=True
)


@app.command()
def check(as_json: bool = typer.Option(False, "--json", help="Print the report as JSON.")) -> None:
    """Trial balance and ledger invariants; exit 1 naming the violated rule."""
    from bank.check import check_ledger
    from bank.db.migrate import missing_bank
    from bank.runtime import start_runtime
    from bank.settings import load_host_settings as load_settings

    settings = load_settings()
    problem = missing_bank(settings.effective_database_url)
    if problem:
        typer.echo(f"smart-teller: bank check: {problem}; nothing was created", err=True)
        raise typer.Exit(2)
    runtime = start_runtime(settings)
    try:
        with runtime.engine.connect() as conn:
            report = check_ledger(conn)
    finally:
        runtime.close()
    if as_json:
        typer.echo(
            json.dumps(
                {
                    "ok": report.ok,
                    "counts": report.counts,
                    "violations": [{"rule": v.rule, "detail": v.detail} for v in report.violations],
                }
            )
        )
    if not report.ok:
        first = report.violations[0]
        others = f" (+{len(report.violations) - 1} more rules)" if len(report.violations) > 1 else ""
        typer.echo(f"smart-teller: bank check failed: {first.rule}: {first.detail}{others}", err=True)
        raise typer.Exit(1)
    if not as_json:
        counts = ", ".join(f"{value} {name}" for name, value in report.counts.items())
        typer.echo(f"ok: trial balance zero, invariants hold ({counts})")


@app.command()
def seed(
    faces: Path | None = typer.Option(
        None, "--faces", help="Folder of the test face photos (default: ../shared/faces of the repository)."
    ),
) -> None:
    """Create the seed customers, accounts and cards (once; test PINs are in the README) and enrol the
    face-login customer's face from the test photos."""
    from sqlalchemy.orm import Session

    from bank.runtime import start_runtime
    from bank.seed import default_faces_dir, seed_bank
    from bank.settings import load_host_settings as load_settings

    settings = load_settings()
    pvv_for = _hsm_pvv_for(settings)
    runtime = start_runtime(settings)
    try:
        with Session(runtime.engine) as session:
            report = seed_bank(
                session, runtime.vault, pvv_for=pvv_for, faces_dir=faces or default_faces_dir()
            )
    finally:
        runtime.close()
    verb = "created" if report.created else "already present"
    typer.echo(f"seed {verb}: {report.customers} customers, {report.accounts} accounts, {report.cards} cards")
    for name in report.faces_enrolled:
        typer.echo(f"face enrolled for face login: {name}")
    for problem in report.face_problems:
        typer.echo(f"seed: {problem}", err=True)


@app.command()
def clear() -> None:
    """Run one cycle of the simulated clearing house (settle or reject other-bank transfers)."""
    from bank.clearing import ClearingHouse
    from bank.ledger import Ledger
    from bank.runtime import start_runtime
    from bank.settings import load_host_settings as load_settings

    settings = load_settings()
    if settings.switch.address:
        # The switch link answers other-bank transfers; a clearing cycle too would settle them twice.
        typer.echo("switch.address is set: the interbank switch settles other-bank transfers", err=True)
        raise typer.Exit(2)
    runtime = start_runtime(settings)
    ledger = Ledger(runtime.engine)
    try:
        report = ClearingHouse(ledger).run_cycle()
    finally:
        ledger.close()  # its connection back to the pool before the engine goes
        runtime.close()
    typer.echo(
        json.dumps({"settled": report.settled, "rejected": report.rejected, "waiting": report.waiting})
    )


@app.command()
def simulate(
    seed: int | None = typer.Option(None, help="The run's seed (random if omitted; printed either way)."),
    ops: int = typer.Option(10_000, min=1, help="Operations to run."),
    db: str = typer.Option("sqlite", help="sqlite (a temporary file) or postgresql (a throw-away server)."),
    kiosks: int = typer.Option(4, min=1, help="Simulated kiosks, each with its own connection."),
    check_every: int = typer.Option(1_000, min=1, help="Run the invariant check every N operations."),
    threads: bool = typer.Option(
        False, "--threads", help="Kiosks as concurrent threads (the database orders)."
    ),
) -> None:
    """Seeded randomised simulation (VOPR-style): transfers, retries, crashes, clearing; JSON report.

    Exit 1 on the first violation, naming the seed and operation that reproduce it.
    """
    import random

    from bank.simulation import run_simulation

    if db not in ("sqlite", "postgresql"):
        raise _fail(f"--db must be sqlite or postgresql, not {db!r}")
    seed = seed if seed is not None else random.SystemRandom().randrange(2**32)
    try:
        report = run_simulation(seed, ops, db=db, kiosks=kiosks, check_every=check_every, threads=threads)
    except Exception as exc:  # no PostgreSQL binaries, a server that would not start, ...
        reason = str(exc).splitlines()[0] if str(exc) else type(exc).__name__
        raise _fail(f"simulation could not run: {reason}") from None
    typer.echo(json.dumps(report.as_dict(), indent=2))
    if report.failure:
        typer.echo(
            f"smart-teller: simulation failed: {report.failure}; reproduce with:"
            f" smart-teller host bank simulate --seed {seed} --ops {ops} --db {db} --kiosks {kiosks}"
            f" --check-every {check_every}" + (" --threads" if threads else ""),
            err=True,
        )
        raise typer.Exit(1)


def _hsm_pvv_for(settings: Settings) -> Callable[[str, str], str]:
    """The simulated HSM: ``bank.security.hsm.pvv_for_settings(settings)`` returns (pan, pin) → PVV."""
    try:
        from bank.security import hsm
    except ImportError:
        raise _fail("the simulated HSM (bank.security.hsm) is not installed; cannot compute PVVs") from None
    factory = getattr(hsm, "pvv_for_settings", None)
    if factory is None:
        raise _fail("bank.security.hsm has no pvv_for_settings(settings); cannot compute PVVs")
    return cast(Callable[[str, str], str], factory(settings))


def _fail(message: str) -> typer.Exit:
    typer.echo(f"smart-teller: {message}", err=True)
    return typer.Exit(2)
