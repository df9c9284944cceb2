"""Start every simulator in its own process and collect their addresses.

Each child imports ``simulators.<device_class>``, calls its ``make_server(seed=..., port=..., **options)``
(only the options its signature accepts), starts it and sends ``describe()`` back over a pipe. Stopping
sets a shared event; each child closes its server and exits; the parent joins them all.

A child also stops on its own SIGTERM and when its parent dies (even by SIGKILL), so an interrupted
supervisor never leaves simulators listening behind it.
"""

from __future__ import annotations

import importlib
import inspect
import logging
import multiprocessing as mp
import signal
import tempfile
import threading
import time
from multiprocessing.connection import Connection
from multiprocessing.synchronize import Event as MpEvent
from pathlib import Path
from typing import Any

log = logging.getLogger(__name__)

# "switch" is not a device but the interbank switch the bank host forwards other-bank transfers to.
DEVICE_CLASSES = ("card_reader", "pin_pad", "card_dispenser", "id_reader", "printer", "camera", "switch")
START_TIMEOUT_S = 30.0
PARENT_CHECK_S = 0.5


class FleetInterrupted(RuntimeError):
    """SIGINT/SIGTERM arrived while the simulators were still starting."""


def default_faces_dir() -> Path:
    """``../shared/faces`` beside the repository (the developers' test data)."""
    return Path(__file__).resolve().parents[2] / "shared" / "faces"


def seed_card_options() -> list[dict[str, Any]] | None:
    """The bank's seed cards as card-reader wallet entries (PAN, name, expiry; never the test PIN).

    None when the bank's seed module is unavailable: the card reader then keeps its own seeded wallet.
    """
    try:
        from bank.seed import SEED_CARDS
    except ImportError as exc:  # the bank is optional for a simulators-only install
        log.warning("no seed cards for the card reader: %s", exc)
        return None
    return [{"pan": card.pan, "name": card.name, "expiry": card.expiry} for card in SEED_CARDS]


FACE_LOGIN_CAMERA = "face-login"
CAMERA_CHOICES = f"video, {FACE_LOGIN_CAMERA}, virtual_person:PHOTO or photo:PHOTO"


def face_login_photo() -> str | None:
    """The photo the bank's seeded face-login customer was enrolled from (a file in the test faces)."""
    try:
        from bank.seed import FACE_LOGIN_CUSTOMERS
    except ImportError as exc:  # the bank is optional for a simulators-only install
        log.warning("no seeded face-login customer to show: %s", exc)
        return None
    return FACE_LOGIN_CUSTOMERS[0].face_photo if FACE_LOGIN_CUSTOMERS else None


def camera_options(camera: str, faces_dir: Path) -> dict[str, Any]:
    """What the camera simulator starts showing, from ``camera`` (one of :data:`CAMERA_CHOICES`).

    ``face-login`` is the virtual person of the seeded face-login customer's photo (also the photo on the
    zhao_jianguo ID card). A photo that is not there falls back to the video with a warning, so the
    other devices still start.
    """
    if camera == "video":
        return {"source": "video"}
    if camera == FACE_LOGIN_CAMERA:
        source, photo = "virtual_person", face_login_photo()
    else:
        source, _, photo = camera.partition(":")
        if source not in ("virtual_person", "photo") or not photo:
            raise ValueError(f"unknown camera source {camera!r}; one of {CAMERA_CHOICES}")
    if photo is None or not (faces_dir / photo).is_file():
        log.warning("camera: %s not found in %s; showing the video instead", photo or camera, faces_dir)
        return {"source": "video"}
    return {"source": source, "photo": photo}


def _child(
    device: str, seed: int, port: int, options: dict[str, Any], conn: Connection, stop: MpEvent
) -> None:
    signal.signal(
        signal.SIGINT, signal.SIG_IGN
    )  # a terminal's Ctrl-C reaches the whole group; the parent decides
    terminated = threading.Event()
    signal.signal(signal.SIGTERM, lambda signum, frame: terminated.set())
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
    parent = mp.parent_process()
    try:
        while not stop.wait(PARENT_CHECK_S):
            if terminated.is_set() or (parent is not None and not parent.is_alive()):
                break
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
        cards: list[dict[str, Any]] | None = None,
        camera: str = "video",
    ) -> None:
        """``cards``: the card reader's virtual wallet (default: the bank's seed cards when available);
        ``camera``: what the camera shows first (:func:`camera_options`)."""
        self.seed = seed
        self._tmp: tempfile.TemporaryDirectory[str] | None = None
        if out_dir is None:
            self._tmp = tempfile.TemporaryDirectory(prefix="smart-teller-receipts-")
            out_dir = self._tmp.name
        self.out_dir = Path(out_dir)
        self.faces_dir = Path(faces_dir) if faces_dir else default_faces_dir()
        self.devices = tuple(only) if only else DEVICE_CLASSES
        unknown = [d for d in self.devices if d not in DEVICE_CLASSES]
        if unknown:
            raise ValueError(f"unknown device class(es): {', '.join(unknown)}")
        self.base_port = base_port
        self._cards = cards  # None: the bank's seed cards, looked up in start() (imports the bank)
        self.camera = camera
        self._ctx = mp.get_context("spawn")
        self._stop = self._ctx.Event()
        self._procs: dict[str, mp.process.BaseProcess] = {}
        self.signalled = threading.Event()
        self.addresses: dict[str, dict[str, Any]] = {}

    # -- signals ---------------------------------------------------------------------------------
    def install_signal_handlers(self) -> None:
        """SIGINT/SIGTERM only set :attr:`signalled`; the supervisor's loop then stops the fleet."""

        def handler(signum: int, frame: object) -> None:
            self.signalled.set()

        signal.signal(signal.SIGINT, handler)
        signal.signal(signal.SIGTERM, handler)

    # -- lifecycle -------------------------------------------------------------------------------
    def options(self) -> dict[str, Any]:
        options: dict[str, Any] = {"out_dir": str(self.out_dir), "faces_dir": str(self.faces_dir)}
        if "camera" in self.devices:
            options.update(camera_options(self.camera, self.faces_dir))
        if "card_reader" not in self.devices:
            return options
        cards = self._cards if self._cards is not None else seed_card_options()
        if cards is not None:
            options["cards"] = cards
        return options

    def start(self) -> dict[str, dict[str, Any]]:
        """Start every child and wait for its address; raises RuntimeError (or FleetInterrupted)."""
        options = self.options()
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
            self._procs[device] = proc
            pipes.append((device, parent))
        deadline = time.monotonic() + START_TIMEOUT_S
        for device, conn in pipes:
            try:
                while not conn.poll(0.1):
                    if self.signalled.is_set():
                        raise FleetInterrupted("interrupted while the simulators were starting")
                    if not self._procs[device].is_alive():
                        raise RuntimeError(f"{device} simulator exited while starting")
                    if time.monotonic() > deadline:
                        raise RuntimeError(f"{device} simulator did not start within {START_TIMEOUT_S:.0f} s")
                reply = conn.recv()
            finally:
                conn.close()
            if "error" in reply:
                raise RuntimeError(reply["error"])
            self.addresses[device] = reply
        return self.addresses

    def dead_children(self) -> list[str]:
        """Simulators whose process has ended (while the fleet should be running)."""
        return [f"{d} (exit code {p.exitcode})" for d, p in self._procs.items() if not p.is_alive()]

    def wait_for_signal(self, install_handlers: bool = True) -> str | None:
        """Block until SIGINT/SIGTERM (returns None) or a child dies (returns which)."""
        if install_handlers:
            self.install_signal_handlers()
        while not self.signalled.wait(0.5):
            dead = self.dead_children()
            if dead:
                return f"simulator exited unexpectedly: {', '.join(dead)}"
        return None

    def stop(self) -> None:
        self._stop.set()
        for proc in self._procs.values():
            proc.join(5)
            if proc.is_alive():
                proc.terminate()
                proc.join(2)
            if proc.is_alive():
                proc.kill()
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
