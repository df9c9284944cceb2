"""``smart-teller host db upgrade|status``."""

from __future__ import annotations

import typer

app = typer.Typer(
    name="db", help="Database schema: Alembic migrations (URL from settings).", no_args_is_help=True
)


@app.command()
def upgrade() -> None:
    """Apply every migration up to the newest schema."""
    from bank.db.engine import check_connection, make_engine
    from bank.db.migrate import current_heads
    from bank.db.migrate import upgrade as run_upgrade
    from bank.settings import load_host_settings as load_settings

    settings = load_settings()
    settings.data_dir.mkdir(parents=True, exist_ok=True)
    engine = make_engine(settings.effective_database_url)
    check_connection(engine)
    run_upgrade(engine)
    typer.echo(f"database at {', '.join(sorted(current_heads(engine)))}")
    engine.dispose()


@app.command()
def status() -> None:
    """Say whether the schema is current; exit 1 when a migration is pending."""
    from bank.db.engine import check_connection, make_engine
    from bank.db.migrate import current_heads, is_up_to_date
    from bank.settings import load_host_settings as load_settings

    settings = load_settings()
    engine = make_engine(settings.effective_database_url)
    check_connection(engine)
    heads = ", ".join(sorted(current_heads(engine))) or "empty"
    current = is_up_to_date(engine)
    engine.dispose()
    typer.echo(f"schema {heads}: {'current' if current else 'migration pending'}")
    if not current:
        raise typer.Exit(1)
