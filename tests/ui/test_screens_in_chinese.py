"""Every screen of every journey, built in Chinese and shown offscreen with no journey data: no English
word in its own texts (headings, buttons, hints, placeholders), no text too faint for its background.
The e2e walks (tests/e2e/test_screens_in_chinese.py, the opening journey) add the texts that come with
data; this one reaches the screens no e2e test walks in Chinese."""

from __future__ import annotations

from PySide6.QtCore import Qt
from PySide6.QtWidgets import QApplication
from pytestqt.qtbot import QtBot

from tests.screen_audit import audit_widget
from ui.kiosk_app import JOURNEYS, SHARED_SCREENS, load_registrations
from ui.theme import apply_theme


def test_every_journey_screen_in_chinese_shows_no_english_and_readable_text(
    qtbot: QtBot, qapp: QApplication
) -> None:
    apply_theme(qapp, "zh_CN")
    load_registrations()
    factories = list(SHARED_SCREENS) + [f for r in JOURNEYS.values() for f in r.screens]
    findings, names = [], set()
    for make in factories:
        screen = make("zh_CN")
        qtbot.addWidget(screen)
        screen.on_enter({})
        screen.resize(1280, 800)
        # Shown (offscreen) so the style sheet is applied: an unpolished button has no colours yet.
        screen.setAttribute(Qt.WidgetAttribute.WA_DontShowOnScreen, True)
        screen.show()
        qapp.processEvents()
        names.add(screen.name)
        findings += [str(f) for f in audit_widget(screen.name, screen, lang="zh_CN")]
    assert len(names) >= 40  # the factories were found: an empty list would pass everything
    assert findings == [], "\n".join(findings)
