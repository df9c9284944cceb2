from __future__ import annotations

from datetime import UTC, date, datetime, timedelta, timezone
from typing import Any

import pytest
from sqlalchemy import Engine, text
from sqlalchemy.exc import DBAPIError
from sqlalchemy.orm import Session

from bank.check import check_ledger
from bank.ledger import (
    BANK_TIMEZONE,
    Ledger,
    RefusalReason,
    TransferOutcome,
    TransferRefused,
    TransferRequest,
    bank_day_of,
)
from bank.models import (
    Account,
    InternalAccount,
    Posting,
    PostingImmutable,
    TransferKind,
    TransferStatus,
)


def account_id(engine: Engine, number: str) -> int:
    with Session(engine) as session:
        found = session.query(Account.id).filter(Account.number == number).scalar()
        assert found is not None
        return int(found)


def balances(engine: Engine, *ids: int) -> list[tuple[int, int]]:
    """(ledger balance, held by pending transfers) per account."""
    query = text("SELECT balance_minor, pending_debits_minor FROM bank_accounts WHERE id = :i")
    with engine.connect() as conn:
        return [(row[0], row[1]) for row in (conn.execute(query, {"i": i}).one() for i in ids)]


def request(key: str, debit: int, credit: int, amount: int, **extra: Any) -> TransferRequest:
    return TransferRequest(key, TransferKind.INTERNAL, debit, credit, amount, "CNY", **extra)


@pytest.fixture
def pair(seeded: Engine) -> tuple[int, int]:
    """Wang Fang's current (¥12,345.67) and Li Na's current (¥3,000.00, ¥1,000 overdraft)."""
    return account_id(seeded, "0001100000010014"), account_id(seeded, "0001100000010030")


def assert_check_ok(engine: Engine) -> None:
    with engine.connect() as conn:
        report = check_ledger(conn)
    assert report.ok, report.violations


def test_transfer_posts_two_balanced_postings(seeded: Engine, pair: tuple[int, int], clock: Any) -> None:
    wang, li = pair
    ledger = Ledger(seeded, clock=clock)
    result = ledger.transfer(request("t1", wang, li, 10_000, description="to Li"))
    assert isinstance(result, TransferOutcome) and result.status is TransferStatus.POSTED
    assert balances(seeded, wang, li) == [(1_234_567 - 10_000, 0), (300_000 + 10_000, 0)]
    with Session(seeded) as session:
        lines = session.query(Posting).filter(Posting.transfer_id == result.transfer_id).all()
    assert sorted(p.amount_minor for p in lines) == [-10_000, 10_000]
    assert {p.account_id: p.balance_after_minor for p in lines} == {wang: 1_224_567, li: 310_000}
    assert_check_ok(seeded)


def test_retry_with_same_key_replays_and_never_posts_twice(seeded: Engine, pair: tuple[int, int]) -> None:
    wang, li = pair
    ledger = Ledger(seeded)
    first = ledger.transfer(request("same-key", wang, li, 5_000))
    second = ledger.transfer(request("same-key", wang, li, 5_000))
    assert isinstance(first, TransferOutcome) and isinstance(second, TransferOutcome)
    assert second.replayed and second.transfer_id == first.transfer_id
    assert balances(seeded, wang)[0][0] == 1_234_567 - 5_000
    different = ledger.transfer(request("same-key", wang, li, 6_000))
    assert isinstance(different, TransferRefused) and different.reason is RefusalReason.IDEMPOTENCY_KEY_REUSED


def test_insufficient_funds_and_overdraft(seeded: Engine, pair: tuple[int, int]) -> None:
    wang, li = pair
    ledger = Ledger(seeded)
    refused = ledger.transfer(request("too-much", wang, li, 1_234_568))
    assert isinstance(refused, TransferRefused) and refused.reason is RefusalReason.INSUFFICIENT_FUNDS
    assert balances(seeded, wang)[0][0] == 1_234_567  # nothing written
    # Li Na has ¥3,000 and a ¥1,000 overdraft: ¥4,000 goes, one fen more does not.
    assert isinstance(ledger.transfer(request("od-1", li, wang, 400_000)), TransferOutcome)
    assert balances(seeded, li)[0][0] == -100_000
    refused = ledger.transfer(request("od-2", li, wang, 1))
    assert isinstance(refused, TransferRefused) and refused.reason is RefusalReason.INSUFFICIENT_FUNDS
    assert_check_ok(seeded)


def test_frozen_closed_and_unknown_accounts_refuse(seeded: Engine, pair: tuple[int, int]) -> None:
    wang, _ = pair
    frozen = account_id(seeded, "0001100000010071")
    ledger = Ledger(seeded)
    out = ledger.transfer(request("f1", frozen, wang, 100))
    assert isinstance(out, TransferRefused) and out.reason is RefusalReason.ACCOUNT_FROZEN
    into = ledger.transfer(request("f2", wang, frozen, 100))
    assert isinstance(into, TransferRefused) and into.reason is RefusalReason.PAYEE_ACCOUNT_FROZEN
    with seeded.begin() as conn:
        conn.execute(text("UPDATE bank_accounts SET status='closed' WHERE id=:i"), {"i": wang})
    closed = ledger.transfer(request("f3", wang, frozen, 100))
    assert isinstance(closed, TransferRefused) and closed.reason is RefusalReason.ACCOUNT_CLOSED
    unknown = ledger.transfer(request("f4", 99_999, wang, 100))
    assert isinstance(unknown, TransferRefused) and unknown.reason is RefusalReason.UNKNOWN_ACCOUNT
    bad = ledger.transfer(request("f5", wang, wang, 100))
    assert isinstance(bad, TransferRefused) and bad.reason is RefusalReason.SAME_ACCOUNT
    zero = ledger.transfer(request("f6", frozen, wang, 0))
    assert isinstance(zero, TransferRefused) and zero.reason is RefusalReason.INVALID_AMOUNT
    mixed = ledger.transfer(TransferRequest("f7", TransferKind.INTERNAL, frozen, wang, 100, "USD"))
    assert isinstance(mixed, TransferRefused) and mixed.reason is RefusalReason.CURRENCY_MISMATCH


def test_daily_limits_by_amount_and_count_reset_next_bank_day(
    seeded: Engine, pair: tuple[int, int], clock: Any
) -> None:
    wang, li = pair
    with seeded.begin() as conn:
        conn.execute(
            text(
                "UPDATE bank_accounts SET daily_transfer_limit_minor=50000, daily_transfer_count_limit=3"
                " WHERE id=:i"
            ),
            {"i": wang},
        )
    ledger = Ledger(seeded, clock=clock)
    assert isinstance(ledger.transfer(request("d1", wang, li, 30_000)), TransferOutcome)
    over = ledger.transfer(request("d2", wang, li, 20_001))
    assert isinstance(over, TransferRefused) and over.reason is RefusalReason.DAILY_LIMIT
    assert isinstance(ledger.transfer(request("d3", wang, li, 100)), TransferOutcome)
    assert isinstance(ledger.transfer(request("d4", wang, li, 100)), TransferOutcome)
    count = ledger.transfer(request("d5", wang, li, 100))
    assert isinstance(count, TransferRefused) and count.reason is RefusalReason.DAILY_COUNT_LIMIT
    # Internal channel (e.g. back-office) does not use the kiosk's limits.
    assert isinstance(ledger.transfer(request("d6", wang, li, 100, channel="branch")), TransferOutcome)
    clock.now += timedelta(hours=14)  # 00:00 next day in Beijing: a new bank day
    assert isinstance(ledger.transfer(request("d7", wang, li, 40_000)), TransferOutcome)
    assert_check_ok(seeded)


@pytest.mark.parametrize("server_transfers", [True, False], ids=["in the database", "general path"])
def test_the_bank_day_follows_the_ledgers_time_zone(
    seeded: Engine, pair: tuple[int, int], clock: Any, server_transfers: bool
) -> None:
    """20:00 UTC is already tomorrow in Beijing (the default zone) but still today in UTC: each ledger books
    the transfer, and counts its daily limits, on its own zone's day."""
    wang, li = pair
    clock.now = datetime(2026, 3, 10, 20, 0, tzinfo=UTC)
    assert BANK_TIMEZONE.utcoffset(None) == timedelta(hours=8)
    assert bank_day_of(clock.now) == date(2026, 3, 11)
    assert bank_day_of(clock.now, UTC) == date(2026, 3, 10)
    zones = {"cst": None, "utc": UTC, "honolulu": timezone(timedelta(hours=-10))}
    expected = {"cst": "2026-03-11", "utc": "2026-03-10", "honolulu": "2026-03-10"}
    for name, zone in zones.items():
        ledger = (
            Ledger(seeded, clock=clock, server_transfers=server_transfers)  # the default zone
            if zone is None
            else Ledger(seeded, clock=clock, server_transfers=server_transfers, timezone=zone)
        )
        result = ledger.transfer(request(f"tz-{name}", wang, li, 100))
        ledger.close()
        assert isinstance(result, TransferOutcome)
        with seeded.connect() as conn:
            booked = conn.execute(
                text("SELECT bank_day FROM bank_transfers WHERE id = :i"), {"i": result.transfer_id}
            ).scalar()
            counted = conn.execute(
                text("SELECT limit_day FROM bank_accounts WHERE id = :i"), {"i": wang}
            ).scalar()
        assert str(booked) == str(counted) == expected[name], name
    assert_check_ok(seeded)


def test_pending_holds_funds_then_posts_or_voids(seeded: Engine, pair: tuple[int, int], clock: Any) -> None:
    wang, _ = pair
    ledger = Ledger(seeded, clock=clock)
    clearing = ledger.internal_account_id(InternalAccount.CLEARING)
    fees = ledger.internal_account_id(InternalAccount.FEES)
    held = ledger.transfer(
        TransferRequest("p1", TransferKind.OTHER_BANK, wang, clearing, 1_000_000, "CNY", fee_minor=200),
        pending=True,
    )
    assert isinstance(held, TransferOutcome) and held.status is TransferStatus.PENDING
    assert balances(seeded, wang) == [(1_234_567, 1_000_200)]
    # The hold counts: only ¥2,343.67 is available now.
    refused = ledger.transfer(
        TransferRequest("p2", TransferKind.OTHER_BANK, wang, clearing, 234_368, "CNY"), pending=True
    )
    assert isinstance(refused, TransferRefused) and refused.reason is RefusalReason.INSUFFICIENT_FUNDS
    assert_check_ok(seeded)
    posted = ledger.post_pending(held.transfer_id)
    assert isinstance(posted, TransferOutcome) and posted.status is TransferStatus.POSTED
    assert balances(seeded, wang, clearing, fees) == [(1_234_567 - 1_000_200, 0), (1_000_000, 0), (200, 0)]
    again = ledger.post_pending(held.transfer_id)
    assert isinstance(again, TransferOutcome) and again.replayed
    cannot = ledger.void_pending(held.transfer_id, "late")
    assert isinstance(cannot, TransferRefused) and cannot.reason is RefusalReason.NOT_PENDING

    second = ledger.transfer(
        TransferRequest("p3", TransferKind.OTHER_BANK, wang, clearing, 10_000, "CNY", fee_minor=200),
        pending=True,
    )
    assert isinstance(second, TransferOutcome)
    voided = ledger.void_pending(second.transfer_id, "payee_account_closed")
    assert isinstance(voided, TransferOutcome) and voided.status is TransferStatus.VOIDED
    assert balances(seeded, wang) == [(1_234_567 - 1_000_200, 0)]
    replay = ledger.transfer(
        TransferRequest("p3", TransferKind.OTHER_BANK, wang, clearing, 10_000, "CNY", fee_minor=200),
        pending=True,
    )
    assert isinstance(replay, TransferOutcome) and replay.status is TransferStatus.VOIDED and replay.replayed
    assert replay.void_reason == "payee_account_closed"
    assert_check_ok(seeded)


def test_postings_are_immutable_in_orm_and_database(seeded: Engine) -> None:
    with Session(seeded) as session:
        posting = session.query(Posting).first()
        assert posting is not None
        posting.amount_minor += 1
        with pytest.raises(PostingImmutable):
            session.flush()
        session.rollback()
    for sql in ("UPDATE bank_postings SET amount_minor = amount_minor + 1", "DELETE FROM bank_postings"):
        with pytest.raises(DBAPIError, match="immutable"), seeded.begin() as conn:
            conn.execute(text(sql))
    assert_check_ok(seeded)


@pytest.mark.parametrize(
    ("sql", "rule"),
    [
        (
            "UPDATE bank_accounts SET balance_minor = balance_minor + 1 WHERE number = '0001100000010014'",
            "balance_matches_postings",
        ),
        (
            "UPDATE bank_accounts SET pending_debits_minor = 5 WHERE number = '0001100000010014'",
            "pending_holds",
        ),
        (
            "UPDATE bank_accounts SET balance_minor = -1 WHERE number = '0001200000010103'",
            "no_unauthorised_overdraft",
        ),
        ("UPDATE bank_transfers SET status = 'pending' WHERE id = 1", "postings_match_status"),
        (
            "UPDATE bank_accounts SET day_count = 7, limit_day = '2026-03-10' WHERE id = 4",
            "daily_limit_counters",
        ),
    ],
)
def test_check_names_the_violated_rule(seeded: Engine, sql: str, rule: str) -> None:
    with seeded.begin() as conn:
        conn.execute(text(sql))
    with seeded.connect() as conn:
        report = check_ledger(conn)
    assert not report.ok
    assert rule in {v.rule for v in report.violations}


def test_check_catches_an_unbalanced_transfer_smuggled_in(seeded: Engine) -> None:
    with seeded.begin() as conn:
        conn.execute(
            text(
                "INSERT INTO bank_postings (transfer_id, account_id, amount_minor, balance_after_minor,"
                " currency, description, created_at)"
                " VALUES (1, 4, 1, 0, 'CNY', 'forged', '2026-03-10 00:00:00')"
            )
        )
    with seeded.connect() as conn:
        rules = {v.rule for v in check_ledger(conn).violations}
    assert {"trial_balance", "transfer_balanced", "balance_matches_postings"} <= rules
