"""ESC/POS receipt printer driver over raw TCP (``tcp://host:9100``) or any pyserial URL.

The classic field bug is a printer that reports "printed" with no paper. So each receipt is bracketed:
real-time status (``DLE EOT 1..4``) before sending anything, then the receipt, then ``GS r 1`` — which
the printer answers only after it has processed every byte before it — and the real-time status again.
Only a clean status after the job makes the Result a success.
"""

from __future__ import annotations

import socket
import threading
import time
from typing import Any, Protocol

import serial

from devices.base import (
    CancelToken,
    Completion,
    DeviceInfo,
    DeviceLinkError,
    DeviceState,
    DriverBase,
    Operation,
    Result,
)
from devices.printer.escpos import (
    PAPER_SENSOR_REQUEST,
    PrinterStatus,
    StatusKind,
    is_status_byte,
    status_request,
)
from devices.printer.interface import PrintReport
from devices.printer.layout import RECEIPT_COLUMNS, ReceiptDocument, encode_receipt
from devices.selftest import SelfTestBuilder, SelfTestReport

SEND_CHUNK = 4096


class _Transport(Protocol):
    def write(self, data: bytes) -> None: ...

    def read_byte(self, timeout: float) -> int | None: ...

    def discard_input(self) -> None: ...

    def close(self) -> None: ...


class _TcpTransport:
    def __init__(self, host: str, port: int, connect_timeout: float) -> None:
        self._sock = socket.create_connection((host, port), timeout=connect_timeout)
        self._sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)

    def write(self, data: bytes) -> None:
        try:
            self._sock.settimeout(10.0)
            self._sock.sendall(data)
        except OSError as exc:
            raise DeviceLinkError(f"send failed: {exc}") from exc

    def read_byte(self, timeout: float) -> int | None:
        try:
            self._sock.settimeout(timeout)
            data = self._sock.recv(1)
        except TimeoutError:
            return None
        except OSError as exc:
            raise DeviceLinkError(f"receive failed: {exc}") from exc
        if not data:
            raise DeviceLinkError("printer closed the connection")
        return data[0]

    def discard_input(self) -> None:
        self._sock.setblocking(False)
        try:
            while True:
                data = self._sock.recv(4096)
                if not data:
                    raise DeviceLinkError("printer closed the connection")
        except BlockingIOError:
            pass
        except OSError as exc:
            raise DeviceLinkError(f"receive failed: {exc}") from exc
        finally:
            self._sock.setblocking(True)

    def close(self) -> None:
        self._sock.close()


class _SerialTransport:
    def __init__(self, url: str, baudrate: int) -> None:
        self._port = serial.serial_for_url(url, baudrate=baudrate, timeout=0.5, write_timeout=10.0)

    def write(self, data: bytes) -> None:
        try:
            self._port.write(data)
            self._port.flush()
        except (serial.SerialException, OSError) as exc:
            raise DeviceLinkError(f"send failed: {exc}") from exc

    def read_byte(self, timeout: float) -> int | None:
        try:
            self._port.timeout = timeout
            data = self._port.read(1)
        except (serial.SerialException, OSError) as exc:
            raise DeviceLinkError(f"receive failed: {exc}") from exc
        return data[0] if data else None

    def discard_input(self) -> None:
        try:
            self._port.reset_input_buffer()
        except (serial.SerialException, OSError) as exc:
            raise DeviceLinkError(f"reset failed: {exc}") from exc

    def close(self) -> None:
        self._port.close()


def _open_transport(url: str, baudrate: int, connect_timeout: float) -> _Transport:
    if url.startswith("tcp://"):
        rest = url[len("tcp://") :].rstrip("/")
        host, _, port = rest.rpartition(":")
        if not host or not port.isdigit():
            raise ValueError(f"bad printer URL {url!r}; expected tcp://host:port")
        return _TcpTransport(host, int(port), connect_timeout)
    return _SerialTransport(url, baudrate)


def _status_problem(status: PrinterStatus) -> tuple[Completion, DeviceState, str] | None:
    """Why this status cannot print, as (completion, device state, reason); None if it can."""
    if status.cutter_error:
        return Completion.MEDIA_JAMMED, DeviceState.HARDWARE_ERROR, "auto-cutter error"
    if status.mechanical_error or status.unrecoverable_error or status.auto_recoverable_error or status.error:
        return Completion.HARDWARE_ERROR, DeviceState.HARDWARE_ERROR, "printer error"
    if status.cover_open:
        return Completion.USER_ERROR, DeviceState.USER_ERROR, "cover open"
    if status.paper_out:
        return Completion.PAPER_OUT, DeviceState.USER_ERROR, "paper out"
    if status.offline:
        return Completion.OFFLINE, DeviceState.OFFLINE, "printer offline"
    return None


class EscPosPrinterDriver(DriverBase):
    """Receipt printer driver. ``url`` is ``tcp://host:port`` or any pyserial URL."""

    device_class = "printer"
    model = "ESC/POS 80 mm receipt printer"

    def __init__(
        self,
        url: str,
        *,
        name: str | None = None,
        baudrate: int = 115200,
        status_timeout: float = 1.0,
        print_timeout: float = 20.0,
        poll_interval: float = 2.0,
        columns: int = RECEIPT_COLUMNS,
    ) -> None:
        super().__init__(url, name=name)
        self.baudrate = baudrate
        self.status_timeout = status_timeout
        self.print_timeout = print_timeout
        self.poll_interval = poll_interval
        self.columns = columns
        self._transport: _Transport | None = None
        self._last_status: PrinterStatus | None = None
        self._last_poll = 0.0
        self._counter_lock = threading.Lock()
        self._counters = {"receipts_printed": 0, "receipts_failed": 0, "paper_low_events": 0}

    # -- public commands ---------------------------------------------------------------------
    def print_receipt(self, doc: ReceiptDocument) -> Operation[PrintReport]:
        data = encode_receipt(doc, self.columns)
        return self.print_bytes(data, name="print_receipt")

    def print_bytes(self, data: bytes, name: str = "print_bytes") -> Operation[PrintReport]:
        """Print an already encoded ESC/POS job (it should end with a cut)."""
        return self.submit(name, lambda token: self._print_job(data, token))

    def query_status(self) -> Operation[PrinterStatus]:
        return self.submit("query_status", lambda token: Result.success(self._refresh_status()))

    def counters(self) -> dict[str, int]:
        with self._counter_lock:
            return dict(self._counters)

    # -- DriverBase hooks --------------------------------------------------------------------
    def _connect(self) -> None:
        self._transport = _open_transport(self.url, self.baudrate, self.status_timeout)
        try:
            self._refresh_status()
        except DeviceLinkError:
            self._disconnect()
            raise

    def _on_connected(self) -> None:
        # _refresh_status in _connect already set the state from what the printer said
        if self._last_status is None:
            super()._on_connected()

    def _disconnect(self) -> None:
        if self._transport is not None:
            self._transport.close()
            self._transport = None

    def _idle(self) -> None:
        if time.monotonic() - self._last_poll >= self.poll_interval:
            self._refresh_status()

    # -- internals ---------------------------------------------------------------------------
    def _link(self) -> _Transport:
        if self._transport is None:
            raise DeviceLinkError("not connected")
        return self._transport

    def _read_status(self) -> PrinterStatus:
        link = self._link()
        link.discard_input()
        replies = bytearray()
        for kind in StatusKind:
            link.write(status_request(kind))
            value = link.read_byte(self.status_timeout)
            if value is None:
                raise DeviceLinkError(f"no reply to DLE EOT {int(kind)}")
            if not is_status_byte(value):
                raise DeviceLinkError(f"DLE EOT {int(kind)} reply 0x{value:02X} is not a status byte")
            replies.append(value)
        return PrinterStatus.from_bytes(bytes(replies))

    def _refresh_status(self) -> PrinterStatus:
        status = self._read_status()
        self._last_poll = time.monotonic()
        self._apply_status(status)
        return status

    def _apply_status(self, status: PrinterStatus) -> None:
        previous = self._last_status
        self._last_status = status
        problem = _status_problem(status)
        state = DeviceState.ONLINE if problem is None else problem[1]
        self._set_state(
            state,
            error=problem[2] if problem is not None else None,
            paper=status.paper,
            cover_open=status.cover_open,
            cutter_error=status.cutter_error,
            printer_error=status.has_error,
        )
        was_low = previous is not None and previous.paper_near_end
        if status.paper_near_end and not status.paper_out and not was_low:
            with self._counter_lock:
                self._counters["paper_low_events"] += 1
                count = self._counters["paper_low_events"]
            self._emit("paper_low", count=count)
        if status.paper_out and (previous is None or not previous.paper_out):
            self._emit("paper_out")
        if status.cover_open and (previous is None or not previous.cover_open):
            self._emit("cover_open")
        if status.cutter_error and (previous is None or not previous.cutter_error):
            self._emit("cutter_error")

    def _count(self, key: str) -> None:
        with self._counter_lock:
            self._counters[key] += 1

    def _print_job(self, data: bytes, token: CancelToken) -> Result[PrintReport]:
        started = time.monotonic()
        before = self._refresh_status()
        problem = _status_problem(before)
        if problem is not None:
            self._count("receipts_failed")
            report = PrintReport(0, time.monotonic() - started, before, None)
            return Result(problem[0], report, f"not printed: {problem[2]}")
        if token.cancelled:
            return Result(
                Completion.CANCELLED, PrintReport(0, 0.0, before, None), "cancelled before printing"
            )
        link = self._link()
        sent = 0
        try:
            for offset in range(0, len(data), SEND_CHUNK):
                link.write(data[offset : offset + SEND_CHUNK])
                sent = min(len(data), offset + SEND_CHUNK)
            done = self._wait_processed(link)
            after = self._refresh_status()
        except DeviceLinkError:
            self._count("receipts_failed")
            raise
        report = PrintReport(sent, time.monotonic() - started, before, after)
        problem = _status_problem(after)
        if problem is not None:
            self._count("receipts_failed")
            return Result(problem[0], report, f"receipt not printed: {problem[2]}")
        if not done:
            self._count("receipts_failed")
            return Result(Completion.TIMEOUT, report, "printer did not confirm the job")
        self._count("receipts_printed")
        return Result.success(report, "printed, paper low" if after.paper_near_end else "printed")

    def _wait_processed(self, link: _Transport) -> bool:
        """Send ``GS r 1`` and wait for its in-order reply: then every byte before it was processed."""
        link.write(PAPER_SENSOR_REQUEST)
        deadline = time.monotonic() + self.print_timeout
        while (remaining := deadline - time.monotonic()) > 0:
            value = link.read_byte(min(remaining, 0.5))
            if value is None:
                # A printer that stopped (paper out, cover open, error) never answers GS r 1: ask the
                # real-time offline cause so we give up at once instead of waiting for the timeout.
                link.write(status_request(StatusKind.OFFLINE_CAUSE))
                continue
            if not is_status_byte(value):
                return True
            if value & 0x64:  # DLE EOT 2: cover open (bit 2), stopped at paper end (5), error (6)
                return False
        return False

    def describe(self) -> dict[str, Any]:
        return {"url": self.url, "baudrate": self.baudrate, "columns": self.columns, **self.counters()}

    def info(self) -> DeviceInfo:
        return DeviceInfo(
            self.device_class,
            self.model,
            self.url,
            "",  # ESC/POS has no portable firmware query; the model is what settings name
            {"columns": self.columns, "cutter": True, "qr": True, "paper_sensors": ["end", "near_end"]},
        )

    @property
    def capabilities(self) -> dict[str, Any]:
        return dict(self.info().capabilities)

    def self_test(self) -> Operation[SelfTestReport]:
        """Real-time status (DLE EOT 1..4): online, cover closed, cutter and mechanism fine, paper in."""

        def job(token: CancelToken) -> Result[SelfTestReport]:
            test = SelfTestBuilder(self.device_class)
            status = self._refresh_status()
            test.facts.update(paper=status.paper)
            # cover open and paper end also set the offline bit: name the cause, not its symptom
            unexplained = status.offline and not (status.cover_open or status.paper_out or status.has_error)
            test.check("online", not unexplained, "printer reports offline" if unexplained else "")
            test.check("cover closed", not status.cover_open, "cover open" if status.cover_open else "")
            test.check("cutter", not status.cutter_error, "auto-cutter error" if status.cutter_error else "")
            other = status.mechanical_error or status.unrecoverable_error or status.auto_recoverable_error
            test.check("mechanism", not other, "printer error" if other else "")
            test.check("paper", not status.paper_out, status.paper)
            return test.result()

        return self.submit("self_test", job)
