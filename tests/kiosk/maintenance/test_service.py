"""The Qt-free maintenance service and its state file, with plain fakes for the devices (this layer never
imports drivers; the drivers themselves are exercised against the simulators in tests/ui/maintenance)."""

from __future__ import annotations

import json
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from argon2 import PasswordHasher
from sqlalchemy.orm import Session, sessionmaker

from bank.db.engine import make_engine, session_factory
from bank.db.migrate import upgrade
from bank.security.techs import TechnicianService
from hostlink.technicians import Role, TechSession
from kiosk.journal import Journal
from kiosk.maintenance import MaintenanceService, MaintenanceStore, describe_device
from kiosk.maintenance.service import tail_file
from kiosk.maintenance.store import UNREADABLE_REASON
from kiosk.settings import SecuritySettings, Settings


@dataclass(frozen=True)
class FakeResult:
    code: str
    value: Any = None
    detail: str = ""

    @property
    def ok(self) -> bool:
        return self.code == "success"


@dataclass
class Done:
    outcome: FakeResult

    def result(self, timeout: float | None = None) -> FakeResult:
        return self.outcome


@dataclass(frozen=True)
class FakeStatus:
    state: str
    detail: dict[str, Any]
    last_error: str | None = None


@dataclass
class FakeReader:
    """A card reader as far as maintenance sees it: a retain counter that the bin's removal resets."""

    retained: int = 4
    counter_after_reset: int = 0
    jammed: bool = False
    calls: list[str] = field(default_factory=list)

    def status(self) -> FakeStatus:
        return FakeStatus("online", {"retained": self.retained, "jammed": self.jammed, "media": "none"})

    def reset(self) -> Done:
        self.calls.append("reset")
        self.retained = self.counter_after_reset
        return Done(FakeResult("success", "FW"))


class Clock:
    def __init__(self) -> None:
        self.now = datetime(2026, 5, 1, 9, 0, tzinfo=UTC)

    def __call__(self) -> datetime:
        return self.now


@pytest.fixture
def sessions(tmp_path: Path) -> Iterator[sessionmaker[Session]]:
    engine = make_engine(f"sqlite:///{tmp_path / 'bank.db'}")
    upgrade(engine)
    yield session_factory(engine)
    engine.dispose()


@pytest.fixture
def journal(tmp_path: Path) -> Iterator[Journal]:
    with Journal(tmp_path / "journal", "KIOSK-0001") as j:
        yield j


def make_service(
    tmp_path: Path, sessions: sessionmaker[Session], journal: Journal, clock: Clock, **devices: Any
) -> MaintenanceService:
    settings = Settings(data_dir=tmp_path / "data")
    # cheap argon2 parameters: these tests are about maintenance, not password hashing cost
    techs = TechnicianService(
        sessions,
        SecuritySettings(),
        clock=clock,
        journal=journal,
        hasher=PasswordHasher(time_cost=1, memory_cost=1024, parallelism=1),
    )
    store = MaintenanceStore(tmp_path / "data" / "maintenance", clock=clock)
    return MaintenanceService(journal, techs, store, devices, settings, log_file=tmp_path / "app.log")


def session(role: Role, clock: Clock, username: str = "tina") -> TechSession:
    return TechSession(username, role, timedelta(minutes=15), clock(), clock)


def events(journal: Journal, name: str) -> list[dict[str, Any]]:
    return [{"kind": r.kind, **r.fields} for r in journal.records() if r.event == name]


def test_retain_bin_reconciliation_verdicts(
    tmp_path: Path, sessions: sessionmaker[Session], journal: Journal
) -> None:
    clock = Clock()
    reader = FakeReader(retained=4)
    service = make_service(tmp_path, sessions, journal, clock, card_reader=reader)
    tech = session(Role.TECHNICIAN, clock)

    ok = service.empty_retain_bin(tech, counted=4)
    assert (ok.ok, ok.code, ok.data["expected"], ok.data["device_after"]) == (True, "success", 4, 0)

    reader.retained = 5
    short = service.empty_retain_bin(tech, counted=3)
    assert (short.ok, short.code, short.data["difference"]) == (False, "mismatch", -2)
    [mismatch] = events(journal, "retain_bin_mismatch")
    assert (mismatch["expected"], mismatch["counted"], mismatch["technician"]) == (5, 3, "tina")

    reader.retained, reader.counter_after_reset = 2, 2  # cards counted right, but the bin was not reseated
    stuck = service.empty_retain_bin(tech, counted=2)
    assert stuck.code == "bin_not_reset" and not stuck.ok

    assert service.empty_retain_bin(tech, counted=-1).code == "invalid_input"
    assert service.empty_retain_bin(tech, counted=1000).code == "invalid_input"
    assert reader.calls == ["reset"] * 3  # bad counts never touch the device
    verdicts = [r["verdict"] for r in service.store.records("retain_bin_emptied")]
    assert verdicts == ["success", "mismatch", "bin_not_reset"]
    assert service.store.totals()["cards_removed_from_bin"] == 9
    # every device action is an intent before and an outcome after, both naming the technician
    kinds = [(e["kind"], e["technician"]) for e in events(journal, "maintenance_empty_retain_bin")]
    assert kinds == [("intent", "tina")] * 3
    assert [e["result"] for e in events(journal, "maintenance_empty_retain_bin_outcome")] == [
        "success",
        "mismatch",
        "bin_not_reset",
    ]


def test_roles_and_expiry_gate_every_action(
    tmp_path: Path, sessions: sessionmaker[Session], journal: Journal
) -> None:
    clock = Clock()
    service = make_service(tmp_path, sessions, journal, clock, card_reader=FakeReader())
    tech, boss = session(Role.TECHNICIAN, clock), session(Role.SUPERVISOR, clock, "sam")
    assert service.set_out_of_service(tech, True, "x").code == "refused"
    assert service.add_technician(tech, "newbie", "long-enough-9", "technician").code == "refused"
    assert service.export_journal(tech, None, None, tmp_path).code == "refused"
    assert service.set_out_of_service(boss, True, "  cash   module\nopen ").ok
    assert service.out_of_service().reason == "cash module open"  # one tidy line
    clock.now += timedelta(minutes=16)  # the supervisor walked away
    late = service.set_out_of_service(boss, False)
    assert late.code == "session_expired" and service.out_of_service().active
    refusals = [(e["technician"], e["action"], e["because"]) for e in events(journal, "maintenance_refused")]
    assert refusals == [
        ("tina", "out_of_service_on", "role"),
        ("tina", "add_technician", "role"),
        ("tina", "export_journal", "role"),
        ("sam", "out_of_service_off", "expired"),
    ]


def test_unconfigured_or_incapable_devices_answer_unsupported(
    tmp_path: Path, sessions: sessionmaker[Session], journal: Journal
) -> None:
    clock = Clock()
    service = make_service(tmp_path, sessions, journal, clock, card_reader=FakeReader())
    tech = session(Role.TECHNICIAN, clock)
    assert service.print_test(tech, object()).code == "unsupported"  # no printer configured
    assert service.self_test(tech, "card_reader").code == "unsupported"  # the fake has no self_test
    assert service.clear_card(tech, "camera").code == "unsupported"
    assert events(journal, "maintenance_print_test") == []  # nothing was attempted, so no intent


def test_export_needs_a_mounted_folder_and_never_overwrites(
    tmp_path: Path, sessions: sessionmaker[Session], journal: Journal
) -> None:
    clock = Clock()
    service = make_service(tmp_path, sessions, journal, clock)
    boss = session(Role.SUPERVISOR, clock, "sam")
    for n in range(4):
        journal.record("transfer_posted", n=n)
    assert service.export_journal(boss, 1, 2, tmp_path / "no-usb").code == "invalid_input"
    usb = tmp_path / "usb"
    usb.mkdir()
    done = service.export_journal(boss, 2, 3, usb)
    assert done.ok and done.data["records"] == 2
    lines = Path(done.data["path"]).read_text().splitlines()
    assert [json.loads(line)["seq"] for line in lines] == [2, 3]
    [outcome] = events(journal, "maintenance_export_journal_outcome")
    assert outcome["records"] == 2 and outcome["technician"] == "sam"


def test_first_supervisor_only_on_an_empty_terminal(
    tmp_path: Path, sessions: sessionmaker[Session], journal: Journal
) -> None:
    service = make_service(tmp_path, sessions, journal, Clock())
    assert service.needs_first_supervisor()
    assert service.create_first_supervisor("chief", "short").code == "invalid_input"
    assert service.create_first_supervisor("chief", "long-enough-9").ok
    assert service.create_first_supervisor("second", "long-enough-9").code == "refused"
    assert [a.username for a in service.techs.accounts()] == ["chief"]


def test_state_file_survives_restarts_and_a_damaged_one_closes_the_terminal(tmp_path: Path) -> None:
    folder = tmp_path / "maintenance"
    store = MaintenanceStore(folder)
    store.set_out_of_service(True, "printer broken", "sam")
    for n in range(205):
        store.add_record("paper_loaded", "tina", n=n)
    again = MaintenanceStore(folder)
    assert again.out_of_service().active and again.out_of_service().reason == "printer broken"
    assert len(again.records()) == 200 and again.records()[0]["n"] == 5  # the oldest are dropped
    assert oct(store.path.stat().st_mode & 0o777) == "0o600"
    store.path.write_text('{"out_of_service": ', encoding="utf-8")  # torn by a crash, or tampered
    damaged = MaintenanceStore(folder)
    state = damaged.out_of_service()
    assert state.active and state.reason == UNREADABLE_REASON
    assert any(p.name.startswith("state.json.unreadable-") for p in folder.iterdir())  # kept as evidence


def test_log_tail_is_redacted_and_describe_survives_a_broken_driver(tmp_path: Path) -> None:
    log_file = tmp_path / "app.log"
    log_file.write_text("".join(f"line {n}\n" for n in range(50)) + "pan 6217001234567890123 seen\n")
    tail = tail_file(log_file, 3)
    assert tail[:2] == ["line 48", "line 49"] and "6217001234567890123" not in tail[2]
    assert tail_file(tmp_path / "missing.log", 3) == []

    class Broken:
        url = "socket://127.0.0.1:9"

        def status(self) -> FakeStatus:
            raise RuntimeError("driver bug")

    assert describe_device("printer", Broken())["state"] == "hardware_error"
    entry = describe_device("card_reader", FakeReader(retained=7), {"cards_removed_from_bin": 12})
    assert entry["counters"] == {"retained": 7, "cards_removed_from_bin": 12}
