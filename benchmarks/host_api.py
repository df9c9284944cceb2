"""The host's front door: a transfer through the JSON API against the same transfer in-process, and the
API's request rate against a bare uvicorn endpoint, each pair measured in the same run.

- ``transfer_overhead``: milliseconds per own-account transfer through the terminal's real client (signed
  request, HTTP on loopback, authentication, nonce, idempotent reply, ledger) ÷ the same transfer posted
  by the ledger in this process on the same database file (``ratio``).
- ``requests_per_s``: sequential signed balance enquiries through the client ÷ sequential GETs of a bare
  uvicorn endpoint that returns a constant JSON body (same HTTP stack, no application): how much of the
  server's bare request rate the host keeps.

Blocks alternate (API, reference, API, …) so both see the same drift of a shared machine. The host is a real
``python -m bank serve`` process on SQLite in a temporary data dir; the account's daily kiosk-transfer
count is lifted for the run, since the bench posts hundreds of transfers on one account.
"""

from __future__ import annotations

import statistics
import subprocess
import sys
import tempfile
import textwrap
import time
from pathlib import Path
from typing import Any

import httpx

WANG_PAN = "43219876543210987"
BARE_SERVER = textwrap.dedent(
    """
    import socket, sys, uvicorn

    async def app(scope, receive, send):
        if scope["type"] != "http":
            return
        await send({"type": "http.response.start", "status": 200,
                    "headers": [(b"content-type", b"application/json")]})
        await send({"type": "http.response.body", "body": b'{"status":"ok"}'})

    sock = socket.socket()
    sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)  # as the host's listening socket
    sock.bind(("127.0.0.1", 0))
    print(sock.getsockname()[1], flush=True)
    config = uvicorn.Config(app, log_level="warning", access_log=False, lifespan="off")
    uvicorn.Server(config).run(sockets=[sock])
    """
)


def _median_ms(samples: list[float]) -> float:
    return round(statistics.median(samples) * 1000, 3)


def run(quick: bool = False) -> dict[str, Any]:
    from app.hostproc import HostProcess
    from benchmarks._hostdata import seeded_host
    from hostlink import api
    from kiosk.hostclient import Credential, HostClient

    rounds, per_round = (3, 30) if quick else (8, 100)
    with tempfile.TemporaryDirectory(prefix="st-bench-host-") as tmp:
        root = Path(tmp)
        env, inproc = seeded_host(root, "BENCH-1")
        host = HostProcess(env, seed=False).start()
        bare = subprocess.Popen([sys.executable, "-c", BARE_SERVER], stdout=subprocess.PIPE, text=True)
        try:
            assert bare.stdout is not None
            bare_url = f"http://127.0.0.1:{int(bare.stdout.readline())}"
            client = HostClient([host.url], Credential.load(root / "credential"), attempts=1)
            card = client.card_lookup(WANG_PAN)
            accounts = client.accounts(card.customer_id).accounts
            other = next(a.account_id for a in accounts if a.account_id != card.account_id)
            bank = inproc.bank_for("BENCH-1")
            from hostlink.money import Money

            serial = 0

            def api_transfers(count: int) -> float:
                nonlocal serial
                started = time.perf_counter()
                for _ in range(count):
                    serial += 1
                    source, target = (card.account_id, other) if serial % 2 else (other, card.account_id)
                    answer = client.transfer(
                        api.TransferOrder(
                            idempotency_key=f"BENCH:api:{serial}",
                            kind="own",
                            from_account_id=source,
                            to_account_id=target,
                            amount_minor=1,
                        )
                    )
                    assert answer.reference, answer
                return (time.perf_counter() - started) / count

            def ledger_transfers(count: int) -> float:
                nonlocal serial
                started = time.perf_counter()
                for _ in range(count):
                    serial += 1
                    source, target = (card.account_id, other) if serial % 2 else (other, card.account_id)
                    outcome = bank.transfer_own(f"BENCH:led:{serial}", source, target, Money(1, "CNY"))
                    assert not hasattr(outcome, "reason"), outcome
                return (time.perf_counter() - started) / count

            def api_enquiries(count: int) -> float:
                started = time.perf_counter()
                for _ in range(count):
                    client.balance(card.account_id)
                return count / (time.perf_counter() - started)

            with httpx.Client(base_url=bare_url) as plain:

                def bare_requests(count: int) -> float:
                    started = time.perf_counter()
                    for _ in range(count):
                        plain.get("/v1/health").raise_for_status()
                    return count / (time.perf_counter() - started)

                api_transfers(5)
                ledger_transfers(5)
                api_enquiries(5)
                bare_requests(5)
                via_api, in_process, api_rates, bare_rates = [], [], [], []
                for _ in range(rounds):
                    via_api.append(api_transfers(per_round))
                    in_process.append(ledger_transfers(per_round))
                    api_rates.append(api_enquiries(per_round))
                    bare_rates.append(bare_requests(per_round))
            client.close()
        finally:
            host.stop()
            bare.terminate()
            bare.wait(10)
            if bare.stdout is not None:
                bare.stdout.close()
            inproc.close()
    api_ms, ledger_ms = _median_ms(via_api), _median_ms(in_process)
    api_rps, bare_rps = statistics.median(api_rates), statistics.median(bare_rates)
    return {
        "host_api": {
            "transfer_overhead": {
                "api_ms": api_ms,
                "in_process_ms": ledger_ms,
                "ratio": round(api_ms / ledger_ms, 2),
                "round_ratios": [round(a / b, 2) for a, b in zip(via_api, in_process, strict=True)],
            },
            "requests_per_s": {
                "balance_enquiry": round(api_rps, 1),
                "bare_uvicorn": round(bare_rps, 1),
                "ratio": round(api_rps / bare_rps, 3),
            },
            "rounds": rounds,
            "per_round": per_round,
            "database": "sqlite (WAL, synchronous=FULL)",
        }
    }


if __name__ == "__main__":
    import json

    print(json.dumps(run(quick="--quick" in sys.argv), indent=2))
