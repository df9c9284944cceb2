"""The devices page in a technician's words: a jammed reader shows what is wrong and how to fix it, in both
languages, and never the driver's ``key=value`` detail. Rendered to PNG (under the test's tmp dir)."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from PySide6.QtWidgets import QApplication
from pytestqt.qtbot import QtBot

from .conftest import Rig, add_tech, click, login, open_kiosk, visible_rect  # type: ignore[import-not-found]

DEVELOPER_STRINGS = re.compile(r"=True|=False|jammed=|media=|\bTrue\b|\bFalse\b|card jam\b")


def _visible_text(html_text: str) -> str:
    return re.sub(r"<[^>]+>", " ", html_text)


@pytest.mark.parametrize(
    ("lang", "sentence", "first_step"),
    [
        ("en", "A card is stuck inside the card reader.", "Open the reader cover"),
        ("zh_CN", "有卡片卡在读卡器内。", "打开读卡器盖板"),
    ],
)
def test_a_jammed_reader_reads_as_a_fault_with_its_fix(
    qtbot: QtBot, rig: Rig, tmp_path: Path, lang: str, sentence: str, first_step: str
) -> None:
    window, controller = open_kiosk(qtbot, rig, lang=lang)
    add_tech(controller, "tina")
    rig.ctl["card_reader"].call("jam")
    login(qtbot, controller, "tina")
    page = controller.screen.devices_page
    click(qtbot, page.device_buttons["card_reader"])
    qtbot.waitUntil(lambda: sentence in page.details.text(), timeout=5000)
    shown = _visible_text(page.details.text())
    assert first_step in shown and "<ol>" in page.details.text()
    assert not DEVELOPER_STRINGS.search(shown), shown
    QApplication.processEvents()  # let the layout settle before the picture
    window.grab().save(str(tmp_path / f"devices-jammed-reader-{lang}.png"))

    click(qtbot, page.self_test_button)
    qtbot.waitUntil(lambda: page.outcome.ok is not None, timeout=10_000)
    assert page.outcome.ok is False
    assert sentence in page.outcome.text()
    assert "no card jam" not in page.outcome.text() and "(card jam)" not in page.outcome.text()
    QApplication.processEvents()
    if controller.screen.keyboard.isVisible():  # the result is read whole above the keyboard
        assert visible_rect(page.outcome).height() == page.outcome.height()
    QApplication.processEvents()  # let the layout settle before the picture
    window.grab().save(str(tmp_path / f"devices-jammed-reader-self-test-{lang}.png"))


def test_a_failed_self_test_names_each_fault_once_with_its_steps(qtbot: QtBot, rig: Rig) -> None:
    _window, controller = open_kiosk(qtbot, rig)
    add_tech(controller, "tina")
    rig.ctl["card_dispenser"].call("jam")
    login(qtbot, controller, "tina")
    page = controller.screen.devices_page
    click(qtbot, page.device_buttons["card_dispenser"])
    click(qtbot, page.self_test_button)
    qtbot.waitUntil(lambda: page.outcome.ok is not None, timeout=10_000)
    assert page.outcome.text().count("A card is stuck in the card dispenser.") == 1
    assert "Open the dispenser cover" in page.details.text()
    assert not DEVELOPER_STRINGS.search(_visible_text(page.details.text()))
