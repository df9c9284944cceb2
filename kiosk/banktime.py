"""Bank time: the one way the terminal shows an instant to a person.

The journal, the host and the monitors keep instants in UTC; receipts, screens, maintenance pages and the
``smart-teller journal`` command show them in the bank's zone (``Settings.timezone``) with the zone
written next to them, so a receipt and the journal line of one transfer read the same wall time and a
technician can tell which zone a time is in. Times a person types (journal export bounds) are read in
the bank's zone when they name none.
"""

from __future__ import annotations

from datetime import UTC, datetime, tzinfo

STAMP_FORMAT = "%Y-%m-%d %H:%M:%S"
MINUTE_FORMAT = "%Y-%m-%d %H:%M"
CLOCK_FORMAT = "%H:%M:%S"


def zone_label(moment: datetime) -> str:
    """The zone's own abbreviation ("CST", "GMT", "BST"), else its offset ("UTC+04:00").

    Several zones have no letters of their own (tzdata writes "+04"); a bare number reads like part of
    the time, so those get the offset spelled out.
    """
    if moment.tzinfo is None:
        raise ValueError("bank time needs a time-zone-aware instant")
    name = moment.tzname() or ""
    if name.isalpha():
        return name
    offset = moment.utcoffset()
    assert offset is not None  # aware, so it has an offset
    minutes = int(offset.total_seconds()) // 60
    sign = "+" if minutes >= 0 else "-"
    hours, rest = divmod(abs(minutes), 60)
    return f"UTC{sign}{hours:02d}:{rest:02d}"


def in_bank_time(moment: datetime, zone: tzinfo) -> datetime:
    # A stored instant without a zone is UTC (the terminal and the host store UTC), never machine time.
    aware = moment if moment.tzinfo else moment.replace(tzinfo=UTC)
    return aware.astimezone(zone)


def format_bank_time(moment: datetime, zone: tzinfo, fmt: str = STAMP_FORMAT) -> str:
    """``2026-12-06 11:16:36 CST``: the instant in the bank's zone, with the zone."""
    local = in_bank_time(moment, zone)
    return f"{local.strftime(fmt)} {zone_label(local)}"


def format_stamp(moment: datetime, fmt: str = STAMP_FORMAT) -> str:
    """An instant already in bank time (``TerminalServices.now_local``), with its zone."""
    if moment.tzinfo is None:
        raise ValueError("bank time needs a time-zone-aware instant")
    return f"{moment.strftime(fmt)} {zone_label(moment)}"


def parse_instant(text: str) -> datetime:
    """A stored ISO instant (a journal ``ts`` like ``2026-12-06T03:16:36.000000Z``, a host's answer);
    one without a zone is UTC, as everything the terminal and the host store is."""
    moment = datetime.fromisoformat(text.replace("Z", "+00:00"))
    return moment if moment.tzinfo else moment.replace(tzinfo=UTC)


def parse_typed_time(text: str, zone: tzinfo) -> datetime:
    """An ISO date/time a person typed: in the bank's zone unless it names one. ValueError if not ISO."""
    moment = datetime.fromisoformat(text.strip().replace("Z", "+00:00"))
    return moment if moment.tzinfo else moment.replace(tzinfo=zone)
