"""``smart-teller face compare A B [--json]``: faces in each image, their distance, the match decision."""

from __future__ import annotations

import json
from pathlib import Path

import typer

app = typer.Typer(name="face", help="Face biometrics tools (compare two images).", no_args_is_help=True)


def _configured_threshold() -> float:
    """The threshold from the app settings when they load, else the calibrated default."""
    from kiosk.biometrics.config import BiometricsConfig

    try:
        from kiosk.settings import load_settings
    except ImportError:
        return BiometricsConfig().threshold
    return float(load_settings().biometrics.threshold)


@app.command()
def compare(
    image_a: Path = typer.Argument(..., metavar="A", help="First image (JPEG/PNG; RGB, RGBA or grey)."),
    image_b: Path = typer.Argument(..., metavar="B", help="Second image."),
    as_json: bool = typer.Option(False, "--json", help="Print exactly one JSON object."),
) -> None:
    """Compare the largest face of A with the largest face of B at the configured threshold.

    Exits 0 whatever the decision; 2 only when an image cannot be read.
    """
    from kiosk.biometrics.config import BiometricsConfig
    from kiosk.biometrics.faces import FaceAnalyzer
    from kiosk.biometrics.images import ImageError, load_rgb
    from kiosk.biometrics.verify import compare as compare_faces

    try:
        rgb_a = load_rgb(image_a)
        rgb_b = load_rgb(image_b)
    except ImageError as exc:
        typer.echo(f"smart-teller: {exc}", err=True)
        # SystemExit, not typer.Exit: with standalone_mode=False click turns Exit into a return value.
        raise SystemExit(2) from None
    threshold = _configured_threshold()
    # A one-shot command has no GUI thread to protect, so it runs in this process (no worker start-up).
    analyzer = FaceAnalyzer(BiometricsConfig(threshold=threshold))
    analysis_a = analyzer.analyse(rgb_a)
    analysis_b = analyzer.analyse(rgb_b)
    result = compare_faces(analysis_a, analysis_b, threshold)
    if as_json:
        typer.echo(json.dumps(result.to_json()))
        return
    for label, path, analysis in (("A", image_a, analysis_a), ("B", image_b, analysis_b)):
        typer.echo(f"{label}: {path} - {analysis.faces_found} face(s) found ({analysis.outcome.value})")
    if result.distance is None:
        typer.echo(f"no match: a face is missing (threshold {threshold:.3f})")
    else:
        decision = "match" if result.match else "no match"
        typer.echo(f"distance {result.distance:.4f}, threshold {threshold:.3f}: {decision}")
