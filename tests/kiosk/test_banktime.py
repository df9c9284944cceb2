"""Bank time: an instant in the bank's zone with the zone written beside it."""

from __future__ import annotations

from datetime import UTC, datetime
from zoneinfo import ZoneInfo

import pytest

from kiosk.banktime import format_bank_time, format_stamp, parse_instant, parse_typed_time, zone_label

INSTANT = datetime(2026, 12, 6, 3, 16, 36, tzinfo=UTC)


@pytest.mark.parametrize(
    ("zone", "shown"),
    [
        ("Asia/Shanghai", "2026-12-06 11:16:36 CST"),
        ("Europe/London", "2026-12-06 03:16:36 GMT"),
        ("America/New_York", "2026-12-05 22:16:36 EST"),
        # tzdata gives Dubai no letters ("+04"): the offset is spelled out instead.
        ("Asia/Dubai", "2026-12-06 07:16:36 UTC+04:00"),
        ("America/St_Johns", "2026-12-05 23:46:36 NST"),
        ("America/Noronha", "2026-12-06 01:16:36 UTC-02:00"),
    ],
)
def test_an_instant_is_shown_in_the_bank_zone_with_its_zone(zone: str, shown: str) -> None:
    assert format_bank_time(INSTANT, ZoneInfo(zone)) == shown


def test_summer_time_is_named() -> None:
    summer = datetime(2026, 7, 6, 3, 16, 36, tzinfo=UTC)
    assert format_bank_time(summer, ZoneInfo("Europe/London")) == "2026-07-06 04:16:36 BST"


def test_a_stored_instant_without_a_zone_is_utc_never_machine_time() -> None:
    assert parse_instant("2026-12-06T03:16:36.000000Z") == INSTANT
    assert format_bank_time(datetime(2026, 12, 6, 3, 16, 36), ZoneInfo("Asia/Shanghai")).endswith(
        "11:16:36 CST"
    )


def test_a_stamp_of_local_time_refuses_a_naive_one() -> None:
    with pytest.raises(ValueError):
        format_stamp(datetime(2026, 12, 6, 11, 16, 36))
    with pytest.raises(ValueError):
        zone_label(datetime(2026, 12, 6, 11, 16, 36))
    assert format_stamp(INSTANT.astimezone(ZoneInfo("Asia/Shanghai"))) == "2026-12-06 11:16:36 CST"


def test_a_typed_time_is_bank_time_unless_it_names_a_zone() -> None:
    shanghai = ZoneInfo("Asia/Shanghai")
    assert parse_typed_time("2026-12-06 11:16:36", shanghai) == INSTANT
    assert parse_typed_time("2026-12-06T03:16:36Z", shanghai) == INSTANT
    with pytest.raises(ValueError):
        parse_typed_time("last tuesday", shanghai)
