"""Journeys as plain state machines: no Qt, no devices, no blocking.

A journey reacts to :class:`Event` values (the customer pressed a button, the card reader saw a card, an
effect finished) and answers with a :class:`Step`: what the screen shows now (:class:`View`, plain data),
which :class:`Effect` values to run (device commands, bank calls, printing — executed elsewhere, off the
GUI thread), and, when it is over, an :class:`Outcome`.

Every effect carries an id; its result comes back as ``Event(kind="<effect kind>.done", effect_id=...)``.
A result for an effect the journey no longer waits for (it was cancelled, the customer moved on) is
dropped, so a late device answer can never drive a journey that has left that step.

Journeys nest: a parent starts a child with :meth:`Journey.start_child`; events go to the child until it
finishes, then the parent's :meth:`Journey.on_child_done` decides what follows (Electrum's wizard keeps its
flow out of Qt the same way).
"""

from __future__ import annotations

import itertools
import logging
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field, replace
from typing import Any, ClassVar

log = logging.getLogger(__name__)

_effect_ids = itertools.count(1)


@dataclass(frozen=True)
class Effect:
    """A command for the runner: ``kind`` like ``card_reader.eject`` or ``bank.transfer``."""

    kind: str
    params: Mapping[str, Any] = field(default_factory=dict)
    id: int = field(default_factory=lambda: next(_effect_ids))

    @property
    def device(self) -> str:
        return self.kind.split(".", 1)[0]


@dataclass(frozen=True)
class Event:
    """Something that happened. Effect results have ``kind == effect.kind + '.done'``."""

    kind: str
    data: Mapping[str, Any] = field(default_factory=dict)
    effect_id: int | None = None

    @property
    def ok(self) -> bool:
        return bool(self.data.get("ok", False))

    @property
    def code(self) -> str:
        return str(self.data.get("code", ""))

    @property
    def value(self) -> Any:
        return self.data.get("value")

    @classmethod
    def done(cls, effect: Effect, ok: bool, value: Any = None, code: str = "", detail: str = "") -> Event:
        code = code or ("success" if ok else "failed")
        return cls(
            f"{effect.kind}.done", {"ok": ok, "value": value, "code": code, "detail": detail}, effect.id
        )

    @classmethod
    def ui(cls, action: str, **data: Any) -> Event:
        """The customer did something on the screen (``ui.<action>``)."""
        return cls(f"ui.{action}", data)


@dataclass(frozen=True)
class View:
    """What the screen shows: a screen name and plain data (message keys, amounts as text, lists)."""

    screen: str
    data: Mapping[str, Any] = field(default_factory=dict)


@dataclass(frozen=True)
class Outcome:
    """How a journey ended: ``completed``, ``cancelled``, ``failed``, ``timeout`` or a journey's own word."""

    status: str
    data: Mapping[str, Any] = field(default_factory=dict)

    @property
    def completed(self) -> bool:
        return self.status == "completed"


@dataclass(frozen=True)
class Step:
    view: View | None = None
    effects: tuple[Effect, ...] = ()
    outcome: Outcome | None = None

    def then(self, other: Step) -> Step:
        """This step followed by ``other``: the later view and outcome win, effects run in order."""
        return Step(
            view=other.view or self.view,
            effects=self.effects + other.effects,
            outcome=other.outcome or self.outcome,
        )


NOTHING = Step()


class Journey:
    """Base class. Subclasses set ``name`` and implement ``on_start`` and ``on_<state>(event)`` handlers."""

    name: ClassVar[str] = "journey"

    def __init__(self) -> None:
        self.state = "start"
        self.history: list[str] = []
        self.view: View | None = None
        self.outcome: Outcome | None = None
        self.child: Journey | None = None
        self._awaiting: dict[int, str] = {}

    # -- driving ----------------------------------------------------------------------------
    def start(self) -> Step:
        return self._remember(self.on_start())

    def handle(self, event: Event) -> Step:
        if self.outcome is not None:
            return NOTHING
        if event.effect_id is not None and event.effect_id in self._awaiting:
            self._awaiting.pop(event.effect_id)
        elif self.child is not None:
            return self._remember(self._to_child(event))
        elif event.effect_id is not None:
            log.debug("%s: dropped late result %s", self.name, event.kind)
            return NOTHING
        handler: Callable[[Event], Step] | None = getattr(self, f"on_{self.state}", None)
        step = handler(event) if handler is not None else NOTHING
        if step is NOTHING and event.kind.startswith("ui.") and event.kind != "ui.touch":
            step = self.on_unhandled(event)
        return self._remember(step)

    @property
    def awaiting(self) -> list[str]:
        """Kinds of the effects whose results this journey still waits for."""
        return sorted(self._awaiting.values())

    def is_awaiting(self, effect_id: int) -> bool:
        """Whether this journey or its running child still waits for that effect's result."""
        if effect_id in self._awaiting:
            return True
        return self.child is not None and self.child.is_awaiting(effect_id)

    # -- for subclasses ---------------------------------------------------------------------
    def on_start(self) -> Step:
        raise NotImplementedError

    def on_unhandled(self, event: Event) -> Step:
        """A screen action the current state does not expect (Cancel is the common one)."""
        if event.kind == "ui.cancel":
            return self.cancel()
        log.debug("%s: %s ignored in state %s", self.name, event.kind, self.state)
        return NOTHING

    def on_child_done(self, child: Journey, outcome: Outcome) -> Step:
        """A child journey ended; default: end this journey the same way."""
        return self.finish(outcome.status, **outcome.data)

    def cancel(self) -> Step:
        """The customer cancelled: subclasses add clean-up effects (stop PIN entry, return the card)."""
        return self.finish("cancelled")

    def go(self, state: str, screen: str | None = None, /, **data: Any) -> Step:
        """Move to ``state`` and show ``screen`` (default: the state's name) with ``data``."""
        if self.state != state:
            self.history.append(self.state)
        self.state = state
        return Step(view=View(screen or state, data))

    def stay(self, **data: Any) -> Step:
        """Re-render the current screen with changed data."""
        screen = self.view.screen if self.view else self.state
        merged = {**(self.view.data if self.view else {}), **data}
        return Step(view=View(screen, merged))

    def run(self, kind: str, /, **params: Any) -> Step:
        """Ask the runner to execute an effect; its result comes back to ``on_<state>``."""
        effect = Effect(kind, params)
        self._awaiting[effect.id] = kind
        return Step(effects=(effect,))

    def fire(self, kind: str, /, **params: Any) -> Step:
        """An effect whose result this journey does not wait for (stop PIN entry, journal a note)."""
        return Step(effects=(Effect(kind, params),))

    def forget_pending(self) -> None:
        """Drop every awaited result (after cancel): late answers will be ignored."""
        self._awaiting.clear()

    def finish(self, status: str = "completed", /, **data: Any) -> Step:
        self.outcome = Outcome(status, data)
        self.forget_pending()
        return Step(outcome=self.outcome)

    def start_child(self, child: Journey) -> Step:
        self.child = child
        return self._remember(self._child_step(child.start()))

    # -- internals --------------------------------------------------------------------------
    def _to_child(self, event: Event) -> Step:
        assert self.child is not None
        return self._child_step(self.child.handle(event))

    def _child_step(self, step: Step) -> Step:
        child = self.child
        if child is None or step.outcome is None:
            return step
        self.child = None
        return replace(step, outcome=None).then(self.on_child_done(child, step.outcome))

    def _remember(self, step: Step) -> Step:
        if step.view is not None:
            self.view = step.view
        return step


def message(kind: str, title_key: str, body_key: str = "", **params: Any) -> dict[str, Any]:
    """The final message the kiosk shows when a journey ends (``Outcome.data["message"]``)."""
    return {"kind": kind, "title_key": title_key, "body_key": body_key, "params": params}
