"""Command round-trip latency to the card reader simulator: through the driver vs a raw socket.

Three layers measured in the same run against the same simulator on loopback:
- raw: a plain TCP socket writes the pre-built ``C10`` frame and reads ACK + the 17-byte reply;
- transport: ``SankyoTransport`` over a pyserial ``socket://`` link (codec, CRC, ACK handling);
- driver: ``CardReaderDriver.reset()`` as a caller sees it (queue, I/O thread, Operation, two exchanges
  ``C00`` + ``C10``), reported per exchange as well.
"""

from __future__ import annotations

import socket
import statistics
import time
from typing import Any

from devices.card_reader import protocol as cr
from devices.card_reader.driver import CardReaderDriver
from devices.sankyo_frame import SankyoTransport, encode_frame
from devices.serial_link import SerialLink
from simulators.card_reader import make_server


def _ms(samples: list[float]) -> dict[str, float]:
    ordered = sorted(samples)
    return {
        "median_ms": round(statistics.median(ordered) * 1000, 3),
        "p95_ms": round(ordered[int(len(ordered) * 0.95) - 1] * 1000, 3),
    }


def run(quick: bool = False) -> dict[str, Any]:
    rounds = 50 if quick else 300
    frame = encode_frame(cr.command(cr.STATUS))
    reply_len = 1 + 3 + 12 + 2
    server = make_server(seed=0, cards=[]).start()
    try:
        raw: list[float] = []
        with socket.create_connection(("127.0.0.1", server.port), timeout=2) as sock:
            sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
            for _ in range(rounds):
                t0 = time.perf_counter()
                sock.sendall(frame)
                got = b""
                while len(got) < reply_len:
                    got += sock.recv(64)
                raw.append(time.perf_counter() - t0)
        time.sleep(0.3)  # the simulator serves one host at a time

        transport_samples: list[float] = []
        transport = SankyoTransport(SerialLink.open(server.url), cr.COMMAND_LETTER)
        try:
            for _ in range(rounds):
                t0 = time.perf_counter()
                transport.call(*cr.STATUS)
                transport_samples.append(time.perf_counter() - t0)
        finally:
            transport.close()

        driver_samples: list[float] = []
        driver = CardReaderDriver(server.url, idle_poll_interval=60)
        driver.start()
        try:
            deadline = time.monotonic() + 10
            while driver.status().state != "online" and time.monotonic() < deadline:
                time.sleep(0.01)
            for _ in range(rounds):
                t0 = time.perf_counter()
                result = driver.reset().result(5)
                driver_samples.append(time.perf_counter() - t0)
                if not result.ok:
                    raise RuntimeError(f"driver reset failed: {result.detail}")
        finally:
            driver.close()
    finally:
        server.close()

    raw_stats, transport_stats, driver_stats = _ms(raw), _ms(transport_samples), _ms(driver_samples)
    per_exchange = driver_stats["median_ms"] / 2
    return {
        "rounds": rounds,
        "raw_socket_C10": raw_stats,
        "transport_C10": transport_stats,
        "driver_reset_two_exchanges": driver_stats,
        "driver_per_exchange_median_ms": round(per_exchange, 3),
        "transport_vs_raw_ratio": round(transport_stats["median_ms"] / raw_stats["median_ms"], 2),
        "driver_per_exchange_vs_raw_ratio": round(per_exchange / raw_stats["median_ms"], 2),
    }


if __name__ == "__main__":
    import json

    print(json.dumps(run(quick=True), indent=2))
