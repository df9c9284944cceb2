"""Merge the bill-payment/loans and advice/help branches into one history.

Revision ID: 0007_merge
Revises: 0005_x1, 0006_x2
Create Date: 2026-11-26
"""

revision = "0007_merge"
down_revision = ("0005_x1", "0006_x2")
branch_labels = None
depends_on = None


def upgrade() -> None:
    pass


def downgrade() -> None:
    pass
