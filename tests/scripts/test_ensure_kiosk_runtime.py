"""scripts/ensure-kiosk-runtime.sh with fake dpkg, id and apt-get on PATH: what it installs or prints."""

from __future__ import annotations

import shutil
import subprocess
from pathlib import Path

SCRIPT = Path(__file__).resolve().parents[2] / "scripts" / "ensure-kiosk-runtime.sh"
BASH = shutil.which("bash") or "/bin/bash"


def _tool(bin_dir: Path, name: str, body: str) -> None:
    path = bin_dir / name
    path.write_text("#!/bin/sh\n" + body)
    path.chmod(0o755)


def run_script(
    tmp_path: Path,
    *args: str,
    missing: tuple[str, ...],
    uid: int,
    removed: tuple[str, ...] = (),
    apt_fails: bool = False,
    platform: str | None = None,
) -> tuple[subprocess.CompletedProcess[str], list[str]]:
    """The script with a dpkg that reports ``missing`` as unknown and ``removed`` as removed (config files
    left), an ``id -u`` of ``uid`` and an apt-get that appends its arguments to a log; returns the run and
    the apt-get calls."""
    bin_dir = tmp_path / "bin"
    bin_dir.mkdir(exist_ok=True)
    apt_log = tmp_path / "apt-get.log"
    apt_log.unlink(missing_ok=True)
    _tool(
        bin_dir,
        "dpkg",
        f'for m in {" ".join(missing)}; do [ "$2" = "$m" ] && exit 1; done\n'
        'echo "Package: $2"\n'
        f"for r in {' '.join(removed)}; do\n"
        '  [ "$2" = "$r" ] && echo "Status: deinstall ok config-files" && exit 0\n'
        "done\n"
        'echo "Status: install ok installed"\n',
    )
    _tool(bin_dir, "id", f"echo {uid}\n")
    _tool(bin_dir, "apt-get", f'echo "$*" >> {apt_log}\nexit {1 if apt_fails else 0}\n')
    # The fakes plus the one real tool the script uses (grep): no real dpkg or apt-get can be reached.
    real_grep = shutil.which("grep")
    assert real_grep is not None
    if not (bin_dir / "grep").exists():
        (bin_dir / "grep").symlink_to(real_grep)
    env = {"PATH": str(bin_dir), "HOME": str(tmp_path)}
    if platform is not None:
        env["QT_QPA_PLATFORM"] = platform
    result = subprocess.run(
        [BASH, str(SCRIPT), *args], env=env, capture_output=True, text=True, timeout=30, check=False
    )
    calls = apt_log.read_text().splitlines() if apt_log.exists() else []
    return result, calls


def test_quiet_and_nothing_installed_when_every_package_is_present(tmp_path: Path) -> None:
    result, calls = run_script(tmp_path, missing=(), uid=0)
    assert (result.returncode, result.stdout, result.stderr, calls) == (0, "", "", [])


def test_not_root_prints_the_one_apt_command_for_what_is_missing(tmp_path: Path) -> None:
    result, calls = run_script(tmp_path, missing=("libxcb-cursor0", "libxcb-icccm4", "espeak-ng"), uid=1000)
    assert calls == []
    lines = result.stderr.strip().splitlines()
    assert lines == [
        "the kiosk needs these packages; run: sudo apt-get install -y libxcb-cursor0 libxcb-icccm4 espeak-ng"
    ]
    assert result.returncode == 1  # the xcb window could not open


def test_root_installs_exactly_the_missing_packages(tmp_path: Path) -> None:
    result, calls = run_script(tmp_path, missing=("libxcb-keysyms1", "espeak-ng"), uid=0)
    assert result.returncode == 0, result.stderr
    assert calls == ["install -y -q libxcb-keysyms1 espeak-ng"]


def test_root_updates_the_package_lists_when_the_first_install_fails(tmp_path: Path) -> None:
    result, calls = run_script(tmp_path, missing=("libxkbcommon-x11-0",), uid=0, apt_fails=True)
    assert calls == ["install -y -q libxkbcommon-x11-0", "update -q"]
    assert "could not install libxkbcommon-x11-0" in result.stderr and result.returncode == 1


def test_missing_speech_alone_is_not_fatal_and_groups_select_packages(tmp_path: Path) -> None:
    result, calls = run_script(tmp_path, "speech", missing=("espeak-ng", "libxcb-cursor0"), uid=1000)
    assert result.returncode == 0
    assert result.stderr.strip().endswith("run: sudo apt-get install -y espeak-ng")
    result, calls = run_script(tmp_path, "x11", missing=("espeak-ng",), uid=0)
    assert (result.returncode, calls) == (0, [])


def test_missing_x_libraries_are_not_fatal_for_an_offscreen_kiosk(tmp_path: Path) -> None:
    result, _ = run_script(tmp_path, "x11", missing=("libxcb-cursor0",), uid=1000, platform="offscreen")
    assert result.returncode == 0 and "libxcb-cursor0" in result.stderr


def test_a_removed_package_with_config_files_left_counts_as_missing(tmp_path: Path) -> None:
    result, calls = run_script(tmp_path, "speech", missing=(), removed=("espeak-ng",), uid=0)
    assert result.returncode == 0 and calls == ["install -y -q espeak-ng"]


def test_unknown_group_is_refused(tmp_path: Path) -> None:
    result, calls = run_script(tmp_path, "sound", missing=(), uid=0)
    assert result.returncode == 2 and "unknown group 'sound'" in result.stderr and calls == []
