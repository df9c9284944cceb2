"""Receipt printer simulator: ESC/POS over raw TCP on loopback (port-9100 style).

One job is the bytes up to a cut. Status requests are answered truthfully from the fault state. Each cut
receipt is rendered to ``<out>/receipt-NNNN.txt`` and ``.png``. A receipt is *not* produced when the
paper ran out or the cover was open during the job; a cutter jam leaves the receipt printed but uncut
and latches an auto-cutter error until ``clear_faults``.
"""

from __future__ import annotations

import contextlib
import io
import socket
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from devices.printer.escpos import PrinterStatus, paper_sensor_byte
from hostlink.paths import private_dir, write_private
from hostlink.redaction import redact
from simulators.base import DEFAULT_IDLE_TIMEOUT_S, DeviceServer, SimulatedDevice
from simulators.printer.interpreter import Block, EscPosInterpreter, QrBlock, Receipt, Segment, TextLine
from simulators.printer.render import ReceiptRenderer, aligned_text


class DropLink(Exception):
    """The disconnect-mid-job fault fired: the server must drop the host connection."""


@dataclass
class RenderedReceipt:
    number: int
    text_path: Path
    png_path: Path
    text: str
    cut: bool

    def as_dict(self) -> dict[str, Any]:
        return {
            "number": self.number,
            "txt": str(self.text_path),
            "png": str(self.png_path),
            "text": self.text,
            "cut": self.cut,
        }


class PrinterDevice(SimulatedDevice):
    device_class = "printer"

    def __init__(self, out_dir: Path, seed: int = 0, columns: int = 48, render_png: bool = True) -> None:
        super().__init__(seed)
        self.out_dir = private_dir(Path(out_dir))
        self.columns = columns
        self.render_png = render_png
        self.paper_low = False
        self.paper_out = False
        self.cover_open = False
        self.cutter_jam = False  # armed: the next cut fails
        self.cutter_error = False  # latched after a failed cut
        self.drop_after: int | None = None
        self.paper_end_at: int | None = None
        self._job_failed_reason: str | None = None
        self._bytes_since_connect = 0
        self.receipts: list[RenderedReceipt] = []
        self.failed_jobs: list[dict[str, Any]] = []
        self._renderer = ReceiptRenderer()
        self._interp = self._new_interpreter()

    def _new_interpreter(self) -> EscPosInterpreter:
        return EscPosInterpreter(
            status_byte=self._status_byte, paper_sensor=self._paper_sensor, on_cut=self._on_cut
        )

    # -- status ------------------------------------------------------------------------------
    def printer_status(self) -> PrinterStatus:
        stopped = self.paper_out or self.cover_open or self.cutter_error
        return PrinterStatus(
            offline=stopped,
            cover_open=self.cover_open,
            paper_end_stop=self.paper_out,
            error=self.cutter_error,
            cutter_error=self.cutter_error,
            auto_recoverable_error=False,
            paper_near_end=self.paper_low or self.paper_out,
            paper_out=self.paper_out,
        )

    def _status_byte(self, n: int) -> int:
        return self.printer_status().as_bytes()[n - 1]

    def _paper_sensor(self) -> int:
        return paper_sensor_byte(self.paper_low or self.paper_out, self.paper_out)

    # -- byte stream -------------------------------------------------------------------------
    def on_connect(self) -> None:
        self._interp = self._new_interpreter()  # a new connection starts a fresh job
        self._job_failed_reason = None
        self._bytes_since_connect = 0

    def on_bytes(self, data: bytes) -> bytes:
        if self.drop_after is not None and self._bytes_since_connect + len(data) > self.drop_after:
            keep = max(0, self.drop_after - self._bytes_since_connect)
            self._interp.feed(data[:keep])
            self.drop_after = None  # one-shot
            self.failed_jobs.append(
                {"reason": "link dropped mid-job", "bytes": self._interp.receipt.byte_count}
            )
            self._interp = self._new_interpreter()
            raise DropLink
        self._bytes_since_connect += len(data)
        if self.paper_end_at is not None and self._bytes_since_connect >= self.paper_end_at:
            self.paper_out, self.paper_end_at = True, None
        reply = self._interp.feed(data)
        if (self.paper_out or self.cover_open) and self._interp.has_content:
            # print data arrived while the printer was stopped: this job cannot come out whole
            self._job_failed_reason = "paper out" if self.paper_out else "cover open"
        return reply

    def _on_cut(self, receipt: Receipt) -> None:
        reason = self._job_failed_reason
        if self.paper_out or self.cover_open:
            reason = "paper out" if self.paper_out else "cover open"
        self._job_failed_reason = None
        if reason is not None:
            self.failed_jobs.append({"reason": reason, "bytes": receipt.byte_count})
            return
        if self.cutter_jam:
            self.cutter_jam = False
            self.cutter_error = True
            receipt.cut = False
        self._render(receipt)

    def _render(self, receipt: Receipt) -> None:
        number = len(self.receipts) + 1
        text = "\n".join(aligned_text(receipt, self.columns)) + "\n"
        text_path = self.out_dir / f"receipt-{number:04d}.txt"
        png_path = self.out_dir / f"receipt-{number:04d}.png"
        # The files are copies at rest: card and account numbers, ID numbers and phones masked
        # (hostlink.redaction), owner-only. ``text`` in memory is what the paper showed.
        stored = _redacted(receipt)
        write_private(text_path, ("\n".join(aligned_text(stored, self.columns)) + "\n").encode("utf-8"))
        if self.render_png:
            image = io.BytesIO()
            self._renderer.to_image(stored).save(image, format="PNG")
            write_private(png_path, image.getvalue())
        self.receipts.append(RenderedReceipt(number, text_path, png_path, text, receipt.cut))

    # -- control -----------------------------------------------------------------------------
    def snapshot(self) -> dict[str, Any]:
        status = self.printer_status()
        return {
            "paper": status.paper,
            "cover_open": self.cover_open,
            "cutter_error": self.cutter_error,
            "cutter_jam_armed": self.cutter_jam,
            "drop_after": self.drop_after,
            "receipts": len(self.receipts),
            "failed_jobs": list(self.failed_jobs),
            "out_dir": str(self.out_dir),
        }

    def ctl_paper_low(self, on: bool = True) -> dict[str, Any]:
        self.paper_low = bool(on)
        return self.snapshot()

    def ctl_paper_out(self, on: bool = True) -> dict[str, Any]:
        self.paper_out = bool(on)
        return self.snapshot()

    def ctl_refill(self) -> dict[str, Any]:
        self.paper_low = self.paper_out = False
        return self.snapshot()

    def ctl_cover_open(self, on: bool = True) -> dict[str, Any]:
        self.cover_open = bool(on)
        return self.snapshot()

    def ctl_cutter_jam(self, on: bool = True) -> dict[str, Any]:
        self.cutter_jam = bool(on)
        if not on:
            self.cutter_error = False
        return self.snapshot()

    def ctl_disconnect_after(self, nbytes: int) -> dict[str, Any]:
        """Drop the host connection once ``nbytes`` more bytes arrived (one-shot)."""
        if int(nbytes) < 0:
            raise ValueError("nbytes must be >= 0")
        self.drop_after = self._bytes_since_connect + int(nbytes)
        return self.snapshot()

    def ctl_paper_end_after(self, nbytes: int) -> dict[str, Any]:
        """The roll runs out once ``nbytes`` more bytes arrived (the job in progress is not finished)."""
        if int(nbytes) < 0:
            raise ValueError("nbytes must be >= 0")
        self.paper_end_at = self._bytes_since_connect + int(nbytes)
        return self.snapshot()

    def ctl_clear_faults(self) -> dict[str, Any]:
        self.paper_low = self.paper_out = self.cover_open = False
        self.cutter_jam = self.cutter_error = False
        self.drop_after = self.paper_end_at = None
        return self.snapshot()

    def ctl_receipts(self) -> list[dict[str, Any]]:
        return [r.as_dict() for r in self.receipts]


class PrinterServer(DeviceServer):
    """DeviceServer that also honours :class:`DropLink` and names itself ``tcp://`` (raw port 9100 style)."""

    device: PrinterDevice

    def __init__(
        self,
        device: PrinterDevice,
        port: int = 0,
        control_port: int = 0,
        *,
        idle_timeout_s: float = DEFAULT_IDLE_TIMEOUT_S,
    ) -> None:
        super().__init__(device, port, control_port, idle_timeout_s=idle_timeout_s)
        self.url = f"tcp://127.0.0.1:{self.port}"

    def start(self) -> PrinterServer:
        super().start()
        return self

    def _pump(self, conn: socket.socket) -> None:
        last_activity = time.monotonic()
        while not self._stop.is_set() and self._plugged.is_set():
            try:
                data = conn.recv(65536)
            except TimeoutError:
                if self._superseded(last_activity):
                    return
                continue
            except OSError:
                return
            if not data:
                return
            last_activity = time.monotonic()
            if self._silent:
                continue
            try:
                with self.device.lock:
                    reply = self.device.on_bytes(data)
            except DropLink:
                return  # the caller drops the connection
            if reply and self._garbage_replies > 0:
                self._garbage_replies -= 1
                reply = bytes(self.device.rng.randrange(256) for _ in range(len(reply)))
            if reply:
                with contextlib.suppress(OSError):
                    conn.sendall(reply)


def _redacted(receipt: Receipt) -> Receipt:
    """A copy of ``receipt`` with every text and QR payload through :func:`hostlink.redaction.redact`."""
    blocks: list[Block] = []
    for block in receipt.blocks:
        if isinstance(block, TextLine):
            segments = [Segment(redact(segment.text), segment.style) for segment in block.segments]
            blocks.append(TextLine(segments, block.align))
        elif isinstance(block, QrBlock):
            blocks.append(QrBlock(redact(block.payload), block.module_size, block.align))
        else:
            blocks.append(block)
    return Receipt(blocks, receipt.cut, receipt.byte_count)


def make_printer_server(
    seed: int = 0,
    port: int = 0,
    *,
    out_dir: str | Path | None = None,
    control_port: int = 0,
    render_png: bool = True,
) -> PrinterServer:
    folder = Path(out_dir) if out_dir is not None else Path(tempfile.mkdtemp(prefix="smart-teller-receipts-"))
    return PrinterServer(PrinterDevice(folder, seed=seed, render_png=render_png), port, control_port)
