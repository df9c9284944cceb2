"""Ledger indexes: only those a query needs, so a transfer's commit writes fewer pages.

Every index on bank_transfers and bank_postings is written by every transfer. Removed: the status/kind index
(only pending rows are ever looked up by status: now a partial index on pending rows), the debit/credit
account indexes (no query looks transfers up by account; loan scoring counts a customer's voided transfers:
now a partial index on voided rows), and the postings' transfer_id index (only `bank check` joins postings to
transfers, over the whole ledger). The one cost: deleting an account row (undoing an opening interrupted by a
crash) checks the transfers' foreign keys with a table scan.

Revision ID: 0008_ledger_indexes
Revises: 0007_merge
Create Date: 2026-12-02
"""

import sqlalchemy as sa
from alembic import op

revision = "0008_ledger_indexes"
down_revision = "0007_merge"
branch_labels = None
depends_on = None

# Same predicates as bank/models.py (PENDING_ONLY, VOIDED_ONLY).
PENDING_ONLY = "status = 'pending'"
VOIDED_ONLY = "status = 'voided'"


def upgrade() -> None:
    op.drop_index("ix_bank_transfers_status_kind", table_name="bank_transfers")
    op.drop_index("ix_bank_transfers_credit_account_id", table_name="bank_transfers")
    op.drop_index("ix_bank_transfers_debit_account_id", table_name="bank_transfers")
    op.drop_index("ix_bank_postings_transfer_id", table_name="bank_postings")
    op.create_index(
        "ix_bank_transfers_pending_id",
        "bank_transfers",
        ["id"],
        sqlite_where=sa.text(PENDING_ONLY),
        postgresql_where=sa.text(PENDING_ONLY),
    )
    op.create_index(
        "ix_bank_transfers_voided_debit_account_id",
        "bank_transfers",
        ["debit_account_id"],
        sqlite_where=sa.text(VOIDED_ONLY),
        postgresql_where=sa.text(VOIDED_ONLY),
    )


def downgrade() -> None:
    op.drop_index("ix_bank_transfers_voided_debit_account_id", table_name="bank_transfers")
    op.drop_index("ix_bank_transfers_pending_id", table_name="bank_transfers")
    op.create_index("ix_bank_postings_transfer_id", "bank_postings", ["transfer_id"])
    op.create_index("ix_bank_transfers_debit_account_id", "bank_transfers", ["debit_account_id"])
    op.create_index("ix_bank_transfers_credit_account_id", "bank_transfers", ["credit_account_id"])
    op.create_index("ix_bank_transfers_status_kind", "bank_transfers", ["status", "kind"])
