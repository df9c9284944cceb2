"""The bank host's link to the interbank switch: other-bank transfers held as pending in the ledger go out
as ISO 8583 0200s; the answer posts or voids the hold; a missing answer is reversed (0420, then 0421).

One background thread per :class:`SwitchLink` does everything — the database rounds, the TCP connection
(one, signed on with an 0800), sending and reading — so nothing here needs a lock but the stats. Host
processes sharing one database share the work through ``host_switch_forwarding``
(:mod:`bank.switch.models`): every step is a conditional UPDATE naming the state it leaves, so a transfer
is claimed, answered, timed out or reversed by exactly one of them, and posted or voided, never both.

Answers are matched by (MTI, DE11, DE7) and DE32, never by order. An answer that comes after its
transfer's reversal started finds the row no longer ``sent`` and changes nothing: the reversal wins.
A host that dies with a transfer ``sent`` leaves it to the others: a ``sent`` row older than the timeout
and a margin is reversed by whichever host sees it first; a ``reversing`` row is repeated by any host
(its ``attempts`` is the version the next send is claimed by); a row whose answer was recorded but whose
ledger step was not done is finished on the next round.
"""

from __future__ import annotations

import contextlib
import logging
import secrets
import select
import socket
import threading
import time
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any, cast

from sqlalchemy import Engine, Table, and_, exists, insert, update
from sqlalchemy import select as sql_select
from sqlalchemy.exc import IntegrityError, SQLAlchemyError

from bank.ledger import Ledger, TransferOutcome
from bank.ledger.sql import ACCOUNTS, TRANSFERS
from bank.models import TransferKind, TransferStatus, utcnow
from bank.reversals import compensate
from bank.settings import SwitchSettings
from bank.switch.messages import (
    FORMAT_ERROR,
    REVERSAL_REASON,
    OutgoingTransfer,
    answer_key,
    decline_reason,
    financial_request,
    network_request,
    reversal_request,
    stan_for,
)
from bank.switch.models import ForwardingState, SwitchForwarding
from hostlink.iso8583 import profile as p
from hostlink.iso8583.codec import Iso8583Error, Message, decode, describe, encode_with_mac, verify_mac
from hostlink.iso8583.framing import FrameReader, FramingError, send_message
from hostlink.tdes import retail_mac

log = logging.getLogger(__name__)

FORWARDING = cast(Table, SwitchForwarding.__table__)
S = ForwardingState

BATCH = 20  # 0200s sent per round at most
STALE_MARGIN_S = 5.0  # a "sent" row unanswered for timeout_s + this: its host is gone, reverse it
ECHO_IDLE_S = 30.0  # an idle connection is checked with an 0800 echo this often
REMEMBER_S = 600.0  # a timed-out 0200 or a reversal is remembered this long: a late answer is recognised


def parse_address(address: str) -> tuple[str, int]:
    host, _, port = address.rpartition(":")
    if not host or not port.isdigit() or not 0 < int(port) < 65536:
        raise ValueError("the switch address is host:port")
    return host, int(port)


@dataclass
class _Outstanding:
    kind: str  # "financial" | "reversal" | "network"
    transfer_id: int | None
    deadline: float  # time.monotonic() by which the answer is due
    forget_at: float
    timed_out: bool = False


class SwitchLink:
    """Forwards pending other-bank transfers to the switch at ``settings.address``.

    ``poll_s``: how often the database is looked at for new transfers and due reversals (and the longest
    an idle wait lasts). :meth:`start` starts the thread, :meth:`close` stops it and joins it.
    """

    def __init__(
        self,
        engine: Engine,
        ledger: Ledger,
        settings: SwitchSettings,
        *,
        clock: Callable[[], datetime] = utcnow,
        poll_s: float = 0.5,
        name: str = "switch-link",
    ) -> None:
        self.engine = engine
        self.ledger = ledger
        self.settings = settings
        self.clock = clock
        self.poll_s = poll_s
        self._address = parse_address(settings.address)
        self._zak = bytes.fromhex(settings.zak_hex.get_secret_value())
        self._acquirer = settings.acquirer_id
        self._sock: socket.socket | None = None
        self._reader = FrameReader()
        self._signed_on = False
        self._next_connect = 0.0
        self._last_traffic = 0.0
        self._down_since: float | None = None
        self._outstanding: dict[tuple[str, str, str], _Outstanding] = {}
        # 0800s of host processes sharing one acquirer id must not look like each other's duplicates
        self._network_stan = p.StanCounter(secrets.randbelow(999_999) + 1)
        self._stats: Counter[str] = Counter()
        self._stats_lock = threading.Lock()
        self._stop = threading.Event()
        self._wake = threading.Event()
        self._thread = threading.Thread(target=self._run, name=name, daemon=True)

    # -- life cycle ---------------------------------------------------------------------------------
    def start(self) -> SwitchLink:
        self._thread.start()
        return self

    def close(self, timeout_s: float = 10.0) -> None:
        """Stop the thread and join it; the connection is closed. Transfers in flight stay as the table
        says: another host (or this one, restarted) finishes them."""
        self._stop.set()
        self._wake.set()
        if self._thread.is_alive():
            self._thread.join(timeout_s)
        elif self._sock is not None:  # never started: nothing else owns the socket
            self._disconnect("link closed", quiet=True)

    def wake(self) -> None:
        """Look at the database now (e.g. right after a transfer was held), not at the next poll."""
        self._wake.set()

    @property
    def connected(self) -> bool:
        return self._sock is not None and self._signed_on

    def stats(self) -> dict[str, int]:
        with self._stats_lock:
            return dict(self._stats)

    def _count(self, what: str, by: int = 1) -> None:
        with self._stats_lock:
            self._stats[what] += by

    # -- the thread ---------------------------------------------------------------------------------
    def _run(self) -> None:
        next_round = 0.0
        while not self._stop.is_set():
            try:
                now = time.monotonic()
                if self._sock is None and now >= self._next_connect:
                    self._connect()
                if self._wake.is_set() or now >= next_round:
                    self._wake.clear()
                    self._round()
                    next_round = time.monotonic() + self.poll_s
                # Answers already here count before any deadline is judged: a long round (a busy
                # database) must not turn an answer waiting in the socket into a reversal.
                while self._receive(0.0):
                    pass
                self._expire()
                self._echo_if_idle()
                self._receive(self._wait_until(next_round))
            except SQLAlchemyError as exc:
                self._count("database_errors")
                log.warning("switch link: database error, retrying: %s", str(exc).splitlines()[0])
                self._stop.wait(self.poll_s)
            except Exception:  # the thread must outlive any one bad round
                self._count("errors")
                log.exception("switch link: unexpected error")
                self._stop.wait(self.poll_s)
        self._disconnect("link closed", quiet=True)
        self.ledger.close()  # this thread's ledger connection back to the pool

    def _wait_until(self, next_round: float) -> float:
        """Seconds to wait for answers: until the next round or the next deadline, at most poll_s."""
        until = min([next_round, *(e.deadline for e in self._outstanding.values() if not e.timed_out)])
        return max(0.0, min(self.poll_s, until - time.monotonic()))

    def _receive(self, wait: float) -> bool:
        """Read what arrives within ``wait`` seconds and handle every whole answer; True if data came."""
        sock = self._sock
        if sock is None:
            if wait > 0:
                self._wake.wait(wait)
            return False
        try:
            readable, _, _ = select.select([sock], [], [], wait)
            if not readable:
                return False
            data = sock.recv(65536)
        except OSError as exc:
            self._disconnect(f"connection failed: {exc}")
            return False
        if not data:
            self._disconnect("the switch closed the connection")
            return False
        try:
            frames = self._reader.feed(data)
        except FramingError as exc:
            self._disconnect(f"framing broken: {exc}")
            return False
        self._last_traffic = time.monotonic()
        for raw in frames:
            self._on_message(raw)
        return True

    # -- the connection -----------------------------------------------------------------------------
    def _connect(self) -> None:
        host, port = self._address
        try:
            sock = socket.create_connection((host, port), timeout=self.settings.timeout_s)
        except OSError as exc:
            self._next_connect = time.monotonic() + self.settings.reversal_retry_s
            self._count("connect_failures")
            if self._down_since is None:
                self._down_since = time.monotonic()
                log.warning("switch %s:%d unreachable (%s); transfers stay pending", host, port, exc)
            return
        sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        self._sock, self._reader, self._signed_on = sock, FrameReader(), False
        self._last_traffic = time.monotonic()
        self._count("connections")
        self._send_network(p.SIGN_ON)

    def _disconnect(self, reason: str, *, quiet: bool = False) -> None:
        sock, self._sock, self._signed_on = self._sock, None, False
        if sock is None:
            return
        with contextlib.suppress(OSError):
            sock.shutdown(socket.SHUT_RDWR)
        sock.close()
        self._next_connect = time.monotonic() + self.settings.reversal_retry_s
        self._outstanding = {k: e for k, e in self._outstanding.items() if e.kind != "network"}
        if not quiet:
            self._count("disconnects")
            self._down_since = time.monotonic()
            log.warning("switch link down: %s", reason)

    def _send(self, message: Message) -> bool:
        """MAC and send ``message``; False (and the connection closed) if the send failed."""
        sock = self._sock
        if sock is None:
            return False
        raw = encode_with_mac(message, self._mac)
        try:
            sock.settimeout(self.settings.timeout_s)
            send_message(sock, raw)
        except OSError as exc:
            self._disconnect(f"send failed: {exc}")
            return False
        self._last_traffic = time.monotonic()
        self._count("sent_" + str(message["t"]))
        log.debug("switch <- %s", describe(message))
        return True

    def _send_network(self, code: str) -> None:
        stan, sent = self._network_stan.next(), p.transmission_time(self.clock())
        message = network_request(code, stan=stan, transmission_time=sent, acquirer_id=self._acquirer)
        now = time.monotonic()
        deadline = now + self.settings.timeout_s
        self._outstanding[(p.NETWORK_RESPONSE, stan, sent)] = _Outstanding(
            "network", None, deadline, deadline
        )
        self._send(message)

    def _echo_if_idle(self) -> None:
        if not self.connected or time.monotonic() - self._last_traffic < ECHO_IDLE_S:
            return
        if any(e.kind == "network" for e in self._outstanding.values()):
            return
        self._send_network(p.ECHO)

    def _mac(self, data: bytes) -> bytes:
        return retail_mac(self._zak, data)

    # -- answers ------------------------------------------------------------------------------------
    def _on_message(self, raw: bytes) -> None:
        try:
            message = decode(raw)
        except Iso8583Error as exc:
            self._count("undecodable")
            log.warning("switch: undecodable message dropped (%s)", exc)
            return
        try:
            genuine = verify_mac(raw, self._mac)
        except Iso8583Error:
            genuine = False
        if not genuine:
            self._count("bad_mac")
            log.warning("switch: answer with a missing or wrong MAC dropped: %s", describe(message))
            return
        key = answer_key(message)
        ours = key is not None and message.get(p.ACQUIRER_ID) == self._acquirer
        entry = self._outstanding.pop(key, None) if key is not None and ours else None
        if entry is None:
            self._count("unmatched")
            log.warning("switch: answer matching no request dropped: %s", describe(message))
            return
        code = str(message.get(p.RESPONSE_CODE, ""))
        log.debug("switch -> %s", describe(message))
        if entry.kind == "network":
            self._on_network_answer(code)
        elif entry.kind == "financial" and entry.transfer_id is not None:
            self._on_financial_answer(entry.transfer_id, code, message)
        elif entry.kind == "reversal" and entry.transfer_id is not None:
            self._on_reversal_answer(entry.transfer_id, code)

    def _on_network_answer(self, code: str) -> None:
        if code != p.APPROVED:
            meaning = p.RESPONSE_CODES.get(code, "?")
            log.error("switch refused the 0800 (%s %s): check switch.zak_hex and acquirer_id", code, meaning)
            self._disconnect(f"0800 answered {code}")
            return
        if not self._signed_on:
            self._signed_on = True
            self._down_since = None
            log.info("switch link up: signed on to %s:%d", *self._address)

    def _on_financial_answer(self, transfer_id: int, code: str, message: Message) -> None:
        state = S.APPROVED if code == p.APPROVED else S.DECLINED
        if not self._move(transfer_id, S.SENT, state, response_code=code):
            self._count("late_answers")
            log.warning(
                "switch: answer for TR%010d after its reversal started, ignored: %s",
                transfer_id,
                describe(message),
            )
            return
        self._count("approved" if state is S.APPROVED else "declined")
        self._settle(transfer_id, state, code)

    def _on_reversal_answer(self, transfer_id: int, code: str) -> None:
        if code != p.APPROVED:
            self._count("reversals_refused")
            log.warning("switch refused the reversal of TR%010d (%s): repeating it", transfer_id, code)
            return
        if self._move(transfer_id, S.REVERSING, S.REVERSED):
            self._count("reversed")
            self._settle(transfer_id, S.REVERSED, None)

    def _expire(self) -> None:
        now = time.monotonic()
        for key, entry in list(self._outstanding.items()):
            if entry.timed_out:
                if now >= entry.forget_at:
                    del self._outstanding[key]
                continue
            if now < entry.deadline:
                continue
            if entry.kind == "network":
                self._outstanding.pop(key, None)
                self._disconnect("no 0810 in time")
            elif entry.kind == "reversal":
                self._outstanding.pop(key, None)  # long forgotten; its repeats came from the table
            elif entry.transfer_id is not None:
                # Kept (timed out) for REMEMBER_S: a late answer is recognised, and refused by the table.
                entry.timed_out = True
                self._count("timeouts")
                if self._move(entry.transfer_id, S.SENT, S.REVERSING):
                    log.warning("switch: no answer for TR%010d in time: reversing it", entry.transfer_id)
                    self._reverse_if_due(entry.transfer_id)

    # -- the database -------------------------------------------------------------------------------
    def _round(self) -> None:
        """Pick up new transfers, finish recorded answers, forward, repeat due reversals."""
        with self.engine.connect() as conn:
            pending = conn.execute(
                sql_select(TRANSFERS.c.id, FORWARDING.c.state, FORWARDING.c.response_code)
                .select_from(TRANSFERS.outerjoin(FORWARDING, FORWARDING.c.transfer_id == TRANSFERS.c.id))
                .where(
                    TRANSFERS.c.status == TransferStatus.PENDING.value,
                    TRANSFERS.c.kind == TransferKind.OTHER_BANK.value,
                )
                .order_by(TRANSFERS.c.id)
            ).all()
        fresh: list[int] = []
        for transfer_id, state, code in pending:
            if state is None:
                self._enqueue(transfer_id)
                fresh.append(transfer_id)
            elif state == S.NEW.value:
                fresh.append(transfer_id)
            elif state in (S.APPROVED.value, S.DECLINED.value, S.REVERSED.value):
                # the answer is recorded but the ledger step was not done (a host stopped in between)
                self._settle(transfer_id, S(state), code)
        if self.connected:
            for transfer_id in fresh[:BATCH]:
                self._forward(transfer_id)
        self._look_after_unanswered()

    def _enqueue(self, transfer_id: int) -> None:
        try:
            with self.engine.begin() as conn:
                conn.execute(
                    insert(FORWARDING).values(
                        transfer_id=transfer_id, state=S.NEW.value, attempts=0, updated_at=self.clock()
                    )
                )
        except IntegrityError:
            pass  # another host recorded it first: it is "new" or further on, the claim decides

    def _move(self, transfer_id: int, from_state: S, to_state: S, **values: Any) -> bool:
        """The one transition ``from_state`` → ``to_state``; False if the row is not in ``from_state``."""
        with self.engine.begin() as conn:
            result = conn.execute(
                update(FORWARDING)
                .where(FORWARDING.c.transfer_id == transfer_id, FORWARDING.c.state == from_state.value)
                .values(state=to_state.value, updated_at=self.clock(), **values)
            )
        return result.rowcount == 1

    def _claim(self, transfer_id: int, to_state: S, **values: Any) -> bool:
        """new → ``to_state``, only while the transfer is still pending in the ledger."""
        still_pending = exists().where(
            TRANSFERS.c.id == transfer_id, TRANSFERS.c.status == TransferStatus.PENDING.value
        )
        with self.engine.begin() as conn:
            result = conn.execute(
                update(FORWARDING)
                .where(
                    FORWARDING.c.transfer_id == transfer_id,
                    FORWARDING.c.state == S.NEW.value,
                    still_pending,
                )
                .values(
                    state=to_state.value,
                    attempts=FORWARDING.c.attempts + 1,
                    updated_at=self.clock(),
                    **values,
                )
            )
        return result.rowcount == 1

    def _outgoing(self, transfer_id: int) -> OutgoingTransfer | None:
        with self.engine.connect() as conn:
            row = conn.execute(
                sql_select(
                    TRANSFERS.c.amount_minor,
                    TRANSFERS.c.currency,
                    TRANSFERS.c.payee_bank_code,
                    TRANSFERS.c.payee_account,
                    TRANSFERS.c.payee_name,
                    ACCOUNTS.c.number,
                )
                .select_from(TRANSFERS.join(ACCOUNTS, ACCOUNTS.c.id == TRANSFERS.c.debit_account_id))
                .where(TRANSFERS.c.id == transfer_id)
            ).first()
        if row is None:
            return None
        return OutgoingTransfer(
            transfer_id=transfer_id,
            amount_minor=int(row.amount_minor),
            currency=str(row.currency),
            bank_code=str(row.payee_bank_code or ""),
            from_account=str(row.number),
            payee_account=str(row.payee_account or ""),
            payee_name=str(row.payee_name or ""),
        )

    def _forward(self, transfer_id: int) -> None:
        transfer = self._outgoing(transfer_id)
        if transfer is None or not self.connected:
            return
        stan, sent = stan_for(transfer_id), p.transmission_time(self.clock())
        try:
            message = financial_request(
                transfer, stan=stan, transmission_time=sent, acquirer_id=self._acquirer
            )
            encode_with_mac(message, self._mac)  # proves it encodes before anything is claimed
        except (ValueError, TypeError) as exc:  # Iso8583Error is a ValueError
            if self._claim(transfer_id, S.DECLINED, response_code=FORMAT_ERROR):
                log.warning("TR%010d cannot go to the switch (%s): voided", transfer_id, exc)
                self._count("declined")
                self._settle(transfer_id, S.DECLINED, FORMAT_ERROR)
            return
        if not self._claim(transfer_id, S.SENT, stan=stan, transmission_time=sent):
            self._count("claims_lost")
            return
        now = time.monotonic()
        self._outstanding[(p.FINANCIAL_RESPONSE, stan, sent)] = _Outstanding(
            "financial",
            transfer_id,
            now + self.settings.timeout_s,
            now + self.settings.timeout_s + REMEMBER_S,
        )
        self._count("forwarded")
        # A failed send leaves the entry: its deadline reverses the transfer (the 0200 may have gone out).
        self._send(message)

    def _look_after_unanswered(self) -> None:
        """Reverse "sent" rows nobody is waiting for any more; repeat due reversals."""
        with self.engine.connect() as conn:
            rows = conn.execute(
                sql_select(FORWARDING.c.transfer_id, FORWARDING.c.state, FORWARDING.c.updated_at).where(
                    FORWARDING.c.state.in_([S.SENT.value, S.REVERSING.value])
                )
            ).all()
        waiting_here = {
            e.transfer_id for e in self._outstanding.values() if e.kind == "financial" and not e.timed_out
        }
        stale_before = self.clock() - timedelta(seconds=self.settings.timeout_s + STALE_MARGIN_S)
        for transfer_id, state, updated_at in rows:
            if state == S.SENT.value:
                if transfer_id in waiting_here or updated_at > stale_before:
                    continue
                if self._move(transfer_id, S.SENT, S.REVERSING):
                    self._count("taken_over")
                    log.warning("TR%010d was sent by a host that no longer waits: reversing it", transfer_id)
                    self._reverse_if_due(transfer_id)
            else:
                self._reverse_if_due(transfer_id)

    def _reverse_if_due(self, transfer_id: int) -> None:
        """Send the transfer's 0420 (first) or 0421 (repeat) if one is due and the link is up."""
        if not self.connected:
            return
        with self.engine.connect() as conn:
            row = conn.execute(
                sql_select(
                    FORWARDING.c.stan,
                    FORWARDING.c.transmission_time,
                    FORWARDING.c.attempts,
                    FORWARDING.c.updated_at,
                    TRANSFERS.c.amount_minor,
                    TRANSFERS.c.currency,
                    TRANSFERS.c.payee_bank_code,
                )
                .select_from(FORWARDING.join(TRANSFERS, TRANSFERS.c.id == FORWARDING.c.transfer_id))
                .where(FORWARDING.c.transfer_id == transfer_id, FORWARDING.c.state == S.REVERSING.value)
            ).first()
        if row is None or row.stan is None or row.transmission_time is None:
            return
        first = row.attempts <= 1  # only the 0200 went out so far
        retry_at = row.updated_at + timedelta(seconds=self.settings.reversal_retry_s)
        if not first and self.clock() < retry_at:
            return
        with self.engine.begin() as conn:
            claimed = conn.execute(
                update(FORWARDING)
                .where(
                    and_(
                        FORWARDING.c.transfer_id == transfer_id,
                        FORWARDING.c.state == S.REVERSING.value,
                        FORWARDING.c.attempts == row.attempts,
                    )
                )
                .values(attempts=FORWARDING.c.attempts + 1, updated_at=self.clock())
            ).rowcount
        if claimed != 1:
            return  # another host sent this repeat
        sent = p.transmission_time(self.clock())
        message = reversal_request(
            mti=p.REVERSAL if first else p.REVERSAL_REPEAT,
            amount_minor=int(row.amount_minor),
            currency=str(row.currency),
            bank_code=str(row.payee_bank_code or ""),
            stan=str(row.stan),
            original_time=str(row.transmission_time),
            transmission_time=sent,
            acquirer_id=self._acquirer,
        )
        # Repeats are driven by the table (reversal_retry_s), not by this entry: it is only remembered, so
        # that an 0430 coming after the next 0421 went out still completes the reversal.
        forget_at = time.monotonic() + REMEMBER_S
        self._outstanding[(p.REVERSAL_RESPONSE, str(row.stan), sent)] = _Outstanding(
            "reversal", transfer_id, forget_at, forget_at
        )
        self._send(message)

    # -- the ledger ---------------------------------------------------------------------------------
    def _posted(self, transfer_id: int) -> bool:
        with self.engine.connect() as conn:
            status = conn.execute(
                sql_select(TRANSFERS.c.status).where(TRANSFERS.c.id == transfer_id)
            ).scalar_one_or_none()
        return status == TransferStatus.POSTED.value

    def _compensate(self, transfer_id: int) -> None:
        with self.engine.connect() as conn:
            row = conn.execute(sql_select(TRANSFERS).where(TRANSFERS.c.id == transfer_id)).first()
        if row is None:
            return
        result = compensate(self.ledger, row, row.kiosk_id or "")
        if isinstance(result, TransferOutcome):
            log.info("TR%010d reversed at the switch after it was posted: compensated", transfer_id)
            return
        self._count("ledger_refusals")
        log.error("TR%010d reversed at the switch, but its compensation was refused: %s", transfer_id, result)

    def _settle(self, transfer_id: int, state: S, code: str | None) -> None:
        """The ledger step of a recorded outcome: post the hold (approved) or void it (otherwise)."""
        if state is S.APPROVED:
            result = self.ledger.post_pending(transfer_id)
            done = TransferStatus.POSTED
        else:
            reason = REVERSAL_REASON if state is S.REVERSED else decline_reason(code or "")
            if state is S.REVERSED and self._posted(transfer_id):
                self._compensate(transfer_id)  # approved, then reversed by its terminal
                return
            result = self.ledger.void_pending(transfer_id, reason)
            done = TransferStatus.VOIDED
        if isinstance(result, TransferOutcome) and result.status is done:
            if not result.replayed:
                log.info("TR%010d %s (switch: %s)", transfer_id, done.value, state.value)
            return
        self._count("ledger_refusals")
        log.error("TR%010d is %s at the switch but the ledger refused: %s", transfer_id, state.value, result)
