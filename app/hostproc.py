"""The embedded default: one bank host process on loopback, started and stopped by the terminal's tools.

``smart-teller run --simulated``, ``smart-teller demo`` and the tests start the host as its own program
(``python -m bank serve``) with its own data dir, enrol this terminal with it (the credential goes into the
terminal's data dir, 0600) and learn its address from the ready file it writes. The terminal's packages
never import the bank: they only get its address, as they would a real bank's.
"""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import tempfile
import time
from collections.abc import Mapping
from pathlib import Path

HOST_START_TIMEOUT_S = 60.0  # a first start migrates a fresh database; a busy machine is slow


class HostStartError(Exception):
    """The host program did not start (its last line of stderr says why)."""


def host_environment(
    data_dir: Path, database_url: str | None = None, extra: Mapping[str, str] | None = None
) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("SMART_TELLER_HOST_")}
    env.pop("SMART_TELLER_DATABASE_URL", None)
    env["SMART_TELLER_HOST_DATA_DIR"] = str(data_dir)
    if database_url:
        env["SMART_TELLER_HOST_DATABASE_URL"] = database_url
    env.update(extra or {})
    return env


def last_line(text: str) -> str:
    """The last non-blank line: the host's one-line reason, whatever it printed before."""
    lines = [line for line in text.splitlines() if line.strip()]
    return lines[-1] if lines else ""


def run_host_command(args: list[str], env: Mapping[str, str], timeout_s: float = HOST_START_TIMEOUT_S) -> str:
    """``python -m bank ARGS``; its stdout, or HostStartError with its last stderr line."""
    done = subprocess.run(
        [sys.executable, "-m", "bank", *args],
        env=dict(env),
        capture_output=True,
        text=True,
        timeout=timeout_s,
        check=False,
    )
    if done.returncode != 0:
        raise HostStartError(f"host {args[0]}: {last_line(done.stderr) or f'exit {done.returncode}'}")
    return done.stdout


def enrol(terminal_id: str, credential_file: Path, env: Mapping[str, str]) -> None:
    """Enrol (or re-enrol) ``terminal_id`` and write its credential where the terminal reads it. The
    embedded host is the simulated build's: it records the PIN pad simulator's documented test TMK."""
    run_host_command(
        ["enrol-terminal", terminal_id, "--credential-file", str(credential_file), "--rotate", "--test-tmk"],
        env,
    )


def die_with_parent() -> None:
    """In the child before exec (Linux): SIGTERM when the process that started the host dies, so a
    terminal killed with SIGKILL does not leave its embedded host running."""
    try:
        import ctypes

        ctypes.CDLL("libc.so.6", use_errno=True).prctl(1, signal.SIGTERM)  # PR_SET_PDEATHSIG
    except (OSError, AttributeError):
        pass  # not Linux: the caller's stop() is the only end


class HostProcess:
    """One ``python -m bank serve`` child on an ephemeral loopback port."""

    def __init__(
        self, env: Mapping[str, str], *, seed: bool = True, port: int = 0, iso_port: int = 0
    ) -> None:
        self.env = dict(env)
        self.seed = seed
        self.port = port
        self.iso_port = iso_port
        self.url = ""
        self.iso8583 = ""  # host:port of its ISO 8583 listener
        self.process: subprocess.Popen[bytes] | None = None
        self._errors: tempfile._TemporaryFileWrapper[bytes] | None = None

    def start(self, timeout_s: float = HOST_START_TIMEOUT_S) -> HostProcess:
        ready = Path(tempfile.mkdtemp(prefix="st-host-")) / "ready.json"
        command = [
            sys.executable,
            "-m",
            "bank",
            "serve",
            "--port",
            str(self.port),
            "--iso-port",
            str(self.iso_port),
            "--ready-file",
            str(ready),
        ]
        if self.seed:
            command.append("--seed")
        self._errors = tempfile.NamedTemporaryFile(prefix="st-host-err-", delete=True)  # noqa: SIM115
        self.process = subprocess.Popen(
            command,
            env=self.env,
            stdout=subprocess.DEVNULL,
            stderr=self._errors,
            start_new_session=True,
            preexec_fn=die_with_parent,
        )
        deadline = time.monotonic() + timeout_s
        while time.monotonic() < deadline:
            if ready.exists():
                answer = json.loads(ready.read_text())
                self.url, self.iso8583 = str(answer["url"]), str(answer.get("iso8583", ""))
                ready.unlink(missing_ok=True)
                ready.parent.rmdir()
                return self
            if self.process.poll() is not None:
                break
            time.sleep(0.05)
        why = self._last_error() or "no ready file in time"
        self.stop()
        raise HostStartError(f"the bank host did not start: {why}")

    def _last_error(self) -> str:
        if self._errors is None:
            return ""
        self._errors.flush()
        text = Path(self._errors.name).read_text(encoding="utf-8", errors="replace")
        return last_line(text)

    @property
    def pid(self) -> int:
        assert self.process is not None
        return self.process.pid

    def alive(self) -> bool:
        return self.process is not None and self.process.poll() is None

    def kill(self) -> None:
        """SIGKILL, as a crash would: no clean shutdown, no last writes."""
        if self.alive():
            assert self.process is not None
            self.process.send_signal(signal.SIGKILL)
            self.process.wait(timeout=10)

    def stop(self, timeout_s: float = 10.0) -> None:
        if self.process is not None and self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(timeout=timeout_s)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait(timeout=timeout_s)
        if self._errors is not None:
            self._errors.close()
            self._errors = None


def start_embedded_host(
    host_data_dir: Path,
    terminal_id: str,
    credential_file: Path,
    *,
    database_url: str | None = None,
    seed: bool = True,
    switch_address: str = "",
) -> HostProcess:
    """Enrol the terminal with a host on ``host_data_dir`` and serve it; the caller stops it."""
    host_data_dir.mkdir(parents=True, exist_ok=True)
    extra = {"SMART_TELLER_HOST_SWITCH__ADDRESS": switch_address} if switch_address else None
    env = host_environment(host_data_dir, database_url, extra)
    enrol(terminal_id, credential_file, env)
    return HostProcess(env, seed=seed).start()
