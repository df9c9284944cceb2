"""Self-test reports: what each driver's ``self_test()`` checked on the device, and how it ended.

A self-test talks to the device over its wire protocol (status, initialise, a shutter cycle, a frame from
the camera ...) and reports every check by name, so the maintenance screen can show exactly what failed.
The Operation's Result is ``success`` when every check passed, ``hardware_error`` (with the report as its
value) when one did not, and the link's own completion (``offline`` ...) when the device did not answer.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from devices.base import Completion, Result


@dataclass(frozen=True)
class SelfTestCheck:
    name: str
    passed: bool
    detail: str = ""


@dataclass(frozen=True)
class SelfTestReport:
    device: str
    checks: tuple[SelfTestCheck, ...] = ()
    firmware: str = ""
    facts: dict[str, Any] = field(default_factory=dict)

    @property
    def passed(self) -> bool:
        return bool(self.checks) and all(check.passed for check in self.checks)

    def failures(self) -> list[SelfTestCheck]:
        return [check for check in self.checks if not check.passed]

    def summary(self) -> str:
        failed = self.failures()
        if not self.checks:
            return "no checks ran"
        if not failed:
            return f"all {len(self.checks)} checks passed"
        return "; ".join(f"{check.name}: {check.detail or 'failed'}" for check in failed)

    def as_dict(self) -> dict[str, Any]:
        return {
            "device": self.device,
            "passed": self.passed,
            "firmware": self.firmware,
            "checks": [{"name": c.name, "passed": c.passed, "detail": c.detail} for c in self.checks],
            "facts": dict(self.facts),
        }


class SelfTestBuilder:
    """Collects checks while a driver's self-test job runs."""

    def __init__(self, device: str) -> None:
        self.device = device
        self.checks: list[SelfTestCheck] = []
        self.firmware = ""
        self.facts: dict[str, Any] = {}

    def check(self, name: str, passed: bool, detail: str = "") -> bool:
        self.checks.append(SelfTestCheck(name, bool(passed), detail))
        return passed

    def report(self) -> SelfTestReport:
        return SelfTestReport(self.device, tuple(self.checks), self.firmware, dict(self.facts))

    def result(self) -> Result[SelfTestReport]:
        report = self.report()
        if report.passed:
            return Result.success(report, report.summary())
        return Result(Completion.HARDWARE_ERROR, report, report.summary())
