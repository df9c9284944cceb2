"""The on-screen keyboard: a full-screen kiosk has no system keyboard.

Three layers (letters, digits, symbols), shift (tap once for one capital, twice for caps lock, a third
time to release), backspace, space and Done. With ``allow_chinese`` a 中文/EN key switches letters to
pinyin: letters build up a composition shown in the candidate bar, a tap on a candidate (or Space for the
first one) inserts the hanzi. Text goes into the target QLineEdit through its own ``insert``/``backspace``,
so the line edit's validator and max length still apply.
"""

from __future__ import annotations

from collections.abc import Sequence
from enum import Enum

from PySide6.QtCore import Qt, Signal
from PySide6.QtWidgets import (
    QFrame,
    QHBoxLayout,
    QLabel,
    QLineEdit,
    QPushButton,
    QSizePolicy,
    QVBoxLayout,
    QWidget,
)

from kiosk.i18n import tr
from ui.theme import MIN_TOUCH_PX
from ui.widgets.pinyin import Candidate, candidates


class Layer(Enum):
    LETTERS = "letters"
    DIGITS = "digits"
    SYMBOLS = "symbols"


class Shift(Enum):
    OFF = 0
    ONCE = 1
    LOCKED = 2


LETTER_ROWS = ("qwertyuiop", "asdfghjkl", "zxcvbnm")
DIGIT_ROWS = ("1234567890", '-/:;()¥&@"', ".,?!'")
SYMBOL_ROWS = ("[]{}#%^*+=", "_\\|~<>$€·", ".,?!'")

SHIFT_GLYPH = "⇧"
BACKSPACE_GLYPH = "⌫"
CANDIDATES_PER_PAGE = 8
KEY_HEIGHT_PX = 64  # above the 44 px floor: keys are pressed many times in a row


class OnScreenKeyboard(QFrame):
    submitted = Signal()  # Done was pressed
    textInserted = Signal(str)

    def __init__(
        self, lang: str = "en", *, allow_chinese: bool = False, parent: QWidget | None = None
    ) -> None:
        super().__init__(parent)
        self.setProperty("role", "keyboard")
        self.setSizePolicy(QSizePolicy.Policy.Expanding, QSizePolicy.Policy.Fixed)
        self._lang = lang
        self._target: QLineEdit | None = None
        self._layer = Layer.LETTERS
        self._shift = Shift.OFF
        self._allow_chinese = allow_chinese
        self._chinese = False
        self._composition = ""
        self._candidate_page = 0
        self._letter_buttons: list[QPushButton] = []

        outer = QVBoxLayout(self)
        outer.setContentsMargins(12, 8, 12, 12)
        outer.setSpacing(8)

        self._candidate_bar = QFrame(self)
        self._candidate_bar.setProperty("role", "candidates")
        bar = QHBoxLayout(self._candidate_bar)
        bar.setContentsMargins(0, 0, 0, 0)
        bar.setSpacing(6)
        self._composition_label = QLabel(self._candidate_bar)
        self._composition_label.setMinimumWidth(120)
        bar.addWidget(self._composition_label)
        self._prev_page = self._key("‹", self._previous_candidates, variant="key-action")
        bar.addWidget(self._prev_page)
        self._candidate_buttons: list[QPushButton] = []
        for index in range(CANDIDATES_PER_PAGE):
            button = self._key("", lambda _=False, i=index: self._choose_candidate(i), variant="candidate")
            self._candidate_buttons.append(button)
            bar.addWidget(button)
        self._no_match = QLabel(self._candidate_bar)
        self._no_match.setProperty("role", "muted")
        bar.addWidget(self._no_match, 1)
        self._next_page = self._key("›", self._next_candidates, variant="key-action")
        bar.addWidget(self._next_page)
        outer.addWidget(self._candidate_bar)

        self._rows_host = QWidget(self)
        self._rows_host.setProperty("role", "transparent")
        self._rows = QVBoxLayout(self._rows_host)
        self._rows.setContentsMargins(0, 0, 0, 0)
        self._rows.setSpacing(8)
        outer.addWidget(self._rows_host)
        self._build_layer()
        self._refresh_candidates()

    # -- public ------------------------------------------------------------------------------
    def set_target(self, line_edit: QLineEdit | None) -> None:
        self._commit_composition()
        self._target = line_edit

    def target(self) -> QLineEdit | None:
        return self._target

    def retranslate(self, lang: str) -> None:
        self._lang = lang
        self._build_layer()
        self._refresh_candidates()

    def layer(self) -> Layer:
        return self._layer

    def set_layer(self, layer: Layer) -> None:
        self._commit_composition()
        self._layer = layer
        self._build_layer()

    def set_chinese(self, on: bool) -> None:
        if on and not self._allow_chinese:
            return
        self._commit_composition()
        self._chinese = on
        self._build_layer()

    def composition(self) -> str:
        return self._composition

    def visible_candidates(self) -> list[str]:
        return [candidate.text for candidate in self._page()]

    def press(self, key: str) -> None:
        """Type one key as if touched: a character, or "space", "backspace", "enter", "shift"."""
        if key == "space":
            self._space()
        elif key == "backspace":
            self._backspace()
        elif key == "enter":
            self._enter()
        elif key == "shift":
            self._toggle_shift()
        else:
            self._character(key)

    # -- key actions -------------------------------------------------------------------------
    def _character(self, char: str) -> None:
        if self._chinese and self._layer is Layer.LETTERS and char.isascii() and char.isalpha():
            self._composition += char.lower()
            self._candidate_page = 0
            self._refresh_candidates()
            return
        self._commit_composition()
        if self._layer is Layer.LETTERS and self._shift is not Shift.OFF:
            char = char.upper()
            if self._shift is Shift.ONCE:
                self._shift = Shift.OFF
                self._relabel_letters()
        self._insert(char)

    def _space(self) -> None:
        if self._composition:
            self._choose_candidate(0)
            return
        self._insert(" ")

    def _backspace(self) -> None:
        if self._composition:
            self._composition = self._composition[:-1]
            self._candidate_page = 0
            self._refresh_candidates()
            return
        if self._target is not None:
            self._target.backspace()

    def _enter(self) -> None:
        self._commit_composition()
        self.submitted.emit()
        if self._target is not None:
            self._target.returnPressed.emit()

    def _toggle_shift(self) -> None:
        self._shift = {Shift.OFF: Shift.ONCE, Shift.ONCE: Shift.LOCKED, Shift.LOCKED: Shift.OFF}[self._shift]
        self._relabel_letters()

    def _insert(self, text: str) -> None:
        if self._target is None or not text:
            return
        self._target.insert(text)
        self.textInserted.emit(text)

    def _commit_composition(self) -> None:
        """Leaving pinyin mid-word keeps the letters typed rather than losing them."""
        if self._composition:
            letters, self._composition = self._composition, ""
            self._insert(letters)
            self._refresh_candidates()

    # -- candidates --------------------------------------------------------------------------
    def _all_candidates(self) -> list[Candidate]:
        return candidates(self._composition)

    def _page(self) -> Sequence[Candidate]:
        start = self._candidate_page * CANDIDATES_PER_PAGE
        return self._all_candidates()[start : start + CANDIDATES_PER_PAGE]

    def _choose_candidate(self, index: int) -> None:
        page = self._page()
        if index >= len(page):
            return
        chosen = page[index]
        self._composition = self._composition[chosen.consumed :]
        self._candidate_page = 0
        self._insert(chosen.text)
        self._refresh_candidates()

    def _next_candidates(self) -> None:
        if (self._candidate_page + 1) * CANDIDATES_PER_PAGE < len(self._all_candidates()):
            self._candidate_page += 1
            self._refresh_candidates()

    def _previous_candidates(self) -> None:
        if self._candidate_page > 0:
            self._candidate_page -= 1
            self._refresh_candidates()

    def _refresh_candidates(self) -> None:
        self._candidate_bar.setVisible(self._chinese)
        page = self._page()
        self._composition_label.setText(self._composition)
        for index, button in enumerate(self._candidate_buttons):
            if index < len(page):
                button.setText(page[index].text)
                button.show()
            else:
                button.setText("")
                button.hide()
        total = len(self._all_candidates())
        self._no_match.setText(
            tr("keyboard.candidates.none", self._lang) if self._composition and not total else ""
        )
        self._prev_page.setEnabled(self._candidate_page > 0)
        self._next_page.setEnabled((self._candidate_page + 1) * CANDIDATES_PER_PAGE < total)

    # -- layout ------------------------------------------------------------------------------
    def _key(self, label: str, action: object, *, variant: str = "key", name: str = "") -> QPushButton:
        button = QPushButton(label, self)
        button.setProperty("variant", variant)
        button.setFocusPolicy(Qt.FocusPolicy.NoFocus)  # the line edit keeps the focus and its cursor
        button.setMinimumSize(MIN_TOUCH_PX, KEY_HEIGHT_PX)
        button.setSizePolicy(QSizePolicy.Policy.Expanding, QSizePolicy.Policy.Fixed)
        button.setAccessibleName(name or label)
        button.clicked.connect(action)
        return button

    def _build_layer(self) -> None:
        while self._rows.count():
            item = self._rows.takeAt(0)
            widget = item.widget() if item is not None else None
            if widget is not None:
                widget.hide()
                widget.deleteLater()
        self._letter_buttons = []
        self._shift_button: QPushButton | None = None
        rows = {Layer.LETTERS: LETTER_ROWS, Layer.DIGITS: DIGIT_ROWS, Layer.SYMBOLS: SYMBOL_ROWS}[self._layer]
        for index, chars in enumerate(rows):
            row = QWidget(self._rows_host)
            row.setProperty("role", "transparent")
            line = QHBoxLayout(row)
            line.setContentsMargins(0, 0, 0, 0)
            line.setSpacing(8)
            last = index == len(rows) - 1
            if last:
                line.addWidget(self._layer_modifier(), 3)
            elif index == 1 and self._layer is Layer.LETTERS:
                line.addSpacing(36)
            for char in chars:
                button = self._key(char, lambda _=False, c=char: self.press(c))
                if self._layer is Layer.LETTERS:
                    self._letter_buttons.append(button)
                line.addWidget(button, 2)
            if last:
                backspace = self._key(
                    BACKSPACE_GLYPH,
                    self._backspace,
                    variant="key-action",
                    name=tr("keyboard.backspace", self._lang),
                )
                backspace.setAutoRepeat(True)  # hold to delete several characters
                line.addWidget(backspace, 3)
            elif index == 1 and self._layer is Layer.LETTERS:
                line.addSpacing(36)
            self._rows.addWidget(row)
            row.show()  # added after the keyboard was shown: show now, not on the next event loop pass
        bottom = self._bottom_row()
        self._rows.addWidget(bottom)
        bottom.show()
        self._relabel_letters()

    def _layer_modifier(self) -> QPushButton:
        if self._layer is Layer.LETTERS:
            button = self._key(
                SHIFT_GLYPH, self._toggle_shift, variant="key-action", name=tr("keyboard.shift", self._lang)
            )
            self._shift_button = button
            return button
        if self._layer is Layer.DIGITS:
            return self._key(
                tr("keyboard.symbols", self._lang),
                lambda: self.set_layer(Layer.SYMBOLS),
                variant="key-action",
            )
        return self._key(
            tr("keyboard.digits", self._lang), lambda: self.set_layer(Layer.DIGITS), variant="key-action"
        )

    def _bottom_row(self) -> QWidget:
        row = QWidget(self._rows_host)
        row.setProperty("role", "transparent")
        line = QHBoxLayout(row)
        line.setContentsMargins(0, 0, 0, 0)
        line.setSpacing(8)
        if self._layer is Layer.LETTERS:
            switch = self._key(
                tr("keyboard.digits", self._lang), lambda: self.set_layer(Layer.DIGITS), variant="key-action"
            )
        else:
            switch = self._key(
                tr("keyboard.letters", self._lang),
                lambda: self.set_layer(Layer.LETTERS),
                variant="key-action",
            )
        line.addWidget(switch, 3)
        if self._allow_chinese:
            label = tr("keyboard.english" if self._chinese else "keyboard.chinese", self._lang)
            toggle = self._key(label, lambda: self.set_chinese(not self._chinese), variant="key-action")
            # Names the input it switches to in that language ("EN" on a Chinese screen), on purpose.
            toggle.setProperty("lang", "en" if self._chinese else "zh_CN")
            line.addWidget(toggle, 3)
        line.addWidget(self._key(tr("keyboard.space", self._lang), self._space, variant="key-action"), 10)
        line.addWidget(self._key("-", lambda: self.press("-")), 2)
        enter = self._key(tr("keyboard.enter", self._lang), self._enter, variant="key-action")
        enter.setProperty("accent", "true")  # accent colour: the key that finishes the field
        line.addWidget(enter, 4)
        return row

    def _relabel_letters(self) -> None:
        upper = self._shift is not Shift.OFF and not self._chinese
        for button in self._letter_buttons:
            char = button.accessibleName()
            button.setText(char.upper() if upper else char)
        shift = self._shift_button
        if shift is not None:
            shift.setProperty("accent", "true" if self._shift is not Shift.OFF else "false")
            shift.setText("⇪" if self._shift is Shift.LOCKED else SHIFT_GLYPH)
            shift.style().unpolish(shift)
            shift.style().polish(shift)
