"""``smart-teller bench [--out FILE]``: the benchmark suite (see docs/bench.md for each figure)."""

from __future__ import annotations

import subprocess
import sys

import typer

app = typer.Typer(name="bench", help="Run the benchmark suite and write one JSON file.")
SINGLE_COMMAND = True


@app.command(name="bench")
def bench(
    out: str = typer.Option("bench.json", help="Where to write the JSON figures."),
    quick: bool = typer.Option(False, help="Fewer repetitions (for a smoke run)."),
    only: list[str] = typer.Option([], help="Run only these areas (module names under benchmarks/)."),
) -> None:
    """Measure every figure next to its reference, in one run."""
    # The suite starts simulators and database servers, which the app must not import: own process.
    argv = [sys.executable, "-m", "benchmarks", "--out", out]
    if quick:
        argv.append("--quick")
    for area in only:
        argv += ["--only", area]
    raise typer.Exit(subprocess.call(argv))
