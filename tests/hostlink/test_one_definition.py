"""Helpers that must exist once in the product: a second copy drifts (two PAN masks once disagreed on
what a 10-digit number shows), so each is defined in the lowest layer its users may import."""

from __future__ import annotations

import ast
import functools
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
PRODUCT_PACKAGES = ("bank", "hostlink", "kiosk", "app", "ui", "devices", "simulators")

# name -> the one module (relative path) that defines it
ONE_PLACE = {
    "mask_pan": "hostlink/redaction.py",
    "mask_account": "hostlink/redaction.py",
    "message": "kiosk/journeys/core.py",
    "UtcDateTime": "bank/db/base.py",
    "new_idempotency_key": "hostlink/api.py",
    "key_token": "hostlink/redaction.py",
}


@functools.cache
def definitions() -> dict[str, list[str]]:
    """Every function and class of the product by name (a leading underscore dropped), as ``path:line``."""
    found: dict[str, list[str]] = {}
    for package in PRODUCT_PACKAGES:
        for path in sorted((ROOT / package).rglob("*.py")):
            if "migrations" in path.parts:
                continue
            tree = ast.parse(path.read_text(encoding="utf-8"), filename=str(path))
            for node in ast.walk(tree):
                if isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef | ast.ClassDef):
                    where = f"{path.relative_to(ROOT).as_posix()}:{node.lineno}"
                    found.setdefault(node.name.lstrip("_"), []).append(where)
    return found


@pytest.mark.parametrize("name", sorted(ONE_PLACE))
def test_the_helper_is_defined_once_in_its_module(name: str) -> None:
    found = definitions().get(name, [])
    assert len(found) == 1, f"{name} is defined in {found}"
    assert found[0].split(":")[0] == ONE_PLACE[name]
