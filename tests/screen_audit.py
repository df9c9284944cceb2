"""What a customer can read on the kiosk, checked while a journey runs: the visible texts of each screen,
English words left on a Chinese screen, secrets shown in full, and text too faint for its background.

Used by the e2e journey tests (attach to the window, walk the journey, assert nothing was found) and by
the screen tests in tests/ui. Geometry-free on purpose: it reads widgets, not pixels.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, field

from PySide6.QtCore import QTimer
from PySide6.QtGui import QColor, QPalette
from PySide6.QtWidgets import QAbstractButton, QLabel, QLineEdit, QPlainTextEdit, QTextEdit, QWidget

from ui.theme import contrast_ratio, is_large_text

# ASCII words a Chinese screen may show: the PIN (what the pad says), ID (as printed on the card), the
# currency code, the keyboard's key back to letters (as Chinese input methods label it) and the brand
# (Settings.bank_name, a name, not a sentence).
ALLOWED_IN_CHINESE = frozenset({"PIN", "ID", "CNY", "ABC", "Smart", "Teller", "Bank"})
# A run of ASCII letters that is not part of a number, an account or a reference ("TR0012AB", "44X").
_WORD = re.compile(r"(?<![0-9A-Za-z*])[A-Za-z]{2,}(?![0-9A-Za-z]|-[0-9])")  # "KIOSK-0001" is an id


def text_language(widget: QWidget, root: QWidget, screen_lang: str) -> str:
    """A widget's language: the screen's, unless it or a parent says otherwise (``lang`` property), as
    the attract and language screens do for the line in the other language."""
    current: QWidget | None = widget
    while current is not None:
        marked = current.property("lang")
        if isinstance(marked, str) and marked:
            return marked
        if current is root:
            break
        current = current.parentWidget()
    return screen_lang


def visible_texts(root: QWidget) -> Iterator[tuple[QWidget, str]]:
    """(widget, text) for every text a person can see under ``root``: labels, button texts, fields and
    their placeholders, text views."""
    for widget in [root, *root.findChildren(QWidget)]:
        if widget is not root and not widget.isVisibleTo(root):
            continue
        if isinstance(widget, QLabel | QAbstractButton):
            texts = [widget.text()]
        elif isinstance(widget, QLineEdit):
            texts = [widget.text(), "" if widget.text() else widget.placeholderText()]
        elif isinstance(widget, QTextEdit | QPlainTextEdit):
            texts = [widget.toPlainText()]
        else:
            continue
        for text in texts:
            plain = re.sub(r"<[^>]+>", " ", text).strip()  # rich-text labels: the words, not the tags
            if plain:
                yield widget, plain


def english_words(text: str, allowed: Iterable[str] = ALLOWED_IN_CHINESE) -> list[str]:
    allow = set(allowed)
    return [word for word in _WORD.findall(text) if word not in allow]


def _solid(colour: QColor) -> bool:
    return colour.alpha() == 255


def background_of(widget: QWidget) -> QColor:
    """The colour a widget's text is drawn on: its own background if the style sheet gives it one, else
    the nearest ancestor's. The theme makes labels transparent (their palette background has alpha 0),
    so a label with a solid one has a background of its own (the step screens' warning strip)."""
    current: QWidget | None = widget
    while current is not None:
        colour = current.palette().color(current.backgroundRole())
        if _solid(colour):
            return colour
        current = current.parentWidget()
    return QColor("#000000")


def _over(colour: QColor, base: QColor) -> QColor:
    """``colour`` painted with its alpha over ``base`` (Qt draws placeholders half transparent)."""
    alpha = colour.alphaF()
    mixed = [
        alpha * c + (1 - alpha) * b
        for c, b in zip(
            (colour.redF(), colour.greenF(), colour.blueF()),
            (base.redF(), base.greenF(), base.blueF()),
            strict=True,
        )
    ]
    return QColor.fromRgbF(mixed[0], mixed[1], mixed[2])


def colours_of(widget: QWidget) -> tuple[QColor, QColor]:
    """(text colour, background colour) as the widget paints them."""
    if isinstance(widget, QLineEdit):
        palette = widget.palette()
        base = palette.color(QPalette.ColorRole.Base)
        role = QPalette.ColorRole.PlaceholderText if not widget.text() else QPalette.ColorRole.Text
        return _over(palette.color(role), base), base
    return widget.palette().color(widget.foregroundRole()), background_of(widget)


@dataclass(frozen=True)
class Finding:
    screen: str
    kind: str  # english, secret, contrast
    text: str
    detail: str = ""

    def __str__(self) -> str:
        return f"{self.screen}: {self.kind} {self.text!r} {self.detail}".rstrip()


def audit_widget(
    screen: str, root: QWidget, *, lang: str, secrets: Iterable[str] = (), contrast: bool = True
) -> list[Finding]:
    found: list[Finding] = []
    for widget, text in visible_texts(root):
        for secret in secrets:
            if secret and secret in text.replace(" ", ""):
                found.append(Finding(screen, "secret", text))
        if text_language(widget, root, lang) == "zh_CN":
            words = english_words(text)
            if words:
                found.append(Finding(screen, "english", text, ",".join(words)))
        if contrast and not isinstance(widget, QTextEdit | QPlainTextEdit) and widget.isEnabled():
            fg, bg = colours_of(widget)
            ratio = contrast_ratio(fg.name(), bg.name())
            font = widget.font()
            needed = (
                3.0
                if is_large_text(font.pixelSize() or round(font.pointSizeF() * 4 / 3), font.bold())
                else 4.5
            )
            if ratio < needed:
                found.append(
                    Finding(screen, "contrast", text, f"{fg.name()} on {bg.name()} = {ratio:.2f} < {needed}")
                )
    return found


@dataclass
class ScreenAudit:
    """Audits the kiosk window's current screen every few milliseconds while a journey runs."""

    window: QWidget
    lang: Callable[[], str]
    secrets: tuple[str, ...] = ()
    findings: dict[tuple[str, str, str], Finding] = field(default_factory=dict)
    screens: set[str] = field(default_factory=set)
    _timer: QTimer | None = None
    _stopped: bool = False

    def start(self, interval_ms: int = 200) -> ScreenAudit:
        # Each screen as it is entered (rendered by then: the stack signals after on_enter), then every
        # interval for what a screen changes while it shows (a verdict, a retry, a printed note).
        self.window.stack.screenChanged.connect(lambda _name: self.check_now())  # type: ignore[attr-defined]
        self._timer = QTimer(self.window)
        self._timer.setInterval(interval_ms)
        self._timer.timeout.connect(self.check_now)
        self._timer.start()
        return self

    def stop(self) -> None:
        self._stopped = True
        if self._timer is not None:
            self._timer.stop()

    def check_now(self) -> None:
        if self._stopped:
            return
        current = self.window.stack.current_screen()  # type: ignore[attr-defined]
        if current is None:
            return
        name = str(getattr(current, "name", type(current).__name__))
        self.screens.add(name)
        for finding in audit_widget(name, current, lang=self.lang(), secrets=self.secrets):
            self.findings.setdefault((finding.screen, finding.kind, finding.text), finding)

    def finish(self) -> list[str]:
        """Audit what shows now, stop, and return everything found (``[]`` when all was well)."""
        self.check_now()
        self.stop()
        return self.report()

    def report(self, kind: str | None = None) -> list[str]:
        return sorted(str(f) for f in self.findings.values() if kind is None or f.kind == kind)
