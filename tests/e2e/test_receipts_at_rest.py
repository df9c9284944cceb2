"""Receipts at rest: after journeys that print, someone who reads the files the terminal and the printer
simulator left on disk finds no full card or account number and no customer's full name, and could only
read them as the kiosk's own user (files 0600, folders 0700)."""

from __future__ import annotations

import stat
from pathlib import Path
from typing import Any


def _stored_copies(*roots: Path) -> list[Path]:
    files = [path for root in roots for path in root.rglob("*") if path.is_file()]
    return [path for path in files if path.suffix in (".txt", ".png") and "receipt" in str(path)]


def _assert_private(roots: tuple[Path, ...], copies: list[Path]) -> None:
    for path in copies:
        assert stat.S_IMODE(path.stat().st_mode) == 0o600, f"{path} is {oct(path.stat().st_mode)}"
        folder = path.parent
        assert stat.S_IMODE(folder.stat().st_mode) == 0o700, f"{folder} is {oct(folder.stat().st_mode)}"


def test_stored_receipts_hold_only_masked_numbers_and_names_and_are_owner_only(
    kiosk: Any, tmp_path: Path
) -> None:
    # A transfer to Li Na (her account number and name typed in full) and a balance, both printed.
    kiosk.login()
    kiosk.transfer_to_li_na("100")
    kiosk.act("confirm")
    kiosk.wait_screen("transfer_result")
    kiosk.act("print")
    kiosk.wait_screen("anything_else")
    kiosk.act("yes")
    kiosk.wait_screen("services_menu")
    kiosk.act("balance")
    balance = kiosk.wait_screen("balance")
    kiosk.wait_for(lambda: balance.buttons["print"].isEnabled())
    kiosk.act("print")
    kiosk.wait_screen("anything_else")
    kiosk.wait_for(lambda: len(kiosk.ctl("printer", "receipts")) == 2)
    kiosk.act("no")
    kiosk.finish_and_take_card()

    roots = (tmp_path / "printed", tmp_path / "data")
    copies = _stored_copies(*roots)
    printed = [path for path in copies if path.is_relative_to(roots[0])]
    kept = [path for path in copies if path.is_relative_to(roots[1])]
    assert len(printed) == 2 and len(kept) == 2, copies  # the simulator's and the terminal's copies
    secrets = (
        kiosk.WANG_FANG["pan"],
        kiosk.LI_NA_ACCOUNT,
        "李娜",
        "WANG/FANG",
        "Wang Fang",
        "王芳",
    )
    for path in copies:
        raw = path.read_bytes()
        for secret in secrets:
            for encoding in ("utf-8", "gb18030"):
                assert secret.encode(encoding) not in raw, f"{secret!r} in {path}"
    _assert_private(roots, copies)
