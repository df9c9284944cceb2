"""``python -m simulators``: serve every simulated device on loopback, each in its own process.

Prints one JSON object (device class → {"url", "control", …}) on stdout once every simulator listens,
then runs until SIGINT/SIGTERM, when it stops each child and joins it. With ``--panel`` this supervisor
also opens the developer control panel (a Qt window) and runs until the window closes or a signal comes.
Exit codes: 0 after a clean shutdown, 1 when a simulator died on its own, 2 when the fleet did not start.
"""

from __future__ import annotations

import argparse
import json
import sys

from simulators.fleet import (
    CAMERA_CHOICES,
    DEVICE_CLASSES,
    FleetInterrupted,
    SimulatorFleet,
    default_faces_dir,
)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m simulators", description=__doc__)
    parser.add_argument("--json", action="store_true", help="print the addresses as one JSON line")
    parser.add_argument("--seed", type=int, default=0, help="seed for every simulator's randomness")
    parser.add_argument("--out", default=None, help="folder for rendered receipts (default: a temp dir)")
    parser.add_argument("--faces", default=str(default_faces_dir()), help="folder with the test faces")
    parser.add_argument(
        "--only", action="append", choices=DEVICE_CLASSES, help="serve only these device classes"
    )
    parser.add_argument("--base-port", type=int, default=0, help="fixed ports from here on (0: ephemeral)")
    parser.add_argument(
        "--camera", default="video", help=f"what the camera shows first: {CAMERA_CHOICES} (default: video)"
    )
    parser.add_argument("--panel", action="store_true", help="also open the developer control panel window")
    args = parser.parse_args(argv)

    fleet = SimulatorFleet(
        seed=args.seed,
        out_dir=args.out,
        faces_dir=args.faces,
        only=args.only,
        base_port=args.base_port,
        camera=args.camera,
    )
    fleet.install_signal_handlers()  # before the children start: a signal now still stops them all
    try:
        addresses = fleet.start()
    except FleetInterrupted:
        fleet.stop()
        return 0
    except Exception as exc:
        fleet.stop()
        print(f"simulators: {exc}", file=sys.stderr)
        return 2
    if args.json:
        print(json.dumps(addresses), flush=True)
    else:
        for device, address in addresses.items():
            print(f"{device:15} {address['url']:40} control {address['control']}", flush=True)
    try:
        if args.panel:
            from simulators.panel import run_panel  # Qt only when asked for

            problem = run_panel(addresses, faces_dir=fleet.faces_dir, stop=fleet.signalled, fleet=fleet)
        else:
            problem = fleet.wait_for_signal(install_handlers=False)
    finally:
        fleet.stop()
    if problem:
        print(f"simulators: {problem}", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
