"""Alembic environment: the engine comes from the caller (bank.db.migrate), never from an ini file."""

from __future__ import annotations

from alembic import context

from bank.db.base import Base
from bank.db.registry import import_all_models

# Every module that declares tables, so autogenerate and `alembic check` see one metadata.
import_all_models()

engine = context.config.attributes["engine"]
with engine.connect() as connection:
    context.configure(
        connection=connection,
        target_metadata=Base.metadata,
        render_as_batch=connection.dialect.name == "sqlite",
        compare_type=True,
    )
    with context.begin_transaction():
        context.run_migrations()
    connection.commit()
