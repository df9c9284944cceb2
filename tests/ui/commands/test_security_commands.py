"""``smart-teller journal`` through the real entry point, on a temporary data dir."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from kiosk.journal import Journal
from ui.cli import main


@pytest.fixture
def data_dir(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    monkeypatch.setenv("SMART_TELLER_DATA_DIR", str(tmp_path / "data"))
    monkeypatch.setenv("SMART_TELLER_CONFIG", "/dev/null")
    return tmp_path / "data"


def test_journal_verify_ok_then_names_the_tampered_record(
    data_dir: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    with Journal(data_dir / "journal", "KIOSK-0001") as journal:
        for index in range(5):
            journal.record("transfer_posted", amount_minor=1000 + index)
    assert main(["journal", "verify"]) == 0
    assert capsys.readouterr().out.strip() == "journal ok: 5 records"
    path = data_dir / "journal" / "journal.jsonl"
    rows = path.read_text().splitlines()
    rows[3] = rows[3].replace('"amount_minor":1003', '"amount_minor":9003')
    path.write_text("\n".join(rows) + "\n")
    assert main(["journal", "verify"]) == 1
    assert (
        capsys.readouterr().err.strip()
        == "smart-teller: journal broken at record 4: content does not match its hash"
    )


def test_journal_export_range_to_file(
    data_dir: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    with Journal(data_dir / "journal", "KIOSK-0001") as journal:
        for index in range(5):
            journal.record("e", n=index)
    out = tmp_path / "dispute.jsonl"
    assert main(["journal", "export", "--from", "2", "--to", "3", "--out", str(out)]) == 0
    assert [json.loads(line)["seq"] for line in out.read_text().splitlines()] == [2, 3]
    assert main(["journal", "export", "--from", "last tuesday"]) == 2
