"""``smart-teller simulators [--json]``: every simulator on loopback, for tests or a kiosk elsewhere.

The app knows simulators only by address, so this command runs them as their own program
(``python -m simulators``) rather than importing them.
"""

from __future__ import annotations

import os
import sys

import typer

app = typer.Typer(name="simulators", help="Serve every simulated device on loopback; print their addresses.")
SINGLE_COMMAND = True


@app.command(name="simulators")
def simulators(
    json_output: bool = typer.Option(False, "--json", help="Print the addresses as one JSON object."),
    seed: int = typer.Option(0, help="Seed for the simulators' randomness."),
    out: str = typer.Option("", help="Folder for rendered receipts."),
    base_port: int = typer.Option(0, help="Fixed ports from here on (0: ephemeral)."),
    camera: str = typer.Option(
        "video", help="What the camera shows first: video, face-login, virtual_person:PHOTO, photo:PHOTO."
    ),
) -> None:
    """Serve every simulator until SIGINT/SIGTERM."""
    argv = [sys.executable, "-m", "simulators", "--seed", str(seed), "--base-port", str(base_port)]
    argv += ["--camera", camera]
    if json_output:
        argv.append("--json")
    if out:
        argv += ["--out", out]
    sys.stdout.flush()
    os.execv(sys.executable, argv)
