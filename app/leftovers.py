"""What a killed earlier run left in a data dir, found and cleaned before the next run starts.

A tool that starts its own simulators and bank host (``smart-teller demo``) writes a *run file* in its data
dir once they are up (:func:`write_run_file`: its own pid, theirs, the simulators' device addresses) and
removes it when it ends. A run file found at the next start means the earlier run did not end: killed with
``SIGKILL``, its machine switched off. :func:`clean_leftovers` then

- captures a card still held by the earlier run's card reader or card dispenser, if that simulator process
  is still alive (over the device's wire protocol, as start-up recovery does; journaled as
  ``card_found_at_start`` with ``run: "earlier"``);
- stops the earlier run's processes that are still alive (the simulators, the bank host: they hold ports
  and the bank's database), checking each pid's command line first so a reused pid is never signalled;
- removes the stale or half-written run file.

Each thing done is one line in the returned list, and the list is journaled as ``leftovers_cleaned``.
"""

from __future__ import annotations

import contextlib
import json
import logging
import os
import signal
import time
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from kiosk.journal import Journal

log = logging.getLogger(__name__)

RUN_FILE = "run.json"
STOP_WAIT_S = 10.0
# What the command line of each process a run starts contains (checked before any signal is sent).
MARKERS: dict[str, tuple[str, ...]] = {"simulators": ("simulators",), "host": ("bank", "serve")}
ROLE_NAMES = {"simulators": "simulators", "host": "bank host", "run": "run"}


def write_run_file(data_dir: Path, processes: Mapping[str, int], devices: Mapping[str, str]) -> Path:
    """Record this run's processes (role → pid) and device URLs; written whole or not at all."""
    data_dir.mkdir(parents=True, exist_ok=True)
    path = data_dir / RUN_FILE
    partial = path.with_suffix(".tmp")
    record = {"pids": {"run": os.getpid(), **processes}, "devices": dict(devices)}
    with open(partial, "w", encoding="utf-8") as handle:
        handle.write(json.dumps(record))
        handle.flush()
        os.fsync(handle.fileno())
    os.replace(partial, path)
    return path


def remove_run_file(data_dir: Path) -> None:
    (data_dir / RUN_FILE).unlink(missing_ok=True)


def _command_line(pid: int) -> list[str] | None:
    """The process's argv, or None if no such process (Linux ``/proc``)."""
    try:
        raw = Path(f"/proc/{pid}/cmdline").read_bytes()
    except OSError:
        return None
    return [part.decode("utf-8", "replace") for part in raw.split(b"\0") if part]


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    status = Path(f"/proc/{pid}/status")
    with contextlib.suppress(OSError):
        for line in status.read_text(encoding="ascii", errors="replace").splitlines():
            if line.startswith("State:"):
                return "Z" not in line.split()[1]  # a zombie holds nothing
    return True


def is_ours(pid: int, role: str) -> bool:
    """``pid`` is alive and its command line is the program the run started in ``role``."""
    argv = _command_line(pid)
    if argv is None or not _alive(pid):
        return False
    text = " ".join(argv)
    return all(marker in text for marker in MARKERS.get(role, ("\0",)))


def stop_process(pid: int, wait_s: float = STOP_WAIT_S) -> bool:
    """SIGTERM, then SIGKILL if it has not ended within ``wait_s``; True once it is gone."""
    for sig in (signal.SIGTERM, signal.SIGKILL):
        try:
            os.kill(pid, sig)
        except ProcessLookupError:
            return True
        deadline = time.monotonic() + wait_s
        while time.monotonic() < deadline:
            if not _alive(pid):
                return True
            time.sleep(0.05)
    return not _alive(pid)


def _capture_cards(devices: Mapping[str, str], journal: Journal) -> list[str]:
    """Capture a card still in the earlier run's reader or dispenser (over the wire); lines of what."""
    from app.recovery import DRAW_IN_S, DispenserRecoveryPort, ReaderRecoveryPort
    from devices.card_dispenser.driver import CardDispenserDriver
    from devices.card_reader.driver import CardReaderDriver
    from kiosk.journal.recovery import CardReaderPort, sweep_cards

    lines: list[str] = []
    drivers: list[Any] = []
    ports: dict[str, CardReaderPort] = {}
    try:
        if devices.get("card_reader"):
            reader = CardReaderDriver(devices["card_reader"], reply_timeout=2.0)
            drivers.append(reader)
            reader.start()
            # The earlier run was killed: a card may be held at the closed shutter too.
            ports["card_reader"] = ReaderRecoveryPort(reader, connect_wait_s=3.0, draw_in_s=DRAW_IN_S)
        if devices.get("card_dispenser"):
            dispenser = CardDispenserDriver(devices["card_dispenser"], reply_timeout=2.0)
            drivers.append(dispenser)
            dispenser.start()
            ports["card_dispenser"] = DispenserRecoveryPort(dispenser, connect_wait_s=3.0)
        for name, result in sweep_cards(journal, ports, run="earlier").items():
            if result == "card_captured":
                lines.append(f"captured a card left in the earlier run's {name}")
            else:
                lines.append(f"a card is still in the earlier run's {name} ({result})")
    finally:
        for driver in drivers:
            driver.close()
    return lines


def clean_leftovers(data_dir: Path, journal: Journal) -> list[str]:
    """Find and clean what a killed earlier run left in ``data_dir``; one line per thing done."""
    path = data_dir / RUN_FILE
    cleaned: list[str] = []
    partial = path.with_suffix(".tmp")
    if partial.exists():
        partial.unlink(missing_ok=True)
        cleaned.append(f"removed a half-written {partial.name}")
    if not path.exists():
        return _journaled(cleaned, journal)
    try:
        record = json.loads(path.read_text(encoding="utf-8"))
        pids = {str(k): int(v) for k, v in dict(record.get("pids", {})).items()}
        devices = {str(k): str(v) for k, v in dict(record.get("devices", {})).items()}
    except (OSError, ValueError, TypeError, AttributeError):
        path.unlink(missing_ok=True)
        cleaned.append(f"removed a half-written {path.name} of an earlier run")
        return _journaled(cleaned, journal)
    run_pid = pids.pop("run", None)
    if run_pid is not None and run_pid != os.getpid() and is_ours_run(run_pid):
        # Still running: not a leftover, another run on the same data dir. Leave everything alone.
        raise LeftoverError(f"another run (pid {run_pid}) is using {data_dir}")
    if "simulators" in pids and is_ours(pids["simulators"], "simulators"):
        cleaned += _capture_cards(devices, journal)
    for role, pid in pids.items():
        name = ROLE_NAMES.get(role, role)
        if is_ours(pid, role):
            stopped = stop_process(pid)
            cleaned.append(
                f"stopped the earlier run's {name} (pid {pid})"
                if stopped
                else f"could not stop the earlier run's {name} (pid {pid})"
            )
    path.unlink(missing_ok=True)
    cleaned.append(f"removed the stale {path.name} of run pid {run_pid}")
    return _journaled(cleaned, journal)


def is_ours_run(pid: int) -> bool:
    """``pid`` is a live ``smart-teller demo`` (or ``python -m ui.cli demo``)."""
    argv = _command_line(pid)
    if argv is None or not _alive(pid) or "demo" not in argv:
        return False
    return any(name.endswith("smart-teller") or name == "ui.cli" for name in argv)


class LeftoverError(Exception):
    """The data dir is in use by a run that is still alive."""


def _journaled(cleaned: list[str], journal: Journal) -> list[str]:
    if cleaned:
        journal.record("leftovers_cleaned", items=list(cleaned))
        for line in cleaned:
            log.warning("leftover of an earlier run: %s", line)
    return cleaned
