"""Journal anchoring: a checkpoint the terminal sends on purpose carries its journal's record count and
the host's seal (an HMAC under a per-terminal key only the host can derive).

Revision ID: 0015_journal_anchors
Revises: 0014_iso_card_of_pin_check
Create Date: 2026-12-06
"""

import sqlalchemy as sa
from alembic import op

revision = "0015_journal_anchors"
down_revision = "0014_iso_card_of_pin_check"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("host_journal_checkpoints") as batch:
        batch.add_column(sa.Column("records", sa.BigInteger(), nullable=True))
        batch.add_column(sa.Column("seal", sa.String(64), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("host_journal_checkpoints") as batch:
        batch.drop_column("seal")
        batch.drop_column("records")
