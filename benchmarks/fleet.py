"""A fleet of terminals on one PostgreSQL: card transactions/s through the host's front door against pgbench
TPC-B on the same server, same durability, same client counts, in the same run.

N simulated terminals (N = 1, 4, 16, 64) each hold one card session and send what a card session sends
over ISO 8583 — the path a terminal uses for a card's balance, transfers and bill payments
(``docs/iso8583.md``, "What stays on the JSON API"): each terminal is enrolled like a real one (its own
terminal ID, its own master key recorded at the host), signs on (key exchange), and MACs every request
and checks every answer's MAC with its own session key (in software with the PIN pad simulator's test key:
no PIN pad process per terminal). The hosts are real ``python -m bank serve`` processes on one PostgreSQL
(``fsync=on``), one or two of them, started as tests/e2e starts a fleet's hosts.

Two mixes, both of one balance enquiry to every money transaction and a half:

- ``realistic``: enquiries 40 %, own transfers 15 %, transfers to another customer 15 %, other-bank
  transfers 15 % (all credit the bank's one clearing account), phone top-ups 15 % (all credit the
  biller's one settlement account): two hot accounts every terminal writes to;
- ``distinct``: enquiries 40 %, own transfers 30 %, transfers to another customer 30 %; every terminal has
  its own payer and its own payee, so no account is written by two terminals.

Reference: ``pgbench`` TPC-B (its default script) with ``-c N -j 2``, scale N, the same duration, on the
same server right before our runs at that N. ``ratio`` = our money transactions/s (transfers and bill
payments approved) ÷ pgbench tps. Both are one durable commit per business transaction to the client, but
ours is several (the duplicate record of the ISO message, the transfer, the bill record).

Terminals are threads in ``client_processes`` client processes (``python -m benchmarks.fleet --client``);
on a 2-core machine the clients' CPU competes with the hosts' and the database's, which the JSON records.
The terminals' own state (STAN, reversal queue — fsynced files) is kept on ``/dev/shm`` when it exists, so
the terminals' fsyncs do not queue on the database's disk (real terminals have their own disks).

While each run lasts, ``pg_stat_activity`` is sampled every 0.1 s (what the database's backends wait on)
and the WAL written is measured with ``pg_current_wal_lsn()``. After all runs the ledger is checked
(``bank.check.check_ledger``).

Settings (environment): ``SMART_TELLER_BENCH_FLEET_SIZES`` (``1,4,16,64``), ``..._SECONDS`` (10; quick 3),
``..._HOSTS`` (``1,2``), ``..._MIXES`` (``realistic,distinct``), ``..._CLIENTS`` (client processes, 2).
"""

from __future__ import annotations

import json
import os
import random
import re
import shutil
import statistics
import subprocess
import sys
import tempfile
import threading
import time
import uuid
from collections import Counter
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from datetime import date
from pathlib import Path
from typing import Any

ENV = "SMART_TELLER_BENCH_FLEET_"
MIXES: dict[str, list[tuple[str, float]]] = {
    "realistic": [("enquiry", 0.40), ("own", 0.15), ("customer", 0.15), ("other_bank", 0.15), ("bill", 0.15)],
    "distinct": [("enquiry", 0.40), ("own", 0.30), ("customer", 0.30)],
}
MONEY_KINDS = ("own", "customer", "other_bank", "bill")
OTHER_BANK_CODE = "105"
PHONE_TOPUP_MINOR = 2_000
FUNDING_MINOR = 1_000_000_00  # ¥1 M on each account: no terminal runs out within a run


def _env_list(name: str, default: str) -> list[str]:
    return [part.strip() for part in os.environ.get(ENV + name, default).split(",") if part.strip()]


def _percentile(values: Sequence[float], share: float) -> float | None:
    if not values:
        return None
    ordered = sorted(values)
    index = min(len(ordered) - 1, max(0, round(share * (len(ordered) - 1))))
    return round(ordered[index], 2)


# -- the bank: database, terminals, customers ---------------------------------------------------------


def _create_database(admin_url: str, name: str) -> str:
    from bank.db.engine import make_engine

    admin = make_engine(admin_url)
    try:
        with admin.connect() as conn:
            conn.execution_options(isolation_level="AUTOCOMMIT").exec_driver_sql(f"CREATE DATABASE {name}")
    finally:
        admin.dispose()
    return admin_url.rsplit("/", 1)[0] + f"/{name}"


def _drop_database(admin_url: str, name: str) -> None:
    from bank.db.engine import make_engine

    admin = make_engine(admin_url)
    try:
        with admin.connect() as conn:
            conn.execution_options(isolation_level="AUTOCOMMIT").exec_driver_sql(
                f"DROP DATABASE IF EXISTS {name} WITH (FORCE)"
            )
    finally:
        admin.dispose()


def _prepare_bank(root: Path, url: str, count: int) -> tuple[dict[str, str], list[dict[str, Any]]]:
    """Seed the bank, enrol ``count`` terminals (credential and test master key, as ``enrol-terminal
    --test-tmk`` does) and give each terminal a card customer with two funded accounts and a payee customer
    of its own. Returns the hosts' environment and each terminal's session."""
    from sqlalchemy import text
    from sqlalchemy.orm import Session

    from app.hostproc import host_environment, run_host_command
    from bank.host import Host
    from bank.ledger import TransferOutcome, TransferRequest
    from bank.models import (
        Account,
        AccountKind,
        AccountStatus,
        CardStatus,
        Customer,
        InternalAccount,
        TransferKind,
        id_number_lookup_hash,
        new_card,
        phone_lookup_hash,
    )
    from bank.settings import load_host_settings

    keys = root / "bank-keys"
    env = host_environment(root / "host-0", url, {"SMART_TELLER_HOST_KEYS_DIR": str(keys)})
    run_host_command(["bank", "seed"], env)
    host = Host.start(load_host_settings(data_dir=root / "host-0", database_url=url, keys_dir=str(keys)))
    terminals: list[dict[str, Any]] = []
    try:
        tmk = bytes.fromhex(host.settings.security.test_tmk_hex)
        vault = host.vault
        with Session(host.engine) as session:
            for index in range(count):
                terminal_id = f"FLEET-{index:04d}"
                host.registry.enrol(terminal_id, by="bench")
                host.terminal_keys.record_tmk(terminal_id, tmk)
                numbers = [f"000{kind}{index:012d}" for kind in (91, 92, 93)]
                people = []
                for role, accounts in (("payer", numbers[:2]), ("payee", numbers[2:])):
                    serial = 2 * index + (role == "payee")
                    id_number = f"11010119900101{serial:03d}X"
                    phone = f"139{serial:08d}"
                    name = f"Fleet {role} {index:04d}"
                    customer = Customer(
                        name=name,
                        id_type="resident_id",
                        id_number_hash=id_number_lookup_hash(vault, id_number),
                        id_number=id_number,
                        id_expiry=None,
                        birth_date=date(1990, 1, 1),
                        phone=phone,
                        phone_hash=phone_lookup_hash(vault, phone),
                        address="北京市东城区长安街1号",
                        occupation="engineer",
                    )
                    session.add(customer)
                    session.flush()
                    for number, kind in zip(
                        accounts, (AccountKind.CURRENT, AccountKind.SAVINGS), strict=False
                    ):
                        session.add(
                            Account(
                                number=number,
                                customer_id=customer.id,
                                kind=kind.value,
                                status=AccountStatus.ACTIVE.value,
                                currency="CNY",
                                balance_minor=0,
                                pending_debits_minor=0,
                                overdraft_allowed=False,
                                overdraft_limit_minor=0,
                                day_amount_minor=0,
                                day_count=0,
                            )
                        )
                    people.append(name)
                session.flush()
                ids: dict[str, int] = dict(
                    session.execute(
                        text("SELECT number, id FROM bank_accounts WHERE number IN (:a, :b, :c)"),
                        {"a": numbers[0], "b": numbers[1], "c": numbers[2]},
                    ).all()
                )
                pan = f"62129900{index:08d}"
                card = new_card(
                    vault, account_id=ids[numbers[0]], pan=pan, expiry="3012", status=CardStatus.ACTIVE
                )
                card.pvv = "0" * 16  # no PIN is entered: the card session starts after its PIN check
                session.add(card)
                terminals.append(
                    {
                        "terminal_id": terminal_id,
                        "pan": pan,
                        "current": ids[numbers[0]],
                        "savings": ids[numbers[1]],
                        "payee_number": numbers[2],
                        "payee_name": people[1],
                    }
                )
            session.commit()
        funding = host.ledger.internal_account_id(InternalAccount.FUNDING)
        for terminal in terminals:
            for account in ("current", "savings"):
                result = host.ledger.transfer(
                    TransferRequest(
                        idempotency_key=f"fleet-funding:{terminal['terminal_id']}:{account}",
                        kind=TransferKind.FUNDING,
                        debit_account_id=funding,
                        credit_account_id=terminal[account],
                        amount_minor=FUNDING_MINOR,
                        currency="CNY",
                        description="Fleet funding",
                        payee_description="Opening balance",
                        channel="internal",
                    )
                )
                if not isinstance(result, TransferOutcome):
                    raise RuntimeError(f"fleet funding refused: {result.reason}")
        with host.engine.begin() as conn:  # a bench posts thousands of transfers a day per account
            conn.execute(
                text(
                    "UPDATE bank_accounts SET daily_transfer_count_limit = 100000000,"
                    " daily_transfer_limit_minor = 100000000000000"
                )
            )
    finally:
        host.close()
    return env, terminals


@contextmanager
def _hosts(root: Path, env: dict[str, str], count: int) -> Iterator[list[Any]]:
    from app.hostproc import HostProcess, host_environment

    processes: list[Any] = []
    try:
        for index in range(1, count + 1):
            host_env = host_environment(
                root / f"host-{index}",
                env["SMART_TELLER_HOST_DATABASE_URL"],
                {
                    "SMART_TELLER_HOST_KEYS_DIR": env["SMART_TELLER_HOST_KEYS_DIR"],
                    "SMART_TELLER_HOST_HOST_ID": f"HOST-{index}",
                },
            )
            processes.append(HostProcess(host_env, seed=False).start())
        yield processes
    finally:
        for process in processes:
            process.stop()


# -- the terminals (client processes) -----------------------------------------------------------------


def _client_main(spec_file: str) -> int:
    """One client process: its terminals as threads, signed on, then from the shared start time for
    ``seconds``; writes results."""
    from benchmarks.iso8583 import SoftwareSecurity
    from kiosk.cardlink import CardLink, CardLinkError
    from simulators.pin_pad import TEST_TMK

    spec = json.loads(Path(spec_file).read_text())
    mix = MIXES[spec["mix"]]
    kinds, weights = [k for k, _ in mix], [w for _, w in mix]
    latencies: dict[str, list[float]] = {kind: [] for kind in kinds}
    outcomes: Counter[str] = Counter()
    lock = threading.Lock()
    links: list[Any] = []
    for terminal in spec["terminals"]:
        link = CardLink(
            terminal["addresses"],
            terminal["terminal_id"],
            SoftwareSecurity(TEST_TMK),
            Path(spec["state_dir"]) / terminal["terminal_id"],
            timeout_s=60.0,
        )
        link.sign_on()
        links.append(link)
    # Signed on: say so, and wait for the start time every client process shares (the go file).
    Path(spec["out"] + ".ready").write_text("ready")
    go = Path(spec["go"])
    while not go.exists():
        time.sleep(0.01)
    start_at = float(go.read_text())

    def drive(link: Any, terminal: dict[str, Any], seed: int) -> None:
        chooser = random.Random(seed)
        pan, mine = terminal["pan"], (terminal["current"], terminal["savings"])
        flip = 0
        local: dict[str, list[float]] = {kind: [] for kind in kinds}
        seen: Counter[str] = Counter()
        key_prefix = f"{terminal['terminal_id']}:{spec['run']}"
        serial = 0
        stop_at = start_at + spec["seconds"]
        while time.time() < start_at:
            time.sleep(0.001)
        while time.time() < stop_at:
            kind = chooser.choices(kinds, weights)[0]
            serial += 1
            key = f"{key_prefix}:{serial}"
            started = time.perf_counter()
            try:
                if kind == "enquiry":
                    answer = link.balance(pan, "", mine[0])
                elif kind == "own":
                    flip ^= 1
                    answer = link.transfer(
                        pan, "", kind="own", from_account_id=mine[flip], to_account_id=mine[1 - flip],
                        amount_minor=100, idempotency_key=key,
                    )  # fmt: skip
                elif kind == "customer":
                    answer = link.transfer(
                        pan, "", kind="customer", from_account_id=mine[0], amount_minor=100,
                        payee_account=terminal["payee_number"], payee_name=terminal["payee_name"],
                        idempotency_key=key,
                    )  # fmt: skip
                elif kind == "other_bank":
                    answer = link.transfer(
                        pan, "", kind="other_bank", from_account_id=mine[0], amount_minor=100,
                        payee_account="6222020000123456", payee_name="Zhao Lei", bank_code=OTHER_BANK_CODE,
                        idempotency_key=key,
                    )  # fmt: skip
                else:
                    answer = link.pay_bill(
                        pan, "", from_account_id=mine[0], biller="PHONE", number="13912345678",
                        amount_minor=PHONE_TOPUP_MINOR, idempotency_key=key,
                    )  # fmt: skip
            except CardLinkError as exc:
                seen[f"{kind}:link_error:{type(exc).__name__}"] += 1
                continue
            elapsed_ms = (time.perf_counter() - started) * 1000
            if answer.approved:
                local[kind].append(elapsed_ms)
                seen[f"{kind}:approved"] += 1
            else:
                seen[f"{kind}:code_{answer.code}"] += 1
        with lock:
            for name, values in local.items():
                latencies[name].extend(values)
            outcomes.update(seen)

    threads = [
        threading.Thread(target=drive, args=(link, terminal, int(terminal["terminal_id"][-4:])))
        for link, terminal in zip(links, spec["terminals"], strict=True)
    ]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    for link in links:
        link.close()
    Path(spec["out"]).write_text(json.dumps({"latencies_ms": latencies, "outcomes": dict(outcomes)}))
    return 0


class _Sampler:
    """What the database's client backends wait on, sampled every ``interval_s`` (``pg_stat_activity``)."""

    def __init__(self, engine: Any, database: str, interval_s: float = 0.1) -> None:
        self.engine, self.database, self.interval_s = engine, database, interval_s
        self.waits: Counter[str] = Counter()
        self.samples = 0
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True)

    def _run(self) -> None:
        query = (
            "SELECT coalesce(wait_event_type || ':' || wait_event, 'running') FROM pg_stat_activity"
            " WHERE datname = %(db)s AND state = 'active' AND backend_type = 'client backend'"
            " AND pid <> pg_backend_pid()"
        )
        with self.engine.connect() as conn:
            while not self._stop.wait(self.interval_s):
                rows = conn.exec_driver_sql(query, {"db": self.database}).scalars().all()
                conn.rollback()
                self.samples += 1
                self.waits.update(rows)

    def __enter__(self) -> _Sampler:
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._stop.set()
        self._thread.join(timeout=10)

    def summary(self) -> dict[str, Any]:
        """Mean number of active backends in each wait state (0.5 = half of one backend on average)."""
        per_sample = {k: round(v / max(1, self.samples), 2) for k, v in self.waits.most_common(8)}
        return {"samples": self.samples, "active_backends": per_sample}


def _wal_lsn(engine: Any) -> str:
    with engine.connect() as conn:
        return str(conn.exec_driver_sql("SELECT pg_current_wal_lsn()").scalar_one())


def _wal_since(engine: Any, start: str) -> int:
    with engine.connect() as conn:
        query = "SELECT pg_wal_lsn_diff(pg_current_wal_lsn(), %(s)s)"
        return int(conn.exec_driver_sql(query, {"s": start}).scalar_one())


def _run_terminals(
    root: Path,
    terminals: list[dict[str, Any]],
    hosts: list[Any],
    mix: str,
    seconds: float,
    clients: int,
    run_name: str,
) -> tuple[dict[str, list[float]], Counter[str]]:
    memory = Path("/dev/shm")  # noqa: S108 - a private mkdtemp below, on tmpfs: not the database's disk
    state_root = memory if memory.is_dir() else root
    state_dir = Path(tempfile.mkdtemp(prefix="st-fleet-terminals-", dir=state_root))
    processes = max(1, min(clients, len(terminals)))
    specs: list[Path] = []
    children: list[subprocess.Popen[bytes]] = []
    go = root / f"{run_name}.go"
    try:
        for part in range(processes):
            mine = []
            for index, terminal in enumerate(terminals):
                if index % processes != part:
                    continue
                addresses = [h.iso8583 for h in hosts]
                rotated = addresses[index % len(addresses) :] + addresses[: index % len(addresses)]
                mine.append(terminal | {"addresses": rotated})
            spec = {
                "terminals": mine,
                "mix": mix,
                "seconds": seconds,
                "go": str(go),
                "state_dir": str(state_dir),
                "run": run_name,
                "out": str(root / f"{run_name}-{part}.json"),
            }
            path = root / f"{run_name}-{part}.spec.json"
            path.write_text(json.dumps(spec))
            specs.append(path)
            children.append(
                subprocess.Popen([sys.executable, "-m", "benchmarks.fleet", "--client", str(path)])
            )
        ready = [Path(json.loads(path.read_text())["out"] + ".ready") for path in specs]
        deadline = time.monotonic() + 120 + 0.5 * len(terminals)
        while not all(flag.exists() for flag in ready):  # every terminal signed on before the start
            if time.monotonic() > deadline or any(child.poll() is not None for child in children):
                raise RuntimeError("a fleet client process did not get its terminals signed on")
            time.sleep(0.02)
        (go.parent / (go.name + ".tmp")).write_text(str(time.time() + 0.2))
        (go.parent / (go.name + ".tmp")).replace(go)
        for child in children:
            if child.wait(timeout=seconds + 120 + 0.5 * len(terminals)) != 0:
                raise RuntimeError(f"a fleet client process failed (exit {child.returncode})")
    finally:
        for child in children:
            if child.poll() is None:
                child.kill()
                child.wait(10)
        shutil.rmtree(state_dir, ignore_errors=True)
    latencies: dict[str, list[float]] = {}
    outcomes: Counter[str] = Counter()
    for spec_path in specs:
        out = Path(json.loads(spec_path.read_text())["out"])
        result = json.loads(out.read_text())
        for kind, values in result["latencies_ms"].items():
            latencies.setdefault(kind, []).extend(values)
        outcomes.update(result["outcomes"])
    return latencies, outcomes


# -- pgbench ------------------------------------------------------------------------------------------


def _pgbench(admin_url: str, clients: int, seconds: float) -> dict[str, Any]:
    """pgbench TPC-B, ``-c clients -j 2``, scale = clients, on a fresh database of the same server."""
    from sqlalchemy.engine import make_url

    binary = shutil.which("pgbench") or "/usr/bin/pgbench"
    parsed = make_url(admin_url)
    name = f"pgbench_{uuid.uuid4().hex[:8]}"
    _create_database(admin_url, name)
    jobs, duration = min(2, clients), max(1, round(seconds))
    base = [binary, "-h", str(parsed.host), "-p", str(parsed.port), "-U", str(parsed.username or "postgres")]
    try:
        init = subprocess.run(
            [*base, "-i", "-q", "-s", str(clients), name],
            capture_output=True,
            text=True,
            timeout=600,
            check=False,
        )
        if init.returncode != 0:
            raise RuntimeError(f"pgbench -i failed: {init.stderr.strip()[-300:]}")
        done = subprocess.run(
            [
                *base,
                "-c",
                str(clients),
                "-j",
                str(min(2, clients)),
                "-T",
                str(max(1, round(seconds))),
                "-n",
                name,
            ],
            capture_output=True,
            text=True,
            timeout=seconds + 300,
            check=False,
        )
        if done.returncode != 0:
            raise RuntimeError(f"pgbench failed: {done.stderr.strip()[-300:]}")
    finally:
        _drop_database(admin_url, name)
    tps = re.search(r"tps = ([0-9.]+) \(without initial connection time\)", done.stdout)
    latency = re.search(r"latency average = ([0-9.]+) ms", done.stdout)
    if tps is None:
        raise RuntimeError(f"no tps in pgbench's output: {done.stdout[-300:]}")
    return {
        "tps": round(float(tps.group(1)), 1),
        "latency_avg_ms": float(latency.group(1)) if latency else None,
        "command": f"pgbench -c {clients} -j {jobs} -T {duration} -n (scale {clients})",
    }


# -- the measurement ------------------------------------------------------------------------------------


def measure(
    admin_url: str,
    *,
    sizes: Sequence[int],
    seconds: float,
    host_counts: Sequence[int] = (1, 2),
    mixes: Sequence[str] = ("realistic", "distinct"),
    clients: int = 2,
) -> dict[str, Any]:
    """Every (N, hosts, mix) run and pgbench at every N, on the PostgreSQL server of ``admin_url``."""
    from bank.check import check_ledger
    from bank.db.engine import make_engine

    name = f"fleet_{uuid.uuid4().hex[:10]}"
    url = _create_database(admin_url, name)
    runs: list[dict[str, Any]] = []
    references: dict[str, Any] = {}
    root = Path(tempfile.mkdtemp(prefix="st-bench-fleet-"))
    engine = make_engine(url)
    try:
        env, terminals = _prepare_bank(root, url, max(sizes))
        with _hosts(root, env, max(host_counts)) as hosts:
            for size in sizes:
                references[str(size)] = _pgbench(admin_url, size, seconds)
                for host_count in host_counts:
                    for mix in mixes:
                        run_name = f"n{size}-h{host_count}-{mix}"
                        print(f"bench: fleet {run_name} ...", file=sys.stderr, flush=True)
                        wal_start = _wal_lsn(engine)
                        with _Sampler(engine, name) as sampler:
                            latencies, outcomes = _run_terminals(
                                root, terminals[:size], hosts[:host_count], mix, seconds, clients, run_name
                            )
                        wal = _wal_since(engine, wal_start)
                        runs.append(
                            _summarise(size, host_count, mix, seconds, latencies, outcomes, wal, sampler)
                            | {"client_processes": max(1, min(clients, size))}
                        )
        with engine.connect() as conn:
            report = check_ledger(conn)
    finally:
        engine.dispose()
        _drop_database(admin_url, name)
        shutil.rmtree(root, ignore_errors=True)
    for entry in runs:
        reference = references[str(entry["terminals"])]["tps"]
        entry["pgbench_tps"] = reference
        entry["ratio"] = round(entry["money_tps"] / reference, 3) if reference else None
    for entry in runs:
        if entry["mix"] == "realistic":
            twin = next(
                (
                    r
                    for r in runs
                    if r["mix"] == "distinct"
                    and (r["terminals"], r["hosts"]) == (entry["terminals"], entry["hosts"])
                ),
                None,
            )
            if twin and twin["money_tps"]:
                entry["hot_vs_distinct"] = round(entry["money_tps"] / twin["money_tps"], 3)
    return {
        "runs": runs,
        "pgbench": references,
        "seconds": seconds,
        "ledger_check": {
            "ok": report.ok,
            "violations": [f"{v.rule}: {v.detail}" for v in report.violations][:10],
            "counts": report.counts,
        },
        "goals": {
            "ratio_at_64_realistic": 1.0,
            "hot_vs_distinct": 0.8,
            "p99_enquiry_ms": 100,
            "p99_transfer_ms": 250,
        },
        "settings": "PostgreSQL fsync=on, READ COMMITTED, loopback TCP; terminals over ISO 8583",
    }


def _summarise(
    size: int,
    hosts: int,
    mix: str,
    seconds: float,
    latencies: dict[str, list[float]],
    outcomes: Counter[str],
    wal_bytes: int,
    sampler: _Sampler,
) -> dict[str, Any]:
    money = sum(len(latencies.get(kind, [])) for kind in MONEY_KINDS)
    everything = sum(len(values) for values in latencies.values())
    transfers_all = [v for kind in MONEY_KINDS for v in latencies.get(kind, [])]
    return {
        "terminals": size,
        "hosts": hosts,
        "mix": mix,
        "money_tps": round(money / seconds, 1),
        "all_tps": round(everything / seconds, 1),
        "approved": {kind: len(values) for kind, values in latencies.items()},
        "not_approved": {k: v for k, v in outcomes.items() if not k.endswith(":approved")},
        "latency_ms": {
            kind: {"p50": _percentile(values, 0.5), "p99": _percentile(values, 0.99)}
            for kind, values in latencies.items()
        }
        | {"money": {"p50": _percentile(transfers_all, 0.5), "p99": _percentile(transfers_all, 0.99)}},
        "wal_bytes_per_money_tx": round(wal_bytes / money) if money else None,
        "db_waits": sampler.summary(),
    }


def run(quick: bool = False) -> dict[str, Any]:
    from benchmarks._pgserver import ThrowawayPostgres

    sizes = [int(n) for n in _env_list("SIZES", "1,4,16" if quick else "1,4,16,64")]
    seconds = float(os.environ.get(ENV + "SECONDS", "3" if quick else "10"))
    host_counts = [int(n) for n in _env_list("HOSTS", "1,2")]
    mixes = _env_list("MIXES", "realistic,distinct")
    clients = int(os.environ.get(ENV + "CLIENTS", "2"))
    started = time.perf_counter()
    with ThrowawayPostgres(fsync=True, max_connections=250) as server:
        result = measure(
            server.url, sizes=sizes, seconds=seconds, host_counts=host_counts, mixes=mixes, clients=clients
        )
    result["wall_s"] = round(time.perf_counter() - started, 1)
    result["load_average_after"] = [round(x, 2) for x in os.getloadavg()]
    result["median_ratio_realistic"] = _median(
        [r["ratio"] for r in result["runs"] if r["mix"] == "realistic" and r["ratio"] is not None]
    )
    return {"fleet": result}


def _median(values: list[float]) -> float | None:
    return round(statistics.median(values), 3) if values else None


class _IsoAddress:
    def __init__(self, address: str) -> None:
        self.iso8583 = address


def profile_host(terminals: int, seconds: float, mix: str, out: Path) -> dict[str, Any]:
    """Where a host process's time goes: the ISO 8583 front door in this process (the same ``IsoServer``
    and ``IsoHostService`` that ``bank serve`` runs) with a cProfile per connection thread, driven by
    ``terminals`` terminals in one client process; the database's statements from pg_stat_statements.
    Writes the merged profile's top functions and the top statements to ``out`` (text)."""
    import cProfile
    import io
    import pstats

    from bank.host import Host
    from bank.iso8583.server import IsoServer
    from bank.iso8583.service import IsoHostService
    from bank.settings import load_host_settings
    from benchmarks._pgserver import ThrowawayPostgres

    profiles: list[cProfile.Profile] = []
    local = threading.local()
    root = Path(tempfile.mkdtemp(prefix="st-bench-fleet-profile-"))
    options = "-c shared_preload_libraries=pg_stat_statements -c pg_stat_statements.track=all"
    try:
        with ThrowawayPostgres(fsync=True, max_connections=100, options=options) as server:
            url = _create_database(server.url, "fleet_profile")
            env, prepared = _prepare_bank(root, url, terminals)
            settings = load_host_settings(
                data_dir=root / "host-p", database_url=url, keys_dir=env["SMART_TELLER_HOST_KEYS_DIR"]
            )
            host = Host.start(settings)
            handle = IsoHostService(host).handle

            def profiled(message: bytes) -> bytes | None:
                profile = getattr(local, "profile", None)
                if profile is None:
                    profile = local.profile = cProfile.Profile()
                    profiles.append(profile)
                profile.enable()
                try:
                    return handle(message)
                finally:
                    profile.disable()

            iso = IsoServer(profiled).start()
            engine = host.engine
            try:
                with engine.begin() as conn:
                    conn.exec_driver_sql("CREATE EXTENSION IF NOT EXISTS pg_stat_statements")
                    conn.exec_driver_sql("SELECT pg_stat_statements_reset()")
                latencies, outcomes = _run_terminals(
                    root, prepared, [_IsoAddress(iso.url)], mix, seconds, 1, "profile"
                )
                with engine.connect() as conn:
                    statements = conn.exec_driver_sql(
                        "SELECT calls, round(total_exec_time::numeric, 1), round(mean_exec_time::numeric, 3),"
                        " left(regexp_replace(query, '\\s+', ' ', 'g'), 140) FROM pg_stat_statements"
                        " ORDER BY total_exec_time DESC LIMIT 25"
                    ).all()
            finally:
                iso.close()
                host.close()
    finally:
        shutil.rmtree(root, ignore_errors=True)
    text = io.StringIO()
    stats = pstats.Stats(*profiles, stream=text) if profiles else None
    handled = sum(len(v) for v in latencies.values())
    text.write(f"{terminals} terminals, {mix} mix, {seconds} s: {handled} approved, {dict(outcomes)}\n\n")
    if stats is not None:
        stats.sort_stats("cumulative").print_stats(45)
        stats.sort_stats("tottime").print_stats(30)
    text.write("\npg_stat_statements: calls, total ms, mean ms, query\n")
    for row in statements:
        text.write(" | ".join(str(x) for x in row) + "\n")
    out.write_text(text.getvalue())
    return {"approved": handled, "outcomes": dict(outcomes)}


def table(report: dict[str, Any]) -> str:
    """The runs as a Markdown table (docs/bench.md): rates, the pgbench reference, p50/p99 per kind."""
    kinds = ("enquiry", "own", "customer", "other_bank", "bill")
    head = "| N | mix | hosts | ours tx/s | pgbench tps | ratio | hot ÷ distinct | " + " | ".join(
        f"{k} p50/p99 ms" for k in kinds
    )
    lines = [head + " | not answered |", "|" + "---|" * (len(kinds) + 8)]
    for r in report["runs"]:
        cells = []
        for kind in kinds:
            figures = r["latency_ms"].get(kind)
            if figures is None:
                cells.append("—")
            elif figures["p50"] is None:
                cells.append("none approved")
            else:
                cells.append(f"{figures['p50']:.0f} / {figures['p99']:.0f}")
        failed = sum(r["not_approved"].values())
        lines.append(
            f"| {r['terminals']} | {r['mix']} | {r['hosts']} | {r['money_tps']:,} | {r['pgbench_tps']:,} | "
            f"{r['ratio']} | {r.get('hot_vs_distinct', '')} | " + " | ".join(cells) + f" | {failed} |"
        )
    return "\n".join(lines) + "\n"


def chart(report: dict[str, Any], out: Path) -> None:
    """Money transactions/s against N, one line per (mix, hosts), pgbench TPC-B beside it (log-2 N)."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    runs = report["runs"]
    sizes = sorted({r["terminals"] for r in runs})
    figure, axes = plt.subplots(figsize=(8, 5), dpi=110)
    pgbench = [report["pgbench"][str(n)]["tps"] for n in sizes]
    axes.plot(sizes, pgbench, "k--o", label="pgbench TPC-B (-c N -j 2, scale N)")
    styles = {"realistic": "-", "distinct": ":"}
    for mix in sorted({r["mix"] for r in runs}):
        for hosts in sorted({r["hosts"] for r in runs}):
            points = sorted(
                (r["terminals"], r["money_tps"]) for r in runs if (r["mix"], r["hosts"]) == (mix, hosts)
            )
            label = f"ours, {mix} mix, {hosts} host process{'es' if hosts > 1 else ''}"
            axes.plot(
                [x for x, _ in points], [y for _, y in points], styles.get(mix, "-"), marker="s", label=label
            )
    axes.set_xscale("log", base=2)
    axes.set_xticks(sizes, [str(n) for n in sizes])
    axes.set_yscale("log")
    axes.set_xlabel("terminals (pgbench: clients)")
    axes.set_ylabel("money transactions/s (pgbench: tps), log scale")
    axes.set_title("Fleet on one PostgreSQL (fsync=on): card transactions over ISO 8583 vs pgbench")
    axes.grid(True, which="both", alpha=0.3)
    axes.legend(fontsize=8)
    figure.tight_layout()
    figure.savefig(out)
    plt.close(figure)


if __name__ == "__main__":
    if len(sys.argv) == 3 and sys.argv[1] == "--client":
        sys.exit(_client_main(sys.argv[2]))
    if len(sys.argv) == 6 and sys.argv[1] == "--profile":  # --profile TERMINALS SECONDS MIX OUT
        print(profile_host(int(sys.argv[2]), float(sys.argv[3]), sys.argv[4], Path(sys.argv[5])))
        sys.exit(0)
    if len(sys.argv) == 3 and sys.argv[1] == "--table":  # --table bench.json
        print(table(json.loads(Path(sys.argv[2]).read_text())["fleet"]), end="")
        sys.exit(0)
    if len(sys.argv) == 4 and sys.argv[1] == "--chart":  # --chart bench.json docs/bench-fleet.png
        chart(json.loads(Path(sys.argv[2]).read_text())["fleet"], Path(sys.argv[3]))
        sys.exit(0)
    print(json.dumps(run(quick="--quick" in sys.argv), indent=2))
