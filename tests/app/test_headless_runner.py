"""The Qt-free runner: real journeys, real effect handlers, real drivers against in-process simulators."""

from __future__ import annotations

import json
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from app.composition import build_devices
from app.headless_runner import (
    CHEN_JIE,
    LI_NA,
    QUICK_SESSION,
    VISITS,
    WANG_FANG,
    Customer,
    HeadlessKiosk,
)
from app.recovery import recover_at_start
from app.services import TerminalServices
from devices.simcontrol import ControlClient
from kiosk.settings import load_settings


@pytest.fixture
def rig(tmp_path: Path, monkeypatch: pytest.MonkeyPatch, bank_host: Any) -> Iterator[dict[str, Any]]:
    from simulators.card_dispenser import make_server as dispenser_server
    from simulators.card_reader import make_server as reader_server
    from simulators.pin_pad import make_server as pad_server
    from simulators.printer import make_server as printer_server

    cards = [{"pan": c.pan, "name": c.name, "expiry": c.expiry} for c in (WANG_FANG, LI_NA, CHEN_JIE)]
    servers = {
        "card_reader": reader_server(seed=0, cards=cards),
        "pin_pad": pad_server(seed=0),
        "printer": printer_server(seed=0, out_dir=tmp_path / "printed", render_png=False),
        "card_dispenser": dispenser_server(stock=5),
    }
    started = []
    try:
        for server in servers.values():
            server.start()
            started.append(server)
        described = {name: server.describe() for name, server in servers.items()}
        monkeypatch.setenv("SMART_TELLER_CONFIG", str(tmp_path / "none.toml"))
        (tmp_path / "none.toml").write_text("", encoding="utf-8")
        settings = load_settings(
            data_dir=str(tmp_path / "data"),
            devices={**{n: d["url"] for n, d in described.items()}, "command_timeout_s": 1.0},
            host={"urls": [bank_host.url], "iso8583": [bank_host.process.iso8583]},
        )
        bank_host.install_credential(tmp_path / "data")
        services = TerminalServices.start(settings)
        devices = build_devices(settings)
        devices.start()
        kiosk = HeadlessKiosk(services, devices, journey_context={"session_config": QUICK_SESSION})
        yield {
            "kiosk": kiosk,
            "services": services,
            "devices": devices,
            "customer": Customer(kiosk, {n: d["control"] for n, d in described.items()}),
            "servers": servers,
            "bank_host": bank_host,
        }
        kiosk.close()
        devices.close()
        services.close()
    finally:
        for server in started:
            server.close()


def ctl(rig: dict[str, Any], device: str, cmd: str, **args: Any) -> Any:
    return ControlClient(rig["servers"][device].describe()["control"]).call(cmd, **args)


def journal(services: TerminalServices) -> list[dict[str, Any]]:
    return [json.loads(line) for line in services.journal.export()]


def test_the_headless_runner_needs_no_qt() -> None:
    assert not any(name.startswith("PySide6") for name in sys.modules if "headless" in name)
    import subprocess

    code = "import sys, app.headless_runner; print(any(m.startswith('PySide6') for m in sys.modules))"
    done = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, check=True, timeout=60
    )
    assert done.stdout.strip() == "False"


def test_a_transfer_visit_posts_once_with_its_intent_and_outcome_journaled(rig: dict[str, Any]) -> None:
    services: TerminalServices = rig["services"]
    outcome = rig["customer"].visit(VISITS["transfer_customer"])
    assert outcome.status == "completed"
    records = journal(services)
    intents = [r for r in records if r["kind"] == "intent"]
    assert [r["event"] for r in intents] == ["transfer", "print", "card_eject"]
    key = intents[0]["fields"]["idempotency_key"]
    assert rig["bank_host"].inspect().ledger.replay(key) is not None
    outcomes = {r["ref"]: r["fields"] for r in records if r["kind"] == "outcome"}
    assert all(outcomes[i["seq"]]["result"] == "success" for i in intents)
    assert outcomes[intents[0]["seq"]]["detail"].startswith("TR")  # the reference the customer saw
    assert [r["event"] for r in records if r["event"].startswith("session_")] == [
        "session_started",
        "session_ended",
    ]
    assert services.journal.suspects() == []


def test_three_wrong_pins_capture_the_card(rig: dict[str, Any]) -> None:
    outcome = rig["customer"].visit(VISITS["wrong_pin_retained"])
    assert outcome.status == "retained"
    assert ctl(rig, "card_reader", "state")["retained"] == 1


def test_start_up_recovery_captures_cards_left_with_no_open_intent(rig: dict[str, Any]) -> None:
    # A card the reader drew in (waiting for its PIN when the kiosk died).
    waiting = rig["devices"].card_reader.wait_for_card(5.0)
    ctl(rig, "card_reader", "insert_card", pan=WANG_FANG.pan, name=WANG_FANG.name, expiry=WANG_FANG.expiry)
    assert waiting.result(timeout=5).ok
    # A blank card moved to the encoder, as a crash mid-dispense leaves it.
    assert rig["devices"].card_dispenser.move_to_encoder().result(timeout=5).ok
    recovery = recover_at_start(rig["services"], rig["devices"])
    assert recovery.swept == {"card_reader": "card_captured", "card_dispenser": "card_captured"}
    assert recovery.cards_captured == 2
    assert ctl(rig, "card_reader", "state")["media"] == "none"
    assert ctl(rig, "card_dispenser", "state")["position"] == "none"
    found = [r["fields"] for r in journal(rig["services"]) if r["event"] == "card_found_at_start"]
    assert found == [
        {"device": "card_reader", "result": "card_captured"},
        {"device": "card_dispenser", "result": "card_captured"},
    ]


def test_a_card_held_at_the_shutter_when_the_kiosk_died_is_drawn_in_and_captured(
    rig: dict[str, Any],
) -> None:
    # The kiosk died mid-session: the customer had pushed the card at the still-closed shutter. The
    # reader's status cannot see it; the next session's shutter would draw it in as the next customer's.
    services = rig["services"]
    services.journal.record("session_started", session_id="S-DIED", service="insert_card")
    ctl(rig, "card_reader", "insert_card", pan=LI_NA.pan, name=LI_NA.name, expiry=LI_NA.expiry)
    assert ctl(rig, "card_reader", "state")["offered"] is not None
    recovery = recover_at_start(services, rig["devices"], draw_in_s=0.5)
    assert recovery.swept == {"card_reader": "card_captured"}
    assert recovery.drawn_in == 1 and recovery.interrupted == ["S-DIED"]
    state = ctl(rig, "card_reader", "state")
    assert state["offered"] is None and state["media"] == "none" and state["retained"] == 1
    records = journal(services)
    assert {"device": "card_reader", "result": "card_captured"} in [
        r["fields"] for r in records if r["event"] == "card_found_at_start"
    ]
    assert [r["fields"] for r in records if r["event"] == "session_ended"] == [{"outcome": "interrupted"}]
    # The next customer's own card goes in (the slot is free) and the visit completes.
    assert rig["customer"].visit(VISITS["balance_receipt"]).status == "completed"
    # Closed once: a later start does not open the shutter again.
    assert recover_at_start(services, rig["devices"]).interrupted == []


def test_without_an_interrupted_session_start_up_does_not_open_the_shutter(rig: dict[str, Any]) -> None:
    ctl(rig, "card_reader", "insert_card", pan=LI_NA.pan, name=LI_NA.name, expiry=LI_NA.expiry)
    recovery = recover_at_start(rig["services"], rig["devices"], draw_in_s=0.5)
    assert recovery.swept == {} and recovery.drawn_in == 0
    assert ctl(rig, "card_reader", "state")["offered"] is not None  # a customer's, not the kiosk's


def test_a_crash_while_a_new_card_was_being_captured_is_resolved_at_the_dispenser(
    rig: dict[str, Any],
) -> None:
    # Account opening: the new card was not taken, its capture journaled as intent, then the kiosk died.
    services = rig["services"]
    intent = services.journal.intent("dispense_card_capture", session_id="S-OPEN", reason="not_taken")
    assert rig["devices"].card_dispenser.move_to_encoder().result(timeout=5).ok
    recovery = recover_at_start(services, rig["devices"])
    assert [(s.event, r.result) for s, r in recovery.report.resolved] == [
        ("dispense_card_capture", "card_captured")
    ]
    assert ctl(rig, "card_dispenser", "state")["position"] == "none"
    outcome = [r for r in journal(services) if r["kind"] == "outcome" and r["ref"] == intent]
    assert outcome[0]["event"] == "suspect_resolved" and outcome[0]["fields"]["result"] == "card_captured"


def test_a_refused_transfer_is_journaled_as_refused_not_as_success(rig: dict[str, Any]) -> None:
    services: TerminalServices = rig["services"]
    outcome = rig["customer"].visit(VISITS["transfer_refused"])
    assert outcome.status == "completed"  # the customer read the refusal and went on
    records = journal(services)
    [intent] = [r for r in records if r["event"] == "transfer" and r["kind"] == "intent"]
    [result] = [r["fields"] for r in records if r["kind"] == "outcome" and r["ref"] == intent["seq"]]
    assert result["result"] == "refused" and result["detail"]
    assert rig["bank_host"].inspect().ledger.replay(intent["fields"]["idempotency_key"]) is None
