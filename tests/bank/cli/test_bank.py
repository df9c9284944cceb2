from __future__ import annotations

import json
import sqlite3
from pathlib import Path

import pytest

from bank.cli import main


@pytest.fixture
def data_dir(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    monkeypatch.setenv("SMART_TELLER_HOST_DATA_DIR", str(tmp_path))
    monkeypatch.setenv("SMART_TELLER_HOST_CONFIG", str(tmp_path / "none.toml"))
    (tmp_path / "none.toml").write_text("")
    monkeypatch.delenv("SMART_TELLER_HOST_DATABASE_URL", raising=False)
    return tmp_path


def test_seed_then_check_then_tamper(data_dir: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["bank", "seed"]) == 0
    assert "seed created: 5 customers, 10 accounts, 5 cards" in capsys.readouterr().out
    assert main(["bank", "seed"]) == 0
    assert "already present" in capsys.readouterr().out
    assert main(["bank", "check"]) == 0
    assert capsys.readouterr().out.startswith("ok: trial balance zero")
    assert main(["bank", "check", "--json"]) == 0
    report = json.loads(capsys.readouterr().out)
    assert report["ok"] and report["counts"]["postings"] == 20

    with sqlite3.connect(data_dir / "bank.db") as db:
        db.execute(
            "UPDATE bank_accounts SET balance_minor = balance_minor + 1 WHERE number = '0001100000010014'"
        )
    assert main(["bank", "check"]) == 1
    err = capsys.readouterr().err
    assert err.startswith("smart-teller: bank check failed: balance_matches_postings: account")
    assert len(err.strip().splitlines()) == 1


def test_check_on_a_missing_database_says_so_and_creates_nothing(
    data_dir: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert main(["bank", "check"]) == 2
    err = capsys.readouterr().err
    assert (
        err.strip()
        == f"smart-teller: bank check: no database file at {data_dir / 'bank.db'}; nothing was created"
    )
    assert not (data_dir / "bank.db").exists()

    sqlite3.connect(data_dir / "bank.db").close()  # a file that is there but was never migrated
    assert main(["bank", "check"]) == 2
    assert "holds no bank (it was never migrated)" in capsys.readouterr().err
    with sqlite3.connect(data_dir / "bank.db") as db:
        assert db.execute("SELECT name FROM sqlite_master").fetchall() == []


def test_check_on_a_data_dir_that_does_not_exist_creates_neither_folder_nor_file(
    data_dir: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    absent = data_dir / "not-yet" / "host"
    monkeypatch.setenv("SMART_TELLER_HOST_DATA_DIR", str(absent))
    assert main(["bank", "check", "--json"]) == 2
    out, err = capsys.readouterr()
    assert out == ""  # a script reading the JSON report gets no half of one
    assert (
        err.strip()
        == f"smart-teller: bank check: no database file at {absent / 'bank.db'}; nothing was created"
    )
    assert not (data_dir / "not-yet").exists()


def test_clear_runs_a_cycle(data_dir: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["bank", "clear"]) == 0
    assert json.loads(capsys.readouterr().out) == {"settled": [], "rejected": [], "waiting": 0}


def test_seed_without_the_faces_folder_says_face_login_cannot_be_tried(
    data_dir: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    missing = data_dir / "no-faces"
    assert main(["bank", "seed", "--faces", str(missing)]) == 0
    captured = capsys.readouterr()
    assert "seed created: 5 customers, 10 accounts, 5 cards" in captured.out
    assert "face enrolled" not in captured.out
    assert captured.err.strip() == (
        f"seed: no test faces folder at {missing}: 李娜's face is not enrolled, face login cannot be tried"
    )
    assert not missing.exists()


def test_seed_enrols_the_face_login_customer_from_the_shared_faces(
    data_dir: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    from bank.seed import default_faces_dir

    if not default_faces_dir().is_dir():
        pytest.skip("the shared test faces are not here")
    assert main(["bank", "seed"]) == 0
    captured = capsys.readouterr()
    assert "face enrolled for face login: 李娜" in captured.out and captured.err == ""
    assert main(["bank", "seed"]) == 0
    assert "face enrolled" not in capsys.readouterr().out  # enrolled once
