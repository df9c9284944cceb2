"""Persistence: engine factory, declarative base, Alembic migrations."""
