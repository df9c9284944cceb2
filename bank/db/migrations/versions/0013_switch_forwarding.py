"""Forwarding other-bank transfers to the interbank switch over ISO 8583: one row per transfer, its
state (new, sent, approved, declined, reversing, reversed), the 0200's DE11/DE7 and the messages sent.

Revision ID: 0013_switch_forwarding
Revises: 0012_terminal_keys
Create Date: 2026-12-04
"""

import sqlalchemy as sa
from alembic import op

revision = "0013_switch_forwarding"
down_revision = "0012_terminal_keys"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "host_switch_forwarding",
        sa.Column("transfer_id", sa.Integer(), nullable=False),
        sa.Column("stan", sa.String(length=6), nullable=True),
        sa.Column("transmission_time", sa.String(length=10), nullable=True),
        sa.Column("state", sa.String(length=16), nullable=False),
        sa.Column("attempts", sa.Integer(), nullable=False),
        sa.Column("response_code", sa.String(length=2), nullable=True),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.CheckConstraint(
            "state IN ('new', 'sent', 'approved', 'declined', 'reversing', 'reversed')",
            name=op.f("ck_host_switch_forwarding_state"),
        ),
        sa.ForeignKeyConstraint(
            ["transfer_id"],
            ["bank_transfers.id"],
            name=op.f("fk_host_switch_forwarding_transfer_id_bank_transfers"),
        ),
        sa.PrimaryKeyConstraint("transfer_id", name=op.f("pk_host_switch_forwarding")),
    )
    op.create_index("ix_host_switch_forwarding_state", "host_switch_forwarding", ["state"])


def downgrade() -> None:
    op.drop_index("ix_host_switch_forwarding_state", table_name="host_switch_forwarding")
    op.drop_table("host_switch_forwarding")
