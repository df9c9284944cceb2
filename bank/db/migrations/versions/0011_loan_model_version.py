"""Loan decisions by the trained model: probability of default, adverse-action reasons, the bank's facts.

The model version was already recorded (``model_version``); a decision by a trained scorecard also keeps
its probability of default, the attributes that cost the most points (catalogue keys) and the bank's own
facts about the customer shown to the reviewer. Nullable: rows decided before have none.

Revision ID: 0011_loan_model_version
Revises: 0010_host_terminals
Create Date: 2026-12-02
"""

import sqlalchemy as sa
from alembic import op

revision = "0011_loan_model_version"
down_revision = "0010_host_terminals"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("loan_applications") as batch:
        batch.add_column(sa.Column("default_probability", sa.Float(), nullable=True))
        batch.add_column(sa.Column("adverse_reasons", sa.JSON(), nullable=True))
        batch.add_column(sa.Column("bank_history", sa.JSON(), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("loan_applications") as batch:
        batch.drop_column("bank_history")
        batch.drop_column("adverse_reasons")
        batch.drop_column("default_probability")
