"""Base: terminal-wide key/value table.

Revision ID: 0001_base
Revises:
Create Date: 2026-11-26
"""

import sqlalchemy as sa
from alembic import op

revision = "0001_base"
down_revision = None
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "kiosk_meta",
        sa.Column("key", sa.String(64), nullable=False),
        sa.Column("value", sa.String(512), nullable=False),
        sa.PrimaryKeyConstraint("key", name="pk_kiosk_meta"),
    )


def downgrade() -> None:
    op.drop_table("kiosk_meta")
