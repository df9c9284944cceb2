"""A fork server for the test suite's bank hosts: ``python -m bank serve`` without its imports each time.

Most end-to-end tests need a fresh host process of their own. Starting one is about 2.5 s of CPU, nearly
all of it importing the host's code (SQLAlchemy, FastAPI, pydantic, uvicorn); forty tests spend minutes on
it. This process imports that code once, then forks one child per request. The child is the same program
as ``python -m bank serve``: it sets the request's environment, points stdin/stdout at /dev/null and stderr
at the request's file, and runs ``bank.cli.main``.

One JSON line per request on stdin, ``{"env": {...}, "args": [...], "stderr": path}``; one line back,
``{"pid": N}``. Ends at EOF on stdin, or with the process that started it (PR_SET_PDEATHSIG); each child
ends with this process the same way. Children are reaped as soon as they exit, so ``kill(pid, 0)`` tells
the test whether a host is still alive.
"""

from __future__ import annotations

import ctypes
import json
import os
import signal
import sys

import uvicorn  # noqa: F401

import bank.api.app
import bank.cli
import bank.host

PR_SET_PDEATHSIG = 1


def die_with_parent() -> None:
    ctypes.CDLL("libc.so.6", use_errno=True).prctl(PR_SET_PDEATHSIG, signal.SIGTERM)


def reap(_signum: int = 0, _frame: object = None) -> None:
    while True:
        try:
            pid, _status = os.waitpid(-1, os.WNOHANG)
        except ChildProcessError:
            return
        if pid == 0:
            return


def serve_child(request: dict[str, object]) -> None:
    """In the forked child: become ``python -m bank ARGS`` and never return."""
    code = 1
    try:
        signal.signal(signal.SIGCHLD, signal.SIG_DFL)
        os.setsid()
        die_with_parent()
        devnull = os.open(os.devnull, os.O_RDWR)
        os.dup2(devnull, 0)
        os.dup2(devnull, 1)
        errors = os.open(str(request["stderr"]), os.O_WRONLY | os.O_CREAT | os.O_APPEND, 0o600)
        os.dup2(errors, 2)
        env = request["env"]
        assert isinstance(env, dict)
        os.environ.clear()
        os.environ.update({str(k): str(v) for k, v in env.items()})
        args = [str(a) for a in request["args"]]  # type: ignore[attr-defined]
        sys.argv = ["bank", *args]
        code = bank.cli.main(args)
    except BaseException as exc:
        print(f"host child failed: {type(exc).__name__}: {exc}", file=sys.stderr)
    finally:
        sys.stdout.flush()
        sys.stderr.flush()
        os._exit(code)


def main() -> None:
    die_with_parent()
    signal.signal(signal.SIGCHLD, reap)
    for line in sys.stdin:
        if not line.strip():
            continue
        request = json.loads(line)
        pid = os.fork()
        if pid == 0:
            serve_child(request)
        print(json.dumps({"pid": pid}), flush=True)
    # EOF: the test process is done with us; our children end by their own stop or with us.


if __name__ == "__main__":
    main()
