"""What a screen says: its visible text in reading order, and the buttons a keypad user can reach."""

from __future__ import annotations

from PySide6.QtCore import QPoint
from PySide6.QtWidgets import QAbstractButton, QLabel, QPushButton, QWidget

from ui.widgets.keyboard import OnScreenKeyboard


def _position(widget: QWidget, root: QWidget) -> tuple[int, int]:
    point = widget.mapTo(root, QPoint(0, 0))
    return point.y(), point.x()


def _shown(widget: QWidget, root: QWidget) -> bool:
    return widget.isVisibleTo(root) and not widget.isHidden()


def _inside(widget: QWidget, kinds: tuple[type, ...], root: QWidget) -> bool:
    parent = widget.parentWidget()
    while parent is not None and parent is not root:
        if isinstance(parent, kinds):
            return True
        parent = parent.parentWidget()
    return False


def reading_order(widgets: list[QWidget], root: QWidget) -> list[QWidget]:
    """Top to bottom, then left to right (rows of buttons read left to right)."""
    return sorted(widgets, key=lambda w: _position(w, root))


def focusable_buttons(screen: QWidget) -> list[QPushButton]:
    """Enabled, visible buttons outside the on-screen keyboard, in reading order."""
    buttons = [
        b
        for b in screen.findChildren(QPushButton)
        if _shown(b, screen) and b.isEnabled() and not _inside(b, (OnScreenKeyboard,), screen)
    ]
    return [b for b in reading_order(list(buttons), screen) if isinstance(b, QPushButton)]


def button_label(button: QAbstractButton) -> str:
    return button.accessibleName() or button.text()


def screen_text(screen: QWidget) -> str:
    """The labels a sighted customer reads (not the buttons' own labels), then the choices offered."""
    labels = [
        label
        for label in screen.findChildren(QLabel)
        if _shown(label, screen)
        and label.text().strip()
        and not _inside(label, (QAbstractButton, OnScreenKeyboard), screen)
    ]
    parts = [
        label.text().strip() for label in reading_order(list(labels), screen) if isinstance(label, QLabel)
    ]
    choices = [button_label(b) for b in focusable_buttons(screen)]
    # Each choice its own sentence: a pause between them. A "/" between them is read out as "slash".
    return " ".join(_sentence(part) for part in parts + choices).strip()


def _sentence(part: str) -> str:
    return part if part.endswith((".", "。", "?", "？", "!", "！", ":", "：")) else part + "."
