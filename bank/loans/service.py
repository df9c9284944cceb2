"""Loan pre-qualification against the bank's records, the journal, and the supervisor's review queue.

:meth:`LoanService.apply` gathers what the decision needs from the bank — age from the KYC birth date,
the blacklist, the balances of the customer's current and savings accounts (the model's checking and
savings attributes), and for the reviewer months as a customer, the 90-day time-weighted average balance,
how often an account went overdrawn and how many of their payments were voided in the last 12 months —
decides (:func:`bank.loans.scorecard.decide` with the trained model, ``bank.credit``), stores the
application with its full explanation and the model version and journals it (event ``loan_decision``:
the attributes, rule hits and reasons; no name, no ID number). :meth:`LoanService.stability` compares the
recorded scores with the training scores (PSI) for the supervisor.

Referred applications wait with status ``pending_review``. :meth:`LoanService.review` lets a supervisor
(``Action.LOAN_REVIEW``, checked here, not only on the screen) approve or decline one with a note; the
review is journaled with who and when. Pre-qualification moves no money: a loan is booked at the branch.
"""

from __future__ import annotations

import enum
import secrets
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from typing import Any, Protocol

from sqlalchemy import Engine, func, select
from sqlalchemy.orm import sessionmaker

from bank.credit.model import CreditModel, default_model, stability_level
from bank.ledger import BANK_TIMEZONE
from bank.loans.models import LoanApplication, LoanBlacklist, LoanOutcome, LoanStatus
from bank.loans.scorecard import Applicant, Decision, decide
from bank.models import (
    Account,
    Customer,
    Posting,
    Transfer,
    TransferStatus,
    id_number_lookup_hash,
    utcnow,
)
from bank.security.vault import Vault
from hostlink.kyc import age_on
from hostlink.loans import LoanPolicy, LoanRequest, request_problem
from hostlink.technicians import Action, is_allowed

AVERAGE_BALANCE_DAYS = 90
HISTORY_DAYS = 365
MIN_DECISIONS_FOR_STABILITY = 30  # fewer recorded scores: the PSI is shown but not judged


class JournalPort(Protocol):
    def record(self, event: str, *, session_id: str | None = None, **fields: Any) -> int: ...


class Reviewer(Protocol):
    """A logged-in technician session (bank.security.techs.TechSession satisfies it)."""

    username: str

    @property
    def role(self) -> Any: ...

    def expired(self, now: datetime | None = None) -> bool: ...


class LoanRefusal(enum.StrEnum):
    INPUT = "input"  # the request cannot be scored (amount, term, income ...)
    UNKNOWN_CUSTOMER = "unknown_customer"
    NOT_PERMITTED = "not_permitted"
    SESSION_EXPIRED = "session_expired"
    UNKNOWN_APPLICATION = "unknown_application"
    NOT_PENDING = "not_pending"


@dataclass(frozen=True)
class LoanRefused:
    reason: LoanRefusal
    detail: str = ""


@dataclass(frozen=True)
class ApplicationView:
    application_id: int
    reference: str
    customer_id: int
    amount_minor: int
    term_months: int
    monthly_income_minor: int
    monthly_debt_minor: int
    purpose: str
    instalment_minor: int
    score: int
    outcome: str
    status: str
    factors: list[list[Any]]
    rule_hits: list[list[Any]]
    reasons: list[str]
    created_at: datetime
    reviewed_by: str | None
    review_note: str | None
    model_version: str = ""
    default_probability: float | None = None
    adverse_reasons: list[str] = field(default_factory=list)
    bank_history: dict[str, Any] = field(default_factory=dict)


@dataclass(frozen=True)
class StabilityReport:
    """PSI of the scores the live model recorded against its training scores (as the kiosk sees them)."""

    model_version: str
    decisions: int
    psi: float | None  # None before the first decision
    level: str  # "stable" < 0.10 ≤ "watch" < 0.25 ≤ "shifted"; "too_few" under the minimum count
    shares: tuple[float, ...]
    reference_shares: tuple[float, ...]

    @property
    def minimum(self) -> int:
        """Fewer decisions than this: the PSI is shown, not judged."""
        return MIN_DECISIONS_FOR_STABILITY

    def as_dict(self) -> dict[str, Any]:
        return {
            "model_version": self.model_version,
            "decisions": self.decisions,
            "psi": self.psi,
            "level": self.level,
            "shares": list(self.shares),
            "reference_shares": list(self.reference_shares),
        }


def new_reference() -> str:
    return "LN" + secrets.token_hex(5).upper()


class LoanService:
    def __init__(
        self,
        engine: Engine,
        vault: Vault,
        *,
        journal: JournalPort | None = None,
        policy: LoanPolicy | None = None,
        clock: Callable[[], datetime] = utcnow,
        model: CreditModel | None = None,
    ) -> None:
        self.engine = engine
        self.vault = vault
        self.journal = journal
        self.policy = policy or LoanPolicy()
        self.clock = clock
        self.model = model or default_model()
        self.sessions = sessionmaker(engine, expire_on_commit=False)

    def today(self) -> date:
        return self.clock().astimezone(BANK_TIMEZONE).date()

    # -- what the bank knows --------------------------------------------------------------------
    def applicant(self, customer_id: int) -> Applicant | None:
        now = self.clock()
        today = self.today()
        with self.sessions() as session:
            customer = session.get(Customer, customer_id)
            if customer is None:
                return None
            blacklisted = (
                session.scalar(
                    select(LoanBlacklist.id).where(LoanBlacklist.id_number_hash == customer.id_number_hash)
                )
                is not None
            )
            accounts = list(
                session.execute(
                    select(Account.id, Account.kind, Account.status, Account.balance_minor)
                    .where(Account.customer_id == customer_id)
                    .order_by(Account.id)
                )
            )
            account_ids = [row.id for row in accounts]

            def balance_of(kind: str) -> int | None:
                balances = [a.balance_minor for a in accounts if a.kind == kind and a.status != "closed"]
                return sum(balances) if balances else None

            year_ago = now - timedelta(days=HISTORY_DAYS)
            overdrafts = 0
            refusals = 0
            if account_ids:
                overdrafts = int(
                    session.scalar(
                        select(func.count()).where(
                            Posting.account_id.in_(account_ids),
                            Posting.balance_after_minor < 0,
                            Posting.amount_minor < 0,
                            Posting.created_at >= year_ago,
                        )
                    )
                    or 0
                )
                refusals = int(
                    session.scalar(
                        select(func.count()).where(
                            Transfer.debit_account_id.in_(account_ids),
                            Transfer.status == TransferStatus.VOIDED.value,
                            Transfer.created_at >= year_ago,
                        )
                    )
                    or 0
                )
            average = sum(self._average_balance(session, account_id, now) for account_id in account_ids)
            created = customer.created_at.astimezone(BANK_TIMEZONE).date()
            months = (
                (today.year - created.year) * 12 + today.month - created.month - (today.day < created.day)
            )
            return Applicant(
                age=age_on(customer.birth_date, today),
                blacklisted=blacklisted,
                months_as_customer=max(0, months),
                average_balance_minor=average,
                overdrafts_12m=overdrafts,
                refusals_12m=refusals,
                current_balance_minor=balance_of("current"),
                savings_balance_minor=balance_of("savings"),
            )

    def _average_balance(self, session: Any, account_id: int, now: datetime) -> int:
        """Time-weighted average of the posted balance over the last 90 days (whole seconds)."""
        start = now - timedelta(days=AVERAGE_BALANCE_DAYS)
        opening = session.scalar(
            select(Posting.balance_after_minor)
            .where(Posting.account_id == account_id, Posting.created_at < start)
            .order_by(Posting.id.desc())
            .limit(1)
        )
        balance = int(opening or 0)
        rows: Sequence[Any] = session.execute(
            select(Posting.created_at, Posting.balance_after_minor)
            .where(Posting.account_id == account_id, Posting.created_at >= start)
            .order_by(Posting.id)
        ).all()
        weighted = 0
        cursor = start
        for when, after in rows:
            moment = min(max(when, start), now)
            weighted += balance * int((moment - cursor).total_seconds())
            cursor, balance = moment, int(after)
        weighted += balance * int((now - cursor).total_seconds())
        span = int((now - start).total_seconds())
        return weighted // span if span > 0 else balance

    def add_to_blacklist(self, id_number: str, reason: str) -> None:
        with self.sessions.begin() as session:
            session.add(
                LoanBlacklist(
                    id_number_hash=id_number_lookup_hash(self.vault, id_number),
                    reason=reason,
                    added_at=self.clock(),
                )
            )

    # -- applying -----------------------------------------------------------------------------------
    def apply(
        self, customer_id: int, account_id: int, request: LoanRequest, *, session_id: str = ""
    ) -> ApplicationView | LoanRefused:
        problem = request_problem(request, self.policy)
        if problem:
            return LoanRefused(LoanRefusal.INPUT, problem)
        applicant = self.applicant(customer_id)
        if applicant is None:
            return LoanRefused(LoanRefusal.UNKNOWN_CUSTOMER)
        decision = decide(request, applicant, self.policy, self.model)
        status = LoanStatus.PENDING_REVIEW if decision.outcome is LoanOutcome.REFER else LoanStatus.DECIDED
        row = LoanApplication(
            reference=new_reference(),
            customer_id=customer_id,
            account_id=account_id,
            session_id=session_id[:32],
            amount_minor=request.amount_minor,
            term_months=request.term_months,
            monthly_income_minor=request.monthly_income_minor,
            monthly_debt_minor=request.monthly_debt_minor,
            purpose=request.purpose,
            instalment_minor=decision.instalment_minor,
            score=decision.score,
            outcome=decision.outcome.value,
            status=status.value,
            factors=[[f.name, f.value, f.points] for f in decision.factors],
            rule_hits=[[r.rule, r.detail] for r in decision.rule_hits],
            reasons=list(decision.reasons),
            model_version=decision.model_version,
            default_probability=decision.default_probability,
            adverse_reasons=list(decision.adverse_reasons),
            bank_history=dict(decision.bank_history),
            created_at=self.clock(),
        )
        with self.sessions.begin() as session:
            session.add(row)
        self._journal_decision(row, decision, session_id)
        return _view(row)

    def _journal_decision(self, row: LoanApplication, decision: Decision, session_id: str) -> None:
        if self.journal is None:
            return
        self.journal.record(
            "loan_decision",
            session_id=session_id or None,
            reference=row.reference,
            application_id=row.id,
            amount_minor=row.amount_minor,
            term_months=row.term_months,
            purpose=row.purpose,
            status=row.status,
            **decision.explanation(),
        )

    # -- stability ------------------------------------------------------------------------------------
    def stability(self) -> StabilityReport:
        """The live score distribution (every decision this model recorded) against training: PSI."""
        with self.sessions() as session:
            scores = [
                float(score)
                for score in session.scalars(
                    select(LoanApplication.score).where(LoanApplication.model_version == self.model.version)
                )
            ]
        reference = self.model.reference_shares
        if not scores:
            return StabilityReport(self.model.version, 0, None, "too_few", (), reference)
        value = round(self.model.stability(scores), 4)
        level = stability_level(value) if len(scores) >= MIN_DECISIONS_FOR_STABILITY else "too_few"
        return StabilityReport(
            self.model.version,
            len(scores),
            value,
            level,
            tuple(round(s, 4) for s in self.model.score_shares(scores)),
            reference,
        )

    # -- the review queue ---------------------------------------------------------------------------
    def pending_reviews(self) -> list[ApplicationView]:
        with self.sessions() as session:
            rows = session.scalars(
                select(LoanApplication)
                .where(LoanApplication.status == LoanStatus.PENDING_REVIEW.value)
                .order_by(LoanApplication.id)
            )
            return [_view(row) for row in rows]

    def get(self, application_id: int) -> ApplicationView | None:
        with self.sessions() as session:
            row = session.get(LoanApplication, application_id)
            return None if row is None else _view(row)

    def review(
        self, reviewer: Reviewer, application_id: int, *, approve: bool, note: str = ""
    ) -> ApplicationView | LoanRefused:
        """A supervisor's decision on a referred application; journaled with who, when and the note."""
        if reviewer.expired():
            return LoanRefused(LoanRefusal.SESSION_EXPIRED)
        if not is_allowed(reviewer.role, Action.LOAN_REVIEW):
            if self.journal is not None:
                self.journal.record(
                    "loan_review_refused", technician=reviewer.username, application_id=application_id
                )
            return LoanRefused(LoanRefusal.NOT_PERMITTED)
        with self.sessions.begin() as session:
            row = session.get(LoanApplication, application_id, with_for_update=True)
            if row is None:
                return LoanRefused(LoanRefusal.UNKNOWN_APPLICATION)
            if row.status != LoanStatus.PENDING_REVIEW.value:
                return LoanRefused(LoanRefusal.NOT_PENDING, row.status)
            row.status = (LoanStatus.REVIEW_APPROVED if approve else LoanStatus.REVIEW_DECLINED).value
            row.reviewed_by = reviewer.username
            row.reviewed_at = self.clock()
            row.review_note = note.strip()[:200]
            view = _view(row)
        if self.journal is not None:
            self.journal.record(
                "loan_review",
                technician=reviewer.username,
                reference=view.reference,
                application_id=view.application_id,
                result=view.status,
                note=view.review_note or "",
            )
        return view


def _view(row: LoanApplication) -> ApplicationView:
    return ApplicationView(
        row.id,
        row.reference,
        row.customer_id,
        row.amount_minor,
        row.term_months,
        row.monthly_income_minor,
        row.monthly_debt_minor,
        row.purpose,
        row.instalment_minor,
        row.score,
        row.outcome,
        row.status,
        [list(f) for f in row.factors],
        [list(h) for h in row.rule_hits],
        [str(r) for r in row.reasons],
        row.created_at,
        row.reviewed_by,
        row.review_note,
        row.model_version,
        row.default_probability,
        [str(r) for r in row.adverse_reasons or []],
        dict(row.bank_history or {}),
    )
