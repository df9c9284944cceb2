"""Camera simulator: MJPEG over HTTP on loopback with switchable sources and stream faults."""

from __future__ import annotations

from pathlib import Path

from simulators.camera.server import CameraServer

__all__ = ["CameraServer", "make_server"]


def make_server(
    seed: int = 0,
    port: int = 0,
    *,
    faces_dir: str | Path | None = None,
    source: str = "video",
    photo: str | None = None,
    fps: float = 30.0,
    control_port: int = 0,
) -> CameraServer:
    """Serve ``http://127.0.0.1:port/stream.mjpg``; sources read faces/video from ``faces_dir``; ``photo``
    is the face the ``virtual_person`` or ``photo`` source starts with."""
    return CameraServer(
        seed=seed,
        port=port,
        control_port=control_port,
        fps=fps,
        source=source,
        photo=photo,
        faces_dir=faces_dir,
    )
