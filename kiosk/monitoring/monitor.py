"""The security monitor: turns journal records and device events into a feed and threshold alerts.

Inputs (both thread-safe, from any thread):

- :meth:`SecurityMonitor.observe_journal` — a journal record (``JournalRecord`` or its dict): wrong PINs
  (``pin_wrong``), cards retained after the last try, card captures, failed face liveness checks, refused
  maintenance entries and logins;
- :meth:`SecurityMonitor.observe_device_event` — a driver's ``DeviceEvent`` (anything with ``device``,
  ``kind``, ``data``): tamper, jams, covers, a device going to ``hardware_error``/``offline``/
  ``fraud_attempt``, cards captured.

Each becomes a :class:`SecurityEvent` in a bounded feed. Counting rules (sliding windows, per card and per
kiosk) raise an :class:`Alert` when a threshold is reached; an alert stays active until acknowledged and a
rule does not raise the same alert again while it is active. Alerts are journaled (``security_alert``,
``security_alert_acknowledged``) and pushed to subscribers. Kiosk-only: no Qt, no devices.
"""

from __future__ import annotations

import itertools
import logging
import threading
from collections import deque
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any, Protocol

log = logging.getLogger(__name__)

Clock = Callable[[], datetime]


def utc_now() -> datetime:
    return datetime.now(UTC)


@dataclass(frozen=True)
class MonitorThresholds:
    """When a count becomes an alert. Windows are sliding; counts include the event that tips them."""

    wrong_pins_per_card: int = 3
    wrong_pins_per_card_window_s: float = 24 * 3600.0
    wrong_pins_per_kiosk: int = 6  # many cards guessed at one kiosk: a skimming or shoulder-surfing sign
    wrong_pins_per_kiosk_window_s: float = 600.0
    liveness_failures: int = 3
    liveness_window_s: float = 600.0
    card_captures: int = 3
    card_captures_window_s: float = 3600.0
    device_faults: int = 3  # the same device failing again and again
    device_faults_window_s: float = 900.0
    feed_size: int = 500


class Severity:
    INFO = "info"
    WARNING = "warning"
    CRITICAL = "critical"


@dataclass(frozen=True)
class SecurityEvent:
    seq: int
    at: datetime
    category: str  # wrong_pin, card_retained, card_capture, liveness_failure, tamper, device_fault, ...
    source: str  # "journal" or the device name
    subject: str  # the card (masked) / device / "kiosk"
    detail: str = ""


@dataclass
class Alert:
    alert_id: int
    rule: str
    severity: str
    subject: str
    count: int
    raised_at: datetime
    detail: str = ""
    acknowledged_by: str | None = None
    acknowledged_at: datetime | None = None

    @property
    def active(self) -> bool:
        return self.acknowledged_by is None


class JournalPort(Protocol):
    def record(self, event: str, *, session_id: str | None = None, **fields: Any) -> int: ...


Subscriber = Callable[[str, Any], None]  # ("event", SecurityEvent) or ("alert", Alert) or ("ack", Alert)

_DEVICE_FAULT_STATES = frozenset({"hardware_error", "offline", "fraud_attempt", "no_device", "power_off"})
_DEVICE_FAULT_KINDS = frozenset({"jam", "cutter_error", "cover_open", "paper_out", "stock_empty"})
_CAPTURE_JOURNAL = frozenset({"card_capture", "card_retained_pin_tries_exceeded"})
# The journal found the file under it deleted, replaced, cut short or rewritten (kiosk/journal/journal.py).
_JOURNAL_TAMPER = frozenset(
    {"journal_file_deleted", "journal_file_replaced", "journal_file_truncated", "journal_file_rewritten"}
)


class SecurityMonitor:
    def __init__(
        self,
        thresholds: MonitorThresholds | None = None,
        *,
        journal: JournalPort | None = None,
        clock: Clock = utc_now,
        kiosk_id: str = "",
    ) -> None:
        self.thresholds = thresholds or MonitorThresholds()
        self.journal = journal
        self.clock = clock
        self.kiosk_id = kiosk_id
        self._lock = threading.RLock()
        self._seq = itertools.count(1)
        self._alert_ids = itertools.count(1)
        self._feed: deque[SecurityEvent] = deque(maxlen=self.thresholds.feed_size)
        self._windows: dict[tuple[str, str], deque[datetime]] = {}
        self._alerts: list[Alert] = []
        self._subscribers: list[Subscriber] = []
        self._last_journal_seq = 0

    # -- inputs -------------------------------------------------------------------------------------
    def observe_journal(self, record: Any) -> SecurityEvent | None:
        """A journal record (JournalRecord or mapping). Our own ``security_alert*`` records are skipped."""
        data = record if isinstance(record, Mapping) else getattr(record, "__dict__", {})
        event = str(data.get("event", ""))
        fields = data.get("fields") or {}
        if not isinstance(fields, Mapping):
            fields = {}
        seq = data.get("seq")
        with self._lock:
            if isinstance(seq, int):
                if seq <= self._last_journal_seq:
                    return None  # seen already (a follower re-read)
                self._last_journal_seq = seq
        card = str(fields.get("pan_masked") or fields.get("card_id") or "")
        if event == "pin_wrong":
            return self._event(
                "wrong_pin", "journal", card or "card?", f"tries left {fields.get('tries_left', '?')}"
            )
        if event in _CAPTURE_JOURNAL:
            return self._event("card_capture", "journal", card or "card in reader", event)
        if event == "face_liveness" and fields.get("passed") is False:
            return self._event("liveness_failure", "journal", "camera", str(fields.get("reason", "")))
        if event == "staff_alert_raised":
            # A customer pressed "call staff" (help): branch staff see it at once on the Security page.
            return self._event(
                "staff_call", "journal", "kiosk", str(fields.get("topic") or fields.get("kind", ""))
            )
        if event in _JOURNAL_TAMPER:
            return self._event("journal_tamper", "journal", "journal", event)
        if event == "journal_sealed" and fields.get("conflict") is True:
            detail = f"the host holds another hash for record {fields.get('seq_sealed', '?')}"
            return self._event("journal_tamper", "journal", "journal", detail)
        if event in ("maintenance_entry_refused", "tech_login_failed", "tech_login_locked"):
            return self._event("maintenance", "journal", "maintenance", event)
        return None

    def observe_device_event(self, device_event: Any) -> SecurityEvent | None:
        """A driver event (``device``, ``kind``, ``data``)."""
        device = str(getattr(device_event, "device", "") or "device")
        kind = str(getattr(device_event, "kind", ""))
        data = getattr(device_event, "data", {}) or {}
        if kind == "tamper":
            return self._event("tamper", device, device, "tamper switch")
        if kind == "state_changed":
            state = str(data.get("state", ""))
            if state in _DEVICE_FAULT_STATES:
                return self._event(
                    "device_fault", device, device, f"{state} {data.get('error') or ''}".strip()
                )
            return None
        if kind in _DEVICE_FAULT_KINDS:
            return self._event("device_fault", device, device, kind)
        if kind == "card_captured":
            return self._event(
                "card_capture", device, "card in reader", f"retained {data.get('retained', '?')}"
            )
        return None

    # -- outputs ------------------------------------------------------------------------------------
    def feed(self, limit: int | None = None) -> list[SecurityEvent]:
        """Newest first."""
        with self._lock:
            items = list(reversed(self._feed))
        return items if limit is None else items[:limit]

    def alerts(self, *, active_only: bool = True) -> list[Alert]:
        with self._lock:
            return [a for a in self._alerts if a.active or not active_only]

    def acknowledge(self, alert_id: int, who: str) -> bool:
        with self._lock:
            alert = next((a for a in self._alerts if a.alert_id == alert_id), None)
            if alert is None or not alert.active:
                return False
            alert.acknowledged_by = who
            alert.acknowledged_at = self.clock()
        if self.journal is not None:
            self.journal.record(
                "security_alert_acknowledged",
                alert_id=alert_id,
                rule=alert.rule,
                subject=alert.subject,
                by=who,
            )
        self._notify("ack", alert)
        return True

    def subscribe(self, callback: Subscriber) -> Callable[[], None]:
        """``callback(kind, item)`` for every new event, alert and acknowledgement; returns unsubscribe."""
        with self._lock:
            self._subscribers.append(callback)

        def unsubscribe() -> None:
            with self._lock:
                if callback in self._subscribers:
                    self._subscribers.remove(callback)

        return unsubscribe

    # -- internals ----------------------------------------------------------------------------------
    def _event(self, category: str, source: str, subject: str, detail: str) -> SecurityEvent:
        now = self.clock()
        event = SecurityEvent(next(self._seq), now, category, source, subject, detail)
        with self._lock:
            self._feed.append(event)
        self._notify("event", event)
        for alert in self._check(event):
            self._raise(alert)
        return event

    def _count(self, key: tuple[str, str], now: datetime, window_s: float) -> int:
        window = self._windows.setdefault(key, deque())
        window.append(now)
        cutoff = now - timedelta(seconds=window_s)
        while window and window[0] < cutoff:
            window.popleft()
        return len(window)

    def _check(self, event: SecurityEvent) -> list[Alert]:
        t = self.thresholds
        now = event.at
        found: list[tuple[str, str, str, int, int]] = []  # rule, severity, subject, count, threshold
        with self._lock:
            if event.category == "wrong_pin":
                per_card = self._count(("wrong_pin", event.subject), now, t.wrong_pins_per_card_window_s)
                found.append(
                    ("wrong_pins_card", Severity.WARNING, event.subject, per_card, t.wrong_pins_per_card)
                )
                per_kiosk = self._count(("wrong_pin", "*"), now, t.wrong_pins_per_kiosk_window_s)
                found.append(
                    ("wrong_pins_kiosk", Severity.CRITICAL, "kiosk", per_kiosk, t.wrong_pins_per_kiosk)
                )
            elif event.category == "liveness_failure":
                count = self._count(("liveness", "*"), now, t.liveness_window_s)
                found.append(("liveness_failures", Severity.WARNING, "camera", count, t.liveness_failures))
            elif event.category == "card_capture":
                count = self._count(("capture", "*"), now, t.card_captures_window_s)
                found.append(("card_captures", Severity.WARNING, "kiosk", count, t.card_captures))
            elif event.category == "device_fault":
                count = self._count(("fault", event.subject), now, t.device_faults_window_s)
                found.append(("device_faults", Severity.WARNING, event.subject, count, t.device_faults))
            elif event.category == "journal_tamper":
                found.append(("journal_tamper", Severity.CRITICAL, event.subject, 1, 1))  # always, at once
            elif event.category == "tamper":
                found.append(("tamper", Severity.CRITICAL, event.subject, 1, 1))  # always, at once
            elif event.category == "staff_call":
                found.append(("staff_call", Severity.WARNING, event.subject, 1, 1))
            alerts: list[Alert] = []
            for rule, severity, subject, count, threshold in found:
                if count < threshold:
                    continue
                if any(a.active and a.rule == rule and a.subject == subject for a in self._alerts):
                    continue  # already raised and not yet acknowledged
                alert = Alert(next(self._alert_ids), rule, severity, subject, count, now, event.detail)
                self._alerts.append(alert)
                alerts.append(alert)
            return alerts

    def _raise(self, alert: Alert) -> None:
        log.warning("security alert %s on %s (%d)", alert.rule, alert.subject, alert.count)
        if self.journal is not None:
            try:
                self.journal.record(
                    "security_alert",
                    alert_id=alert.alert_id,
                    rule=alert.rule,
                    severity=alert.severity,
                    subject=alert.subject,
                    count=alert.count,
                    detail=alert.detail,
                )
            except Exception:  # the journal failing must not hide the alert from staff
                log.exception("journaling security alert %s failed", alert.alert_id)
        self._notify("alert", alert)

    def _notify(self, kind: str, item: Any) -> None:
        with self._lock:
            subscribers = list(self._subscribers)
        for callback in subscribers:
            try:
                callback(kind, item)
            except Exception:
                log.exception("security monitor subscriber failed")


@dataclass
class JournalFollower:
    """Feeds new journal lines to ``observe`` by reading the journal file from where it stopped.

    The journal is an append-only JSON-lines file; a thread (``start``/``close``) or a timer calling
    :meth:`poll` picks up whatever was appended since, from any process that writes it. A torn last line
    (a writer mid-append) is left for the next poll.
    """

    path: Any
    observe: Callable[[Mapping[str, Any]], Any]
    interval_s: float = 1.0
    start_at_end: bool = True  # history before start is not news
    _offset: int = field(default=-1, init=False)
    _stop: threading.Event = field(default_factory=threading.Event, init=False)
    _thread: threading.Thread | None = field(default=None, init=False)
    _poll_lock: threading.Lock = field(default_factory=threading.Lock, init=False)

    def poll(self) -> int:
        """Observe the records appended since the last poll; returns how many."""
        with self._poll_lock:
            return self._poll()

    def _poll(self) -> int:
        import json
        import os

        try:
            size = os.path.getsize(self.path)
        except OSError:
            return 0
        if self._offset < 0:
            self._offset = size if self.start_at_end else 0
        if size < self._offset:
            self._offset = 0  # the file was replaced
        if size == self._offset:
            return 0
        with open(self.path, "rb") as handle:
            handle.seek(self._offset)
            chunk = handle.read(size - self._offset)
        complete = chunk.rfind(b"\n") + 1
        self._offset += complete
        seen = 0
        for line in chunk[:complete].splitlines():
            try:
                record = json.loads(line)
            except ValueError:
                continue
            if isinstance(record, Mapping):
                self.observe(record)
                seen += 1
        return seen

    def start(self) -> None:
        self.poll()
        self._thread = threading.Thread(target=self._run, name="journal-follower", daemon=True)
        self._thread.start()

    def _run(self) -> None:
        while not self._stop.wait(self.interval_s):
            try:
                self.poll()
            except Exception:
                log.exception("journal follower poll failed")

    def close(self) -> None:
        self._stop.set()
        if self._thread is not None:
            self._thread.join(timeout=5)
            self._thread = None
