"""Receipt print time through the driver vs the time its bytes need on a serial line.

Reference measured in the same run: the bare byte count of the same receipt at the configured baud rate
(115200 8N1 → 11520 bytes/s), and a raw socket send of the same bytes to the same simulator.
"""

from __future__ import annotations

import socket
import statistics
import tempfile
import time
from typing import Any

from devices.printer.driver import EscPosPrinterDriver
from devices.printer.layout import ReceiptDocument, ReceiptLine, encode_receipt
from simulators.printer import make_server

BAUD = 115200
BYTES_PER_SECOND = BAUD / 10  # 8N1: start + 8 data + stop bits

TYPICAL = ReceiptDocument(
    bank_name="Smart Bank",
    kiosk_id="K-0042",
    date="2024-05-01 10:22:33",
    reference="202405010042",
    masked_pan="435211******1234",
    title="Cash withdrawal",
    lines=(ReceiptLine("Account", "Current ****1234"), ReceiptLine("Branch", "Chaoyang")),
    amounts=(ReceiptLine("Amount", "CNY 1,000.00"), ReceiptLine("Fee", "CNY 0.00")),
    footer=("Thank you", "Keep this receipt"),
)


def run(quick: bool = False) -> dict[str, Any]:
    rounds = 10 if quick else 50
    data = encode_receipt(TYPICAL)
    with tempfile.TemporaryDirectory() as out:
        server = make_server(out_dir=out, render_png=False).start()
        driver = EscPosPrinterDriver(server.describe()["url"], baudrate=BAUD)
        driver.start()
        try:
            driver.query_status().result(5)
            times = []
            for _ in range(rounds):
                result = driver.print_receipt(TYPICAL).result(10)
                if not result.ok or result.value is None:
                    raise RuntimeError(f"benchmark print failed: {result.detail}")
                times.append(result.value.seconds)
        finally:
            driver.close()  # the simulator serves one host at a time
        try:
            raw = []
            for _ in range(rounds):
                started = time.perf_counter()
                with socket.create_connection(("127.0.0.1", server.port), timeout=5) as sock:
                    sock.sendall(data + b"\x1dr\x01")
                    sock.recv(1)  # GS r 1 answered: everything before it was processed
                raw.append(time.perf_counter() - started)
        finally:
            server.close()
    wire_s = len(data) / BYTES_PER_SECOND
    median = statistics.median(times)
    return {
        "receipt_bytes": len(data),
        "baud": BAUD,
        "wire_time_at_baud_ms": round(wire_s * 1000, 3),
        "driver_print_median_ms": round(median * 1000, 3),
        "driver_print_p95_ms": round(sorted(times)[int(0.95 * (len(times) - 1))] * 1000, 3),
        "ratio_driver_to_wire": round(median / wire_s, 3),
        "raw_socket_send_median_ms": round(statistics.median(raw) * 1000, 3),
        "ratio_driver_to_raw_socket": round(median / statistics.median(raw), 2),
        # what the before/after bracketing costs on a real serial line: 9 requests (27 bytes) out,
        # 9 one-byte answers back, each a round trip
        "status_overhead_bytes_at_baud_ms": round((27 + 9) / BYTES_PER_SECOND * 1000, 3),
        "rounds": rounds,
        "note": (
            "driver time includes DLE EOT 1..4 before, GS r 1 and DLE EOT 1..4 after each receipt; the "
            "simulator is not baud-throttled, so ratio_driver_to_wire < 1 means the driver adds far less "
            "than the line time itself"
        ),
    }


if __name__ == "__main__":
    import json

    print(json.dumps(run(quick=True), indent=2))
