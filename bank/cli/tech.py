"""``smart-teller host tech add|list|unlock``: technician and supervisor accounts (no default credentials)."""

from __future__ import annotations

from typing import TYPE_CHECKING

import typer

if TYPE_CHECKING:
    from bank.audit import HostAudit
    from bank.runtime import Runtime
    from bank.security.techs import TechnicianService


def _die(message: str, code: int) -> SystemExit:
    """One line on stderr; SystemExit, not typer.Exit: with standalone_mode=False click returns Exit codes."""
    typer.echo(f"smart-teller: {message}", err=True)
    return SystemExit(code)


app = typer.Typer(name="tech", help="Technician and supervisor accounts.", no_args_is_help=True)


def _service() -> tuple[Runtime, HostAudit, TechnicianService]:
    from bank.audit import HostAudit
    from bank.runtime import start_runtime
    from bank.security.techs import TechnicianService
    from bank.settings import load_host_settings

    settings = load_host_settings()
    runtime = start_runtime(settings)
    audit = HostAudit(runtime.engine, settings.host_id)
    return runtime, audit, TechnicianService(runtime.sessions, settings.security, journal=audit)


@app.command()
def add(
    username: str = typer.Argument(..., help="Login name: lower-case letters, digits, '.', '_' or '-'."),
    role: str = typer.Option("technician", "--role", help="technician or supervisor."),
    password_stdin: bool = typer.Option(False, "--password-stdin", help="Read the password from stdin."),
) -> None:
    """Create an account; the password is asked twice (or read once from standard input)."""
    import sys

    from hostlink.technicians import TechError

    if password_stdin:
        password = sys.stdin.readline().rstrip("\r\n")
    else:
        password = typer.prompt("Password", hide_input=True, confirmation_prompt=True)
    runtime, _audit, service = _service()
    try:
        service.add(username, password, role, by="cli")
    except TechError as exc:
        raise _die(str(exc), 1) from None
    finally:
        runtime.close()
    typer.echo(f"{role} {username} added")


@app.command("list")
def list_accounts(as_json: bool = typer.Option(False, "--json", help="Print JSON.")) -> None:
    """List accounts with their role, lock-out and last login (never a password hash)."""
    import json

    runtime, _audit, service = _service()
    try:
        accounts = service.accounts()
    finally:
        runtime.close()
    rows = [
        {
            "username": a.username,
            "role": a.role.value,
            "failed_logins": a.failed_logins,
            "locked_until": a.locked_until.isoformat() if a.locked_until else None,
            "last_login": a.last_login.isoformat() if a.last_login else None,
            "created": a.created.isoformat(),
        }
        for a in accounts
    ]
    if as_json:
        typer.echo(json.dumps(rows, indent=2))
        return
    if not rows:
        typer.echo("no technician accounts: create one with `smart-teller host tech add USERNAME`")
    for row in rows:
        locked = f", locked until {row['locked_until']}" if row["locked_until"] else ""
        typer.echo(f"{row['username']} ({row['role']}), last login {row['last_login'] or 'never'}{locked}")


@app.command()
def unlock(username: str = typer.Argument(..., help="The locked-out account.")) -> None:
    """End a lock-out now and clear the failure count."""
    from hostlink.technicians import TechError

    runtime, _audit, service = _service()
    try:
        service.unlock(username, by="cli")
    except TechError as exc:
        raise _die(str(exc), 1) from None
    finally:
        runtime.close()
    typer.echo(f"{username} unlocked")
