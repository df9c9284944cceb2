"""The effect dispatcher both runners use: handlers, journaling of hardware/money effects, cancelling."""

from __future__ import annotations

from typing import Any

import pytest

from app.effects import HANDLERS, EffectContext, load_all
from app.effects.dispatch import JOURNAL_EVENTS, EffectDispatcher
from kiosk.journeys.core import Effect, Event


class Awaiting:
    """Just the part of a journey the dispatcher asks: which effects it still waits for."""

    def __init__(self) -> None:
        self.ids: set[int] = set()

    def is_awaiting(self, effect_id: int) -> bool:
        return effect_id in self.ids


class RecordingJournal:
    def __init__(self) -> None:
        self.lines: list[tuple[Any, ...]] = []

    def intent(self, event: str, **fields: Any) -> int:
        self.lines.append(("intent", event, fields))
        return len(self.lines)

    def outcome(self, intent_id: int, result: str, **fields: Any) -> int:
        self.lines.append(("outcome", intent_id, result, fields))
        return len(self.lines)


def never_spawn(work: Any, finished: Any) -> None:
    raise AssertionError("no handler here works in the background")


@pytest.fixture
def rig(monkeypatch: pytest.MonkeyPatch) -> dict[str, Any]:
    load_all()  # the real handlers first, so the stand-ins below replace them for this test only
    started: list[EffectContext] = []
    journal = RecordingJournal()

    def keep_running(ctx: EffectContext) -> None:
        # The intent is already written when the handler starts the hardware.
        assert ctx.effect.kind not in JOURNAL_EVENTS or journal.lines[-1][0] == "intent"
        started.append(ctx)

    def broken(ctx: EffectContext) -> None:
        raise RuntimeError("port gone")

    for kind in ("printer.print", "camera.capture_test"):
        monkeypatch.setitem(HANDLERS, kind, keep_running)
    monkeypatch.setitem(HANDLERS, "card_reader.eject", broken)
    posted: list[Event] = []
    journey = Awaiting()
    dispatcher = EffectDispatcher(
        journey,  # type: ignore[arg-type]
        devices=None,
        services=None,
        post=posted.append,
        spawn=never_spawn,
        journal=journal,
    )
    return {"d": dispatcher, "journey": journey, "journal": journal, "posted": posted, "started": started}


def test_a_journaled_effect_writes_only_its_journal_fields_then_its_outcome(rig: dict[str, Any]) -> None:
    effect = Effect("printer.print", {"journal": {"receipt": "balance"}, "lines": ["secret"]})
    rig["d"].dispatch(effect)
    assert rig["journal"].lines == [("intent", "print", {"receipt": "balance"})]
    rig["started"][0].done(True)
    rig["d"].ended(rig["posted"][-1])
    assert rig["journal"].lines[-1] == ("outcome", 1, "success", {"detail": ""})


def test_a_missing_handler_ends_the_effect_as_unsupported_without_journaling(rig: dict[str, Any]) -> None:
    rig["d"].dispatch(Effect("no_such.device", {"journal": {"x": 1}}))
    assert rig["posted"][-1].code == "unsupported"
    assert rig["journal"].lines == []


def test_a_handler_that_raises_ends_the_effect_and_journals_the_failure(rig: dict[str, Any]) -> None:
    rig["d"].dispatch(Effect("card_reader.eject", {"journal": {"pan": "621234******1017"}}))
    done = rig["posted"][-1]
    assert (done.code, done.data["detail"]) == ("hardware_error", "port gone")
    rig["d"].ended(done)
    assert rig["journal"].lines[-1] == ("outcome", 1, "hardware_error", {"detail": "port gone"})


def test_abandoned_effects_are_cancelled_except_journaled_ones(rig: dict[str, Any]) -> None:
    camera = Effect("camera.capture_test", {})
    printer = Effect("printer.print", {})
    rig["d"].dispatch(camera)
    rig["d"].dispatch(printer)
    rig["journey"].ids = {camera.id}
    rig["d"].cancel_abandoned()
    assert [ctx.token.cancelled for ctx in rig["started"]] == [False, False]
    rig["journey"].ids = set()
    rig["d"].cancel_abandoned()
    assert [ctx.token.cancelled for ctx in rig["started"]] == [True, False]  # the print must finish
    rig["d"].cancel_all()
    assert [ctx.token.cancelled for ctx in rig["started"]] == [True, True]
