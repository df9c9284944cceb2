"""Maintenance actions, Qt-free: each one checked against the technician's role and journaled.

Every action goes through the same gate: the session must not have idled out, and its role must permit
the action (:data:`bank.security.techs.PERMISSIONS`); a refusal is itself journaled. A hardware action is
journaled as an *intent* before the device is touched and as an *outcome* after, with the technician, the
device and how it ended, so a crash in between leaves evidence. Every action returns an
:class:`ActionOutcome` value; nothing raises to the caller.

This module may not import the device layer. Drivers are reached structurally: a device command returns
something with ``result(timeout)``, whose value has ``code``, ``detail``, ``value`` and ``ok`` (the
drivers' ``Operation``/``Result`` fit). A device that lacks a command answers ``unsupported``.

Viewing the settings and the logs needs ``device_status`` (every technician diagnoses with them); the
action map has no finer permission for them.
"""

from __future__ import annotations

import json
import logging
import os
import time
from collections import deque
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from datetime import datetime, tzinfo
from pathlib import Path
from typing import Any, Protocol

from hostlink.redaction import redact
from hostlink.technicians import (
    Action,
    LoginResult,
    Role,
    TechError,
    TechInfo,
    TechnicianDirectory,
    TechSession,
)
from kiosk.banktime import format_bank_time, parse_instant
from kiosk.journal import Journal, JournalRecord, VerifyReport
from kiosk.maintenance.store import MaintenanceStore, OutOfService
from kiosk.settings import Settings

log = logging.getLogger(__name__)

MAX_COUNT = 999  # retain bins and card cassettes hold far fewer; a bigger number is a typing slip
SUCCESS = "success"


class CommandResult(Protocol):
    """The shape of a driver's ``devices.base.Result`` (structural: this layer may not import it)."""

    @property
    def code(self) -> Any: ...

    @property
    def value(self) -> Any: ...

    @property
    def detail(self) -> str: ...

    @property
    def ok(self) -> bool: ...


class PendingCommand(Protocol):
    def result(self, timeout: float | None = None) -> CommandResult: ...


@dataclass(frozen=True)
class ActionOutcome:
    """How one maintenance action ended. ``code`` is ``success``, ``refused``, ``session_expired``,
    ``invalid_input``, ``unsupported``, a reconciliation verdict, or the device's completion code."""

    action: str
    ok: bool
    code: str
    detail: str = ""
    data: dict[str, Any] = field(default_factory=dict)

    @property
    def refused(self) -> bool:
        return self.code in ("refused", "session_expired")


class MaintenanceService:
    def __init__(
        self,
        journal: Journal,
        techs: TechnicianDirectory,
        store: MaintenanceStore,
        devices: Mapping[str, Any],
        settings: Settings,
        *,
        log_file: Path | None = None,
        command_timeout_s: float = 20.0,
        card_take_timeout_s: float = 20.0,
        restart_wait_s: float = 3.0,
    ) -> None:
        self.journal = journal
        self.techs = techs
        self.store = store
        self.devices = dict(devices)
        self.settings = settings
        self.log_file = log_file or settings.data_dir / "logs" / "smart-teller.log"
        self.command_timeout_s = command_timeout_s
        self.card_take_timeout_s = card_take_timeout_s
        self.restart_wait_s = restart_wait_s

    # -- accounts ----------------------------------------------------------------------------
    def needs_first_supervisor(self) -> bool:
        return not self.techs.has_any_technician()

    def create_first_supervisor(self, username: str, password: str) -> ActionOutcome:
        """Only while no account exists: the very first start of a terminal."""
        action = "create_first_supervisor"
        if not self.needs_first_supervisor():
            self.journal.record("maintenance_refused", action=action, reason="accounts already exist")
            return ActionOutcome(action, False, "refused", "technician accounts already exist")
        try:
            self.techs.add(username, password, Role.SUPERVISOR, by="first-start")
        except TechError as exc:
            return ActionOutcome(action, False, "invalid_input", str(exc))
        return ActionOutcome(action, True, SUCCESS, f"supervisor {username} created")

    def login(self, username: str, password: str) -> LoginResult:
        return self.techs.authenticate(username.strip(), password)

    def logout(self, session: TechSession, reason: str = "logout") -> None:
        self.techs.logout(session, reason=reason)

    def list_technicians(self, session: TechSession) -> ActionOutcome | list[TechInfo]:
        refused = self._gate(session, Action.TECH_MANAGEMENT, "list_technicians")
        return refused if refused is not None else self.techs.accounts()

    def add_technician(self, session: TechSession, username: str, password: str, role: str) -> ActionOutcome:
        return self._account_change(
            session,
            "add_technician",
            username,
            lambda: self.techs.add(username, password, role, by=session.username),
        )

    def unlock_technician(self, session: TechSession, username: str) -> ActionOutcome:
        return self._account_change(
            session, "unlock_technician", username, lambda: self.techs.unlock(username, by=session.username)
        )

    def remove_technician(self, session: TechSession, username: str) -> ActionOutcome:
        if username == session.username:
            return ActionOutcome(
                "remove_technician", False, "invalid_input", "you cannot remove your own account"
            )
        return self._account_change(
            session, "remove_technician", username, lambda: self.techs.remove(username, by=session.username)
        )

    def change_password(self, session: TechSession, username: str, password: str) -> ActionOutcome:
        return self._account_change(
            session,
            "change_password",
            username,
            lambda: self.techs.change_password(username, password, by=session.username),
        )

    def _account_change(
        self, session: TechSession, action: str, username: str, change: Callable[[], None]
    ) -> ActionOutcome:
        refused = self._gate(session, Action.TECH_MANAGEMENT, action, username=username)
        if refused is not None:
            return refused
        try:
            change()  # TechnicianService journals the change with by=<technician>
        except TechError as exc:
            return ActionOutcome(action, False, "invalid_input", str(exc))
        return ActionOutcome(action, True, SUCCESS, username)

    # -- device actions ----------------------------------------------------------------------
    def self_test(self, session: TechSession, device: str) -> ActionOutcome:
        def run(driver: Any) -> ActionOutcome:
            result = self._wait(driver.self_test())
            report = result.value
            data = report.as_dict() if report is not None and hasattr(report, "as_dict") else {}
            return self._from_result("self_test", result, data)

        return self._device_action(session, Action.DEVICE_SELFTEST, "self_test", device, "self_test", run)

    def print_test(self, session: TechSession, receipt: Any) -> ActionOutcome:
        """``receipt`` is the printer's document (built by the caller, who knows the device layer)."""

        def run(driver: Any) -> ActionOutcome:
            result = self._wait(driver.print_receipt(receipt))
            report = result.value
            data = {
                "paper": getattr(report, "paper", "unknown"),
                "bytes_sent": getattr(report, "bytes_sent", 0),
            }
            return self._from_result("print_test", result, data)

        return self._device_action(session, Action.PRINT_TEST, "print_test", "printer", "print_receipt", run)

    def restart_driver(self, session: TechSession, device: str) -> ActionOutcome:
        """Stop the driver's I/O thread and start it again; wait a moment for the link to come back."""

        def run(driver: Any) -> ActionOutcome:
            driver.close()
            driver.start()
            deadline = time.monotonic() + self.restart_wait_s
            state = str(driver.status().state)
            while state != "online" and time.monotonic() < deadline:
                time.sleep(0.05)
                state = str(driver.status().state)
            ok = state == "online"
            detail = "driver restarted, device online" if ok else f"driver restarted, device {state}"
            return ActionOutcome("restart_driver", ok, SUCCESS if ok else state, detail, {"state": state})

        return self._device_action(session, Action.DEVICE_RESET, "restart_driver", device, "start", run)

    def clear_card(self, session: TechSession, device: str) -> ActionOutcome:
        """Re-initialise, then free the card path: a reader ejects a card to the gate, a dispenser moves
        a stuck card to its reject bin. A jam that is still there needs hands: the outcome says so."""
        if device == "card_reader":
            run = self._clear_reader
        elif device == "card_dispenser":
            run = self._clear_dispenser
        else:
            return ActionOutcome("clear_card", False, "unsupported", f"{device} has no card path")
        return self._device_action(session, Action.DEVICE_RESET, "clear_card", device, "reset", run)

    def _clear_reader(self, driver: Any) -> ActionOutcome:
        reset = self._wait(driver.reset())
        if not reset.ok:
            return self._from_result("clear_card", reset)
        detail = driver.status().detail
        if detail.get("jammed"):
            return ActionOutcome("clear_card", False, "media_jammed", "jam_still_present")
        media = detail.get("media", "none")
        if media == "inside":
            ejected = self._wait(driver.eject(self.card_take_timeout_s), extra=self.card_take_timeout_s)
            if ejected.ok:
                return ActionOutcome("clear_card", True, SUCCESS, "card_ejected_and_taken", {"media": "none"})
            if str(ejected.code) == "timeout":
                return ActionOutcome("clear_card", True, SUCCESS, "card_at_gate", {"media": "at_gate"})
            return self._from_result("clear_card", ejected)
        if media == "at_gate":
            return ActionOutcome("clear_card", True, SUCCESS, "card_at_gate", {"media": media})
        return ActionOutcome("clear_card", True, SUCCESS, "card_path_clear", {"media": media})

    def _clear_dispenser(self, driver: Any) -> ActionOutcome:
        reset = self._wait(driver.reset())
        if not reset.ok:
            return self._from_result("clear_card", reset)
        detail = driver.status().detail
        if detail.get("jammed"):
            return ActionOutcome("clear_card", False, "media_jammed", "jam_still_present")
        position = detail.get("position", "none")
        if position != "none":
            captured = self._wait(driver.capture())
            if not captured.ok:
                return self._from_result("clear_card", captured)
            return ActionOutcome("clear_card", True, SUCCESS, "card_to_reject_bin", {"position": "none"})
        return ActionOutcome("clear_card", True, SUCCESS, "card_path_clear", {"position": position})

    def empty_retain_bin(
        self, session: TechSession, counted: int, expected: int | None = None
    ) -> ActionOutcome:
        """Reconcile the cards taken out of the reader's retain bin with the reader's own count.

        ``expected`` is the count the screen showed before the bin was opened (the reader's counter
        resets when the bin is emptied and reseated); without it the reader's current count is used.
        The reader is re-initialised afterwards so its counter is read fresh: a counter that did not
        go back to zero means the bin was not emptied or not reseated.
        """
        action = "empty_retain_bin"
        problem = _count_problem(counted)
        if problem is not None:
            return ActionOutcome(action, False, "invalid_input", problem)

        def run(driver: Any) -> ActionOutcome:
            before = expected if expected is not None else int(driver.status().detail.get("retained", 0))
            reset = self._wait(driver.reset())
            after = int(driver.status().detail.get("retained", 0)) if reset.ok else None
            difference = counted - before
            if difference != 0:
                verdict = "mismatch"
            elif after is None or after != 0:
                verdict = "bin_not_reset"
            else:
                verdict = SUCCESS
            data = {"expected": before, "counted": counted, "difference": difference, "device_after": after}
            self.store.add_record("retain_bin_emptied", session.username, verdict=verdict, **data)
            self.store.add_to_total("cards_removed_from_bin", counted)
            if verdict == "mismatch":
                # a missing retained card is a security matter: its own journal line for the branch
                self.journal.record(
                    "retain_bin_mismatch", technician=session.username, expected=before, counted=counted
                )
            return ActionOutcome(action, verdict == SUCCESS, verdict, verdict, data)

        return self._device_action(
            session, Action.EMPTY_RETAIN_BIN, action, "card_reader", "reset", run, counted=counted
        )

    def replenish_cards(self, session: TechSession, added: int) -> ActionOutcome:
        """Blank cards loaded into the dispenser: recorded, then the dispenser's stock sensor is checked."""
        action = "replenish_cards"
        problem = _count_problem(added, minimum=1)
        if problem is not None:
            return ActionOutcome(action, False, "invalid_input", problem)

        def run(driver: Any) -> ActionOutcome:
            stock_before = str(driver.status().detail.get("stock", "unknown"))
            reset = self._wait(driver.reset())
            if not reset.ok:
                return self._from_result(action, reset)
            stock_after = str(driver.status().detail.get("stock", "unknown"))
            verdict = "still_empty" if stock_after == "empty" else SUCCESS
            total = self.store.add_to_total("cards_loaded", added)
            data = {
                "added": added,
                "stock_before": stock_before,
                "stock_after": stock_after,
                "cards_loaded": total,
            }
            self.store.add_record("cards_loaded", session.username, verdict=verdict, **data)
            return ActionOutcome(action, verdict == SUCCESS, verdict, verdict, data)

        return self._device_action(
            session, Action.REPLENISH_CARDS, action, "card_dispenser", "reset", run, added=added
        )

    def replenish_paper(self, session: TechSession) -> ActionOutcome:
        """A new paper roll: recorded, then the printer's paper sensors must say so."""
        action = "replenish_paper"

        def run(driver: Any) -> ActionOutcome:
            queried = self._wait(driver.query_status())
            if not queried.ok or queried.value is None:
                return self._from_result(action, queried)
            paper = str(queried.value.paper)
            verdict = {"ok": SUCCESS, "low": "paper_low", "out": "paper_out"}.get(paper, paper)
            total = self.store.add_to_total("paper_rolls_loaded", 1)
            data = {"paper": paper, "paper_rolls_loaded": total}
            self.store.add_record("paper_loaded", session.username, verdict=verdict, **data)
            return ActionOutcome(action, verdict == SUCCESS, verdict, verdict, data)

        return self._device_action(session, Action.REPLENISH_PAPER, action, "printer", "query_status", run)

    # -- out of service ----------------------------------------------------------------------
    def out_of_service(self) -> OutOfService:
        return self.store.out_of_service()

    def set_out_of_service(self, session: TechSession, active: bool, reason: str = "") -> ActionOutcome:
        action = "out_of_service_on" if active else "out_of_service_off"
        reason = " ".join(reason.split())[:200] or ("maintenance" if active else "")
        refused = self._gate(session, Action.OUT_OF_SERVICE, action, reason=reason)
        if refused is not None:
            return refused
        state = self.store.set_out_of_service(active, reason, session.username)
        self.journal.record(
            "maintenance_out_of_service", technician=session.username, active=active, reason=reason
        )
        return ActionOutcome(action, True, SUCCESS, reason, {"active": state.active, "reason": state.reason})

    # -- journal, settings, logs -------------------------------------------------------------
    def journal_tail(self, session: TechSession, count: int = 50) -> ActionOutcome:
        refused = self._gate(session, Action.VIEW_JOURNAL, "view_journal")
        if refused is not None:
            return refused
        tail: deque[JournalRecord] = deque(maxlen=max(1, count))
        for record in self.journal.records():
            tail.append(record)
        self.journal.record("maintenance_view_journal", technician=session.username, count=len(tail))
        return ActionOutcome("view_journal", True, SUCCESS, "", {"records": list(tail)})

    def verify_journal(self, session: TechSession) -> ActionOutcome:
        refused = self._gate(session, Action.VIEW_JOURNAL, "verify_journal")
        if refused is not None:
            return refused
        report: VerifyReport = self.journal.verify()
        self.journal.record(
            "maintenance_verify_journal",
            technician=session.username,
            ok=report.ok,
            first_bad_seq=report.first_bad_seq,
            reason=report.reason,
        )
        data = {
            "ok": report.ok,
            "first_bad_seq": report.first_bad_seq,
            "reason": report.reason,
            "count": report.count,
        }
        return ActionOutcome(
            "verify_journal", report.ok, SUCCESS if report.ok else "journal_broken", report.reason, data
        )

    def export_journal(
        self,
        session: TechSession,
        start: int | datetime | None,
        end: int | datetime | None,
        target_dir: Path,
    ) -> ActionOutcome:
        """Write the range as JSON lines (with hashes) to a new file in ``target_dir`` (a USB mount)."""
        action = "export_journal"
        refused = self._gate(session, Action.EXPORT_JOURNAL, action, target=str(target_dir))
        if refused is not None:
            return refused
        if not target_dir.is_dir():
            return ActionOutcome(action, False, "invalid_input", f"{target_dir} is not a mounted folder")
        name = f"journal-{self.journal.kiosk_id}-{time.strftime('%Y%m%dT%H%M%S')}.jsonl"
        path = target_dir / name
        intent = self.journal.intent(
            "maintenance_export_journal", technician=session.username, target=str(path), start=start, end=end
        )
        count = 0
        try:
            fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
            with os.fdopen(fd, "w", encoding="utf-8") as handle:
                for line in self.journal.export(start, end):
                    handle.write(line + "\n")
                    count += 1
                handle.flush()
                os.fsync(handle.fileno())
        except OSError as exc:
            self.journal.outcome(
                intent, "failed", technician=session.username, error=exc.strerror or str(exc)
            )
            return ActionOutcome(action, False, "write_failed", f"cannot write {path}: {exc.strerror or exc}")
        self.journal.outcome(intent, SUCCESS, technician=session.username, records=count)
        return ActionOutcome(action, True, SUCCESS, str(path), {"path": str(path), "records": count})

    def settings_view(self, session: TechSession) -> ActionOutcome:
        refused = self._gate(session, Action.DEVICE_STATUS, "view_settings")
        if refused is not None:
            return refused
        self.journal.record("maintenance_view_settings", technician=session.username)
        return ActionOutcome("view_settings", True, SUCCESS, "", {"settings": self.settings.redacted()})

    def log_tail(self, session: TechSession, lines: int = 200) -> ActionOutcome:
        refused = self._gate(session, Action.DEVICE_STATUS, "view_logs")
        if refused is not None:
            return refused
        self.journal.record("maintenance_view_logs", technician=session.username)
        return ActionOutcome(
            "view_logs", True, SUCCESS, str(self.log_file), {"lines": tail_file(self.log_file, lines)}
        )

    # -- plumbing ----------------------------------------------------------------------------
    def _gate(
        self, session: TechSession, permission: Action, action: str, **fields: Any
    ) -> ActionOutcome | None:
        """None when ``session`` may do ``action`` now; else the (journaled) refusal."""
        if session.expired():
            self.journal.record(
                "maintenance_refused", technician=session.username, action=action, because="expired"
            )
            return ActionOutcome(action, False, "session_expired", "session_expired")
        if not session.may(permission):
            self.journal.record(
                "maintenance_refused",
                technician=session.username,
                role=session.role.value,
                action=action,
                because="role",
                **fields,
            )
            return ActionOutcome(action, False, "refused", "role_not_permitted")
        session.touch()
        return None

    def _device_action(
        self,
        session: TechSession,
        permission: Action,
        action: str,
        device: str,
        needs: str,
        run: Callable[[Any], ActionOutcome],
        **fields: Any,
    ) -> ActionOutcome:
        refused = self._gate(session, permission, action, device=device)
        if refused is not None:
            return refused
        driver = self.devices.get(device)
        if driver is None:
            return ActionOutcome(action, False, "unsupported", f"{device} is not configured")
        if not hasattr(driver, needs):
            return ActionOutcome(action, False, "unsupported", f"{device} cannot {action.replace('_', ' ')}")
        intent = self.journal.intent(
            f"maintenance_{action}",
            technician=session.username,
            role=session.role.value,
            device=device,
            **fields,
        )
        try:
            outcome = run(driver)
        except Exception as exc:  # a driver bug must end as a journaled value, never a traceback
            log.exception("maintenance %s on %s failed", action, device)
            outcome = ActionOutcome(action, False, "hardware_error", str(exc))
        self.journal.outcome(
            intent,
            outcome.code,
            technician=session.username,
            device=device,
            detail=outcome.detail,
            **_journal_safe(outcome.data),
        )
        session.touch()  # a long device command is activity, not idleness
        return outcome

    def _wait(self, pending: PendingCommand, extra: float = 0.0) -> CommandResult:
        return pending.result(self.command_timeout_s + extra)

    @staticmethod
    def _from_result(action: str, result: CommandResult, data: dict[str, Any] | None = None) -> ActionOutcome:
        code = str(getattr(result.code, "value", result.code))
        return ActionOutcome(action, bool(result.ok), code, result.detail, data or {})


def _count_problem(value: int, minimum: int = 0) -> str | None:
    if isinstance(value, bool) or not isinstance(value, int):
        return "the count must be a whole number"
    if value < minimum or value > MAX_COUNT:
        return f"the count must be between {minimum} and {MAX_COUNT}"
    return None


_RESERVED_FIELDS = frozenset({"device", "technician", "detail", "result", "event", "session_id"})


def _journal_safe(data: Mapping[str, Any]) -> dict[str, Any]:
    """Flat facts for the journal (a self-test report is summarised, not dumped)."""
    safe: dict[str, Any] = {}
    for key, value in data.items():
        if key in _RESERVED_FIELDS:
            continue
        if key == "checks" and isinstance(value, list):
            safe["failed_checks"] = [c["name"] for c in value if not c.get("passed")]
        elif isinstance(value, str | int | float | bool) or value is None:
            safe[key] = value
    return safe


def tail_file(path: Path, lines: int) -> list[str]:
    """The last ``lines`` lines of a text file (redacted again: defence in depth), [] if it is missing."""
    try:
        with open(path, "rb") as handle:
            handle.seek(0, os.SEEK_END)
            size = handle.tell()
            block = min(size, max(4096, lines * 400))
            handle.seek(size - block)
            text = handle.read().decode("utf-8", errors="replace")
    except FileNotFoundError:
        return []
    rows = text.splitlines()
    if block < size and rows:
        rows = rows[1:]  # the first row may be cut in the middle
    return [redact(row) for row in rows[-lines:]]


def records_as_text(records: list[JournalRecord], zone: tzinfo) -> list[str]:
    """One readable line per journal record for the screen and ``smart-teller journal show``: the UTC
    stamp the record keeps, shown in bank time with its zone (as the receipt of the same event prints it)."""
    return [
        f"{r.seq:>6}  {format_bank_time(parse_instant(r.ts), zone)}  {r.event}  "
        f"{json.dumps(r.fields, ensure_ascii=False)}"
        for r in records
    ]


@dataclass(frozen=True)
class JournalRow:
    """One journal record as the journal viewer's columns show it."""

    seq: int
    time: str  # bank time with its zone
    kind: str  # the event, and whether it is an action's intent or outcome
    summary: str  # the record's facts as "name: value" pairs

    def matches(self, query: str) -> bool:
        """Whether every word of ``query`` is somewhere in the row (case-insensitive)."""
        text = f"{self.seq} {self.time} {self.kind} {self.summary}".casefold()
        return all(word in text for word in query.casefold().split())


def _summary_value(value: Any) -> str:
    if isinstance(value, list | tuple):
        return ", ".join(_summary_value(v) for v in value) or "—"
    if isinstance(value, Mapping):
        return json.dumps(value, ensure_ascii=False, separators=(", ", ": "))
    return "—" if value is None else str(value)


def journal_rows(records: list[JournalRecord], zone: tzinfo) -> list[JournalRow]:
    """The journal viewer's rows: the UTC stamp each record keeps shown in bank time, as the receipt of the
    same event prints it; the fields read as pairs rather than one JSON line."""
    rows = []
    for r in records:
        kind = r.event if r.kind in ("", "event") else f"{r.event} ({r.kind})"
        summary = " · ".join(f"{key.replace('_', ' ')}: {_summary_value(v)}" for key, v in r.fields.items())
        rows.append(JournalRow(r.seq, format_bank_time(parse_instant(r.ts), zone), kind, summary or "—"))
    return rows
