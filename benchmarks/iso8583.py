"""Card transactions over ISO 8583: a balance enquiry and an own-account transfer round trip through the
terminal's card link, against a bare length-prefixed echo over the same kind of socket, in the same run.

- ``balance_ms`` / ``transfer_ms``: median milliseconds per request through ``kiosk.cardlink.CardLink``
  to a real ``python -m bank serve`` (SQLite, WAL) — MAC on the request and the answer, host decode, MAC
  check, duplicate record, ledger — with the MACs computed by the simulated PIN pad over its serial
  protocol (``via_pin_pad``) and, to separate the pad's share, by a software security module holding the
  same keys (``software_mac``);
- ``bare_echo_ms``: the same request bytes sent to a length-prefixed echo server on loopback and read back
  (socket and framing only): the floor any ISO 8583 round trip on this machine stands on.

Blocks alternate (link, echo, link, …) so all see the same drift of a shared machine.
"""

from __future__ import annotations

import socket
import statistics
import tempfile
import threading
import time
from pathlib import Path
from typing import Any

WANG_PAN = "43219876543210987"


class SoftwareSecurity:
    """The PIN pad's key and MAC commands in software, with the simulator's test TMK (bench only)."""

    def __init__(self, tmk: bytes) -> None:
        self._tmk = tmk
        self._keys: dict[str, bytes] = {}

    def load_working_key(self, kind: str, key_block: str) -> str:
        from hostlink.keyblock import unwrap
        from hostlink.tdes import kcv

        key = unwrap(self._tmk, key_block).key
        self._keys[kind] = key
        return kcv(key)

    def mac(self, data: bytes) -> bytes:
        from hostlink.tdes import retail_mac

        return retail_mac(self._keys["mac"], data)


class EchoServer:
    """Reads one length-prefixed frame and writes it back, for ever (one connection)."""

    def __init__(self) -> None:
        self.listener = socket.create_server(("127.0.0.1", 0))
        self.port = self.listener.getsockname()[1]
        self.thread = threading.Thread(target=self._serve, daemon=True)
        self.thread.start()

    def _serve(self) -> None:
        from hostlink.iso8583.framing import recv_message, send_message

        try:
            conn, _ = self.listener.accept()
        except OSError:
            return
        conn.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        with conn:
            while True:
                try:
                    send_message(conn, recv_message(conn, 30))
                except (OSError, TimeoutError, ConnectionError):
                    return

    def close(self) -> None:
        self.listener.close()
        self.thread.join(timeout=5)


def _median_ms(samples: list[float]) -> float:
    return round(statistics.median(samples) * 1000, 3)


def run(quick: bool = False) -> dict[str, Any]:
    from app.cardlink import PinPadSecurity
    from app.hostproc import HostProcess, enrol
    from benchmarks._hostdata import seeded_host
    from devices.pin_pad.driver import PinPadDriver
    from hostlink.iso8583 import codec
    from hostlink.iso8583.framing import recv_message, send_message
    from kiosk.cardlink import CardLink
    from simulators.pin_pad import TEST_TMK, make_server

    rounds, per_round = (3, 10) if quick else (6, 40)
    with tempfile.TemporaryDirectory(prefix="st-bench-iso-") as tmp:
        root = Path(tmp)
        env, inproc = seeded_host(root, "BENCH-1")
        # A second terminal for the software-MAC link: each terminal has its own STANs (two links
        # with one terminal ID would reuse STANs within a second, which the host refuses).
        enrol("BENCH-2", root / "credential-2", env)
        card = inproc.bank_for("BENCH-1").card_by_pan(WANG_PAN)
        assert card is not None and card.customer_id is not None
        accounts = [a.account_id for a in inproc.bank_for("BENCH-1").accounts_of_customer(card.customer_id)]
        other = next(a for a in accounts if a != card.account_id)
        inproc.close()
        host = HostProcess(env, seed=False).start()
        pad_server = make_server(seed=0).start()
        pad = PinPadDriver(pad_server.url, reply_timeout=2.0)
        pad.start()
        echo = EchoServer()
        try:
            deadline = time.monotonic() + 20
            while pad.status().state.value != "online" and time.monotonic() < deadline:
                time.sleep(0.05)
            links = {
                "via_pin_pad": CardLink([host.iso8583], "BENCH-1", PinPadSecurity(pad), root / "l1"),
                "software_mac": CardLink([host.iso8583], "BENCH-2", SoftwareSecurity(TEST_TMK), root / "l2"),
            }
            echo_sock = socket.create_connection(("127.0.0.1", echo.port))
            echo_sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
            serial = 0
            sample_request = b""

            def balances(link: CardLink, count: int) -> float:
                nonlocal sample_request
                started = time.perf_counter()
                for _ in range(count):
                    answer = link.balance(WANG_PAN, "", card.account_id)
                    assert answer.approved, answer.code
                sample_request = codec.encode({k: v for k, v in answer.request.items()})
                return (time.perf_counter() - started) / count

            def transfers(link: CardLink, count: int) -> float:
                nonlocal serial
                started = time.perf_counter()
                for _ in range(count):
                    serial += 1
                    source, target = (card.account_id, other) if serial % 2 else (other, card.account_id)
                    answer = link.transfer(
                        WANG_PAN, "", kind="own", from_account_id=source, to_account_id=target, amount_minor=1
                    )
                    assert answer.approved, answer.extra
                return (time.perf_counter() - started) / count

            def echoes(count: int) -> float:
                started = time.perf_counter()
                for _ in range(count):
                    send_message(echo_sock, sample_request)
                    recv_message(echo_sock, 10)
                return (time.perf_counter() - started) / count

            for link in links.values():
                link.sign_on()
                balances(link, 3)
                transfers(link, 3)
            echoes(5)
            samples: dict[str, list[float]] = {
                f"{name}_{what}": [] for name in links for what in ("balance", "transfer")
            }
            samples["bare_echo"] = []
            for _ in range(rounds):
                for name, link in links.items():
                    samples[f"{name}_balance"].append(balances(link, per_round))
                    samples["bare_echo"].append(echoes(per_round))
                    samples[f"{name}_transfer"].append(transfers(link, per_round))
            echo_sock.close()
            for link in links.values():
                link.close()
        finally:
            echo.close()
            pad.close()
            pad_server.close()
            host.stop()
    medians = {name: _median_ms(values) for name, values in samples.items()}
    bare = medians["bare_echo"]
    return {
        "iso8583": {
            "bare_echo_ms": bare,
            "request_bytes": len(sample_request),
            **{
                name: {
                    "balance_ms": medians[f"{name}_balance"],
                    "transfer_ms": medians[f"{name}_transfer"],
                    "balance_vs_echo": round(medians[f"{name}_balance"] / bare, 1),
                    "transfer_vs_echo": round(medians[f"{name}_transfer"] / bare, 1),
                }
                for name in links
            },
            "rounds": rounds,
            "per_round": per_round,
            "database": "sqlite (WAL, synchronous=FULL)",
        }
    }


if __name__ == "__main__":
    import json
    import sys

    print(json.dumps(run(quick="--quick" in sys.argv), indent=2))
