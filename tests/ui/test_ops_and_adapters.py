"""Background ops deliver on the GUI thread and are joined; adapters hop driver events to the GUI thread."""

from __future__ import annotations

import threading
import time

import pytest
from PySide6.QtWidgets import QApplication, QWidget
from pytestqt.qtbot import QtBot

from devices.base import DeviceEvent, DeviceLinkError, DeviceState, DriverBase, Result
from ui.adapters import DeviceAdapter, operation_done
from ui.ops import OpRegistry, run_in_background
from ui.widgets.busy import BusyOverlay


class LoopbackDriver(DriverBase):
    """A real DriverBase with an in-memory "device": its I/O thread emits the events."""

    device_class = "card_reader"
    plugged = True

    def _connect(self) -> None:
        if not self.plugged:
            raise ConnectionRefusedError("unplugged")

    def _disconnect(self) -> None:
        pass

    def insert_card(self) -> None:
        def job(token: object) -> Result[None]:
            self._emit("card_inserted", track="masked")
            return Result.success()

        self.submit("insert", job)


@pytest.fixture
def registry() -> OpRegistry:
    ops = OpRegistry(max_threads=2)
    yield ops
    ops.shutdown(5000)


def test_success_is_delivered_on_the_gui_thread(
    qtbot: QtBot, qapp: QApplication, registry: OpRegistry
) -> None:
    gui = threading.get_ident()
    worker_threads: list[int] = []
    delivered: list[tuple[int, int]] = []

    def work() -> int:
        worker_threads.append(threading.get_ident())
        return 42

    op = run_in_background(
        None, work, lambda v: delivered.append((v, threading.get_ident())), registry=registry
    )
    qtbot.waitUntil(op.done, timeout=3000)
    assert delivered == [(42, gui)]
    assert worker_threads and worker_threads[0] != gui
    assert registry.running() == []


def test_failure_goes_to_on_failure_not_on_success(qtbot: QtBot, registry: OpRegistry) -> None:
    errors: list[BaseException] = []

    def broken() -> None:
        raise ValueError("database down")

    op = run_in_background(
        None, broken, lambda _: pytest.fail("must not succeed"), errors.append, registry=registry
    )
    qtbot.waitUntil(op.done, timeout=3000)
    assert [str(e) for e in errors] == ["database down"]


def test_shutdown_joins_running_work_and_drops_late_callbacks(qtbot: QtBot) -> None:
    registry = OpRegistry(max_threads=2)
    release = threading.Event()
    finished: list[str] = []
    called: list[str] = []

    def slow() -> str:
        release.wait(2)
        finished.append("work")
        return "late"

    run_in_background(None, slow, called.append, registry=registry)
    threading.Timer(0.2, release.set).start()
    assert registry.shutdown(5000) is True  # waited for the work
    assert finished == ["work"]
    QApplication.processEvents()
    assert called == []  # the window is closing: no callback into dead screens


def test_a_destroyed_parent_gets_no_callback(qtbot: QtBot, registry: OpRegistry) -> None:
    parent = QWidget()
    release = threading.Event()
    called: list[object] = []
    op = run_in_background(parent, lambda: release.wait(2), called.append, registry=registry)
    parent.deleteLater()
    QApplication.processEvents()
    release.set()
    qtbot.waitUntil(op.done, timeout=3000)
    assert called == []


def test_busy_overlay_counts_the_op(qtbot: QtBot, registry: OpRegistry) -> None:
    host = QWidget()
    qtbot.addWidget(host)
    busy = BusyOverlay(host, show_after_ms=10_000)
    release = threading.Event()
    op = run_in_background(host, lambda: release.wait(2), lambda _: None, busy=busy, registry=registry)
    assert busy.active()
    release.set()
    qtbot.waitUntil(op.done, timeout=3000)
    assert not busy.active()


def test_adapter_reemits_driver_events_on_the_gui_thread(qtbot: QtBot) -> None:
    driver = LoopbackDriver("loop://")
    driver.start()
    adapter = DeviceAdapter(driver, poll_ms=0)
    try:
        qtbot.waitUntil(
            lambda: adapter.status() is not None and adapter.status().state is DeviceState.ONLINE,
            timeout=3000,
        )
        received: list[tuple[DeviceEvent, int]] = []
        adapter.deviceEvent.connect(lambda e: received.append((e, threading.get_ident())))
        driver.insert_card()
        qtbot.waitUntil(lambda: any(e.kind == "card_inserted" for e, _ in received), timeout=3000)
        event, thread = next((e, t) for e, t in received if e.kind == "card_inserted")
        assert thread == threading.get_ident()
        assert event.device == "card_reader" and event.data == {"track": "masked"}
    finally:
        adapter.close()
        driver.close()


def test_adapter_status_changed_when_the_driver_goes_offline(qtbot: QtBot) -> None:
    driver = LoopbackDriver("loop://")
    driver.start()
    adapter = DeviceAdapter(driver, poll_ms=0)
    try:
        qtbot.waitUntil(
            lambda: adapter.status() is not None and adapter.status().state is DeviceState.ONLINE,
            timeout=3000,
        )

        def unplug(token: object) -> Result[None]:
            driver.plugged = False
            raise DeviceLinkError("cable pulled")

        with qtbot.waitSignal(adapter.statusChanged, timeout=3000) as blocker:
            driver.submit("unplug", unplug)
        assert blocker.args[0].state is DeviceState.OFFLINE
    finally:
        adapter.close()
        driver.close()


def test_operation_done_calls_back_on_the_gui_thread(qtbot: QtBot) -> None:
    driver = LoopbackDriver("loop://")
    driver.start()
    try:

        def job(token: object) -> Result[str]:
            time.sleep(0.05)
            return Result.success("ejected")

        results: list[tuple[Result[str], int]] = []
        op = driver.submit("eject", job)
        operation_done(op, lambda r: results.append((r, threading.get_ident())))
        qtbot.waitUntil(lambda: bool(results), timeout=3000)
        assert results[0][0].value == "ejected" and results[0][1] == threading.get_ident()
        # An operation already finished still calls back, later, on the GUI thread.
        late: list[Result[str]] = []
        operation_done(op, late.append)
        assert late == []
        qtbot.waitUntil(lambda: bool(late), timeout=3000)
    finally:
        driver.close()
