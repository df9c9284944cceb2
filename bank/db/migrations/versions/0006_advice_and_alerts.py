"""Wealth-advice records and staff alerts.

Revision ID: 0006_advice_alerts
Revises: 0004_merge
Create Date: 2026-12-01
"""

import sqlalchemy as sa
from alembic import op

revision = "0006_advice_alerts"
down_revision = "0004_merge"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "advice_records",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("session_id", sa.String(32), nullable=False),
        sa.Column("kiosk_id", sa.String(32), nullable=False),
        sa.Column("customer_id", sa.Integer(), nullable=False),
        sa.Column("questionnaire_version", sa.String(16), nullable=False),
        sa.Column("answers", sa.JSON(), nullable=False),
        sa.Column("score", sa.Integer(), nullable=False),
        sa.Column("band_level", sa.String(2), nullable=False),
        sa.Column("level", sa.String(2), nullable=False),
        sa.Column("caps", sa.JSON(), nullable=False),
        sa.Column("amount_minor", sa.BigInteger(), nullable=False),
        sa.Column("horizon_years", sa.Integer(), nullable=False),
        sa.Column("allocation", sa.JSON(), nullable=False),
        sa.Column("projection", sa.JSON(), nullable=False),
        sa.Column("products_refused", sa.JSON(), nullable=False),
        sa.Column("products_interest", sa.JSON(), nullable=False),
        sa.Column("created", sa.DateTime(timezone=True), nullable=False),
        sa.Column("updated", sa.DateTime(timezone=True), nullable=False),
        sa.CheckConstraint("level IN ('C1', 'C2', 'C3', 'C4', 'C5')", name="ck_advice_records_level"),
        sa.CheckConstraint("score >= 0 AND score <= 100", name="ck_advice_records_score"),
        sa.PrimaryKeyConstraint("id", name="pk_advice_records"),
    )
    op.create_index("ix_advice_records_customer_created", "advice_records", ["customer_id", "created"])
    op.create_table(
        "staff_alerts",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("kind", sa.String(32), nullable=False),
        sa.Column("kiosk_id", sa.String(32), nullable=False),
        sa.Column("session_id", sa.String(32), nullable=True),
        sa.Column("lang", sa.String(8), nullable=False),
        sa.Column("topic", sa.String(64), nullable=False),
        sa.Column("status", sa.String(16), nullable=False),
        sa.Column("raised_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("handled_by", sa.String(32), nullable=True),
        sa.Column("handled_at", sa.DateTime(timezone=True), nullable=True),
        sa.CheckConstraint(
            "status IN ('pending', 'acknowledged', 'resolved')", name="ck_staff_alerts_status"
        ),
        sa.PrimaryKeyConstraint("id", name="pk_staff_alerts"),
    )
    op.create_index("ix_staff_alerts_status_raised", "staff_alerts", ["status", "raised_at"])


def downgrade() -> None:
    op.drop_index("ix_staff_alerts_status_raised", table_name="staff_alerts")
    op.drop_table("staff_alerts")
    op.drop_index("ix_advice_records_customer_created", table_name="advice_records")
    op.drop_table("advice_records")
