"""Run every benchmark area and write one JSON document.

Each area module under benchmarks/ defines ``run(quick: bool = False) -> dict``; every figure it returns
stands next to its reference measured in the same run. An area that fails is recorded with its error and
makes the exit code non-zero, so a broken benchmark is never a silent gap.
"""

from __future__ import annotations

import argparse
import importlib
import json
import os
import pkgutil
import platform
import sys
import time
import traceback
from pathlib import Path
from typing import Any

import benchmarks


def areas() -> list[str]:
    return sorted(m.name for m in pkgutil.iter_modules(benchmarks.__path__) if not m.name.startswith("_"))


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m benchmarks")
    parser.add_argument("--out", default="bench.json")
    parser.add_argument("--quick", action="store_true")
    parser.add_argument("--only", action="append", default=[])
    args = parser.parse_args(argv)
    selected = args.only or areas()
    report: dict[str, Any] = {
        "meta": {
            "started": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()),
            "python": platform.python_version(),
            "machine": platform.machine(),
            "cpus": os.cpu_count(),
            "quick": args.quick,
        }
    }
    failed = False
    for area in selected:
        started = time.perf_counter()
        print(f"bench: {area} ...", file=sys.stderr, flush=True)
        try:
            module = importlib.import_module(f"benchmarks.{area}")
            result = module.run(quick=args.quick)
        except Exception as exc:
            failed = True
            result = {"error": f"{type(exc).__name__}: {exc}", "trace": traceback.format_exc(limit=5)}
            print(f"bench: {area} failed: {exc}", file=sys.stderr, flush=True)
        result_seconds = round(time.perf_counter() - started, 2)
        for key, value in result.items():
            report[key if key not in report else f"{area}.{key}"] = value
        report["meta"].setdefault("seconds", {})[area] = result_seconds
    Path(args.out).write_text(json.dumps(report, indent=2, ensure_ascii=False) + "\n", encoding="utf-8")
    print(f"bench: wrote {args.out}", file=sys.stderr)
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
