"""The run's own leftover check (tests/conftest.py) finds a process the tests started even when it
detached itself, and not one started outside the run."""

from __future__ import annotations

import os
import subprocess
import sys

from tests.conftest import RUN_MARK, _leftovers


def test_a_detached_process_of_the_run_is_found_and_a_stranger_is_not() -> None:
    mark = os.environ[RUN_MARK]
    code = "import time; time.sleep(60)"
    ours = subprocess.Popen([sys.executable, "-c", code], start_new_session=True)
    stranger_env = {k: v for k, v in os.environ.items() if k != RUN_MARK}
    stranger = subprocess.Popen([sys.executable, "-c", code], env=stranger_env, start_new_session=True)
    try:
        found = {process.pid for process in _leftovers(mark)}
        assert ours.pid in found
        assert stranger.pid not in found
    finally:
        for process in (ours, stranger):
            process.kill()
            process.wait(10)
    assert ours.pid not in {process.pid for process in _leftovers(mark)}
