"""Crash-recovery harness: kill a kiosk process at seeded points, restart it, check nothing was lost.

A :class:`CrashLane` owns one data dir (kept across all its kills, as a kiosk's disk is), in-process
simulators (card reader, PIN pad, printer) and a fork server (``crash_child.py``). One *kill point* is:

1. a kiosk process starts (recovering whatever the last kill left), then a customer visit runs, armed
   to die by ``SIGKILL`` at a seeded crash point (``SMART_TELLER_CRASH_AT`` semantics via
   :func:`hostlink.chaos.configure`: the n-th pass of a named point) or at a seeded moment (timer);
2. a second process starts in *recover* mode: the kiosk's start-up recovery, nothing else;
3. this process checks the invariants from the outside: the journal verifies and has no open intent;
   the bank check passes; every idempotency key is posted at most once and agrees with what the journal
   says happened to it; every transfer the kiosk made has its journaled intent; a card the kill left in
   the reader was captured, counted by the simulator and journaled.

Which point (name, n) is chosen from the hits the visit passed the last time it ran to the end (the hit
log), so every armed point is one the visit really reaches.
"""

from __future__ import annotations

import json
import os
import random
import subprocess
import sys
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import create_engine

from app.headless_runner import CHEN_JIE, LI_NA, VISITS, WANG_FANG
from devices.simcontrol import ControlClient
from tests.invariants import journal_and_ledger_problems, journal_records

CHILD = Path(__file__).resolve().parent / "crash_child.py"
REPO = Path(__file__).resolve().parents[2]
TIMED_SHARE = 0.2  # of kill points use a timer instead of a named crash point: anywhere, mid-anything


@dataclass
class KillRecord:
    number: int
    visit: str
    crash_at: str | None
    kill_after_s: float | None
    killed: bool
    card_left_in_reader: bool
    recovered: dict[str, Any]
    violations: list[str] = field(default_factory=list)


class CrashLane:
    def __init__(self, root: Path, seed: int) -> None:
        from simulators.card_reader import make_server as card_reader_server
        from simulators.pin_pad import make_server as pin_pad_server
        from simulators.printer import make_server as printer_server

        self.root = root
        self.rng = random.Random(seed)
        self.data_dir = root / "data"
        self.records: list[KillRecord] = []
        self.profiles: dict[str, list[str]] = {}  # visit → crash-point hits of its last full run
        self.durations: dict[str, float] = {}
        self.profile_problems: list[str] = []
        cards = [{"pan": c.pan, "name": c.name, "expiry": c.expiry} for c in (WANG_FANG, LI_NA, CHEN_JIE)]
        self.servers = {
            # A retain bin that never fills: a full bin is its own (tested) fault, not what this measures.
            "card_reader": card_reader_server(seed=seed, cards=cards, bin_capacity=1_000_000),
            "pin_pad": pin_pad_server(seed=seed),
            "printer": printer_server(seed=seed, out_dir=root / "printed", render_png=False),
        }
        self._started: list[Any] = []
        for server in self.servers.values():
            server.start()
            self._started.append(server)
        described = {name: server.describe() for name, server in self.servers.items()}
        self.urls = {name: d["url"] for name, d in described.items()}
        self.controls = {name: d["control"] for name, d in described.items()}
        (root / "none.toml").write_text("", encoding="utf-8")
        env = {k: v for k, v in os.environ.items() if not k.startswith("SMART_TELLER_")}
        env.update(
            SMART_TELLER_CONFIG=str(root / "none.toml"), PYTHONPATH=str(REPO), QT_QPA_PLATFORM="offscreen"
        )
        self.server = subprocess.Popen(
            [sys.executable, str(CHILD)],
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            text=True,
            env=env,
            cwd=str(root),
        )
        assert self.server.stdout is not None
        ready = json.loads(self.server.stdout.readline() or "{}")
        assert ready.get("ready"), "the crash fork server did not start (see its stderr)"
        self._runs = 0
        # The lane's bank host: its own process and data dir, this terminal enrolled with it. It outlives
        # every kiosk the lane kills, as a bank's host outlives a terminal switched off mid-visit.
        from app.hostproc import start_embedded_host

        self.host_dir = root / "host"
        self.host = start_embedded_host(self.host_dir, "KIOSK-0001", self.data_dir / "host-credential")
        self.engine = create_engine(f"sqlite:///{self.host_dir / 'bank.db'}")

    # -- one process ----------------------------------------------------------------------------
    def _process(
        self, mode: str, visits: list[str], **arm: Any
    ) -> tuple[dict[str, Any], list[dict[str, Any]]]:
        assert self.server.stdin is not None and self.server.stdout is not None
        self._runs += 1
        result = self.root / f"run-{self._runs}.jsonl"
        request = {
            "id": self._runs,
            "mode": mode,
            "visits": visits,
            "data_dir": str(self.data_dir),
            "urls": self.urls,
            "host_url": self.host.url,
            "host_iso8583": self.host.iso8583,
            "controls": self.controls,
            "result": str(result),
            "stderr": str(self.root / "children.log"),
            **arm,
        }
        self.server.stdin.write(json.dumps(request) + "\n")
        self.server.stdin.flush()
        reply = json.loads(self.server.stdout.readline())
        lines = result.read_text(encoding="utf-8").splitlines() if result.exists() else []
        result.unlink(missing_ok=True)
        return reply, [json.loads(line) for line in lines]

    def profile(self, visit: str) -> list[str]:
        """Run ``visit`` unarmed to the end and remember the crash points it passes, in order."""
        if visit not in self.profiles:
            hit_log = self.root / "hits.log"
            hit_log.unlink(missing_ok=True)
            reply, results = self._process("run", [visit], hit_log=str(hit_log))
            assert reply["exit"] == 0 and results and results[-1]["phase"] == "done", (
                f"unarmed {visit} run failed: {reply} {results}; see {self.root / 'children.log'}"
            )
            self.profiles[visit] = hit_log.read_text().split() if hit_log.exists() else []
            self.durations[visit] = float(reply["seconds"])
            # An unkilled run leaves everything consistent too.
            self.profile_problems += self.check(f"unarmed {visit}")
        return self.profiles[visit]

    # -- one kill point ---------------------------------------------------------------------------
    def kill_point(self) -> KillRecord:
        visit = self.rng.choice(sorted(VISITS))
        hits = self.profile(visit)
        crash_at: str | None = None
        kill_after: float | None = None
        if not hits or self.rng.random() < TIMED_SHARE:
            kill_after = round(self.rng.uniform(0.05, self.durations[visit] + 0.05), 3)
        else:
            index = self.rng.randrange(len(hits))
            name = hits[index]
            crash_at = f"{name}:{hits[: index + 1].count(name)}"
        arm: dict[str, Any] = {"crash_at": crash_at} if crash_at else {"kill_after_s": kill_after}
        reply, results = self._process("run", [visit], **arm)
        killed = reply["exit"] == -9 and not reply["hung"]
        reader = self.reader_state()
        # In the reader, at its gate, or held at the closed shutter (the customer's hand died with the run).
        left = reader["media"] != "none" or reader.get("offered") is not None
        retained_before = int(reader["retained"])
        journal_len = self._journal_length()
        reply2, recovered = self._process("recover", [])
        record = KillRecord(
            len(self.records) + 1,
            visit,
            crash_at,
            kill_after,
            killed,
            left,
            recovered[0] if recovered else {},
        )
        if reply["hung"]:
            record.violations.append(f"the run hung: {reply}")
        if not killed and reply["exit"] != 0:
            record.violations.append(f"the run failed on its own (exit {reply['exit']}): {results}")
        if reply2["exit"] != 0 or not recovered:
            record.violations.append(f"recovery start failed (exit {reply2['exit']})")
        record.violations += self.check(
            f"kill {record.number}", card_left=left, since_line=journal_len, retained_before=retained_before
        )
        if not killed:  # it ran to the end: its hit log is the freshest profile of this visit
            self.profiles.pop(visit, None)
        self.records.append(record)
        return record

    # -- the invariants ---------------------------------------------------------------------------
    def reader_state(self) -> dict[str, Any]:
        state = ControlClient(self.controls["card_reader"]).call("state")
        assert isinstance(state, dict)
        return state

    def _journal_path(self) -> Path:
        return self.data_dir / "journal" / "journal.jsonl"

    def _journal_length(self) -> int:
        path = self._journal_path()
        return len(path.read_bytes().splitlines()) if path.exists() else 0

    def check(
        self, label: str, *, card_left: bool = False, since_line: int = 0, retained_before: int = 0
    ) -> list[str]:
        path = self._journal_path()
        problems = journal_and_ledger_problems(path, self.engine)
        records = journal_records(path)
        # Cards: none left in the reader; one the kill left behind was captured, counted and journaled.
        reader = self.reader_state()
        if reader["media"] != "none":
            problems.append(f"a card is still in the reader ({reader['media']}) after recovery")
        if reader.get("offered") is not None:
            problems.append("a card is still held at the reader's shutter after recovery")
        if card_left:
            if int(reader["retained"]) != retained_before + 1:
                problems.append(f"retain bin {retained_before} → {reader['retained']}, expected one more")
            since = records[since_line:]
            captured = [
                r
                for r in since
                if r["event"] in ("suspect_resolved", "card_found_at_start")
                and r["fields"].get("result") == "card_captured"
            ]
            if not captured:
                problems.append("the card left in the reader was captured without a journal record")
        return [f"{label}: {p}" for p in problems]

    def close(self) -> None:
        if self.server.stdin is not None:
            self.server.stdin.close()
        try:
            self.server.wait(10)
        except subprocess.TimeoutExpired:
            self.server.kill()
            self.server.wait(5)
        if self.server.stdout is not None:
            self.server.stdout.close()
        self.engine.dispose()
        self.host.stop()
        for server in self._started:
            server.close()


@pytest.fixture
def crash_lanes(tmp_path: Path) -> Iterator[Any]:
    lanes: list[CrashLane] = []

    def make(count: int, seed: int) -> list[CrashLane]:
        for index in range(count):
            root = tmp_path / f"lane{index}"
            root.mkdir()
            lanes.append(CrashLane(root, seed * 1000 + index))
        return lanes

    try:
        yield make
    finally:
        for lane in lanes:
            lane.close()
