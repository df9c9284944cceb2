"""Receipt printer simulator (ESC/POS over raw TCP, receipts rendered to text and PNG)."""

from __future__ import annotations

from pathlib import Path

from simulators.printer.server import PrinterDevice, PrinterServer, make_printer_server

__all__ = ["PrinterDevice", "PrinterServer", "make_server"]


def make_server(
    seed: int = 0,
    port: int = 0,
    *,
    out_dir: str | Path | None = None,
    control_port: int = 0,
    render_png: bool = True,
) -> PrinterServer:
    """A printer simulator on ``tcp://127.0.0.1:port``; receipts go to ``out_dir`` (default: a temp dir).

    Options are explicit keywords (not ``**kw``) so the fleet launcher, which passes only the options a
    factory's signature names, can hand over ``out_dir``.
    """
    return make_printer_server(seed, port, out_dir=out_dir, control_port=control_port, render_png=render_png)
