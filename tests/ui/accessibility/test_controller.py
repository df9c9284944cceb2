"""Accessibility on a real KioskWindow: screens spoken, keypad navigation, elderly and assisted modes."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest
from PySide6.QtCore import Qt
from PySide6.QtWidgets import QApplication

from devices.base import DeviceEvent
from kiosk.accessibility import AccessibilityModes, scaled_session_timeouts
from kiosk.i18n import tr
from kiosk.settings import Settings
from ui.accessibility import install_accessibility
from ui.accessibility.speech import SilentSpeaker


@pytest.fixture
def window(themed: QApplication, kiosk_settings: Settings) -> Iterator[Any]:
    from ui.app import KioskWindow

    window = KioskWindow(kiosk_settings, idle_timeout_s=60, idle_warning_s=10)
    window.show()
    try:
        yield window
    finally:
        window.shutdown()
        window.deleteLater()


@pytest.fixture
def speaker() -> SilentSpeaker:
    return SilentSpeaker()


@pytest.fixture
def a11y(window: Any, speaker: SilentSpeaker) -> Iterator[Any]:
    controller = install_accessibility(window, speaker=speaker)
    try:
        yield controller
    finally:
        controller.close()


def spoken(speaker: SilentSpeaker) -> list[str]:
    return [text for _, text in speaker.spoken]


def test_nothing_is_spoken_until_speech_is_chosen_then_every_screen_is(
    window: Any, a11y: Any, speaker: Any
) -> None:
    window.attract.emit_action("start")
    assert spoken(speaker) == []
    a11y.open_button.click()
    assert window.current_state() == "accessibility"
    a11y.screen.toggles["speech"].click()
    assert a11y.modes.speech
    assert spoken(speaker)[-1] == "Voice guidance: on " + tr("a11y.speech.keys", "en")
    a11y.screen.emit_action("done")
    assert window.current_state() == "language"
    text = spoken(speaker)[-1]
    assert text.startswith("Please choose your language.") and "English" in text and "简体中文" in text
    assert "/" not in text  # choices are sentences: speech engines read a "/" out as "slash"
    window.language_screen.emit_action("language", "zh_CN")
    assert window.current_state() == "menu"
    lang, text = speaker.spoken[-1]
    assert lang == "zh_CN"
    assert text.startswith(tr("menu.title", "zh_CN")) and tr("menu.insert_card", "zh_CN") in text


def test_keypad_only_moves_focus_speaks_it_and_presses_it(
    window: Any, a11y: Any, speaker: Any, qtbot: Any
) -> None:
    window.attract.emit_action("start")
    a11y.set_modes(AccessibilityModes(keypad_only=True))
    window.navigation.jump("language")
    first = a11y.navigator.focused()
    assert first is not None and "Button 1 of" in spoken(speaker)[-1]
    qtbot.keyClick(first, Qt.Key.Key_Right)
    second = a11y.navigator.focused()
    assert second is not first and "Button 2 of" in spoken(speaker)[-1]
    # The PIN pad's idle function keys do the same; keys typed during PIN entry are ignored.
    a11y.on_device_event(DeviceEvent("pin_pad", "key_pressed", {"key": "F1", "mode": "idle"}))
    assert a11y.navigator.focused() is first
    a11y.on_device_event(DeviceEvent("pin_pad", "key_pressed", {"key": "F2", "mode": "pin"}))
    assert a11y.navigator.focused() is first
    labels = [b.accessibleName() for b in a11y.navigator.buttons()]
    english = labels.index("English")
    for _ in range(english):
        a11y.on_device_event(DeviceEvent("pin_pad", "key_pressed", {"key": "F2", "mode": "idle"}))
    a11y.on_device_event(DeviceEvent("pin_pad", "key_pressed", {"key": "ENTER", "mode": "idle"}))
    assert window.current_state() == "menu" and window.lang == "en"
    assert "What would you like to do?" in spoken(speaker)[-1] and "Button 1 of" in spoken(speaker)[-1]


class CountingSpeaker(SilentSpeaker):
    """The silent speaker that also counts interruptions."""

    def __init__(self) -> None:
        super().__init__()
        self.stops = 0

    def stop(self) -> None:
        self.stops += 1


def pin_pad_key(a11y: Any, key: str) -> None:
    a11y.on_device_event(DeviceEvent("pin_pad", "key_pressed", {"key": key, "mode": "idle"}))


def test_speech_is_repeated_stopped_and_made_louder_or_quieter_from_the_pin_pad(window: Any) -> None:
    speaker = CountingSpeaker()
    a11y = install_accessibility(window, speaker=speaker)
    try:
        window.attract.emit_action("start")
        for key in ("F3", "F4", "F5", "F6"):  # speech off: the keys are not the speech's
            pin_pad_key(a11y, key)
        assert speaker.spoken == [] and speaker.stops == 0 and speaker.volume == 0.5
        a11y.set_modes(AccessibilityModes(speech=True))  # speech alone, not keypad-only
        window.navigation.jump("language")
        screen_words = spoken(speaker)[-1]
        pin_pad_key(a11y, "F3")
        assert spoken(speaker)[-1] == screen_words and len(speaker.spoken) >= 2
        stops = speaker.stops
        pin_pad_key(a11y, "F4")
        assert speaker.stops == stops + 1
        said = len(speaker.spoken)
        pin_pad_key(a11y, "F5")
        assert speaker.volume == 0.4 and len(speaker.spoken) == said + 1  # heard again, quieter
        for _ in range(8):
            pin_pad_key(a11y, "F6")
        assert speaker.volume == 1.0  # 0.4 + 0.8, clamped at the loudest
        assert spoken(speaker)[-1] == screen_words
    finally:
        a11y.close()


def test_keyboard_f4_stops_speech_without_keypad_only_mode(window: Any, qtbot: Any) -> None:
    speaker = CountingSpeaker()
    a11y = install_accessibility(window, speaker=speaker)
    try:
        window.attract.emit_action("start")
        a11y.set_modes(AccessibilityModes(speech=True))
        window.navigation.jump("language")
        stops = speaker.stops
        qtbot.keyClick(window.language_screen, Qt.Key.Key_F4)
        assert speaker.stops == stops + 1
        qtbot.keyClick(window.language_screen, Qt.Key.Key_F6)
        assert speaker.volume == 0.6
    finally:
        a11y.close()


def test_elderly_mode_scales_text_and_doubles_the_timeouts_until_the_session_ends(
    window: Any, a11y: Any, themed: QApplication
) -> None:
    base_font = themed.font().pixelSize()
    a11y.set_modes(AccessibilityModes(elderly=True))
    assert window.idle.timeout_s == 120 and window.idle.warning_s == 20
    assert themed.font().pixelSize() >= round(base_font * 1.3) - 1
    window.end_session("idle")
    assert a11y.modes.is_default
    assert window.idle.timeout_s == 60 and themed.font().pixelSize() == base_font


def test_assisted_mode_shows_the_banner_and_staff_end_it(window: Any, a11y: Any) -> None:
    a11y.open()
    a11y.screen.toggles["assisted"].click()
    assert a11y.banner.isVisible() and a11y.banner.label.text() == "Assisted by staff"
    assert window.idle.timeout_s == 180
    assert "✓" in a11y.screen.toggles["assisted"].title()
    a11y.banner.end_button.click()
    assert not a11y.banner.isVisible() and window.idle.timeout_s == 60


def test_session_timeouts_are_scaled_for_the_journeys() -> None:
    base = {"pin_timeout_s": 8.0, "history_page_size": 2}
    defaults = {
        "pin_timeout_s": 30.0,
        "card_insert_timeout_s": 30.0,
        "take_card_timeout_s": 30.0,
        "take_card_warning_s": 10.0,
    }
    scaled = scaled_session_timeouts(AccessibilityModes(elderly=True), base, defaults)
    assert scaled == {
        "pin_timeout_s": 16.0,
        "history_page_size": 2,
        "card_insert_timeout_s": 60.0,
        "take_card_timeout_s": 60.0,
        "take_card_warning_s": 20.0,
    }
    assert AccessibilityModes(elderly=True, assisted=True).timeout_factor == 3.0
    assert AccessibilityModes(keypad_only=True).speaks
    with pytest.raises(ValueError):
        AccessibilityModes().toggled("loud")
