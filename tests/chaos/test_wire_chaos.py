"""Chaos between terminal and host: seeded wire faults during scripted visits, then checks from the outside.

``make test`` runs a small seeded slice; ``make soak`` the long run (``SMART_TELLER_CHAOS_VISITS`` sets
the number of visits, ``SMART_TELLER_CHAOS_SEED`` the seed; a failure names the seed and the visit, and
the same seed replays the same visits and the same faults at the same moments of each visit). Both print
one JSON line of figures (``wire chaos: {...}``) and write it to ``SMART_TELLER_CHAOS_SUMMARY`` when set.
"""

from __future__ import annotations

import json
import os
import threading
from pathlib import Path
from typing import Any

import pytest

from simulators.netfaults import FAULT_KINDS

pytestmark = pytest.mark.postgres

SLICE_VISITS = 14
SLICE_SEED = 10
SOAK_VISITS = 300


def run(wire_chaos: Any, seed: int, visits: int) -> dict[str, Any]:
    threads_before = {t.ident for t in threading.enumerate()}
    rig = wire_chaos(seed, visits)
    try:
        rig.run(visits)
        facts = rig.summary()
    finally:
        rig.close()
    line = json.dumps(facts, sort_keys=True)
    print(f"wire chaos: {line}")
    target = os.environ.get("SMART_TELLER_CHAOS_SUMMARY")
    if target:
        Path(target).write_text(line + "\n", encoding="utf-8")
    assert not rig.problems, "\n".join([*rig.problems[:20], f"visits: {rig.root / 'visits.jsonl'}"])
    # Nothing left behind: every proxy, link and host thread joined, every host process ended.
    left = [t.name for t in threading.enumerate() if t.ident not in threads_before and t.is_alive()]
    assert left == [], left
    assert not any(rig.hosts.alive()), "a bank host outlived the run"
    return facts


@pytest.mark.slow
@pytest.mark.timeout(900)
def test_seeded_wire_faults_leave_money_journal_and_cards_consistent(wire_chaos: Any) -> None:
    seed = int(os.environ.get("SMART_TELLER_CHAOS_SEED", str(SLICE_SEED)))
    facts = run(wire_chaos, seed, SLICE_VISITS)
    assert facts["visits"] == SLICE_VISITS
    if seed == SLICE_SEED:
        # The slice's seed reaches every kind of fault, and the terminal recovers in more than one way.
        assert set(facts["faults_injected"]) == set(FAULT_KINDS), facts["faults_injected"]
        assert facts["host_starts"] > 2, facts


@pytest.mark.soak
@pytest.mark.timeout(7200)
def test_soak_wire_faults(wire_chaos: Any) -> None:
    seed = int(os.environ.get("SMART_TELLER_CHAOS_SEED", "7"))
    visits = int(os.environ.get("SMART_TELLER_CHAOS_VISITS", str(SOAK_VISITS)))
    run(wire_chaos, seed, visits)
