"""The terminal's typed client of the bank host's JSON API (httpx), and the link monitor.

Every call is signed with the terminal's enrolment credential (:mod:`hostlink.signing`) and carries the
terminal journal's head, so the host keeps checkpoints of it. Mutating calls carry an idempotency key,
so every call is safe to send again: a call whose answer is lost (a reset, a timeout, a host killed
mid-request) is retried on the next host address, and the host answers a repeated key with the first
answer. What the host refuses comes back as :class:`HostRefused` (a typed code); what cannot reach any
host, as :class:`HostUnavailable`. The link monitor probes ``/v1/health`` and tells listeners when the
host goes away and comes back, so the terminal stops offering what needs it within seconds.

Card transactions move to ISO 8583 later: they are the methods under "cards, PINs, enquiries and
transfers" and the swap replaces only their bodies.
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import TypeVar
from urllib.parse import quote

import httpx
from pydantic import BaseModel, ValidationError

from hostlink import api, signing

log = logging.getLogger(__name__)

M = TypeVar("M", bound=BaseModel)


class HostError(Exception):
    """Base of what a host call can raise."""


class HostUnavailable(HostError):
    """No host answered (connection refused, reset, timed out, or every host said it cannot serve)."""


class HostRefused(HostError):
    """The host refused the request (a protocol refusal: nothing changed)."""

    def __init__(self, code: str, message: str) -> None:
        super().__init__(f"{code}: {message}")
        self.code = code
        self.message = message


class CredentialError(HostError):
    """The terminal has no usable credential (not enrolled, or the file is damaged)."""


@dataclass(frozen=True)
class Credential:
    terminal_id: str
    secret: bytes

    @classmethod
    def load(cls, path: Path) -> Credential:
        try:
            text = path.read_text(encoding="utf-8")
        except FileNotFoundError:
            raise CredentialError(
                f"no host credential at {path}: enrol this terminal (smart-teller host enrol-terminal ID)"
            ) from None
        try:
            terminal_id, secret = signing.decode_credential(text)
        except ValueError as exc:
            raise CredentialError(f"the host credential at {path} is damaged: {exc}") from None
        return cls(terminal_id, secret)


class HostClient:
    def __init__(
        self,
        urls: Sequence[str],
        credential: Credential,
        *,
        timeout_s: float = 5.0,
        attempts: int = 4,
        journal_head: Callable[[], str | None] | None = None,
        on_link: Callable[[bool], None] | None = None,
        transport: httpx.BaseTransport | None = None,
    ) -> None:
        if not urls:
            raise ValueError("at least one host URL")
        self.urls = [url.rstrip("/") for url in urls]
        self.credential = credential
        self.timeout = httpx.Timeout(timeout_s, connect=min(timeout_s, 2.0))
        self.attempts = max(1, attempts)
        self.journal_head = journal_head
        self.on_link = on_link
        self._transport = transport
        self._clients: dict[str, httpx.Client] = {}
        self._preferred = 0
        self._lock = threading.Lock()

    # -- transport --
    def _client(self, base: str) -> httpx.Client:
        with self._lock:
            client = self._clients.get(base)
            if client is None:
                client = httpx.Client(base_url=base, timeout=self.timeout, transport=self._transport)
                self._clients[base] = client
            return client

    def _headers(self, method: str, path: str, body: bytes, key: str | None) -> dict[str, str]:
        timestamp = str(int(time.time()))
        nonce = signing.new_nonce()
        terminal = self.credential.terminal_id
        headers = {
            "content-type": "application/json",
            signing.TERMINAL_HEADER: terminal,
            signing.TIMESTAMP_HEADER: timestamp,
            signing.NONCE_HEADER: nonce,
            signing.SIGNATURE_HEADER: signing.sign(
                self.credential.secret, method, path, terminal, timestamp, nonce, body
            ),
        }
        if key is not None:
            headers[signing.IDEMPOTENCY_HEADER] = key
        if self.journal_head is not None:
            try:
                head = self.journal_head()
            except Exception:  # the journal must not stop a bank call; the head is evidence, not a gate
                log.exception("journal head unavailable")
                head = None
            if head:
                headers[signing.JOURNAL_HEAD_HEADER] = head
        return headers

    def call(
        self,
        method: str,
        path: str,
        answer: type[M],
        body: BaseModel | None = None,
        *,
        key: str | None = None,
    ) -> M:
        """One API call, retried on the next host while no host answered; raises HostRefused/Unavailable."""
        payload = b"" if body is None else body.model_dump_json().encode("utf-8")
        full_path = api.API_PREFIX + path
        last: Exception | None = None
        start = self._preferred % len(self.urls)
        first = self.urls[start]
        for attempt in range(self.attempts):
            index = (start + attempt) % len(self.urls)
            base = self.urls[index]
            headers = self._headers(method, full_path, payload, key)
            try:
                response = self._client(base).request(method, full_path, content=payload, headers=headers)
            except httpx.HTTPError as exc:  # refused, reset, timed out: try the next host
                last = exc
                log.warning("host %s: %s on %s %s", base, type(exc).__name__, method, path)
                continue
            if response.status_code == 200:
                if base != first:
                    log.warning("host %s answered %s %s: failed over from %s", base, method, path, first)
                self._preferred = index
                self._link(True)
                try:
                    return answer.model_validate_json(response.content)
                except ValidationError as exc:
                    raise HostRefused(
                        "bad_answer", f"the host's answer to {path} is not {answer.__name__}"
                    ) from exc
            refusal = _refusal_of(response)
            if refusal.code in (api.RefusalCode.UNAVAILABLE, api.RefusalCode.IN_PROGRESS):
                last = HostUnavailable(f"{refusal.code.value}: {refusal.message}")
                time.sleep(0.2 * (attempt + 1))
                continue
            self._preferred = index
            self._link(True)
            raise HostRefused(refusal.code.value, refusal.message)
        self._link(False)
        raise HostUnavailable(f"no bank host answered {method} {path}: {last}") from last

    def _link(self, up: bool) -> None:
        if self.on_link is not None:
            self.on_link(up)

    def health(self, timeout_s: float = 1.5) -> api.Health | None:
        """The first host that answers ``/v1/health`` (unsigned), or None."""
        for base in self.urls:
            try:
                response = self._client(base).get(api.API_PREFIX + "/health", timeout=timeout_s)
                if response.status_code == 200:
                    return api.Health.model_validate_json(response.content)
            except (httpx.HTTPError, ValidationError):
                continue
        return None

    def close(self) -> None:
        with self._lock:
            clients, self._clients = list(self._clients.values()), {}
        for client in clients:
            client.close()

    # -- cards, PINs, enquiries and transfers --
    def card_lookup(self, pan: str) -> api.CardInfo:
        return self.call("POST", "/cards/lookup", api.CardInfo, api.CardLookup(pan=pan))

    def verify_pin(self, pan: str, pin_block: bytes, session_id: str, key: str) -> api.PinVerified:
        order = api.PinVerify(pan=pan, pin_block=pin_block.hex().upper(), session_id=session_id)
        return self.call("POST", "/pins/verify", api.PinVerified, order, key=key)

    def set_pin(self, pan: str, first: bytes, second: bytes, session_id: str, key: str) -> api.PinSetResult:
        order = api.PinSet(
            pan=pan, first_block=first.hex().upper(), second_block=second.hex().upper(), session_id=session_id
        )
        return self.call("POST", "/pins/set", api.PinSetResult, order, key=key)

    def set_card_status(self, card_id: int, status: str, reason: str, key: str) -> api.Done:
        order = api.CardStatusChange(status=status, reason=reason)  # type: ignore[arg-type]
        return self.call("POST", f"/cards/{card_id}/status", api.Done, order, key=key)

    def accounts(self, customer_id: int) -> api.Accounts:
        return self.call("GET", f"/customers/{customer_id}/accounts", api.Accounts)

    def balance(self, account_id: int) -> api.BalanceView:
        return self.call("GET", f"/accounts/{account_id}/balance", api.BalanceView)

    def mini_statement(self, account_id: int) -> api.Statement:
        return self.call("GET", f"/accounts/{account_id}/mini-statement", api.Statement)

    def history(self, account_id: int, query: api.HistoryQuery) -> api.Statement:
        return self.call("POST", f"/accounts/{account_id}/history", api.Statement, query)

    def transfer(self, order: api.TransferOrder) -> api.TransferAnswer:
        return self.call("POST", "/transfers", api.TransferAnswer, order, key=order.idempotency_key)

    def transfer_state(self, idempotency_key: str) -> api.TransferState:
        return self.call("GET", f"/transfers/{quote(idempotency_key, safe='')}", api.TransferState)

    # -- account opening and face login --
    def is_customer(self, id_number: str) -> bool:
        return self.call(
            "POST", "/customers/exists", api.CustomerExists, api.CustomerQuery(id_number=id_number)
        ).exists

    def open_account(self, order: api.OpeningOrder) -> api.OpeningAnswer:
        return self.call("POST", "/openings", api.OpeningAnswer, order, key=order.idempotency_key)

    def void_opening(self, order: api.OpeningVoid, key: str) -> api.Voided:
        return self.call("POST", "/openings/void", api.Voided, order, key=key)

    def find_customer(self, mode: str, value: str) -> api.FaceCustomer:
        return self.call("POST", "/face/find", api.FaceCustomer, api.FaceFind(mode=mode, value=value))  # type: ignore[arg-type]

    def match_face(self, customer_id: int, encoding: Sequence[float]) -> api.FaceMatched:
        order = api.FaceMatch(customer_id=customer_id, encoding=[float(x) for x in encoding])
        return self.call("POST", "/face/match", api.FaceMatched, order)

    # -- bill payment --
    def bill_lookup(self, biller: str, number: str) -> api.BillView:
        return self.call("POST", "/bills/lookup", api.BillView, api.BillLookup(biller=biller, number=number))

    def pay_bill(self, order: api.BillPayment) -> api.BillPaidView:
        return self.call("POST", "/bills/pay", api.BillPaidView, order, key=order.idempotency_key)

    def bill_state(self, idempotency_key: str) -> api.BillState:
        return self.call("GET", f"/bills/{quote(idempotency_key, safe='')}", api.BillState)

    def schedules(self, customer_id: int) -> api.Schedules:
        return self.call("GET", f"/customers/{customer_id}/schedules", api.Schedules)

    def create_schedule(self, order: api.ScheduleOrder, key: str) -> api.ScheduleAnswer:
        return self.call("POST", "/schedules", api.ScheduleAnswer, order, key=key)

    def cancel_schedule(self, order: api.ScheduleCancel, key: str) -> api.ScheduleAnswer:
        return self.call("POST", "/schedules/cancel", api.ScheduleAnswer, order, key=key)

    # -- loans, advice, staff alerts --
    def apply_for_loan(self, order: api.LoanApplicationOrder) -> api.LoanAnswer:
        return self.call("POST", "/loans", api.LoanAnswer, order, key=order.idempotency_key)

    def loan_queue(self) -> api.LoanReviewQueue:
        return self.call("GET", "/loans/review", api.LoanReviewQueue)

    def loan_stability(self) -> api.LoanStability:
        return self.call("GET", "/loans/stability", api.LoanStability)

    def review_loan(self, order: api.LoanReviewDecision, key: str) -> api.LoanReviewItem:
        return self.call("POST", "/loans/review", api.LoanReviewItem, order, key=key)

    def save_advice(self, order: api.AdviceSave, key: str) -> api.AdviceSaved:
        return self.call("POST", "/advice/assessments", api.AdviceSaved, order, key=key)

    def refuse_advice(self, order: api.AdviceRefusal, key: str) -> api.Done:
        return self.call("POST", "/advice/refusals", api.Done, order, key=key)

    def register_interest(self, order: api.AdviceInterest, key: str) -> api.AdviceInterestAnswer:
        return self.call("POST", "/advice/interests", api.AdviceInterestAnswer, order, key=key)

    def raise_alert(self, order: api.StaffAlertOrder, key: str) -> api.StaffAlertRaised:
        return self.call("POST", "/alerts", api.StaffAlertRaised, order, key=key)

    # -- technicians and the journal's checkpoints --
    def any_technician(self) -> bool:
        return self.call("GET", "/technicians/any", api.Done).ok

    def tech_login(self, username: str, password: str) -> api.TechLoginAnswer:
        return self.call(
            "POST",
            "/technicians/login",
            api.TechLoginAnswer,
            api.TechLogin(username=username, password=password),
        )

    def tech_logout(self, username: str, reason: str) -> None:
        self.call("POST", "/technicians-logout", api.Done, api.TechLogout(username=username, reason=reason))

    def technicians(self) -> api.TechList:
        return self.call("GET", "/technicians", api.TechList)

    def manage_technician(self, action: str, order: api.TechManage, key: str) -> None:
        self.call("POST", f"/technicians/{action}", api.Done, order, key=key)

    def checkpoints(self) -> api.Checkpoints:
        return self.call("GET", "/journal/checkpoints", api.Checkpoints)

    def anchor_journal(self, points: Sequence[api.JournalAnchor]) -> api.JournalAnchorReceipts:
        """Send journal checkpoints (safe to send again: the host keeps the first hash per seq)."""
        order = api.JournalAnchorOrder(checkpoints=list(points))
        return self.call("POST", "/journal/checkpoints", api.JournalAnchorReceipts, order)

    def check_journal_seals(self, seals: Sequence[api.JournalSeal]) -> api.JournalSealVerdicts:
        order = api.JournalSealCheck(seals=list(seals))
        return self.call("POST", "/journal/seals/check", api.JournalSealVerdicts, order)


def _refusal_of(response: httpx.Response) -> api.Refusal:
    try:
        return api.RefusalBody.model_validate_json(response.content).refusal
    except ValidationError:
        code = api.RefusalCode.UNAVAILABLE if response.status_code >= 500 else api.RefusalCode.BAD_REQUEST
        return api.Refusal(code=code, message=f"HTTP {response.status_code} without a refusal body")


class HostLink:
    """Whether the host can be reached: probed every ``interval_s``, and told by every call's outcome.

    Listeners hear ``True``/``False`` on each change, from the probe thread or a caller's thread.
    """

    def __init__(self, client: HostClient, *, interval_s: float = 1.0, failures_to_down: int = 2) -> None:
        self.client = client
        self.interval_s = interval_s
        self.failures_to_down = failures_to_down
        self.up: bool | None = None
        self._failures = 0
        self._listeners: list[Callable[[bool], None]] = []
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None
        self._lock = threading.Lock()
        client.on_link = self.report

    def subscribe(self, listener: Callable[[bool], None]) -> Callable[[], None]:
        self._listeners.append(listener)
        return lambda: self._listeners.remove(listener) if listener in self._listeners else None

    def report(self, up: bool) -> None:
        with self._lock:
            if up:
                self._failures = 0
                changed = self.up is not True
                self.up = True
            else:
                self._failures += 1
                changed = self.up is not False and self._failures >= self.failures_to_down
                if changed:
                    self.up = False
        if changed:
            log.warning("bank host link %s", "up" if up else "down")
            for listener in list(self._listeners):
                try:
                    listener(up)
                except Exception:
                    log.exception("host link listener failed")

    def probe(self) -> bool:
        up = self.client.health(timeout_s=max(0.5, self.interval_s * 1.5)) is not None
        self.report(up)
        return up

    def start(self) -> None:
        if self._thread is not None:
            return
        self._thread = threading.Thread(target=self._run, name="host-link", daemon=True)
        self._thread.start()

    def _run(self) -> None:
        while not self._stop.is_set():
            try:
                self.probe()
            except Exception:
                log.exception("host link probe failed")
            self._stop.wait(self.interval_s)

    def close(self) -> None:
        self._stop.set()
        if self._thread is not None:
            self._thread.join(timeout=5)
            self._thread = None
