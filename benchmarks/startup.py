"""Cold start to the attract screen, next to a bare Qt window shown in the same run.

Each sample is a fresh Python process (``python -m benchmarks.startup --probe kiosk|bare``), timed from
just before the parent spawns it to the first paint of the attract screen (the kiosk) or of one plain
``QWidget`` (the reference: interpreter + PySide6 + a window, nothing of ours). The kiosk probe does what
``smart-teller run`` does (``ui.startup.run_kiosk``): settings, runtime (database, migrations check),
services, drivers started against simulators already running (card reader, PIN pad, printer — a kiosk's
devices are there before the app), crash recovery at start, the window with every journey's screens. The
face model is not loaded at start (the biometrics worker starts on first use), which is what keeps the
goal reachable. The attract screen is painted before the database stack is even imported; the kiosk is
*ready* (journeys attached) once the worker thread has brought up the bank, the drivers and crash recovery:
``ready_for_customers_s`` reports that second figure. Samples alternate bare/kiosk so both see the same
machine load. Goal: ≤ 1.5 s to the attract screen.

The data dir is seeded once before timing (a kiosk's first start ever is not its everyday cold start).
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

GOAL_S = 1.5
REPO = Path(__file__).resolve().parents[1]


def _probe_bare() -> None:
    from PySide6.QtCore import QEvent, QObject
    from PySide6.QtWidgets import QApplication, QWidget

    app = QApplication(["bare"])
    widget = QWidget()
    widget.resize(1280, 800)

    class FirstPaint(QObject):
        def eventFilter(self, watched: QObject, event: QEvent) -> bool:
            if event.type() == QEvent.Type.Paint:
                print(json.dumps({"shown": time.time()}), flush=True)
                app.quit()
            return False

    painted = FirstPaint()
    widget.installEventFilter(painted)
    widget.show()
    app.exec()


def _probe_kiosk() -> None:
    """What ``smart-teller run`` does: the console script's imports, settings, then ``ui.startup.run_kiosk``
    (attract painted first; runtime, services, drivers and crash recovery on a worker thread; journeys
    attached when ready). Prints the first paint of the attract screen and the moment the kiosk is ready."""
    import ui.cli  # the console script's own import cost
    from kiosk.settings import load_settings
    from ui.startup import run_kiosk

    ui.cli._register_commands()
    from PySide6.QtCore import QEvent, QObject, QTimer
    from PySide6.QtWidgets import QApplication

    marks: dict[str, float] = {}

    class FirstPaint(QObject):
        def eventFilter(self, watched: QObject, event: QEvent) -> bool:
            if event.type() == QEvent.Type.Paint and "shown" not in marks:
                marks["shown"] = time.time()
            return False

    painted = FirstPaint()

    def watch_attract() -> None:
        for widget in QApplication.topLevelWidgets():
            attract = getattr(widget, "attract", None)
            if attract is not None:
                attract.installEventFilter(painted)

    QTimer.singleShot(0, watch_attract)

    def ready(state: object) -> None:
        marks["ready"] = time.time()
        screens = len(state.kiosk.journey_screens())  # type: ignore[attr-defined]
        print(json.dumps({**marks, "screens": screens}), flush=True)
        # Leave at once, like a kiosk switched off: closing drivers is shutdown time, not start-up time.
        os._exit(0)

    run_kiosk(load_settings(), windowed=True, on_ready=ready)
    os._exit(1)


def _sample(kind: str, env: dict[str, str]) -> tuple[float, float]:
    """(seconds to the first paint, seconds until the kiosk is ready); the bare probe is ready when shown."""
    started = time.time()
    done = subprocess.run(
        [sys.executable, "-m", "benchmarks.startup", "--probe", kind],
        env=env,
        cwd=str(REPO),
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    lines = [line for line in done.stdout.splitlines() if line.startswith("{")]
    if not lines:
        raise RuntimeError(f"{kind} probe failed: {done.stderr.strip().splitlines()[-1:]}")
    marks = json.loads(lines[-1])
    shown = float(marks["shown"]) - started
    return shown, float(marks.get("ready", marks["shown"])) - started


def run(quick: bool = False) -> dict[str, Any]:
    from app.hostproc import start_embedded_host
    from simulators.card_reader import make_server as card_reader_server
    from simulators.pin_pad import make_server as pin_pad_server
    from simulators.printer import make_server as printer_server

    samples = 3 if quick else 9
    with tempfile.TemporaryDirectory() as tmp:
        root = Path(tmp)
        servers = [
            card_reader_server(seed=0),
            pin_pad_server(seed=0),
            printer_server(seed=0, out_dir=root / "printed", render_png=False),
        ]
        for server in servers:
            server.start()
        # The bank host, migrated and seeded once outside the timing, this terminal enrolled with it.
        host = start_embedded_host(root / "host", "KIOSK-0001", root / "data" / "host-credential")
        try:
            urls = [server.describe()["url"] for server in servers]
            config = root / "kiosk.toml"
            config.write_text(
                f'data_dir = "{root / "data"}"\n\n[devices]\n'
                f'card_reader = "{urls[0]}"\npin_pad = "{urls[1]}"\nprinter = "{urls[2]}"\n'
                f'\n[host]\nurls = ["{host.url}"]\n',
                encoding="utf-8",
            )
            env = {k: v for k, v in os.environ.items() if not k.startswith("SMART_TELLER_")}
            env.update(SMART_TELLER_CONFIG=str(config), QT_QPA_PLATFORM="offscreen", PYTHONPATH=str(REPO))
            _sample("kiosk", env)  # warm the OS file cache for both (a kiosk's disk is warm too)
            _sample("bare", env)
            bare: list[float] = []
            kiosk: list[float] = []
            ready: list[float] = []
            for _ in range(samples):
                bare.append(_sample("bare", env)[0])
                shown, up = _sample("kiosk", env)
                kiosk.append(shown)
                ready.append(up)
        finally:
            host.stop()
            for server in servers:
                server.close()
    kiosk_median = statistics.median(kiosk)
    bare_median = statistics.median(bare)
    return {
        "startup": {
            "cold_start_to_attract_s": round(kiosk_median, 3),
            "cold_start_min_max_s": [round(min(kiosk), 3), round(max(kiosk), 3)],
            "bare_qt_window_s": round(bare_median, 3),
            "bare_min_max_s": [round(min(bare), 3), round(max(bare), 3)],
            "ours_over_bare_s": round(kiosk_median - bare_median, 3),
            # Attract first, then the bank, drivers and crash recovery behind it: when journeys can start.
            "ready_for_customers_s": round(statistics.median(ready), 3),
            "ready_min_max_s": [round(min(ready), 3), round(max(ready), 3)],
            "ratio_to_bare": round(kiosk_median / bare_median, 2),
            "goal_s": GOAL_S,
            "meets_goal": kiosk_median <= GOAL_S,
            "samples": samples,
        }
    }


if __name__ == "__main__":
    parser = argparse.ArgumentParser(prog="python -m benchmarks.startup")
    parser.add_argument("--probe", choices=["kiosk", "bare"])
    parser.add_argument("--quick", action="store_true")
    args = parser.parse_args()
    if args.probe == "kiosk":
        _probe_kiosk()
    elif args.probe == "bare":
        _probe_bare()
    else:
        print(json.dumps(run(args.quick), indent=2))
