"""Receipt printer simulator (ESC/POS over raw TCP, receipts rendered to text and PNG)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from simulators.printer.server import PrinterDevice, PrinterServer, make_printer_server

__all__ = ["PrinterDevice", "PrinterServer", "make_server"]


def make_server(seed: int = 0, port: int = 0, **kw: Any) -> PrinterServer:
    """Keyword options: ``out_dir`` (default: a new temporary folder), ``control_port``, ``render_png``."""
    out_dir: str | Path | None = kw.pop("out_dir", None)
    return make_printer_server(seed, port, out_dir=out_dir, **kw)
