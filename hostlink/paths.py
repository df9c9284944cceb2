"""The data dir: created owner-only, since it holds the database, the journal, keys and receipts."""

from __future__ import annotations

import os
from pathlib import Path


def prepare_data_dir(data_dir: Path) -> None:
    data_dir.mkdir(parents=True, exist_ok=True)
    os.chmod(data_dir, 0o700)


def private_dir(path: Path) -> Path:
    """``path`` as a directory only its owner can enter (0700), created if missing."""
    path.mkdir(parents=True, exist_ok=True)
    os.chmod(path, 0o700)
    return path


def write_private(path: Path, data: bytes) -> None:
    """Write ``data`` to ``path`` as a file only its owner can read (0600), whatever the umask, and make
    an existing file 0600 too. Written to a temporary name first, so a reader never sees half a file."""
    tmp = path.with_name(f".{path.name}.tmp")
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    try:
        os.fchmod(fd, 0o600)
        with os.fdopen(fd, "wb") as handle:
            handle.write(data)
    except BaseException:
        tmp.unlink(missing_ok=True)
        raise
    os.replace(tmp, path)
