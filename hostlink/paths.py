"""The data dir: created owner-only, since it holds the database, the journal, keys and receipts."""

from __future__ import annotations

import os
from pathlib import Path


def prepare_data_dir(data_dir: Path) -> None:
    data_dir.mkdir(parents=True, exist_ok=True)
    os.chmod(data_dir, 0o700)
