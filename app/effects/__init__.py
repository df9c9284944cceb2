"""Effect handlers: how a journey's :class:`~kiosk.journeys.core.Effect` is carried out.

A handler is a plain function registered for an effect kind with :func:`handler`. It gets an
:class:`EffectContext` and must end the effect exactly once with ``ctx.done(...)`` — directly, after a
device :class:`~devices.base.Operation` completes (:meth:`EffectContext.watch`), or after work on the
background pool (:meth:`EffectContext.in_background`). Handlers never block the GUI thread.

Modules ``app/effects/<area>.py`` register their handlers at import; :func:`load_all` imports them.
"""

from __future__ import annotations

import importlib
import logging
import pkgutil
import threading
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from devices.base import CancelToken, Operation, Result
from kiosk.journeys.core import Effect, Event

if TYPE_CHECKING:
    from app.composition import DeviceSet
    from app.services import TerminalServices

log = logging.getLogger(__name__)

Handler = Callable[["EffectContext"], None]
HANDLERS: dict[str, Handler] = {}


def handler(kind: str) -> Callable[[Handler], Handler]:
    """Register ``fn`` as the handler for effects of ``kind``."""

    def register(fn: Handler) -> Handler:
        if kind in HANDLERS and HANDLERS[kind] is not fn:
            raise ValueError(f"two handlers for effect {kind!r}")
        HANDLERS[kind] = fn
        return fn

    return register


def load_all() -> None:
    import app.effects as package

    for module in pkgutil.iter_modules(package.__path__):
        importlib.import_module(f"app.effects.{module.name}")


@dataclass
class EffectContext:
    """What a handler may use: the composition root's devices and the terminal's services."""

    effect: Effect
    devices: DeviceSet | None
    services: TerminalServices
    post: Callable[[Event], None]
    spawn: Callable[[Callable[[], Any], Callable[[bool, Any], None]], None]
    token: CancelToken = field(default_factory=CancelToken)
    _finished: bool = False
    _lock: threading.Lock = field(default_factory=threading.Lock)

    @property
    def params(self) -> Any:
        return self.effect.params

    @property
    def finished(self) -> bool:
        return self._finished

    def done(self, ok: bool, value: Any = None, code: str = "", detail: str = "") -> None:
        """End the effect (thread-safe; a second call is ignored)."""
        with self._lock:
            if self._finished:
                return
            self._finished = True
        self.post(Event.done(self.effect, ok, value, code, detail))

    def progress(self, kind: str, **data: Any) -> None:
        """An intermediate event (e.g. a liveness prompt) delivered to the journey before ``done``."""
        self.post(Event(kind, data))

    def watch(self, op: Operation[Any], convert: Callable[[Result[Any]], Any] | None = None) -> None:
        """End the effect when a device operation completes; cancelling the effect cancels it."""
        self._cancel_hooks.append(op.cancel)

        def finished(result: Result[Any]) -> None:
            value = convert(result) if convert is not None else result.value
            self.done(result.ok, value, str(result.code), result.detail)

        op.add_done_callback(finished)

    def in_background(self, fn: Callable[[], Any], convert: Callable[[Any], Any] | None = None) -> None:
        """Run ``fn`` on the worker pool; its return value ends the effect (an exception fails it)."""

        def finished(ok: bool, payload: Any) -> None:
            if ok:
                self.done(True, convert(payload) if convert is not None else payload)
            else:
                log.error("effect %s failed: %s", self.effect.kind, payload)
                self.done(False, None, "error", str(payload))

        self.spawn(fn, finished)

    def cancel(self) -> None:
        self.token.cancel()
        for hook in self._cancel_hooks:
            try:
                hook()
            except Exception:
                log.exception("cancelling %s failed", self.effect.kind)

    def __post_init__(self) -> None:
        self._cancel_hooks: list[Callable[[], None]] = []
