"""``smart-teller host keys rotate|retire|status``: the data keys on the HSM token (or the dev key file)."""

from __future__ import annotations

import typer

app = typer.Typer(name="keys", help="Encryption keys at rest (the vault).", no_args_is_help=True)


@app.command()
def rotate(
    as_json: bool = typer.Option(False, "--json", help="Print JSON."),
    settle_s: float = typer.Option(
        -1.0, "--settle", help="Seconds between the new key and the rewrite (default: hsm.refresh_s + 1)."
    ),
) -> None:
    """Make a new active key (old keys stay for decryption) and re-encrypt the stored values under it.

    Safe while host processes and terminals run: they find the new key on the token by its id, and start
    encrypting under it within hsm.refresh_s seconds, which the rewrite waits for first."""
    import json

    from bank.audit import HostAudit
    from bank.runtime import start_runtime
    from bank.security.rotation import rotate_and_reencrypt
    from bank.settings import load_host_settings as load_settings

    settings = load_settings()
    runtime = start_runtime(settings)
    settle = settle_s if settle_s >= 0 else settings.hsm.refresh_s + 1.0
    try:
        report = rotate_and_reencrypt(runtime.engine, runtime.vault, settle_s=settle)
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


@app.command()
def retire(key_id: str = typer.Argument(..., help="The old key, e.g. k1.")) -> None:
    """Destroy an old key on the token for good; refused while any stored value still uses it.

    A backup made before its values were re-encrypted cannot be read after this."""
    from bank.audit import HostAudit
    from bank.runtime import start_runtime
    from bank.security.rotation import KeyInUse, retire_key
    from bank.settings import load_host_settings as load_settings

    settings = load_settings()
    runtime = start_runtime(settings)
    try:
        try:
            retire_key(runtime.engine, runtime.vault, key_id)
        except KeyInUse as exc:
            typer.echo(f"smart-teller: {exc}", err=True)
            raise typer.Exit(1) from None
        HostAudit(runtime.engine, settings.host_id).record("vault_key_retired", key=key_id)
    finally:
        runtime.close()
    typer.echo(f"key {key_id} destroyed")


@app.command()
def status(as_json: bool = typer.Option(False, "--json", help="Print JSON.")) -> None:
    """Where the keys are, the active key, and how many stored values each key encrypts."""
    import json

    from bank.runtime import start_runtime
    from bank.security.rotation import key_usage
    from bank.settings import load_host_settings as load_settings

    runtime = start_runtime(load_settings())
    try:
        vault = runtime.vault
        usage = key_usage(runtime.engine, vault)
        counts = {kid: sum(usage.get(kid, {}).values()) for kid in vault.key_ids}
        data = {"custody": vault.custody, "active": vault.active_key_id, "keys": counts}
    finally:
        runtime.close()
    if as_json:
        typer.echo(json.dumps(data))
        return
    typer.echo(f"keys in {data['custody']}; active {data['active']}")
    for kid, count in counts.items():
        typer.echo(f"  {kid}: {count} values")


@app.command("import-file-keys")
def import_file_keys_command(
    keep_files: bool = typer.Option(False, "--keep-files", help="Leave the key files in place."),
) -> None:
    """Move a host's old key files (keys/vault.json, keys/hsm.json) onto the HSM token, then destroy them.

    For a host upgraded from file keys: the data keys keep their ids and the look-up key and PVK their
    values, so stored values, hashes and PVVs still check out. Rotate afterwards (keys rotate, then keys
    retire) so no key that ever sat in a file encrypts anything."""
    import json

    from bank.security.custody import import_file_keys
    from bank.settings import load_host_settings as load_settings

    done = import_file_keys(load_settings(), keep_files=keep_files)
    typer.echo(json.dumps(done))
