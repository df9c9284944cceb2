"""Bank: customers (PII encrypted), accounts, cards, transfers and immutable postings.

Revision ID: 0002_bank
Revises: 0001_base
Create Date: 2026-11-26
"""

import sqlalchemy as sa
from alembic import op

revision = "0002_bank"
down_revision = "0001_base"
branch_labels = None
depends_on = None

# Postings are never updated or deleted; the database refuses it even for raw SQL (same text as models.py).
SQLITE_TRIGGERS = (
    "CREATE TRIGGER IF NOT EXISTS bank_postings_no_update BEFORE UPDATE ON bank_postings "
    "BEGIN SELECT RAISE(ABORT, 'bank_postings are immutable'); END",
    "CREATE TRIGGER IF NOT EXISTS bank_postings_no_delete BEFORE DELETE ON bank_postings "
    "BEGIN SELECT RAISE(ABORT, 'bank_postings are immutable'); END",
)
POSTGRESQL_TRIGGERS = (
    "CREATE OR REPLACE FUNCTION bank_postings_immutable() RETURNS trigger LANGUAGE plpgsql AS "
    "$$ BEGIN RAISE EXCEPTION 'bank_postings are immutable'; END $$",
    "CREATE TRIGGER bank_postings_no_change BEFORE UPDATE OR DELETE ON bank_postings "
    "FOR EACH ROW EXECUTE FUNCTION bank_postings_immutable()",
)


def upgrade() -> None:
    op.create_table('bank_customers',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('name', sa.LargeBinary(), nullable=False),
    sa.Column('id_type', sa.String(length=16), nullable=False),
    sa.Column('id_number_hash', sa.String(length=64), nullable=False),
    sa.Column('id_number', sa.LargeBinary(), nullable=False),
    sa.Column('id_expiry', sa.Date(), nullable=True),
    sa.Column('birth_date', sa.Date(), nullable=False),
    sa.Column('phone', sa.LargeBinary(), nullable=False),
    sa.Column('phone_hash', sa.String(length=64), nullable=False),
    sa.Column('address', sa.LargeBinary(), nullable=False),
    sa.Column('occupation', sa.String(length=64), nullable=False),
    sa.Column('photo', sa.LargeBinary(), nullable=True),
    sa.Column('face_template', sa.LargeBinary(), nullable=True),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_bank_customers')),
    sa.UniqueConstraint('id_number_hash', name=op.f('uq_bank_customers_id_number_hash'))
    )
    op.create_index(op.f('ix_bank_customers_phone_hash'), 'bank_customers', ['phone_hash'], unique=False)
    op.create_table('bank_accounts',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('number', sa.String(length=19), nullable=False),
    sa.Column('customer_id', sa.Integer(), nullable=True),
    sa.Column('kind', sa.String(length=16), nullable=False),
    sa.Column('internal_code', sa.String(length=16), nullable=True),
    sa.Column('status', sa.String(length=16), nullable=False),
    sa.Column('currency', sa.String(length=3), nullable=False),
    sa.Column('balance_minor', sa.BigInteger(), nullable=False),
    sa.Column('pending_debits_minor', sa.BigInteger(), nullable=False),
    sa.Column('overdraft_allowed', sa.Boolean(), nullable=False),
    sa.Column('overdraft_limit_minor', sa.BigInteger(), nullable=False),
    sa.Column('daily_transfer_limit_minor', sa.BigInteger(), nullable=False),
    sa.Column('daily_transfer_count_limit', sa.Integer(), nullable=False),
    sa.Column('limit_day', sa.Date(), nullable=True),
    sa.Column('day_amount_minor', sa.BigInteger(), nullable=False),
    sa.Column('day_count', sa.Integer(), nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.CheckConstraint("kind IN ('current', 'savings', 'internal')", name=op.f('ck_bank_accounts_kind')),
    sa.CheckConstraint("status IN ('active', 'frozen', 'closed')", name=op.f('ck_bank_accounts_status')),
    sa.CheckConstraint('overdraft_limit_minor >= 0', name=op.f('ck_bank_accounts_overdraft_limit')),
    sa.CheckConstraint('pending_debits_minor >= 0', name=op.f('ck_bank_accounts_pending_debits')),
    sa.ForeignKeyConstraint(['customer_id'], ['bank_customers.id'], name=op.f('fk_bank_accounts_customer_id_bank_customers')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_bank_accounts')),
    sa.UniqueConstraint('internal_code', name=op.f('uq_bank_accounts_internal_code')),
    sa.UniqueConstraint('number', name=op.f('uq_bank_accounts_number'))
    )
    op.create_index(op.f('ix_bank_accounts_customer_id'), 'bank_accounts', ['customer_id'], unique=False)
    op.create_table('bank_cards',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('account_id', sa.Integer(), nullable=False),
    sa.Column('pan_hash', sa.String(length=64), nullable=False),
    sa.Column('pan_encrypted', sa.LargeBinary(), nullable=False),
    sa.Column('pan_masked', sa.String(length=19), nullable=False),
    sa.Column('expiry', sa.String(length=4), nullable=False),
    sa.Column('status', sa.String(length=16), nullable=False),
    sa.Column('pvv', sa.String(length=64), nullable=True),
    sa.Column('pin_failures', sa.Integer(), nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.CheckConstraint("status IN ('active', 'retained', 'blocked', 'pending_issue')", name=op.f('ck_bank_cards_status')),
    sa.ForeignKeyConstraint(['account_id'], ['bank_accounts.id'], name=op.f('fk_bank_cards_account_id_bank_accounts')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_bank_cards')),
    sa.UniqueConstraint('pan_hash', name=op.f('uq_bank_cards_pan_hash'))
    )
    op.create_index(op.f('ix_bank_cards_account_id'), 'bank_cards', ['account_id'], unique=False)
    op.create_table('bank_transfers',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('idempotency_key', sa.String(length=64), nullable=False),
    sa.Column('request_fingerprint', sa.String(length=64), nullable=False),
    sa.Column('kind', sa.String(length=16), nullable=False),
    sa.Column('status', sa.String(length=16), nullable=False),
    sa.Column('debit_account_id', sa.Integer(), nullable=False),
    sa.Column('credit_account_id', sa.Integer(), nullable=False),
    sa.Column('amount_minor', sa.BigInteger(), nullable=False),
    sa.Column('fee_minor', sa.BigInteger(), nullable=False),
    sa.Column('currency', sa.String(length=3), nullable=False),
    sa.Column('payee_bank_code', sa.String(length=12), nullable=True),
    sa.Column('payee_account', sa.String(length=34), nullable=True),
    sa.Column('payee_name', sa.LargeBinary(), nullable=True),
    sa.Column('description', sa.String(length=80), nullable=False),
    sa.Column('channel', sa.String(length=16), nullable=False),
    sa.Column('kiosk_id', sa.String(length=32), nullable=False),
    sa.Column('bank_day', sa.Date(), nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('resolved_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('void_reason', sa.String(length=64), nullable=True),
    sa.CheckConstraint("status IN ('pending', 'posted', 'voided')", name=op.f('ck_bank_transfers_status')),
    sa.CheckConstraint('amount_minor > 0', name=op.f('ck_bank_transfers_amount_positive')),
    sa.CheckConstraint('debit_account_id <> credit_account_id', name=op.f('ck_bank_transfers_two_accounts')),
    sa.CheckConstraint('fee_minor >= 0', name=op.f('ck_bank_transfers_fee_not_negative')),
    sa.ForeignKeyConstraint(['credit_account_id'], ['bank_accounts.id'], name=op.f('fk_bank_transfers_credit_account_id_bank_accounts')),
    sa.ForeignKeyConstraint(['debit_account_id'], ['bank_accounts.id'], name=op.f('fk_bank_transfers_debit_account_id_bank_accounts')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_bank_transfers')),
    sa.UniqueConstraint('idempotency_key', name=op.f('uq_bank_transfers_idempotency_key'))
    )
    op.create_index(op.f('ix_bank_transfers_credit_account_id'), 'bank_transfers', ['credit_account_id'], unique=False)
    op.create_index(op.f('ix_bank_transfers_debit_account_id'), 'bank_transfers', ['debit_account_id'], unique=False)
    op.create_index('ix_bank_transfers_status_kind', 'bank_transfers', ['status', 'kind'], unique=False)
    op.create_table('bank_postings',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('transfer_id', sa.Integer(), nullable=False),
    sa.Column('account_id', sa.Integer(), nullable=False),
    sa.Column('amount_minor', sa.BigInteger(), nullable=False),
    sa.Column('balance_after_minor', sa.BigInteger(), nullable=False),
    sa.Column('currency', sa.String(length=3), nullable=False),
    sa.Column('description', sa.String(length=80), nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.CheckConstraint('amount_minor <> 0', name=op.f('ck_bank_postings_amount_not_zero')),
    sa.ForeignKeyConstraint(['account_id'], ['bank_accounts.id'], name=op.f('fk_bank_postings_account_id_bank_accounts')),
    sa.ForeignKeyConstraint(['transfer_id'], ['bank_transfers.id'], name=op.f('fk_bank_postings_transfer_id_bank_transfers')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_bank_postings'))
    )
    op.create_index('ix_bank_postings_account_id_id', 'bank_postings', ['account_id', 'id'], unique=False)
    op.create_index(op.f('ix_bank_postings_transfer_id'), 'bank_postings', ['transfer_id'], unique=False)

    dialect = op.get_bind().dialect.name
    for statement in {"sqlite": SQLITE_TRIGGERS, "postgresql": POSTGRESQL_TRIGGERS}.get(dialect, ()):
        op.execute(statement)


def downgrade() -> None:
    dialect = op.get_bind().dialect.name
    if dialect == "sqlite":
        op.execute("DROP TRIGGER IF EXISTS bank_postings_no_update")
        op.execute("DROP TRIGGER IF EXISTS bank_postings_no_delete")
    elif dialect == "postgresql":
        op.execute("DROP TRIGGER IF EXISTS bank_postings_no_change ON bank_postings")
        op.execute("DROP FUNCTION IF EXISTS bank_postings_immutable()")
    for table in ("bank_postings", "bank_transfers", "bank_cards", "bank_accounts", "bank_customers"):
        op.drop_table(table)
