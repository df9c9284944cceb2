"""``smart-teller journal verify|repair|export|show``: check the electronic journal (alone or against the
bank host's checkpoints), move a torn tail aside, export a range, read the last records in bank time."""

from __future__ import annotations

from typing import TYPE_CHECKING

import typer

if TYPE_CHECKING:
    from datetime import datetime, tzinfo
    from pathlib import Path

    from kiosk.journal import Journal
    from kiosk.settings import Settings


def _die(message: str, code: int) -> SystemExit:
    """One line on stderr; SystemExit, not typer.Exit: with standalone_mode=False click returns Exit codes."""
    typer.echo(f"smart-teller: {message}", err=True)
    return SystemExit(code)


app = typer.Typer(
    name="journal",
    help="Electronic journal: verify the hash chain, repair a torn tail, export records.",
    no_args_is_help=True,
)


def _open_journal(settings: Settings) -> Journal:
    from hostlink.paths import prepare_data_dir
    from kiosk.journal import Journal

    prepare_data_dir(settings.data_dir)
    return Journal(settings.data_dir / "journal", settings.kiosk_id)


def _bound(text: str | None, option: str, zone: tzinfo) -> int | datetime | None:
    """A sequence number, or an ISO date/time (bank time when no zone is given, as ``show`` prints)."""
    from kiosk.banktime import parse_typed_time

    if text is None:
        return None
    if text.isdigit():
        return int(text)
    try:
        return parse_typed_time(text, zone)
    except ValueError:
        raise _die(f"{option} must be a sequence number or an ISO date/time, got {text!r}", 2) from None


@app.command()
def verify(
    against_host: bool = typer.Option(
        False, "--against-host", help="Also compare with the checkpoints and seals the bank host holds."
    ),
) -> None:
    """Walk the hash chain (read only: the file is not changed); exit 1 naming the first broken record."""
    from kiosk.journal import verify_file
    from kiosk.settings import load_settings

    settings = load_settings()
    path = settings.data_dir / "journal" / "journal.jsonl"
    if not against_host:
        report = verify_file(path)
        if report.ok:
            typer.echo(
                f"journal ok: {report.count} records" + (" (no journal file)" if report.missing else "")
            )
            return
        raise _die(f"journal broken at record {report.first_bad_seq}: {report.reason}", 1)
    _verify_against_host(settings, path)


def _verify_against_host(settings: Settings, path: Path) -> None:
    from kiosk.hostclient import Credential, CredentialError, HostClient, HostError
    from kiosk.journal.anchor import verify_against_host

    try:
        credential = Credential.load(settings.host_credential_path)
    except CredentialError as exc:
        raise _die(str(exc), 2) from None
    client = HostClient(settings.host.urls, credential, timeout_s=settings.host.timeout_s)
    try:
        result = verify_against_host(path, client.checkpoints, client.check_journal_seals)
    except HostError as exc:
        raise _die(f"the bank host cannot be asked: {exc}", 2) from None
    finally:
        client.close()
    problems = [f"{f.kind} at record {f.seq}: {f.detail}" for f in result.findings]
    if not result.file.ok:
        problems.insert(0, f"chain broken at record {result.file.first_bad_seq}: {result.file.reason}")
    if not problems:
        typer.echo(f"journal ok: {result.file.count} records, {result.checkpoints} host checkpoints agree")
        return
    for line in problems[1:]:
        typer.echo(f"smart-teller: {line}", err=True)
    raise _die(problems[0], 1)


@app.command()
def repair() -> None:
    """Move a torn last line (a crash mid-write) aside as evidence and journal that it was done."""
    from kiosk.settings import load_settings

    journal = _open_journal(load_settings())
    try:
        facts = journal.repair()
    finally:
        journal.close()
    if facts is None:
        typer.echo("journal tail whole: nothing to repair")
        return
    typer.echo(f"journal repaired: {facts['bytes']} torn bytes moved to {facts['saved_as']}")


@app.command()
def export(
    start: str = typer.Option(
        None,
        "--from",
        help="First record: sequence number or ISO date/time (bank time unless it names a zone).",
    ),
    end: str = typer.Option(None, "--to", help="Last record (inclusive): sequence number or ISO date/time."),
    out: str = typer.Option("-", "--out", help="JSON-lines file to write ('-' for standard output)."),
) -> None:
    """Write a range of records as JSON lines (with their hashes, times in UTC as stored) for the bank's
    dispute team."""
    import os
    import sys

    from kiosk.settings import load_settings

    settings = load_settings()
    first = _bound(start, "--from", settings.bank_timezone)
    last = _bound(end, "--to", settings.bank_timezone)
    journal = _open_journal(settings)
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


@app.command()
def show(
    last: int = typer.Option(20, "--last", min=1, help="How many of the newest records to show."),
) -> None:
    """The newest records, one a line, times in bank time with the zone (what the maintenance page shows)."""
    from collections import deque

    from kiosk.maintenance.service import records_as_text
    from kiosk.settings import load_settings

    settings = load_settings()
    journal = _open_journal(settings)
    try:
        tail = deque(journal.records(), maxlen=last)
    finally:
        journal.close()
    for line in records_as_text(list(tail), settings.bank_timezone):
        typer.echo(line)
