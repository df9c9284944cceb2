"""ISO 8583 front door: each terminal's key hierarchy (TMK, session TPK and TAK) and the ISO requests
answered (for duplicates and reversals).

Revision ID: 0012_terminal_keys
Revises: 0011_loan_model_version
Create Date: 2026-12-03
"""

import sqlalchemy as sa
from alembic import op

revision = "0012_terminal_keys"
down_revision = "0011_loan_model_version"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "host_terminal_keys",
        sa.Column("terminal_id", sa.String(32), primary_key=True),
        sa.Column("tmk", sa.LargeBinary(), nullable=False),
        sa.Column("tmk_kcv", sa.String(6), nullable=False),
        sa.Column("tpk", sa.LargeBinary(), nullable=True),
        sa.Column("tpk_kcv", sa.String(6), nullable=True),
        sa.Column("tak", sa.LargeBinary(), nullable=True),
        sa.Column("tak_kcv", sa.String(6), nullable=True),
        sa.Column("key_version", sa.Integer(), nullable=False, server_default="0"),
        sa.Column("signed_on_at", sa.DateTime(timezone=True), nullable=True),
    )
    op.create_table(
        "host_iso_transactions",
        sa.Column("id", sa.Integer(), primary_key=True),
        sa.Column("terminal_id", sa.String(32), nullable=False),
        sa.Column("stan", sa.Integer(), nullable=False),
        sa.Column("transmission_time", sa.BigInteger(), nullable=False),
        sa.Column("mti", sa.String(4), nullable=False),
        sa.Column("processing_code", sa.String(6), nullable=False),
        sa.Column("amount_minor", sa.BigInteger(), nullable=False, server_default="0"),
        sa.Column("response_code", sa.String(2), nullable=False),
        sa.Column("auth_id", sa.String(6), nullable=True),
        sa.Column("reference", sa.String(64), nullable=True),
        sa.Column("reversal", sa.String(16), nullable=True),
        sa.Column("request_hash", sa.String(64), nullable=False),
        sa.Column("response", sa.LargeBinary(), nullable=False),
        sa.Column("received_at", sa.DateTime(timezone=True), nullable=False),
        sa.UniqueConstraint("terminal_id", "stan", "transmission_time"),
    )


def downgrade() -> None:
    op.drop_table("host_iso_transactions")
    op.drop_table("host_terminal_keys")
