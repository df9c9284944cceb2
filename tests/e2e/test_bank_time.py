"""One bank time zone: a transfer's receipt and the journal view of its printing read the same wall time
and the same zone, with a zone that is not the default one (and not UTC) so a stamp in the wrong zone,
or one without its zone, fails."""

from __future__ import annotations

import json
import re
from datetime import UTC, datetime
from typing import Any

import pytest

from kiosk.maintenance.service import records_as_text
from kiosk.settings import Settings

# A summer instant: London is on BST (UTC+1), so UTC, machine time and the default zone all differ.
FIXED = datetime(2026, 7, 6, 3, 16, 36, tzinfo=UTC)


@pytest.fixture
def e2e_settings(e2e_settings: Settings) -> Settings:
    return e2e_settings.model_copy(update={"timezone": "Europe/London"})


def test_transfer_receipt_and_journal_view_show_the_same_bank_time_and_zone(kiosk: Any) -> None:
    services = kiosk.app.services
    services.clock = lambda: FIXED
    services.journal._clock = lambda: FIXED
    kiosk.login()
    kiosk.transfer_to_li_na("60")
    kiosk.act("confirm")
    result = kiosk.wait_screen("transfer_result")
    reference = result.reference()
    kiosk.act("print")
    kiosk.wait_screen("anything_else")
    receipt = kiosk.ctl("printer", "receipts")[-1]["text"]
    assert reference in receipt

    stamp = re.search(r"\d{4}-\d{2}-\d{2} \d{2}:\d{2}:\d{2} \S+", receipt)
    assert stamp is not None, receipt
    assert stamp.group(0) == "2026-07-06 04:16:36 BST"

    printed = [
        record
        for record in services.journal.records()
        if record.event.startswith("print") and reference in json.dumps(record.fields)
    ]
    assert printed, "the printing of the receipt is journaled with its reference"
    (line,) = records_as_text(printed[-1:], services.settings.bank_timezone)
    assert stamp.group(0) in line
    assert printed[-1].ts.startswith("2026-07-06T03:16:36")  # the journal itself keeps UTC
