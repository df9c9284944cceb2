"""A seeded, randomised simulation of the bank (in the spirit of TigerBeetle's VOPR).

Several simulated kiosks, each with its own ``BankService`` (its own ledger connection, its own session),
take turns — in an order drawn from the seed — at a mix of operations: own-account, other-customer and
other-bank transfers, retries with the same idempotency key, a key reused for a different request, crashes
(the connection dropped mid-transaction, the reply lost after the commit landed, or a real kiosk process
SIGKILLed inside its transaction: the kiosk "restarts" and retries), clearing-house runs that settle or
reject, deposits, accounts frozen and unfrozen, and a clock that moves on so bank days (and daily limits)
roll over.

An independent model of the bank predicts every answer (posted, pending, replayed, or which refusal) and
every balance, hold and limit counter. The simulation stops at the first disagreement, and every
``check_every`` operations (and at the end) it compares the model with the account rows and runs the
ledger's own invariant check (``bank.check``). Everything random comes from one seed and the kiosks
run one operation at a time, so a failure's seed and operation index reproduce it exactly:

    python -m bank.simulation --seed S --ops N --db sqlite|postgresql
"""

from __future__ import annotations

import argparse
import json
import random
import subprocess
import sys
import tempfile
import threading
import time
from collections import Counter
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Any

from sqlalchemy import Engine, select, text
from sqlalchemy.orm import Session

from bank.check import check_ledger
from bank.clearing import ClearingHouse, ClearingRules
from bank.db.engine import make_engine
from bank.db.migrate import upgrade
from bank.ledger import (
    ACCOUNTS,
    KIOSK_CHANNEL,
    Ledger,
    TransferOutcome,
    TransferRefused,
    TransferRequest,
    TransferResult,
    _Tx,
    bank_day_of,
)
from bank.models import AccountKind, InternalAccount, TransferKind, TransferStatus
from bank.security.vault import Vault, install_vault
from bank.seed import SEED_CUSTOMERS, seed_bank
from bank.service import OTHER_BANK_FEE_MINOR, BankService
from hostlink.money import Money

START = datetime(2026, 3, 9, 16, 0, tzinfo=UTC)  # midnight in Beijing: the first bank day starts
SETTLE_AFTER = timedelta(minutes=30)  # the clearing house answers transfers at least this old
CLEARING_RULES = ClearingRules(settle_after=SETTLE_AFTER)


# What a request may be refused with when other kiosks move money at the same moment.
RACE_REFUSALS = frozenset(
    {
        "insufficient_funds",
        "daily_limit",
        "daily_count_limit",
        "account_frozen",
        "payee_account_frozen",
        "payee_name_mismatch",
        "not_own_account",
        "idempotency_key_reused",
    }
)


class SimulatedCrash(BaseException):
    """The kiosk process dies here (a BaseException, like KeyboardInterrupt: nothing may swallow it)."""


class SimulationFailure(Exception):
    def __init__(self, seed: int, op_index: int, message: str) -> None:
        super().__init__(f"seed {seed}, operation {op_index}: {message}")
        self.seed = seed
        self.op_index = op_index
        self.message = message


class SimClock:
    def __init__(self, start: datetime = START) -> None:
        self.now = start

    def __call__(self) -> datetime:
        return self.now


class CrashingLedger(Ledger):
    """A ledger whose process can be killed at two points of a transfer:

    - ``mid_transaction``: after the transfer's statements were sent, before the commit — the connection is
      closed under the transaction (the database rolls it back);
    - ``after_commit``: the commit landed, then the process dies before the kiosk hears the answer;
    - ``connection_lost``: the connection drops mid-transaction but the process lives: the ledger's own
      retry must reconnect and post exactly once, and the kiosk never notices.
    """

    crash_at: str | None = None

    def _commit(self, tx: _Tx) -> None:
        # Here on both paths (general, and bank_post_transfer on PostgreSQL): all written but the COMMIT.
        if self.crash_at == "mid_transaction":
            self.crash_at = None
            _drop_connection(tx)
            raise SimulatedCrash("killed mid-transaction")
        if self.crash_at == "connection_lost":
            self.crash_at = None
            _drop_connection(tx)  # the COMMIT fails: a lost connection, retried by the ledger
        super()._commit(tx)
        if self.crash_at == "after_commit":
            self.crash_at = None
            raise SimulatedCrash("killed after the commit, before the reply")


def _drop_connection(tx: _Tx) -> None:
    """The socket or file handle goes away, as with the process. The cursor goes first: SQLite keeps a
    connection closed under a live statement as a zombie that still holds the write lock."""
    tx.cursor.close()
    tx.dbapi_conn.close()


class Kiosk:
    """One simulated kiosk: a BankService whose ledger can crash; a crash 'restarts' it (new service)."""

    def __init__(self, name: str, engine: Engine, vault: Vault, clock: SimClock) -> None:
        self.name, self.engine, self.vault, self.clock = name, engine, vault, clock
        self.restarts = 0
        self.service = self._start()

    def _start(self) -> BankService:
        service = BankService(self.engine, self.vault, kiosk_id=self.name, clock=self.clock)
        service.ledger = CrashingLedger(self.engine, clock=self.clock, rng=random.Random(self.restarts))
        return service

    @property
    def ledger(self) -> CrashingLedger:
        ledger = self.service.ledger
        assert isinstance(ledger, CrashingLedger)
        return ledger

    def restart(self) -> None:
        self.service.ledger.close()
        self.restarts += 1
        self.service = self._start()

    def close(self) -> None:
        self.service.ledger.close()


# -- the model ------------------------------------------------------------------------------------
@dataclass
class ModelAccount:
    id: int
    number: str
    customer_id: int | None
    holder: str
    kind: str
    status: str
    balance: int
    held: int
    overdraft: int  # headroom below zero (0 unless overdraft is allowed)
    amount_limit: int
    count_limit: int
    limit_day: date | None
    day_amount: int
    day_count: int


@dataclass
class ModelTransfer:
    request: TransferRequest
    status: TransferStatus
    transfer_id: int
    created_at: datetime
    bank_day: date
    void_reason: str | None = None


@dataclass
class Call:
    """A service call the kiosk makes, the request the ledger will see (None: refused before the ledger)
    and the answer the model expects."""

    run: Callable[[BankService], TransferResult]
    request: TransferRequest | None
    pending: bool
    expected: str  # "posted" | "pending" | "replayed:<status>" | a refusal reason


class BankModel:
    """What the bank should look like, kept independently of the database."""

    def __init__(self, accounts: dict[int, ModelAccount], internal: dict[InternalAccount, int]) -> None:
        self.accounts = accounts
        self.internal = internal
        self.transfers: dict[str, ModelTransfer] = {}  # by idempotency key: stored (posted/pending/voided)

    def customer_accounts(self) -> list[ModelAccount]:
        return [a for a in self.accounts.values() if a.kind != AccountKind.INTERNAL.value]

    def predict(self, request: TransferRequest, pending: bool, now: datetime) -> str:
        """The ledger's answer to ``request`` now (mirrors the rules without sharing their code)."""
        stored = self.transfers.get(request.idempotency_key)
        if stored is not None:
            if stored.request.fingerprint() != request.fingerprint():
                return "idempotency_key_reused"
            return f"replayed:{stored.status.value}"
        payer, payee = self.accounts[request.debit_account_id], self.accounts[request.credit_account_id]
        if payer.status != "active":
            return "account_frozen" if payer.status == "frozen" else "account_closed"
        available = payer.balance - payer.held + payer.overdraft
        if payer.kind != AccountKind.INTERNAL.value and request.hold_minor > available:
            return "insufficient_funds"
        if payee.status != "active":
            return "payee_account_frozen" if payee.status == "frozen" else "payee_account_closed"
        if request.channel == KIOSK_CHANNEL:
            day = bank_day_of(now)
            used_amount, used_count = (
                (payer.day_amount, payer.day_count) if payer.limit_day == day else (0, 0)
            )
            if used_count + 1 > payer.count_limit:
                return "daily_count_limit"
            if used_amount + request.amount_minor > payer.amount_limit:
                return "daily_limit"
        return "pending" if pending else "posted"

    def apply(self, request: TransferRequest, pending: bool, outcome: TransferOutcome, now: datetime) -> None:
        """A new transfer was stored: move the money (or hold it) and count the day's limit use."""
        payer = self.accounts[request.debit_account_id]
        day = bank_day_of(now)
        if request.channel == KIOSK_CHANNEL:
            if payer.limit_day != day:
                payer.limit_day, payer.day_amount, payer.day_count = day, 0, 0
            payer.day_amount += request.amount_minor
            payer.day_count += 1
        status = TransferStatus.PENDING if pending else TransferStatus.POSTED
        if pending:
            payer.held += request.hold_minor
        else:
            self._post(request)
        self.transfers[request.idempotency_key] = ModelTransfer(
            request, status, outcome.transfer_id, now, day
        )

    def _post(self, request: TransferRequest) -> None:
        self.accounts[request.debit_account_id].balance -= request.hold_minor
        self.accounts[request.credit_account_id].balance += request.amount_minor
        if request.fee_minor:
            self.accounts[self.internal[InternalAccount.FEES]].balance += request.fee_minor

    def clearing_cycle(self, now: datetime) -> tuple[list[int], list[tuple[int, str]]]:
        """Answer the pending other-bank transfers old enough; returns (settled, rejected) ids."""
        settled: list[int] = []
        rejected: list[tuple[int, str]] = []
        waiting = sorted(
            (t for t in self.transfers.values() if t.status is TransferStatus.PENDING),
            key=lambda t: t.transfer_id,
        )
        for transfer in waiting:
            if transfer.created_at > now - SETTLE_AFTER:
                continue
            request = transfer.request
            payer = self.accounts[request.debit_account_id]
            payer.held -= request.hold_minor
            reason = CLEARING_RULES.rejection_reason(request.payee_bank_code, request.payee_account)
            if reason is None:
                self._post(request)
                transfer.status = TransferStatus.POSTED
                settled.append(transfer.transfer_id)
            else:
                if request.channel == KIOSK_CHANNEL and payer.limit_day == transfer.bank_day:
                    payer.day_amount -= request.amount_minor
                    payer.day_count -= 1
                transfer.status, transfer.void_reason = TransferStatus.VOIDED, reason
                rejected.append((transfer.transfer_id, reason))
        return settled, rejected


# -- the simulation -------------------------------------------------------------------------------
@dataclass
class SimulationReport:
    seed: int
    ops: int
    kiosks: int
    database: str
    mode: str = "deterministic"
    seconds: float = 0.0
    checks: int = 0
    violations: int = 0
    failure: str | None = None
    operations: Counter[str] = field(default_factory=Counter)
    outcomes: Counter[str] = field(default_factory=Counter)
    ledger: dict[str, int] = field(default_factory=dict)

    def as_dict(self) -> dict[str, Any]:
        return {
            "seed": self.seed,
            "ops": self.ops,
            "kiosks": self.kiosks,
            "database": self.database,
            "mode": self.mode,
            "seconds": round(self.seconds, 2),
            "ops_per_s": round(self.ops / self.seconds, 1) if self.seconds else None,
            "invariant_checks": self.checks,
            "violations": self.violations,
            "failure": self.failure,
            "operations": dict(sorted(self.operations.items())),
            "outcomes": dict(sorted(self.outcomes.items())),
            "ledger": self.ledger,
        }


class Simulation:
    def __init__(
        self,
        engine: Engine,
        vault: Vault,
        *,
        seed: int,
        kiosks: int = 4,
        check_every: int = 1000,
        kill_rate: float = 0.001,
    ) -> None:
        self.engine, self.vault, self.seed = engine, vault, seed
        self.kill_rate = kill_rate  # share of operations that kill a real kiosk process mid-transaction
        self.rng = random.Random(seed)
        self.clock = SimClock()
        self.check_every = check_every
        self.kiosks = [Kiosk(f"SIM-K{n}", engine, vault, self.clock) for n in range(kiosks)]
        self.clearing = ClearingHouse(Ledger(engine, clock=self.clock), CLEARING_RULES, clock=self.clock)
        self.model = self._setup()
        self.issued: list[tuple[Call, str]] = []  # ledger-level calls made, for retries: (call, kind)
        self.key_counter = 0
        self.op_index = -1
        self.report = SimulationReport(seed, 0, kiosks, engine.dialect.name)

    # -- setup ---------------------------------------------------------------------------------
    def _setup(self) -> BankModel:
        with Session(self.engine) as session:
            seed_bank(session, self.vault, pvv_for=lambda pan, pin: "0" * 16)
        ledger = self.kiosks[0].ledger
        internal = {which: ledger.internal_account_id(which) for which in InternalAccount}
        holders = {a.number: c.name for c in SEED_CUSTOMERS for a in c.accounts}
        with self.engine.begin() as conn:
            # Back-office limits drawn from the seed, so daily limits bite at different rates.
            for number in sorted(holders):
                conn.execute(
                    text(
                        "UPDATE bank_accounts SET daily_transfer_count_limit = :count,"
                        " daily_transfer_limit_minor = :amount WHERE number = :number"
                    ),
                    {
                        "count": self.rng.randint(3, 25),
                        "amount": self.rng.choice((200_000, 1_000_000, 5_000_000)),
                        "number": number,
                    },
                )
            rows = conn.execute(select(ACCOUNTS).order_by(ACCOUNTS.c.id)).all()
        accounts = {
            row.id: ModelAccount(
                row.id,
                row.number,
                row.customer_id,
                holders.get(row.number, ""),
                row.kind,
                row.status,
                row.balance_minor,
                row.pending_debits_minor,
                row.overdraft_limit_minor if row.overdraft_allowed else 0,
                row.daily_transfer_limit_minor,
                row.daily_transfer_count_limit,
                row.limit_day,
                row.day_amount_minor,
                row.day_count,
            )
            for row in rows
        }
        return BankModel(accounts, internal)

    # -- running -------------------------------------------------------------------------------
    def run(self, ops: int) -> SimulationReport:
        started = time.perf_counter()
        try:
            for self.op_index in range(ops):
                self.clock.now += timedelta(seconds=self.rng.randint(0, 1200))
                self._step()
                if (self.op_index + 1) % self.check_every == 0:
                    self.check()
            self.op_index = ops
            self.check()
        except SimulationFailure as failure:
            self.report.violations += 1
            self.report.failure = str(failure)
        finally:
            self.report.ops = self.op_index
            self.report.seconds = time.perf_counter() - started
            for kiosk in self.kiosks:
                kiosk.close()
            self.clearing.ledger.close()
        return self.report

    # -- concurrent mode ---------------------------------------------------------------------------
    def run_concurrent(self, ops: int, *, phase_ops: int = 200) -> SimulationReport:
        """The kiosks as threads, each on its own connection, racing over the same accounts.

        The work is cut into phases of ``phase_ops`` operations, each on its own bank day. The seed draws
        every phase's plan (including requests sent by two kiosks at once with the same key, and crashes);
        the threads run their plans at the same time, so the order of commits is the database's, not the
        seed's. Answers cannot all be predicted then, so between phases the model takes what was stored
        (each key at most once: two "posted" answers for one key is a failure), checks that every replay
        names the original transfer and every refusal is one the request could get, then compares
        balances, holds and limit counters and runs the invariant check. Clearing runs and freezes happen
        between phases.
        """
        started = time.perf_counter()
        done = 0
        try:
            while done < ops:
                size = min(phase_ops, ops - done)
                self.op_index = done
                self._between_phases()
                results = self._race(self._plan_phase(size))
                self._settle_phase(results)
                done += size
                self.op_index = done - 1
                if done % self.check_every < size or done == ops:
                    self.check()
            self.op_index = ops
        except SimulationFailure as failure:
            self.report.violations += 1
            self.report.failure = str(failure)
        finally:
            self.report.ops = self.op_index
            self.report.seconds = time.perf_counter() - started
            for kiosk in self.kiosks:
                kiosk.close()
            self.clearing.ledger.close()
        return self.report

    def _between_phases(self) -> None:
        # A new bank day (limits start again), some hours later.
        self.clock.now += timedelta(hours=24, seconds=self.rng.randint(0, 3600))
        for _ in range(self.rng.randint(1, 2)):
            self._clearing_run()
        for _ in range(self.rng.randint(0, 2)):
            self._freeze_or_unfreeze()

    def _plan_phase(self, size: int) -> list[list[tuple[Call, str, str | None]]]:
        plans: list[list[tuple[Call, str, str | None]]] = [[] for _ in self.kiosks]
        for _ in range(size):
            kiosk = self.rng.randrange(len(self.kiosks))
            roll = self.rng.random()
            crash: str | None = None
            if roll < 0.25:
                call, kind = self._own_transfer(), "own"
            elif roll < 0.50:
                call, kind = self._customer_transfer(), "customer"
            elif roll < 0.65:
                call, kind = self._other_bank_transfer(), "other_bank"
            elif roll < 0.75:
                call, kind = self._deposit(), "deposit"
            elif roll < 0.85 and self.issued:
                call, kind = self.rng.choice(self.issued[-200:])
                kind = f"retry_{kind}"
            elif roll < 0.93:
                # The same request from two kiosks at once (a retry racing the original).
                call, kind = self._customer_transfer(), "shared_key"
                twin = (kiosk + 1 + self.rng.randrange(len(self.kiosks) - 1)) % len(self.kiosks)
                if twin != kiosk:
                    plans[twin].append((call, kind, None))
            else:
                call, kind = self._own_transfer(), "crash"
                crash = self.rng.choice(("mid_transaction", "after_commit", "connection_lost"))
            plans[kiosk].append((call, kind, crash))
        return plans

    def _race(self, plans: list[list[tuple[Call, str, str | None]]]) -> list[tuple[Call, str, Any]]:
        results: list[list[tuple[Call, str, Any]]] = [[] for _ in plans]
        start = threading.Barrier(len(plans))

        def work(
            kiosk: Kiosk, plan: list[tuple[Call, str, str | None]], out: list[tuple[Call, str, Any]]
        ) -> None:
            start.wait()
            try:
                for call, kind, crash in plan:
                    kiosk.ledger.crash_at = crash
                    try:
                        result: Any = call.run(kiosk.service)
                    except SimulatedCrash:
                        kiosk.restart()
                        out.append((call, kind, "crashed"))
                        kind = f"retry_after_crash_{crash}"
                        try:
                            result = call.run(kiosk.service)
                        except Exception as exc:
                            result = exc
                    except Exception as exc:  # reported as a failure by the main thread
                        result = exc
                    kiosk.ledger.crash_at = None
                    out.append((call, kind, result))
            finally:
                kiosk.service.ledger.close()  # this thread's connection

        threads = [
            threading.Thread(target=work, args=(kiosk, plan, out), name=kiosk.name)
            for kiosk, plan, out in zip(self.kiosks, plans, results, strict=True)
        ]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()
        return [entry for out in results for entry in out]

    def _settle_phase(self, results: list[tuple[Call, str, Any]]) -> None:
        fresh: dict[str, tuple[Call, TransferOutcome]] = {}
        kind_of: dict[str, str] = {}
        replays: list[tuple[Call, TransferOutcome]] = []
        for call, kind, result in results:
            self.report.operations[kind] += 1
            if result == "crashed":
                self.report.outcomes["crashed"] += 1
                continue
            if isinstance(result, Exception):
                raise self.fail(f"{kind}: the service raised {type(result).__name__}: {result}")
            self.report.outcomes[_describe(result).split(":")[0]] += 1
            if isinstance(result, TransferRefused):
                if call.request is None and result.reason.value != call.expected:
                    raise self.fail(
                        f"{kind}: expected {call.expected}, the bank answered {result.reason.value}"
                    )
                if result.reason.value not in RACE_REFUSALS:
                    raise self.fail(f"{kind}: refused {result.reason.value}, which no race explains")
                if call.request is not None:
                    self._check_status_rule(call.request, kind, result.reason.value)
                continue
            assert call.request is not None
            key = call.request.idempotency_key
            if not result.replayed:
                self._check_status_rule(call.request, kind, None)
                if key in fresh or key in self.model.transfers:
                    raise self.fail(f"{kind}: key {key} posted twice")
                fresh[key] = (call, result)
                kind_of[key] = kind.removeprefix("retry_")
            else:
                replays.append((call, result))
        for call, outcome in sorted(fresh.values(), key=lambda item: item[1].transfer_id):
            assert call.request is not None
            self.model.apply(call.request, call.pending, outcome, outcome.created_at)
            self.issued.append((call, kind_of.get(call.request.idempotency_key, "race")))
        for call, outcome in replays:
            assert call.request is not None
            stored = self.model.transfers.get(call.request.idempotency_key)
            if stored is None:  # the original's answer was lost in a crash after its commit
                self.model.apply(call.request, call.pending, outcome, outcome.created_at)
            elif stored.transfer_id != outcome.transfer_id:
                raise self.fail(f"replay answered transfer {outcome.transfer_id}, not {stored.transfer_id}")

    def _check_status_rule(self, request: TransferRequest, kind: str, refusal: str | None) -> None:
        """Account statuses only change between phases, so within one they decide answers: a frozen payer
        is refused ``account_frozen``; an active payer with a frozen payee ``payee_account_frozen`` (or
        ``insufficient_funds``, which the payer's side is checked for first); nothing else is refused for
        status, and nothing is stored."""
        payer = self.model.accounts[request.debit_account_id].status
        payee = self.model.accounts[request.credit_account_id].status
        if payer == "frozen":
            allowed: tuple[str | None, ...] = ("account_frozen",)
        elif payee == "frozen":
            allowed = ("payee_account_frozen", "insufficient_funds")
        else:
            allowed = tuple(reason for reason in (None, *RACE_REFUSALS) if "frozen" not in (reason or ""))
        if refusal not in allowed:
            raise self.fail(
                f"{kind}: payer {payer}, payee {payee}, but the bank answered {refusal or 'stored'}"
            )

    def fail(self, message: str) -> SimulationFailure:
        return SimulationFailure(self.seed, self.op_index, message)

    def _step(self) -> None:
        rng = self.rng
        kiosk = rng.choice(self.kiosks)
        if rng.random() < self.kill_rate:
            self._process_killed(kiosk)
            return
        roll = rng.random()
        if roll < 0.20:
            self._transfer(kiosk, self._own_transfer(), "own")
        elif roll < 0.40:
            self._transfer(kiosk, self._customer_transfer(), "customer")
        elif roll < 0.55:
            self._transfer(kiosk, self._other_bank_transfer(), "other_bank")
        elif roll < 0.65 and self.issued:
            call, kind = rng.choice(self.issued[-200:])
            self._transfer(kiosk, self._again(call), f"retry_{kind}")
        elif roll < 0.67 and self.issued:
            self._transfer(kiosk, self._key_reused(rng.choice(self.issued[-200:])[0]), "key_reused")
        elif roll < 0.75:
            self._crash_and_retry(kiosk, rng.choice(("mid_transaction", "after_commit", "connection_lost")))
        elif roll < 0.83:
            self._clearing_run()
        elif roll < 0.97:
            self._transfer(kiosk, self._deposit(), "deposit")
        else:
            self._freeze_or_unfreeze()

    # -- operations ------------------------------------------------------------------------------
    def _key(self) -> str:
        self.key_counter += 1
        return f"sim-{self.seed}-{self.key_counter}"

    def _amount(self, payer: ModelAccount) -> int:
        """Mostly affordable amounts, sometimes too much (funds, daily amount limit)."""
        roll = self.rng.random()
        if roll < 0.7:
            return self.rng.randint(1, 50_000)
        if roll < 0.9:
            return self.rng.randint(50_000, 600_000)
        return max(1, payer.balance - payer.held + payer.overdraft + self.rng.randint(-200, 200))

    def _ledger_call(
        self, request: TransferRequest, *, pending: bool, run: Callable[[BankService], TransferResult]
    ) -> Call:
        return Call(run, request, pending, self.model.predict(request, pending, self.clock.now))

    def _own_transfer(self) -> Call:
        customer_accounts = [a for a in self.model.customer_accounts() if a.customer_id is not None]
        payer = self.rng.choice(customer_accounts)
        siblings = [a for a in customer_accounts if a.customer_id == payer.customer_id and a.id != payer.id]
        if self.rng.random() < 0.05:  # someone else's account offered as "own": refused by the service
            other = self.rng.choice([a for a in customer_accounts if a.customer_id != payer.customer_id])
            key, small = self._key(), Money(self.rng.randint(1, 1000))
            return Call(
                lambda s: s.transfer_own(key, payer.id, other.id, small), None, False, "not_own_account"
            )
        payee = self.rng.choice(siblings)
        key, amount = self._key(), self._amount(payer)
        request = TransferRequest(
            key,
            TransferKind.OWN,
            payer.id,
            payee.id,
            amount,
            "CNY",
            description=f"To own account ****{payee.number[-4:]}",
            payee_description=f"From own account ****{payer.number[-4:]}",
            kiosk_id="",
        )
        return self._ledger_call(
            request, pending=False, run=lambda s: s.transfer_own(key, payer.id, payee.id, Money(amount))
        )

    def _customer_transfer(self) -> Call:
        accounts = self.model.customer_accounts()
        payer = self.rng.choice(accounts)
        payee = self.rng.choice([a for a in accounts if a.id != payer.id])
        key, amount = self._key(), self._amount(payer)
        if self.rng.random() < 0.05:
            name = payee.holder + "X"
            return Call(
                lambda s: s.transfer_to_customer(key, payer.id, payee.number, name, Money(amount)),
                None,
                False,
                "payee_name_mismatch",
            )
        # Names compare without case, width or spacing: the kiosk may send them with extra spaces.
        name = " ".join(payee.holder) if self.rng.random() < 0.2 else payee.holder
        kind = TransferKind.OWN if payee.customer_id == payer.customer_id else TransferKind.INTERNAL
        request = TransferRequest(
            key, kind, payer.id, payee.id, amount, "CNY", payee_account=payee.number, kiosk_id=""
        )
        return self._ledger_call(
            request,
            pending=False,
            run=lambda s: s.transfer_to_customer(key, payer.id, payee.number, name, Money(amount)),
        )

    def _other_bank_transfer(self) -> Call:
        payer = self.rng.choice(self.model.customer_accounts())
        bank = "999" if self.rng.random() < 0.1 else self.rng.choice(("102", "103", "104", "105"))
        tail = "0000" if self.rng.random() < 0.1 else f"{self.rng.randint(1, 9999):04d}"
        account = f"6222{self.rng.randint(10**7, 10**8 - 1)}{tail}"
        key, amount = self._key(), self._amount(payer)
        request = TransferRequest(
            key,
            TransferKind.OTHER_BANK,
            payer.id,
            self.model.internal[InternalAccount.CLEARING],
            amount,
            "CNY",
            fee_minor=OTHER_BANK_FEE_MINOR,
            payee_bank_code=bank,
            payee_account=account,
            kiosk_id="",
        )
        return self._ledger_call(
            request,
            pending=True,
            run=lambda s: s.transfer_other_bank(key, payer.id, bank, account, "Zhao Lei", Money(amount)),
        )

    def _deposit(self) -> Call:
        """Cash in at the branch (funding → account, not the kiosk channel): keeps money in the system."""
        payee = self.rng.choice(self.model.customer_accounts())
        key, amount = self._key(), self.rng.randint(10_000, 2_000_000)
        funding = self.model.internal[InternalAccount.FUNDING]
        request = TransferRequest(
            key, TransferKind.FUNDING, funding, payee.id, amount, "CNY", channel="branch"
        )
        return self._ledger_call(request, pending=False, run=lambda s: s.ledger.transfer(request))

    def _again(self, call: Call) -> Call:
        """The same request once more (a kiosk that timed out and retried), answered from the model now."""
        if call.request is None:
            return call  # refused before the ledger: refused again
        return Call(
            call.run,
            call.request,
            call.pending,
            self.model.predict(call.request, call.pending, self.clock.now),
        )

    def _key_reused(self, call: Call) -> Call:
        """A bug in a kiosk: an old key for a different amount. Refused if the key is stored."""
        if call.request is None:
            return call
        request = call.request
        changed = TransferRequest(
            request.idempotency_key,
            request.kind,
            request.debit_account_id,
            request.credit_account_id,
            request.amount_minor + 1,
            request.currency,
            fee_minor=request.fee_minor,
            payee_bank_code=request.payee_bank_code,
            payee_account=request.payee_account,
            channel=request.channel,
        )
        return Call(
            lambda s: s.ledger.transfer(changed, pending=call.pending),
            changed,
            call.pending,
            self.model.predict(changed, call.pending, self.clock.now),
        )

    def _transfer(self, kiosk: Kiosk, call: Call, kind: str) -> TransferResult:
        self.report.operations[kind] += 1
        result = call.run(kiosk.service)
        self._expect(call, result, kind)
        return result

    def _expect(self, call: Call, result: TransferResult, kind: str) -> None:
        got = _describe(result)
        self.report.outcomes[got.split(":")[0]] += 1
        if got != call.expected:
            raise self.fail(f"{kind}: expected {call.expected}, the bank answered {got} ({result})")
        if isinstance(result, TransferOutcome) and not result.replayed:
            assert call.request is not None
            self.model.apply(call.request, call.pending, result, self.clock.now)
            self.issued.append((call, kind.removeprefix("retry_")))
        elif isinstance(result, TransferOutcome):
            assert call.request is not None
            stored = self.model.transfers[call.request.idempotency_key]
            if result.transfer_id != stored.transfer_id:
                raise self.fail(f"replay answered transfer {result.transfer_id}, not {stored.transfer_id}")
        elif call.request is not None and kind in ("own", "customer", "other_bank"):
            self.issued.append((call, kind))  # refused requests are retried too: they re-evaluate

    def _crash_and_retry(self, kiosk: Kiosk, where: str) -> None:
        self.report.operations[f"crash_{where}"] += 1
        call = self.rng.choice((self._own_transfer, self._customer_transfer, self._other_bank_transfer))()
        kiosk.ledger.crash_at = where
        try:
            result = call.run(kiosk.service)
            kiosk.ledger.crash_at = None  # not reached: refused before the write-back (or survived)
        except SimulatedCrash:
            kiosk.restart()
            self.report.outcomes["crashed"] += 1
        else:
            # A lost connection the ledger survived, or a refusal before anything was written: the answer
            # must be the one the model expects, as if nothing had happened.
            self._expect(call, result, "crash_" + where)
            return
        # The kiosk is back: it retries the request it was serving, with the same key.
        if where == "after_commit" and call.expected in ("posted", "pending"):
            assert call.request is not None
            stored = self._stored_transfer(call.request.idempotency_key)
            if stored is None:
                raise self.fail("the commit landed but the transfer is not in the database")
            self.model.apply(call.request, call.pending, stored, self.clock.now)
            self.issued.append((call, "crash"))
        self._transfer(kiosk, self._again(call), f"retry_after_crash_{where}")

    def _process_killed(self, kiosk: Kiosk) -> None:
        """A real kiosk process writes the transfer and is SIGKILLed before it commits; this kiosk then
        retries the same request with the same key: it must post exactly once, as if the first never was."""
        call = self._own_transfer()
        if call.request is None or call.expected != "posted":
            self._transfer(kiosk, call, "own")  # refused before anything is written: nothing to kill
            return
        self.report.operations["process_killed"] += 1
        request = call.request
        argv = [
            sys.executable,
            "-m",
            "bank.doomed_writer",
            self.engine.url.render_as_string(hide_password=False),
            request.idempotency_key,
            request.kind.value,
            str(request.debit_account_id),
            str(request.credit_account_id),
            str(request.amount_minor),
        ]
        with subprocess.Popen(argv, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True) as child:
            assert child.stdout is not None and child.stderr is not None
            said = child.stdout.readline().strip()
            child.kill()
            child.wait(timeout=60)
            if said != "in-transaction":
                lines = child.stderr.read().strip().splitlines()
                raise self.fail(
                    f"the doomed kiosk never reached its transaction: {lines[-1] if lines else said}"
                )
        self.report.outcomes["killed"] += 1
        self._transfer(kiosk, self._again(call), "retry_after_process_killed")

    def _stored_transfer(self, key: str) -> TransferOutcome | None:
        replay = Ledger(self.engine).replay(key)
        return replay if isinstance(replay, TransferOutcome) else None

    def _clearing_run(self) -> None:
        self.report.operations["clearing"] += 1
        expected_settled, expected_rejected = self.model.clearing_cycle(self.clock.now)
        report = self.clearing.run_cycle()
        if report.settled != expected_settled or report.rejected != expected_rejected:
            raise self.fail(
                f"clearing settled {report.settled} rejected {report.rejected}; "
                f"the model expected {expected_settled} and {expected_rejected}"
            )
        self.report.outcomes["settled"] += len(report.settled)
        self.report.outcomes["rejected_by_clearing"] += len(report.rejected)

    def _freeze_or_unfreeze(self) -> None:
        """The back office freezes an account, or (more often) lifts a freeze."""
        self.report.operations["freeze_toggle"] += 1
        accounts = self.model.customer_accounts()
        frozen = [a for a in accounts if a.status == "frozen"]
        if frozen and self.rng.random() < 0.6:
            account = self.rng.choice(frozen)
            account.status = "active"
        else:
            account = self.rng.choice(accounts)
            account.status = "frozen"
        with self.engine.begin() as conn:
            conn.execute(
                text("UPDATE bank_accounts SET status = :status WHERE id = :id"),
                {"status": account.status, "id": account.id},
            )

    # -- invariants ------------------------------------------------------------------------------
    def check(self) -> None:
        self.report.checks += 1
        with self.engine.connect() as conn:
            report = check_ledger(conn)
            rows = {row.id: row for row in conn.execute(select(ACCOUNTS))}
        self.report.ledger = report.counts
        if not report.ok:
            first = report.violations[0]
            raise self.fail(f"bank check: {first.rule}: {first.detail}")
        for account in self.model.accounts.values():
            row = rows[account.id]
            found = (row.balance_minor, row.pending_debits_minor, row.status)
            if found != (account.balance, account.held, account.status):
                raise self.fail(
                    f"account {account.id}: database has balance/held/status {found}, the model says "
                    f"{(account.balance, account.held, account.status)}"
                )
            if account.limit_day is not None and (row.limit_day, row.day_amount_minor, row.day_count) != (
                account.limit_day,
                account.day_amount,
                account.day_count,
            ):
                raise self.fail(
                    f"account {account.id}: daily limit use {row.limit_day} {row.day_amount_minor}/"
                    f"{row.day_count}, the model says {account.limit_day} {account.day_amount}/"
                    f"{account.day_count}"
                )


def _describe(result: TransferResult) -> str:
    if isinstance(result, TransferRefused):
        return result.reason.value
    if result.replayed:
        return f"replayed:{result.status.value}"
    return result.status.value


@contextmanager
def _database(kind: str, url: str | None) -> Iterator[str]:
    """A fresh database: a SQLite file in a temporary folder, or a throw-away PostgreSQL server."""
    if url:
        yield url
    elif kind == "sqlite":
        with tempfile.TemporaryDirectory(prefix="smart-teller-sim-") as folder:
            yield f"sqlite:///{Path(folder) / 'bank.db'}"
    else:
        from benchmarks._pgserver import ThrowawayPostgres

        with ThrowawayPostgres(fsync=True) as server:
            yield server.url


def run_simulation(
    seed: int,
    ops: int,
    *,
    db: str = "sqlite",
    url: str | None = None,
    kiosks: int = 4,
    check_every: int = 1000,
    threads: bool = False,
    kill_rate: float = 0.001,
) -> SimulationReport:
    """Run ``ops`` operations from ``seed`` on a fresh database (or the empty, migratable one at ``url``);
    ``threads`` runs the kiosks concurrently (see ``Simulation.run_concurrent``)."""
    vault = Vault.ephemeral()
    install_vault(vault)
    with _database(db, url) as database_url:
        engine = make_engine(database_url)
        try:
            upgrade(engine)
            simulation = Simulation(
                engine, vault, seed=seed, kiosks=kiosks, check_every=check_every, kill_rate=kill_rate
            )
            report = simulation.run_concurrent(ops) if threads else simulation.run(ops)
            report.mode = "threads" if threads else "deterministic"
            return report
        finally:
            engine.dispose()


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bank.simulation", description=__doc__.splitlines()[0])
    parser.add_argument("--seed", type=int, default=None, help="the run's seed (random if omitted)")
    parser.add_argument("--ops", type=int, default=10_000)
    parser.add_argument("--db", choices=("sqlite", "postgresql"), default="sqlite")
    parser.add_argument("--url", default=None, help="an empty database to use instead of a fresh one")
    parser.add_argument("--kiosks", type=int, default=4)
    parser.add_argument("--check-every", type=int, default=1000)
    parser.add_argument(
        "--threads", action="store_true", help="kiosks as concurrent threads (commit order is the database's)"
    )
    args = parser.parse_args(argv)
    seed = args.seed if args.seed is not None else random.SystemRandom().randrange(2**32)
    report = run_simulation(
        seed,
        args.ops,
        db=args.db,
        url=args.url,
        kiosks=args.kiosks,
        check_every=args.check_every,
        threads=args.threads,
    )
    print(json.dumps(report.as_dict(), indent=2))
    if report.failure:
        print(
            f"simulation failed: {report.failure}; reproduce with: python -m bank.simulation "
            f"--seed {seed} --ops {args.ops} --db {args.db} --kiosks {args.kiosks}"
            + (" --threads" if args.threads else ""),
            file=sys.stderr,
        )
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
