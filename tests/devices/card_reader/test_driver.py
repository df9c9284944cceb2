"""Card reader driver against the real simulator over loopback: every command and every fault."""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable, Iterator
from typing import Any

import pytest

from devices.base import Completion, DeviceEvent, DeviceState
from devices.card_reader.driver import CardReaderDriver
from devices.simcontrol import ControlClient
from simulators.base import DeviceServer
from simulators.card_reader import make_server

PAN = "6217001234567894"


def wait_until(predicate: Callable[[], bool], timeout: float = 5.0) -> bool:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if predicate():
            return True
        time.sleep(0.02)
    return predicate()


class Rig:
    def __init__(self, server: DeviceServer, driver: CardReaderDriver) -> None:
        self.server = server
        self.driver = driver
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
    made: list[tuple[DeviceServer, CardReaderDriver]] = []

    def factory(idle_poll_interval: float = 0.1, **server_kw: Any) -> Rig:
        server = make_server(seed=7, cards=[{"pan": PAN, "name": "ZHANG/WEI"}], **server_kw).start()
        driver = CardReaderDriver(server.url, ack_timeout=0.3, idle_poll_interval=idle_poll_interval)
        driver.reconnect_interval = 0.1
        made.append((server, driver))
        driver.start()
        assert wait_until(lambda: driver.status().state is DeviceState.ONLINE)
        return Rig(server, driver)

    yield factory
    for server, driver in made:
        driver.close()
        server.close()


def insert_when_permitted(rig: Rig, **card: Any) -> None:
    rig.ctl.call("insert_card", **(card or {"pan": PAN}))


def test_connects_and_reports_identity(make_rig: Callable[..., Rig]) -> None:
    rig = make_rig()
    info = rig.driver.info()
    assert info.firmware == "SIM-ICT3Q8 1.0" and info.capabilities["retain_bin"] is True
    detail = rig.driver.status().detail
    assert detail["media"] == "none" and detail["retained"] == 0 and detail["bin_full"] is False


def test_wait_for_card_insert_read_eject_taken(make_rig: Callable[..., Rig]) -> None:
    rig = make_rig()
    op = rig.driver.wait_for_card(5)
    assert not op.done()  # the caller is never blocked
    insert_when_permitted(rig)  # offered at the shutter; drawn in once the driver permits entry
    result = op.result(5)
    assert result.ok and result.value == "inside"
    assert "card_inserted" in rig.kinds()
    assert rig.sim()["entry_permitted"] is False  # the shutter is closed again

    read = rig.driver.read_tracks((1, 2)).result(5)
    assert read.ok and read.value is not None
    assert read.value.pan == PAN and read.value.track1 is not None and read.value.track1.name == "ZHANG/WEI"
    assert read.value.track2 is not None and read.value.track2.expiry == "2912"
    assert PAN not in repr(read.value)

    eject = rig.driver.eject(5)
    assert wait_until(lambda: rig.sim()["media"] == "at_gate")
    assert wait_until(lambda: rig.driver.status().detail["media"] == "at_gate")
    rig.ctl.call("take_card")
    taken = eject.result(5)
    assert taken.ok and taken.value is True
    assert "media_taken" in rig.kinds()


def test_wait_for_card_timeout_and_cancel(make_rig: Callable[..., Rig]) -> None:
    rig = make_rig()
    result = rig.driver.wait_for_card(0.3).result(5)
    assert result.code is Completion.TIMEOUT
    op = rig.driver.wait_for_card(30)
    assert wait_until(lambda: rig.sim()["entry_permitted"] is True)
    started = time.monotonic()
    op.cancel()
    result = op.result(5)
    assert result.code is Completion.CANCELLED
    assert time.monotonic() - started < 1.0  # cancel is honoured promptly (target ~0.2 s)
    assert wait_until(lambda: rig.sim()["entry_permitted"] is False)


def test_read_tracks_faults(make_rig: Callable[..., Rig]) -> None:
    rig = make_rig()
    assert rig.driver.read_tracks().result(5).code is Completion.NO_MEDIA
    rig.ctl.call("insert_card", pan=PAN, damaged_track=1)
    assert rig.driver.wait_for_card(5).result(5).ok
    partial = rig.driver.read_tracks((1, 2)).result(5)
    assert partial.ok and partial.value is not None
    assert partial.value.unreadable == (1,) and partial.value.track2 is not None
    assert rig.driver.capture().result(5).ok
    rig.ctl.call("insert_card", pan=PAN, damaged_track=[1, 2])
    assert rig.driver.wait_for_card(5).result(5).ok
    none = rig.driver.read_tracks((1, 2)).result(5)
    assert none.code is Completion.INVALID_DATA and none.value is not None and none.value.pan is None
    assert rig.driver.read_tracks((4,)).result(5).code is Completion.INVALID_DATA


def test_eject_not_taken_times_out_and_can_retain(make_rig: Callable[..., Rig]) -> None:
    rig = make_rig()
    insert_when_permitted(rig)
    assert rig.driver.wait_for_card(5).result(5).ok
    result = rig.driver.eject(0.3).result(5)
    assert result.code is Completion.TIMEOUT and result.value is False
    assert rig.sim()["media"] == "at_gate"
    # still at the gate: ejecting again and not taking it, this time retained
    result = rig.driver.eject(0.2, capture_if_not_taken=True).result(5)
    assert result.code is Completion.TIMEOUT and "retained" in result.detail
    assert rig.sim()["retained"] == 1 and rig.driver.status().detail["retained"] == 1
    assert rig.driver.eject(1).result(5).code is Completion.NO_MEDIA


def test_eject_wait_is_cancellable(make_rig: Callable[..., Rig]) -> None:
    rig = make_rig()
    insert_when_permitted(rig)
    assert rig.driver.wait_for_card(5).result(5).ok
    op = rig.driver.eject(30)
    assert wait_until(lambda: rig.sim()["media"] == "at_gate")
    op.cancel()
    result = op.result(2)
    assert result.code is Completion.CANCELLED and result.value is False


def test_capture_counts_and_bin_full(make_rig: Callable[..., Rig]) -> None:
    rig = make_rig(bin_capacity=2)
    for expected in (1, 2):
        insert_when_permitted(rig)
        assert rig.driver.wait_for_card(5).result(5).ok
        captured = rig.driver.capture().result(5)
        assert captured.ok and captured.value == expected
    assert "card_captured" in rig.kinds()
    assert wait_until(lambda: rig.driver.status().detail["bin_full"] is True)
    assert "retain_bin_full" in rig.kinds()
    insert_when_permitted(rig)
    assert rig.driver.wait_for_card(5).result(5).ok
    full = rig.driver.capture().result(5)
    assert full.code is Completion.BIN_FULL
    assert rig.sim()["media"] == "inside"  # nothing lost: the card is still in the reader
    rig.ctl.call("empty_bin")
    assert rig.driver.capture().result(5).ok


def test_bin_full_control(make_rig: Callable[..., Rig]) -> None:
    rig = make_rig()
    rig.ctl.call("bin_full")
    assert wait_until(lambda: rig.driver.status().detail["bin_full"] is True)
    insert_when_permitted(rig)
    assert rig.driver.wait_for_card(5).result(5).ok
    assert rig.driver.capture().result(5).code is Completion.BIN_FULL


def test_jam_is_hardware_error_until_cleared(make_rig: Callable[..., Rig]) -> None:
    rig = make_rig()
    insert_when_permitted(rig)
    assert rig.driver.wait_for_card(5).result(5).ok
    rig.ctl.call("jam")
    result = rig.driver.eject(1).result(5)
    assert result.code is Completion.MEDIA_JAMMED
    assert rig.driver.status().state is DeviceState.HARDWARE_ERROR
    assert "jam" in rig.kinds()
    assert rig.driver.read_tracks().result(5).code is Completion.MEDIA_JAMMED
    assert rig.driver.wait_for_card(1).result(5).code is Completion.MEDIA_JAMMED
    rig.ctl.call("clear_faults")
    assert wait_until(lambda: rig.driver.status().state is DeviceState.ONLINE)
    assert rig.driver.capture().result(5).ok


def test_nak_is_resent_at_most_three_times(make_rig: Callable[..., Rig]) -> None:
    rig = make_rig(idle_poll_interval=60)  # no idle polls: every frame below is ours
    before = rig.sim()["frames_received"]
    rig.ctl.call("nak", count=3)
    assert rig.driver.reset().result(5).ok
    assert rig.sim()["frames_received"] - before == 4 + 1  # 3 NAKed + the good one + reset's C10

    before = rig.sim()["frames_received"]
    rig.ctl.call("nak", count=4)
    failed = rig.driver.reset().result(5)
    assert failed.code is Completion.HARDWARE_ERROR and "NAK" in failed.detail
    assert rig.sim()["frames_received"] - before == 4  # the first send plus three resends, no more
    assert rig.driver.status().state is DeviceState.ONLINE  # a refused command is not a lost link
    assert rig.driver.reset().result(5).ok


def test_garbage_reply_is_logged_and_the_link_recovers(
    make_rig: Callable[..., Rig], caplog: pytest.LogCaptureFixture
) -> None:
    rig = make_rig(idle_poll_interval=60)
    rig.ctl.call("garbage", count=1)
    with caplog.at_level(logging.WARNING):
        assert rig.driver.reset().result(5).ok
    assert any("garbage" in r.getMessage() or "reply" in r.getMessage() for r in caplog.records)
    rig.ctl.call("garbage", count=10)
    assert rig.driver.reset().result(5).code is Completion.HARDWARE_ERROR
    rig.ctl.call("clear_faults")
    assert rig.driver.reset().result(5).ok


def test_link_drop_goes_offline_and_reconnects(make_rig: Callable[..., Rig]) -> None:
    rig = make_rig()
    rig.ctl.call("unplug")
    assert wait_until(lambda: rig.driver.status().state is DeviceState.OFFLINE)
    assert rig.driver.wait_for_card(1).result(5).code is Completion.OFFLINE
    rig.ctl.call("plug")
    assert wait_until(lambda: rig.driver.status().state is DeviceState.ONLINE, timeout=8)
    assert rig.driver.reset().result(5).ok
    kinds = rig.kinds()
    assert kinds.count("state_changed") >= 2


def test_silent_device_goes_offline_then_recovers(make_rig: Callable[..., Rig]) -> None:
    rig = make_rig()
    rig.ctl.call("silent", on=True)
    assert wait_until(lambda: rig.driver.status().state is DeviceState.OFFLINE)
    assert "no ACK" in (rig.driver.status().last_error or "")
    rig.ctl.call("silent", on=False)
    assert wait_until(lambda: rig.driver.status().state is DeviceState.ONLINE, timeout=8)


def test_card_taken_at_gate_is_noticed_while_idle(make_rig: Callable[..., Rig]) -> None:
    rig = make_rig()
    insert_when_permitted(rig)
    assert rig.driver.wait_for_card(5).result(5).ok
    assert rig.driver.eject(0.1).result(5).code is Completion.TIMEOUT
    rig.ctl.call("take_card")
    assert wait_until(lambda: "media_taken" in rig.kinds())
    assert rig.driver.status().detail["media"] == "none"


def test_driver_not_started_or_closed_answers_offline() -> None:
    driver = CardReaderDriver("socket://127.0.0.1:9")
    assert driver.wait_for_card(1).result(1).code is Completion.OFFLINE
