"""The host's ISO 8583 message handling: one request in, one answer out (docs/iso8583.md).

Every request is decoded strictly (:mod:`hostlink.iso8583.codec`); a message that does not decode is not
answered (the connection is closed: its framing can no longer be trusted). A decodable request is answered
even when it is wrong: a missing field is ``30``, an unknown terminal ``58``, a bad MAC ``A0`` (and an
audit record; nothing is done). Network messages (08xx) carry no MAC: the key blocks of a sign-on
authenticate themselves under the TMK. Every other request and answer carries a MAC under the terminal's
TAK (ISO 9797-1 algorithm 3).

Exactly once: a request is recorded in ``host_iso_transactions`` by (terminal, STAN, transmission time)
with the answer sent; a duplicate gets that answer again and nothing is done twice (the ledger's
idempotency key is derived from the same three values, so even two copies racing post once). A reversal
(0420/0421, DE90 naming the original) undoes an approved transfer or bill payment once: a pending
other-bank transfer is voided, a posted one is reversed by a compensating transfer; a reversal of
something never posted, or reversed already, is answered ``00`` and changes nothing. An original that
arrives after its own reversal is declined.
"""

from __future__ import annotations

import hashlib
import logging
import secrets
import threading
from collections.abc import Callable, Iterator, Mapping
from contextlib import contextmanager, nullcontext
from dataclasses import dataclass
from datetime import UTC, date, datetime
from typing import TYPE_CHECKING, Any
from urllib.parse import quote

from sqlalchemy import delete, select, text
from sqlalchemy.exc import IntegrityError

from bank.billing.models import BillPayment
from bank.billing.service import BillPaid, BillRefused
from bank.iso8583.keys import NoSessionKeys, TerminalKeyStore
from bank.ledger.types import RefusalReason, TransferOutcome, TransferRefused
from bank.models import Transfer, TransferKind, TransferStatus
from bank.reversals import REVERSED_REASON, compensate
from bank.security.pins import PinCheck
from bank.service import EnquiryRefused
from bank.switch.reversal import SwitchReversal, reverse_forwarded
from bank.terminals.models import IsoTransaction, Terminal, TerminalStatus
from hostlink.iso8583 import codec
from hostlink.iso8583 import profile as p
from hostlink.money import Money
from hostlink.tdes import retail_mac

if TYPE_CHECKING:
    from bank.host import Host

log = logging.getLogger(__name__)

NOT_PERMITTED_TO_TERMINAL = "58"
MINI_STATEMENT_LINES = 10
ACTING_STRIPES = 64

# The ledger's refusals as DE39 codes; DE48 ``reason=`` carries the exact reason for the terminal's text.
REFUSAL_CODES: dict[str, str] = {
    RefusalReason.INVALID_AMOUNT.value: "13",
    RefusalReason.UNKNOWN_ACCOUNT.value: "14",
    RefusalReason.UNKNOWN_PAYEE.value: "14",
    RefusalReason.SAME_ACCOUNT.value: "12",
    RefusalReason.NOT_OWN_ACCOUNT.value: "57",
    RefusalReason.PAYEE_NAME_MISMATCH.value: "05",
    RefusalReason.CURRENCY_MISMATCH.value: "12",
    RefusalReason.ACCOUNT_FROZEN.value: "57",
    RefusalReason.ACCOUNT_CLOSED.value: "57",
    RefusalReason.PAYEE_ACCOUNT_FROZEN.value: "05",
    RefusalReason.PAYEE_ACCOUNT_CLOSED.value: "05",
    RefusalReason.INSUFFICIENT_FUNDS.value: "51",
    RefusalReason.DAILY_LIMIT.value: "61",
    RefusalReason.DAILY_COUNT_LIMIT.value: "61",
    RefusalReason.IDEMPOTENCY_KEY_REUSED.value: "94",
    RefusalReason.NOT_PENDING.value: "12",
    RefusalReason.BUSY.value: "91",
}
PIN_CODES = {
    PinCheck.OK: p.APPROVED,
    PinCheck.WRONG: "55",
    PinCheck.RETAIN: "75",
    PinCheck.CARD_NOT_USABLE: "57",
    PinCheck.NO_PIN: "57",
    PinCheck.UNKNOWN_CARD: "14",
}
ADVICES = {p.AUTH_ADVICE, p.AUTH_ADVICE_REPEAT, p.FINANCIAL_ADVICE}
FINANCIAL = {p.AUTH_REQUEST, p.FINANCIAL_REQUEST} | ADVICES
REVERSALS = {p.REVERSAL, p.REVERSAL_REPEAT}
REQUIRED = (p.PROCESSING_CODE, p.TRANSMISSION_DATETIME, p.STAN, p.TERMINAL_ID, p.CARD_ACCEPTOR_ID)


class Refuse(Exception):
    """Answer with this DE39 (and DE48 ``reason=``) instead of acting."""

    def __init__(self, code: str, reason: str = "") -> None:
        super().__init__(code, reason)
        self.code, self.reason = code, reason


@dataclass
class Answer:
    code: str
    fields: dict[str, str | bytes]
    reference: str | None = None  # the ledger idempotency key it used, for a reversal to find
    auth_id: str | None = None
    card_id: int | None = None  # kept for a PIN check: a later advice may name it instead of the PAN


def text_value(text: str) -> str:
    """A DE48 value from any text: UTF-8, percent-encoded (``;``, ``=``, ``,`` and non-ASCII escaped)."""
    return quote(text, safe=" -*/.:()#@+_")


class IsoHostService:
    def __init__(self, host: Host, keys: TerminalKeyStore | None = None) -> None:
        self.host = host
        self.keys = keys or TerminalKeyStore(host.runtime.sessions)
        self.sessions = host.runtime.sessions
        # Copies of one request (a terminal that timed out sends the same bytes again on a new connection
        # while the first may still be acted on here) take turns: the second finds the first's record
        # and is answered from it instead of acting twice. Striped by (terminal, STAN, DE7).
        self._acting = [threading.Lock() for _ in range(ACTING_STRIPES)]

    # -- one request ---------------------------------------------------------------------------------
    def handle(self, raw: bytes) -> bytes | None:
        """The answer to ``raw``, or None when it cannot be answered (undecodable: close the link)."""
        try:
            request = codec.decode(raw)
        except codec.Iso8583Error as exc:
            log.warning("ISO 8583: undecodable message (%d bytes): %s", len(raw), exc)
            return None
        mti = str(request["t"])
        try:
            answer_mti = p.response_mti(mti)
        except ValueError:
            log.warning("ISO 8583: %s is not a request", mti)
            return None
        try:
            return self._answer(raw, request, answer_mti)
        except Exception:
            log.exception("ISO 8583: %s failed", codec.describe(request))
            return self._plain(request, answer_mti, "96")

    def _plain(self, request: Mapping[str, Any], answer_mti: str, code: str, reason: str = "") -> bytes:
        """An unMACed answer: for requests we cannot tie to a terminal's keys."""
        fields = self._echo(request, answer_mti)
        fields[p.RESPONSE_CODE] = code
        if reason:
            fields[p.ADDITIONAL_DATA] = p.additional_data({"reason": reason})
        return codec.encode(fields)

    @staticmethod
    def _echo(request: Mapping[str, Any], answer_mti: str) -> dict[str, str | bytes]:
        fields: dict[str, str | bytes] = {"t": answer_mti}
        for field in (
            p.PROCESSING_CODE,
            p.AMOUNT,
            p.TRANSMISSION_DATETIME,
            p.STAN,
            p.LOCAL_TIME,
            p.LOCAL_DATE,
            p.ACQUIRER_ID,
            p.TERMINAL_ID,
            p.CARD_ACCEPTOR_ID,
            p.CURRENCY,
            p.NETWORK_CODE,
            p.ORIGINAL_DATA,
        ):
            if field in request:
                fields[field] = request[field]
        return fields

    def _terminal_of(self, request: Mapping[str, Any]) -> str:
        terminal_id = str(request[p.CARD_ACCEPTOR_ID]).strip()
        with self.sessions() as db:
            row = db.scalars(select(Terminal).where(Terminal.terminal_id == terminal_id)).one_or_none()
        if row is None or row.status != TerminalStatus.ACTIVE.value:
            raise Refuse(NOT_PERMITTED_TO_TERMINAL, "terminal_not_enrolled")
        if str(request[p.TERMINAL_ID]) != iso_terminal_id(terminal_id):
            raise Refuse("30", "terminal_id_mismatch")
        return terminal_id

    def _answer(self, raw: bytes, request: Mapping[str, Any], answer_mti: str) -> bytes:
        missing = [field for field in REQUIRED if field not in request]
        mti = str(request["t"])
        if mti in (p.NETWORK_REQUEST,) and p.PROCESSING_CODE in missing:
            missing.remove(p.PROCESSING_CODE)
        # A MACed message that names its terminal is authenticated before its format is judged: a bit
        # flipped on the wire that drops a field is a MAC failure (A0, audited), not a format error.
        identified = p.CARD_ACCEPTOR_ID in request and p.TERMINAL_ID in request
        if missing and not (mti in FINANCIAL | REVERSALS and identified):
            return self._plain(request, answer_mti, "30", "missing_" + "_".join(missing))
        try:
            terminal_id = self._terminal_of(request)
        except Refuse as refusal:
            self.host.audit.record(
                "iso_terminal_refused", terminal=str(request[p.CARD_ACCEPTOR_ID]).strip()[:32],
                reason=refusal.reason,
            )  # fmt: skip
            return self._plain(request, answer_mti, refusal.code, refusal.reason)
        if mti == p.NETWORK_REQUEST:
            return self._network(terminal_id, request, answer_mti)
        if mti not in FINANCIAL | REVERSALS:
            return self._plain(request, answer_mti, "12", "unsupported_message")
        try:
            tak = self.keys.session(terminal_id).tak
        except NoSessionKeys:
            return self._plain(request, answer_mti, "A0", "not_signed_on")
        mac = lambda data: retail_mac(tak, data)  # noqa: E731 - the one MAC both ways
        try:
            good_mac = codec.verify_mac(raw, mac)
        except codec.Iso8583Error:
            good_mac = False
        if not good_mac:
            self.host.audit.for_terminal(terminal_id).record(
                "iso_mac_failure", mti=mti, stan=str(request.get(p.STAN, "")), detail=codec.describe(request)
            )
            return self._plain(request, answer_mti, "A0", "mac_failure")
        if missing:
            return self._plain(request, answer_mti, "30", "missing_" + "_".join(missing))
        subject = acting_subject(terminal_id, request)
        stripe = int.from_bytes(hashlib.blake2b(subject.encode(), digest_size=8).digest(), "big", signed=True)
        across = self._across_processes(stripe) if moves_money(request) else nullcontext()
        with self._acting[stripe % ACTING_STRIPES], across:
            return self._answer_once(terminal_id, raw, request, answer_mti, mac)

    @contextmanager
    def _across_processes(self, key: int) -> Iterator[None]:
        """The same turn-taking between host processes on one PostgreSQL: an advisory lock on the subject.

        Without it a reversal that reached another host process while this one was still posting the
        original found nothing to reverse, and the original was posted after it (seen by the wire chaos
        run: a bill payment the terminal had reversed stayed paid)."""
        engine = self.host.engine
        if engine.dialect.name != "postgresql":
            yield
            return
        with engine.connect() as conn:
            conn.execute(text("SELECT pg_advisory_lock(:key)"), {"key": key})
            conn.commit()
            try:
                yield
            finally:
                conn.execute(text("SELECT pg_advisory_unlock(:key)"), {"key": key})
                conn.commit()

    def _answer_once(
        self,
        terminal_id: str,
        raw: bytes,
        request: Mapping[str, Any],
        answer_mti: str,
        mac: Callable[[bytes], bytes],
    ) -> bytes:
        digest = request_digest(raw)
        earlier = self._recorded(terminal_id, request)
        if earlier is not None:
            if earlier.request_hash != digest:
                # The same STAN and DE7 on a different request: not a duplicate, and not acted on.
                log.warning("ISO 8583: STAN reused for another request: %s", codec.describe(request))
                refused = self._echo(request, answer_mti)
                refused[p.RESPONSE_CODE] = "94"
                refused[p.ADDITIONAL_DATA] = p.additional_data({"reason": "stan_reused"})
                refused[codec.mac_field(refused)] = bytes(codec.MAC_LEN)
                return codec.encode_with_mac(refused, mac)
            log.info("ISO 8583: duplicate %s answered again", codec.describe(request))
            return codec.encode_with_mac(codec.decode(earlier.response + bytes(codec.MAC_LEN)), mac)
        answer = self._act(terminal_id, request)
        fields = self._echo(request, answer_mti)
        fields.update(answer.fields)
        fields[p.RESPONSE_CODE] = answer.code
        fields[p.RRN] = retrieval_reference(str(request[p.TRANSMISSION_DATETIME]), str(request[p.STAN]))
        if answer.auth_id:
            fields[p.AUTH_ID] = answer.auth_id
        fields[codec.mac_field(fields)] = bytes(codec.MAC_LEN)
        encoded = codec.encode_with_mac(fields, mac)
        stored = self._record(terminal_id, request, answer, encoded[: -codec.MAC_LEN], digest)
        if stored is not None:  # a copy racing this one was recorded first: its answer stands
            return codec.encode_with_mac(codec.decode(stored + bytes(codec.MAC_LEN)), mac)
        return encoded

    # -- 08xx ---------------------------------------------------------------------------------------
    def _network(self, terminal_id: str, request: Mapping[str, Any], answer_mti: str) -> bytes:
        code = str(request.get(p.NETWORK_CODE, ""))
        fields = self._echo(request, answer_mti)
        if code in (p.SIGN_ON, p.KEY_CHANGE):
            try:
                exchange = self.keys.new_session(terminal_id)
            except NoSessionKeys:
                return self._plain(request, answer_mti, NOT_PERMITTED_TO_TERMINAL, "no_master_key")
            fields[p.TPK_KEY_BLOCK] = exchange.tpk_block
            fields[p.TAK_KEY_BLOCK] = exchange.tak_block
            fields[p.KEY_CHECK_VALUES] = exchange.tpk_kcv + exchange.tak_kcv
            self.host.audit.for_terminal(terminal_id).record(
                "iso_sign_on" if code == p.SIGN_ON else "iso_key_change",
                key_version=exchange.key_version,
                tpk_kcv=exchange.tpk_kcv,
                tak_kcv=exchange.tak_kcv,
            )
        elif code not in (p.ECHO, p.SIGN_OFF):
            return self._plain(request, answer_mti, "12", "unknown_network_code")
        fields[p.RESPONSE_CODE] = p.APPROVED
        return codec.encode(fields)

    # -- duplicates ---------------------------------------------------------------------------------
    def _recorded(self, terminal_id: str, request: Mapping[str, Any]) -> IsoTransaction | None:
        with self.sessions() as db:
            return db.scalars(
                select(IsoTransaction).where(
                    IsoTransaction.terminal_id == terminal_id,
                    IsoTransaction.stan == int(request[p.STAN]),
                    IsoTransaction.transmission_time == int(request[p.TRANSMISSION_DATETIME]),
                )
            ).one_or_none()

    def _record(
        self, terminal_id: str, request: Mapping[str, Any], answer: Answer, response: bytes, digest: str
    ) -> bytes | None:
        """Keep the answer; None when kept, or the answer of a copy recorded a moment earlier."""
        row = IsoTransaction(
            terminal_id=terminal_id,
            stan=int(request[p.STAN]),
            transmission_time=int(request[p.TRANSMISSION_DATETIME]),
            mti=str(request["t"]),
            processing_code=str(request[p.PROCESSING_CODE]),
            amount_minor=p.parse_amount(str(request[p.AMOUNT])) if p.AMOUNT in request else 0,
            response_code=answer.code,
            auth_id=answer.auth_id,
            reference=answer.reference,
            request_hash=digest,
            response=response,
            card_id=answer.card_id,
        )
        try:
            with self.sessions.begin() as db:
                db.add(row)
        except IntegrityError:
            earlier = self._recorded(terminal_id, request)
            if earlier is None:
                raise
            return earlier.response
        return None

    # -- acting -------------------------------------------------------------------------------------
    def _act(self, terminal_id: str, request: Mapping[str, Any]) -> Answer:
        mti, code = str(request["t"]), str(request[p.PROCESSING_CODE])
        try:
            if mti in REVERSALS:
                return self._reverse(terminal_id, request)
            if self._reversed_before(terminal_id, request):
                raise Refuse("05", "reversed_before_arrival")
            if mti in ADVICES:
                if code != p.CARD_RETAINED:
                    raise Refuse("12", "unsupported_advice")
                return self._card_retained(terminal_id, request)
            handlers: dict[str, Callable[[str, Mapping[str, Any]], Answer]] = {
                p.PIN_VERIFY: self._pin_verify,
                p.BALANCE: self._balance,
                p.MINI_STATEMENT: self._mini_statement,
                p.TRANSFER: self._transfer,
                p.BILL_PAYMENT: self._bill_payment,
                p.PIN_CHANGE: self._pin_change,
            }
            handler = handlers.get(code)
            if handler is None or (mti == p.AUTH_REQUEST) != (code == p.PIN_VERIFY):
                raise Refuse("12", "unsupported_processing_code")
            return handler(terminal_id, request)
        except Refuse as refusal:
            extra: dict[str, str | bytes] = {}
            if refusal.reason:
                extra[p.ADDITIONAL_DATA] = p.additional_data({"reason": refusal.reason})
            return Answer(refusal.code, extra)

    @staticmethod
    def _need(request: Mapping[str, Any], *fields: str) -> None:
        missing = [field for field in fields if field not in request]
        if missing:
            raise Refuse("30", "missing_" + "_".join(missing))

    def _card(self, terminal_id: str, request: Mapping[str, Any]) -> Any:
        self._need(request, p.PAN)
        card = self.host.bank_for(terminal_id).card_by_pan(str(request[p.PAN]))
        if card is None:
            raise Refuse("14", "unknown_card")
        if card.status != "active":
            raise Refuse("57", f"card_{card.status}")
        if card_expired(card.expiry, self.host.today()):
            raise Refuse("54", "expired_card")
        if p.EXPIRY in request and str(request[p.EXPIRY]) != card.expiry:
            raise Refuse("54", "expiry_mismatch")
        return card

    def _account_of(self, terminal_id: str, card: Any, field: str, request: Mapping[str, Any]) -> int:
        """DE102 (or DE103 for an own-account payee): the host's account id, one of the card holder's."""
        self._need(request, field)
        value = str(request[field])
        if not value.isdigit():
            raise Refuse("14", "unknown_account")
        account_id = int(value)
        owned = {a.account_id for a in self.host.bank_for(terminal_id).accounts_of_customer(card.customer_id)}
        if card.customer_id is None or account_id not in owned:
            raise Refuse("57", "not_own_account")
        return account_id

    def _pin_verify(self, terminal_id: str, request: Mapping[str, Any]) -> Answer:
        self._need(request, p.PAN, p.PIN_BLOCK)
        pan = str(request[p.PAN])
        result = self.host.pins_for(terminal_id).check_pin(pan, bytes(request[p.PIN_BLOCK]))
        extra = {"tries_left": str(result.tries_left), "outcome": result.outcome.value}
        card = self.host.bank_for(terminal_id).card_by_pan(pan)
        return Answer(
            PIN_CODES[result.outcome],
            {p.ADDITIONAL_DATA: p.additional_data(extra)},
            card_id=card.card_id if card is not None else None,
        )

    def _balance(self, terminal_id: str, request: Mapping[str, Any]) -> Answer:
        card = self._card(terminal_id, request)
        account_id = self._account_of(terminal_id, card, p.ACCOUNT_FROM, request)
        balance = self.host.bank_for(terminal_id).balance(account_id)
        if isinstance(balance, EnquiryRefused):
            raise Refuse("14", balance.reason.value)
        currency = currency_number(balance.ledger.currency)
        fields: dict[str, str | bytes] = {
            p.BALANCES: balance_amount("01", currency, balance.ledger.minor)
            + balance_amount("02", currency, balance.available.minor),
            p.ADDITIONAL_DATA: p.additional_data(
                {
                    "pending": str(balance.pending.minor),
                    "overdraft": str(balance.overdraft_limit.minor),
                    "status": balance.status,
                }
            ),
        }
        return Answer(p.APPROVED, fields, auth_id=auth_id())

    def _mini_statement(self, terminal_id: str, request: Mapping[str, Any]) -> Answer:
        card = self._card(terminal_id, request)
        account_id = self._account_of(terminal_id, card, p.ACCOUNT_FROM, request)
        statement = self.host.bank_for(terminal_id).mini_statement(account_id)
        if isinstance(statement, EnquiryRefused):
            raise Refuse("14", statement.reason.value)
        lines: dict[str, str] = {}
        for number, line in enumerate(statement.lines[:MINI_STATEMENT_LINES], start=1):
            value = ",".join(
                (
                    self.host.bank_date(line.when).isoformat(),  # as the JSON statement gives it
                    str(line.amount.minor),
                    str(line.balance_after.minor),
                    text_value(line.description),
                )
            )
            candidate = {**lines, f"l{number}": value}
            try:
                p.additional_data({"lines": str(number), **candidate})
            except ValueError:  # over 999 characters (additional_data refuses it, never returns it)
                break  # DE48 holds 999 characters: the newest lines that fit
            lines = candidate
        return Answer(
            p.APPROVED,
            {p.ADDITIONAL_DATA: p.additional_data({"lines": str(len(lines)), **lines})},
            auth_id=auth_id(),
        )

    def _extra(self, request: Mapping[str, Any]) -> dict[str, str]:
        if p.ADDITIONAL_DATA not in request:
            return {}
        try:
            return p.parse_additional_data(str(request[p.ADDITIONAL_DATA]))
        except ValueError as exc:
            raise Refuse("30", "bad_additional_data") from exc

    def _amount(self, request: Mapping[str, Any]) -> Money:
        self._need(request, p.AMOUNT)
        if str(request.get(p.CURRENCY, p.CURRENCY_CNY)) != currency_number(self.host.settings.currency):
            raise Refuse("12", "currency")
        minor = p.parse_amount(str(request[p.AMOUNT]))
        if minor <= 0:
            raise Refuse("13", "invalid_amount")
        return Money(minor, self.host.settings.currency)

    @staticmethod
    def _ledger_key(terminal_id: str, request: Mapping[str, Any], extra: Mapping[str, str]) -> str:
        """DE48 ``key=``: the terminal's own idempotency key (what its journal names, so its crash
        recovery can ask about it); else one made of terminal, STAN and transmission time."""
        key = extra.get("key", "")
        if key:
            if len(key) > 60:
                raise Refuse("30", "key_too_long")
            return key
        return ledger_key(terminal_id, request)

    def _transfer(self, terminal_id: str, request: Mapping[str, Any]) -> Answer:
        card = self._card(terminal_id, request)
        from_account = self._account_of(terminal_id, card, p.ACCOUNT_FROM, request)
        amount = self._amount(request)
        extra = self._extra(request)
        kind = extra.get("kind", "")
        key = self._ledger_key(terminal_id, request, extra)
        bank = self.host.bank_for(terminal_id)
        self._need(request, p.ACCOUNT_TO)
        payee = str(request[p.ACCOUNT_TO])
        name = unquote_text(extra.get("payee_name", ""))
        result: TransferOutcome | TransferRefused
        if kind == "own":
            to_account = self._account_of(terminal_id, card, p.ACCOUNT_TO, request)
            result = bank.transfer_own(key, from_account, to_account, amount)
        elif kind == "customer":
            result = bank.transfer_to_customer(key, from_account, payee, name, amount)
        elif kind == "other_bank":
            self._need(request, p.RECEIVING_INSTITUTION_ID)
            bank_code = str(request[p.RECEIVING_INSTITUTION_ID])
            result = bank.transfer_other_bank(key, from_account, bank_code, payee, name, amount)
        else:
            raise Refuse("30", "transfer_kind")
        if isinstance(result, TransferRefused):
            raise Refuse(REFUSAL_CODES.get(result.reason.value, "05"), result.reason.value)
        self._check_owner(terminal_id, result.transfer_id)
        data = {
            "reference": f"TR{result.transfer_id:010d}",
            "status": result.status.value,
            "fee": str(result.fee_minor),
        }
        return Answer(
            p.APPROVED, {p.ADDITIONAL_DATA: p.additional_data(data)}, reference=key, auth_id=auth_id()
        )

    def _check_owner(self, terminal_id: str, transfer_id: int) -> None:
        """A replayed key must be this terminal's own: another terminal's transfer is not answered."""
        with self.sessions() as db:
            owner = db.scalar(select(Transfer.kiosk_id).where(Transfer.id == transfer_id))
        if owner != terminal_id:
            raise Refuse("94", "key_of_another_terminal")

    def _bill_payment(self, terminal_id: str, request: Mapping[str, Any]) -> Answer:
        card = self._card(terminal_id, request)
        from_account = self._account_of(terminal_id, card, p.ACCOUNT_FROM, request)
        amount = self._amount(request)
        extra = self._extra(request)
        biller, number = extra.get("biller", ""), extra.get("number", "")
        if not biller or not number:
            raise Refuse("30", "biller_and_number")
        key = self._ledger_key(terminal_id, request, extra)
        result = self.host.billing_for(terminal_id).pay(
            key,
            customer_id=card.customer_id,
            from_account_id=from_account,
            biller_code=biller,
            number=number,
            amount_minor=amount.minor,
            currency=amount.currency,
        )
        if isinstance(result, BillRefused):
            reason = result.reason.value
            raise Refuse(REFUSAL_CODES.get(reason, "05"), reason)
        assert isinstance(result, BillPaid)
        self._check_owner(terminal_id, result.transfer_id)
        data = {"reference": result.reference, "transfer": f"TR{result.transfer_id:010d}"}
        return Answer(
            p.APPROVED, {p.ADDITIONAL_DATA: p.additional_data(data)}, reference=key, auth_id=auth_id()
        )

    def _pin_change(self, terminal_id: str, request: Mapping[str, Any]) -> Answer:
        self._need(request, p.PIN_BLOCK, p.NEW_PIN_BLOCK)
        card = self._card(terminal_id, request)
        pan = str(request[p.PAN])
        pins = self.host.pins_for(terminal_id)
        check = pins.check_pin(pan, bytes(request[p.PIN_BLOCK]))
        if check.outcome is not PinCheck.OK:
            extra = {"tries_left": str(check.tries_left), "outcome": check.outcome.value}
            return Answer(PIN_CODES[check.outcome], {p.ADDITIONAL_DATA: p.additional_data(extra)})
        try:
            new_block = bytes.fromhex(str(request[p.NEW_PIN_BLOCK]))
        except ValueError as exc:
            raise Refuse("30", "new_pin_block") from exc
        outcome = pins.set_pin(pan, new_block, new_block)
        if outcome.value != "ok":
            raise Refuse("12" if outcome.value == "weak" else "30", f"new_pin_{outcome.value}")
        log.info("PIN changed for card %s", card.pan_masked)
        return Answer(p.APPROVED, {}, auth_id=auth_id())

    def _card_retained(self, terminal_id: str, request: Mapping[str, Any]) -> Answer:
        """The terminal kept a card: by DE2, or (a stored-and-forwarded advice) by the PIN check in DE90."""
        bank = self.host.bank_for(terminal_id)
        card_id: int | None
        if p.PAN in request:
            card = bank.card_by_pan(str(request[p.PAN]))
            card_id = card.card_id if card is not None else None
        elif p.ORIGINAL_DATA in request:
            card_id = self._card_of_pin_check(terminal_id, str(request[p.ORIGINAL_DATA]))
        else:
            raise Refuse("30", "missing_2")
        if card_id is None:
            raise Refuse("14" if p.PAN in request else "25", "unknown_card")
        extra = self._extra(request)
        from bank.models import CardStatus

        bank.set_card_status(card_id, CardStatus.RETAINED)
        self.host.audit.for_terminal(terminal_id).record(
            "card_status_changed",
            card_id=card_id,
            status="retained",
            ok=True,
            reason=extra.get("reason", "retained"),
        )
        return Answer(p.APPROVED, {})

    def _card_of_pin_check(self, terminal_id: str, original_data: str) -> int | None:
        try:
            original = p.parse_original_data(original_data)
        except ValueError as exc:
            raise Refuse("30", "original_data") from exc
        with self.sessions() as db:
            card_id = db.scalars(
                select(IsoTransaction.card_id).where(
                    IsoTransaction.terminal_id == terminal_id,
                    IsoTransaction.mti == p.AUTH_REQUEST,
                    IsoTransaction.stan == int(original.stan),
                    IsoTransaction.transmission_time == int(original.transmission_time),
                )
            ).one_or_none()
        return card_id

    # -- reversals ----------------------------------------------------------------------------------
    def _reversed_before(self, terminal_id: str, request: Mapping[str, Any]) -> bool:
        marker = reversal_marker(str(request[p.STAN]), str(request[p.TRANSMISSION_DATETIME]))
        with self.sessions() as db:
            found = db.scalars(
                select(IsoTransaction.id).where(
                    IsoTransaction.terminal_id == terminal_id,
                    IsoTransaction.mti.in_(REVERSALS),
                    IsoTransaction.reference == marker,
                )
            ).first()
        return found is not None

    def _reverse(self, terminal_id: str, request: Mapping[str, Any]) -> Answer:
        self._need(request, p.ORIGINAL_DATA)
        try:
            original = p.parse_original_data(str(request[p.ORIGINAL_DATA]))
        except ValueError as exc:
            raise Refuse("30", "original_data") from exc
        marker = reversal_marker(original.stan, original.transmission_time)
        # A 0421 repeats a 0420 with its own STAN: an earlier reversal of the same original stands.
        with self.sessions() as db:
            done = db.scalars(
                select(IsoTransaction).where(
                    IsoTransaction.terminal_id == terminal_id,
                    IsoTransaction.mti.in_(REVERSALS),
                    IsoTransaction.reference == marker,
                )
            ).first()
            target = db.scalars(
                select(IsoTransaction).where(
                    IsoTransaction.terminal_id == terminal_id,
                    IsoTransaction.stan == int(original.stan),
                    IsoTransaction.transmission_time == int(original.transmission_time),
                )
            ).one_or_none()
        audit = self.host.audit.for_terminal(terminal_id)
        if done is not None:
            return Answer(p.APPROVED, _result("already_reversed"), reference=marker)
        if target is None:
            # No answer was recorded: the original never arrived, or the host process acting on it died
            # between posting it and recording its answer. The ledger knows by the original's key.
            result, reason = self._undo_unrecorded(terminal_id, request, original)
            audit.record("iso_reversal", original_stan=original.stan, result=result, reason=reason)
            return Answer(p.APPROVED, _result(result, reason), reference=marker)
        if target.response_code != p.APPROVED or target.reference is None:
            audit.record("iso_reversal", original_stan=original.stan, result="nothing_to_reverse")
            self._mark(target, "nothing_to_reverse")
            return Answer(p.APPROVED, _result("nothing_to_reverse"), reference=marker)
        result, reason = self._undo(terminal_id, target.reference)
        self._mark(target, result)
        audit.record("iso_reversal", original_stan=original.stan, result=result, reason=reason)
        return Answer(p.APPROVED, _result(result, reason), reference=marker)

    def _undo_unrecorded(
        self, terminal_id: str, request: Mapping[str, Any], original: p.OriginalData
    ) -> tuple[str, str]:
        """Undo an original of which no answer was recorded, by the key it was posted under: DE48 ``key=``
        of the reversal (the terminal's idempotency key, copied from the original), else the key the
        host makes of terminal, STAN and DE7. Not when another recorded request of this terminal was
        answered under that key: that one stands and is not this reversal's to undo."""
        if str(original.mti) not in FINANCIAL:
            return "nothing_to_reverse", ""
        key = self._extra(request).get("key", "")
        if not key:
            key = ledger_key(
                terminal_id, {p.STAN: original.stan, p.TRANSMISSION_DATETIME: original.transmission_time}
            )
        if len(key) > 60:
            raise Refuse("30", "key_too_long")
        with self.sessions() as db:
            answered_under_key = db.scalars(
                select(IsoTransaction.id).where(
                    IsoTransaction.terminal_id == terminal_id, IsoTransaction.reference == key
                )
            ).first()
        if answered_under_key is not None:
            return "nothing_to_reverse", "key_answered_for_another_request"
        return self._undo(terminal_id, key)

    def _mark(self, target: IsoTransaction | None, result: str) -> None:
        if target is None:
            return
        with self.sessions.begin() as db:
            row = db.get(IsoTransaction, target.id)
            if row is not None and row.reversal is None:
                row.reversal = result

    def _undo(self, terminal_id: str, ledger_key_: str) -> tuple[str, str]:
        """Undo the transfer made under ``ledger_key_`` once: void it if pending, else compensate."""
        ledger = self.host.ledger
        with self.sessions() as db:
            row = db.scalars(select(Transfer).where(Transfer.idempotency_key == ledger_key_)).one_or_none()
        if row is None:
            return "nothing_to_reverse", ""
        if row.kiosk_id != terminal_id:
            # A key another terminal posted under: this terminal cannot undo that terminal's transfer.
            return "nothing_to_reverse", "another_terminal"
        if row.status == TransferStatus.VOIDED.value:
            return "nothing_to_reverse", "voided"
        if row.kind == TransferKind.OTHER_BANK.value:
            at_switch = reverse_forwarded(self.host.engine, row.id, self.host.clock)
            if at_switch is SwitchReversal.AT_SWITCH:
                # The switch has it (or approved it): its 0430 voids the hold or compensates.
                return "reversed", "at_switch"
            if at_switch is SwitchReversal.NOTHING:
                return "nothing_to_reverse", "voided"
        if row.status == TransferStatus.PENDING.value:
            voided = ledger.void_pending(row.id, REVERSED_REASON)
            if isinstance(voided, TransferRefused):  # settled a moment ago: compensate below
                with self.sessions() as db:
                    row = db.get(Transfer, row.id) or row
            else:
                return "reversed", "voided"
        compensation = compensate(ledger, row, terminal_id)
        if isinstance(compensation, TransferRefused):
            # Acknowledged (0430 00) but not undone: the back office settles it by hand.
            log.error("reversal of TR%010d could not post: %s", row.id, compensation.reason.value)
            return "failed", compensation.reason.value
        # A reversed bill payment no longer pays the bill: it is due again (the compensating transfer
        # and the audit record keep the evidence).
        with self.sessions.begin() as db:
            db.execute(delete(BillPayment).where(BillPayment.idempotency_key == ledger_key_))
        return "reversed", "compensated"


MONEY_CODES = {p.TRANSFER, p.BILL_PAYMENT, p.PIN_CHANGE}


def moves_money(request: Mapping[str, Any]) -> bool:
    """Whether a request changes what a reversal must undo (money, a PIN, a retained card): only these
    take turns across host processes. An enquiry or a PIN check changes nothing a reversal could find
    missing, so it skips the advisory lock and its extra connection and four round trips."""
    mti = str(request["t"])
    if mti in REVERSALS or mti in ADVICES:
        return True
    return str(request.get(p.PROCESSING_CODE, "")) in MONEY_CODES


def acting_subject(terminal_id: str, request: Mapping[str, Any]) -> str:
    """What a request acts on, for taking turns: its own STAN and DE7, or for a reversal those of the
    original it names (DE90), so a reversal waits for the original still being acted on, and the copies
    of one request (or a 0421 repeating a 0420) wait for each other."""
    stan, sent = str(request[p.STAN]), str(request[p.TRANSMISSION_DATETIME])
    if str(request["t"]) in REVERSALS and p.ORIGINAL_DATA in request:
        try:
            original = p.parse_original_data(str(request[p.ORIGINAL_DATA]))
        except ValueError:
            pass  # refused when acted on; it takes turns as itself
        else:
            stan, sent = original.stan, original.transmission_time
    return f"{terminal_id}|{int(stan)}|{int(sent)}"


def _result(result: str, reason: str = "") -> dict[str, str | bytes]:
    data = {"result": result} | ({"reason": reason} if reason else {})
    return {p.ADDITIONAL_DATA: p.additional_data(data)}


def unquote_text(value: str) -> str:
    from urllib.parse import unquote

    return unquote(value)


def iso_terminal_id(terminal_id: str) -> str:
    """DE41 (8 characters) of an enrolled terminal: its last 8 characters, space padded; the whole ID is
    in DE42 (15), which is what the host looks the terminal up by."""
    return p.terminal_id_field(terminal_id[-8:])


def card_acceptor_id(terminal_id: str) -> str:
    if len(terminal_id) > 15:
        raise ValueError("a terminal ID in DE42 is at most 15 characters")
    return terminal_id.ljust(15)


def ledger_key(terminal_id: str, request: Mapping[str, Any]) -> str:
    """The ledger idempotency key of an ISO request: the triple that identifies it in the network."""
    return f"iso:{terminal_id}:{request[p.STAN]}:{request[p.TRANSMISSION_DATETIME]}"


def request_digest(raw: bytes) -> str:
    """What makes a duplicate a duplicate: the request's bytes without its MAC."""
    return hashlib.sha256(raw[: -codec.MAC_LEN]).hexdigest()


def reversal_marker(stan: str, transmission_time: str) -> str:
    return f"reversal-of:{stan}:{transmission_time}"


def retrieval_reference(transmission_time: str, stan: str) -> str:
    """DE37: MMDDhh of the transmission time and the STAN (12 characters, unique per terminal day)."""
    return transmission_time[:6] + stan


def auth_id() -> str:
    return f"{secrets.randbelow(1_000_000):06d}"


def card_expired(expiry: str, today: date) -> bool:
    """A YYMM expiry is good to the end of that month."""
    if len(expiry) != 4 or not expiry.isdigit():
        return True
    year, month = 2000 + int(expiry[:2]), int(expiry[2:])
    return (today.year, today.month) > (year, month)


CURRENCY_NUMBERS = {"CNY": "156", "USD": "840", "EUR": "978", "HKD": "344"}


def currency_number(code: str) -> str:
    return CURRENCY_NUMBERS.get(code, "000")


def balance_amount(amount_type: str, currency: str, minor: int) -> str:
    """One DE54 amount (1987 layout): account type 00, amount type, currency, C/D, 12 digits."""
    return f"00{amount_type}{currency}{'C' if minor >= 0 else 'D'}{abs(minor):012d}"


def now_utc() -> datetime:
    return datetime.now(UTC)
