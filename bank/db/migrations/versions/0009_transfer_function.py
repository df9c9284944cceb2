"""A transfer in one statement: the function bank_post_transfer (PostgreSQL), a trigger (SQLite).

On PostgreSQL the Python rules need the locked account rows before they can decide, so a transfer run from
the client costs two round trips (insert + lock, then postings + balances + COMMIT). This function does
the same work inside the server: the kiosk sends the call and COMMIT together and waits once.

It carries the rules only as one yes-or-no condition, never their refusal reasons: it posts (or holds) only a
transfer that every rule in bank/ledger.py clearly allows — accounts active and in the request's currency, funds (or overdraft)
enough, inside the daily limits — and otherwise raises SQLSTATE ST001 ("declined"), which rolls
everything back. The ledger then runs the transfer again on its general path, where the Python rules give
the precise refusal (frozen, insufficient funds, daily limit, ...). Same rows either way:
tests/kiosk/bank/test_transfer_function.py compares the two paths on random accounts and requests.

On SQLite the ledger inserts the transfer row itself (INSERT ... RETURNING id: the idempotency guard), and
an INSTEAD OF INSERT trigger on the view bank_transfer_requests does the rest in SQLite's C — two statements
instead of six from Python. A decline is RAISE(ABORT, "bank_post_transfer: declined"); the ledger then
rolls the transaction back, transfer row included.

Revision ID: 0009_transfer_function
Revises: 0008_ledger_indexes
Create Date: 2026-11-26
"""

from alembic import op

revision = "0009_transfer_function"
down_revision = "0008_ledger_indexes"
branch_labels = None
depends_on = None

# The SQLSTATE bank/ledger.py reads as "declined, decide on the general path".
DECLINED = "ST001"

CREATE_FUNCTION = f"""
CREATE OR REPLACE FUNCTION bank_post_transfer(
    p_idempotency_key text, p_fingerprint text, p_kind text, p_pending boolean,
    p_debit integer, p_credit integer, p_amount bigint, p_fee bigint, p_currency text,
    p_payee_bank_code text, p_payee_account text, p_payee_name bytea,
    p_description text, p_payee_description text, p_channel text, p_kiosk_id text,
    p_bank_day date, p_now timestamptz, p_fee_account integer, p_use_daily_limits boolean
) RETURNS integer
LANGUAGE plpgsql AS $fn$
DECLARE
    new_id integer;
    acct record;
    debit record;
    credit record;
    fee_row record;
    have_debit boolean := false;
    have_credit boolean := false;
    have_fee_row boolean := false;
    hold bigint := p_amount + p_fee;
    v_day date;
    v_day_amount bigint;
    v_day_count integer;
BEGIN
    -- The idempotency guard first: a repeated key fails here (unique_violation) and the client replays it.
    INSERT INTO bank_transfers (
        idempotency_key, request_fingerprint, kind, status, debit_account_id, credit_account_id,
        amount_minor, fee_minor, currency, payee_bank_code, payee_account, payee_name, description,
        channel, kiosk_id, bank_day, created_at, resolved_at
    ) VALUES (
        p_idempotency_key, p_fingerprint, p_kind, CASE WHEN p_pending THEN 'pending' ELSE 'posted' END,
        p_debit, p_credit, p_amount, p_fee, p_currency, p_payee_bank_code, p_payee_account, p_payee_name,
        p_description, p_channel, p_kiosk_id, p_bank_day, p_now, CASE WHEN p_pending THEN NULL ELSE p_now END
    ) RETURNING id INTO new_id;

    -- Lock the accounts in ascending id order, as the general path does, so two kiosks never deadlock.
    FOR acct IN
        SELECT a.id, a.kind, a.status, a.currency, a.balance_minor, a.pending_debits_minor,
               a.overdraft_allowed, a.overdraft_limit_minor, a.daily_transfer_limit_minor,
               a.daily_transfer_count_limit, a.limit_day, a.day_amount_minor, a.day_count
        FROM bank_accounts AS a
        WHERE a.id IN (p_debit, p_credit, p_fee_account)
        ORDER BY a.id
        FOR NO KEY UPDATE OF a
    LOOP
        IF acct.id = p_debit THEN
            debit := acct;
            have_debit := true;
        ELSIF acct.id = p_credit THEN
            credit := acct;
            have_credit := true;
        ELSE
            fee_row := acct;
            have_fee_row := true;
        END IF;
    END LOOP;

    -- Anything short of a clear yes goes to the general path, which names the reason.
    IF NOT (have_debit AND have_credit)
       OR (p_fee > 0 AND (NOT have_fee_row OR p_fee_account IN (p_debit, p_credit)))
       OR debit.currency <> p_currency OR debit.status <> 'active'
       OR credit.currency <> p_currency OR credit.status <> 'active'
       OR (debit.kind <> 'internal' AND hold > debit.balance_minor - debit.pending_debits_minor
           + CASE WHEN debit.overdraft_allowed THEN debit.overdraft_limit_minor ELSE 0 END)
    THEN
        RAISE EXCEPTION 'transfer declined by bank_post_transfer' USING ERRCODE = '{DECLINED}';
    END IF;

    v_day := debit.limit_day;
    v_day_amount := debit.day_amount_minor;
    v_day_count := debit.day_count;
    IF p_use_daily_limits THEN
        IF v_day IS DISTINCT FROM p_bank_day THEN
            v_day := p_bank_day;
            v_day_amount := 0;
            v_day_count := 0;
        END IF;
        IF v_day_count + 1 > debit.daily_transfer_count_limit
           OR v_day_amount + p_amount > debit.daily_transfer_limit_minor THEN
            RAISE EXCEPTION 'transfer declined by bank_post_transfer' USING ERRCODE = '{DECLINED}';
        END IF;
        v_day_amount := v_day_amount + p_amount;
        v_day_count := v_day_count + 1;
    END IF;

    IF p_pending THEN
        UPDATE bank_accounts
        SET pending_debits_minor = debit.pending_debits_minor + hold,
            limit_day = v_day, day_amount_minor = v_day_amount, day_count = v_day_count
        WHERE id = p_debit;
        RETURN new_id;
    END IF;

    UPDATE bank_accounts
    SET balance_minor = debit.balance_minor - hold,
        limit_day = v_day, day_amount_minor = v_day_amount, day_count = v_day_count
    WHERE id = p_debit;
    UPDATE bank_accounts SET balance_minor = credit.balance_minor + p_amount WHERE id = p_credit;
    -- Postings in the general path's order, each with the running balance after it.
    INSERT INTO bank_postings (
        transfer_id, account_id, amount_minor, balance_after_minor, currency, description, created_at
    ) VALUES
        (new_id, p_debit, -p_amount, debit.balance_minor - p_amount, p_currency, p_description, p_now),
        (new_id, p_credit, p_amount, credit.balance_minor + p_amount, p_currency, p_payee_description, p_now);
    IF p_fee > 0 THEN
        UPDATE bank_accounts SET balance_minor = fee_row.balance_minor + p_fee WHERE id = p_fee_account;
        INSERT INTO bank_postings (
            transfer_id, account_id, amount_minor, balance_after_minor, currency, description, created_at
        ) VALUES
            (new_id, p_debit, -p_fee, debit.balance_minor - hold, p_currency, 'Transfer fee', p_now),
            (new_id, p_fee_account, p_fee, fee_row.balance_minor + p_fee, p_currency,
             'Fee, transfer ' || new_id, p_now);
    END IF;
    RETURN new_id;
END
$fn$
"""

# SQLite has no functions, but an INSTEAD OF trigger on a view runs the steps after the transfer row's insert
# inside one statement, in SQLite's C: INSERT INTO bank_transfer_requests (REQUEST_COLUMNS) posts or holds
# the transfer just inserted, or aborts with DECLINED_MESSAGE having written nothing.
DECLINED_MESSAGE = "bank_post_transfer: declined"
REQUEST_COLUMNS = (
    "transfer_id",
    "pending",
    "debit",
    "credit",
    "amount",
    "fee",
    "currency",
    "description",
    "payee_description",
    "bank_day",
    "now",
    "fee_account",
    "use_daily_limits",
)
CREATE_VIEW = "CREATE VIEW bank_transfer_requests AS SELECT " + ", ".join(
    f"NULL AS {column}" for column in REQUEST_COLUMNS
)
# Every UPDATE's SET reads the row as it was before the UPDATE (SQL semantics), so the debit row's day
# counters, holds and balance are each computed from the locked row, like the function's.
SAME_DAY = "limit_day IS NEW.bank_day"
CREATE_TRIGGER = f"""
CREATE TRIGGER bank_transfer_requests_post INSTEAD OF INSERT ON bank_transfer_requests
BEGIN
    SELECT RAISE(ABORT, '{DECLINED_MESSAGE}')
    WHERE NOT EXISTS (
        SELECT 1 FROM bank_accounts AS d, bank_accounts AS c
        WHERE d.id = NEW.debit AND c.id = NEW.credit
          AND d.currency = NEW.currency AND d.status = 'active'
          AND c.currency = NEW.currency AND c.status = 'active'
          AND (d.kind = 'internal' OR NEW.amount + NEW.fee <= d.balance_minor - d.pending_debits_minor
               + CASE WHEN d.overdraft_allowed THEN d.overdraft_limit_minor ELSE 0 END)
          AND (NOT NEW.use_daily_limits OR (
               CASE WHEN d.{SAME_DAY} THEN d.day_count ELSE 0 END + 1 <= d.daily_transfer_count_limit
               AND CASE WHEN d.{SAME_DAY} THEN d.day_amount_minor ELSE 0 END + NEW.amount
                   <= d.daily_transfer_limit_minor))
          AND (NEW.fee = 0 OR (NEW.fee_account NOT IN (NEW.debit, NEW.credit)
               AND EXISTS (SELECT 1 FROM bank_accounts AS f WHERE f.id = NEW.fee_account)))
    );
    UPDATE bank_accounts SET
        balance_minor = balance_minor - CASE WHEN NEW.pending THEN 0 ELSE NEW.amount + NEW.fee END,
        pending_debits_minor = pending_debits_minor + CASE WHEN NEW.pending THEN NEW.amount + NEW.fee ELSE 0 END,
        limit_day = CASE WHEN NEW.use_daily_limits THEN NEW.bank_day ELSE limit_day END,
        day_amount_minor = CASE WHEN NEW.use_daily_limits
            THEN CASE WHEN {SAME_DAY} THEN day_amount_minor ELSE 0 END + NEW.amount
            ELSE day_amount_minor END,
        day_count = CASE WHEN NEW.use_daily_limits
            THEN CASE WHEN {SAME_DAY} THEN day_count ELSE 0 END + 1
            ELSE day_count END
    WHERE id = NEW.debit;
    UPDATE bank_accounts SET balance_minor = balance_minor + NEW.amount
    WHERE id = NEW.credit AND NOT NEW.pending;
    UPDATE bank_accounts SET balance_minor = balance_minor + NEW.fee
    WHERE id = NEW.fee_account AND NOT NEW.pending AND NEW.fee > 0;
    -- Postings in the general path's order, each with the running balance after it.
    INSERT INTO bank_postings (
        transfer_id, account_id, amount_minor, balance_after_minor, currency, description, created_at
    )
    SELECT NEW.transfer_id, id, -NEW.amount, balance_minor + NEW.fee, NEW.currency, NEW.description, NEW.now
    FROM bank_accounts WHERE id = NEW.debit AND NOT NEW.pending;
    INSERT INTO bank_postings (
        transfer_id, account_id, amount_minor, balance_after_minor, currency, description, created_at
    )
    SELECT NEW.transfer_id, id, NEW.amount, balance_minor, NEW.currency, NEW.payee_description, NEW.now
    FROM bank_accounts WHERE id = NEW.credit AND NOT NEW.pending;
    INSERT INTO bank_postings (
        transfer_id, account_id, amount_minor, balance_after_minor, currency, description, created_at
    )
    SELECT NEW.transfer_id, id, -NEW.fee, balance_minor, NEW.currency, 'Transfer fee', NEW.now
    FROM bank_accounts WHERE id = NEW.debit AND NOT NEW.pending AND NEW.fee > 0;
    INSERT INTO bank_postings (
        transfer_id, account_id, amount_minor, balance_after_minor, currency, description, created_at
    )
    SELECT NEW.transfer_id, id, NEW.fee, balance_minor, NEW.currency, 'Fee, transfer ' || NEW.transfer_id,
           NEW.now
    FROM bank_accounts WHERE id = NEW.fee_account AND NOT NEW.pending AND NEW.fee > 0;
END
"""

DROP_FUNCTION = (
    "DROP FUNCTION IF EXISTS bank_post_transfer(text, text, text, boolean, integer, integer, bigint, bigint, "
    "text, text, text, bytea, text, text, text, text, date, timestamptz, integer, boolean)"
)


def upgrade() -> None:
    dialect = op.get_bind().dialect.name
    if dialect == "postgresql":
        op.execute(CREATE_FUNCTION)
    elif dialect == "sqlite":
        op.execute(CREATE_VIEW)
        op.execute(CREATE_TRIGGER)


def downgrade() -> None:
    dialect = op.get_bind().dialect.name
    if dialect == "postgresql":
        op.execute(DROP_FUNCTION)
    elif dialect == "sqlite":
        op.execute("DROP TRIGGER IF EXISTS bank_transfer_requests_post")
        op.execute("DROP VIEW IF EXISTS bank_transfer_requests")
