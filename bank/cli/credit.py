"""``smart-teller host credit train|show|stability``: the loan pre-qualification model as an artefact.

``train`` fits the scorecard on the labelled applications (by default ``<repository>/../shared/credit/
german_credit.csv``), measures it out of fold and writes the JSON artefact the host loads (by default the
shipped ``bank/credit/artefacts/gc-1.json``). ``show`` prints an artefact's data hash, cut-off and figures;
``stability`` the PSI of the decisions recorded in the configured bank against the training scores.

This module's Typer app is ``credit_app``; bank/cli hooks it as ``smart-teller host credit``.
"""

from __future__ import annotations

import json
from pathlib import Path

import typer

credit_app = typer.Typer(
    name="credit", help="The loan pre-qualification model: train, show, stability.", no_args_is_help=True
)


@credit_app.command()
def train(
    data: Path | None = typer.Option(None, help="The labelled applications (CSV)."),
    out: Path | None = typer.Option(None, help="Where to write the artefact (default: the shipped one)."),
    version: str = typer.Option("GC-1", help="The model version the decisions will name."),
) -> None:
    """Fit, cross-validate and write the model artefact (JSON: bins, points, cut-off, figures)."""
    from bank.credit import data as credit_data
    from bank.credit.model import artefact_path

    path = data or credit_data.default_data_path()
    if not path.is_file():
        typer.echo(f"smart-teller: no training data at {path}", err=True)
        raise typer.Exit(2)
    try:
        from bank.credit.train import train as fit
        from bank.credit.train import write_artefact
    except ImportError as exc:  # the credit extra is not installed
        typer.echo(f"smart-teller: training needs the 'credit' extra ({exc.name} missing)", err=True)
        raise typer.Exit(2) from exc
    document = fit(credit_data.load(path), version)
    target = out or artefact_path(version)
    write_artefact(document, target)
    figures = document["figures"]
    decision = document["decision"]
    typer.echo(
        f"{version}: {document['data']['applications']} applications, "
        f"sha256 {document['data']['sha256'][:12]}; "
        f"AUC {figures['scorecard']['auc']} (reference {figures['reference_logistic_one_hot']['auc']}), "
        f"cut-off {decision['cutoff_score']} → {target}"
    )


@credit_app.command()
def show(path: Path | None = typer.Option(None, help="An artefact (default: the shipped one).")) -> None:
    """Print an artefact's data hash, decision cut-offs and cross-validated figures as JSON."""
    from bank.credit.model import load_model

    document = load_model(path).document
    keys = ("version", "data", "decision", "figures", "approval_by_age")
    typer.echo(json.dumps({key: document[key] for key in keys}, indent=2, ensure_ascii=False))


@credit_app.command()
def stability() -> None:
    """PSI of the scores recorded in the configured bank against the training distribution."""
    from bank.loans.service import LoanService
    from bank.runtime import start_runtime
    from bank.settings import load_host_settings

    runtime = start_runtime(load_host_settings())
    try:
        report = LoanService(runtime.engine, runtime.vault).stability()
    finally:
        runtime.close()
    typer.echo(json.dumps(report.as_dict(), indent=2))


if __name__ == "__main__":
    credit_app()
