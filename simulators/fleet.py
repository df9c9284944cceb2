"""Start every simulator in its own process and collect their addresses.

Each child imports ``simulators.<device_class>``, calls its ``make_server(seed=..., port=..., **options)``
(only the options its signature accepts), starts it and sends ``describe()`` back over a pipe. Stopping
sets a shared event; each child closes its server and exits; the parent joins them all.
"""

from __future__ import annotations

import importlib
import inspect
import multiprocessing as mp
import signal
import tempfile
import threading
from multiprocessing.connection import Connection
from multiprocessing.synchronize import Event as MpEvent
from pathlib import Path
from typing import Any

DEVICE_CLASSES = ("card_reader", "pin_pad", "card_dispenser", "id_reader", "printer", "camera")
START_TIMEOUT_S = 30.0


def default_faces_dir() -> Path:
    """``../shared/faces`` beside the repository (the developers' test data)."""
    return Path(__file__).resolve().parents[2] / "shared" / "faces"


def _child(
    device: str, seed: int, port: int, options: dict[str, Any], conn: Connection, stop: MpEvent
) -> None:
    signal.signal(signal.SIGINT, signal.SIG_IGN)  # the parent decides when we stop
    try:
        module = importlib.import_module(f"simulators.{device}")
        factory = module.make_server
        accepted = inspect.signature(factory).parameters
        kwargs = {k: v for k, v in options.items() if k in accepted}
        server = factory(seed=seed, port=port, **kwargs)
        server.start()
    except Exception as exc:
        conn.send({"error": f"{device}: {type(exc).__name__}: {exc}"})
        return
    conn.send(server.describe())
    try:
        stop.wait()
    finally:
        server.close()


class SimulatorFleet:
    def __init__(
        self,
        *,
        seed: int = 0,
        out_dir: str | Path | None = None,
        faces_dir: str | Path | None = None,
        only: list[str] | None = None,
        base_port: int = 0,
    ) -> None:
        self.seed = seed
        self._tmp: tempfile.TemporaryDirectory[str] | None = None
        if out_dir is None:
            self._tmp = tempfile.TemporaryDirectory(prefix="smart-teller-receipts-")
            out_dir = self._tmp.name
        self.out_dir = Path(out_dir)
        self.faces_dir = Path(faces_dir) if faces_dir else default_faces_dir()
        self.devices = tuple(only) if only else DEVICE_CLASSES
        self.base_port = base_port
        self._ctx = mp.get_context("spawn")
        self._stop = self._ctx.Event()
        self._procs: list[mp.process.BaseProcess] = []
        self._signalled = threading.Event()
        self.addresses: dict[str, dict[str, Any]] = {}

    def start(self) -> dict[str, dict[str, Any]]:
        options = {"out_dir": str(self.out_dir), "faces_dir": str(self.faces_dir)}
        pipes: list[tuple[str, Connection]] = []
        for index, device in enumerate(self.devices):
            parent, child = self._ctx.Pipe(duplex=False)
            port = self.base_port + index * 2 if self.base_port else 0
            proc = self._ctx.Process(
                target=_child,
                args=(device, self.seed, port, options, child, self._stop),
                name=f"sim-{device}",
                daemon=True,
            )
            proc.start()
            child.close()
            self._procs.append(proc)
            pipes.append((device, parent))
        for device, conn in pipes:
            if not conn.poll(START_TIMEOUT_S):
                raise RuntimeError(f"{device} simulator did not start within {START_TIMEOUT_S:.0f} s")
            reply = conn.recv()
            conn.close()
            if "error" in reply:
                raise RuntimeError(reply["error"])
            self.addresses[device] = reply
        return self.addresses

    def wait_for_signal(self) -> None:
        def handler(signum: int, frame: object) -> None:
            self._signalled.set()

        signal.signal(signal.SIGINT, handler)
        signal.signal(signal.SIGTERM, handler)
        while not self._signalled.wait(0.5):
            if any(not proc.is_alive() for proc in self._procs):
                break

    def stop(self) -> None:
        self._stop.set()
        for proc in self._procs:
            proc.join(5)
            if proc.is_alive():
                proc.terminate()
                proc.join(2)
        self._procs.clear()
        if self._tmp is not None:
            self._tmp.cleanup()
            self._tmp = None

    def __enter__(self) -> SimulatorFleet:
        self.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.stop()
