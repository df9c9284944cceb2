"""``smart-teller host keys rotate``: a new encryption key; every encrypted column re-encrypted under it."""

from __future__ import annotations

import typer

app = typer.Typer(name="keys", help="Encryption keys at rest (the vault).", no_args_is_help=True)


@app.command()
def rotate(as_json: bool = typer.Option(False, "--json", help="Print JSON.")) -> None:
    """Make a new active key (old keys stay for decryption) and re-encrypt the stored PII under it."""
    import json

    from bank.audit import HostAudit
    from bank.runtime import start_runtime
    from bank.security.rotation import rotate_and_reencrypt
    from bank.settings import load_host_settings as load_settings

    settings = load_settings()
    runtime = start_runtime(settings)
    try:
        report = rotate_and_reencrypt(runtime.engine, runtime.vault)
        HostAudit(runtime.engine, settings.host_id).record(
            "vault_key_rotated", old_key=report.old_key, new_key=report.new_key, rewritten=report.rewritten
        )
    finally:
        runtime.close()
    if as_json:
        typer.echo(
            json.dumps({"old_key": report.old_key, "new_key": report.new_key, "rewritten": report.rewritten})
        )
        return
    total = sum(report.rewritten.values())
    typer.echo(f"active key {report.new_key} (was {report.old_key}); {total} values re-encrypted")
