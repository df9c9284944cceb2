"""Chaos between terminal and host: real hosts, real terminal code, a fault-injecting proxy on every link.

A :class:`WireChaosRig` is one terminal and two bank host processes (``python -m bank serve``, forked by
the suite's host fork server) on one fresh PostgreSQL database, sharing the bank's key files. Between them
sit four :class:`simulators.netfaults.FaultProxy` objects: host 0's HTTP port, host 0's ISO 8583 port,
host 1's two. The terminal knows only the proxies: ``host.urls`` lists both hosts' HTTP proxies,
``host.iso8583`` both ISO 8583 proxies, so it can fail over. The terminal is the headless kiosk
(:mod:`app.headless_runner`: the real journeys, effect handlers, journal and drivers) with in-process
card reader, PIN pad and printer simulators, and a scripted :class:`~app.headless_runner.Customer`.

A seeded schedule (:func:`simulators.netfaults.fault_schedule`) gives each visit its faults; a
:class:`~simulators.netfaults.FaultDriver` plays them while the visit runs (latency, bandwidth, resets
mid-message, black holes, half-open connections, a host killed and restarted, a host killed for a while).
After the last visit every fault is lifted and every host is up; the terminal is then started again
(its start-up recovery settles what the chaos left open and its card link delivers queued reversals),
and the checks run from the outside: :meth:`WireChaosRig.check`.
"""

from __future__ import annotations

import json
import logging
import os
import random
import shutil
import signal
import tempfile
import time
import uuid
from collections import Counter
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import text

from app.headless_runner import (
    LI_NA,
    QUICK_SESSION,
    VISITS,
    WANG_FANG,
    CardHolder,
    Customer,
    Errand,
    HeadlessKiosk,
    HeadlessTimeout,
    Visit,
)
from bank.db.engine import make_engine
from devices.simcontrol import ControlClient
from simulators.netfaults import LINKS, FaultDriver, FaultProxy, fault_schedule
from tests.invariants import final_outcomes, journal_and_ledger_problems

TERMINAL_ID = "KIOSK-0001"
HOSTS = 2
PHONE = "13912345678"  # a top-up number every phone biller accepts

# The visits of issue 23: card balance, a transfer to another customer, to another bank, a bill payment,
# a PIN change (Li Na's 2468 again: not weak, so the change is accepted and later visits keep the PIN).
CHAOS_VISITS: dict[str, Visit] = {
    "balance": VISITS["balance_receipt"],
    "transfer_customer": VISITS["transfer_customer"],
    "transfer_other_bank": VISITS["transfer_other_bank"],
    "bill_payment": Visit(
        "bill_payment", WANG_FANG, (Errand("bill_payment", True, amount="20.00", bill=("PHONE", PHONE)),)
    ),
    "pin_change": Visit("pin_change", LI_NA, (Errand("change_pin"),)),
}
CARDS: tuple[CardHolder, ...] = (WANG_FANG, LI_NA)

# Short link clocks, so that a black hole costs seconds, not minutes (the defaults are 5 s and 10 s).
HOST_TIMEOUT_S = 2.0
ISO_TIMEOUT_S = 3.0
VISIT_TIMEOUT_S = 150.0


class LinkEvents(logging.Handler):
    """Counts what the terminal's link code logs about recovering: retries, failovers, reversals."""

    PATTERNS: Mapping[str, tuple[str, str]] = {
        # (logger, the message template's start) → what it means
        "http_retried": ("kiosk.hostclient", "host %s: %s on"),
        "http_failed_over": ("kiosk.hostclient", "host %s answered %s %s: failed over"),
        "iso_failed_over": ("kiosk.cardlink", "ISO 8583: connected to %s: failed over"),
        "iso_reversal_queued": ("kiosk.cardlink", "ISO 8583: no answer to %s; it will be reversed"),
        "iso_reversal_acknowledged": ("kiosk.cardlink", "ISO 8583: reversal of STAN %s acknowledged"),
        "iso_resent": ("kiosk.cardlink", "ISO 8583: no answer to %s; sending it again"),
        "iso_sign_on_moved_on": ("kiosk.cardlink", "ISO 8583: no answer to the sign-on"),
        "transfer_asked_by_key": ("app.effects.bank", "transfer %s: no answer from the host"),
        "bill_asked_by_key": ("app.effects.billing", "bill payment %s: no answer from the host"),
    }

    def __init__(self) -> None:
        super().__init__(logging.INFO)
        self.counts: Counter[str] = Counter()

    def emit(self, record: logging.LogRecord) -> None:
        message = str(record.msg)
        for name, (logger, start) in self.PATTERNS.items():
            if record.name == logger and message.startswith(start):
                self.counts[name] += 1


class ZygoteHosts:
    """The two bank hosts, forked by the suite's host fork server: kill one with SIGKILL, start it again."""

    def __init__(self, zygote: Any, envs: list[dict[str, str]], root: Path) -> None:
        self.zygote = zygote
        self.envs = envs
        self.root = root
        self.pids: list[int] = [0] * len(envs)
        self.addresses: list[dict[str, tuple[str, int]]] = [{} for _ in envs]
        self.starts = Counter[int]()

    def start(self, index: int, timeout_s: float = 90.0) -> dict[str, tuple[str, int]]:
        folder = Path(tempfile.mkdtemp(prefix="st-chaos-host-"))
        ready, errors = folder / "ready.json", self.root / f"host-{index}.stderr"
        try:
            pid = self.zygote.spawn(
                self.envs[index], ["serve", "--port", "0", "--ready-file", str(ready)], errors
            )
            self.pids[index] = pid
            deadline = time.monotonic() + timeout_s
            while time.monotonic() < deadline:
                if ready.exists():
                    answer = json.loads(ready.read_text())
                    http = str(answer["url"]).removeprefix("http://").rsplit(":", 1)
                    iso = str(answer["iso8583"]).rsplit(":", 1)
                    self.addresses[index] = {"http": (http[0], int(http[1])), "iso": (iso[0], int(iso[1]))}
                    self.starts[index] += 1
                    return self.addresses[index]
                if not _alive(pid):
                    break
                time.sleep(0.02)
            raise RuntimeError(f"host {index} did not start: {_last_line(errors)}")
        finally:
            shutil.rmtree(folder, ignore_errors=True)

    def kill(self, index: int) -> None:
        _signal_and_wait(self.pids[index], signal.SIGKILL)

    def restart(self, index: int) -> Mapping[str, tuple[str, int]]:
        self.kill(index)
        return self.start(index)

    def stop_all(self) -> None:
        for pid in self.pids:
            if pid and not _signal_and_wait(pid, signal.SIGTERM, 10.0):
                _signal_and_wait(pid, signal.SIGKILL, 10.0)

    def alive(self) -> list[bool]:
        return [bool(pid) and _alive(pid) for pid in self.pids]


def _alive(pid: int) -> bool:
    try:
        with open(f"/proc/{pid}/stat", encoding="ascii") as stat:
            return stat.read().rsplit(")", 1)[1].split()[0] != "Z"
    except (FileNotFoundError, ProcessLookupError, IndexError):
        return False


def _signal_and_wait(pid: int, signum: int, timeout_s: float = 10.0) -> bool:
    if not pid:
        return True
    try:
        os.kill(pid, signum)
    except ProcessLookupError:
        return True
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        if not _alive(pid):
            return True
        time.sleep(0.02)
    return False


def _last_line(path: Path) -> str:
    if not path.exists():
        return "no stderr"
    lines = [line for line in path.read_text(errors="replace").splitlines() if line.strip()]
    return lines[-1] if lines else "no stderr"


def _run_bank_command(zygote: Any, env: dict[str, str], args: list[str], errors: Path) -> None:
    """``python -m bank ARGS`` forked by the fork server; waits for it to end."""
    pid = zygote.spawn(env, args, errors)
    deadline = time.monotonic() + 120
    while _alive(pid):
        if time.monotonic() > deadline:
            _signal_and_wait(pid, signal.SIGKILL)
            raise RuntimeError(f"bank {args[0]} did not finish: {_last_line(errors)}")
        time.sleep(0.02)


@dataclass
class VisitRecord:
    number: int
    visit: str
    faults: list[str]
    outcome: str
    seconds: float
    violations: list[str] = field(default_factory=list)


class WireChaosRig:
    def __init__(self, root: Path, postgres_url: str, zygote: Any, seed: int, visits: int) -> None:
        from simulators.card_reader import make_server as card_reader_server
        from simulators.pin_pad import make_server as pin_pad_server
        from simulators.printer import make_server as printer_server

        root.mkdir(parents=True)
        self.root = root
        self.seed = seed
        self.rng = random.Random(seed)
        self.data_dir = root / "terminal"
        self.records: list[VisitRecord] = []
        self._order: list[str] = []
        self.problems: list[str] = []
        self.started = time.monotonic()
        self._closers: list[Callable[[], None]] = []
        self.events = LinkEvents()
        # The bank: a fresh database on the suite's PostgreSQL, seeded, this terminal enrolled.
        name = f"chaos_{uuid.uuid4().hex[:10]}"
        self._admin = make_engine(postgres_url)
        with self._admin.connect() as conn:
            conn.execution_options(isolation_level="AUTOCOMMIT").exec_driver_sql(f"CREATE DATABASE {name}")
        self._closers.append(lambda: self._drop_database(name))
        self.database_url = postgres_url.rsplit("/", 1)[0] + f"/{name}"
        keys = root / "bank-keys"
        envs = [self._host_env(i, keys) for i in range(HOSTS)]
        credential = self.data_dir / "host-credential"
        self.data_dir.mkdir()
        _run_bank_command(
            zygote,
            envs[0],
            ["enrol-terminal", TERMINAL_ID, "--credential-file", str(credential), "--rotate", "--test-tmk"],
            root / "enrol.stderr",
        )
        assert credential.exists(), f"enrolment failed: {_last_line(root / 'enrol.stderr')}"
        _run_bank_command(zygote, envs[0], ["bank", "seed"], root / "seed.stderr")
        self.engine = make_engine(self.database_url)
        self._closers.append(self.engine.dispose)
        with self.engine.connect() as conn:
            seeded = conn.execute(text("SELECT count(*) FROM bank_accounts")).scalar_one()
        assert seeded, f"the bank was not seeded: {_last_line(root / 'seed.stderr')}"
        # The hosts and a proxy on each of their links.
        self.hosts = ZygoteHosts(zygote, envs, root)
        self._closers.append(self.hosts.stop_all)
        self.proxies: dict[tuple[int, str], FaultProxy] = {}
        for index in range(HOSTS):
            addresses = self.hosts.start(index)
            for link in LINKS:
                proxy = FaultProxy(addresses[link], name=f"host{index}-{link}")
                self.proxies[index, link] = proxy
                self._closers.append(proxy.close)
        self.faults = fault_schedule(seed, visits, hosts=HOSTS)
        self.driver = FaultDriver(self.faults, self.proxies, self.hosts, HOSTS)
        # The devices.
        cards = [{"pan": c.pan, "name": c.name, "expiry": c.expiry} for c in CARDS]
        self.servers = {
            "card_reader": card_reader_server(seed=seed, cards=cards, bin_capacity=1_000_000),
            "pin_pad": pin_pad_server(seed=seed),
            "printer": printer_server(seed=seed, out_dir=root / "printed", render_png=False),
        }
        for server in self.servers.values():
            server.start()
            self._closers.append(server.close)
        described = {name: server.describe() for name, server in self.servers.items()}
        self.urls = {name: d["url"] for name, d in described.items()}
        self.controls = {name: d["control"] for name, d in described.items()}
        self.retained_at_start = int(self.reader()["retained"])
        self.terminal: dict[str, Any] = {}
        self.queues_left: dict[str, int] = {}
        self.captured = 0
        self.first_recovery: dict[str, Any] = {}
        self.final_recovery: dict[str, Any] = {}

    def _host_env(self, index: int, keys: Path) -> dict[str, str]:
        from app.hostproc import host_environment

        env = host_environment(
            self.root / f"host-{index}",
            self.database_url,
            {"SMART_TELLER_HOST_KEYS_DIR": str(keys), "SMART_TELLER_HOST_HOST_ID": f"HOST-{index + 1}"},
        )
        return env

    def _drop_database(self, name: str) -> None:
        with self._admin.connect() as conn:
            conn.execution_options(isolation_level="AUTOCOMMIT").exec_driver_sql(
                f"DROP DATABASE IF EXISTS {name} WITH (FORCE)"
            )
        self._admin.dispose()

    # -- the terminal -----------------------------------------------------------------------------------
    def settings(self) -> Any:
        from kiosk.settings import load_settings

        (self.root / "none.toml").write_text("", encoding="utf-8")
        os.environ["SMART_TELLER_CONFIG"] = str(self.root / "none.toml")
        return load_settings(
            data_dir=str(self.data_dir),
            kiosk_id=TERMINAL_ID,
            devices={**self.urls, "command_timeout_s": 1.0},
            host={
                "urls": [self.proxies[i, "http"].url for i in range(HOSTS)],
                "iso8583": [self.proxies[i, "iso"].address for i in range(HOSTS)],
                "timeout_s": HOST_TIMEOUT_S,
                "iso8583_timeout_s": ISO_TIMEOUT_S,
                "probe_interval_s": 1.0,
            },
        )

    def start_terminal(self) -> dict[str, Any]:
        """The kiosk's start: services, drivers, start-up recovery; what recovery did."""
        from app.composition import build_devices
        from app.recovery import recover_at_start
        from app.services import TerminalServices

        settings = self.settings()
        services = TerminalServices.start(settings)
        devices = build_devices(settings)
        devices.start()
        recovery = recover_at_start(services, devices)
        kiosk = HeadlessKiosk(services, devices, journey_context={"session_config": QUICK_SESSION})
        self.terminal = {"services": services, "devices": devices, "kiosk": kiosk}
        return {
            "suspects": [s.event for s in recovery.report.suspects],
            "resolved": [[s.event, r.result] for s, r in recovery.report.resolved],
            "failed": len(recovery.report.failed),
            "swept": dict(recovery.swept),
        }

    def stop_terminal(self) -> None:
        terminal, self.terminal = self.terminal, {}
        if not terminal:
            return
        terminal["kiosk"].close()
        terminal["services"].close()
        terminal["devices"].close()

    # -- the run ----------------------------------------------------------------------------------------
    def run(self, visits: int) -> None:
        loggers = [logging.getLogger(name) for name in ("kiosk", "app")]
        levels = [logger.level for logger in loggers]
        trail = logging.FileHandler(self.root / "terminal.log", encoding="utf-8")
        trail.setFormatter(logging.Formatter("%(asctime)s %(name)s %(levelname)s %(message)s"))
        trail.setLevel(logging.INFO)
        for logger in loggers:
            logger.addHandler(self.events)
            logger.addHandler(trail)
            logger.setLevel(logging.INFO)
        try:
            self.first_recovery = self.start_terminal()
            customer = Customer(self.terminal["kiosk"], self.controls)
            for number in range(visits):
                self.records.append(self._visit(customer, number))
            self.driver.heal()
            self.stop_terminal()
            # The terminal starts again on a healthy wire: its recovery settles what the chaos left open.
            self.final_recovery = self.start_terminal()
            self._deliver_queues()
            self.stop_terminal()
        finally:
            for logger, level in zip(loggers, levels, strict=True):
                logger.removeHandler(self.events)
                logger.removeHandler(trail)
                logger.setLevel(level)
            trail.close()
            self.stop_terminal()
        self.problems += [f"fault driver: {e}" for e in self.driver.errors]
        self.problems += self.check()

    def _visit(self, customer: Customer, number: int) -> VisitRecord:
        if not self._order:  # every kind of visit in each round, in a seeded order
            self._order = sorted(CHAOS_VISITS)
            self.rng.shuffle(self._order)
        name = self._order.pop()
        logging.getLogger("app.wire_chaos").warning("visit %d (%s) starts", number, name)
        started = time.monotonic()
        outcome = "?"
        violations: list[str] = []
        with self.driver.visit(number) as faults:
            try:
                outcome = customer.visit(CHAOS_VISITS[name], timeout=VISIT_TIMEOUT_S).status
            except HeadlessTimeout as exc:
                outcome = "stuck"
                violations.append(f"the visit did not end: {exc}")
                self.terminal["kiosk"].runner.abort("the visit did not end")
        reader = self.reader()
        if reader["media"] != "none":
            violations.append(f"a card is in the reader after the visit ({reader['media']})")
        record = VisitRecord(
            number, name, [f.describe() for f in faults], outcome, time.monotonic() - started
        )
        record.violations = [f"seed {self.seed} visit {number} ({name}): {v}" for v in violations]
        self.problems += record.violations
        with open(self.root / "visits.jsonl", "a", encoding="utf-8") as handle:  # what a failure replays
            handle.write(json.dumps({**record.__dict__, "link_events": dict(self.events.counts)}) + "\n")
        return record

    def _deliver_queues(self, timeout_s: float = 90.0) -> None:
        """The restarted terminal's card link delivers what is queued (it does so on its own every few
        seconds; this only waits, and asks once more, until nothing waits or the limit passes)."""
        link = self.terminal["services"].cardlink
        deadline = time.monotonic() + timeout_s
        while link.pending_reversals() or link.pending_advices():
            if time.monotonic() > deadline:
                break
            link.send_pending_reversals()
            link.send_pending_advices()
            if link.pending_reversals() or link.pending_advices():
                time.sleep(0.5)
        self.queues_left = {
            "reversals": len(link.pending_reversals()),
            "advices": len(link.pending_advices()),
        }

    # -- the checks, from the outside -------------------------------------------------------------------
    def reader(self) -> dict[str, Any]:
        state = ControlClient(self.controls["card_reader"]).call("state")
        assert isinstance(state, dict)
        return state

    def journal_records(self) -> list[dict[str, Any]]:
        path = self.data_dir / "journal" / "journal.jsonl"
        return [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines()]

    def check(self) -> list[str]:
        problems = journal_and_ledger_problems(self.data_dir / "journal" / "journal.jsonl", self.engine)
        records = self.journal_records()
        outcomes = final_outcomes(records)
        # Reversals and advices: every one the terminal queued was answered.
        if any(self.queues_left.values()):
            problems.append(f"the card link still waits to deliver {self.queues_left}")
        # Cards: none in the reader; every one the reader kept is a journaled capture.
        reader = self.reader()
        if reader["media"] != "none":
            problems.append(f"a card is still in the reader ({reader['media']})")
        captures = sum(
            1
            for r in records
            if (r["kind"] == "intent" and r["event"] == "card_capture" and _result(outcomes, r) == "success")
            or (
                r["event"] in ("suspect_resolved", "card_found_at_start")
                and r["fields"].get("result") == "card_captured"
            )
        )
        retained = int(reader["retained"]) - self.retained_at_start
        if retained != captures:
            problems.append(f"the retain bin holds {retained} cards, the journal names {captures} captures")
        self.captured = retained
        return problems

    # -- the figures ------------------------------------------------------------------------------------
    def summary(self) -> dict[str, Any]:
        records = self.journal_records()
        outcomes: dict[int, dict[str, Any]] = {}
        for r in records:
            if r["kind"] == "outcome" and r["ref"] is not None:
                outcomes.setdefault(r["ref"], r)
        transfers = Counter(
            f"{r['fields'].get('kind', 'transfer')}:{_result(outcomes, r)}"
            for r in records
            if r["kind"] == "intent" and r["event"] == "transfer"
        )
        resolved_later = Counter(
            str(r["fields"].get("result"))
            for r in records
            if r["event"] == "suspect_resolved" and r.get("ref") is not None
        )
        pin_changes = Counter(
            r["event"]
            for r in records
            if r["event"] in ("pin_changed", "pin_change_unconfirmed", "pin_change_refused")
        )
        proxy_counts: Counter[str] = Counter()
        for proxy in self.proxies.values():
            proxy_counts.update({k: v for k, v in proxy.counts.items() if not k.startswith("bytes")})
        return {
            "seed": self.seed,
            "visits": len(self.records),
            "visits_by_kind": dict(Counter(r.visit for r in self.records)),
            "outcomes": dict(Counter(r.outcome for r in self.records)),
            "faults_injected": dict(self.driver.injected),
            "faults_scheduled": len(self.faults),
            "proxy": dict(proxy_counts),
            "host_starts": sum(self.hosts.starts.values()),
            "recovered": {
                **dict(self.events.counts),
                "transfers_by_result": dict(transfers),
                "pin_changes": dict(pin_changes),
                "unconfirmed_then_resolved_at_restart": dict(resolved_later),
                "first_start": self.first_recovery,
                "restart": self.final_recovery,
                "cards_captured": self.captured,
            },
            "seconds": round(time.monotonic() - self.started, 1),
            "slowest_visit_s": round(max((r.seconds for r in self.records), default=0.0), 1),
        }

    def close(self) -> None:
        self.stop_terminal()
        for closer in reversed(self._closers):
            try:
                closer()
            except Exception as exc:
                self.problems.append(f"closing: {type(exc).__name__}: {exc}")


def _result(outcomes: Mapping[int, dict[str, Any]], intent: dict[str, Any]) -> str | None:
    outcome = outcomes.get(intent["seq"])
    return None if outcome is None else outcome["fields"].get("result")


@pytest.fixture
def wire_chaos(
    tmp_path: Path, postgres_url: str, host_zygote: Any
) -> Iterator[Callable[[int, int], WireChaosRig]]:
    rigs: list[WireChaosRig] = []

    def make(seed: int, visits: int) -> WireChaosRig:
        rig = WireChaosRig(tmp_path / f"rig{len(rigs)}", postgres_url, host_zygote, seed, visits)
        rigs.append(rig)
        return rig

    saved = os.environ.get("SMART_TELLER_CONFIG")
    try:
        yield make
    finally:
        for rig in rigs:
            rig.close()
        if saved is None:
            os.environ.pop("SMART_TELLER_CONFIG", None)
        else:
            os.environ["SMART_TELLER_CONFIG"] = saved
