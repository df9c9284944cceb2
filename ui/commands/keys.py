"""``smart-teller keys rotate``: a new encryption key, and every encrypted column re-encrypted under it."""

from __future__ import annotations

import typer

app = typer.Typer(name="keys", help="Encryption keys at rest (the vault).", no_args_is_help=True)


@app.command()
def rotate(as_json: bool = typer.Option(False, "--json", help="Print JSON.")) -> None:
    """Make a new active key (old keys stay for decryption) and re-encrypt the stored PII under it."""
    import json

    from bank.runtime import start_runtime
    from bank.security.rotation import rotate_and_reencrypt
    from kiosk.journal import Journal
    from kiosk.settings import load_settings

    settings = load_settings()
    runtime = start_runtime(settings)
    try:
        report = rotate_and_reencrypt(runtime.engine, runtime.vault)
    finally:
        runtime.close()
    with Journal(settings.data_dir / "journal", settings.kiosk_id) as journal:
        journal.record(
            "vault_key_rotated", old_key=report.old_key, new_key=report.new_key, rewritten=report.rewritten
        )
    if as_json:
        typer.echo(
            json.dumps({"old_key": report.old_key, "new_key": report.new_key, "rewritten": report.rewritten})
        )
        return
    total = sum(report.rewritten.values())
    typer.echo(f"active key {report.new_key} (was {report.old_key}); {total} values re-encrypted")
