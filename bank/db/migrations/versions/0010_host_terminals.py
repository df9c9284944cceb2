"""The bank host's own tables: enrolled terminals, seen nonces, journal checkpoints, idempotent replies, audit.

Revision ID: 0010_host_terminals
Revises: 0009_transfer_function
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op


revision = "0010_host_terminals"
down_revision = "0009_transfer_function"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "host_terminals",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("terminal_id", sa.String(length=32), nullable=False),
        sa.Column("status", sa.String(length=16), nullable=False),
        sa.Column("secret", sa.LargeBinary(), nullable=False),
        sa.Column("enrolled_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("revoked_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("last_seen_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("journal_seq", sa.BigInteger(), nullable=True),
        sa.Column("journal_hash", sa.String(length=64), nullable=True),
        sa.PrimaryKeyConstraint("id", name="pk_host_terminals"),
        sa.UniqueConstraint("terminal_id", name="uq_host_terminals_terminal_id"),
    )
    op.create_table(
        "host_nonces",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("terminal_id", sa.String(length=32), nullable=False),
        sa.Column("nonce", sa.String(length=64), nullable=False),
        sa.Column("seen_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("id", name="pk_host_nonces"),
        sa.UniqueConstraint("terminal_id", "nonce", name="uq_host_nonces_terminal_id"),
    )
    op.create_index("ix_host_nonces_seen_at", "host_nonces", ["seen_at"])
    op.create_table(
        "host_journal_checkpoints",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("terminal_id", sa.String(length=32), nullable=False),
        sa.Column("seq", sa.BigInteger(), nullable=False),
        sa.Column("hash", sa.String(length=64), nullable=False),
        sa.Column("received_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("id", name="pk_host_journal_checkpoints"),
        sa.UniqueConstraint("terminal_id", "seq", name="uq_host_journal_checkpoints_terminal_id"),
    )
    op.create_table(
        "host_idempotent_replies",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("terminal_id", sa.String(length=32), nullable=False),
        sa.Column("key", sa.String(length=96), nullable=False),
        sa.Column("endpoint", sa.String(length=96), nullable=False),
        sa.Column("request_hash", sa.String(length=64), nullable=False),
        sa.Column("status", sa.String(length=16), nullable=False),
        sa.Column("reply", sa.LargeBinary(), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("id", name="pk_host_idempotent_replies"),
        sa.UniqueConstraint("terminal_id", "key", name="uq_host_idempotent_replies_terminal_id"),
    )
    op.create_table(
        "host_audit",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("host_id", sa.String(length=32), nullable=False),
        sa.Column("terminal_id", sa.String(length=32), nullable=True),
        sa.Column("event", sa.String(length=64), nullable=False),
        sa.Column("fields", sa.Text(), nullable=False),
        sa.PrimaryKeyConstraint("id", name="pk_host_audit"),
    )
    op.create_index("ix_host_audit_at", "host_audit", ["at"])


def downgrade() -> None:
    op.drop_index("ix_host_audit_at", table_name="host_audit")
    op.drop_table("host_audit")
    op.drop_table("host_idempotent_replies")
    op.drop_table("host_journal_checkpoints")
    op.drop_index("ix_host_nonces_seen_at", table_name="host_nonces")
    op.drop_table("host_nonces")
    op.drop_table("host_terminals")
