"""Security: technician and supervisor accounts.

Revision ID: 0003_security
Revises: 0001_base
Create Date: 2026-11-26
"""

import sqlalchemy as sa
from alembic import op

revision = "0003_security"
down_revision = "0001_base"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "technicians",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("username", sa.String(32), nullable=False),
        sa.Column("password_hash", sa.String(256), nullable=False),
        sa.Column("role", sa.String(16), nullable=False),
        sa.Column("failed_logins", sa.Integer(), nullable=False),
        sa.Column("locked_until", sa.DateTime(timezone=True), nullable=True),
        sa.Column("last_login", sa.DateTime(timezone=True), nullable=True),
        sa.Column("created", sa.DateTime(timezone=True), nullable=False),
        sa.CheckConstraint("role IN ('technician', 'supervisor')", name="ck_technicians_role"),
        sa.PrimaryKeyConstraint("id", name="pk_technicians"),
        sa.UniqueConstraint("username", name="uq_technicians_username"),
    )


def downgrade() -> None:
    op.drop_table("technicians")
