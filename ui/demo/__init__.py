"""Scripted journeys for ``smart-teller demo JOURNEY --out DIR``.

A script is a module ``ui/demo/<journey>.py`` (``wrong-pin`` → ``wrong_pin.py``) defining:

- ``DEVICES``: the simulators it needs (``python -m simulators --only ...``);
- ``EXPECTED``: the outcome statuses that count as "the journey completed" (exit 0);
- ``run(demo: Demo) -> None``: drives the kiosk like a customer, through screen actions and the
  simulators' control API; raises :class:`DemoFailed` (one line) when something does not happen.

:class:`Demo` waits without blocking the GUI (it spins the event loop), saves a PNG of every screen the
kiosk shows, and ``snap()`` saves extra ones (the PIN dots after four keys, say).
"""

from __future__ import annotations

import importlib
import pkgutil
import time
from collections.abc import Callable
from pathlib import Path
from types import ModuleType
from typing import Any

from PySide6.QtCore import QTimer
from PySide6.QtWidgets import QApplication

from devices.simcontrol import ControlClient


class DemoFailed(Exception):
    """The scripted journey did not go as written (the message is one line)."""


def module_name(journey: str) -> str:
    return journey.replace("-", "_")


def available() -> list[str]:
    import ui.demo as package

    return sorted(m.name.replace("_", "-") for m in pkgutil.iter_modules(package.__path__))


def load(journey: str) -> ModuleType:
    if journey not in available():
        raise DemoFailed(f"no demo named {journey!r}; choose one of {', '.join(available())}")
    return importlib.import_module(f"ui.demo.{module_name(journey)}")


class Demo:
    def __init__(
        self,
        app: Any,
        out: Path,
        controls: dict[str, str],
        *,
        lang: str = "en",
        card: tuple[dict[str, str], str] | None = None,
    ) -> None:
        self.app = app
        self.card = card  # (pan/expiry/name, PIN) from --card/--pin: the card a card journey inserts
        self.window = app.window
        self.out = out
        self.controls = controls
        self.lang = lang
        self.shots: list[Path] = []
        self.screens: list[str] = []
        self.window.stack.screenChanged.connect(self._screen_changed)

    # -- devices --------------------------------------------------------------------------------
    def ctl(self, device: str, cmd: str, **args: Any) -> Any:
        if device not in self.controls:
            raise DemoFailed(f"the {device} simulator is not running")
        return ControlClient(self.controls[device]).call(cmd, **args)

    # -- waiting ----------------------------------------------------------------------------------
    def pump(self, seconds: float = 0.05) -> None:
        deadline = time.monotonic() + seconds
        while time.monotonic() < deadline:
            QApplication.processEvents()
            time.sleep(0.01)

    def wait_until(self, predicate: Callable[[], bool], what: str, timeout: float = 15.0) -> None:
        deadline = time.monotonic() + timeout
        while not predicate():
            if time.monotonic() > deadline:
                raise DemoFailed(f"timed out waiting for {what} (screen: {self.screen})")
            self.pump(0.02)

    def wait_screen(self, name: str, timeout: float = 15.0) -> Any:
        self.wait_until(lambda: self.screen == name, f"the {name} screen", timeout)
        self.pump(0.1)  # let the screen lay itself out before anyone looks at it
        return self.current()

    @property
    def screen(self) -> str:
        return str(self.window.current_state())

    def current(self) -> Any:
        return self.window.stack.screen(self.screen)

    def press_keys(self, keys: str, mode: str = "pin") -> None:
        """Keys on the PIN pad once it is in ``mode`` entry (an idle pad does not enter them)."""
        self.wait_until(lambda: self.ctl("pin_pad", "state")["mode"] == mode, f"the PIN pad in {mode} entry")
        self.ctl("pin_pad", "press_keys", keys=keys)

    def act(self, action: str, payload: object = None) -> None:
        """A touch on the current screen's ``action`` button."""
        self.current().emit_action(action, payload)
        self.pump(0.05)

    def start_service(self, service: str) -> None:
        self.wait_screen("attract")
        self.window.attract.emit_action("start")
        self.wait_screen("language")
        self.window.language_screen.emit_action("language", self.lang)
        self.wait_screen("menu")
        self.window.menu.emit_action(service)

    def outcome(self, timeout: float = 30.0) -> Any:
        self.wait_until(lambda: bool(self.app.outcomes), "the journey to end", timeout)
        self.pump(0.3)
        return self.app.outcomes[-1]

    # -- pictures ---------------------------------------------------------------------------------
    def snap(self, label: str = "") -> Path:
        from ui.app import render_offscreen

        name = f"{len(self.shots) + 1:02d}-{self.screen}{'-' + label if label else ''}.png"
        path = render_offscreen(self.window, self.out / name)
        self.shots.append(path)
        return path

    def _screen_changed(self, name: str) -> None:
        self.screens.append(name)
        # After the screen has painted; skipped when the kiosk has already moved on.
        QTimer.singleShot(60, lambda: self.snap() if self.screen == name else None)
