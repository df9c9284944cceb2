"""``smart-teller journal verify|export``: check the electronic journal's hash chain, export a range."""

from __future__ import annotations

from typing import TYPE_CHECKING

import typer

if TYPE_CHECKING:
    from datetime import datetime

    from kiosk.journal import Journal


def _die(message: str, code: int) -> SystemExit:
    """One line on stderr; SystemExit, not typer.Exit: with standalone_mode=False click returns Exit codes."""
    typer.echo(f"smart-teller: {message}", err=True)
    return SystemExit(code)


app = typer.Typer(
    name="journal", help="Electronic journal: verify the hash chain, export records.", no_args_is_help=True
)


def _open_journal() -> Journal:
    from hostlink.paths import prepare_data_dir
    from kiosk.journal import Journal
    from kiosk.settings import load_settings

    settings = load_settings()
    prepare_data_dir(settings.data_dir)
    return Journal(settings.data_dir / "journal", settings.kiosk_id)


def _bound(text: str | None, option: str) -> int | datetime | None:
    """A sequence number, or an ISO date/time (UTC when no zone is given)."""
    from datetime import UTC, datetime

    if text is None:
        return None
    if text.isdigit():
        return int(text)
    try:
        moment = datetime.fromisoformat(text.replace("Z", "+00:00"))
    except ValueError:
        raise _die(f"{option} must be a sequence number or an ISO date/time, got {text!r}", 2) from None
    return moment if moment.tzinfo else moment.replace(tzinfo=UTC)


@app.command()
def verify() -> None:
    """Walk the hash chain; exit 1 naming the first broken record."""
    journal = _open_journal()
    try:
        report = journal.verify()
    finally:
        journal.close()
    if report.ok:
        typer.echo(f"journal ok: {report.count} records")
        return
    raise _die(f"journal broken at record {report.first_bad_seq}: {report.reason}", 1)


@app.command()
def export(
    start: str = typer.Option(None, "--from", help="First record: sequence number or ISO date/time."),
    end: str = typer.Option(None, "--to", help="Last record (inclusive): sequence number or ISO date/time."),
    out: str = typer.Option("-", "--out", help="JSON-lines file to write ('-' for standard output)."),
) -> None:
    """Write a range of records as JSON lines (with their hashes) for the bank's dispute team."""
    import os
    import sys

    first, last = _bound(start, "--from"), _bound(end, "--to")
    journal = _open_journal()
    count = 0
    try:
        if out == "-":
            for line in journal.export(first, last):
                sys.stdout.write(line + "\n")
                count += 1
        else:
            fd = os.open(out, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
            with os.fdopen(fd, "w", encoding="utf-8") as handle:
                for line in journal.export(first, last):
                    handle.write(line + "\n")
                    count += 1
    finally:
        journal.close()
    typer.echo(f"exported {count} records", err=True)
