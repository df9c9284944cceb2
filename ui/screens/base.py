"""Screens, the navigator that shows one at a time, the idle timeout and the maintenance gesture.

Flow lives in plain Python (Electrum's wizard style): :class:`Navigation` holds the shell's map
``state → action → next state`` (attract, language, menu) and the back stack, and knows nothing of Qt; a
journey's own states come from its Qt-free :class:`~kiosk.journeys.core.Journey` in ``kiosk/journeys/``,
whose views the window shows by jumping to them. :class:`ScreenStack` only renders whichever state is
current. A screen
never navigates itself: it emits ``action(name, payload)`` and whoever owns the flow decides.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any, ClassVar, overload

from PySide6.QtCore import QEvent, QObject, QPoint, QRect, QTimer, Signal
from PySide6.QtGui import QMouseEvent, QScreen
from PySide6.QtWidgets import QApplication, QStackedWidget, QWidget

from kiosk.i18n import tr
from ui.widgets.countdown import CountdownBanner

log = logging.getLogger(__name__)


class Screen(QWidget):
    """One page of the kiosk. Subclasses set ``name`` and ``title_key`` and build their widgets."""

    name: ClassVar[str] = ""
    title_key: ClassVar[str] = ""
    idle_exempt: ClassVar[bool] = False  # attract and out-of-service never time out

    action = Signal(str, object)  # (action, payload): what the customer chose

    def __init__(self, lang: str = "en", parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.lang = lang
        self.context: Mapping[str, Any] = {}
        self.setObjectName(self.name or type(self).__name__)

    @property
    def title(self) -> str:
        return tr(self.title_key, self.lang) if self.title_key else ""

    def retranslate(self, lang: str) -> None:
        """Set every visible string for ``lang``; subclasses extend and call super()."""
        self.lang = lang

    def on_enter(self, context: Mapping[str, Any]) -> None:
        """Shown with ``context`` (plain data from the flow); subclasses extend and call super()."""
        self.context = context

    def on_leave(self) -> None:
        """About to be hidden: stop timers, cancel pending device commands."""

    def emit_action(self, action: str, payload: object = None) -> None:
        self.action.emit(action, payload)


@dataclass
class Navigation:
    """Plain-Python flow: where each action leads, and the way back. No Qt here."""

    transitions: dict[str, dict[str, str]]
    start: str
    current: str = ""
    history: list[str] = field(default_factory=list)
    _listeners: list[Callable[[str, Mapping[str, Any]], None]] = field(default_factory=list)

    def __post_init__(self) -> None:
        self.current = self.current or self.start

    def subscribe(self, listener: Callable[[str, Mapping[str, Any]], None]) -> None:
        self._listeners.append(listener)

    def allowed(self, action: str) -> bool:
        return action in self.transitions.get(self.current, {})

    def go(self, action: str, context: Mapping[str, Any] | None = None) -> str | None:
        """Follow ``action`` from the current state; None (and no change) when the map has no such edge."""
        target = self.transitions.get(self.current, {}).get(action)
        if target is None:
            log.warning("navigation: no action %r from %r", action, self.current)
            return None
        self.history.append(self.current)
        self._enter(target, context or {})
        return target

    def jump(self, state: str, context: Mapping[str, Any] | None = None, *, remember: bool = True) -> None:
        """Show ``state`` directly (a journey saying which step is current)."""
        if remember:
            self.history.append(self.current)
        self._enter(state, context or {})

    def back(self) -> str | None:
        if not self.history:
            return None
        self._enter(self.history.pop(), {})
        return self.current

    def reset(self, state: str | None = None, context: Mapping[str, Any] | None = None) -> None:
        """Forget the back stack (a session ended) and show ``state`` (default: the start)."""
        self.history.clear()
        self._enter(state or self.start, context or {})

    def _enter(self, state: str, context: Mapping[str, Any]) -> None:
        self.current = state
        for listener in list(self._listeners):
            listener(state, context)


class ScreenStack(QStackedWidget):
    """Holds every screen and shows the one whose ``name`` is the current state."""

    screenChanged = Signal(str)

    def __init__(self, lang: str = "en", parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self._screens: dict[str, Screen] = {}
        self._lang = lang

    @property
    def lang(self) -> str:
        return self._lang

    def add(self, screen: Screen) -> Screen:
        if not screen.name:
            raise ValueError(f"{type(screen).__name__} has no name")
        if screen.name in self._screens:
            raise ValueError(f"a screen named {screen.name!r} is already registered")
        self._screens[screen.name] = screen
        self.addWidget(screen)
        screen.retranslate(self._lang)
        return screen

    @overload
    def screen(self) -> QScreen: ...

    @overload
    def screen(self, name: str) -> Screen: ...

    def screen(self, name: str | None = None) -> Screen | QScreen:
        """The screen registered as ``name``; without a name, QWidget's ``screen()`` (the display)."""
        if name is None:
            return super().screen()
        return self._screens[name]

    def names(self) -> list[str]:
        return list(self._screens)

    def current_screen(self) -> Screen | None:
        widget = self.currentWidget()
        return widget if isinstance(widget, Screen) else None

    def show_screen(self, name: str, context: Mapping[str, Any] | None = None) -> Screen:
        target = self._screens.get(name)
        if target is None:
            raise KeyError(f"no screen named {name!r}")
        previous = self.current_screen()
        if previous is not None and previous is not target:
            previous.on_leave()
        target.retranslate(self._lang)
        target.on_enter(context or {})
        self.setCurrentWidget(target)
        self.screenChanged.emit(name)
        return target

    def set_language(self, lang: str) -> None:
        self._lang = lang
        for screen in self._screens.values():
            screen.retranslate(lang)


_INPUT_EVENTS = {
    QEvent.Type.MouseButtonPress,
    QEvent.Type.TouchBegin,
    QEvent.Type.KeyPress,
    QEvent.Type.Wheel,
}


class IdleTimeout(QObject):
    """Any touch or key resets it; ``timeout_s`` without input ends the session.

    The last ``warning_s`` seconds show the countdown banner with an "I need more time" button.
    """

    warningShown = Signal()
    timedOut = Signal()

    def __init__(
        self, banner: CountdownBanner, timeout_s: float, warning_s: float, parent: QObject | None = None
    ) -> None:
        super().__init__(parent)
        if warning_s >= timeout_s:
            warning_s = timeout_s / 2  # a warning longer than the timeout would show at once
        self._banner = banner
        self.timeout_s = timeout_s
        self.warning_s = warning_s
        self._active = False
        self._quiet = QTimer(self)
        self._quiet.setSingleShot(True)
        self._quiet.setInterval(int((timeout_s - warning_s) * 1000))
        self._quiet.timeout.connect(self._warn)
        banner.expired.connect(self._expire)
        banner.extend_requested.connect(self.poke)
        app = QApplication.instance()
        if app is not None:
            app.installEventFilter(self)

    def set_timeouts(self, timeout_s: float, warning_s: float) -> None:
        """New limits (the accessibility settings give some customers longer); a running period restarts."""
        if warning_s >= timeout_s:
            warning_s = timeout_s / 2
        self.timeout_s = timeout_s
        self.warning_s = warning_s
        self._quiet.setInterval(int((timeout_s - warning_s) * 1000))
        self.poke()

    def set_active(self, active: bool) -> None:
        self._active = active
        if active:
            self.poke()
        else:
            self._quiet.stop()
            self._banner.stop()

    def is_active(self) -> bool:
        return self._active

    def warning_visible(self) -> bool:
        return self._banner.is_running()

    def poke(self) -> None:
        """Input arrived: start the quiet period again and hide the warning."""
        if not self._active:
            return
        self._banner.stop()
        self._quiet.start()

    def close(self) -> None:
        self.set_active(False)
        app = QApplication.instance()
        if app is not None:
            app.removeEventFilter(self)

    def _warn(self) -> None:
        if not self._active:
            return
        self._banner.start(
            self.warning_s, warning_s=self.warning_s, message_key="idle.warning", button_key="idle.more_time"
        )
        self.warningShown.emit()

    def _expire(self) -> None:
        if self._active:
            self._active = False
            self._banner.stop()
            self.timedOut.emit()

    def eventFilter(self, watched: QObject, event: QEvent) -> bool:
        if self._active and event.type() in _INPUT_EVENTS:
            self.poke()
        return False


class MaintenanceGesture(QObject):
    """Press and hold the top-left corner of ``widget`` for ``hold_ms``: emits ``triggered``.

    Hidden from customers on purpose; the maintenance helper connects the signal to the technician login.
    """

    triggered = Signal()

    def __init__(self, widget: QWidget, *, corner_px: int = 120, hold_ms: int = 3000) -> None:
        super().__init__(widget)
        self._widget = widget
        self._corner_px = corner_px
        self._timer = QTimer(self)
        self._timer.setSingleShot(True)
        self._timer.setInterval(hold_ms)
        self._timer.timeout.connect(self._fire)
        self.fired = False  # the current press became the gesture (the screen should ignore its release)
        widget.installEventFilter(self)

    def in_corner(self, pos: QPoint) -> bool:
        return QRect(0, 0, self._corner_px, self._corner_px).contains(pos)

    def holding(self) -> bool:
        return self._timer.isActive()

    def _fire(self) -> None:
        self.fired = True
        self.triggered.emit()

    def eventFilter(self, watched: QObject, event: QEvent) -> bool:
        if watched is not self._widget:
            return False
        kind = event.type()
        if kind == QEvent.Type.MouseButtonPress and isinstance(event, QMouseEvent):
            self.fired = False
            if self.in_corner(event.position().toPoint()):
                self._timer.start()
        elif kind == QEvent.Type.MouseMove and isinstance(event, QMouseEvent):
            if self._timer.isActive() and not self.in_corner(event.position().toPoint()):
                self._timer.stop()
        elif kind == QEvent.Type.MouseButtonRelease:
            self._timer.stop()
        return False
