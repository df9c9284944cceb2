"""A big touch button with an optional second line (a hint under the title)."""

from __future__ import annotations

from typing import Literal

from PySide6.QtCore import QDynamicPropertyChangeEvent, QEvent, QSize, Qt
from PySide6.QtWidgets import QLabel, QPushButton, QSizePolicy, QVBoxLayout, QWidget

from ui.theme import MIN_TOUCH_PX, PRIMARY_BUTTON_HEIGHT_PX

Variant = Literal["primary", "secondary", "danger", "key", "key-action", "candidate"]


class KioskButton(QPushButton):
    """``variant`` picks the stylesheet look; primary and secondary buttons are ~88 px tall."""

    def __init__(
        self, text: str = "", *, hint: str = "", variant: Variant = "primary", parent: QWidget | None = None
    ) -> None:
        super().__init__(parent)
        self.setProperty("variant", variant)
        self.setCursor(Qt.CursorShape.PointingHandCursor)
        self.setSizePolicy(QSizePolicy.Policy.Expanding, QSizePolicy.Policy.Fixed)
        tall = variant in ("primary", "secondary", "danger")
        self.setMinimumSize(MIN_TOUCH_PX, PRIMARY_BUTTON_HEIGHT_PX if tall else MIN_TOUCH_PX)
        self._title = QLabel(self)
        self._title.setProperty("role", "button-title")
        self._hint = QLabel(self)
        self._hint.setProperty("role", "button-hint")
        for label in (self._title, self._hint):
            label.setAlignment(Qt.AlignmentFlag.AlignCenter)
            label.setWordWrap(True)
            # Labels must not swallow the touch: the button underneath handles it.
            label.setAttribute(Qt.WidgetAttribute.WA_TransparentForMouseEvents)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(16, 8, 16, 8)
        layout.setSpacing(4)
        layout.addWidget(self._title)
        layout.addWidget(self._hint)
        self.set_texts(text, hint)
        self._update_tone()

    def set_texts(self, text: str, hint: str = "") -> None:
        self._title.setText(text)
        self._hint.setText(hint)
        self._hint.setVisible(bool(hint))
        # Screen readers and tests see the whole label; QPushButton's own text stays empty so it
        # does not paint under the labels.
        self.setAccessibleName(f"{text}. {hint}" if hint else text)

    def changeEvent(self, event: QEvent) -> None:
        super().changeEvent(event)
        if event.type() == QEvent.Type.EnabledChange:
            self._update_tone()

    def event(self, event: QEvent) -> bool:
        # A screen that turns a button primary (face login's chosen mode) must darken its labels too:
        # left as they were, the white title sat on the amber fill at 1.6:1.
        if (
            event.type() == QEvent.Type.DynamicPropertyChange
            and isinstance(event, QDynamicPropertyChangeEvent)
            and bytes(event.propertyName().data()) == b"variant"
            and hasattr(self, "_hint")  # __init__ sets the variant before the labels exist
        ):
            self._update_tone()
        return super().event(event)

    def _update_tone(self) -> None:
        # Style sheets cannot select a child by its parent's state, so the labels carry the tone.
        variant = self.property("variant")
        if not self.isEnabled():
            tone = "disabled"
        elif variant == "primary":
            tone = "on-accent"
        elif variant == "danger":
            tone = "on-danger"
        else:
            tone = "normal"
        for label in (self._title, self._hint):
            if label.property("tone") != tone:
                label.setProperty("tone", tone)
                label.style().unpolish(label)
                label.style().polish(label)

    def title(self) -> str:
        return self._title.text()

    def hint(self) -> str:
        return self._hint.text()

    def sizeHint(self) -> QSize:
        # QPushButton's own hint ignores the child labels; the layout knows how much room they need.
        own = super().sizeHint()
        layout = self.layout()
        wanted = layout.sizeHint() if layout is not None else own
        return QSize(
            max(own.width(), wanted.width()), max(own.height(), wanted.height(), self.minimumHeight())
        )
