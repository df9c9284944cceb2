"""Each terminal's key hierarchy at the host: TMK from enrolment, TPK and TAK per ISO 8583 session.

At enrolment the bank records the terminal master key (TMK) its key ceremony loaded into the terminal's
PIN pad (``enrol-terminal --tmk HEX``; ``--test-tmk`` records the simulator's documented test TMK). At
each sign-on or key change the host makes a fresh PIN key (TPK) and MAC key (TAK), keeps them
vault-encrypted in ``host_terminal_keys`` (so every host process on the database uses the same session
keys) and sends them to the terminal as TR-31 key blocks under the TMK, which only the PIN pad can open.
"""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy.orm import Session, sessionmaker

from bank.models import utcnow
from bank.terminals.models import TerminalKeys
from hostlink import keyblock
from hostlink.tdes import kcv, random_tdes_key


class NoSessionKeys(Exception):
    """The terminal has not signed on (no TPK/TAK yet), or has no TMK recorded."""


@dataclass(frozen=True)
class SessionKeys:
    tpk: bytes
    tak: bytes
    tpk_kcv: str
    tak_kcv: str

    def __repr__(self) -> str:
        return f"SessionKeys(tpk_kcv={self.tpk_kcv}, tak_kcv={self.tak_kcv})"


@dataclass(frozen=True)
class KeyExchange:
    """What the 0810 carries: the two key blocks and their check values."""

    tpk_block: str
    tak_block: str
    tpk_kcv: str
    tak_kcv: str
    key_version: int


class TerminalKeyStore:
    def __init__(self, sessions: sessionmaker[Session]) -> None:
        self._sessions = sessions

    def record_tmk(self, terminal_id: str, tmk: bytes) -> str:
        """Enrolment: the terminal's TMK (a double- or triple-length TDES key); returns its KCV. Any
        session keys under an earlier TMK are dropped: the terminal must sign on again."""
        check = kcv(tmk)
        with self._sessions.begin() as db:
            row = db.get(TerminalKeys, terminal_id)
            if row is None:
                db.add(TerminalKeys(terminal_id=terminal_id, tmk=tmk, tmk_kcv=check, key_version=0))
            else:
                row.tmk, row.tmk_kcv = tmk, check
                row.tpk = row.tak = row.tpk_kcv = row.tak_kcv = None
        return check

    def tmk_kcv(self, terminal_id: str) -> str | None:
        with self._sessions() as db:
            row = db.get(TerminalKeys, terminal_id)
            return row.tmk_kcv if row is not None else None

    def new_session(self, terminal_id: str) -> KeyExchange:
        """Sign-on / key change: fresh TPK and TAK, stored, and wrapped under the terminal's TMK."""
        tpk, tak = random_tdes_key(), random_tdes_key()
        with self._sessions.begin() as db:
            row = db.get(TerminalKeys, terminal_id, with_for_update=True)
            if row is None:
                raise NoSessionKeys(f"no TMK recorded for terminal {terminal_id}")
            row.tpk, row.tak = tpk, tak
            row.tpk_kcv, row.tak_kcv = kcv(tpk), kcv(tak)
            row.key_version = (row.key_version or 0) + 1
            row.signed_on_at = utcnow()
            tmk, version = row.tmk, row.key_version
        return KeyExchange(
            keyblock.wrap(tmk, tpk, "P0"),
            keyblock.wrap(tmk, tak, "M3"),
            kcv(tpk),
            kcv(tak),
            version,
        )

    def session(self, terminal_id: str) -> SessionKeys:
        with self._sessions() as db:
            row = db.get(TerminalKeys, terminal_id)
            if row is None or row.tpk is None or row.tak is None:
                raise NoSessionKeys(f"terminal {terminal_id} has not signed on")
            return SessionKeys(row.tpk, row.tak, row.tpk_kcv or "", row.tak_kcv or "")

    def tpk_or_none(self, terminal_id: str) -> bytes | None:
        try:
            return self.session(terminal_id).tpk
        except NoSessionKeys:
            return None
