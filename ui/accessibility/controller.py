"""Joins the accessibility modes to a running kiosk window (see the package docstring for the wiring)."""

from __future__ import annotations

import logging
from dataclasses import asdict
from typing import Any

from PySide6.QtCore import QEvent, QObject, Signal
from PySide6.QtGui import QKeyEvent
from PySide6.QtWidgets import QApplication, QFrame, QHBoxLayout, QLabel, QPushButton, QWidget

from kiosk.accessibility.modes import SESSION_TIMEOUT_FIELDS, AccessibilityModes, scaled_session_timeouts
from kiosk.i18n import tr
from kiosk.journeys.session import SessionConfig
from ui.accessibility.navigation import (
    ACTIVATE,
    CANCEL,
    LOUDER,
    NEXT,
    PIN_PAD_KEYS,
    PREVIOUS,
    QT_KEYS,
    REPEAT,
    SPEECH_COMMANDS,
    STOP_SPEECH,
    FocusNavigator,
)
from ui.accessibility.reading import button_label, screen_text
from ui.accessibility.screen import AccessibilityScreen, CornerButton, accessibility_button
from ui.accessibility.speech import Speaker, choose_speaker
from ui.theme import apply_theme, scale_for
from ui.widgets.button import KioskButton

log = logging.getLogger(__name__)

VOLUME_STEP = 0.1  # ten steps from silent to espeak-ng's loudest


class AssistedBanner(QFrame):
    """ "Assisted by staff" across the top of every screen, with the staff's button to end it."""

    endRequested = Signal()

    def __init__(self, parent: QWidget) -> None:
        super().__init__(parent)
        self.setProperty("role", "banner")
        self.setObjectName("a11y-assisted-banner")
        row = QHBoxLayout(self)
        row.setContentsMargins(16, 0, 4, 0)
        self.label = QLabel(self)
        self.end_button = KioskButton(variant="secondary", parent=self)
        self.end_button.setObjectName("a11y-assisted-end")
        self.end_button.setMinimumHeight(44)
        self.end_button.setMaximumHeight(48)
        self.end_button.setMaximumWidth(360)
        self.end_button.clicked.connect(self.endRequested)
        row.addWidget(self.label, 1)
        row.addWidget(self.end_button)
        self.hide()

    def retranslate(self, lang: str) -> None:
        self.label.setText(tr("a11y.assisted.banner", lang))
        self.end_button.set_texts(tr("a11y.assisted.end", lang))


class AccessibilityController(QObject):
    modesChanged = Signal(object)  # AccessibilityModes
    spoke = Signal(str)

    def __init__(self, window: Any, app: Any | None = None, *, speaker: Speaker | None = None) -> None:
        super().__init__(window)
        self.window = window
        self.app = app
        self.speaker: Speaker = speaker or choose_speaker()
        self.modes = AccessibilityModes()
        self.navigator = FocusNavigator(self._announce_focus)
        self._base_idle = (float(window.idle.timeout_s), float(window.idle.warning_s))
        self._base_session: dict[str, Any] | None = None
        if app is not None:
            self._base_session = dict(app.journey_context.get("session_config", {}))

        self.screen = AccessibilityScreen(window.lang)
        window.add_screen(self.screen, {"done": "language", "back": "language"})
        self.screen.action.connect(self._on_screen_action)
        self.open_button = accessibility_button(window.language_screen, window.lang)
        self.open_button.clicked.connect(self.open)
        self._corner = CornerButton(window.language_screen, self.open_button)
        host = window.centralWidget()
        self.banner = AssistedBanner(host)
        self.banner.endRequested.connect(self.end_assisted)
        self.banner.retranslate(window.lang)
        host.installEventFilter(self)

        window.stack.screenChanged.connect(self._on_screen_changed)
        window.languageChanged.connect(self._on_language)
        window.sessionEnded.connect(self._on_session_ended)
        pin_pad = window.adapter("pin_pad")
        if pin_pad is not None:
            pin_pad.deviceEvent.connect(self.on_device_event)
        qt_app = QApplication.instance()
        if qt_app is not None:
            qt_app.installEventFilter(self)

    # -- modes ------------------------------------------------------------------------------------
    def open(self) -> None:
        self.window.show_state("accessibility")

    def set_modes(self, modes: AccessibilityModes) -> None:
        previous, self.modes = self.modes, modes
        if modes.text_scale != previous.text_scale:
            self._apply_text_scale()
        self._apply_timeouts()
        self.banner.setVisible(modes.assisted)
        self._place_banner()
        if modes.assisted != previous.assisted and self.app is not None:
            event = "assisted_mode_started" if modes.assisted else "assisted_mode_ended"
            self.app.services.journal.record(event, session_id=self.app.session_id)
        self.screen.show_modes(modes)
        if not previous.speaks and modes.speaks:
            self.speak(screen_text(self.screen))
        elif previous.speaks and not modes.speaks:
            self.speaker.stop()
        log.info("accessibility modes: %s", modes.active() or "default")
        self.modesChanged.emit(modes)

    def toggle(self, mode: str) -> None:
        previous_speaks = self.modes.speaks
        modes = self.modes.toggled(mode)
        self.set_modes(modes)
        if modes.speaks:
            key = {"speech": "a11y.speech", "keypad_only": "a11y.keypad", "elderly": "a11y.elderly"}.get(
                mode, "a11y.assisted"
            )
            state = "a11y.state.on" if getattr(modes, mode) else "a11y.state.off"
            text = tr(state, self.window.lang, mode=tr(key, self.window.lang))
            if not previous_speaks:
                # Speech has just begun: say once how to repeat, stop and change its volume.
                text += " " + tr("a11y.speech.keys", self.window.lang)
            self.speak(text)

    def end_assisted(self) -> None:
        if self.modes.assisted:
            self.set_modes(self.modes.toggled("assisted"))

    def _apply_text_scale(self) -> None:
        qt_app = QApplication.instance()
        if isinstance(qt_app, QApplication):
            scale = scale_for(self.window.width(), self.window.height()) * self.modes.text_scale
            apply_theme(qt_app, self.window.lang, scale)

    def _apply_timeouts(self) -> None:
        factor = self.modes.timeout_factor
        timeout, warning = self._base_idle
        self.window.idle.set_timeouts(timeout * factor, warning * factor)
        if self.app is not None and self._base_session is not None:
            defaults = asdict(SessionConfig())
            scaled = scaled_session_timeouts(
                self.modes, self._base_session, {k: float(defaults[k]) for k in SESSION_TIMEOUT_FIELDS}
            )
            self.app.journey_context["session_config"] = (
                scaled if not self.modes.is_default else dict(self._base_session)
            )

    # -- speech -----------------------------------------------------------------------------------
    def speak(self, text: str) -> None:
        if text:
            self.speaker.say(text, self.window.lang)
            self.spoke.emit(text)

    def _announce_focus(self, button: QPushButton, index: int, count: int) -> None:
        if self.modes.speaks:
            self.speak(
                tr("a11y.focus", self.window.lang, label=button_label(button), index=index, count=count)
            )

    def _on_screen_changed(self, name: str) -> None:
        screen = self.window.stack.screen(name)
        if self.modes.keypad_only:
            self.navigator.reset(screen)
        if self.modes.speaks:
            text = screen_text(screen)
            if self.modes.keypad_only:
                focused = self.navigator.focused()
                if focused is not None:
                    text += " " + tr(
                        "a11y.focus",
                        self.window.lang,
                        label=button_label(focused),
                        index=self.navigator.index + 1,
                        count=len(self.navigator.buttons()),
                    )
            self.speak(text)

    def repeat(self) -> None:
        screen = self.window.stack.current_screen()
        if screen is None:
            return
        text = screen_text(screen)
        focused = self.navigator.focused()
        if focused is not None:
            text += " " + button_label(focused)
        self.speak(text)

    def change_volume(self, step: float) -> None:
        """Louder or quieter, then the last words again so the customer hears the new level."""
        self.speaker.set_volume(round(self.speaker.volume + step, 2))
        log.info("speech volume %.1f", self.speaker.volume)
        self.speaker.repeat()

    def speech_command(self, command: str) -> bool:
        """Repeat, stop or change the volume of the speech (any time speech is on); True when handled."""
        if not self.modes.speaks or command not in SPEECH_COMMANDS:
            return False
        if command == REPEAT:
            self.repeat()
        elif command == STOP_SPEECH:
            self.speaker.stop()
        else:
            self.change_volume(VOLUME_STEP if command == LOUDER else -VOLUME_STEP)
        return True

    # -- keys -------------------------------------------------------------------------------------
    def navigate(self, command: str) -> bool:
        if self.speech_command(command):
            return True
        if not self.modes.keypad_only:
            return False
        current = self.window.stack.current_screen()
        if self.navigator.screen is not current:
            self.navigator.reset(current)
        if command == PREVIOUS:
            self.navigator.move(-1)
        elif command == NEXT:
            self.navigator.move(1)
        elif command == ACTIVATE:
            self.navigator.activate()
        elif command == CANCEL and current is not None:
            current.emit_action("cancel")
        return True

    def on_device_event(self, event: Any) -> None:
        """PIN pad keys while the pad is idle (not collecting a PIN or an amount)."""
        if getattr(event, "device", "") != "pin_pad" or getattr(event, "kind", "") != "key_pressed":
            return
        data = getattr(event, "data", {}) or {}
        if data.get("mode") != "idle":
            return
        command = PIN_PAD_KEYS.get(str(data.get("key", "")))
        if command is not None:
            self.navigate(command)

    def eventFilter(self, watched: QObject, event: QEvent) -> bool:
        if event.type() == QEvent.Type.Resize and watched is self.window.centralWidget():
            self._place_banner()
            return False
        if (
            self.modes.speaks
            and event.type() == QEvent.Type.KeyPress
            and isinstance(event, QKeyEvent)
            and isinstance(watched, QWidget)
            and watched.window() is self.window
        ):
            command = QT_KEYS.get(int(event.key()))
            if command is not None:
                return self.navigate(command)
        return False

    def _place_banner(self) -> None:
        host = self.window.centralWidget()
        if host is None or not self.banner.isVisible():
            return
        # A thin strip on the top edge, above the screens' 40 px margin (the window reserves no space yet).
        width = min(host.width() - 80, 760)
        self.banner.setGeometry((host.width() - width) // 2, 0, width, 52)
        self.banner.raise_()

    def _on_language(self, lang: str) -> None:
        self.open_button.set_texts(f"♿ {tr('a11y.button', lang)}")
        self._corner.place()
        self.banner.retranslate(lang)
        if self.modes.text_scale != 1.0:
            self._apply_text_scale()

    def _on_session_ended(self, why: str) -> None:
        # The next customer starts from the defaults (assisted mode is ended by staff or by the session).
        if not self.modes.is_default:
            self.set_modes(AccessibilityModes())

    def _on_screen_action(self, action: str, payload: object) -> None:
        if action == "toggle":
            self.toggle(str(payload))

    def close(self) -> None:
        qt_app = QApplication.instance()
        if qt_app is not None:
            qt_app.removeEventFilter(self)
        self.speaker.close()
