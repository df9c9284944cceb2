"""hostlink.chaos: a crash point kills its own process with SIGKILL at the configured hit, and only then."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

from hostlink import chaos

REPO = Path(__file__).resolve().parents[2]

CHILD = textwrap.dedent(
    """
    import sys
    from hostlink.chaos import crash_point
    for i in range(1, 6):
        crash_point("a")
        crash_point("b")
        print(i, flush=True)
    print("survived", flush=True)
    """
)


def run_child(env_extra: dict[str, str]) -> subprocess.CompletedProcess[str]:
    env = {k: v for k, v in os.environ.items() if k not in (chaos.ENV_CRASH_AT, chaos.ENV_CRASH_LOG)}
    env.update(PYTHONPATH=str(REPO), **env_extra)
    return subprocess.run(
        [sys.executable, "-c", CHILD], env=env, capture_output=True, text=True, timeout=30, check=False
    )


def test_the_nth_hit_of_the_named_point_kills_the_process_with_sigkill() -> None:
    done = run_child({chaos.ENV_CRASH_AT: "b:3"})
    assert done.returncode == -signal.SIGKILL
    # Hits 1 and 2 of "b" passed (two lines printed); the third "b" killed before the third print.
    assert done.stdout.split() == ["1", "2"]


def test_unarmed_points_do_nothing() -> None:
    done = run_child({})
    assert done.returncode == 0
    assert done.stdout.split()[-1] == "survived"


def test_a_point_not_reached_that_often_lets_the_process_live_and_the_log_counts_hits(
    tmp_path: Path,
) -> None:
    log = tmp_path / "hits.log"
    done = run_child({chaos.ENV_CRASH_AT: "a:99", chaos.ENV_CRASH_LOG: str(log)})
    assert done.returncode == 0
    lines = log.read_text().split()
    assert lines.count("a") == 5 and lines.count("b") == 5


@pytest.mark.parametrize("spec", ["a", "a:0", ":3", "a:x"])
def test_a_malformed_spec_is_refused_with_the_variable_named(spec: str) -> None:
    with pytest.raises(ValueError, match=chaos.ENV_CRASH_AT):
        chaos.configure(spec)
    chaos.configure(None)


def test_configure_in_process_counts_hits_without_killing_when_not_the_target() -> None:
    chaos.configure("x:5")
    try:
        for _ in range(3):
            chaos.crash_point("x")
        chaos.crash_point("y")
        assert chaos.hits() == {"x": 3, "y": 1}
    finally:
        chaos.configure(None)
    chaos.crash_point("x")
    assert chaos.hits() == {}
