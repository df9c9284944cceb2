"""The fleet benchmark (benchmarks/fleet.py) at one and two terminals for two seconds, on a real PostgreSQL:
every run has its figures and its pgbench reference, every transaction the terminals sent was approved,
and the ledger balances afterwards. No timing is asserted here (docs/bench.md: timings live in the bench)."""

from __future__ import annotations

import pytest

from benchmarks.fleet import MIXES, MONEY_KINDS, measure

pytestmark = pytest.mark.postgres


def test_the_fleet_bench_reports_its_figures_and_leaves_the_ledger_balanced(postgres_url: str) -> None:
    result = measure(postgres_url, sizes=(1, 2), seconds=2.0, host_counts=(1,), clients=1)

    assert result["ledger_check"]["ok"], result["ledger_check"]["violations"]
    assert result["ledger_check"]["counts"]["transfers"] > 0
    assert set(result["pgbench"]) == {"1", "2"}
    runs = result["runs"]
    assert {(r["terminals"], r["hosts"], r["mix"]) for r in runs} == {
        (n, 1, mix) for n in (1, 2) for mix in ("realistic", "distinct")
    }
    for run in runs:
        assert run["not_approved"] == {}, run["not_approved"]
        assert run["pgbench_tps"] > 0
        assert run["money_tps"] > 0
        assert run["ratio"] == round(run["money_tps"] / run["pgbench_tps"], 3)
        money = sum(run["approved"].get(kind, 0) for kind in MONEY_KINDS)
        assert run["money_tps"] == round(money / result["seconds"], 1)
        kinds = {kind for kind, _ in MIXES[run["mix"]]}
        assert set(run["latency_ms"]) == kinds | {"money"}
        for kind in ("enquiry", "money"):
            figures = run["latency_ms"][kind]
            assert figures["p50"] is not None and 0 < figures["p50"] <= figures["p99"]
        assert run["wal_bytes_per_money_tx"] > 0
        assert run["db_waits"]["samples"] > 0
    realistic = [r for r in runs if r["mix"] == "realistic"]
    # The hot accounts were written: other-bank transfers (clearing) and top-ups (the biller's account).
    assert sum(r["approved"].get("other_bank", 0) for r in realistic) > 0
    assert sum(r["approved"].get("bill", 0) for r in realistic) > 0
    assert all("hot_vs_distinct" in r for r in realistic)
