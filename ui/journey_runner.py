"""Runs a Qt-free journey on the GUI: shows its views, carries out its effects, feeds it events.

Every event reaches the journey on the GUI thread (device callbacks and background results are queued
through a signal), so a journey is only ever touched by one thread. Effects are carried out, journaled and
cancelled by :class:`app.effects.dispatch.EffectDispatcher`, the same as in the Qt-free
:class:`app.headless_runner.HeadlessRunner`; this class adds only the Qt signal plumbing.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from typing import Any

from PySide6.QtCore import QObject, Qt, Signal, Slot

from app.composition import DeviceSet
from app.effects.dispatch import EffectDispatcher, JournalPort, Spawn, apply_step
from kiosk.journeys.core import Event, Journey, Outcome, Step, View

__all__ = ["JournalPort", "JourneyRunner", "Spawn"]

log = logging.getLogger(__name__)


class JourneyRunner(QObject):
    finished = Signal(object)  # Outcome
    viewChanged = Signal(object)  # View
    _deliver = Signal(object)  # Event, from any thread to the GUI thread

    def __init__(
        self,
        journey: Journey,
        *,
        show: Callable[[View], None],
        devices: DeviceSet | None,
        services: Any,
        spawn: Spawn,
        journal: JournalPort | None = None,
        parent: QObject | None = None,
    ) -> None:
        super().__init__(parent)
        self.journey = journey
        self._show = show
        self._effects = EffectDispatcher(
            journey, devices=devices, services=services, post=self.post, spawn=spawn, journal=journal
        )
        self._ended = False
        self.views: list[View] = []
        self._deliver.connect(self._on_event, Qt.ConnectionType.QueuedConnection)

    # -- driving ----------------------------------------------------------------------------
    def start(self) -> None:
        self._apply(self.journey.start())

    def post(self, event: Event) -> None:
        """Deliver ``event`` to the journey (safe from any thread)."""
        self._deliver.emit(event)

    def ui(self, action: str, **data: Any) -> None:
        """A screen action, from the GUI thread."""
        self.post(Event.ui(action, **data))

    @property
    def running(self) -> bool:
        return not self._ended

    def abort(self, reason: str = "aborted") -> None:
        """Stop at once (shutdown): cancel every live effect; no outcome is signalled."""
        self._ended = True
        self._effects.cancel_all()
        log.info("journey %s aborted: %s", self.journey.name, reason)

    @Slot(object)
    def _on_event(self, event: Event) -> None:
        if self._ended:
            return
        if event.effect_id is not None:
            self._effects.ended(event)
        self._apply(self.journey.handle(event))

    # -- steps and effects ------------------------------------------------------------------
    def _apply(self, step: Step) -> None:
        apply_step(step, self._effects, show=self._new_view, end=self._end)

    def _new_view(self, view: View) -> None:
        self.views.append(view)
        self._show(view)
        self.viewChanged.emit(view)

    def _end(self, outcome: Outcome) -> None:
        if self._ended:
            return
        self._ended = True
        log.info("journey %s ended: %s", self.journey.name, outcome.status)
        self.finished.emit(outcome)
