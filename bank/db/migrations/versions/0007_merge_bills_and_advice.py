"""Merge the bill-payment/loans and advice/help branches into one history.

Revision ID: 0007_merge
Revises: 0005_bills_loans, 0006_advice_alerts
Create Date: 2026-11-26
"""

revision = "0007_merge"
down_revision = ("0005_bills_loans", "0006_advice_alerts")
branch_labels = None
depends_on = None


def upgrade() -> None:
    pass


def downgrade() -> None:
    pass
