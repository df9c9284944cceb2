"""The loan review queue as a supervisor at a terminal sees it: kept and decided at the bank host."""

from __future__ import annotations

import enum
from collections.abc import Callable
from dataclasses import dataclass

from hostlink import api
from hostlink.technicians import Action, TechSession, is_allowed
from kiosk.hostclient import HostClient, HostRefused


class ReviewRefusal(enum.StrEnum):
    SESSION_EXPIRED = "session_expired"
    NOT_PERMITTED = "not_permitted"
    REFUSED_BY_HOST = "refused_by_host"


@dataclass(frozen=True)
class ReviewRefused:
    reason: ReviewRefusal
    detail: str = ""


class HostLoanReview:
    def __init__(self, host: HostClient, new_key: Callable[[], str]) -> None:
        self.host = host
        self.new_key = new_key

    def pending_reviews(self) -> list[api.LoanReviewItem]:
        return self.host.loan_queue().items

    def stability(self) -> api.LoanStability:
        return self.host.loan_stability()

    def review(
        self, reviewer: TechSession, application_id: int, *, approve: bool, note: str = ""
    ) -> api.LoanReviewItem | ReviewRefused:
        if reviewer.expired():
            return ReviewRefused(ReviewRefusal.SESSION_EXPIRED)
        if not is_allowed(reviewer.role, Action.LOAN_REVIEW):
            return ReviewRefused(ReviewRefusal.NOT_PERMITTED)
        order = api.LoanReviewDecision(
            application_id=application_id, approve=approve, reviewer=reviewer.username, note=note[:200]
        )
        try:
            return self.host.review_loan(order, self.new_key())
        except HostRefused as exc:
            return ReviewRefused(ReviewRefusal.REFUSED_BY_HOST, exc.message)
