"""Finds every ``bank.<area>.models`` module, so one metadata holds every table without a hand-kept list.

It looks at files rather than importing every package, so unrelated areas stay unloaded.
"""

from __future__ import annotations

import importlib
from pathlib import Path

import bank


def import_all_models() -> list[str]:
    """Import each ``models.py`` module under ``bank``; returns their names."""
    root = Path(bank.__file__).parent
    names = sorted(
        "bank." + ".".join(path.relative_to(root).with_suffix("").parts)
        for path in root.rglob("models.py")
        if "migrations" not in path.parts
    )
    for name in names:
        importlib.import_module(name)
    return names
