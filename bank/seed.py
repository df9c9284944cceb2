"""Seed data for the simulated build: five customers, their accounts and cards (test PINs in the README).

Balances arrive through the ledger (FUNDING → account transfers with fixed idempotency keys), so the seed
obeys the same invariants as everything else. Seeding is idempotent: ``kiosk_meta['bank.seed']`` marks a
finished seed, and a seed interrupted half-way resumes (customers are found by ID number, transfers by key).

Test fixtures on purpose: Zhang Min's card expired in January 2023; Chen Jie's current account is frozen;
Liu Yang has ¥88.00 (for insufficient-funds journeys); Li Na's current account allows a ¥1,000 overdraft.
Wang Fang's card uses the design's PIN-block test vector PAN ``43219876543210987`` (17 digits; it is not
Luhn-valid — the vector predates us — so card look-up never insists on Luhn).

Li Na is the face-login customer: her template is computed at seed time from a photo in the shared test
faces (``../shared/faces``, never copied into the repository); the camera simulator's virtual person of
that photo logs in as her. Without the folder seeding says so and skips only that enrolment (a later seed
with the folder present enrols her).
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import date
from pathlib import Path

from sqlalchemy import Engine, select
from sqlalchemy.orm import Session

from bank.db.models import KioskMeta
from bank.face import NoUsableFace, template_from_photo
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

log = logging.getLogger(__name__)

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
    face_photo: str | None = None  # a file in the shared test faces: the template enrolled at seed time


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
        # Also the photo on the zhao_jianguo fixture ID card: one camera person serves face login as Li Na
        # and opening an account with that card.
        face_photo="alex_lacamoire_1.png",
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


FACE_LOGIN_CUSTOMERS: tuple[SeedCustomer, ...] = tuple(c for c in SEED_CUSTOMERS if c.face_photo)


def default_faces_dir() -> Path:
    """``../shared/faces`` beside the repository: the developers' test faces."""
    return Path(__file__).resolve().parents[2] / "shared" / "faces"


@dataclass(frozen=True)
class SeedReport:
    created: bool  # False when the database was already seeded
    customers: int
    accounts: int
    cards: int
    faces_enrolled: tuple[str, ...] = ()  # names of the customers whose face was enrolled by this call
    face_problems: tuple[str, ...] = ()  # why a seed customer's face is not enrolled (folder missing …)


def seed_bank(
    session: Session,
    vault: Vault,
    *,
    pvv_for: Callable[[str, str], str],
    faces_dir: Path | None = None,
    template_for: Callable[[Path], bytes] = template_from_photo,
) -> SeedReport:
    """Create the seed customers, accounts (funded through the ledger) and cards; once.

    ``pvv_for(pan, pin)`` is the HSM's PIN verification value; only that is stored, never the PIN. The
    session's pending work is committed. With ``faces_dir`` the face-login customers whose face is not
    enrolled yet get the template of their photo from there (also on an already seeded bank); without it
    no face is enrolled (tests that do not need one skip loading the face models).
    """
    if session.get(KioskMeta, SEED_META_KEY) is not None:
        return _with_faces(
            SeedReport(False, len(SEED_CUSTOMERS), _account_count(), len(SEED_CARDS)),
            session,
            vault,
            faces_dir,
            template_for,
        )
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
    return _with_faces(
        SeedReport(True, len(SEED_CUSTOMERS), _account_count(), len(SEED_CARDS)),
        session,
        vault,
        faces_dir,
        template_for,
    )


def _with_faces(
    report: SeedReport,
    session: Session,
    vault: Vault,
    faces_dir: Path | None,
    template_for: Callable[[Path], bytes],
) -> SeedReport:
    if faces_dir is None:
        return report
    enrolled, problems = enrol_seed_faces(session, vault, faces_dir, template_for=template_for)
    return SeedReport(report.created, report.customers, report.accounts, report.cards, enrolled, problems)


def enrol_seed_faces(
    session: Session,
    vault: Vault,
    faces_dir: Path,
    *,
    template_for: Callable[[Path], bytes] = template_from_photo,
) -> tuple[tuple[str, ...], tuple[str, ...]]:
    """Enrol each face-login seed customer who has no template yet from their photo in ``faces_dir``.

    Returns (names enrolled now, problems). A missing folder or photo is a problem, not an error: the
    rest of the seed stands and face login is the only thing that cannot be tried.
    """
    enrolled: list[str] = []
    problems: list[str] = []
    for spec in FACE_LOGIN_CUSTOMERS:
        assert spec.face_photo is not None
        customer = find_customer_by_id_number(session, vault, spec.id_number)
        if customer is None or customer.face_template is not None:
            continue
        photo = faces_dir / spec.face_photo
        if not faces_dir.is_dir():
            problems.append(
                f"no test faces folder at {faces_dir}: {spec.name}'s face is not enrolled, "
                "face login cannot be tried"
            )
            continue
        if not photo.is_file():
            problems.append(f"{photo} is missing: {spec.name}'s face is not enrolled")
            continue
        try:
            customer.face_template = template_for(photo)
        except NoUsableFace as exc:
            problems.append(f"{exc}: {spec.name}'s face is not enrolled")
            continue
        enrolled.append(spec.name)
    session.commit()
    for problem in problems:
        log.warning("seed: %s", problem)
    return tuple(enrolled), tuple(problems)


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
