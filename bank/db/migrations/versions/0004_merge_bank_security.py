"""Merge the bank and security branches into one history.

Revision ID: 0004_merge
Revises: 0002_bank, 0003_security
Create Date: 2026-11-26
"""

revision = "0004_merge"
down_revision = ("0002_bank", "0003_security")
branch_labels = None
depends_on = None


def upgrade() -> None:
    pass


def downgrade() -> None:
    pass
