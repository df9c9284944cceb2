"""Alembic environment: the engine comes from the caller (kiosk.db.migrate), never from an ini file."""

from __future__ import annotations

import importlib

from alembic import context

from kiosk.db.base import Base

# Import every module that declares tables so autogenerate and `alembic check` see one metadata.
for module in ("kiosk.db.models", "kiosk.bank.models", "kiosk.security.models"):
    try:
        importlib.import_module(module)
    except ModuleNotFoundError as exc:
        if exc.name is None or not module.startswith(exc.name):
            raise

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
