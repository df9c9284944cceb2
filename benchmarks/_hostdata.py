"""The bank host the benchmarks run against: a data dir in ``root`` migrated and seeded, one terminal
enrolled, and the accounts' daily kiosk-transfer count lifted (a bench posts hundreds of transfers)."""

from __future__ import annotations

from pathlib import Path
from typing import Any


def seeded_host(root: Path, terminal_id: str) -> tuple[dict[str, str], Any]:
    """The host's environment (for ``HostProcess``) and an in-process ``Host`` on the same data dir; the
    caller closes the latter. The terminal's credential is ``root/credential``."""
    from sqlalchemy import text

    from app.hostproc import enrol, host_environment, run_host_command
    from bank.host import Host
    from bank.settings import load_host_settings

    env = host_environment(root / "host")
    enrol(terminal_id, root / "credential", env)
    run_host_command(["bank", "seed"], env)
    inproc = Host.start(load_host_settings(data_dir=root / "host"))
    with inproc.engine.begin() as conn:
        conn.execute(text("UPDATE bank_accounts SET daily_transfer_count_limit = 1000000"))
    return env, inproc
