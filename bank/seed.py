"""Seed data for the simulated build: five customers, their accounts and cards (test PINs in the README).

Balances arrive through the ledger (FUNDING → account transfers with fixed idempotency keys), so the seed
obeys the same invariants as everything else. Seeding is idempotent: ``kiosk_meta['bank.seed']`` marks a
finished seed, and a seed interrupted half-way resumes (customers are found by ID number, transfers by key).

Test fixtures on purpose: Zhang Min's card expired in January 2023; Chen Jie's current account is frozen;
Liu Yang has ¥88.00 (for insufficient-funds journeys); Li Na's current account allows a ¥1,000 overdraft.
Wang Fang's card uses the design's PIN-block test vector PAN ``43219876543210987`` (17 digits; it is not
Luhn-valid — the vector predates us — so card look-up never insists on Luhn).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import date

from sqlalchemy import Engine, select
from sqlalchemy.orm import Session

from bank.db.models import KioskMeta
from bank.ledger import Ledger, TransferOutcome, TransferRequest
from bank.models import (
    Account,
    AccountKind,
    AccountStatus,
    CardStatus,
    Customer,
    InternalAccount,
    TransferKind,
    find_card_by_pan,
    find_customer_by_id_number,
    id_number_lookup_hash,
    new_card,
    phone_lookup_hash,
)
from bank.security.vault import Vault
from hostlink.kyc import birth_date_from_id

SEED_META_KEY = "bank.seed"
SEED_VERSION = "1"


@dataclass(frozen=True)
class SeedAccount:
    number: str
    kind: AccountKind
    opening_minor: int
    status: AccountStatus = AccountStatus.ACTIVE
    overdraft_limit_minor: int = 0


@dataclass(frozen=True)
class SeedCard:
    """A test card: what the card-reader simulator encodes on its virtual cards (track name SURNAME/GIVEN)."""

    pan: str = field(repr=False)
    name: str
    expiry: str  # YYMM
    pin: str = field(repr=False)  # test PIN, documented in the README; never stored by the bank
    account: str  # the account number the card is linked to


@dataclass(frozen=True)
class SeedCustomer:
    name: str
    id_number: str = field(repr=False)
    id_expiry: date | None
    phone: str
    address: str
    occupation: str
    accounts: tuple[SeedAccount, ...]


SEED_CUSTOMERS: tuple[SeedCustomer, ...] = (
    SeedCustomer(
        "王芳",
        "11010519491231002X",
        None,
        "13800000001",
        "北京市东城区东长安街1号",
        "retired",
        (
            SeedAccount("0001100000010014", AccountKind.CURRENT, 1_234_567),
            SeedAccount("0001200000010020", AccountKind.SAVINGS, 5_000_000),
        ),
    ),
    SeedCustomer(
        "李娜",
        "310104198506120326",
        date(2035, 6, 12),
        "13800000002",
        "上海市徐汇区漕溪北路88号",
        "engineer",
        (
            SeedAccount("0001100000010030", AccountKind.CURRENT, 300_000, overdraft_limit_minor=100_000),
            SeedAccount("0001200000010046", AccountKind.SAVINGS, 2_000_000),
        ),
    ),
    SeedCustomer(
        "张敏",
        "440305199203041568",
        date(2032, 3, 4),
        "13800000003",
        "深圳市南山区科技园南路2号",
        "teacher",
        (
            SeedAccount("0001100000010055", AccountKind.CURRENT, 500_000),
            SeedAccount("0001200000010061", AccountKind.SAVINGS, 1_000_000),
        ),
    ),
    SeedCustomer(
        "陈杰",
        "510107197809152837",
        date(2030, 9, 15),
        "13800000004",
        "成都市武侯区人民南路4段9号",
        "merchant",
        (
            SeedAccount("0001100000010071", AccountKind.CURRENT, 800_000, status=AccountStatus.FROZEN),
            SeedAccount("0001200000010087", AccountKind.SAVINGS, 300_000),
        ),
    ),
    SeedCustomer(
        "刘洋",
        "330106200101014177",
        date(2031, 1, 1),
        "13800000005",
        "杭州市西湖区文三路5号",
        "student",
        (
            SeedAccount("0001100000010097", AccountKind.CURRENT, 8_800),
            SeedAccount("0001200000010103", AccountKind.SAVINGS, 10_000),
        ),
    ),
)

SEED_CARDS: tuple[SeedCard, ...] = (
    SeedCard("43219876543210987", "WANG/FANG", "3012", "1234", "0001100000010014"),
    SeedCard("6212340000001017", "LI/NA", "3106", "2468", "0001100000010030"),
    SeedCard("6212340000002023", "ZHANG/MIN", "2301", "1357", "0001100000010055"),  # expired
    SeedCard("6212340000003039", "CHEN/JIE", "3009", "8642", "0001100000010071"),  # frozen account
    SeedCard("6212340000004045", "LIU/YANG", "3101", "9753", "0001100000010097"),  # ¥88.00
)


@dataclass(frozen=True)
class SeedReport:
    created: bool  # False when the database was already seeded
    customers: int
    accounts: int
    cards: int


def seed_bank(session: Session, vault: Vault, *, pvv_for: Callable[[str, str], str]) -> SeedReport:
    """Create the seed customers, accounts (funded through the ledger) and cards; once.

    ``pvv_for(pan, pin)`` is the HSM's PIN verification value; only that is stored, never the PIN. The
    session's pending work is committed.
    """
    if session.get(KioskMeta, SEED_META_KEY) is not None:
        return SeedReport(False, len(SEED_CUSTOMERS), _account_count(), len(SEED_CARDS))
    for spec in SEED_CUSTOMERS:
        if find_customer_by_id_number(session, vault, spec.id_number) is None:
            _add_customer(session, vault, spec)
    session.flush()
    for card in SEED_CARDS:
        if find_card_by_pan(session, vault, card.pan) is None:
            account_id = session.scalar(select(Account.id).where(Account.number == card.account))
            assert account_id is not None
            row = new_card(
                vault, account_id=account_id, pan=card.pan, expiry=card.expiry, status=CardStatus.ACTIVE
            )
            row.pvv = pvv_for(card.pan, card.pin)
            session.add(row)
    session.commit()

    numbers = [account.number for spec in SEED_CUSTOMERS for account in spec.accounts]
    query = select(Account.number, Account.id).where(Account.number.in_(numbers))
    ids = {number: account_id for number, account_id in session.execute(query)}
    # End the session's transaction before the ledger writes on its own connection: SQLite has one writer.
    session.commit()
    engine = session.get_bind()
    assert isinstance(engine, Engine)
    ledger = Ledger(engine)
    funding = ledger.internal_account_id(InternalAccount.FUNDING)
    for spec in SEED_CUSTOMERS:
        for account in spec.accounts:
            result = ledger.transfer(
                TransferRequest(
                    idempotency_key=f"seed:{account.number}",
                    kind=TransferKind.FUNDING,
                    debit_account_id=funding,
                    credit_account_id=ids[account.number],
                    amount_minor=account.opening_minor,
                    currency="CNY",
                    description="Seed funding",
                    payee_description="Opening balance",
                    channel="internal",
                )
            )
            if not isinstance(result, TransferOutcome):
                raise RuntimeError(f"seed funding refused: {result.reason}")
    # Statuses last: a frozen account cannot be funded.
    for spec in SEED_CUSTOMERS:
        for account in spec.accounts:
            row = session.scalar(select(Account).where(Account.number == account.number))
            assert row is not None
            row.status = account.status.value
    session.add(KioskMeta(key=SEED_META_KEY, value=SEED_VERSION))
    session.commit()
    return SeedReport(True, len(SEED_CUSTOMERS), _account_count(), len(SEED_CARDS))


def _account_count() -> int:
    return sum(len(spec.accounts) for spec in SEED_CUSTOMERS)


def _add_customer(session: Session, vault: Vault, spec: SeedCustomer) -> None:
    customer = Customer(
        name=spec.name,
        id_type="resident_id",
        id_number_hash=id_number_lookup_hash(vault, spec.id_number),
        id_number=spec.id_number,
        id_expiry=spec.id_expiry,
        birth_date=birth_date_from_id(spec.id_number),
        phone=spec.phone,
        phone_hash=phone_lookup_hash(vault, spec.phone),
        address=spec.address,
        occupation=spec.occupation,
    )
    session.add(customer)
    session.flush()
    for account in spec.accounts:
        session.add(
            Account(
                number=account.number,
                customer_id=customer.id,
                kind=account.kind.value,
                status=AccountStatus.ACTIVE.value,
                currency="CNY",
                balance_minor=0,
                pending_debits_minor=0,
                overdraft_allowed=account.overdraft_limit_minor > 0,
                overdraft_limit_minor=account.overdraft_limit_minor,
                day_amount_minor=0,
                day_count=0,
            )
        )
