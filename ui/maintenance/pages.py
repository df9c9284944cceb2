"""The maintenance screen's pages: devices (live status and actions), journal, settings, logs, technician
accounts and the service state.

Pages render and collect input only. Work goes through the :class:`Runner` (the controller): it runs the
service call off the GUI thread with the logged-in session and calls back here on the GUI thread.
"""

from __future__ import annotations

import html
import json
from collections.abc import Callable, Mapping
from datetime import UTC, datetime, tzinfo
from typing import Any, Protocol, TypeVar

from PySide6.QtCore import Qt
from PySide6.QtWidgets import (
    QAbstractItemView,
    QCheckBox,
    QGridLayout,
    QHBoxLayout,
    QHeaderView,
    QLabel,
    QLineEdit,
    QListWidget,
    QPlainTextEdit,
    QScrollArea,
    QTableWidget,
    QTableWidgetItem,
    QVBoxLayout,
    QWidget,
)

from hostlink.technicians import Action, TechInfo, TechSession
from kiosk.banktime import (
    MINUTE_FORMAT,
    STAMP_FORMAT,
    format_bank_time,
    parse_instant,
    parse_typed_time,
    zone_label,
)
from kiosk.i18n import FALLBACK, tr
from kiosk.i18n_catalog import CATALOG
from kiosk.maintenance.faults import fault_text, status_fault
from kiosk.maintenance.service import ActionOutcome, JournalRow, MaintenanceService, journal_rows
from kiosk.settings import Settings
from ui.maintenance.common import (
    FAIL_TEXT_COLOUR,
    OK_COLOUR,
    OutcomeLabel,
    outcome_text,
    self_test_faults,
    text_field,
)
from ui.widgets.button import KioskButton

T = TypeVar("T")

DEVICE_ORDER = ("card_reader", "pin_pad", "card_dispenser", "id_reader", "printer", "camera")


class Runner(Protocol):
    """What pages need from the controller."""

    service: MaintenanceService

    @property
    def session(self) -> TechSession | None: ...

    def run(self, fn: Callable[[TechSession], T], done: Callable[[T], None], *, label: str = "") -> None: ...

    def describe(self, name: str) -> dict[str, Any]: ...

    def test_receipt(self) -> Any: ...


def _has_text(key: str) -> bool:
    return key in CATALOG[FALLBACK]


def _words(value: Any, lang: str) -> str:
    """A detail value as a technician reads it: Yes/No, "At the slot", never Python's True or a dict."""
    if isinstance(value, bool):
        return tr("maint.value.yes" if value else "maint.value.no", lang)
    if isinstance(value, Mapping):
        return ", ".join(f"{_label(str(k), lang)}: {_words(v, lang)}" for k, v in value.items()) or "—"
    if isinstance(value, list | tuple):
        return ", ".join(_words(v, lang) for v in value) or "—"
    if value is None:
        return "—"
    text = str(value)
    return tr(f"maint.value.{text}", lang) if _has_text(f"maint.value.{text}") else text.replace("_", " ")


def _label(key: str, lang: str) -> str:
    if _has_text(f"maint.detail.{key}"):
        return tr(f"maint.detail.{key}", lang)
    return key.replace("_", " ").capitalize()


class Page(QWidget):
    def __init__(self, runner: Runner, lang: str, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.runner = runner
        self.lang = lang
        self.outcome = OutcomeLabel(self)

    def retranslate(self, lang: str) -> None:
        self.lang = lang

    def shown(self) -> None:
        """The technician opened this page."""

    def may(self, action: Action) -> bool:
        session = self.runner.session
        return session is not None and session.may(action)

    def show_outcome(self, outcome: ActionOutcome) -> None:
        self.outcome.show_outcome(outcome.ok, outcome_text(outcome, self.lang))

    @property
    def zone(self) -> tzinfo:
        """The bank's zone: every time a page shows is in it, with the zone written beside it."""
        return self.runner.service.settings.bank_timezone

    def bank_time(self, moment: datetime, fmt: str = STAMP_FORMAT) -> str:
        return format_bank_time(moment, self.zone, fmt)


def bank_zone_note(settings: Settings, lang: str) -> str:
    """ "Times are bank time: Asia/Shanghai (CST)" for the pages that list times."""
    label = zone_label(datetime.now(UTC).astimezone(settings.bank_timezone))
    return tr("maint.times_in_zone", lang, zone=settings.timezone, label=label)


# -- devices ------------------------------------------------------------------------------------
class DevicesPage(Page):
    def __init__(self, runner: Runner, names: list[str], lang: str, parent: QWidget | None = None) -> None:
        super().__init__(runner, lang, parent)
        self.names = sorted(names, key=lambda n: DEVICE_ORDER.index(n) if n in DEVICE_ORDER else 99)
        self.selected: str | None = self.names[0] if self.names else None
        self._bin_seen = 0  # the fullest the retain bin looked since it was last emptied (the count to match)
        self._states: dict[str, str] = {}  # the state last shown, to notice a recovery
        self._test_faults: dict[str, list[str]] = {}  # faults the last self-test of each device found
        self.facts: dict[str, str] = {}  # the selected device's facts as shown: label -> words
        layout = QHBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.setSpacing(16)
        column = QVBoxLayout()
        column.setSpacing(8)
        self.device_buttons: dict[str, KioskButton] = {}
        for name in self.names:
            button = KioskButton(variant="secondary", parent=self)
            button.setCheckable(True)
            button.clicked.connect(lambda _=False, n=name: self.select(n))
            column.addWidget(button)
            self.device_buttons[name] = button
        self._none = QLabel(self)
        self._none.setVisible(not self.names)
        column.addWidget(self._none)
        column.addStretch(1)
        column_host = QWidget(self)
        column_host.setLayout(column)
        # a share of the width, not a fixed one: at 1024 px the action buttons beside it need the room
        column_host.setMinimumWidth(240)  # "Card dispenser" on one line at the button font
        column_host.setMaximumWidth(300)
        layout.addWidget(column_host, 3)

        right = QVBoxLayout()
        right.setSpacing(10)
        self.heading = QLabel(self)
        self.heading.setProperty("role", "title")
        right.addWidget(self.heading)
        self.details = QLabel(self)
        self.details.setWordWrap(True)
        self.details.setTextFormat(Qt.TextFormat.RichText)
        self.details.setAlignment(Qt.AlignmentFlag.AlignTop | Qt.AlignmentFlag.AlignLeft)
        scroll = QScrollArea(self)
        scroll.setObjectName("maint-details")  # the screen's style sets the details' font by this name
        scroll.setWidgetResizable(True)
        scroll.setFrameShape(QScrollArea.Shape.NoFrame)
        scroll.setWidget(self.details)
        right.addWidget(scroll, 1)
        grid = QGridLayout()
        grid.setSpacing(8)
        self.self_test_button = KioskButton(variant="secondary", parent=self)
        self.restart_button = KioskButton(variant="secondary", parent=self)
        self.print_button = KioskButton(variant="secondary", parent=self)
        self.paper_button = KioskButton(variant="secondary", parent=self)
        self.clear_button = KioskButton(variant="secondary", parent=self)
        self.count_label = QLabel(self)
        self.count_field = text_field(self, name="maint-count")
        self.count_field.setMaxLength(3)
        self.bin_button = KioskButton(variant="secondary", parent=self)
        self.cards_button = KioskButton(variant="secondary", parent=self)
        grid.addWidget(self.self_test_button, 0, 0)
        grid.addWidget(self.restart_button, 0, 1)
        grid.addWidget(self.print_button, 1, 0)
        grid.addWidget(self.paper_button, 1, 1)
        grid.addWidget(self.clear_button, 1, 0)
        count_row = QHBoxLayout()
        count_row.addWidget(self.count_label)
        count_row.addWidget(self.count_field, 1)
        grid.addLayout(count_row, 2, 0)
        grid.addWidget(self.bin_button, 2, 1)
        grid.addWidget(self.cards_button, 2, 1)
        grid.setColumnStretch(0, 1)
        grid.setColumnStretch(1, 1)
        right.addLayout(grid)
        right.addWidget(self.outcome)
        layout.addLayout(right, 5)

        self.self_test_button.clicked.connect(lambda: self._device_action("self_test"))
        self.restart_button.clicked.connect(lambda: self._device_action("restart"))
        self.print_button.clicked.connect(lambda: self._device_action("print_test"))
        self.paper_button.clicked.connect(lambda: self._device_action("replenish_paper"))
        self.clear_button.clicked.connect(lambda: self._device_action("clear_card"))
        self.bin_button.clicked.connect(lambda: self._device_action("empty_retain_bin"))
        self.cards_button.clicked.connect(lambda: self._device_action("replenish_cards"))
        self.retranslate(lang)

    def retranslate(self, lang: str) -> None:
        super().retranslate(lang)
        self._none.setText(tr("maint.devices.none", lang))
        self.self_test_button.set_texts(tr("maint.action.self_test", lang))
        self.restart_button.set_texts(tr("maint.action.restart", lang))
        self.print_button.set_texts(tr("maint.action.print_test", lang))
        self.paper_button.set_texts(tr("maint.action.replenish_paper", lang))
        self.clear_button.set_texts(tr("maint.action.clear_card", lang))
        self.bin_button.set_texts(tr("maint.action.empty_bin", lang))
        self.cards_button.set_texts(tr("maint.action.replenish_cards", lang))
        for name in self.names:
            self.refresh(name)
        self._layout_actions()

    def shown(self) -> None:
        for name in self.names:
            self.refresh(name)
        self._layout_actions()

    def select(self, name: str) -> None:
        if name not in self.names:
            return
        if name != self.selected:
            self.outcome.show_info("")
            self.count_field.clear()
        self.selected = name
        self.refresh(name)
        self._layout_actions()

    def refresh(self, name: str) -> None:
        """Re-render one device (called on its adapter's signals and after each action)."""
        if name not in self.device_buttons:
            return
        info = self.runner.describe(name)
        state = str(info.get("state", "offline"))
        if name == "card_reader":
            self._bin_seen = max(self._bin_seen, int(info.get("detail", {}).get("retained", 0) or 0))
        if state == "online" and self._states.get(name, "online") != "online":
            self._recovered(name)
        self._states[name] = state
        button = self.device_buttons[name]
        button.set_texts(tr(f"maint.device.{name}", self.lang), tr(f"maint.state.{state}", self.lang))
        button.setChecked(name == self.selected)
        button.setProperty("state", state)
        if name == self.selected:
            self.heading.setText(tr(f"maint.device.{name}", self.lang))
            self.details.setText(self._details_html(name, info))

    def _recovered(self, name: str) -> None:
        """Back online: what was wrong before is history (the journal keeps it), not on the page."""
        self._test_faults.pop(name, None)
        if name == self.selected and self.outcome.ok is False:
            self.outcome.show_info("")

    def _fault_html(self, name: str, fault: str) -> str:
        text = fault_text(name, fault, self.lang)
        steps = "".join(f"<li>{html.escape(step)}</li>" for step in text.steps)
        return (
            f"<p style='color:{FAIL_TEXT_COLOUR}'><b>{html.escape(text.sentence)}</b></p>"
            f"<p>{html.escape(tr('maint.fault.fix', self.lang))}</p><ol>{steps}</ol>"
        )

    def _details_html(self, name: str, info: Mapping[str, Any]) -> str:
        lang = self.lang
        none = tr("maint.field.none", lang)
        identity = info.get("info", {})
        state = str(info.get("state", ""))
        colour = OK_COLOUR if state == "online" else FAIL_TEXT_COLOUR
        parts: list[str] = []
        fault = status_fault(name, state, info.get("last_error"))
        if fault is not None:
            parts.append(self._fault_html(name, fault))
        test_faults = [f for f in self._test_faults.get(name, []) if f != fault]
        if test_faults:
            parts.append(f"<p><b>{html.escape(tr('maint.fault.self_test', lang))}</b></p>")
            parts.extend(self._fault_html(name, f) for f in test_faults)
        facts = {
            tr("maint.field.model", lang): str(identity.get("model") or none),
            tr("maint.field.firmware", lang): str(identity.get("firmware") or none),
            tr("maint.field.url", lang): str(identity.get("url") or none),
        }
        # one row per fact, in words: a "key=value" dump is for developers
        for group in ("detail", "counters", "capabilities"):
            for key, value in dict(info.get(group, {})).items():
                facts.setdefault(_label(str(key), lang), _words(value, lang))
        self.facts = facts
        state_text = html.escape(tr(f"maint.state.{state}", lang))
        cell = "<tr><td style='padding-right:16px'><b>{}</b></td><td>{}</td></tr>"
        body = cell.format(
            html.escape(tr("maint.field.state", lang)), f"<b style='color:{colour}'>{state_text}</b>"
        )
        body += "".join(cell.format(html.escape(label), html.escape(value)) for label, value in facts.items())
        return "".join(parts) + f"<table>{body}</table>"

    def _layout_actions(self) -> None:
        name = self.selected
        visible = {
            self.self_test_button: name is not None and self.may(Action.DEVICE_SELFTEST),
            self.restart_button: name is not None and self.may(Action.DEVICE_RESET),
            self.print_button: name == "printer" and self.may(Action.PRINT_TEST),
            self.paper_button: name == "printer" and self.may(Action.REPLENISH_PAPER),
            self.clear_button: name in ("card_reader", "card_dispenser") and self.may(Action.DEVICE_RESET),
            self.bin_button: name == "card_reader" and self.may(Action.EMPTY_RETAIN_BIN),
            self.cards_button: name == "card_dispenser" and self.may(Action.REPLENISH_CARDS),
        }
        for button, show in visible.items():
            button.setVisible(show)
        counting = visible[self.bin_button] or visible[self.cards_button]
        self.count_label.setVisible(counting)
        self.count_field.setVisible(counting)
        self.count_label.setText(
            tr("maint.action.count" if name == "card_reader" else "maint.action.added", self.lang)
        )

    def _count(self) -> int | None:
        text = self.count_field.text().strip()
        if not text.isdigit():
            self.outcome.show_outcome(False, tr("maint.outcome.invalid_count", self.lang))
            return None
        return int(text)

    def _device_action(self, what: str) -> None:
        name = self.selected
        if name is None:
            return
        service = self.runner.service
        fn: Callable[[TechSession], ActionOutcome]
        if what == "self_test":
            fn = lambda s: service.self_test(s, name)  # noqa: E731
        elif what == "restart":
            fn = lambda s: service.restart_driver(s, name)  # noqa: E731
        elif what == "print_test":
            receipt = self.runner.test_receipt()
            fn = lambda s: service.print_test(s, receipt)  # noqa: E731
        elif what == "replenish_paper":
            fn = service.replenish_paper
        elif what == "clear_card":
            fn = lambda s: service.clear_card(s, name)  # noqa: E731
        elif what == "empty_retain_bin":
            counted = self._count()
            if counted is None:
                return
            expected = self._bin_seen
            fn = lambda s: service.empty_retain_bin(s, counted, expected)  # noqa: E731
        elif what == "replenish_cards":
            added = self._count()
            if added is None:
                return
            fn = lambda s: service.replenish_cards(s, added)  # noqa: E731
        else:
            return
        self.outcome.show_info(tr("maint.busy", self.lang))
        self._set_enabled(False)
        self.runner.run(fn, lambda outcome: self._done(name, what, outcome), label=f"maintenance {what}")

    def _done(self, name: str, what: str, outcome: ActionOutcome) -> None:
        self._set_enabled(True)
        if what == "empty_retain_bin" and outcome.code not in ("refused", "session_expired", "invalid_input"):
            self._bin_seen = 0
            self.count_field.clear()
        if what == "replenish_cards" and outcome.ok:
            self.count_field.clear()
        if what == "self_test" and "checks" in outcome.data:
            self._test_faults[name] = self_test_faults(name, list(outcome.data["checks"]))
        self.show_outcome(outcome)
        self.refresh(name)

    def _set_enabled(self, enabled: bool) -> None:
        for button in (
            self.self_test_button,
            self.restart_button,
            self.print_button,
            self.paper_button,
            self.clear_button,
            self.bin_button,
            self.cards_button,
        ):
            button.setEnabled(enabled)


# -- journal ------------------------------------------------------------------------------------
def parse_bound(text: str, zone: tzinfo) -> int | datetime | None:
    """A journal range bound: empty, a sequence number, or an ISO date/time (bank time when no zone:
    the technician types what the journal page shows)."""
    text = text.strip()
    if not text:
        return None
    if text.isdigit():
        return int(text)
    return parse_typed_time(text, zone)  # ValueError for the caller


JOURNAL_COLUMNS = ("seq", "time", "kind", "summary")


class JournalPage(Page):
    TAIL = 200

    def __init__(self, runner: Runner, lang: str, parent: QWidget | None = None) -> None:
        super().__init__(runner, lang, parent)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        self.heading = QLabel(self)
        self.heading.setProperty("role", "title")
        layout.addWidget(self.heading)
        self.zone_note = QLabel(self)
        self.zone_note.setProperty("role", "muted")
        layout.addWidget(self.zone_note)
        search_row = QHBoxLayout()
        self.search = text_field(self, name="maint-journal-search")
        self.search.setClearButtonEnabled(True)
        self.search.textChanged.connect(self._filter)
        self.match_count = QLabel(self)
        self.match_count.setProperty("role", "muted")
        search_row.addWidget(self.search, 1)
        search_row.addWidget(self.match_count)
        layout.addLayout(search_row)
        self.table = QTableWidget(0, len(JOURNAL_COLUMNS), self)
        self.table.setEditTriggers(QAbstractItemView.EditTrigger.NoEditTriggers)
        self.table.setSelectionBehavior(QAbstractItemView.SelectionBehavior.SelectRows)
        self.table.setVerticalScrollMode(QAbstractItemView.ScrollMode.ScrollPerPixel)
        self.table.verticalHeader().setVisible(False)
        # long summaries wrap inside their column: nothing runs off to the right
        self.table.setWordWrap(True)
        self.table.setTextElideMode(Qt.TextElideMode.ElideNone)
        self.table.setHorizontalScrollBarPolicy(Qt.ScrollBarPolicy.ScrollBarAlwaysOff)
        header = self.table.horizontalHeader()
        for column in range(len(JOURNAL_COLUMNS) - 1):
            header.setSectionResizeMode(column, QHeaderView.ResizeMode.ResizeToContents)
        header.setSectionResizeMode(len(JOURNAL_COLUMNS) - 1, QHeaderView.ResizeMode.Stretch)
        header.sectionResized.connect(lambda *_: self.table.resizeRowsToContents())
        layout.addWidget(self.table, 1)
        self.rows: list[JournalRow] = []
        row = QHBoxLayout()
        self.refresh_button = KioskButton(variant="secondary", parent=self)
        self.verify_button = KioskButton(variant="secondary", parent=self)
        row.addWidget(self.refresh_button)
        row.addWidget(self.verify_button)
        layout.addLayout(row)
        self.export_row = QWidget(self)
        export = QHBoxLayout(self.export_row)
        export.setContentsMargins(0, 0, 0, 0)
        self.from_field = text_field(self.export_row, name="maint-from")
        self.to_field = text_field(self.export_row, name="maint-to")
        self.path_field = text_field(self.export_row, name="maint-path")
        self.export_button = KioskButton(variant="secondary", parent=self.export_row)
        export.addWidget(self.from_field, 3)
        export.addWidget(self.to_field, 3)
        export.addWidget(self.path_field, 3)
        export.addWidget(self.export_button, 2)
        layout.addWidget(self.export_row)
        layout.addWidget(self.outcome)
        self.refresh_button.clicked.connect(self.load)
        self.verify_button.clicked.connect(self.verify)
        self.export_button.clicked.connect(self.export)
        self.retranslate(lang)

    def retranslate(self, lang: str) -> None:
        super().retranslate(lang)
        self.heading.setText(tr("maint.journal.title", lang))
        self.zone_note.setText(bank_zone_note(self.runner.service.settings, lang))
        self.search.setPlaceholderText(tr("maint.journal.search", lang))
        self.table.setHorizontalHeaderLabels([tr(f"maint.journal.col.{c}", lang) for c in JOURNAL_COLUMNS])
        self._filter()
        self.refresh_button.set_texts(tr("maint.journal.refresh", lang))
        self.verify_button.set_texts(tr("maint.journal.verify", lang))
        self.export_button.set_texts(tr("maint.journal.export", lang))
        self.from_field.setPlaceholderText(tr("maint.journal.from", lang))
        self.to_field.setPlaceholderText(tr("maint.journal.to", lang))
        self.path_field.setPlaceholderText(tr("maint.journal.path", lang))

    def shown(self) -> None:
        self.export_row.setVisible(self.may(Action.EXPORT_JOURNAL))
        self.load()

    def load(self) -> None:
        self.runner.run(
            lambda s: self.runner.service.journal_tail(s, self.TAIL), self._loaded, label="journal"
        )

    def _loaded(self, outcome: ActionOutcome) -> None:
        if not outcome.ok:
            self.show_outcome(outcome)
            return
        self.rows = journal_rows(outcome.data["records"], self.zone)
        self.table.setRowCount(len(self.rows))
        for index, row in enumerate(self.rows):
            for column, text in enumerate((str(row.seq), row.time, row.kind, row.summary)):
                item = QTableWidgetItem(text)
                item.setTextAlignment(Qt.AlignmentFlag.AlignLeft | Qt.AlignmentFlag.AlignTop)
                self.table.setItem(index, column, item)
        self._filter()
        self.table.scrollToBottom()

    def _filter(self) -> None:
        """Show the rows that hold every word typed in the search box."""
        query = self.search.text()
        shown = 0
        for index, row in enumerate(self.rows):
            hide = not row.matches(query)
            self.table.setRowHidden(index, hide)
            shown += not hide
        self.table.resizeRowsToContents()
        self.match_count.setText(tr("maint.journal.matches", self.lang, shown=shown, total=len(self.rows)))

    def visible_rows(self) -> list[JournalRow]:
        return [row for index, row in enumerate(self.rows) if not self.table.isRowHidden(index)]

    def verify(self) -> None:
        self.runner.run(self.runner.service.verify_journal, self._verified, label="journal verify")

    def _verified(self, outcome: ActionOutcome) -> None:
        data = outcome.data
        if outcome.code in ("success", "journal_broken"):
            if outcome.ok:
                text = tr("maint.journal.ok", self.lang, count=data["count"])
            else:
                text = tr("maint.journal.broken", self.lang, seq=data["first_bad_seq"], reason=data["reason"])
            self.outcome.show_outcome(outcome.ok, text)
        else:
            self.show_outcome(outcome)

    def export(self) -> None:
        from pathlib import Path

        try:
            start = parse_bound(self.from_field.text(), self.zone)
            end = parse_bound(self.to_field.text(), self.zone)
        except ValueError:
            self.outcome.show_outcome(False, tr("maint.journal.bad_bound", self.lang))
            return
        target = Path(self.path_field.text().strip() or ".")
        self.runner.run(
            lambda s: self.runner.service.export_journal(s, start, end, target),
            self._exported,
            label="export",
        )

    def _exported(self, outcome: ActionOutcome) -> None:
        if outcome.ok:
            text = tr(
                "maint.journal.exported",
                self.lang,
                records=outcome.data["records"],
                path=outcome.data["path"],
            )
            self.outcome.show_outcome(True, text)
        else:
            self.show_outcome(outcome)


# -- settings and logs ----------------------------------------------------------------------------
class TextPage(Page):
    """A read-only text view with a refresh button (settings, logs)."""

    def __init__(self, runner: Runner, lang: str, title_key: str, parent: QWidget | None = None) -> None:
        super().__init__(runner, lang, parent)
        self.title_key = title_key
        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        self.heading = QLabel(self)
        self.heading.setProperty("role", "title")
        layout.addWidget(self.heading)
        self.zone_note = QLabel(self)
        self.zone_note.setProperty("role", "muted")
        layout.addWidget(self.zone_note)
        self.text = QPlainTextEdit(self)
        self.text.setReadOnly(True)
        self.text.setLineWrapMode(QPlainTextEdit.LineWrapMode.NoWrap)
        layout.addWidget(self.text, 1)
        self.refresh_button = KioskButton(variant="secondary", parent=self)
        self.refresh_button.clicked.connect(self.load)
        layout.addWidget(self.refresh_button)
        layout.addWidget(self.outcome)
        self.retranslate(lang)

    def retranslate(self, lang: str) -> None:
        super().retranslate(lang)
        self.heading.setText(tr(self.title_key, lang))
        self.refresh_button.set_texts(tr("maint.logs.refresh", lang))

    def shown(self) -> None:
        self.load()

    def load(self) -> None:
        raise NotImplementedError

    def _show_text(self, outcome: ActionOutcome, text: str) -> None:
        if not outcome.ok:
            self.show_outcome(outcome)
            return
        self.outcome.show_info("")
        self.text.setPlainText(text)
        bar = self.text.verticalScrollBar()
        bar.setValue(bar.maximum())


class SettingsPage(TextPage):
    def __init__(self, runner: Runner, lang: str, parent: QWidget | None = None) -> None:
        super().__init__(runner, lang, "maint.settings.title", parent)

    def load(self) -> None:
        self.runner.run(
            self.runner.service.settings_view,
            lambda o: self._show_text(
                o, json.dumps(o.data.get("settings", {}), indent=2, ensure_ascii=False)
            ),
            label="settings",
        )

    def _show_text(self, outcome: ActionOutcome, text: str) -> None:
        super()._show_text(outcome, text)
        self.text.verticalScrollBar().setValue(0)  # settings read from the top


class LogsPage(TextPage):
    LINES = 300

    def __init__(self, runner: Runner, lang: str, parent: QWidget | None = None) -> None:
        super().__init__(runner, lang, "maint.logs.title", parent)

    def load(self) -> None:
        self.runner.run(
            lambda s: self.runner.service.log_tail(s, self.LINES),
            lambda o: self._show_text(o, "\n".join(o.data.get("lines", []))),
            label="logs",
        )


# -- technicians --------------------------------------------------------------------------------
class TechniciansPage(Page):
    def __init__(self, runner: Runner, lang: str, parent: QWidget | None = None) -> None:
        super().__init__(runner, lang, parent)
        self.accounts: list[TechInfo] = []
        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        self.heading = QLabel(self)
        self.heading.setProperty("role", "title")
        layout.addWidget(self.heading)
        self.list = QListWidget(self)
        layout.addWidget(self.list, 1)
        form = QHBoxLayout()
        self.username = text_field(self, name="maint-new-username")
        self.password = text_field(self, password=True, name="maint-new-password")
        self.supervisor = QCheckBox(self)
        self.supervisor.setMinimumHeight(44)
        form.addWidget(self.username, 3)
        form.addWidget(self.password, 3)
        form.addWidget(self.supervisor, 2)
        layout.addLayout(form)
        buttons = QHBoxLayout()
        self.add_button = KioskButton(variant="secondary", parent=self)
        self.unlock_button = KioskButton(variant="secondary", parent=self)
        self.remove_button = KioskButton(variant="danger", parent=self)
        for button in (self.add_button, self.unlock_button, self.remove_button):
            buttons.addWidget(button)
        layout.addLayout(buttons)
        layout.addWidget(self.outcome)
        self.add_button.clicked.connect(self.add)
        self.unlock_button.clicked.connect(lambda: self._on_selected("unlock"))
        self.remove_button.clicked.connect(lambda: self._on_selected("remove"))
        self.retranslate(lang)

    def retranslate(self, lang: str) -> None:
        super().retranslate(lang)
        self.heading.setText(tr("maint.techs.title", lang))
        self.username.setPlaceholderText(tr("maint.techs.username", lang))
        self.password.setPlaceholderText(tr("maint.techs.password", lang))
        self.supervisor.setText(tr("maint.techs.role", lang))
        self.add_button.set_texts(tr("maint.techs.add", lang))
        self.unlock_button.set_texts(tr("maint.techs.unlock", lang))
        self.remove_button.set_texts(tr("maint.techs.remove", lang))
        self._render()

    def shown(self) -> None:
        self.load()

    def load(self) -> None:
        self.runner.run(self.runner.service.list_technicians, self._loaded, label="technicians")

    def _loaded(self, result: ActionOutcome | list[TechInfo]) -> None:
        if isinstance(result, ActionOutcome):
            self.show_outcome(result)
            return
        self.accounts = result
        self._render()

    def _render(self) -> None:
        self.list.clear()
        for account in self.accounts:
            locked = account.locked_until is not None and account.locked_until > datetime.now(UTC)
            last = self.bank_time(account.last_login, MINUTE_FORMAT) if account.last_login else None
            self.list.addItem(
                tr(
                    "maint.techs.row",
                    self.lang,
                    username=account.username,
                    role=tr(f"maint.role.{account.role.value}", self.lang),
                    last=last or tr("maint.techs.never", self.lang),
                    locked=f"· {tr('maint.techs.locked', self.lang)}" if locked else "",
                ).strip()
            )

    def selected_username(self) -> str | None:
        row = self.list.currentRow()
        return self.accounts[row].username if 0 <= row < len(self.accounts) else None

    def add(self) -> None:
        username, password = self.username.text().strip(), self.password.text()
        role = "supervisor" if self.supervisor.isChecked() else "technician"
        self.password.clear()
        self.runner.run(
            lambda s: self.runner.service.add_technician(s, username, password, role),
            self._changed,
            label="add",
        )

    def _on_selected(self, what: str) -> None:
        username = self.selected_username()
        if username is None:
            return
        service = self.runner.service
        if what == "unlock":
            self.runner.run(lambda s: service.unlock_technician(s, username), self._changed, label="unlock")
        else:
            self.runner.run(lambda s: service.remove_technician(s, username), self._changed, label="remove")

    def _changed(self, outcome: ActionOutcome) -> None:
        self.show_outcome(outcome)
        if outcome.ok:
            self.username.clear()
            self.load()


# -- service state ------------------------------------------------------------------------------
class ServicePage(Page):
    changed_callback: Callable[[], None] | None = None

    def __init__(self, runner: Runner, lang: str, parent: QWidget | None = None) -> None:
        super().__init__(runner, lang, parent)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        self.heading = QLabel(self)
        self.heading.setProperty("role", "title")
        layout.addWidget(self.heading)
        self.state_label = QLabel(self)
        self.state_label.setWordWrap(True)
        layout.addWidget(self.state_label)
        self.reason_label = QLabel(self)
        layout.addWidget(self.reason_label)
        self.reason: QLineEdit = text_field(self, name="maint-reason")
        self.reason.setMaxLength(200)
        layout.addWidget(self.reason)
        row = QHBoxLayout()
        self.take_out_button = KioskButton(variant="danger", parent=self)
        self.return_button = KioskButton(variant="primary", parent=self)
        row.addWidget(self.take_out_button)
        row.addWidget(self.return_button)
        layout.addLayout(row)
        layout.addWidget(self.outcome)
        layout.addStretch(1)
        self.take_out_button.clicked.connect(lambda: self._set(True))
        self.return_button.clicked.connect(lambda: self._set(False))
        self.retranslate(lang)

    def retranslate(self, lang: str) -> None:
        super().retranslate(lang)
        self.heading.setText(tr("maint.service.title", lang))
        self.reason_label.setText(tr("maint.service.reason", lang))
        self.take_out_button.set_texts(tr("maint.service.take_out", lang))
        self.return_button.set_texts(tr("maint.service.return", lang))
        self._render()

    def shown(self) -> None:
        self._render()

    def _render(self) -> None:
        state = self.runner.service.out_of_service()
        if state.active:
            since = self.bank_time(parse_instant(state.since)) if state.since else ""
            text = tr("maint.service.out", self.lang, since=since, by=state.by, reason=state.reason)
        else:
            text = tr("maint.service.in_service", self.lang)
        self.state_label.setText(text)
        self.take_out_button.setVisible(not state.active)
        self.return_button.setVisible(state.active)

    def _set(self, active: bool) -> None:
        reason = self.reason.text()
        self.runner.run(
            lambda s: self.runner.service.set_out_of_service(s, active, reason), self._done, label="service"
        )

    def _done(self, outcome: ActionOutcome) -> None:
        self.show_outcome(outcome)
        if outcome.ok:
            self.reason.clear()
        self._render()
        if self.changed_callback is not None:
            self.changed_callback()
