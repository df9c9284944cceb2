"""The README's "Try it" tables say what the seed made: customers (masked as the kiosk masks), cards and
test PINs, accounts, the face-login customer and her camera source, the ID card fixture, and payees that
behave as the table says. A change to the seed that the README does not follow fails here."""

from __future__ import annotations

import re
from pathlib import Path

from bank.billing.billers import BILLERS, BillerKind, account_problem, simulated_bill
from bank.clearing import ClearingRules
from bank.models import AccountKind
from bank.seed import FACE_LOGIN_CUSTOMERS, SEED_CARDS, SEED_CUSTOMERS
from hostlink.redaction import mask_id_number, mask_phone
from kiosk.i18n import tr
from kiosk.journeys.session import SessionConfig
from kiosk.journeys.transfer import check_payee
from simulators.fleet import FACE_LOGIN_CAMERA
from simulators.id_reader.cards import FIXTURE_CARDS

README = Path(__file__).resolve().parents[2] / "README.md"


def _section() -> str:
    text = README.read_text(encoding="utf-8")
    start = text.index("## Try it\n")
    end = text.index("\n## ", start + 1)
    return text[start:end]


def _rows(section: str) -> list[list[str]]:
    return [
        [cell.strip() for cell in line.strip().strip("|").split("|")]
        for line in section.splitlines()
        if line.startswith("|") and not line.startswith("|---")
    ]


def _row_to_try(label: str) -> str:
    rows = [row for row in _rows(_section()) if row[0] == label]
    assert len(rows) == 1, f"no single '{label}' row in the README's Try it table"
    return rows[0][1]


def _backticked(text: str) -> list[str]:
    return re.findall(r"`([^`]+)`", text)


def test_every_seed_customer_card_and_account_is_in_the_table_as_seeded() -> None:
    customers = {row[0]: row for row in _rows(_section()) if len(row) == 8 and row[0] != "Customer"}
    assert len(customers) == len(SEED_CUSTOMERS)
    for spec in SEED_CUSTOMERS:
        numbers = {account.number for account in spec.accounts}
        card = next(card for card in SEED_CARDS if card.account in numbers)
        row = customers[f"{spec.name} {card.name}"]
        current = next(a.number for a in spec.accounts if a.kind is AccountKind.CURRENT)
        savings = next(a.number for a in spec.accounts if a.kind is AccountKind.SAVINGS)
        assert [cell.strip("`") for cell in row[1:7]] == [
            mask_id_number(spec.id_number),
            mask_phone(spec.phone),
            card.pan,
            card.pin,
            current,
            savings,
        ]


def test_no_full_id_number_is_printed() -> None:
    section = _section()
    assert all(spec.id_number not in section for spec in SEED_CUSTOMERS)


def test_the_face_login_row_names_the_seeded_customer_her_photo_and_the_camera() -> None:
    spec = FACE_LOGIN_CUSTOMERS[0]
    face_login = _row_to_try("Face login")
    assert spec.name in face_login and spec.phone in _backticked(face_login)
    assert spec.face_photo in _backticked(face_login)
    assert tr("face_login.identify.title", "en") in face_login
    camera = _row_to_try("Camera source")
    assert FACE_LOGIN_CAMERA in _backticked(camera) and spec.face_photo in _backticked(camera)


def test_the_id_card_fixture_row_names_a_card_the_camera_person_matches() -> None:
    card_id, *_ = _backticked(_row_to_try("ID card fixture (opening an account)"))
    card = FIXTURE_CARDS[card_id]
    assert card.identity.name in _row_to_try("ID card fixture (opening an account)")
    assert card.photo_file == FACE_LOGIN_CUSTOMERS[0].face_photo


def test_the_payees_behave_as_the_table_says() -> None:
    seeded = {account.number: spec.name for spec in SEED_CUSTOMERS for account in spec.accounts}
    other_customer = _row_to_try("Transfer to another customer")
    account, *_ = _backticked(other_customer)
    assert seeded[account] in other_customer

    code, settles, refused_bank, closed = _backticked(_row_to_try("Transfer to another bank"))
    own = SessionConfig().own_bank_code
    for bank_code, number in ((code, settles), (refused_bank, settles), (code, closed)):
        assert check_payee("other_bank", number, "payee", bank_code, own) == ""
    rules = ClearingRules()
    assert rules.rejection_reason(code, settles) is None
    assert rules.rejection_reason(refused_bank, settles) == "unknown_bank"
    assert rules.rejection_reason(code, closed) == "payee_account_closed"

    bills = _backticked(_row_to_try("Bill payment"))
    text = _row_to_try("Bill payment")
    named = dict(re.findall(r"\b([A-Z]+) `([0-9]+)`", text))
    for biller in BILLERS.values():
        if biller.kind is BillerKind.UTILITY:
            number = named[biller.code]
            assert account_problem(biller, number) is None
            for month in ("2026-01", "2026-07", "2027-12"):
                bill = simulated_bill(biller, number, month)
                assert bill.known and bill.amount_minor > 0, (biller.code, number, month)
        else:
            assert account_problem(biller, bills[-1]) is None  # the top-up number
