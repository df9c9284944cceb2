"""Loan applications against the seeded bank: history from the ledger, journal, the review queue."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from sqlalchemy import Engine, select, update
from sqlalchemy.orm import Session

from bank.ledger import Ledger, TransferRequest
from bank.loans.models import LoanStatus
from bank.loans.service import ApplicationView, LoanRefusal, LoanRefused, LoanService
from bank.models import Account, Customer, InternalAccount, TransferKind
from bank.security.vault import Vault
from hostlink.loans import LoanRequest
from hostlink.technicians import Role

LI_NA_ID = "310104198506120326"  # born 1985-06-12, current 0001100000010030 (¥3,000, ¥1,000 overdraft)
WANG_FANG_ID = "11010519491231002X"  # born 1949: 76 on the test day


class Journal:
    def __init__(self) -> None:
        self.records: list[tuple[str, dict[str, Any]]] = []

    def record(self, event: str, *, session_id: str | None = None, **fields: Any) -> int:
        self.records.append((event, fields))
        return len(self.records)


@dataclass
class Session_:
    username: str
    role: Role
    is_expired: bool = False
    calls: list[str] = field(default_factory=list)

    def expired(self, now: datetime | None = None) -> bool:
        return self.is_expired


def customer_and_account(engine: Engine, number: str) -> tuple[int, int]:
    with Session(engine) as session:
        row = session.scalar(select(Account).where(Account.number == number))
        assert row is not None and row.customer_id is not None
        return row.customer_id, row.id


@pytest.fixture
def loans(bank: Engine, vault: Vault, clock: Any) -> LoanService:
    # The seed customers joined three years before the test day.
    with Session(bank) as session:
        session.execute(update(Customer).values(created_at=clock.now - timedelta(days=3 * 365 + 5)))
        session.commit()
    return LoanService(bank, vault, journal=Journal(), clock=clock)


def test_the_applicant_comes_from_kyc_and_the_ledger(loans: LoanService, bank: Engine, clock: Any) -> None:
    customer, account = customer_and_account(bank, "0001100000010030")
    applicant = loans.applicant(customer)
    assert applicant is not None
    assert applicant.age == 40 and not applicant.blacklisted
    assert applicant.months_as_customer == 36
    assert applicant.overdrafts_12m == 0 and applicant.refusals_12m == 0
    # Seeded today: ¥3,000 current + ¥20,000 savings, held for about an hour of the 90 days.
    assert 0 <= applicant.average_balance_minor < 2_300_000 // 90

    # Li Na spends into her overdraft: counted once.
    ledger = Ledger(bank, clock=clock)
    fees = ledger.internal_account_id(InternalAccount.FEES)
    result = ledger.transfer(
        TransferRequest("od-1", TransferKind.INTERNAL, account, fees, 350_000, "CNY", channel="internal")
    )
    assert not hasattr(result, "reason")
    clock.now += timedelta(days=30)
    later = loans.applicant(customer)
    assert later is not None and later.overdrafts_12m == 1
    loans.add_to_blacklist(LI_NA_ID, "fraud case 42")
    listed = loans.applicant(customer)
    assert listed is not None and listed.blacklisted


def test_approve_decline_refer_are_stored_explained_and_journaled(loans: LoanService, bank: Engine) -> None:
    customer, account = customer_and_account(bank, "0001100000010030")
    # Li Na: ¥3,000 current (>= 200 DM), ¥20,000 savings (>= 1,000 DM), a used car over 24 months.
    approved = loans.apply(
        customer, account, LoanRequest(2_000_000, 24, 1_500_000, 0, "used_car"), session_id="S1"
    )
    assert isinstance(approved, ApplicationView)
    assert (approved.outcome, approved.status) == ("approve", LoanStatus.DECIDED.value)
    assert approved.reference.startswith("LN") and len(approved.reference) == 12
    assert [f[0] for f in approved.factors] == [a.name for a in loans.model.attributes]
    known = {f[0]: f[1] for f in approved.factors if f[1] != ""}
    assert known == {
        "status_of_existing_checking_account": "... >= 200 DM / salary assignments for at least 1 year",
        "duration_in_month": "24",
        "purpose": "used_car",
        "credit_amount": "4651",  # ¥20,000 at ¥4.30 a DM
        "savings_account_and_bonds": "... >= 1000 DM",
        "other_installment_plans": "none",
    }
    assert approved.score == sum(f[2] for f in approved.factors) >= loans.model.cutoff
    assert approved.model_version == "GC-1" and approved.default_probability is not None
    assert approved.default_probability == round(loans.model.default_probability(approved.score), 4)
    assert approved.bank_history["months_as_customer"] == 36
    assert approved.bank_history["savings_balance_minor"] == 2_000_000
    event, fields = loans.journal.records[-1]  # type: ignore[union-attr]
    assert event == "loan_decision"
    assert fields["outcome"] == "approve" and fields["reference"] == approved.reference
    assert fields["model"] == "GC-1" and fields["adverse_reasons"] == approved.adverse_reasons
    assert fields["factors"] == approved.factors and "name" not in fields
    assert LI_NA_ID not in repr(loans.journal.records)  # type: ignore[union-attr]

    referred = loans.apply(customer, account, LoanRequest(6_000_000, 60, 2_000_000, 0, "home"))
    assert isinstance(referred, ApplicationView)
    assert (referred.outcome, referred.status) == ("refer", "pending_review")
    # A big loan goes to a person whatever the score; the reviewer sees what cost the most points.
    assert referred.reasons == ["loan.reason.above_auto_limit"]
    assert referred.adverse_reasons[:2] == [
        "loan.reason.attr.credit_amount",
        "loan.reason.attr.duration_in_month",
    ]

    old_customer, old_account = customer_and_account(bank, "0001100000010014")  # Wang Fang, 76
    declined = loans.apply(old_customer, old_account, LoanRequest(500_000, 12, 1_000_000, 0, "travel"))
    assert isinstance(declined, ApplicationView)
    assert declined.outcome == "decline" and declined.rule_hits[0][0] == "age"
    assert declined.reasons == ["loan.reason.age"]

    bad = loans.apply(customer, account, LoanRequest(500_000, 7, 1_000_000, 0, "car"))
    assert bad == LoanRefused(LoanRefusal.INPUT, "loan.error.term")
    assert loans.apply(9_999, account, LoanRequest(500_000, 12, 1_000_000, 0, "car")) == LoanRefused(
        LoanRefusal.UNKNOWN_CUSTOMER
    )
    assert [a.reference for a in loans.pending_reviews()] == [referred.reference]


def test_only_a_supervisor_works_the_review_queue(loans: LoanService, bank: Engine) -> None:
    customer, account = customer_and_account(bank, "0001100000010030")
    referred = loans.apply(customer, account, LoanRequest(6_000_000, 60, 2_000_000, 0, "home"))
    assert isinstance(referred, ApplicationView)
    technician = Session_("tom", Role.TECHNICIAN)
    assert loans.review(technician, referred.application_id, approve=True) == LoanRefused(
        LoanRefusal.NOT_PERMITTED
    )
    expired = Session_("sue", Role.SUPERVISOR, is_expired=True)
    assert loans.review(expired, referred.application_id, approve=True) == LoanRefused(
        LoanRefusal.SESSION_EXPIRED
    )
    supervisor = Session_("sue", Role.SUPERVISOR)
    done = loans.review(supervisor, referred.application_id, approve=False, note="  income not verified ")
    assert isinstance(done, ApplicationView)
    assert (done.status, done.reviewed_by, done.review_note) == (
        "review_declined",
        "sue",
        "income not verified",
    )
    assert loans.pending_reviews() == []
    again = loans.review(supervisor, referred.application_id, approve=True)
    assert again == LoanRefused(LoanRefusal.NOT_PENDING, "review_declined")
    assert loans.review(supervisor, 999, approve=True) == LoanRefused(LoanRefusal.UNKNOWN_APPLICATION)
    events = [event for event, _ in loans.journal.records]  # type: ignore[union-attr]
    assert events == ["loan_decision", "loan_review_refused", "loan_review"]
    assert loans.journal.records[-1][1]["technician"] == "sue"  # type: ignore[union-attr]


def test_history_counts_voided_payments(loans: LoanService, bank: Engine, clock: Any) -> None:
    customer, account = customer_and_account(bank, "0001100000010030")
    ledger = Ledger(bank, clock=clock)
    clearing = ledger.internal_account_id(InternalAccount.CLEARING)
    held = ledger.transfer(
        TransferRequest(
            "ob-1", TransferKind.OTHER_BANK, account, clearing, 10_000, "CNY", channel="internal"
        ),
        pending=True,
    )
    ledger.void_pending(held.transfer_id, "rejected by the other bank")  # type: ignore[union-attr]
    applicant = loans.applicant(customer)
    assert applicant is not None and applicant.refusals_12m == 1
    assert datetime(2026, 1, 1, tzinfo=UTC) < clock.now


def test_stability_compares_the_recorded_scores_with_training(loans: LoanService, bank: Engine) -> None:
    empty = loans.stability()
    assert (empty.decisions, empty.psi, empty.level) == (0, None, "too_few")
    customer, account = customer_and_account(bank, "0001100000010030")
    for _ in range(3):
        loans.apply(customer, account, LoanRequest(1_000_000, 12, 1_500_000, 0, "used_car"))
    report = loans.stability()
    assert report.decisions == 3 and report.level == "too_few"  # shown, not judged, under 30
    # Three identical scores sit in one bin of ten: far from the training spread.
    assert report.psi is not None and report.psi > 1.0
    assert sum(report.shares) == 1.0 and max(report.shares) == 1.0
    assert report.reference_shares == loans.model.reference_shares


def test_the_review_page_words_stability_only_once_there_are_enough_decisions() -> None:
    from bank.loans.service import StabilityReport
    from ui.maintenance.loan_review import stability_text

    few = StabilityReport("GC-1", 3, 2.5, "too_few", (), ())
    assert stability_text(few, "en") == "Score stability, model GC-1: 3 decisions so far, judged from 30"
    enough = StabilityReport("GC-1", 120, 0.1234, "watch", (), ())
    assert stability_text(enough, "en") == (
        "Score stability, model GC-1: PSI 0.123 over 120 decisions (worth a look)"
    )
    assert "PSI为0.123" in stability_text(enough, "zh_CN") and "值得关注" in stability_text(enough, "zh_CN")
    assert stability_text(StabilityReport("GC-1", 0, None, "too_few", (), ()), "en").endswith("yet")
