"""The card a PIN check (0100) was for, kept with the host's record of it: a retained-card advice the
terminal stores and forwards (0121) names that PIN check (DE90) instead of carrying the PAN, so no PAN
waits on the terminal's disk.

Revision ID: 0014_iso_card_of_pin_check
Revises: 0013_switch_forwarding
Create Date: 2026-12-05
"""

import sqlalchemy as sa
from alembic import op

revision = "0014_iso_card_of_pin_check"
down_revision = "0013_switch_forwarding"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("host_iso_transactions") as batch:
        batch.add_column(sa.Column("card_id", sa.Integer(), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("host_iso_transactions") as batch:
        batch.drop_column("card_id")
