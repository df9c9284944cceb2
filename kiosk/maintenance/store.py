"""What maintenance mode must remember across restarts: out-of-service, replenishments, bin reconciliations.

Stored as one small JSON file, ``<data dir>/maintenance/state.json``, not in the bank database: the
state belongs to *this* terminal (a fleet may share one PostgreSQL bank database), and a kiosk whose
database is down must still know that a supervisor took it out of service. Every write goes to a temporary
file that is fsynced and then renamed over the old one, so a crash leaves either the old or the new state,
never half of one. The journal holds the same facts as evidence; this file is the quick answer the
dashboard and the start-up need.

A file that cannot be read is moved aside and the terminal starts *out of service* (reason
``state_unreadable``): not knowing whether a supervisor closed the terminal must not open it.
"""

from __future__ import annotations

import contextlib
import json
import logging
import os
import threading
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

log = logging.getLogger(__name__)

STATE_FILE = "state.json"
MAX_RECORDS = 200
UNREADABLE_REASON = "state_unreadable"


def utc_now() -> datetime:
    return datetime.now(UTC)


@dataclass(frozen=True)
class OutOfService:
    active: bool
    reason: str = ""
    by: str = ""
    since: str = ""


class MaintenanceStore:
    """Thread-safe access to the terminal's maintenance state file."""

    def __init__(self, directory: Path, *, clock: Callable[[], datetime] = utc_now) -> None:
        self._dir = directory
        self._path = directory / STATE_FILE
        self._clock = clock
        self._lock = threading.Lock()
        directory.mkdir(parents=True, exist_ok=True)
        with contextlib.suppress(OSError):
            os.chmod(directory, 0o700)
        self._state = self._load()

    @property
    def path(self) -> Path:
        return self._path

    # -- out of service ----------------------------------------------------------------------
    def out_of_service(self) -> OutOfService:
        with self._lock:
            data = self._state.get("out_of_service")
        if not isinstance(data, dict) or not data.get("active"):
            return OutOfService(False)
        return OutOfService(
            True, str(data.get("reason", "")), str(data.get("by", "")), str(data.get("since", ""))
        )

    def set_out_of_service(self, active: bool, reason: str, by: str) -> OutOfService:
        entry = {"active": active, "reason": reason, "by": by, "since": self._now()}
        with self._lock:
            self._state["out_of_service"] = entry if active else None
            self._save()
        return self.out_of_service()

    # -- records -----------------------------------------------------------------------------
    def add_record(self, kind: str, by: str, **fields: Any) -> dict[str, Any]:
        """Append a replenishment / reconciliation record (newest last, the oldest dropped past 200)."""
        record = {"kind": kind, "at": self._now(), "by": by, **fields}
        with self._lock:
            records = list(self._state.get("records", []))
            records.append(record)
            self._state["records"] = records[-MAX_RECORDS:]
            self._save()
        return record

    def add_to_total(self, name: str, amount: int) -> int:
        with self._lock:
            totals = dict(self._state.get("totals", {}))
            totals[name] = int(totals.get(name, 0)) + amount
            self._state["totals"] = totals
            self._save()
            return int(totals[name])

    def records(self, kind: str | None = None) -> list[dict[str, Any]]:
        with self._lock:
            records = list(self._state.get("records", []))
        return [dict(r) for r in records if kind is None or r.get("kind") == kind]

    def last_record(self, kind: str) -> dict[str, Any] | None:
        found = self.records(kind)
        return found[-1] if found else None

    def totals(self) -> dict[str, int]:
        with self._lock:
            return {str(k): int(v) for k, v in dict(self._state.get("totals", {})).items()}

    # -- file --------------------------------------------------------------------------------
    def _now(self) -> str:
        return self._clock().astimezone(UTC).isoformat(timespec="seconds").replace("+00:00", "Z")

    def _load(self) -> dict[str, Any]:
        try:
            raw = self._path.read_text(encoding="utf-8")
        except FileNotFoundError:
            return {"version": 1}
        except OSError as exc:
            log.error("maintenance state %s unreadable: %s", self._path, exc)
            return self._unreadable()
        try:
            data = json.loads(raw)
            if not isinstance(data, dict):
                raise ValueError("not a JSON object")
        except ValueError as exc:
            side = self._path.with_name(f"{STATE_FILE}.unreadable-{self._now().replace(':', '')}")
            with contextlib.suppress(OSError):
                os.replace(self._path, side)
            log.error("maintenance state %s is damaged (%s); kept as %s", self._path, exc, side.name)
            return self._unreadable()
        return data

    def _unreadable(self) -> dict[str, Any]:
        state: dict[str, Any] = {
            "version": 1,
            "out_of_service": {
                "active": True,
                "reason": UNREADABLE_REASON,
                "by": "system",
                "since": self._now(),
            },
        }
        self._state = state
        with contextlib.suppress(OSError):
            self._save()
        return state

    def _save(self) -> None:
        payload = json.dumps(self._state, ensure_ascii=False, indent=1, sort_keys=True).encode("utf-8")
        tmp = self._path.with_name(f".{STATE_FILE}.{os.getpid()}.tmp")
        fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
        try:
            view = memoryview(payload)
            while view:
                view = view[os.write(fd, view) :]
            os.fsync(fd)
        finally:
            os.close(fd)
        os.replace(tmp, self._path)
        dir_fd = os.open(self._dir, os.O_RDONLY)
        try:
            os.fsync(dir_fd)  # the rename itself must survive a power cut
        finally:
            os.close(dir_fd)
