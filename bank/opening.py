"""Account opening at the kiosk: new customer + account + card request, in one transaction.

The ID has been read by the ID-card reader and the face matched before this is called. Refused (nothing
stored) for a malformed ID number, a bad GB 11643 check digit, an impossible birth date, an expired ID, an
applicant under the minimum age, or an ID number that already belongs to a customer. The card is created
``pending_issue`` with a fresh Luhn-valid PAN; the journey writes it to a blank card in the dispenser and
activates it (``BankService.set_card_status``) once the PIN is set and the card is taken.
"""

from __future__ import annotations

import enum
import random
from dataclasses import dataclass, field
from datetime import date

from sqlalchemy import Engine, delete, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from bank.models import (
    Account,
    AccountKind,
    AccountStatus,
    Card,
    CardStatus,
    Customer,
    Posting,
    find_customer_by_id_number,
    id_number_lookup_hash,
    new_card,
    pan_lookup_hash,
    phone_lookup_hash,
)
from bank.numbers import random_account_number, random_pan
from bank.security.vault import Vault
from hostlink.kyc import assess_identity, birth_date_from_id, normalise_id_number
from hostlink.redaction import mask_pan

CARD_VALIDITY_YEARS = 10


class OpeningRefusal(enum.StrEnum):
    BAD_FORMAT = "bad_format"
    BAD_CHECK_DIGIT = "bad_check_digit"
    BAD_BIRTH_DATE = "bad_birth_date"
    ID_EXPIRED = "id_expired"
    UNDER_AGE = "under_age"
    DUPLICATE_ID = "duplicate_id"
    MISSING_DETAILS = "missing_details"
    BAD_ACCOUNT_KIND = "bad_account_kind"


@dataclass(frozen=True)
class OpeningRequest:
    name: str = field(repr=False)
    id_number: str = field(repr=False)
    id_expiry: date | None  # None: long-term ID
    phone: str = field(repr=False)
    address: str = field(repr=False)
    occupation: str = ""
    photo: bytes | None = field(default=None, repr=False)
    face_template: bytes | None = field(default=None, repr=False)
    account_kind: AccountKind = AccountKind.CURRENT
    currency: str = "CNY"
    id_type: str = "resident_id"


@dataclass(frozen=True)
class AccountOpened:
    customer_id: int
    account_id: int
    account_number: str
    card_id: int
    pan: str = field(repr=False)  # goes to the card dispenser's encoder, never to a log
    card_expiry: str = ""  # YYMM

    @property
    def pan_masked(self) -> str:
        return mask_pan(self.pan)


@dataclass(frozen=True)
class OpeningRefused:
    reason: OpeningRefusal
    detail: str = ""


def open_account(
    engine: Engine,
    vault: Vault,
    request: OpeningRequest,
    *,
    today: date,
    minimum_age: int = 16,
    rng: random.Random | None = None,
) -> AccountOpened | OpeningRefused:
    if not (request.name.strip() and request.phone.strip() and request.address.strip()):
        return OpeningRefused(OpeningRefusal.MISSING_DETAILS, "name, phone and address are required")
    if request.account_kind not in (AccountKind.CURRENT, AccountKind.SAVINGS):
        return OpeningRefused(OpeningRefusal.BAD_ACCOUNT_KIND, "current or savings")
    decision = assess_identity(request.id_number, request.id_expiry, today, minimum_age=minimum_age)
    if not decision.ok:
        return OpeningRefused(OpeningRefusal(decision.reason), _DETAILS[decision.reason])
    id_number = normalise_id_number(request.id_number)
    try:
        with Session(engine, expire_on_commit=False) as session, session.begin():
            if find_customer_by_id_number(session, vault, id_number) is not None:
                return OpeningRefused(OpeningRefusal.DUPLICATE_ID, "a customer with this ID number exists")
            customer = Customer(
                name=request.name.strip(),
                id_type=request.id_type,
                id_number_hash=id_number_lookup_hash(vault, id_number),
                id_number=id_number,
                id_expiry=request.id_expiry,
                birth_date=birth_date_from_id(id_number),
                phone=request.phone.strip(),
                phone_hash=phone_lookup_hash(vault, request.phone),
                address=request.address.strip(),
                occupation=request.occupation.strip(),
                photo=request.photo,
                face_template=request.face_template,
            )
            session.add(customer)
            session.flush()
            account = Account(
                number=_unused_account_number(session, request.account_kind, rng),
                customer_id=customer.id,
                kind=request.account_kind.value,
                status=AccountStatus.ACTIVE.value,
                currency=request.currency,
                balance_minor=0,
                pending_debits_minor=0,
                overdraft_allowed=False,
                overdraft_limit_minor=0,
                day_amount_minor=0,
                day_count=0,
            )
            session.add(account)
            session.flush()
            pan = _unused_pan(session, vault, rng)
            expiry = f"{(today.year + CARD_VALIDITY_YEARS) % 100:02d}{today.month:02d}"
            card = new_card(
                vault, account_id=account.id, pan=pan, expiry=expiry, status=CardStatus.PENDING_ISSUE
            )
            session.add(card)
            session.flush()
            return AccountOpened(customer.id, account.id, account.number, card.id, pan, expiry)
    except IntegrityError:
        # Another kiosk opened an account for the same ID number between our check and our commit.
        return OpeningRefused(OpeningRefusal.DUPLICATE_ID, "a customer with this ID number exists")


def _unused_account_number(session: Session, kind: AccountKind, rng: random.Random | None) -> str:
    while True:
        number = random_account_number(kind.value, rng)
        if session.scalar(select(Account.id).where(Account.number == number)) is None:
            return number


def _unused_pan(session: Session, vault: Vault, rng: random.Random | None) -> str:
    while True:
        pan = random_pan(rng)
        if session.scalar(select(Card.id).where(Card.pan_hash == pan_lookup_hash(vault, pan))) is None:
            return pan


_DETAILS = {
    "bad_format": "an ID number is 17 digits and a check character",
    "bad_check_digit": "the ID number's check digit is wrong",
    "bad_birth_date": "the ID number holds an impossible birth date",
    "id_expired": "the ID card has expired",
    "under_age": "the applicant is under the minimum age",
}


def is_customer(engine: Engine, vault: Vault, id_number: str) -> bool:
    with Session(engine) as session:
        return find_customer_by_id_number(session, vault, id_number) is not None


def void_opening(engine: Engine, customer_id: int, account_id: int, card_id: int) -> bool:
    """Delete a just-opened customer, account and card in one transaction.

    Refuses (False, nothing changed) unless the card is still ``pending_issue`` and the account has no
    posting: an opening that has been completed, or used, is never undone here.
    """
    with Session(engine) as session, session.begin():
        card = session.get(Card, card_id)
        account = session.get(Account, account_id)
        if (
            card is None
            or account is None
            or card.account_id != account_id
            or account.customer_id != customer_id
        ):
            return False
        if card.status != CardStatus.PENDING_ISSUE.value:
            return False
        if session.scalar(select(Posting.id).where(Posting.account_id == account_id).limit(1)) is not None:
            return False
        others = session.scalar(
            select(Account.id).where(Account.customer_id == customer_id, Account.id != account_id).limit(1)
        )
        session.execute(delete(Card).where(Card.account_id == account_id))
        session.execute(delete(Account).where(Account.id == account_id))
        if others is None:
            session.execute(delete(Customer).where(Customer.id == customer_id))
    return True
