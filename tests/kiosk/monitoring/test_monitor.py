"""Security monitor: journal records and device events in, feed and threshold alerts out."""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from kiosk.journal import Journal
from kiosk.monitoring import MonitorThresholds, SecurityMonitor
from kiosk.monitoring.monitor import JournalFollower


class Clock:
    def __init__(self) -> None:
        self.now = datetime(2026, 3, 10, 2, 0, tzinfo=UTC)

    def __call__(self) -> datetime:
        return self.now


@dataclass(frozen=True)
class DeviceEvent:  # the shape of devices.base.DeviceEvent (kiosk may not import devices)
    device: str
    kind: str
    data: dict[str, Any] = field(default_factory=dict)


def wrong_pin(seq: int, card: str = "621234******1017") -> dict[str, Any]:
    return {"seq": seq, "event": "pin_wrong", "fields": {"pan_masked": card, "tries_left": 1}}


def test_wrong_pins_per_card_and_per_kiosk_raise_alerts_once_until_acknowledged(tmp_path: Path) -> None:
    clock = Clock()
    with Journal(tmp_path / "journal", "K1") as journal:
        monitor = SecurityMonitor(MonitorThresholds(wrong_pins_per_kiosk=4), journal=journal, clock=clock)
        seen: list[tuple[str, Any]] = []
        monitor.subscribe(lambda kind, item: seen.append((kind, item)))
        monitor.observe_journal(wrong_pin(1))
        monitor.observe_journal(wrong_pin(2))
        assert monitor.alerts() == []
        monitor.observe_journal(wrong_pin(3))
        [card_alert] = monitor.alerts()
        assert (card_alert.rule, card_alert.subject, card_alert.count) == (
            "wrong_pins_card",
            "621234******1017",
            3,
        )
        monitor.observe_journal(wrong_pin(3))  # the same record again (a re-read) counts once
        monitor.observe_journal(wrong_pin(4))  # still active: no second card alert; kiosk total is 4
        assert [a.rule for a in monitor.alerts()] == ["wrong_pins_card", "wrong_pins_kiosk"]
        assert monitor.acknowledge(card_alert.alert_id, "sue")
        assert not monitor.acknowledge(card_alert.alert_id, "sue")
        assert [a.rule for a in monitor.alerts()] == ["wrong_pins_kiosk"]
        assert [e.category for e in monitor.feed()] == ["wrong_pin"] * 4
        assert [kind for kind, _ in seen].count("alert") == 2 and ("ack", card_alert) in seen
        events = [r.event for r in journal.records()]
        assert events == ["security_alert", "security_alert", "security_alert_acknowledged"]


def test_windows_slide() -> None:
    clock = Clock()
    monitor = SecurityMonitor(clock=clock)
    for seq in (1, 2):
        monitor.observe_journal(wrong_pin(seq))
    clock.now += timedelta(hours=25)  # the first two fall out of the 24 h window
    monitor.observe_journal(wrong_pin(3))
    assert monitor.alerts() == []


def test_device_events_tamper_at_once_faults_when_repeated() -> None:
    monitor = SecurityMonitor(clock=Clock())
    monitor.observe_device_event(DeviceEvent("pin_pad", "key_pressed", {"key": "*"}))  # not security
    assert monitor.feed() == []
    monitor.observe_device_event(DeviceEvent("pin_pad", "tamper"))
    assert [(a.rule, a.severity, a.subject) for a in monitor.alerts()] == [("tamper", "critical", "pin_pad")]
    monitor.observe_device_event(DeviceEvent("printer", "state_changed", {"state": "online"}))
    monitor.observe_device_event(
        DeviceEvent("printer", "state_changed", {"state": "hardware_error", "error": "x"})
    )
    monitor.observe_device_event(DeviceEvent("printer", "jam"))
    assert len(monitor.alerts()) == 1
    monitor.observe_device_event(DeviceEvent("printer", "cover_open"))
    assert [a.rule for a in monitor.alerts()] == ["tamper", "device_faults"]
    assert monitor.feed(1)[0].detail == "cover_open"


def test_liveness_failures_and_card_captures() -> None:
    monitor = SecurityMonitor(MonitorThresholds(liveness_failures=2, card_captures=2), clock=Clock())
    monitor.observe_journal({"seq": 1, "event": "face_liveness", "fields": {"passed": True}})
    monitor.observe_journal(
        {"seq": 2, "event": "face_liveness", "fields": {"passed": False, "reason": "no_blink"}}
    )
    monitor.observe_journal(
        {"seq": 3, "event": "face_liveness", "fields": {"passed": False, "reason": "static"}}
    )
    monitor.observe_journal({"seq": 4, "event": "card_retained_pin_tries_exceeded", "fields": {"card_id": 7}})
    monitor.observe_device_event(DeviceEvent("card_reader", "card_captured", {"retained": 2}))
    assert [a.rule for a in monitor.alerts()] == ["liveness_failures", "card_captures"]


def test_the_follower_reads_only_what_was_appended(tmp_path: Path) -> None:
    clock = Clock()
    with Journal(tmp_path / "journal", "K1") as journal:
        journal.record("pin_wrong", pan_masked="621234******4045", tries_left=2)  # before the follower
        monitor = SecurityMonitor(MonitorThresholds(wrong_pins_per_card=2), clock=clock)
        follower = JournalFollower(journal.path, monitor.observe_journal, interval_s=0.05)
        follower.start()
        try:
            journal.record("pin_wrong", pan_masked="621234******4045", tries_left=1)
            journal.record("pin_wrong", pan_masked="621234******4045", tries_left=0)
            deadline = datetime.now() + timedelta(seconds=5)
            while not monitor.alerts() and datetime.now() < deadline:
                follower.poll()
        finally:
            follower.close()
        assert [e.category for e in monitor.feed()] == ["wrong_pin", "wrong_pin"]
        assert monitor.alerts()[0].count == 2
        # A torn last line waits for its newline.
        with open(journal.path, "ab") as handle:
            handle.write(json.dumps({"seq": 99, "event": "pin_wrong", "fields": {}}).encode()[:10])
        assert follower.poll() == 0


def test_a_customer_calling_staff_raises_an_alert_at_once(tmp_path: Path) -> None:
    from bank.alerts.service import StaffAlerts

    clock = Clock()
    with Journal(tmp_path / "journal", "K1") as journal:
        monitor = SecurityMonitor(journal=journal, clock=clock)
        follower = JournalFollower(journal.path, monitor.observe_journal)
        follower.poll()  # history before the follower started is not news
        from bank.db.engine import make_engine
        from bank.db.migrate import upgrade
        from bank.security.vault import Vault, install_vault

        install_vault(Vault.ephemeral())
        engine = make_engine(f"sqlite:///{tmp_path / 'bank.db'}")
        upgrade(engine)
        StaffAlerts(engine, journal, "K1").raise_alert("call_staff", "K1", "S-1")
        follower.poll()
        engine.dispose()
    alerts = [a for a in monitor.alerts() if a.rule == "staff_call"]
    assert len(alerts) == 1 and alerts[0].active
