"""The journal viewer: columns (number, bank time, kind, summary), a search box that filters, long
summaries wrapped inside the window (nothing cut off at the right). Rendered to PNG under the tmp dir."""

from __future__ import annotations

from pathlib import Path

from PySide6.QtWidgets import QAbstractItemView
from pytestqt.qtbot import QtBot

from kiosk.banktime import format_bank_time, parse_instant

from .conftest import Rig, add_tech, login, open_kiosk  # type: ignore[import-not-found]


def test_the_journal_reads_in_columns_wraps_and_filters(qtbot: QtBot, rig: Rig, tmp_path: Path) -> None:
    rig.journal.record("card_retained", reason="wrong PIN three times", device="card_reader")
    long_reason = "the customer walked away before taking the card " * 6
    rig.journal.record("card_retained", reason=long_reason.strip(), device="card_reader")
    rig.journal.record("receipt_printed", reference="TXN-4711", paper="ok")
    window, controller = open_kiosk(qtbot, rig)
    add_tech(controller, "sam", "supervisor")
    login(qtbot, controller, "sam")
    screen = controller.screen
    assert screen.open_page("journal")
    page = screen.pages["journal"]
    qtbot.waitUntil(lambda: any(row.kind == "tech_login" for row in page.rows), timeout=5000)
    table = page.table
    headers = [table.horizontalHeaderItem(c).text() for c in range(table.columnCount())]
    assert headers == ["No.", "Time", "Kind", "Summary"]

    printed = next(r for r in rig.journal.records() if r.event == "receipt_printed")
    [row] = [n for n, r in enumerate(page.rows) if r.seq == printed.seq]
    assert table.item(row, 1).text() == format_bank_time(
        parse_instant(printed.ts), rig.settings.bank_timezone
    )
    assert table.item(row, 2).text() == "receipt_printed"
    assert table.item(row, 3).text() == "paper: ok · reference: TXN-4711"
    assert "{" not in table.item(row, 3).text()  # no raw JSON

    # nothing runs off to the right: the columns fit the view and a long summary wraps onto more lines
    qtbot.waitUntil(lambda: table.viewport().width() > 0)
    used = sum(table.columnWidth(c) for c in range(table.columnCount()))
    assert used <= table.viewport().width() + 1
    assert table.horizontalScrollBar().maximum() == 0
    [long_row] = [n for n, r in enumerate(page.rows) if "walked away" in r.summary]
    [short_row] = [n for n, r in enumerate(page.rows) if "three times" in r.summary]
    assert table.rowHeight(long_row) >= 2 * table.rowHeight(short_row)
    window.grab().save(str(tmp_path / "journal-en.png"))

    page.search.setText("card_retained")
    assert [r.kind for r in page.visible_rows()] == ["card_retained", "card_retained"]
    page.search.setText("retained three")  # every word, anywhere in the row
    assert [r.summary for r in page.visible_rows()] == ["device: card_reader · reason: wrong PIN three times"]
    assert page.match_count.text() == f"1 of {len(page.rows)} records"
    assert table.selectionBehavior() is QAbstractItemView.SelectionBehavior.SelectRows
    window.grab().save(str(tmp_path / "journal-search-en.png"))
    page.search.clear()
    assert len(page.visible_rows()) == len(page.rows)
