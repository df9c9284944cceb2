"""The kiosk window: attract → language → menu, idle timeout, rendering in both languages."""

from __future__ import annotations

from collections.abc import Callable, Iterator, Mapping
from pathlib import Path
from typing import Any

import pytest
from PySide6.QtCore import QPoint, QSize, Qt
from PySide6.QtWidgets import QApplication
from pytestqt.qtbot import QtBot

from devices.base import DeviceEvent, DeviceState, DeviceStatus
from kiosk.i18n import tr
from kiosk.settings import Settings, load_settings
from tests.screen_audit import Finding, audit_widget
from ui.app import KioskWindow, render_offscreen
from ui.screens.base import Navigation

from .conftest import distinct_colours  # type: ignore[import-not-found]


@pytest.fixture
def window(qtbot: QtBot, themed: QApplication, kiosk_settings: Settings) -> Iterator[KioskWindow]:
    win = KioskWindow(kiosk_settings, lang="en", idle_timeout_s=0.8, idle_warning_s=0.4)
    qtbot.addWidget(win)
    win.resize(1280, 800)
    win.show()
    yield win
    win.shutdown()


def click(qtbot: QtBot, widget: Any) -> None:
    qtbot.mouseClick(widget, Qt.MouseButton.LeftButton)


def test_attract_to_language_to_menu_in_chinese(qtbot: QtBot, window: KioskWindow) -> None:
    assert window.current_state() == "attract"
    click(qtbot, window.attract)
    assert window.current_state() == "language"
    click(qtbot, window.language_screen.buttons["zh_CN"])
    assert window.current_state() == "menu"
    assert window.lang == "zh_CN"
    assert window.menu.buttons["insert_card"].title() == "插入银行卡"
    assert window.menu.buttons["help"].title() == "帮助"
    window.navigation.back()
    assert window.current_state() == "language"


def test_a_service_without_a_journey_explains_itself_and_a_registered_one_starts(
    qtbot: QtBot, window: KioskWindow
) -> None:
    window.show_state("menu")
    click(qtbot, window.menu.buttons["open_account"])
    assert window.current_state() == "message"
    assert window.message.panel().title() == tr("menu.unavailable.title", "en")
    click(qtbot, window.message.findChildren(type(window.menu.buttons["help"]))[0])
    assert window.current_state() == "menu"

    started: list[Mapping[str, Any]] = []
    window.register_journey("insert_card", lambda win, ctx: started.append(ctx))
    # A card pushed into the reader while the menu shows starts the card journey too.
    window.menu.on_device_event(DeviceEvent("card_reader", "card_inserted"))
    assert started == [{"service": "insert_card", "lang": "en"}]


def test_services_whose_devices_are_not_configured_are_greyed_out(
    qtbot: QtBot, themed: QApplication, tmp_path: Path
) -> None:
    settings = load_settings(data_dir=str(tmp_path), devices={"card_reader": "socket://127.0.0.1:9"})
    win = KioskWindow(settings, lang="en")
    qtbot.addWidget(win)
    assert not win.menu.buttons["insert_card"].isEnabled()  # also needs the PIN pad
    assert win.menu.buttons["insert_card"].hint() == tr("menu.unavailable", "en")
    win.shutdown()


class SwitchableDevice:
    """A driver whose state the test sets: what the adapter polls and hears."""

    def __init__(self, name: str) -> None:
        self.name = name
        self.state = DeviceState.ONLINE
        self._callbacks: list[Callable[[DeviceEvent], None]] = []

    def subscribe(self, callback: Callable[[DeviceEvent], None]) -> Callable[[], None]:
        self._callbacks.append(callback)
        return lambda: self._callbacks.remove(callback)

    def status(self) -> DeviceStatus:
        return DeviceStatus(self.name, self.state)

    def set(self, state: DeviceState) -> None:
        self.state = state
        for callback in list(self._callbacks):
            callback(DeviceEvent(self.name, "state_changed", {"state": str(state)}))


def test_a_service_whose_device_is_down_is_unavailable_and_with_none_left_the_kiosk_is_out_of_service(
    qtbot: QtBot, window: KioskWindow
) -> None:
    devices = {name: SwitchableDevice(name) for name in ("card_reader", "pin_pad", "camera", "id_reader")}
    devices["card_dispenser"] = SwitchableDevice("card_dispenser")
    for name, device in devices.items():
        window.attach_device(name, device)
    window.show_state("menu")
    assert window.menu.buttons["insert_card"].isEnabled()
    devices["card_reader"].set(DeviceState.HARDWARE_ERROR)  # a jam
    qtbot.waitUntil(lambda: not window.menu.buttons["insert_card"].isEnabled(), timeout=5000)
    assert window.menu.buttons["insert_card"].hint() == tr("menu.temporarily_unavailable", "en")
    assert window.menu.buttons["face_login"].isEnabled() and window.current_state() == "menu"
    # A user error (paper out, a card left in the slot) is not a device down.
    devices["pin_pad"].set(DeviceState.USER_ERROR)
    qtbot.wait(100)
    assert window.menu.buttons["face_login"].isEnabled()
    # The camera goes too: face login and account opening wait; nothing banking is left to offer.
    devices["camera"].set(DeviceState.OFFLINE)
    qtbot.waitUntil(lambda: window.current_state() == "out_of_service", timeout=5000)
    assert window.out_of_service.reason == "devices_down"
    # Back by itself when one service can be offered again.
    devices["camera"].set(DeviceState.ONLINE)
    qtbot.waitUntil(lambda: window.current_state() == "attract", timeout=5000)
    assert (
        window.menu.buttons["face_login"].isEnabled() and not window.menu.buttons["insert_card"].isEnabled()
    )
    devices["card_reader"].set(DeviceState.ONLINE)
    qtbot.waitUntil(lambda: window.menu.buttons["insert_card"].isEnabled(), timeout=5000)
    assert window.menu.buttons["insert_card"].hint() == tr("menu.insert_card.hint", "en")


def test_idle_timeout_shows_the_countdown_then_returns_to_attract(qtbot: QtBot, window: KioskWindow) -> None:
    click(qtbot, window.attract)
    click(qtbot, window.language_screen.buttons["zh_CN"])
    assert window.idle.is_active()
    with qtbot.waitSignal(window.idle.warningShown, timeout=2000):
        pass
    assert window.banner.isVisible() and "秒后将返回首页" in window.banner.text()
    with qtbot.waitSignal(window.sessionEnded, timeout=2000) as ended:
        pass
    assert ended.args == ["idle"]
    assert window.current_state() == "attract" and window.lang == "en"
    assert not window.banner.isVisible() and not window.idle.is_active()
    assert window.navigation.history == []


def test_new_idle_limits_restart_the_quiet_period_at_their_length(qtbot: QtBot, window: KioskWindow) -> None:
    click(qtbot, window.attract)
    window.idle.set_timeouts(60, 10)  # what the elderly or assisted mode asks for: far longer than 0.8 s
    with qtbot.assertNotEmitted(window.idle.warningShown, wait=1000):
        pass
    assert (window.idle.timeout_s, window.idle.warning_s) == (60, 10)
    window.idle.set_timeouts(0.4, 0.4)  # a warning as long as the timeout is halved, not shown at once
    assert window.idle.warning_s == 0.2 and not window.idle.warning_visible()
    with qtbot.waitSignal(window.idle.warningShown, timeout=1000):
        pass


def test_a_touch_resets_the_idle_countdown(qtbot: QtBot, window: KioskWindow) -> None:
    click(qtbot, window.attract)
    with qtbot.waitSignal(window.idle.warningShown, timeout=2000):
        pass
    qtbot.mouseClick(window.language_screen, Qt.MouseButton.LeftButton, pos=QPoint(600, 600))
    assert not window.banner.isVisible()
    assert window.current_state() == "language"


def test_maintenance_gesture_and_shortcut(qtbot: QtBot, window: KioskWindow) -> None:
    window.attract.gesture._timer.setInterval(100)
    with qtbot.waitSignal(window.maintenanceRequested, timeout=2000):
        qtbot.mousePress(window.attract, Qt.MouseButton.LeftButton, pos=QPoint(20, 20))
    qtbot.mouseRelease(window.attract, Qt.MouseButton.LeftButton, pos=QPoint(20, 20))
    assert window.current_state() == "attract"  # the hold did not start a session
    # A short tap elsewhere starts normally.
    qtbot.mouseClick(window.attract, Qt.MouseButton.LeftButton, pos=QPoint(640, 400))
    assert window.current_state() == "language"


def test_navigation_is_plain_python() -> None:
    seen: list[str] = []
    nav = Navigation({"a": {"next": "b"}, "b": {"next": "c"}}, start="a")
    nav.subscribe(lambda state, ctx: seen.append(state))
    assert nav.go("next") == "b" and nav.go("next") == "c"
    assert nav.go("nowhere") is None and nav.current == "c"
    assert nav.back() == "b" and nav.history == ["a"]
    nav.reset()
    assert nav.current == "a" and nav.history == [] and seen == ["b", "c", "b", "a"]


@pytest.mark.parametrize("lang", ["en", "zh_CN"])
def test_every_screen_renders_in_both_languages(window: KioskWindow, tmp_path: Path, lang: str) -> None:
    window.set_language(lang)
    contexts = {
        "message": {"kind": "error", "body_key": "message.error.body"},
        "out_of_service": {"reason": "database unreachable"},
    }
    findings: list[Finding] = []
    for name in window.stack.names():
        window.show_state(name, contexts.get(name, {}))
        path = render_offscreen(window, tmp_path / f"{name}_{lang}.png", QSize(1280, 800))
        assert distinct_colours(path) > 8, f"{path.name} looks blank"
        screen = window.stack.screen(name)
        texts = [label.text() for label in screen.findChildren(type(window.attract._hint)) if label.text()]
        assert texts, f"{name} shows no text"
        assert not [t for t in texts if "." in t and t == t.lower() and " " not in t and "." in t[1:-1]], (
            f"{name} shows a raw catalogue key"
        )
        findings += audit_widget(name, screen, lang=lang)
    # Text readable on its background (WCAG AA) and, in Chinese, no English left on screen.
    assert [str(f) for f in findings] == [], "\n".join(str(f) for f in findings)
