"""Bill payments and schedules, loan applications and the loan blacklist.

Revision ID: 0005_bills_loans
Revises: 0004_merge
Create Date: 2026-12-01
"""

import sqlalchemy as sa
from alembic import op

revision = "0005_bills_loans"
down_revision = "0004_merge"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table('loan_blacklist',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('id_number_hash', sa.String(length=64), nullable=False),
    sa.Column('reason', sa.String(length=64), nullable=False),
    sa.Column('added_at', sa.DateTime(timezone=True), nullable=False),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_loan_blacklist')),
    sa.UniqueConstraint('id_number_hash', name=op.f('uq_loan_blacklist_id_number_hash'))
    )
    op.create_table('bill_schedules',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('customer_id', sa.Integer(), nullable=False),
    sa.Column('from_account_id', sa.Integer(), nullable=False),
    sa.Column('biller_code', sa.String(length=16), nullable=False),
    sa.Column('account_number', sa.LargeBinary(), nullable=False),
    sa.Column('account_hash', sa.String(length=64), nullable=False),
    sa.Column('account_masked', sa.String(length=24), nullable=False),
    sa.Column('amount_minor', sa.BigInteger(), nullable=True),
    sa.Column('currency', sa.String(length=3), nullable=False),
    sa.Column('day_of_month', sa.Integer(), nullable=False),
    sa.Column('status', sa.String(length=16), nullable=False),
    sa.Column('last_period', sa.String(length=7), nullable=True),
    sa.Column('last_result', sa.String(length=32), nullable=True),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('cancelled_at', sa.DateTime(timezone=True), nullable=True),
    sa.CheckConstraint("status IN ('active', 'cancelled')", name=op.f('ck_bill_schedules_status')),
    sa.CheckConstraint('amount_minor IS NULL OR amount_minor > 0', name=op.f('ck_bill_schedules_amount_positive')),
    sa.CheckConstraint('day_of_month BETWEEN 1 AND 28', name=op.f('ck_bill_schedules_day_of_month')),
    sa.ForeignKeyConstraint(['customer_id'], ['bank_customers.id'], name=op.f('fk_bill_schedules_customer_id_bank_customers')),
    sa.ForeignKeyConstraint(['from_account_id'], ['bank_accounts.id'], name=op.f('fk_bill_schedules_from_account_id_bank_accounts')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_bill_schedules'))
    )
    op.create_index(op.f('ix_bill_schedules_customer_id'), 'bill_schedules', ['customer_id'], unique=False)
    op.create_table('loan_applications',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('reference', sa.String(length=16), nullable=False),
    sa.Column('customer_id', sa.Integer(), nullable=False),
    sa.Column('account_id', sa.Integer(), nullable=False),
    sa.Column('session_id', sa.String(length=32), nullable=False),
    sa.Column('amount_minor', sa.BigInteger(), nullable=False),
    sa.Column('term_months', sa.Integer(), nullable=False),
    sa.Column('monthly_income_minor', sa.BigInteger(), nullable=False),
    sa.Column('monthly_debt_minor', sa.BigInteger(), nullable=False),
    sa.Column('purpose', sa.String(length=32), nullable=False),
    sa.Column('instalment_minor', sa.BigInteger(), nullable=False),
    sa.Column('score', sa.Integer(), nullable=False),
    sa.Column('outcome', sa.String(length=16), nullable=False),
    sa.Column('status', sa.String(length=16), nullable=False),
    sa.Column('factors', sa.JSON(), nullable=False),
    sa.Column('rule_hits', sa.JSON(), nullable=False),
    sa.Column('reasons', sa.JSON(), nullable=False),
    sa.Column('model_version', sa.String(length=16), nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('reviewed_by', sa.String(length=32), nullable=True),
    sa.Column('reviewed_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('review_note', sa.String(length=200), nullable=True),
    sa.CheckConstraint("outcome IN ('approve', 'decline', 'refer')", name=op.f('ck_loan_applications_outcome')),
    sa.CheckConstraint("status IN ('decided', 'pending_review', 'review_approved', 'review_declined')", name=op.f('ck_loan_applications_status')),
    sa.CheckConstraint('amount_minor > 0', name=op.f('ck_loan_applications_amount_positive')),
    sa.CheckConstraint('term_months > 0', name=op.f('ck_loan_applications_term_positive')),
    sa.ForeignKeyConstraint(['account_id'], ['bank_accounts.id'], name=op.f('fk_loan_applications_account_id_bank_accounts')),
    sa.ForeignKeyConstraint(['customer_id'], ['bank_customers.id'], name=op.f('fk_loan_applications_customer_id_bank_customers')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_loan_applications')),
    sa.UniqueConstraint('reference', name=op.f('uq_loan_applications_reference'))
    )
    op.create_index(op.f('ix_loan_applications_customer_id'), 'loan_applications', ['customer_id'], unique=False)
    op.create_index(op.f('ix_loan_applications_status'), 'loan_applications', ['status'], unique=False)
    op.create_table('bill_payments',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('idempotency_key', sa.String(length=64), nullable=False),
    sa.Column('transfer_id', sa.Integer(), nullable=False),
    sa.Column('customer_id', sa.Integer(), nullable=False),
    sa.Column('from_account_id', sa.Integer(), nullable=False),
    sa.Column('biller_code', sa.String(length=16), nullable=False),
    sa.Column('account_hash', sa.String(length=64), nullable=False),
    sa.Column('account_masked', sa.String(length=24), nullable=False),
    sa.Column('period', sa.String(length=7), nullable=True),
    sa.Column('amount_minor', sa.BigInteger(), nullable=False),
    sa.Column('currency', sa.String(length=3), nullable=False),
    sa.Column('schedule_id', sa.Integer(), nullable=True),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.CheckConstraint('amount_minor > 0', name=op.f('ck_bill_payments_amount_positive')),
    sa.ForeignKeyConstraint(['customer_id'], ['bank_customers.id'], name=op.f('fk_bill_payments_customer_id_bank_customers')),
    sa.ForeignKeyConstraint(['from_account_id'], ['bank_accounts.id'], name=op.f('fk_bill_payments_from_account_id_bank_accounts')),
    sa.ForeignKeyConstraint(['schedule_id'], ['bill_schedules.id'], name=op.f('fk_bill_payments_schedule_id_bill_schedules')),
    sa.ForeignKeyConstraint(['transfer_id'], ['bank_transfers.id'], name=op.f('fk_bill_payments_transfer_id_bank_transfers')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_bill_payments')),
    sa.UniqueConstraint('idempotency_key', name=op.f('uq_bill_payments_idempotency_key'))
    )
    op.create_index('ix_bill_payments_biller_account_period', 'bill_payments', ['biller_code', 'account_hash', 'period'], unique=False)
    op.create_index(op.f('ix_bill_payments_customer_id'), 'bill_payments', ['customer_id'], unique=False)


def downgrade() -> None:
    op.drop_index(op.f('ix_bill_payments_customer_id'), table_name='bill_payments')
    op.drop_index('ix_bill_payments_biller_account_period', table_name='bill_payments')
    op.drop_table('bill_payments')
    op.drop_index(op.f('ix_loan_applications_status'), table_name='loan_applications')
    op.drop_index(op.f('ix_loan_applications_customer_id'), table_name='loan_applications')
    op.drop_table('loan_applications')
    op.drop_index(op.f('ix_bill_schedules_customer_id'), table_name='bill_schedules')
    op.drop_table('bill_schedules')
    op.drop_table('loan_blacklist')
