"""Touch widgets: keyboard, keypad, PIN dots, countdown and busy overlay, driven as a customer would."""

from __future__ import annotations

import re

from PySide6.QtCore import Qt
from PySide6.QtWidgets import QApplication, QLineEdit, QPushButton, QWidget
from pytestqt.qtbot import QtBot

from devices.base import DeviceEvent
from ui.widgets import BusyOverlay, CountdownBanner, KioskButton, NumericKeypad, OnScreenKeyboard, PinDots
from ui.widgets.keyboard import Layer


def key_button(keyboard: OnScreenKeyboard, label: str) -> QPushButton:
    matches = [b for b in keyboard.findChildren(QPushButton) if b.text() == label and b.isVisibleTo(keyboard)]
    assert matches, f"no visible key {label!r}"
    return matches[0]


def test_keyboard_types_letters_shift_space_and_backspace_into_a_line_edit(
    qtbot: QtBot, themed: QApplication
) -> None:
    edit = QLineEdit()
    keyboard = OnScreenKeyboard("en")
    qtbot.addWidget(edit)
    qtbot.addWidget(keyboard)
    keyboard.set_target(edit)
    keyboard.show()
    qtbot.mouseClick(key_button(keyboard, "⇧"), Qt.MouseButton.LeftButton)
    for label in ("H", "i"):  # shift once: one capital, then lower case again
        qtbot.mouseClick(key_button(keyboard, label), Qt.MouseButton.LeftButton)
    qtbot.mouseClick(key_button(keyboard, "Space"), Qt.MouseButton.LeftButton)
    keyboard.set_layer(Layer.DIGITS)
    for label in ("4", "2", "@"):
        qtbot.mouseClick(key_button(keyboard, label), Qt.MouseButton.LeftButton)
    qtbot.mouseClick(key_button(keyboard, "⌫"), Qt.MouseButton.LeftButton)
    assert edit.text() == "Hi 42"
    with qtbot.waitSignal(keyboard.submitted, timeout=1000):
        qtbot.mouseClick(key_button(keyboard, "Done"), Qt.MouseButton.LeftButton)


def test_keyboard_respects_the_line_edits_max_length(qtbot: QtBot, themed: QApplication) -> None:
    edit = QLineEdit()
    edit.setMaxLength(3)
    keyboard = OnScreenKeyboard("en")
    qtbot.addWidget(keyboard)
    keyboard.set_target(edit)
    for char in "abcdef":
        keyboard.press(char)
    assert edit.text() == "abc"


def test_pinyin_composes_in_the_candidate_bar_and_inserts_hanzi(qtbot: QtBot, themed: QApplication) -> None:
    edit = QLineEdit("北京市")
    edit.setCursorPosition(3)
    keyboard = OnScreenKeyboard("zh_CN", allow_chinese=True)
    qtbot.addWidget(keyboard)
    keyboard.set_target(edit)
    keyboard.show()
    qtbot.mouseClick(key_button(keyboard, "中文"), Qt.MouseButton.LeftButton)
    for char in "haidian":
        keyboard.press(char)
    assert edit.text() == "北京市"  # nothing is inserted while composing
    assert keyboard.composition() == "haidian"
    assert keyboard.visible_candidates()[0] == "海淀"
    qtbot.mouseClick(key_button(keyboard, "海淀"), Qt.MouseButton.LeftButton)
    for char in "qu":
        keyboard.press(char)
    keyboard.press("space")  # space takes the first candidate
    assert edit.text() == "北京市海淀区"
    assert keyboard.composition() == ""
    # Backspace first shortens the composition, then deletes committed text.
    keyboard.press("w")
    keyboard.press("backspace")
    keyboard.press("backspace")
    assert edit.text() == "北京市海淀"


def test_chinese_mode_is_refused_where_not_allowed(qtbot: QtBot, themed: QApplication) -> None:
    edit = QLineEdit()
    keyboard = OnScreenKeyboard("en")
    qtbot.addWidget(keyboard)
    keyboard.set_target(edit)
    keyboard.set_chinese(True)
    keyboard.press("a")
    assert edit.text() == "a" and keyboard.composition() == ""


def test_keypad_confirm_only_for_a_complete_amount(qtbot: QtBot, themed: QApplication) -> None:
    edit = QLineEdit()
    keypad = NumericKeypad("amount", "en")
    qtbot.addWidget(keypad)
    keypad.set_target(edit)
    keypad.show()
    confirm = next(b for b in keypad.findChildren(QPushButton) if b.text() == "Confirm")
    assert not confirm.isEnabled()
    for key in "12.505":
        keypad.press(key)
    assert edit.text() == "12.50" and keypad.amount_minor() == 1250
    with qtbot.waitSignal(keypad.submitted, timeout=1000) as blocker:
        qtbot.mouseClick(confirm, Qt.MouseButton.LeftButton)
    assert blocker.args == ["12.50"]


def test_pin_dots_never_show_a_digit_even_if_the_pad_sends_one(qtbot: QtBot, themed: QApplication) -> None:
    dots = PinDots("en", length=6)
    qtbot.addWidget(dots)
    for key in ("*", "7", "3", "*"):
        dots.handle_event(DeviceEvent("pin_pad", "key_pressed", {"key": key, "mode": "pin"}))
    assert dots.count() == 4
    assert dots.text() == "* * * * _ _"
    shown = " ".join(label.text() for label in dots.findChildren(QWidget) if hasattr(label, "text"))
    assert not re.search(r"[3-9]", shown.replace("4 of 6", "")), shown
    assert not [v for v in vars(dots).values() if isinstance(v, str) and re.search(r"[37]", v)]
    dots.handle_event(DeviceEvent("pin_pad", "key_pressed", {"key": "BACKSPACE", "mode": "pin"}))
    dots.handle_event(DeviceEvent("pin_pad", "key_pressed", {"key": "F3", "mode": "pin"}))
    dots.handle_event(DeviceEvent("pin_pad", "key_pressed", {"key": "5", "mode": "idle"}))  # not PIN entry
    assert dots.count() == 3
    with qtbot.assertNotEmitted(dots.completed):
        dots.handle_key("ENTER")  # 3 < 4 digits
    dots.handle_key("*")
    with qtbot.waitSignal(dots.completed, timeout=1000):
        dots.handle_key("ENTER")
    dots.handle_key("CLEAR")
    assert dots.text() == "_ _ _ _ _ _"


def test_countdown_warns_then_expires(qtbot: QtBot, themed: QApplication) -> None:
    banner = CountdownBanner("en")
    qtbot.addWidget(banner)
    banner.start(1.2, warning_s=0.6, message_key="card.take.countdown", warning_key="card.take.warning")
    assert banner.text() == "Take your card within 2 s" and not banner.is_warning()
    qtbot.waitUntil(banner.is_warning, timeout=2000)
    assert banner.text().startswith("For your safety the card will be retained in")
    with qtbot.waitSignal(banner.expired, timeout=2000):
        pass
    assert not banner.is_running()


def test_busy_overlay_appears_only_after_the_delay(qtbot: QtBot, themed: QApplication) -> None:
    host = QWidget()
    host.resize(400, 300)
    qtbot.addWidget(host)
    host.show()
    busy = BusyOverlay(host, "en", show_after_ms=150)
    busy.begin()
    busy.end()  # a short wait: nothing flashes
    qtbot.wait(250)
    assert not busy.isVisible()
    busy.begin()
    busy.begin()
    qtbot.waitUntil(busy.isVisible, timeout=1000)
    assert busy.geometry() == host.rect()
    busy.end()
    assert busy.isVisible() and busy.active()  # one op is still running
    busy.end()
    assert not busy.isVisible() and not busy.active()


def test_kiosk_buttons_are_big_enough_to_touch(qtbot: QtBot, themed: QApplication) -> None:
    button = KioskButton("Open an account", hint="Have your ID card ready")
    qtbot.addWidget(button)
    button.show()
    assert button.height() >= 88 and button.width() >= 44
    assert button.accessibleName() == "Open an account. Have your ID card ready"


def test_a_button_turned_primary_darkens_its_labels(qtbot: QtBot, themed: QApplication) -> None:
    from tests.screen_audit import audit_widget

    holder = QWidget()
    qtbot.addWidget(holder)
    button = KioskButton("Phone number", variant="secondary", parent=holder)
    holder.show()
    assert audit_widget("holder", holder, lang="en") == []
    button.setProperty("variant", "primary")  # what face login does to the chosen mode
    button.style().unpolish(button)
    button.style().polish(button)
    assert [str(f) for f in audit_widget("holder", holder, lang="en")] == []
    assert button._title.property("tone") == "on-accent"


def test_a_placeholder_is_readable_at_body_size(qtbot: QtBot, themed: QApplication) -> None:
    from tests.screen_audit import audit_widget

    holder = QWidget()
    qtbot.addWidget(holder)
    field = QLineEdit(holder)
    field.setStyleSheet("font-size: 20px;")  # body text: 4.5:1 (Qt's default half-black is 3.9:1)
    field.setPlaceholderText("From (sequence or date)")
    field.resize(400, 60)
    holder.show()
    assert [str(f) for f in audit_widget("holder", holder, lang="en")] == []
