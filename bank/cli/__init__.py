"""``smart-teller host ...``: the bank host's own program — serve the API, enrol terminals, the database,
technician accounts, keys, the ledger's checks and scheduled bill runs.

The terminal's console script forwards ``smart-teller host`` here as ``python -m bank`` (the terminal's
packages never import the bank). Operator errors print one line on stderr and exit 2.
"""

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import Any

import typer

from bank.cli import bank as bank_commands
from bank.cli import billing as billing_commands
from bank.cli import credit as credit_commands
from bank.cli import db as db_commands
from bank.cli import keys as keys_commands
from bank.cli import tech as tech_commands

app = typer.Typer(
    name="smart-teller host",
    help="The bank host: its API server, terminals, database, technicians and keys.",
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
)
for sub in (bank_commands, billing_commands, db_commands, keys_commands, tech_commands):
    app.add_typer(sub.app, name=sub.app.info.name)
app.add_typer(credit_commands.credit_app, name="credit")


def _fail(message: str, code: int = 2) -> typer.Exit:
    typer.echo(f"smart-teller: {message}", err=True)
    return typer.Exit(code)


@app.command()
def serve(
    host: str = typer.Option("", help="Address to listen on (default: settings, 127.0.0.1)."),
    port: int = typer.Option(-1, help="Port (default: settings, 8700; 0 picks a free one)."),
    iso_port: int = typer.Option(
        -1, help="ISO 8583 port (default: settings, 8583; 0 when --port is 0, a free one)."
    ),
    seed: bool = typer.Option(
        False, "--seed", help="Create the seed customers and cards if the bank is empty."
    ),
    ready_file: Path | None = typer.Option(
        None, help="Write {'url': ...} as JSON here once listening (for supervisors and tests)."
    ),
) -> None:
    """Serve the JSON API (uvicorn). Stateless apart from the database and keys: run as many as you like."""
    import socket

    import uvicorn

    from bank.api.app import BodyLimit, create_app
    from bank.host import Host
    from bank.settings import load_host_settings

    settings = load_host_settings()
    listen_host = host or settings.api.listen_host
    listen_port = settings.api.listen_port if port < 0 else port
    bank_host = Host.start(settings)
    if seed and bank_host.seed_if_empty():
        typer.echo("seed customers and test cards created", err=True)
    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    # Accepted connections inherit this: without it a small answer written in two parts waits for the
    # client's delayed ACK (about 40 ms a request on Linux loopback).
    sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
    try:
        sock.bind((listen_host, listen_port))
    except OSError as exc:
        bank_host.close()
        raise _fail(f"cannot listen on {listen_host}:{listen_port}: {exc.strerror}") from None
    bound_port = sock.getsockname()[1]
    url = f"http://{listen_host}:{bound_port}"
    if iso_port < 0 and port == 0:
        iso_port = 0  # an ephemeral host (tests, the embedded default) takes free ports for both doors
    iso_server = _start_iso_server(bank_host, settings, iso_port)
    from bank.switch import start_switch_link

    switch_link = start_switch_link(bank_host)  # None unless switch.address names the interbank switch
    ready = {"url": url, "host_id": settings.host_id, "iso8583": iso_server.url}
    app_ = BodyLimit(create_app(bank_host), settings.api.max_body_bytes)
    config = uvicorn.Config(
        app_, log_level="warning", access_log=False, lifespan="off", timeout_keep_alive=30
    )
    server = uvicorn.Server(config)
    if ready_file is not None:
        # Written once uvicorn has started, so whoever waits for it can connect at once.
        original = server.startup

        async def startup(sockets: list[socket.socket] | None = None) -> None:
            await original(sockets=sockets)
            tmp = ready_file.with_suffix(".tmp")
            tmp.write_text(json.dumps(ready))
            tmp.replace(ready_file)

        server.startup = startup  # type: ignore[method-assign]
    typer.echo(json.dumps(ready), err=False)
    sys.stdout.flush()
    try:
        server.run(sockets=[sock])
    finally:
        if switch_link is not None:
            switch_link.close()  # joins its thread; it uses the host's engine
        iso_server.close()
        bank_host.close()


def _start_iso_server(bank_host: Any, settings: Any, port: int) -> Any:
    """The ISO 8583 front door beside the JSON API (docs/iso8583.md)."""
    from bank.iso8583.server import IsoServer
    from bank.iso8583.service import IsoHostService

    iso = settings.iso8583
    port = iso.listen_port if port < 0 else port
    try:
        server = IsoServer(
            IsoHostService(bank_host).handle,
            host=iso.listen_host,
            port=port,
            max_connections=iso.max_connections,
            idle_timeout_s=iso.idle_timeout_s,
        )
    except OSError as exc:
        bank_host.close()
        raise _fail(f"cannot listen for ISO 8583 on {iso.listen_host}:{port}: {exc.strerror}") from None
    return server.start()


@app.command("enrol-terminal")
def enrol_terminal(
    terminal_id: str = typer.Argument(..., help="The terminal's ID, unique in the fleet (e.g. KIOSK-0001)."),
    credential_file: Path | None = typer.Option(
        None, help="Write the credential to this file (0600) instead of printing it."
    ),
    rotate: bool = typer.Option(
        False,
        "--rotate",
        help="Re-enrol a terminal already enrolled: a new secret, the old one stops working.",
    ),
    tmk: str = typer.Option(
        "",
        "--tmk",
        help="The terminal master key loaded into its PIN pad (32 or 48 hex digits), for ISO 8583.",
    ),
    test_tmk: bool = typer.Option(
        False, "--test-tmk", help="Record the PIN pad simulator's documented test TMK (simulated build)."
    ),
) -> None:
    """Enrol a terminal and issue its credential (shown once; the host keeps it encrypted)."""
    import os

    from bank.host import Host
    from bank.iso8583.service import card_acceptor_id
    from bank.settings import load_host_settings
    from bank.terminals.service import EnrolmentError

    settings = load_host_settings()
    master_key: bytes | None = None
    if tmk or test_tmk:
        try:
            master_key = bytes.fromhex(settings.security.test_tmk_hex if test_tmk else tmk)
            card_acceptor_id(terminal_id)
        except ValueError as exc:
            raise _fail(f"--tmk: {exc}") from None
        if len(master_key) not in (16, 24):
            raise _fail("--tmk: a TDES master key is 16 or 24 bytes (32 or 48 hex digits)")
    bank_host = Host.start(settings)
    try:
        if rotate and any(t.terminal_id == terminal_id for t in bank_host.registry.terminals()):
            credential = bank_host.registry.rotate(terminal_id)
        else:
            credential = bank_host.registry.enrol(terminal_id)
        if master_key is not None:
            check = bank_host.terminal_keys.record_tmk(terminal_id, master_key)
            bank_host.audit.record("terminal_tmk_recorded", terminal_id=terminal_id, tmk_kcv=check)
    except EnrolmentError as exc:
        raise _fail(str(exc), 1) from None
    finally:
        bank_host.close()
    if credential_file is None:
        typer.echo(credential)
        return
    credential_file.parent.mkdir(parents=True, exist_ok=True)
    fd = os.open(credential_file, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "w") as handle:
        handle.write(credential + "\n")
    os.chmod(credential_file, 0o600)
    typer.echo(f"terminal {terminal_id} enrolled; credential written to {credential_file}")


@app.command("revoke-terminal")
def revoke_terminal(terminal_id: str = typer.Argument(...)) -> None:
    """Revoke a terminal: every call it makes from now on is refused (and the refusal recorded)."""
    from bank.host import Host
    from bank.settings import load_host_settings
    from bank.terminals.service import EnrolmentError

    bank_host = Host.start(load_host_settings())
    try:
        bank_host.registry.revoke(terminal_id)
    except EnrolmentError as exc:
        raise _fail(str(exc), 1) from None
    finally:
        bank_host.close()
    typer.echo(f"terminal {terminal_id} revoked")


@app.command()
def terminals(as_json: bool = typer.Option(False, "--json", help="Print JSON.")) -> None:
    """Enrolled terminals with their status, last call and journal head."""
    from bank.host import Host
    from bank.settings import load_host_settings

    bank_host = Host.start(load_host_settings())
    try:
        rows = bank_host.registry.terminals()
    finally:
        bank_host.close()
    data = [
        {
            "terminal_id": t.terminal_id,
            "status": t.status,
            "enrolled_at": t.enrolled_at.isoformat(),
            "last_seen_at": t.last_seen_at.isoformat() if t.last_seen_at else None,
            "journal_seq": t.journal_seq,
        }
        for t in rows
    ]
    if as_json:
        typer.echo(json.dumps(data))
        return
    for row in data:
        typer.echo(f"{row['terminal_id']:<16} {row['status']:<8} last seen {row['last_seen_at'] or '-'}")


@app.command("journal-checkpoints")
def journal_checkpoints(
    terminal_id: str = typer.Argument(...),
    limit: int = typer.Option(20, "--limit", help="How many, newest first."),
    as_json: bool = typer.Option(False, "--json", help="Print JSON."),
) -> None:
    """A terminal's journal checkpoints as the host holds them, newest first, and their seals' check."""
    import hmac

    from bank.host import Host
    from bank.settings import load_host_settings
    from bank.terminals.service import journal_seal

    bank_host = Host.start(load_host_settings())
    try:
        rows = bank_host.registry.anchors(terminal_id, limit=limit)
        key = bank_host.journal_key(terminal_id)
    finally:
        bank_host.close()
    data = [
        {
            "seq": seq,
            "hash": digest,
            "records": records,
            "sealed": seal is not None
            and records is not None
            and hmac.compare_digest(journal_seal(key, terminal_id, seq, digest, records), seal),
        }
        for seq, digest, records, seal in rows
    ]
    if as_json:
        typer.echo(json.dumps(data))
        return
    for row in data:
        count = "-" if row["records"] is None else row["records"]
        typer.echo(f"{row['seq']:>10} {row['hash']} records {count} {'sealed' if row['sealed'] else 'head'}")


@app.command()
def openapi(
    out: Path = typer.Option(Path("docs/host-api.json"), help="Where to write the document."),
) -> None:
    """Write the API's OpenAPI document (the published contract)."""
    from bank.api.app import openapi_document

    out.write_text(json.dumps(openapi_document(), indent=2, ensure_ascii=False) + "\n", encoding="utf-8")
    typer.echo(f"wrote {out}")


def main(argv: list[str] | None = None) -> int:
    try:
        rc = app(args=argv, prog_name="smart-teller host", standalone_mode=False)
    except typer.Exit as exc:
        return int(exc.exit_code or 0)
    except SystemExit as exc:
        return int(exc.code or 0) if isinstance(exc.code, int) else 2
    except Exception as exc:
        import click

        from bank.db.engine import DatabaseUnavailable
        from bank.security.hsm import HsmError
        from bank.security.pkcs11token import TokenError
        from bank.security.vault import VaultError
        from bank.settings import HostSettingsError

        if isinstance(exc, HostSettingsError | DatabaseUnavailable | VaultError | TokenError | HsmError):
            typer.echo(f"smart-teller: {exc}", err=True)
            return 2
        if isinstance(exc, click.ClickException):
            exc.show()
            return exc.exit_code
        raise
    return rc if isinstance(rc, int) else 0
