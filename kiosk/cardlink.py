"""The terminal's ISO 8583 link to the bank host for card transactions (docs/iso8583.md).

One TCP connection (2-byte length header), requests one at a time, answers matched by STAN and
transmission time. The terminal's software holds no key: sign-on hands the host's TR-31 key blocks to
the PIN pad (``SecurityModule.load_working_key``) and checks the check values the host sent; every
financial message is MACed by the PIN pad (``SecurityModule.mac``) and every answer's MAC is checked the
same way.

Lost answers are reversed. Before a request that moves money is sent, its identity (MTI, STAN,
transmission time, processing code, amount: never the PAN) is written to ``reversals.json`` in the state
dir; when its answer arrives the entry goes. If no answer comes (timeout, dropped link, a terminal killed
mid-exchange and restarted), the entry stays and is sent as a 0420 reversal, repeated as 0421 until the
host answers 0430. The caller can also reverse an approved request it could not finish
(:meth:`CardLink.reverse`). The STAN survives restarts (``stan`` in the state dir).
"""

from __future__ import annotations

import json
import logging
import os
import socket
import threading
import time
from collections.abc import Callable, Mapping, Sequence
from dataclasses import asdict, dataclass, field
from datetime import UTC, datetime, tzinfo
from pathlib import Path
from typing import Any, Protocol

from hostlink import keyblock, keycheck
from hostlink.iso8583 import codec
from hostlink.iso8583 import profile as p
from hostlink.iso8583.framing import FramingError, recv_message, send_message
from hostlink.redaction import mask_pan

log = logging.getLogger(__name__)

REVERSIBLE = {p.TRANSFER, p.BILL_PAYMENT}
STATE_FILE_STAN = "stan"
STATE_FILE_REVERSALS = "reversals.json"
STATE_FILE_ADVICES = "advices.json"


class SecurityModule(Protocol):
    """The PIN pad's key and MAC commands, as the link needs them (the app layer adapts the device)."""

    def load_working_key(self, kind: str, key_block: str) -> str:
        """Load a TR-31 block under the pad's TMK; the loaded key's check value."""
        ...

    def mac(self, data: bytes) -> bytes:
        """ISO 9797-1 algorithm 3 MAC under the pad's MAC key (8 bytes)."""
        ...


class CardLinkError(Exception):
    """The link could not do what was asked; the message says why in plain words."""


class CardLinkUnavailable(CardLinkError):
    """No host answered (not connected, timed out, link dropped): a money request is being reversed."""


class AnswerUnknown(CardLinkUnavailable):
    """The request was sent and no copy of it was answered: the host may or may not have acted."""


class KeyExchangeError(CardLinkError):
    """Sign-on failed: refused, a key block the PIN pad would not load, or a check value mismatch."""


@dataclass(frozen=True)
class IsoAnswer:
    """A host's answer: DE39 and the fields; ``extra`` is DE48 parsed."""

    code: str
    fields: Mapping[str, str | bytes]
    request: Mapping[str, str | bytes] = field(repr=False, default_factory=dict)

    @property
    def approved(self) -> bool:
        return self.code == p.APPROVED

    @property
    def meaning(self) -> str:
        return p.RESPONSE_CODES.get(self.code, "unknown response code")

    @property
    def extra(self) -> dict[str, str]:
        value = self.fields.get(p.ADDITIONAL_DATA)
        if not isinstance(value, str):
            return {}
        try:
            return p.parse_additional_data(value)
        except ValueError:
            return {}

    def original(self) -> PendingReversal:
        """What a reversal of this answer's request names."""
        req = self.request
        extra = p.parse_additional_data(str(req.get(p.ADDITIONAL_DATA, ""))) or {}
        return PendingReversal(
            mti=str(req["t"]),
            stan=str(req[p.STAN]),
            transmission_time=str(req[p.TRANSMISSION_DATETIME]),
            processing_code=str(req[p.PROCESSING_CODE]),
            amount=str(req.get(p.AMOUNT, "0" * 12)),
            key=str(extra.get("key", "")),
        )


@dataclass
class PendingReversal:
    mti: str
    stan: str
    transmission_time: str
    processing_code: str
    amount: str
    reason: str = "no_answer"
    attempts: int = 0
    # The original's idempotency key (DE48 key=): a host that died between posting the original and
    # recording its answer has no record of the STAN, but the ledger knows the key.
    key: str = ""


@dataclass
class PendingAdvice:
    """A retained-card advice the host has not acknowledged: it names the card by the session's PIN check
    (MTI, STAN, DE7 of the 0100, the host knows its card), so no PAN waits on the terminal's disk."""

    stan: str
    transmission_time: str
    reason: str
    attempts: int = 0


def utcnow() -> datetime:
    return datetime.now(UTC)


class CardLink:
    def __init__(
        self,
        addresses: Sequence[str],
        terminal_id: str,
        security: SecurityModule,
        state_dir: Path,
        *,
        timeout_s: float = 10.0,
        reversal_retry_s: float = 2.0,
        acquirer_id: str = "99900000001",
        currency: str = p.CURRENCY_CNY,
        clock: Callable[[], datetime] = utcnow,
        local_zone: tzinfo = UTC,
        refuse_test_master_key: bool = False,
    ) -> None:
        if not addresses:
            raise ValueError("a card link needs at least one host address (host:port)")
        if len(terminal_id) > 15:
            raise ValueError("an ISO 8583 terminal ID is at most 15 characters (DE42)")
        self.addresses = list(addresses)
        self.terminal_id = terminal_id
        self.security = security
        self.state_dir = state_dir
        self.timeout_s = timeout_s
        self.reversal_retry_s = reversal_retry_s
        self.acquirer_id = acquirer_id
        self.currency = currency
        self.clock = clock
        # DE12/DE13 are the terminal's local time: the bank's zone (Settings.timezone), not the machine's.
        self.local_zone = local_zone
        # True when the PIN pad is real hardware: its working keys must not come wrapped under the
        # documented test TMK (anyone could unwrap the PIN key from a recorded sign-on).
        self.refuse_test_master_key = refuse_test_master_key
        state_dir.mkdir(parents=True, exist_ok=True)
        self._lock = threading.RLock()
        self._sock: socket.socket | None = None
        self._preferred = 0  # the address tried first: the last that answered, or the one after a failure
        self._sock_index = 0
        self._signed_on = False
        self._stan = p.StanCounter(self._load_stan())
        self._stopping = threading.Event()
        self._thread: threading.Thread | None = None
        self.mac_failures = 0
        self.keepalive_s = 60.0
        # The last approved PIN check (PAN, STAN, DE7), in memory only: a retained-card advice that cannot
        # be delivered at once is queued under it.
        self._pin_check: tuple[str, str, str] | None = None

    # -- state ----------------------------------------------------------------------------------------
    def _load_stan(self) -> int:
        try:
            value = int((self.state_dir / STATE_FILE_STAN).read_text().strip())
        except (OSError, ValueError):
            return 1
        return value if 1 <= value <= 999_999 else 1

    def _next_stan(self) -> str:
        stan = self._stan.next()
        self._write(STATE_FILE_STAN, str(self._stan.next_value))
        return stan

    def _write(self, name: str, text: str) -> None:
        path = self.state_dir / name
        tmp = path.with_suffix(".tmp")
        with open(tmp, "w", encoding="ascii") as handle:
            handle.write(text)
            handle.flush()
            os.fsync(handle.fileno())
        tmp.replace(path)

    def _read_queue(self, name: str) -> list[dict[str, Any]]:
        try:
            items = json.loads((self.state_dir / name).read_text())
        except (OSError, ValueError):
            return []
        return items if isinstance(items, list) else []

    def _write_queue(self, name: str, items: Sequence[PendingReversal | PendingAdvice]) -> None:
        self._write(name, json.dumps([asdict(item) for item in items]))

    def pending_reversals(self) -> list[PendingReversal]:
        return [PendingReversal(**item) for item in self._read_queue(STATE_FILE_REVERSALS)]

    def _save_reversals(self, items: list[PendingReversal]) -> None:
        self._write_queue(STATE_FILE_REVERSALS, items)

    def _add_reversal(self, item: PendingReversal) -> None:
        items = [
            r
            for r in self.pending_reversals()
            if (r.stan, r.transmission_time) != (item.stan, item.transmission_time)
        ]
        self._save_reversals([*items, item])

    def _drop_reversal(self, stan: str, transmission_time: str) -> None:
        items = self.pending_reversals()
        kept = [r for r in items if (r.stan, r.transmission_time) != (stan, transmission_time)]
        if len(kept) != len(items):
            self._save_reversals(kept)

    def pending_advices(self) -> list[PendingAdvice]:
        return [PendingAdvice(**item) for item in self._read_queue(STATE_FILE_ADVICES)]

    def _save_advices(self, items: list[PendingAdvice]) -> None:
        self._write_queue(STATE_FILE_ADVICES, items)

    # -- the connection -------------------------------------------------------------------------------
    def _connect(self) -> socket.socket:
        if self._sock is not None:
            return self._sock
        errors = []
        count = len(self.addresses)
        for step in range(count):
            index = (self._preferred + step) % count
            address = self.addresses[index]
            host, _, port = address.rpartition(":")
            try:
                sock = socket.create_connection((host, int(port)), timeout=self.timeout_s)
            except OSError as exc:
                errors.append(f"{address}: {exc.strerror or exc}")
                continue
            sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
            if errors:
                log.warning("ISO 8583: connected to %s: failed over from %s", address, "; ".join(errors))
            self._preferred = index
            self._sock = sock
            self._sock_index = index
            return sock
        raise CardLinkUnavailable("no bank host answers: " + "; ".join(errors))

    def _drop(self) -> None:
        # The session keys outlive the connection (the host keeps them in its database): a reconnect
        # does not sign on again, so a PIN block made under the current TPK stays good.
        if self._sock is not None:
            try:
                self._sock.close()
            finally:
                self._sock = None

    def _exchange(self, request: Mapping[str, str | bytes], raw: bytes) -> bytes:
        """Send ``raw``; the answer with the same STAN and DE7 (others are stale: dropped)."""
        sock = self._connect()
        try:
            send_message(sock, raw)
            deadline = time.monotonic() + self.timeout_s
            while True:
                left = deadline - time.monotonic()
                if left <= 0:
                    raise TimeoutError("no answer in time")
                answer = recv_message(sock, left)
                try:
                    decoded = codec.decode(answer)
                except codec.Iso8583Error as exc:
                    raise CardLinkUnavailable(f"the host's answer does not decode: {exc}") from exc
                if decoded.get(p.STAN) == request.get(p.STAN) and decoded.get(
                    p.TRANSMISSION_DATETIME
                ) == request.get(p.TRANSMISSION_DATETIME):
                    return answer
                log.warning("ISO 8583: a stale answer dropped: %s", codec.describe(decoded))
        except (OSError, TimeoutError, ConnectionError, FramingError, CardLinkUnavailable) as exc:
            self._drop()  # the stream is out of step: the next request opens a new connection
            # ... to the next host first: one that accepts connections and answers nothing (hung, or cut
            # off on the way back) would otherwise take every request again, and the others none.
            if len(self.addresses) > 1:
                self._preferred = (self._sock_index + 1) % len(self.addresses)
            if isinstance(exc, CardLinkUnavailable):
                raise
            raise CardLinkUnavailable(f"no answer from the bank host: {exc}") from exc

    def _base(self, mti: str) -> dict[str, str | bytes]:
        now = self.clock()
        local = now.astimezone(self.local_zone)
        return {
            "t": mti,
            p.TRANSMISSION_DATETIME: p.transmission_time(now),
            p.STAN: self._next_stan(),
            p.LOCAL_TIME: local.strftime("%H%M%S"),
            p.LOCAL_DATE: local.strftime("%m%d"),
            p.ACQUIRER_ID: self.acquirer_id,
            p.TERMINAL_ID: p.terminal_id_field(self.terminal_id[-8:]),
            p.CARD_ACCEPTOR_ID: self.terminal_id.ljust(15),
        }

    # -- sign-on --------------------------------------------------------------------------------------
    def sign_on(self, network_code: str = p.SIGN_ON) -> None:
        """0800 sign-on (or key change): the PIN pad loads the new TPK and TAK; check values compared."""
        with self._lock:
            request = self._base(p.NETWORK_REQUEST)
            request[p.NETWORK_CODE] = network_code
            answer = codec.decode(self._exchange(request, codec.encode(request)))
            if answer.get(p.RESPONSE_CODE) != p.APPROVED:
                code = str(answer.get(p.RESPONSE_CODE, ""))
                raise KeyExchangeError(f"sign-on refused: {code} {p.RESPONSE_CODES.get(code, '')}".strip())
            checks = str(answer.get(p.KEY_CHECK_VALUES, ""))
            tpk_block, tak_block = answer.get(p.TPK_KEY_BLOCK), answer.get(p.TAK_KEY_BLOCK)
            if len(checks) != 12 or not isinstance(tpk_block, str) or not isinstance(tak_block, str):
                raise KeyExchangeError("sign-on answer without key blocks and check values")
            if self.refuse_test_master_key and _wrapped_under_test_tmk(tpk_block):
                raise KeyExchangeError(
                    "the host wrapped this terminal's keys under the documented test master key, but the "
                    "PIN pad is real hardware: enrol the terminal with its PIN pad's own TMK (--tmk)"
                )
            tpk_kcv = self.security.load_working_key("pin", tpk_block)
            tak_kcv = self.security.load_working_key("mac", tak_block)
            if (tpk_kcv, tak_kcv) != (checks[:6], checks[6:]):
                raise KeyExchangeError("the keys the PIN pad loaded do not match the host's check values")
            self._signed_on = True
            log.info("ISO 8583: signed on (TPK %s, TAK %s)", tpk_kcv, tak_kcv)

    def echo(self) -> bool:
        """0800 echo: True when the host answers."""
        with self._lock:
            request = self._base(p.NETWORK_REQUEST)
            request[p.NETWORK_CODE] = p.ECHO
            try:
                answer = codec.decode(self._exchange(request, codec.encode(request)))
            except CardLinkError:
                return False
            return answer.get(p.RESPONSE_CODE) == p.APPROVED

    # -- one financial request ------------------------------------------------------------------------
    @property
    def signed_on(self) -> bool:
        return self._signed_on

    def ensure_signed_on(self) -> None:
        """Sign on unless signed on already (before a PIN entry: the block must be under the TPK). When no
        answer comes, once more on the next address (a sign-on moves no money): one silent host does not
        turn the customer away while another one serves."""
        with self._lock:
            if self._signed_on:
                return
            try:
                self.sign_on()
            except CardLinkUnavailable:
                if len(self.addresses) < 2:
                    raise
                log.warning("ISO 8583: no answer to the sign-on; signing on at the next address")
                self.sign_on()

    def _request(self, mti: str, fields: Mapping[str, str | bytes]) -> IsoAnswer:
        with self._lock:
            money = mti == p.FINANCIAL_REQUEST and str(fields.get(p.PROCESSING_CODE)) in REVERSIBLE
            try:
                answer = self._request_once(mti, fields)
            except CardLinkUnavailable:
                if money or self._sock is not None:
                    raise
                # An enquiry on a connection the host had closed: once more on a new one.
                answer = self._request_once(mti, fields)
            if answer.code == "A0":
                # The host could not check our MAC (other session keys, or none): it did nothing. Sign
                # on again; send once more unless a PIN block made under the old keys is in it.
                self._signed_on = False
                if p.PIN_BLOCK not in fields:
                    answer = self._request_once(mti, fields)
            return answer

    def _prepare(self, mti: str, fields: Mapping[str, str | bytes]) -> tuple[dict[str, str | bytes], bytes]:
        if not self._signed_on:
            self.sign_on()
        request = self._base(mti)
        request.update(fields)
        if p.AMOUNT in request:
            request.setdefault(p.CURRENCY, self.currency)
        request[codec.mac_field(request)] = bytes(codec.MAC_LEN)
        return request, codec.encode_with_mac(request, self.security.mac)

    def _request_once(self, mti: str, fields: Mapping[str, str | bytes]) -> IsoAnswer:
        request, raw = self._prepare(mti, fields)
        reversible = mti == p.FINANCIAL_REQUEST and str(request[p.PROCESSING_CODE]) in REVERSIBLE
        pending = IsoAnswer("", {}, request).original() if reversible else None
        if pending is not None:
            self._add_reversal(pending)  # written before sending: a kill from here on reverses it
        try:
            answer_raw = self._exchange(request, raw)
        except CardLinkUnavailable:
            if pending is not None:
                log.error("ISO 8583: no answer to %s; it will be reversed", codec.describe(request))
                self._send_reversals_locked()
            raise
        try:
            answer = self._trusted(request, answer_raw)
        except CardLinkUnavailable:
            if pending is not None:
                self._send_reversals_locked()
            raise
        if pending is not None:
            self._drop_reversal(pending.stan, pending.transmission_time)
        return answer

    def _trusted(self, request: Mapping[str, str | bytes], answer_raw: bytes) -> IsoAnswer:
        """The answer, once its MAC checks out; an answer we cannot trust is no answer."""
        answer = codec.decode(answer_raw)
        code = str(answer.get(p.RESPONSE_CODE, ""))
        if codec.mac_field(answer) not in answer:
            # Only a refusal may come without a MAC (the host could not tie the request to our keys);
            # it never moved money, and it is never taken as an approval.
            trusted = code != p.APPROVED
        else:
            try:
                trusted = codec.verify_mac(answer_raw, self.security.mac)
            except codec.Iso8583Error:
                trusted = False
        if not trusted:
            self.mac_failures += 1
            log.error("ISO 8583: the answer to %s failed its MAC check", codec.describe(request))
            self._drop()
            raise CardLinkUnavailable("the bank host's answer failed its MAC check")
        return IsoAnswer(code, answer, request)

    def _request_repeated(self, mti: str, fields: Mapping[str, str | bytes], repeats: int = 2) -> IsoAnswer:
        """For a request that is not reversed (a PIN change): when its answer is lost, send the very same
        bytes again (same STAN and DE7) on a new connection. The host answers a true duplicate from its
        record without acting twice, so the terminal learns what happened to the first. ``AnswerUnknown``
        when no copy was answered after one was sent; ``CardLinkUnavailable`` when none was ever sent."""
        with self._lock:
            request, raw = self._prepare(mti, fields)
            sent = False
            last: Exception | None = None
            for _ in range(1 + repeats):
                try:
                    self._connect()
                except CardLinkUnavailable as exc:
                    last = exc
                    if not sent:
                        raise
                    continue
                sent = True
                try:
                    answer = self._trusted(request, self._exchange(request, raw))
                    if answer.code == "A0":  # the host could not check our MAC: it did nothing
                        self._signed_on = False
                    return answer
                except CardLinkUnavailable as exc:
                    last = exc
                    log.warning("ISO 8583: no answer to %s; sending it again", codec.describe(request))
            raise AnswerUnknown(f"no answer to {codec.describe(request)} after {1 + repeats} copies: {last}")

    # -- reversals ------------------------------------------------------------------------------------
    def reverse(self, answer: IsoAnswer, reason: str) -> bool:
        """The terminal could not finish an approved request: reverse it. True once the host has it."""
        with self._lock:
            item = answer.original()
            item.reason = reason
            self._add_reversal(item)
            return self._send_reversals_locked() == 0

    def send_pending_reversals(self) -> int:
        """Send every queued reversal (0420 first, 0421 after); how many still wait."""
        with self._lock:
            return self._send_reversals_locked()

    def _send_reversals_locked(self) -> int:
        for item in self.pending_reversals():
            try:
                if not self._signed_on:
                    self.sign_on()
                request = self._base(p.REVERSAL if item.attempts == 0 else p.REVERSAL_REPEAT)
                request[p.PROCESSING_CODE] = item.processing_code
                request[p.AMOUNT] = item.amount
                request[p.CURRENCY] = self.currency
                request[p.ORIGINAL_DATA] = p.original_data(
                    item.mti, item.stan, item.transmission_time, self.acquirer_id
                )
                request[p.ADDITIONAL_DATA] = p.additional_data(
                    {"reason": item.reason} | ({"key": item.key} if item.key else {})
                )
                request[codec.mac_field(request)] = bytes(codec.MAC_LEN)
                item.attempts += 1
                self._add_reversal(item)
                answer_raw = self._exchange(request, codec.encode_with_mac(request, self.security.mac))
                answer = codec.decode(answer_raw)
                if answer.get(p.RESPONSE_CODE) == "A0":
                    self._signed_on = False
                    continue
                if answer["t"] == p.REVERSAL_RESPONSE and codec.verify_mac(answer_raw, self.security.mac):
                    self._drop_reversal(item.stan, item.transmission_time)
                    log.info(
                        "ISO 8583: reversal of STAN %s acknowledged (%s)",
                        item.stan,
                        (p.parse_additional_data(str(answer.get(p.ADDITIONAL_DATA, ""))) or {}).get("result"),
                    )
            except (CardLinkError, codec.Iso8583Error, ValueError) as exc:
                log.warning("ISO 8583: reversal of STAN %s not delivered yet: %s", item.stan, exc)
                break
        return len(self.pending_reversals())

    def start(self) -> None:
        """Deliver queued reversals in the background every ``reversal_retry_s``."""
        if self._thread is None:
            self._thread = threading.Thread(target=self._run, name="cardlink-reversals", daemon=True)
            self._thread.start()

    def _run(self) -> None:
        last_echo = time.monotonic()
        while not self._stopping.wait(self.reversal_retry_s):
            if self.pending_reversals():
                self.send_pending_reversals()
            if self.pending_advices():
                self.send_pending_advices()
            if time.monotonic() - last_echo >= self.keepalive_s:
                last_echo = time.monotonic()
                self.echo()  # keeps the connection (and the host's idle timer) alive

    def close(self) -> None:
        self._stopping.set()
        if self._thread is not None:
            self._thread.join(timeout=10)
            self._thread = None
        with self._lock:
            self._drop()

    # -- the card transactions ------------------------------------------------------------------------
    @staticmethod
    def _card(pan: str, expiry: str) -> dict[str, str | bytes]:
        fields: dict[str, str | bytes] = {p.PAN: pan}
        if expiry:
            fields[p.EXPIRY] = expiry
        return fields

    def verify_pin(self, pan: str, expiry: str, pin_block: bytes) -> IsoAnswer:
        fields = self._card(pan, expiry) | {p.PROCESSING_CODE: p.PIN_VERIFY, p.PIN_BLOCK: pin_block}
        answer = self._request(p.AUTH_REQUEST, fields)
        log.info("PIN check for %s: %s", mask_pan(pan), answer.code)
        if answer.code in (p.APPROVED, "55", "75"):  # the host knows the card: an advice may name this
            request = answer.request
            self._pin_check = (pan, str(request[p.STAN]), str(request[p.TRANSMISSION_DATETIME]))
        return answer

    def balance(self, pan: str, expiry: str, account_id: int) -> IsoAnswer:
        fields = self._card(pan, expiry) | {p.PROCESSING_CODE: p.BALANCE, p.ACCOUNT_FROM: str(account_id)}
        return self._request(p.FINANCIAL_REQUEST, fields)

    def mini_statement(self, pan: str, expiry: str, account_id: int) -> IsoAnswer:
        fields = self._card(pan, expiry) | {
            p.PROCESSING_CODE: p.MINI_STATEMENT,
            p.ACCOUNT_FROM: str(account_id),
        }
        return self._request(p.FINANCIAL_REQUEST, fields)

    def transfer(
        self,
        pan: str,
        expiry: str,
        *,
        kind: str,
        from_account_id: int,
        amount_minor: int,
        to_account_id: int | None = None,
        payee_account: str = "",
        payee_name: str = "",
        bank_code: str = "",
        idempotency_key: str = "",
    ) -> IsoAnswer:
        """``idempotency_key`` (DE48 ``key=``) is the one the terminal journals: the host posts under
        it, so crash recovery can ask about the transfer by the key it wrote down."""
        from urllib.parse import quote

        fields = self._card(pan, expiry) | {
            p.PROCESSING_CODE: p.TRANSFER,
            p.AMOUNT: p.amount_field(amount_minor),
            p.ACCOUNT_FROM: str(from_account_id),
            p.ACCOUNT_TO: str(to_account_id) if kind == "own" else payee_account,
        }
        extra = {"kind": kind}
        if idempotency_key:
            extra["key"] = idempotency_key
        if payee_name:
            extra["payee_name"] = quote(payee_name, safe=" -*/.:()#@+_")
        if kind == "other_bank":
            fields[p.RECEIVING_INSTITUTION_ID] = bank_code
        fields[p.ADDITIONAL_DATA] = p.additional_data(extra)
        return self._request(p.FINANCIAL_REQUEST, fields)

    def pay_bill(
        self,
        pan: str,
        expiry: str,
        *,
        from_account_id: int,
        biller: str,
        number: str,
        amount_minor: int,
        idempotency_key: str = "",
    ) -> IsoAnswer:
        extra = {"biller": biller, "number": number} | ({"key": idempotency_key} if idempotency_key else {})
        fields = self._card(pan, expiry) | {
            p.PROCESSING_CODE: p.BILL_PAYMENT,
            p.AMOUNT: p.amount_field(amount_minor),
            p.ACCOUNT_FROM: str(from_account_id),
            p.ADDITIONAL_DATA: p.additional_data(extra),
        }
        return self._request(p.FINANCIAL_REQUEST, fields)

    def change_pin(self, pan: str, expiry: str, old_block: bytes, new_block: bytes) -> IsoAnswer:
        fields = self._card(pan, expiry) | {
            p.PROCESSING_CODE: p.PIN_CHANGE,
            p.PIN_BLOCK: old_block,
            p.NEW_PIN_BLOCK: new_block.hex().upper(),
        }
        return self._request_repeated(p.FINANCIAL_REQUEST, fields)

    def card_retained(self, pan: str, reason: str) -> IsoAnswer | None:
        """0120 advice: the terminal kept this card. When the host cannot be told now, the advice is queued
        (under the session's PIN check, without the PAN) and repeated as 0121 until answered; None then.
        A card never PIN-checked with the host cannot be queued: CardLinkUnavailable."""
        fields: dict[str, str | bytes] = {
            p.PAN: pan,
            p.PROCESSING_CODE: p.CARD_RETAINED,
            p.ADDITIONAL_DATA: p.additional_data({"reason": reason}),
        }
        check = self._pin_check if self._pin_check is not None and self._pin_check[0] == pan else None
        if check is not None:
            fields[p.ORIGINAL_DATA] = p.original_data(p.AUTH_REQUEST, check[1], check[2], self.acquirer_id)
        try:
            return self._request(p.AUTH_ADVICE, fields)
        except CardLinkUnavailable:
            if check is None:
                raise
            with self._lock:
                self._save_advices([*self.pending_advices(), PendingAdvice(check[1], check[2], reason)])
            log.error("ISO 8583: the retained-card advice for %s is queued", mask_pan(pan))
            return None

    def send_pending_advices(self) -> int:
        """Send every queued retained-card advice (0121, the card named by DE90); how many still wait."""
        with self._lock:
            for item in self.pending_advices():
                try:
                    answer = self._request(
                        p.AUTH_ADVICE_REPEAT,
                        {
                            p.PROCESSING_CODE: p.CARD_RETAINED,
                            p.ORIGINAL_DATA: p.original_data(
                                p.AUTH_REQUEST, item.stan, item.transmission_time, self.acquirer_id
                            ),
                            p.ADDITIONAL_DATA: p.additional_data({"reason": item.reason}),
                        },
                    )
                except (CardLinkError, codec.Iso8583Error, ValueError) as exc:
                    log.warning("ISO 8583: a queued retained-card advice not delivered yet: %s", exc)
                    break
                if answer.code == "A0":  # the host could not check our MAC even after a sign-on
                    break
                # Answered (approved, or the host cannot place the PIN check: nothing more to tell it).
                log.info("ISO 8583: queued retained-card advice answered %s", answer.code)
                self._save_advices(
                    [
                        a
                        for a in self.pending_advices()
                        if (a.stan, a.transmission_time) != (item.stan, item.transmission_time)
                    ]
                )
            return len(self.pending_advices())


def _wrapped_under_test_tmk(key_block: str) -> bool:
    """Whether a key block opens under the documented test TMK (its MAC verifies under that key)."""
    try:
        keyblock.unwrap(bytes.fromhex(keycheck.TEST_TMK_HEX), key_block)
    except keyblock.KeyBlockError:
        return False
    return True
