"""The host's settings: the bank's time zone decides the calendar date of a moment."""

from __future__ import annotations

from datetime import UTC, date, datetime

import pytest
from pydantic import ValidationError

from bank.settings import HostSettings


def test_a_statement_date_is_the_banks_calendar_date_not_utcs() -> None:
    late_evening_utc = datetime(2026, 12, 3, 17, 30, tzinfo=UTC)  # 01:30 on the 4th in Shanghai
    assert HostSettings().bank_date(late_evening_utc) == date(2026, 12, 4)
    assert HostSettings(timezone="UTC").bank_date(late_evening_utc) == date(2026, 12, 3)
    assert HostSettings(timezone="America/New_York").bank_date(late_evening_utc) == date(2026, 12, 3)
    assert HostSettings().bank_date(datetime(2026, 12, 3, 15, 59, tzinfo=UTC)) == date(2026, 12, 3)


def test_an_unknown_time_zone_is_refused_at_load() -> None:
    with pytest.raises(ValidationError, match="unknown time zone 'Mars/Olympus'"):
        HostSettings(timezone="Mars/Olympus")
