"""RSS after 10 / 50 / 100 customer journeys: does the kiosk process grow?

The journeys run headless (``app.headless_runner``: the real journeys, effect handlers, drivers, bank,
journal and printer simulator, without a window) in one process, round-robin over the scripted visits
(enquiries with receipts, transfers of every kind with PIN re-entry, a refused transfer, three wrong PINs,
a card not taken). RSS is read from ``/proc/self/status`` after a ``gc.collect()``.

Reference measured in the same run: RSS after the first 10 journeys (everything imported, caches warm).
The figure is the growth from 10 to 100 journeys in total and per journey; "no growth" means the per-journey
figure stays in the noise (a few KiB: allocator pages, the SQLite page cache filling up to its cap), not the
tens of KiB a leaked session, view list or subscription per journey would show.
"""

from __future__ import annotations

import gc
import os
import tempfile
import time
from pathlib import Path
from typing import Any

CHECKPOINTS = (10, 50, 100)


def rss_kib() -> int:
    with open("/proc/self/status", encoding="ascii") as status:
        for line in status:
            if line.startswith("VmRSS:"):
                return int(line.split()[1])
    raise RuntimeError("no VmRSS in /proc/self/status")


def run(quick: bool = False) -> dict[str, Any]:
    from app.composition import build_devices
    from app.headless_runner import CHEN_JIE, LI_NA, QUICK_SESSION, VISITS, WANG_FANG, Customer, HeadlessKiosk
    from app.hostproc import start_embedded_host
    from app.services import TerminalServices
    from kiosk.settings import load_settings
    from simulators.card_reader import make_server as card_reader_server
    from simulators.pin_pad import make_server as pin_pad_server
    from simulators.printer import make_server as printer_server

    checkpoints = (10, 30) if quick else CHECKPOINTS
    # Visits that keep working on one data dir: Chen Jie's card is retained by the first wrong-PIN visit.
    names = sorted(VISITS)
    rss: dict[int, int] = {}
    outcomes: dict[str, int] = {}
    started = time.perf_counter()
    with tempfile.TemporaryDirectory() as tmp:
        root = Path(tmp)
        cards = [{"pan": c.pan, "name": c.name, "expiry": c.expiry} for c in (WANG_FANG, LI_NA, CHEN_JIE)]
        servers = {
            "card_reader": card_reader_server(seed=0, cards=cards, bin_capacity=1_000_000),
            "pin_pad": pin_pad_server(seed=0),
            "printer": printer_server(seed=0, out_dir=root / "printed", render_png=False),
        }
        for server in servers.values():
            server.start()
        (root / "none.toml").write_text("", encoding="utf-8")
        previous = os.environ.get("SMART_TELLER_CONFIG")
        os.environ["SMART_TELLER_CONFIG"] = str(root / "none.toml")
        try:
            described = {name: server.describe() for name, server in servers.items()}
            host = start_embedded_host(root / "host", "KIOSK-0001", root / "data" / "host-credential")
            settings = load_settings(
                data_dir=str(root / "data"),
                devices={**{n: d["url"] for n, d in described.items()}, "command_timeout_s": 1.0},
                host={"urls": [host.url]},
            )
            services = TerminalServices.start(settings)
            devices = build_devices(settings)
            devices.start()
            kiosk = HeadlessKiosk(services, devices, journey_context={"session_config": QUICK_SESSION})
            customer = Customer(kiosk, {n: d["control"] for n, d in described.items()})
            try:
                for number in range(1, checkpoints[-1] + 1):
                    outcome = customer.visit(VISITS[names[(number - 1) % len(names)]])
                    outcomes[outcome.status] = outcomes.get(outcome.status, 0) + 1
                    if number in checkpoints:
                        gc.collect()
                        rss[number] = rss_kib()
            finally:
                kiosk.close()
                devices.close()
                services.close()
                host.stop()
        finally:
            if previous is None:
                os.environ.pop("SMART_TELLER_CONFIG", None)
            else:
                os.environ["SMART_TELLER_CONFIG"] = previous
            for server in servers.values():
                server.close()
    first, last = checkpoints[0], checkpoints[-1]
    growth = rss[last] - rss[first]
    return {
        "soak_rss": {
            "rss_kib": {str(n): kib for n, kib in rss.items()},
            "reference_rss_after_first_kib": rss[first],
            "growth_kib": growth,
            "growth_per_journey_kib": round(growth / (last - first), 2),
            "growth_ratio": round(rss[last] / rss[first], 3),
            "journeys": last,
            "outcomes": outcomes,
            "seconds": round(time.perf_counter() - started, 1),
        }
    }


if __name__ == "__main__":
    import json

    print(json.dumps(run(quick=True), indent=2))
