"""The crash harness's child: a fork server that runs kiosk starts and customer visits, one process each.

Run as a script (``python tests/reliability/crash_child.py``). It imports the kiosk once, then reads one
JSON request per line on stdin and forks a fresh process for each, so a run costs a fork instead of the
seconds a cold Python start with SQLAlchemy and the drivers takes. The forked process is a real process
that opens its own database connection, journal and device links after the fork, and dies by a real
``SIGKILL`` (a crash point from :mod:`hostlink.chaos`, or the server's timer); nothing is shared with the
server but imported code.

Each run does what the kiosk does at start (services against the lane's bank host, drivers, crash recovery),
writes
``{"phase": "recovered", ...}`` to its result file, and in ``mode == "run"`` goes on with the customer
visits named in the request. The server answers each request with one JSON line: how the process ended.
"""

from __future__ import annotations

import json
import os
import signal
import sys
import threading
import time
import traceback
from pathlib import Path
from typing import Any

REPO = Path(__file__).resolve().parents[2]
if str(REPO) not in sys.path:
    sys.path.insert(0, str(REPO))

# Imported once here, inherited by every fork.
from app.composition import build_devices  # noqa: E402
from app.effects import load_all  # noqa: E402
from app.headless_runner import QUICK_SESSION, VISITS, Customer, HeadlessKiosk  # noqa: E402
from app.recovery import recover_at_start  # noqa: E402
from app.services import TerminalServices  # noqa: E402
from hostlink import chaos  # noqa: E402
from kiosk.settings import load_settings  # noqa: E402

load_all()
import kiosk.journeys.card_login  # noqa: E402, F401


def _write(path: Path, record: dict[str, Any]) -> None:
    with open(path, "a", encoding="utf-8") as handle:
        handle.write(json.dumps(record) + "\n")
        handle.flush()
        os.fsync(handle.fileno())


def run_once(request: dict[str, Any]) -> None:
    """One kiosk process: start, recover, and (mode ``run``) the visits. Never returns normally."""
    result = Path(request["result"])
    chaos.configure(request.get("crash_at"), request.get("hit_log"))
    settings = load_settings(
        data_dir=request["data_dir"],
        devices={**request["urls"], "command_timeout_s": 1.0},
        host={"urls": [request["host_url"]], "iso8583": [request["host_iso8583"]]},
    )
    services = TerminalServices.start(settings, probe=False)
    devices = build_devices(settings)
    devices.start()
    # The simulated reader draws a card in on the shutter's first status poll; hardware needs longer.
    recovery = recover_at_start(services, devices, draw_in_s=0.05)
    _write(
        result,
        {
            "phase": "recovered",
            "suspects": [s.event for s in recovery.report.suspects],
            "resolved": [[s.event, r.result] for s, r in recovery.report.resolved],
            "failed": len(recovery.report.failed),
            "swept": recovery.swept,
            "drawn_in": recovery.drawn_in,
        },
    )
    outcomes: list[str] = []
    if request["mode"] == "run":
        kiosk = HeadlessKiosk(services, devices, journey_context={"session_config": QUICK_SESSION})
        customer = Customer(kiosk, request["controls"])
        try:
            for name in request["visits"]:
                outcomes.append(customer.visit(VISITS[name], lang=request.get("lang", "en")).status)
        finally:
            kiosk.close()
    # The drivers are not closed: joining their I/O threads costs more than the rest of a run, and the
    # process ends at once anyway (the OS drops the links, as for a kiosk switched off).
    services.close()
    _write(result, {"phase": "done", "outcomes": outcomes})


def serve() -> None:
    for line in sys.stdin:
        request = json.loads(line)
        if threading.active_count() != 1:  # forking with threads running could copy a held lock
            raise RuntimeError("the fork server must stay single-threaded")
        started = time.monotonic()
        pid = os.fork()
        if pid == 0:
            code = 0
            try:
                devnull = os.open(os.devnull, os.O_WRONLY)
                os.dup2(devnull, 1)  # stdout is the server's reply channel
                log = os.open(request["stderr"], os.O_WRONLY | os.O_CREAT | os.O_APPEND, 0o600)
                os.dup2(log, 2)
                run_once(request)
            except BaseException:
                traceback.print_exc()
                code = 3
            finally:
                sys.stderr.flush()
                os._exit(code)
        reply = _wait(pid, started, request.get("kill_after_s"), float(request.get("timeout_s", 90)))
        reply["id"] = request.get("id")
        sys.stdout.write(json.dumps(reply) + "\n")
        sys.stdout.flush()


def _wait(pid: int, started: float, kill_after_s: float | None, timeout_s: float) -> dict[str, Any]:
    """Reap the run; SIGKILL it at ``kill_after_s`` (a timed crash) or at the timeout (a hang)."""
    timed_kill = hung = False
    while True:
        done, status = os.waitpid(pid, os.WNOHANG)
        if done:
            break
        elapsed = time.monotonic() - started
        if kill_after_s is not None and elapsed >= kill_after_s and not timed_kill:
            timed_kill = True
            os.kill(pid, signal.SIGKILL)
        elif elapsed >= timeout_s and not hung:
            hung = True
            os.kill(pid, signal.SIGKILL)
        time.sleep(0.002)
    return {
        "exit": os.waitstatus_to_exitcode(status),
        "timed_kill": timed_kill,
        "hung": hung,
        "seconds": round(time.monotonic() - started, 3),
    }


if __name__ == "__main__":
    sys.stdout.write(json.dumps({"ready": True}) + "\n")
    sys.stdout.flush()
    serve()
