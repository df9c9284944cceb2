"""Crash points for the crash-recovery tests: ``crash_point(name)`` kills this process at a chosen moment.

The reliability harness (``tests/reliability/``) runs journeys in a child process with the environment
variable ``SMART_TELLER_CRASH_AT="<name>:<n>"`` set; the n-th time the code passes ``crash_point(name)``
the process sends itself ``SIGKILL`` — no ``finally`` blocks, no atexit, no flush, exactly like a power cut
or the OOM killer. The next start must then recover (journal suspects, cards, transfers in flight).

Without the variable a crash point is one dictionary look-up of a module constant (``_TARGET is None``),
so the calls stay in production code at no cost. Every hit can also be counted (``SMART_TELLER_CRASH_LOG``
names a file that gets one line per hit) so the harness learns which points a journey passes and how often.
"""

from __future__ import annotations

import os
import signal
import threading

ENV_CRASH_AT = "SMART_TELLER_CRASH_AT"
ENV_CRASH_LOG = "SMART_TELLER_CRASH_LOG"


def _parse(spec: str | None) -> tuple[str, int] | None:
    if not spec:
        return None
    name, sep, count = spec.rpartition(":")
    if not sep or not name or not count.isdigit() or int(count) < 1:
        raise ValueError(f"{ENV_CRASH_AT} must look like '<point name>:<n>' with n >= 1, not {spec!r}")
    return name, int(count)


_TARGET = _parse(os.environ.get(ENV_CRASH_AT))
_LOG_PATH = os.environ.get(ENV_CRASH_LOG) or None
_hits: dict[str, int] = {}
_lock = threading.Lock()


def crash_point(name: str) -> None:
    """SIGKILL this process at the configured hit of ``name``; otherwise do nothing."""
    if _TARGET is None and _LOG_PATH is None:
        return
    with _lock:
        count = _hits.get(name, 0) + 1
        _hits[name] = count
        if _LOG_PATH is not None:
            # O_APPEND + one write per line: lines from several threads never interleave.
            fd = os.open(_LOG_PATH, os.O_WRONLY | os.O_CREAT | os.O_APPEND, 0o600)
            try:
                os.write(fd, f"{name}\n".encode())
            finally:
                os.close(fd)
        if _TARGET is not None and (name, count) == _TARGET:
            os.kill(os.getpid(), signal.SIGKILL)


def hits() -> dict[str, int]:
    """How often each crash point was passed in this process (only counted when armed or logging)."""
    with _lock:
        return dict(_hits)


def configure(spec: str | None, log_path: str | None = None) -> None:
    """Arm (or disarm with ``None``) in-process, for tests; the harness uses the environment instead."""
    global _TARGET, _LOG_PATH
    with _lock:
        _TARGET = _parse(spec)
        _LOG_PATH = log_path
        _hits.clear()
