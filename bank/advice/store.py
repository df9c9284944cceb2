"""Writes the advice record and journals each decision (assessment, refusal, interest).

Called by the effect handlers on the worker pool, never on the GUI thread. Each call is one short
transaction; the journal line is written after the commit so it names the record it is about.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from typing import Any, Protocol

from sqlalchemy import Engine, select
from sqlalchemy.orm import Session

from bank.advice.models import AdviceRecord
from bank.models import utcnow
from hostlink.advice.products import Product, cooling_off_until, split_amount, suitability
from hostlink.advice.projection import Projection
from hostlink.advice.questionnaire import Assessment


class JournalLike(Protocol):
    def record(self, event: str, *, session_id: str | None = None, **fields: Any) -> int: ...


class AdviceError(ValueError):
    """The record does not exist, or a refused product was asked to be registered."""


@dataclass(frozen=True)
class InterestRegistered:
    record_id: int
    product: str
    cooling_off_until: datetime | None


class AdviceStore:
    def __init__(
        self,
        engine: Engine,
        journal: JournalLike,
        *,
        kiosk_id: str,
        clock: Callable[[], datetime] = utcnow,
    ) -> None:
        self._engine = engine
        self._journal = journal
        self._kiosk_id = kiosk_id
        self._clock = clock

    def save_assessment(
        self,
        *,
        session_id: str,
        customer_id: int,
        assessment: Assessment,
        amount_minor: int,
        projection: Projection,
    ) -> int:
        now = self._clock()
        allocation = [
            {"product": p.code, "risk": p.risk, "minor": minor}
            for p, minor in split_amount(amount_minor, assessment.level)
        ]
        final = projection.final
        record = AdviceRecord(
            session_id=session_id,
            kiosk_id=self._kiosk_id,
            customer_id=customer_id,
            questionnaire_version=assessment.version,
            answers=dict(assessment.answers),
            score=assessment.score,
            band_level=assessment.band_level,
            level=assessment.level,
            caps=list(assessment.caps),
            amount_minor=amount_minor,
            horizon_years=projection.years,
            allocation=allocation,
            projection={
                "years": final.year,
                "p5": final.p5_minor,
                "p50": final.p50_minor,
                "p95": final.p95_minor,
            },
            products_refused=[],
            products_interest=[],
            created=now,
            updated=now,
        )
        with Session(self._engine) as session, session.begin():
            session.add(record)
            session.flush()
            record_id = int(record.id)
        self._journal.record(
            "advice_assessed",
            session_id=session_id,
            advice_id=record_id,
            customer_id=customer_id,
            questionnaire=assessment.version,
            score=assessment.score,
            level=assessment.level,
            caps=list(assessment.caps),
            allocation=[f"{row['product']}:{row['minor']}" for row in allocation],
        )
        return record_id

    def record_refusal(self, record_id: int, item: Product, reason_key: str) -> None:
        now = self._clock()
        with Session(self._engine) as session, session.begin():
            record = self._get(session, record_id)
            record.products_refused = [
                *record.products_refused,
                {"product": item.code, "risk": item.risk, "reason": reason_key, "at": now.isoformat()},
            ]
            record.updated = now
            session_id, level, customer_id = record.session_id, record.level, record.customer_id
        self._journal.record(
            "advice_refused",
            session_id=session_id,
            advice_id=record_id,
            customer_id=customer_id,
            product=item.code,
            risk=item.risk,
            level=level,
            reason=reason_key,
        )

    def register_interest(self, record_id: int, item: Product, *, acknowledged: bool) -> InterestRegistered:
        """The customer's interest in a product (never a refused one; cooling-off must be acknowledged)."""
        now = self._clock()
        with Session(self._engine) as session, session.begin():
            record = self._get(session, record_id)
            verdict = suitability(item, record.level)
            if verdict.refused:
                raise AdviceError(f"{item.code} ({item.risk}) is above level {record.level}")
            if verdict.cooling_off and not acknowledged:
                raise AdviceError(f"{item.code} needs the cooling-off notice acknowledged")
            until = cooling_off_until(item, now)
            record.products_interest = [
                *record.products_interest,
                {
                    "product": item.code,
                    "risk": item.risk,
                    "at": now.isoformat(),
                    "cooling_off_until": until.isoformat() if until else None,
                },
            ]
            record.updated = now
            session_id, customer_id = record.session_id, record.customer_id
        self._journal.record(
            "advice_interest",
            session_id=session_id,
            advice_id=record_id,
            customer_id=customer_id,
            product=item.code,
            risk=item.risk,
            cooling_off_until=until.isoformat() if until else "",
        )
        return InterestRegistered(record_id, item.code, until)

    def get(self, record_id: int) -> dict[str, Any] | None:
        with Session(self._engine) as session:
            record = session.get(AdviceRecord, record_id)
            return _as_dict(record) if record is not None else None

    def for_customer(self, customer_id: int) -> list[dict[str, Any]]:
        with Session(self._engine) as session:
            rows = session.scalars(
                select(AdviceRecord)
                .where(AdviceRecord.customer_id == customer_id)
                .order_by(AdviceRecord.created.desc(), AdviceRecord.id.desc())
            )
            return [_as_dict(row) for row in rows]

    @staticmethod
    def _get(session: Session, record_id: int) -> AdviceRecord:
        record = session.get(AdviceRecord, record_id)
        if record is None:
            raise AdviceError(f"no advice record {record_id}")
        return record


def _as_dict(record: AdviceRecord) -> dict[str, Any]:
    return {
        "id": record.id,
        "session_id": record.session_id,
        "kiosk_id": record.kiosk_id,
        "customer_id": record.customer_id,
        "questionnaire_version": record.questionnaire_version,
        "answers": dict(record.answers),
        "score": record.score,
        "band_level": record.band_level,
        "level": record.level,
        "caps": list(record.caps),
        "amount_minor": record.amount_minor,
        "horizon_years": record.horizon_years,
        "allocation": list(record.allocation),
        "projection": dict(record.projection),
        "products_refused": list(record.products_refused),
        "products_interest": list(record.products_interest),
        "created": record.created,
        "updated": record.updated,
    }
