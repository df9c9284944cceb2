"""The host's audit trail: one row per event in ``host_audit``, shared by every host process.

Bank services record what they decided (a PIN check with its masked PAN and tries left, a technician
login, a refused terminal) through :class:`HostAudit`. Values pass the same redaction as logs, so a
PAN or PIN field that slips in is masked before it is stored.
"""

from __future__ import annotations

import json
import logging
from collections.abc import Callable
from datetime import datetime
from typing import Any, Protocol

from sqlalchemy import Engine, insert, select

from bank.models import utcnow
from bank.terminals.models import AuditEvent
from hostlink.redaction import redact

log = logging.getLogger(__name__)


class AuditPort(Protocol):
    def record(self, event: str, *, session_id: str | None = None, **fields: Any) -> Any: ...


class HostAudit:
    def __init__(
        self,
        engine: Engine,
        host_id: str,
        *,
        terminal_id: str | None = None,
        clock: Callable[[], datetime] = utcnow,
    ) -> None:
        self.engine = engine
        self.host_id = host_id
        self.terminal_id = terminal_id
        self.clock = clock

    def for_terminal(self, terminal_id: str | None) -> HostAudit:
        return HostAudit(self.engine, self.host_id, terminal_id=terminal_id, clock=self.clock)

    def record(self, event: str, *, session_id: str | None = None, **fields: Any) -> int:
        terminal = fields.pop("terminal_id", None) or self.terminal_id
        if session_id:
            fields["session_id"] = session_id
        text = redact(json.dumps(fields, default=str, ensure_ascii=False, sort_keys=True))
        with self.engine.begin() as connection:
            result = connection.execute(
                insert(AuditEvent)
                .values(at=self.clock(), host_id=self.host_id, terminal_id=terminal, event=event, fields=text)
                .returning(AuditEvent.id)
            )
            return int(result.scalar_one())

    def events(self, event: str | None = None, limit: int = 200) -> list[dict[str, Any]]:
        query = select(AuditEvent).order_by(AuditEvent.id.desc()).limit(limit)
        if event is not None:
            query = query.where(AuditEvent.event == event)
        with self.engine.connect() as connection:
            rows = connection.execute(query).mappings().all()
        return [
            {
                "id": row["id"],
                "at": row["at"].isoformat(),
                "host_id": row["host_id"],
                "terminal_id": row["terminal_id"],
                "event": row["event"],
                **json.loads(row["fields"]),
            }
            for row in rows
        ]
