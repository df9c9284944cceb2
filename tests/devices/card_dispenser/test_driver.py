"""Dispenser driver against the real simulator over loopback: every command and every fault."""

from __future__ import annotations

import threading
import time
from collections.abc import Callable, Iterator
from typing import Any

import pytest

from devices.base import Completion, DeviceEvent, DeviceState
from devices.card_dispenser.driver import CardDispenserDriver
from devices.card_reader.tracks import encode_track2
from devices.simcontrol import ControlClient
from simulators.base import DeviceServer
from simulators.card_dispenser import make_server

PAN = "6217001234567894"
TRACK2 = encode_track2(PAN, "3112", "101", "0000")


def wait_until(predicate: Callable[[], bool], timeout: float = 5.0) -> bool:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if predicate():
            return True
        time.sleep(0.02)
    return predicate()


class Rig:
    def __init__(self, server: DeviceServer, driver: CardDispenserDriver) -> None:
        self.server, self.driver = server, driver
        self.ctl = ControlClient(server.control.address)
        self.events: list[DeviceEvent] = []
        self._lock = threading.Lock()
        driver.subscribe(self._on_event)

    def _on_event(self, event: DeviceEvent) -> None:
        with self._lock:
            self.events.append(event)

    def kinds(self) -> list[str]:
        with self._lock:
            return [e.kind for e in self.events]

    def sim(self) -> dict[str, Any]:
        state: dict[str, Any] = self.ctl.call("state")
        return state


@pytest.fixture
def make_rig() -> Iterator[Callable[..., Rig]]:
    made: list[tuple[DeviceServer, CardDispenserDriver]] = []

    def factory(idle_poll_interval: float = 0.1, **server_kw: Any) -> Rig:
        server = make_server(seed=9, **server_kw).start()
        driver = CardDispenserDriver(server.url, ack_timeout=0.3, idle_poll_interval=idle_poll_interval)
        driver.reconnect_interval = 0.1
        made.append((server, driver))
        driver.start()
        assert wait_until(lambda: driver.status().state is DeviceState.ONLINE)
        return Rig(server, driver)

    yield factory
    for server, driver in made:
        driver.close()
        server.close()


def test_identity_and_status(make_rig: Callable[..., Rig]) -> None:
    rig = make_rig()
    assert rig.driver.info().firmware == "SIM-CRT541 1.0"
    assert wait_until(lambda: rig.driver.status().detail.get("stock") == "ok")
    assert rig.driver.status().detail["position"] == "none"


def test_dispense_end_to_end_and_taken(make_rig: Callable[..., Rig]) -> None:
    rig = make_rig(stock=12, low_threshold=10)
    op = rig.driver.dispense(TRACK2, take_timeout=5)
    assert wait_until(lambda: rig.sim()["position"] == "gate")
    rig.ctl.call("take_card")
    result = op.result(5)
    assert result.ok and result.value is True
    sim = rig.sim()
    assert sim["dispensed"][0]["pan"] == PAN and sim["dispensed"][0]["taken"] is True
    assert sim["stock_count"] == 11
    assert "card_presented" in rig.kinds() and "media_taken" in rig.kinds()


def test_a_card_taken_before_the_first_poll_is_taken_not_missing(make_rig: Callable[..., Rig]) -> None:
    """A quick customer: the card leaves the gate between PRESENT's acknowledgement and the driver's
    first status poll. That is a taken card; calling it "no card at the gate" voided account openings."""
    rig = make_rig()

    def take_at_once(event: DeviceEvent) -> None:
        if event.kind == "card_presented":  # on the driver's I/O thread, before it polls
            rig.ctl.call("take_card")

    rig.driver.subscribe(take_at_once)
    result = rig.driver.dispense(TRACK2, take_timeout=5).result(5)
    assert result.ok and result.value is True, result
    assert rig.sim()["dispensed"][0]["taken"] is True


def test_step_by_step_and_capture(make_rig: Callable[..., Rig]) -> None:
    rig = make_rig()
    assert rig.driver.write_track2(TRACK2).result(5).code is Completion.NO_MEDIA
    assert rig.driver.move_to_encoder().result(5).ok
    assert rig.driver.status().detail["position"] == "encoder"
    assert rig.driver.move_to_encoder().result(5).code is Completion.HARDWARE_ERROR  # occupied
    assert rig.driver.write_track2(TRACK2).result(5).ok
    assert rig.driver.present().result(5).ok
    assert rig.driver.wait_for_take(0.2).result(5).code is Completion.TIMEOUT
    assert rig.driver.capture().result(5).ok
    sim = rig.sim()
    assert sim["reject_count"] == 1 and sim["dispensed"] == [] and sim["position"] == "none"
    assert rig.driver.capture().result(5).code is Completion.NO_MEDIA
    assert rig.driver.wait_for_take(0.2).result(5).code is Completion.NO_MEDIA


def test_bad_track_is_refused_before_the_hardware(make_rig: Callable[..., Rig]) -> None:
    rig = make_rig()
    before = rig.sim()["stock_count"]
    result = rig.driver.dispense(";12345=?0").result(5)
    assert result.code is Completion.INVALID_DATA
    assert rig.sim()["stock_count"] == before  # no card was picked


def test_write_failure_rejects_the_card(make_rig: Callable[..., Rig]) -> None:
    rig = make_rig()
    rig.ctl.call("write_fail")
    result = rig.driver.dispense(TRACK2, take_timeout=1).result(5)
    assert result.code is Completion.HARDWARE_ERROR and "rejected" in result.detail
    sim = rig.sim()
    assert sim["reject_count"] == 1 and sim["position"] == "none" and sim["dispensed"] == []


def test_stock_low_and_empty(make_rig: Callable[..., Rig]) -> None:
    rig = make_rig(stock=2, low_threshold=1)
    assert rig.driver.dispense(TRACK2).result(5).ok
    rig.ctl.call("take_card")
    assert wait_until(lambda: rig.driver.status().detail["stock"] == "low")
    assert "stock_low" in rig.kinds()
    rig.ctl.call("stock_empty")
    assert wait_until(lambda: rig.driver.status().detail["stock"] == "empty")
    assert "stock_empty" in rig.kinds()
    assert rig.driver.dispense(TRACK2).result(5).code is Completion.STOCK_EMPTY


def test_jam_and_bin_full(make_rig: Callable[..., Rig]) -> None:
    rig = make_rig()
    rig.ctl.call("jam")
    assert wait_until(lambda: rig.driver.status().state is DeviceState.HARDWARE_ERROR)
    assert "jam" in rig.kinds()
    assert rig.driver.dispense(TRACK2).result(5).code is Completion.MEDIA_JAMMED
    rig.ctl.call("clear_faults")
    assert wait_until(lambda: rig.driver.status().state is DeviceState.ONLINE)
    rig.ctl.call("bin_full")
    assert rig.driver.move_to_encoder().result(5).ok
    assert rig.driver.capture().result(5).code is Completion.BIN_FULL
    assert rig.sim()["position"] == "encoder"  # nothing lost


def test_dispense_take_wait_cancel(make_rig: Callable[..., Rig]) -> None:
    rig = make_rig()
    op = rig.driver.dispense(TRACK2, take_timeout=30)
    assert wait_until(lambda: rig.sim()["position"] == "gate")
    op.cancel()
    result = op.result(2)
    assert result.code is Completion.CANCELLED and result.value is False


def test_nak_limit_garbage_and_link_faults(make_rig: Callable[..., Rig]) -> None:
    rig = make_rig(idle_poll_interval=60)
    before = rig.sim()["frames_received"]
    rig.ctl.call("nak", count=4)
    assert rig.driver.reset().result(5).code is Completion.HARDWARE_ERROR
    assert rig.sim()["frames_received"] - before == 4
    rig.ctl.call("nak", count=3)
    assert rig.driver.reset().result(5).ok
    rig.ctl.call("garbage", count=1)
    assert rig.driver.reset().result(5).ok
    rig.ctl.call("unplug")
    assert rig.driver.reset().result(5).code is Completion.OFFLINE
    assert rig.driver.status().state is DeviceState.OFFLINE
    rig.ctl.call("plug")
    assert wait_until(lambda: rig.driver.status().state is DeviceState.ONLINE, timeout=8)
    rig.ctl.call("silent", on=True)
    assert rig.driver.reset().result(5).code is Completion.OFFLINE
    rig.ctl.call("silent", on=False)
    assert wait_until(lambda: rig.driver.status().state is DeviceState.ONLINE, timeout=8)
    assert rig.driver.reset().result(5).ok
