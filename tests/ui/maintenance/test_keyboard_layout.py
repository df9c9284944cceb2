"""The maintenance screen survives the on-screen keyboard: with the keyboard up (after a self-test the count
field takes the focus) no two buttons overlap and none is squeezed below its touch height, so a tap lands
on the button it is aimed at. Geometry, not eyes; the PNGs under the tmp dir are for the eyes."""

from __future__ import annotations

from pathlib import Path

import pytest
from PySide6.QtWidgets import QAbstractButton, QApplication, QLabel, QWidget
from pytestqt.qtbot import QtBot

from .conftest import Rig, add_tech, click, login, open_kiosk, visible_rect  # type: ignore[import-not-found]


def half_line(label: QLabel) -> int:
    """Less than a line short is margin rounding; a whole line short is a line nobody can read."""
    return label.fontMetrics().lineSpacing() // 2


def _problems(root: QWidget) -> list[str]:
    buttons = [
        b for b in root.findChildren(QAbstractButton) if b.isVisibleTo(root.window()) and b.isVisible()
    ]
    shown = [(b, visible_rect(b)) for b in buttons]
    shown = [(b, r) for b, r in shown if not r.isEmpty()]
    problems = []
    for button, rect in shown:
        if rect.height() == button.height() and button.height() < button.minimumHeight():
            problems.append(f"{button.text() or button.objectName()!r} squeezed to {button.height()} px")
        for label in button.findChildren(QLabel):
            if label.isVisible() and label.text() and label.minimumSizeHint().width() > label.width() + 1:
                problems.append(
                    f"{label.text()!r} is cut: {label.width()} px for {label.minimumSizeHint().width()}"
                )
            elif (
                label.isVisible()
                and label.text()
                and label.heightForWidth(label.width()) > label.height() + half_line(label)
            ):
                problems.append(f"{label.text()!r} wraps onto more lines than its {label.height()} px show")
    for i, (a, ra) in enumerate(shown):
        for b, rb in shown[i + 1 :]:
            if a.isAncestorOf(b) or b.isAncestorOf(a):
                continue
            overlap = ra.intersected(rb)
            if overlap.width() > 1 and overlap.height() > 1:
                problems.append(f"{_name(a)} overlaps {_name(b)} by {overlap.width()}x{overlap.height()} px")
    return problems


def _name(button: QAbstractButton) -> str:
    title = getattr(button, "title", None)
    return repr(title() if callable(title) else button.text() or button.objectName())


@pytest.mark.parametrize("lang", ["en", "zh_CN"])
@pytest.mark.parametrize("size", [(1280, 800), (1024, 768)])
def test_no_button_overlaps_another_with_the_keyboard_shown(
    qtbot: QtBot, rig: Rig, tmp_path: Path, size: tuple[int, int], lang: str
) -> None:
    window, controller = open_kiosk(qtbot, rig, lang=lang)
    window.resize(*size)
    add_tech(controller, "sam", "supervisor")  # the supervisor has every page button
    login(qtbot, controller, "sam")
    screen = controller.screen
    page = screen.devices_page
    rig.ctl["card_reader"].call("jam")  # a failed self-test: its result is a long red line
    click(qtbot, page.device_buttons["card_reader"])
    click(qtbot, page.self_test_button)
    qtbot.waitUntil(lambda: page.outcome.ok is not None, timeout=10_000)
    # the keyboard rose by itself: the busy buttons gave the focus to the count field during the test
    assert page.count_field.hasFocus()
    qtbot.waitUntil(screen.keyboard.isVisible, timeout=2000)
    QApplication.processEvents()
    window.grab().save(str(tmp_path / f"devices-keyboard-{size[0]}x{size[1]}-{lang}.png"))
    assert not _problems(window), "\n".join(_problems(window))
    # the field being typed into stays in view above the keyboard
    field = visible_rect(page.count_field)
    assert field.height() == page.count_field.height()
    assert field.bottom() < visible_rect(screen.keyboard).top()
    assert visible_rect(page.outcome).height() == page.outcome.height()  # the self-test's result, whole

    for name in ("journal", "techs", "service"):
        assert screen.open_page(name)
        QApplication.processEvents()
        assert not _problems(window), f"{name}: " + "\n".join(_problems(window))
