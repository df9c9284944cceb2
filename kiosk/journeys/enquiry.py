"""Enquiries: balance, mini-statement (last 10) and history by date range with paging; print or not.

Bank answers arrive as plain dicts from the ``bank.*`` effects (amounts in minor units, dates as text);
the screens format money in the customer's language. Printing is offered only when the printer answered
ready at the start of the session; a print that fails (paper out, printer gone) says so and carries on
without a receipt. History pages are keyset-paged by the bank (``next_cursor``); going back re-asks for a
page with the cursor remembered for it.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import date, timedelta
from typing import Any

from kiosk.journeys.core import NOTHING, Event, Step
from kiosk.journeys.session import CustomerSession, SessionConfig, SessionJourney

HISTORY_PRESETS_DAYS = (7, 30, 90)
HISTORY_MAX_DAYS = 366


def parse_day(text: str) -> date | None:
    """``2024-05-01`` or ``20240501`` → date; None when it is not a real day."""
    digits = text.replace("-", "").replace("/", "").strip()
    if len(digits) != 8 or not digits.isdigit():
        return None
    try:
        return date(int(digits[:4]), int(digits[4:6]), int(digits[6:]))
    except ValueError:
        return None


class Enquiry(SessionJourney):
    name = "enquiry"

    def __init__(self, session: CustomerSession, config: SessionConfig, kind: str) -> None:
        super().__init__()
        if kind not in ("balance", "mini_statement", "history"):
            raise ValueError(f"unknown enquiry {kind!r}")
        self.session = session
        self.config = config
        self.kind = kind
        self.today = session.today
        self.result: dict[str, Any] = {}
        self.range: tuple[date, date] | None = None
        self.cursors: list[int | None] = [None]  # cursor of each page shown so far (page 1: None)
        self.next_cursor: int | None = None
        self.shown_screen = ""

    # -- start --------------------------------------------------------------------------------
    def on_start(self) -> Step:
        if self.kind == "history":
            return self._ask_range()
        effect = "bank.balance" if self.kind == "balance" else "bank.mini_statement"
        return self.go("loading", "card_wait", message_key="enquiry.wait").then(
            # The PAN (memory only) sends a card session's enquiry over ISO 8583; a face session has none.
            self.run(effect, account_id=self.session.account_id, pan=self.session.pan)
        )

    def _ask_range(self, error: str = "") -> Step:
        return self.go(
            "history_range",
            presets=list(HISTORY_PRESETS_DAYS),
            today=self.today.isoformat(),
            error=error,
        )

    def on_loading(self, event: Event) -> Step:
        if not event.kind.endswith(".done"):
            return NOTHING
        if not event.ok or not isinstance(event.value, Mapping):
            return self._bank_failed(event)
        if event.value.get("refused"):
            return self._ask_range("history.error.order")
        self.result = dict(event.value)
        return self._show_result()

    def _show_result(self) -> Step:
        common = {
            "account": self.session.account_masked,
            "currency": self.config.currency,
            "printer_ok": self.session.printer_ok,
        }
        if self.kind == "balance":
            self.shown_screen = "balance"
            return self.go("showing", "balance", **common, **self.result)
        if self.kind == "mini_statement":
            self.shown_screen = "statement"
            return self.go("showing", "statement", **common, lines=self.result.get("lines", []))
        self.shown_screen = "history"
        assert self.range is not None
        return self.go(
            "showing",
            "history",
            **common,
            lines=self.result.get("lines", []),
            start=self.range[0].isoformat(),
            end=self.range[1].isoformat(),
            page=len(self.cursors),
            has_next=self.result.get("next_cursor") is not None,
            has_previous=len(self.cursors) > 1,
        )

    # -- history range and pages ----------------------------------------------------------------
    def on_history_range(self, event: Event) -> Step:
        if event.kind != "ui.range":
            return NOTHING
        days = event.data.get("days")
        if days is not None:
            end = self.today
            start = end - timedelta(days=max(1, int(days)) - 1)
        else:
            parsed_start = parse_day(str(event.data.get("start", "")))
            parsed_end = parse_day(str(event.data.get("end", "")))
            if parsed_start is None or parsed_end is None:
                return self._ask_range("history.error.date")
            start, end = parsed_start, parsed_end
            if end < start:
                return self._ask_range("history.error.order")
            if end > self.today:
                return self._ask_range("history.error.future")
            if (end - start).days >= HISTORY_MAX_DAYS:
                return self._ask_range("history.error.too_long")
        self.range = (start, end)
        self.cursors = [None]
        return self._load_page(None)

    def _load_page(self, cursor: int | None) -> Step:
        assert self.range is not None
        return self.go("loading", "card_wait", message_key="enquiry.wait").then(
            self.run(
                "bank.history",
                account_id=self.session.account_id,
                start=self.range[0].isoformat(),
                end=self.range[1].isoformat(),
                before=cursor,
                page_size=self.config.history_page_size,
            )
        )

    # -- showing, printing ------------------------------------------------------------------------
    def on_showing(self, event: Event) -> Step:
        if event.kind == "ui.done":
            return self.finish("completed")
        if event.kind == "ui.print":
            if not self.session.printer_ok:
                return self.notice(
                    "warning", "receipt.unavailable.title", "receipt.unavailable.body", buttons=("continue",)
                )
            return self._print()
        if self.kind == "history":
            if event.kind == "ui.next" and self.result.get("next_cursor") is not None:
                cursor = int(self.result["next_cursor"])
                self.cursors.append(cursor)
                return self._load_page(cursor)
            if event.kind == "ui.previous" and len(self.cursors) > 1:
                self.cursors.pop()
                return self._load_page(self.cursors[-1])
            if event.kind == "ui.change_range":
                return self._ask_range()
        return NOTHING

    def _print(self) -> Step:
        kind = {"balance": "balance", "mini_statement": "statement", "history": "history"}[self.kind]
        data = {"account": self.session.account_masked, **self.result}
        return self.go("printing", "card_wait", message_key="card.wait.printing").then(
            self.run(
                "printer.print",
                kind=kind,
                lang=self.session.lang,
                pan_masked=self.session.pan_masked,
                data=data,
                journal={"receipt": kind, "account": self.session.account_masked},
            )
        )

    def on_printing(self, event: Event) -> Step:
        if event.kind != "printer.print.done":
            return NOTHING
        if event.ok:
            return self.finish("completed", printed=True)
        self.session.printer_ok = False
        return self.notice("warning", "receipt.failed.title", "receipt.failed.body", buttons=("continue",))

    def on_notice(self, event: Event) -> Step:
        if event.kind in ("ui.continue", "ui.ok"):
            return self.finish("completed", printed=False)
        return NOTHING

    def _bank_failed(self, event: Event) -> Step:
        value = event.value if isinstance(event.value, Mapping) else {}
        if value.get("refused") == "bad_range":
            return self._ask_range("history.error.order")
        return self.notice("error", "error.bank.title", "error.bank.body")
