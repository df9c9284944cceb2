"""Crash evidence: a process killed between intent and outcome leaves suspects the next start resolves."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import textwrap
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from kiosk.journal import Journal
from kiosk.journal.recovery import Resolution, default_resolvers, recover

REPO = Path(__file__).resolve().parents[3]

CHILD = textwrap.dedent(
    """
    import sys, time
    from pathlib import Path
    from kiosk.journal import Journal

    journal = Journal(Path(sys.argv[1]), "KIOSK-1")
    done = journal.intent("print", session_id="s1", receipt="balance")
    journal.outcome(done, "printed")
    journal.intent("transfer", session_id="s2", transfer_id="T-0042", amount_minor=50_000)
    journal.intent("card_eject", session_id="s2")
    journal.intent("print", session_id="s2", receipt="transfer")
    print("intents written", flush=True)
    time.sleep(60)  # killed here, between intent and outcome
    """
)


class ReaderWithCardLeft:
    """A card reader port in the state a crash leaves it: card still inside."""

    def __init__(self) -> None:
        self.inside = True
        self.captures = 0

    def card_present(self) -> bool:
        return self.inside

    def capture_card(self) -> bool:
        self.inside = False
        self.captures += 1
        return True


def test_sigkill_between_intent_and_outcome_is_resolved_on_next_start(tmp_path: Path) -> None:
    child = subprocess.Popen(
        [sys.executable, "-c", CHILD, str(tmp_path)],
        cwd=REPO,
        stdout=subprocess.PIPE,
        text=True,
        env={**os.environ, "PYTHONPATH": str(REPO)},
    )
    try:
        assert child.stdout is not None
        assert child.stdout.readline().strip() == "intents written"
        child.send_signal(signal.SIGKILL)
    finally:
        child.wait(30)
        if child.stdout:
            child.stdout.close()
    assert child.returncode == -signal.SIGKILL

    settled: list[str] = []

    def settle(reference: str) -> str:
        settled.append(reference)
        return "voided"

    reader = ReaderWithCardLeft()
    journal = Journal(tmp_path, "KIOSK-1")
    suspects = journal.suspects()
    assert [s.event for s in suspects] == ["transfer", "card_eject", "print"]
    report = recover(journal, default_resolvers(settle_transfer=settle, card_reader=reader))

    assert settled == ["T-0042"]
    assert reader.captures == 1 and report.cards_captured == 1
    assert [r.result for _, r in report.resolved] == ["voided", "card_captured", "receipt_unknown"]
    assert journal.suspects() == []
    assert journal.verify().ok
    rows = [json.loads(line) for line in journal.path.read_text().splitlines()]
    resolved = [r for r in rows if r["event"] == "suspect_resolved"]
    assert [(r["ref"], r["fields"]["result"]) for r in resolved] == [
        (s.intent_seq, result)
        for s, result in zip(suspects, ["voided", "card_captured", "receipt_unknown"], strict=True)
    ]
    assert rows[-1]["event"] == "recovery_finished" and rows[-1]["fields"]["cards_captured"] == 1
    journal.close()
    # The next start finds nothing left to resolve.
    again = Journal(tmp_path, "KIOSK-1")
    assert recover(again, {}).suspects == []
    again.close()


def test_failing_resolver_leaves_the_intent_open_and_journals_the_failure(tmp_path: Path) -> None:
    journal = Journal(tmp_path, "K1")
    transfer = journal.intent("transfer", transfer_id="T-1")
    card = journal.intent("dispense_card", card_ref="C-9")

    def settle(reference: str) -> str:
        raise ConnectionError("bank host unreachable")

    marked: list[Mapping[str, Any]] = []

    def mark(fields: Mapping[str, Any]) -> str:
        marked.append(fields)
        return "marked_for_capture"

    report = recover(journal, default_resolvers(settle_transfer=settle, mark_card_for_capture=mark))
    assert [s.intent_seq for s, _ in report.failed] == [transfer]
    assert [(s.intent_seq, r.result) for s, r in report.resolved] == [(card, "marked_for_capture")]
    assert marked == [{"card_ref": "C-9"}]
    assert [s.intent_seq for s in journal.suspects()] == [transfer]
    events = [json.loads(line)["event"] for line in journal.path.read_text().splitlines()]
    assert "suspect_resolution_failed" in events
    journal.close()


def test_unknown_event_goes_to_manual_review(tmp_path: Path) -> None:
    journal = Journal(tmp_path, "K1")
    journal.intent("vault_door_open")

    class Never:
        def resolve(self, suspect: Any) -> Resolution:
            raise AssertionError("not registered for this event")

    report = recover(journal, {"print": Never()})
    assert [r.result for _, r in report.resolved] == ["manual_review"]
    assert journal.suspects() == []
    journal.close()
