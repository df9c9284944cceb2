"""Every effect a journey asks for has a handler, and every view a journey shows has a screen.

Read from the journeys' source (the literal names they pass to ``run``/``fire`` and ``go``), so a journey
that names an effect or screen nobody registered fails here, not in front of a customer.
"""

from __future__ import annotations

import ast
from collections.abc import Iterator
from pathlib import Path

import pytest
from PySide6.QtWidgets import QApplication
from pytestqt.qtbot import QtBot

import kiosk.journeys
from app.effects import HANDLERS, load_all
from kiosk.settings import Settings
from ui.app import KioskWindow
from ui.kiosk_app import JOURNEYS, SHARED_SCREENS, load_registrations

SOURCES = sorted(Path(kiosk.journeys.__file__).parent.glob("*.py"))


def literal_calls(method: str) -> Iterator[tuple[str, ast.Call]]:
    """(file name, call) for every ``<something>.<method>("literal", ...)`` in the journey modules."""
    for path in SOURCES:
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if (
                isinstance(node, ast.Call)
                and isinstance(node.func, ast.Attribute)
                and node.func.attr == method
                and node.args
                and isinstance(node.args[0], ast.Constant)
                and isinstance(node.args[0].value, str)
            ):
                yield path.name, node


def effect_kinds() -> dict[str, str]:
    kinds: dict[str, str] = {}
    for method in ("run", "fire"):
        for where, call in literal_calls(method):
            kind = str(call.args[0].value)  # type: ignore[attr-defined]
            if "." in kind:  # effect kinds are device.verb or service.verb
                kinds.setdefault(kind, where)
    return kinds


def view_screens() -> dict[str, str]:
    screens: dict[str, str] = {}
    for where, call in literal_calls("go"):
        name = call.args[0]
        if len(call.args) > 1:
            name = call.args[1]
            if not (isinstance(name, ast.Constant) and isinstance(name.value, str)):
                continue
        screens.setdefault(str(name.value), where)  # type: ignore[attr-defined]
    for where, _call in literal_calls("notice"):
        screens.setdefault("notice", where)
    return screens


def test_the_journeys_name_many_effects_and_views() -> None:
    # The scan itself must see the journeys: a parse that found nothing would pass everything below.
    assert len(effect_kinds()) >= 30 and {"printer.print", "card_reader.eject"} <= set(effect_kinds())
    assert len(view_screens()) >= 40 and {"transfer_amount", "notice"} <= set(view_screens())


def test_every_effect_a_journey_asks_for_has_a_handler() -> None:
    load_all()
    missing = {kind: where for kind, where in effect_kinds().items() if kind not in HANDLERS}
    assert missing == {}


@pytest.fixture
def window(qtbot: QtBot, themed: QApplication, kiosk_settings: Settings) -> Iterator[KioskWindow]:
    win = KioskWindow(kiosk_settings, lang="en")
    qtbot.addWidget(win)
    yield win


def test_every_view_a_journey_shows_has_a_screen(window: KioskWindow) -> None:
    load_registrations()
    names = set(window.stack.names())
    factories = list(SHARED_SCREENS) + [f for r in JOURNEYS.values() for f in r.screens]
    for make in factories:
        screen = make("en")
        names.add(screen.name)
        screen.deleteLater()
    missing = {screen: where for screen, where in view_screens().items() if screen not in names}
    assert missing == {}
