"""The ``bank.change_pin`` effect: the host's ISO 8583 answers as outcome words, a journal line with the
masked PAN and never a block, and "not available" without the card link (the JSON API has no PIN change)."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest

from app.effects import HANDLERS, EffectContext, load_all
from hostlink.iso8583 import profile as p
from kiosk.cardlink import CardLinkUnavailable, IsoAnswer
from kiosk.journeys.core import Effect, Event

PAN = "43219876543210987"
OLD, NEW = bytes.fromhex("0123456789ABCDEF"), bytes.fromhex("FEDCBA9876543210")


class Journal:
    def __init__(self) -> None:
        self.lines: list[tuple[str, dict[str, Any]]] = []

    def record(self, event: str, *, session_id: str | None = None, **fields: Any) -> int:
        self.lines.append((event, {"session_id": session_id, **fields}))
        return len(self.lines)


class Link:
    def __init__(self, answer: Callable[[], IsoAnswer]) -> None:
        self.answer = answer
        self.sent: list[tuple[str, str, bytes, bytes]] = []

    def change_pin(self, pan: str, expiry: str, old_block: bytes, new_block: bytes) -> IsoAnswer:
        self.sent.append((pan, expiry, old_block, new_block))
        return self.answer()


class Services:
    def __init__(self, cardlink: Link | None) -> None:
        self.cardlink = cardlink
        self.journal = Journal()


def run(services: Services) -> Event:
    load_all()
    posted: list[Event] = []

    def spawn(work: Callable[[], Any], finished: Callable[[bool, Any], None]) -> None:
        try:
            value = work()
        except Exception as exc:
            finished(False, exc)
        else:
            finished(True, value)

    effect = Effect("bank.change_pin", {"pan": PAN, "old_block": OLD, "new_block": NEW, "session_id": "S1"})
    HANDLERS["bank.change_pin"](EffectContext(effect, None, services, posted.append, spawn))  # type: ignore[arg-type]
    (event,) = posted
    return event


def answer(code: str, **extra: str) -> Callable[[], IsoAnswer]:
    fields: dict[str, str | bytes] = {p.ADDITIONAL_DATA: p.additional_data(extra)} if extra else {}
    return lambda: IsoAnswer(code, fields)


def lost() -> IsoAnswer:
    raise CardLinkUnavailable("no answer from the bank host: timed out")


@pytest.mark.parametrize(
    ("reply", "ok", "code", "value", "event"),
    [
        (answer("00"), True, "changed", {"outcome": "changed"}, "pin_changed"),
        (
            answer("55", tries_left="2", outcome="wrong"),
            True,
            "wrong",
            {"outcome": "wrong", "tries_left": 2},
            "pin_change_refused",
        ),
        (
            answer("75", tries_left="0", outcome="retain"),
            True,
            "retain",
            {"outcome": "retain", "tries_left": 0},
            "pin_change_refused",
        ),
        (answer("12", reason="new_pin_weak"), True, "weak", {"outcome": "weak"}, "pin_change_refused"),
        (
            answer("57", reason="card_blocked"),
            True,
            "refused",
            {"outcome": "refused", "reason": "card_blocked"},
            "pin_change_refused",
        ),
        (
            answer("A0"),
            False,
            "host_unavailable",
            {"outcome": "host_unavailable", "reason": "mac_not_checked"},
            "pin_change_refused",
        ),
        (
            lost,
            False,
            "host_unavailable",
            {"outcome": "host_unavailable", "reason": "CardLinkUnavailable"},
            "pin_change_refused",
        ),
    ],
)
def test_host_answers_become_outcomes_and_one_journal_line_without_a_block(
    reply: Callable[[], IsoAnswer], ok: bool, code: str, value: dict[str, Any], event: str
) -> None:
    services = Services(Link(reply))
    done = run(services)
    assert (done.ok, done.code, done.value) == (ok, code, value)
    assert services.cardlink is not None and services.cardlink.sent == [(PAN, "", OLD, NEW)]
    ((name, fields),) = services.journal.lines
    assert name == event
    assert fields["pan_masked"] == "432198*******0987" and fields["session_id"] == "S1"
    assert fields["outcome"] == value["outcome"]
    text = repr(fields)
    assert PAN not in text and OLD.hex() not in text.lower() and NEW.hex() not in text.lower()


def test_without_the_card_link_a_pin_change_is_not_available() -> None:
    services = Services(None)
    done = run(services)
    assert (done.ok, done.code, done.value["outcome"]) == (False, "not_available", "not_available")
    assert services.journal.lines[0][0] == "pin_change_refused"
    assert services.journal.lines[0][1]["outcome"] == "not_available"
