"""``smart-teller settings show``: the effective settings, secrets hidden."""

from __future__ import annotations

import json

import typer

app = typer.Typer(name="settings", help="Show the effective settings (secrets hidden).", no_args_is_help=True)


@app.command()
def show() -> None:
    """Print the settings after defaults, the TOML file and SMART_TELLER_* variables, as JSON."""
    from kiosk.settings import load_settings

    typer.echo(json.dumps(load_settings().redacted(), indent=2, ensure_ascii=False))
