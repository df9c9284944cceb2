"""``smart-teller host ...``: the bank host's own program (``python -m bank``), forwarded as it is.

The terminal's packages never import the bank, so this command only starts it: the host's command line
(serve, enrol-terminal, revoke-terminal, db, tech, bank, keys, billing) lives in ``bank/cli``.
"""

from __future__ import annotations

import subprocess
import sys

import typer

app = typer.Typer(name="host")
SINGLE_COMMAND = True


@app.command(
    "host",
    context_settings={"allow_extra_args": True, "ignore_unknown_options": True, "help_option_names": []},
    add_help_option=False,
)
def host(ctx: typer.Context) -> None:
    """The bank host: serve, enrol-terminal, revoke-terminal, terminals, db, tech, bank, keys, billing."""
    args = list(ctx.args) or ["--help"]
    try:
        code = subprocess.call([sys.executable, "-m", "bank", *args])
    except KeyboardInterrupt:
        code = 130
    if code:
        raise typer.Exit(code)
