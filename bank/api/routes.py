"""The ``/v1`` routes: each turns a :mod:`hostlink.api` request into a bank-service call and back.

Every route gets the authenticated terminal's ID; records are stamped with it. Routes that change
anything take the ``Idempotency-Key`` header and go through :func:`idempotent`, which stores the answer
under that key (in the database, so another host process replays it too).
"""

# No `from __future__ import annotations`: FastAPI must see the local Terminal and Key aliases as objects.

import base64
import binascii
import datetime as dt
from collections.abc import Callable
from typing import Annotated, Any, TypeVar

from fastapi import APIRouter, Depends, FastAPI, Header
from pydantic import BaseModel

from bank.billing.service import BillRefused, ScheduleInfo
from bank.face import find_customer, match_face
from bank.host import Host
from bank.ledger import TransferOutcome, TransferRefused
from bank.loans.service import LoanRefused
from bank.models import AccountKind, CardStatus
from bank.opening import AccountOpened, OpeningRequest, is_customer, open_account, void_opening
from bank.reversals import REVERSED_REASON, reversal_key
from bank.security.pins import SetPin
from bank.service import EnquiryRefused, StatementLine
from hostlink import api
from hostlink.advice.products import product
from hostlink.advice.projection import project
from hostlink.advice.questionnaire import score
from hostlink.loans import LoanRequest
from hostlink.money import Money
from hostlink.signing import IDEMPOTENCY_HEADER
from hostlink.technicians import LoginOutcome, Role, TechError

M = TypeVar("M", bound=BaseModel)


class NotFound(Exception):
    """A resource the terminal named does not exist (404 with a refusal body)."""


class NotAllowed(Exception):
    """The terminal may not do this (403 with a refusal body)."""


def reference_of(transfer_id: int) -> str:
    """The number the customer quotes: ``TR`` and the transfer id, zero-padded."""
    return f"TR{transfer_id:010d}"


def _line(line: StatementLine, host: Host) -> api.StatementLineView:
    return api.StatementLineView(
        date=host.bank_date(line.when).isoformat(),
        description=line.description,
        amount_minor=line.amount.minor,
        balance_minor=line.balance_after.minor,
    )


def _schedule(info: ScheduleInfo) -> api.ScheduleView:
    return api.ScheduleView(
        schedule_id=info.schedule_id,
        biller=info.biller_code,
        account_masked=info.account_masked,
        amount_minor=info.amount_minor,
        day_of_month=info.day_of_month,
        last_period=info.last_period,
        last_result=info.last_result,
    )


def _hex(text: str) -> bytes:
    try:
        return bytes.fromhex(text)
    except ValueError:
        raise NotAllowed("a PIN block is hexadecimal") from None


def install(app: FastAPI, host: Host, terminal_dependency: Callable[..., Any]) -> None:
    Terminal = Annotated[str, Depends(terminal_dependency)]
    Key = Annotated[str, Header(alias=IDEMPOTENCY_HEADER, min_length=8, max_length=96)]
    router = APIRouter(prefix=api.API_PREFIX)

    def idempotent(
        terminal: str, key: str, endpoint: str, order: BaseModel, kind: type[M], work: Callable[[], M]
    ) -> M:
        request_hash = host.registry.request_hash(endpoint, order.model_dump(mode="json"))
        reservation = host.registry.reserve(terminal, key, endpoint, request_hash)
        if reservation.replay is not None:
            return kind.model_validate_json(reservation.replay)
        assert reservation.reply_id is not None
        try:
            answer = work()
        except BaseException:
            host.registry.release(reservation.reply_id)
            raise
        host.registry.complete(reservation.reply_id, answer.model_dump_json().encode())
        return answer

    # -- cards and PINs --
    @router.post("/cards/lookup", response_model=api.CardInfo)
    def card_lookup(order: api.CardLookup, terminal: Terminal) -> api.CardInfo:
        bank = host.bank_for(terminal)
        card = bank.card_by_pan(order.pan)
        if card is None:
            return api.CardInfo(found=False)
        account = bank.account(card.account_id)
        return api.CardInfo(
            found=True,
            card_id=card.card_id,
            status=card.status,
            expiry=card.expiry,
            customer_id=card.customer_id or 0,
            account_id=card.account_id,
            account_masked=account.masked_number if account else "",
            has_pin=card.pvv is not None,
            tries_left=max(0, host.settings.security.pin_tries - card.pin_failures),
        )

    @router.post("/pins/verify", response_model=api.PinVerified)
    def pin_verify(order: api.PinVerify, terminal: Terminal, key: Key) -> api.PinVerified:
        def work() -> api.PinVerified:
            result = host.pins_for(terminal).check_pin(
                order.pan, _hex(order.pin_block), session_id=order.session_id or None
            )
            return api.PinVerified(outcome=result.outcome.value, tries_left=result.tries_left)

        return idempotent(terminal, key, "pins/verify", order, api.PinVerified, work)

    @router.post("/pins/set", response_model=api.PinSetResult)
    def pin_set(order: api.PinSet, terminal: Terminal, key: Key) -> api.PinSetResult:
        def work() -> api.PinSetResult:
            outcome = host.pins_for(terminal).set_pin(
                order.pan,
                _hex(order.first_block),
                _hex(order.second_block),
                session_id=order.session_id or None,
            )
            return api.PinSetResult(outcome=SetPin(outcome).value)

        return idempotent(terminal, key, "pins/set", order, api.PinSetResult, work)

    @router.post("/cards/{card_id}/status", response_model=api.Done)
    def card_status(card_id: int, order: api.CardStatusChange, terminal: Terminal, key: Key) -> api.Done:
        def work() -> api.Done:
            ok = host.bank_for(terminal).set_card_status(card_id, CardStatus(order.status))
            host.audit.record(
                "card_status_changed", terminal_id=terminal, card_id=card_id, status=order.status, ok=ok,
                reason=order.reason,
            )  # fmt: skip
            if not ok:
                raise NotFound(f"card {card_id} does not exist")
            return api.Done(ok=True)

        return idempotent(terminal, key, f"cards/{card_id}/status", order, api.Done, work)

    # -- accounts and enquiries --
    @router.get("/customers/{customer_id}/accounts", response_model=api.Accounts)
    def accounts(customer_id: int, terminal: Terminal) -> api.Accounts:
        return api.Accounts(
            accounts=[
                api.AccountView(
                    account_id=a.account_id,
                    masked=a.masked_number,
                    kind=a.kind,
                    status=a.status,
                    available_minor=a.available.minor,
                )
                for a in host.bank_for(terminal).accounts_of_customer(customer_id)
            ]
        )

    @router.get("/accounts/{account_id}/balance", response_model=api.BalanceView)
    def balance(account_id: int, terminal: Terminal) -> api.BalanceView:
        result = host.bank_for(terminal).balance(account_id)
        if isinstance(result, EnquiryRefused):
            return api.BalanceView(refused=result.reason.value)
        return api.BalanceView(
            ledger_minor=result.ledger.minor,
            available_minor=result.available.minor,
            pending_minor=result.pending.minor,
            overdraft_minor=result.overdraft_limit.minor,
            status=result.status,
        )

    @router.get("/accounts/{account_id}/mini-statement", response_model=api.Statement)
    def mini_statement(account_id: int, terminal: Terminal) -> api.Statement:
        result = host.bank_for(terminal).mini_statement(account_id)
        if isinstance(result, EnquiryRefused):
            return api.Statement(refused=result.reason.value)
        return api.Statement(lines=[_line(line, host) for line in result.lines])

    @router.post("/accounts/{account_id}/history", response_model=api.Statement)
    def history(account_id: int, query: api.HistoryQuery, terminal: Terminal) -> api.Statement:
        try:
            start, end = dt.date.fromisoformat(query.start), dt.date.fromisoformat(query.end)
        except ValueError:
            raise NotAllowed("start and end are dates (YYYY-MM-DD)") from None
        result = host.bank_for(terminal).history(
            account_id, start, end, page_size=query.page_size, before=query.before
        )
        if isinstance(result, EnquiryRefused):
            return api.Statement(refused=result.reason.value)
        lines = [_line(line, host) for line in result.lines]
        return api.Statement(lines=lines, next_cursor=result.next_cursor)

    # -- transfers --
    def _transfer_answer(result: TransferOutcome | TransferRefused) -> api.TransferAnswer:
        if isinstance(result, TransferRefused):
            return api.TransferAnswer(refused=result.reason.value)
        return api.TransferAnswer(
            reference=reference_of(result.transfer_id),
            transfer_id=result.transfer_id,
            status=result.status.value,
            fee_minor=result.fee_minor,
            replayed=result.replayed,
        )

    @router.post("/transfers", response_model=api.TransferAnswer)
    def transfer(order: api.TransferOrder, terminal: Terminal, key: Key) -> api.TransferAnswer:
        def work() -> api.TransferAnswer:
            bank = host.bank_for(terminal)
            amount = Money(order.amount_minor, order.currency)
            k = order.idempotency_key
            result: TransferOutcome | TransferRefused
            if order.kind == "own":
                if order.to_account_id is None:
                    raise NotAllowed("an own-account transfer names to_account_id")
                result = bank.transfer_own(k, order.from_account_id, order.to_account_id, amount)
            elif order.kind == "customer":
                result = bank.transfer_to_customer(
                    k, order.from_account_id, order.payee_account, order.payee_name, amount
                )
            else:
                result = bank.transfer_other_bank(
                    k, order.from_account_id, order.bank_code, order.payee_account, order.payee_name, amount
                )
            return _transfer_answer(result)

        return idempotent(terminal, key, "transfers", order, api.TransferAnswer, work)

    @router.get("/transfers/{idempotency_key}", response_model=api.TransferState)
    def transfer_state(idempotency_key: str, terminal: Terminal) -> api.TransferState:
        """Settles a transfer whose answer was lost: posted, pending, voided, or never posted."""
        result = host.ledger.replay(idempotency_key)
        if result is None:
            return api.TransferState(idempotency_key=idempotency_key, status="not_posted")
        status = getattr(result, "status", None)
        # Undone by an ISO 8583 reversal: voided while pending, or compensated once posted.
        reason = getattr(result, "void_reason", None)
        if host.ledger.replay(reversal_key(idempotency_key)) is not None or reason == REVERSED_REASON:
            return api.TransferState(idempotency_key=idempotency_key, status="reversed")
        return api.TransferState(
            idempotency_key=idempotency_key,
            status=str(status.value) if status is not None else "manual_review",
        )

    # -- account opening and face login --
    @router.post("/customers/exists", response_model=api.CustomerExists)
    def customer_exists(query: api.CustomerQuery, terminal: Terminal) -> api.CustomerExists:
        return api.CustomerExists(exists=is_customer(host.engine, host.vault, query.id_number))

    @router.post("/openings", response_model=api.OpeningAnswer)
    def opening(order: api.OpeningOrder, terminal: Terminal, key: Key) -> api.OpeningAnswer:
        def work() -> api.OpeningAnswer:
            try:
                photo = base64.b64decode(order.photo_b64, validate=True) if order.photo_b64 else None
            except (binascii.Error, ValueError):
                raise NotAllowed("photo_b64 is not base64") from None
            template = None
            if order.face_template is not None:
                import numpy as np

                template = np.asarray(order.face_template, dtype="<f8").tobytes()
            request = OpeningRequest(
                name=order.name,
                id_number=order.id_number,
                id_expiry=dt.date.fromisoformat(order.id_expiry) if order.id_expiry else None,
                phone=order.phone,
                address=order.address,
                occupation=order.occupation,
                photo=photo,
                face_template=template,
                account_kind=AccountKind(order.account_kind),
                currency=order.currency,
            )
            result = open_account(
                host.engine,
                host.vault,
                request,
                today=host.today(),
                minimum_age=host.settings.minimum_age_years,
            )
            if not isinstance(result, AccountOpened):
                host.audit.record("account_opening_refused", terminal_id=terminal, reason=result.reason.value)
                return api.OpeningAnswer(refused=result.reason.value)
            host.audit.record(
                "account_opened",
                terminal_id=terminal,
                customer_id=result.customer_id,
                account=f"****{result.account_number[-4:]}",
                card_id=result.card_id,
                pan_masked=result.pan_masked,
                face_enrolled=template is not None,
            )
            return api.OpeningAnswer(
                customer_id=result.customer_id,
                account_id=result.account_id,
                card_id=result.card_id,
                account_number=result.account_number,
                pan=result.pan,
                pan_masked=result.pan_masked,
                card_expiry=result.card_expiry,
            )

        return idempotent(terminal, key, "openings", order, api.OpeningAnswer, work)

    @router.post("/openings/void", response_model=api.Voided)
    def opening_void(order: api.OpeningVoid, terminal: Terminal, key: Key) -> api.Voided:
        def work() -> api.Voided:
            account_id = order.account_id
            if account_id is None:
                card = host.bank_for(terminal).card(order.card_id)
                account_id = card.account_id if card is not None else None
            voided = account_id is not None and void_opening(
                host.engine, order.customer_id, account_id, order.card_id
            )
            host.audit.record(
                "account_opening_voided" if voided else "account_opening_void_refused",
                terminal_id=terminal,
                customer_id=order.customer_id,
                card_id=order.card_id,
                reason=order.reason,
            )
            return api.Voided(voided=voided)

        return idempotent(terminal, key, "openings/void", order, api.Voided, work)

    @router.post("/face/find", response_model=api.FaceCustomer)
    def face_find(query: api.FaceFind, terminal: Terminal) -> api.FaceCustomer:
        found = find_customer(host.engine, host.vault, query.mode, query.value)
        if found is None:
            return api.FaceCustomer(found=False)
        return api.FaceCustomer(found=True, **found)

    @router.post("/face/match", response_model=api.FaceMatched)
    def face_match(query: api.FaceMatch, terminal: Terminal) -> api.FaceMatched:
        try:
            answer = match_face(host.engine, query.customer_id, query.encoding, host.settings.face_threshold)
        except ValueError as exc:
            raise NotAllowed(str(exc)) from None
        host.audit.record(
            "face_match", terminal_id=terminal, customer_id=query.customer_id, outcome=answer["outcome"],
            distance=answer["distance"],
        )  # fmt: skip
        return api.FaceMatched(**answer)

    # -- bill payment --
    @router.post("/bills/lookup", response_model=api.BillView)
    def bill_lookup(query: api.BillLookup, terminal: Terminal) -> api.BillView:
        bill = host.billing_for(terminal).lookup(query.biller, query.number)
        if isinstance(bill, BillRefused):
            return api.BillView(refused=bill.reason.value)
        return api.BillView(
            biller=bill.biller_code,
            account_masked=bill.account_masked,
            period=bill.period,
            billed_minor=bill.billed_minor,
            paid_minor=bill.paid_minor,
            due_minor=bill.due_minor,
            due_date=bill.due_date.isoformat() if bill.due_date else None,
            topup_amounts_minor=list(bill.topup_amounts_minor),
        )

    @router.post("/bills/pay", response_model=api.BillPaidView)
    def bill_pay(order: api.BillPayment, terminal: Terminal, key: Key) -> api.BillPaidView:
        def work() -> api.BillPaidView:
            result = host.billing_for(terminal).pay(
                order.idempotency_key,
                customer_id=order.customer_id,
                from_account_id=order.from_account_id,
                biller_code=order.biller,
                number=order.number,
                amount_minor=order.amount_minor,
                currency=order.currency,
            )
            if isinstance(result, BillRefused):
                return api.BillPaidView(refused=result.reason.value)
            return api.BillPaidView(
                reference=result.reference,
                transfer_id=result.transfer_id,
                amount_minor=result.amount_minor,
                replayed=result.replayed,
            )

        return idempotent(terminal, key, "bills/pay", order, api.BillPaidView, work)

    @router.get("/bills/{idempotency_key}", response_model=api.BillState)
    def bill_state(idempotency_key: str, terminal: Terminal) -> api.BillState:
        return api.BillState(
            idempotency_key=idempotency_key, status=host.billing_for(terminal).settle(idempotency_key)
        )

    @router.get("/customers/{customer_id}/schedules", response_model=api.Schedules)
    def schedules(customer_id: int, terminal: Terminal) -> api.Schedules:
        return api.Schedules(
            schedules=[_schedule(s) for s in host.billing_for(terminal).schedules(customer_id)]
        )

    @router.post("/schedules", response_model=api.ScheduleAnswer)
    def schedule_create(order: api.ScheduleOrder, terminal: Terminal, key: Key) -> api.ScheduleAnswer:
        def work() -> api.ScheduleAnswer:
            info = host.billing_for(terminal).create_schedule(
                customer_id=order.customer_id,
                from_account_id=order.from_account_id,
                biller_code=order.biller,
                number=order.number,
                day_of_month=order.day_of_month,
                amount_minor=order.amount_minor,
                currency=order.currency,
            )
            if isinstance(info, BillRefused):
                return api.ScheduleAnswer(refused=info.reason.value)
            return api.ScheduleAnswer(schedule=_schedule(info))

        return idempotent(terminal, key, "schedules", order, api.ScheduleAnswer, work)

    @router.post("/schedules/cancel", response_model=api.ScheduleAnswer)
    def schedule_cancel(order: api.ScheduleCancel, terminal: Terminal, key: Key) -> api.ScheduleAnswer:
        def work() -> api.ScheduleAnswer:
            info = host.billing_for(terminal).cancel_schedule(order.customer_id, order.schedule_id)
            if isinstance(info, BillRefused):
                return api.ScheduleAnswer(refused=info.reason.value)
            return api.ScheduleAnswer(schedule=_schedule(info))

        return idempotent(terminal, key, "schedules/cancel", order, api.ScheduleAnswer, work)

    # -- loans, advice, staff alerts --
    @router.post("/loans", response_model=api.LoanAnswer)
    def loan_apply(order: api.LoanApplicationOrder, terminal: Terminal, key: Key) -> api.LoanAnswer:
        def work() -> api.LoanAnswer:
            request = LoanRequest(
                order.amount_minor,
                order.term_months,
                order.monthly_income_minor,
                order.monthly_debt_minor,
                order.purpose,
            )
            result = host.loans_for(terminal).apply(
                order.customer_id, order.account_id, request, session_id=order.session_id
            )
            if isinstance(result, LoanRefused):
                return api.LoanAnswer(refused=result.reason.value, detail=result.detail)
            return api.LoanAnswer(
                reference=result.reference,
                outcome=result.outcome,
                status=result.status,
                score=result.score,
                reasons=list(result.reasons),
                amount_minor=result.amount_minor,
                term_months=result.term_months,
                instalment_minor=result.instalment_minor,
            )

        return idempotent(terminal, key, "loans", order, api.LoanAnswer, work)

    @router.post("/advice/assessments", response_model=api.AdviceSaved)
    def advice_save(order: api.AdviceSave, terminal: Terminal, key: Key) -> api.AdviceSaved:
        def work() -> api.AdviceSaved:
            assessment = score(order.answers)  # scored again here: the record never trusts the screen's copy
            projection = project(order.amount_minor, assessment.level, order.years)
            record_id = host.advice_for(terminal).save_assessment(
                session_id=order.session_id,
                customer_id=order.customer_id,
                assessment=assessment,
                amount_minor=order.amount_minor,
                projection=projection,
            )
            return api.AdviceSaved(record_id=record_id, level=assessment.level)

        try:
            return idempotent(terminal, key, "advice/assessments", order, api.AdviceSaved, work)
        except (KeyError, ValueError) as exc:
            raise NotAllowed(f"the answers do not fit the questionnaire: {exc}") from None

    @router.post("/advice/refusals", response_model=api.Done)
    def advice_refuse(order: api.AdviceRefusal, terminal: Terminal, key: Key) -> api.Done:
        def work() -> api.Done:
            host.advice_for(terminal).record_refusal(order.record_id, _product(order.product), order.reason)
            return api.Done(ok=True)

        return idempotent(terminal, key, "advice/refusals", order, api.Done, work)

    @router.post("/advice/interests", response_model=api.AdviceInterestAnswer)
    def advice_interest(order: api.AdviceInterest, terminal: Terminal, key: Key) -> api.AdviceInterestAnswer:
        from bank.advice.store import AdviceError

        def work() -> api.AdviceInterestAnswer:
            registered = host.advice_for(terminal).register_interest(
                order.record_id, _product(order.product), acknowledged=order.acknowledged
            )
            until = registered.cooling_off_until
            return api.AdviceInterestAnswer(
                product=registered.product, cooling_off_until=until.isoformat() if until else None
            )

        try:
            return idempotent(terminal, key, "advice/interests", order, api.AdviceInterestAnswer, work)
        except AdviceError as exc:
            raise NotAllowed(str(exc)) from None

    @router.post("/alerts", response_model=api.StaffAlertRaised)
    def staff_alert(order: api.StaffAlertOrder, terminal: Terminal, key: Key) -> api.StaffAlertRaised:
        def work() -> api.StaffAlertRaised:
            try:
                alert = host.alerts_for(terminal).raise_alert(
                    order.kind, terminal, order.session_id or None, lang=order.lang, topic=order.topic
                )
            except ValueError as exc:
                raise NotAllowed(str(exc)) from None
            return api.StaffAlertRaised(alert_id=alert.id)

        return idempotent(terminal, key, "alerts", order, api.StaffAlertRaised, work)

    # -- technicians --
    @router.get("/technicians/any", response_model=api.Done)
    def technicians_exist(terminal: Terminal) -> api.Done:
        return api.Done(ok=host.technicians(terminal).has_any_technician())

    @router.post("/technicians/login", response_model=api.TechLoginAnswer)
    def tech_login(order: api.TechLogin, terminal: Terminal) -> api.TechLoginAnswer:
        result = host.technicians(terminal).authenticate(order.username.strip(), order.password)
        session = result.session
        return api.TechLoginAnswer(
            outcome=result.outcome.value,
            username=session.username if session else "",
            role=session.role.value if session else "",
            # An unknown name is counted and locked exactly like a known one with a wrong password
            # (bank.security.techs), so these answers are the same for both and names cannot be enumerated.
            tries_left=result.tries_left,
            locked_until=result.locked_until.isoformat()
            if result.outcome is LoginOutcome.LOCKED and result.locked_until is not None
            else None,
        )

    @router.get("/technicians", response_model=api.TechList)
    def tech_list(terminal: Terminal) -> api.TechList:
        now = dt.datetime.now(dt.UTC)
        return api.TechList(
            technicians=[
                api.TechInfoView(
                    username=t.username,
                    role=t.role.value,
                    locked=t.locked_until is not None and t.locked_until > now,
                    failed_logins=t.failed_logins,
                    last_login=t.last_login.isoformat() if t.last_login else None,
                )
                for t in host.technicians(terminal).accounts()
            ]
        )

    @router.post("/technicians/{action}", response_model=api.Done)
    def tech_manage(action: str, order: api.TechManage, terminal: Terminal, key: Key) -> api.Done:
        techs = host.technicians(terminal)
        supervisor = _supervisor(order.by)
        if supervisor is None:
            raise NotAllowed(f"{order.by} is not a supervisor")
        try:
            if action == "add":
                techs.add(order.username, order.password or "", Role(order.role or "technician"), by=order.by)
            elif action == "unlock":
                techs.unlock(order.username, by=order.by)
            elif action == "remove":
                techs.remove(order.username, by=order.by)
            elif action == "password":
                techs.change_password(order.username, order.password or "", by=order.by)
            elif action == "logout":
                return api.Done(ok=True)
            else:
                raise NotFound(f"no technician action {action!r}")
        except (TechError, ValueError) as exc:
            raise NotAllowed(str(exc)) from None
        return api.Done(ok=True)

    @router.post("/technicians-logout", response_model=api.Done)
    def tech_logout(order: api.TechLogout, terminal: Terminal) -> api.Done:
        host.audit.record("tech_logout", terminal_id=terminal, username=order.username, reason=order.reason)
        return api.Done(ok=True)

    def _supervisor(username: str) -> Any:
        for tech in host.technicians().accounts():
            if tech.username == username and tech.role is Role.SUPERVISOR:
                return tech
        return None

    # -- loan review (supervisors at a terminal) --
    @router.get("/loans/review", response_model=api.LoanReviewQueue)
    def loan_queue(terminal: Terminal) -> api.LoanReviewQueue:
        return api.LoanReviewQueue(
            items=[api.LoanReviewItem.from_view(view) for view in host.loans_for(terminal).pending_reviews()]
        )

    @router.get("/loans/stability", response_model=api.LoanStability)
    def loan_stability(terminal: Terminal) -> api.LoanStability:
        from bank.loans.service import MIN_DECISIONS_FOR_STABILITY

        report = host.loans_for(terminal).stability()
        return api.LoanStability(
            model_version=report.model_version,
            decisions=report.decisions,
            psi=report.psi,
            level=report.level,
            minimum=MIN_DECISIONS_FOR_STABILITY,
            shares=list(report.shares),
            reference_shares=list(report.reference_shares),
        )

    @router.post("/loans/review", response_model=api.LoanReviewItem)
    def loan_review(order: api.LoanReviewDecision, terminal: Terminal, key: Key) -> api.LoanReviewItem:
        from hostlink.technicians import TechSession

        if _supervisor(order.reviewer) is None:
            raise NotAllowed(f"{order.reviewer} is not a supervisor")
        reviewer = TechSession(
            order.reviewer, Role.SUPERVISOR, dt.timedelta(minutes=5), dt.datetime.now(dt.UTC)
        )

        def work() -> api.LoanReviewItem:
            result = host.loans_for(terminal).review(
                reviewer, order.application_id, approve=order.approve, note=order.note
            )
            if isinstance(result, LoanRefused):
                raise NotAllowed(f"{result.reason.value} {result.detail}".strip())
            return api.LoanReviewItem.from_view(result)

        return idempotent(terminal, key, "loans/review", order, api.LoanReviewItem, work)

    @router.get("/journal/checkpoints", response_model=api.Checkpoints)
    def checkpoints(terminal: Terminal) -> api.Checkpoints:
        return api.Checkpoints(
            checkpoints=[
                api.Checkpoint(seq=seq, hash=digest, records=records, seal=seal)
                for seq, digest, records, seal in host.registry.anchors(terminal, limit=10_000)
            ]
        )

    @router.post("/journal/checkpoints", response_model=api.JournalAnchorReceipts)
    def anchor_journal(order: api.JournalAnchorOrder, terminal: Terminal) -> api.JournalAnchorReceipts:
        from bank.terminals.service import journal_seal

        key = host.journal_key(terminal)
        receipts = []
        for point in order.checkpoints:
            seal = journal_seal(key, terminal, point.seq, point.hash, point.records)
            held, conflict = host.registry.anchor(terminal, point.seq, point.hash, point.records, seal)
            receipts.append(
                api.JournalAnchorReceipt(
                    seq=point.seq,
                    hash=point.hash,
                    records=point.records,
                    seal=seal,
                    held_hash=held,
                    conflict=conflict,
                )
            )
        return api.JournalAnchorReceipts(receipts=receipts)

    @router.post("/journal/seals/check", response_model=api.JournalSealVerdicts)
    def check_journal_seals(order: api.JournalSealCheck, terminal: Terminal) -> api.JournalSealVerdicts:
        import hmac

        from bank.terminals.service import journal_seal

        key = host.journal_key(terminal)
        verdicts = [
            api.JournalSealVerdict(
                seq=item.seq,
                valid=hmac.compare_digest(
                    journal_seal(key, terminal, item.seq, item.hash, item.records), item.seal
                ),
            )
            for item in order.seals
        ]
        bad = [v.seq for v in verdicts if not v.valid]
        if bad:
            host.audit.record("journal_seal_mismatch", terminal_id=terminal, seqs=bad[:20], count=len(bad))
        return api.JournalSealVerdicts(verdicts=verdicts)

    app.include_router(router)


def _product(code: str) -> Any:
    try:
        return product(code)
    except KeyError:
        raise NotAllowed(f"unknown product {code!r}") from None
