"""``smart-teller host tech`` through the host's entry point, on a temporary host data dir."""

from __future__ import annotations

import io
import json
from pathlib import Path

import pytest

from bank.cli import main


@pytest.fixture
def data_dir(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    monkeypatch.setenv("SMART_TELLER_HOST_DATA_DIR", str(tmp_path / "data"))
    return tmp_path / "data"


def test_tech_add_list_unlock(
    data_dir: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setattr("sys.stdin", io.StringIO("long-enough-9\n"))
    assert main(["tech", "add", "alice", "--role", "supervisor", "--password-stdin"]) == 0
    monkeypatch.setattr("sys.stdin", io.StringIO("short\n"))
    assert main(["tech", "add", "bob", "--password-stdin"]) == 1
    assert "at least 10 characters" in capsys.readouterr().err
    assert main(["tech", "list", "--json"]) == 0
    listed = json.loads(capsys.readouterr().out)
    assert [(t["username"], t["role"]) for t in listed] == [("alice", "supervisor")]
    assert "password" not in json.dumps(listed)
    assert main(["tech", "unlock", "alice"]) == 0
    assert main(["tech", "unlock", "nobody"]) == 1
    from bank.audit import HostAudit
    from bank.db.engine import make_engine

    engine = make_engine(f"sqlite:///{data_dir / 'bank.db'}")
    events = [e["event"] for e in reversed(HostAudit(engine, "HOST-1").events())]
    engine.dispose()
    assert events == ["tech_added", "tech_unlocked"]
