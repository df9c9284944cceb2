"""ID card reader simulator (SAM-style protocol over socket://, fixture cards with faces as photos)."""

from __future__ import annotations

from pathlib import Path

from simulators.base import DeviceServer
from simulators.id_reader.server import IdReaderDevice

__all__ = ["IdReaderDevice", "make_server"]


def make_server(
    seed: int = 0, port: int = 0, *, faces_dir: str | Path | None = None, control_port: int = 0
) -> DeviceServer:
    """Serve the ID reader on ``socket://127.0.0.1:port``; card photos come from ``faces_dir``."""
    device = IdReaderDevice(Path(faces_dir) if faces_dir is not None else None, seed=seed)
    return DeviceServer(device, port, control_port)
