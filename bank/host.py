"""The bank host's composition: its runtime (database, vault), HSM, audit trail and bank services.

One :class:`Host` per host process. It holds no state of its own beyond caches: terminals, nonces,
idempotent replies and every customer record are in the database, so several host processes can serve
one PostgreSQL database. Services that stamp records with the terminal that asked are made per request
(``bank_for(terminal_id)`` …); they share the process's one ledger.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from datetime import date, datetime

from sqlalchemy.orm import Session

from bank.advice.store import AdviceStore
from bank.alerts.service import StaffAlerts
from bank.audit import HostAudit
from bank.billing.service import BillingService
from bank.iso8583.keys import TerminalKeyStore
from bank.ledger import Ledger
from bank.loans.service import LoanService
from bank.models import utcnow
from bank.runtime import Runtime, start_runtime
from bank.security.hsm import hsm_for_host
from bank.security.pins import PinService
from bank.security.techs import TechnicianService, UnknownNameLockouts
from bank.service import BankService
from bank.settings import HostSettings
from bank.terminals.service import TerminalRegistry

log = logging.getLogger(__name__)


class Host:
    def __init__(self, runtime: Runtime, *, clock: Callable[[], datetime] = utcnow) -> None:
        settings = runtime.settings
        self.settings = settings
        self.runtime = runtime
        self.engine = runtime.engine
        self.vault = runtime.vault
        self.clock = clock
        self.audit = HostAudit(self.engine, settings.host_id, clock=clock)
        self.registry = TerminalRegistry(
            self.engine, self.audit, clock_skew_s=settings.api.clock_skew_s, clock=clock
        )
        self.hsm = hsm_for_host(settings)
        self.terminal_keys = TerminalKeyStore(runtime.sessions)
        self.ledger = Ledger(self.engine, clock=clock)
        # Failed logins of names without an account, counted like an account's (no name enumeration).
        self._unknown_tech_names = UnknownNameLockouts()

    @classmethod
    def start(cls, settings: HostSettings, *, console_log: bool = False) -> Host:
        return cls(start_runtime(settings, console_log=console_log))

    # -- per-request services -------------------------------------------------------------------------
    def bank_for(self, terminal_id: str) -> BankService:
        return BankService(
            self.engine, self.vault, kiosk_id=terminal_id, clock=self.clock, ledger=self.ledger
        )

    def pins_for(self, terminal_id: str) -> PinService:
        """PIN checks for a terminal: format 0 blocks under its session TPK once it has signed on (ISO
        8583 key exchange), under the static test key before (a terminal that never signs on)."""
        tpk = self.terminal_keys.tpk_or_none(terminal_id)
        return PinService(
            self.hsm if tpk is None else self.hsm.with_tdes_pin_key(tpk),
            self.runtime.sessions,
            self.vault,
            self.audit.for_terminal(terminal_id),
            max_tries=self.settings.security.pin_tries,
        )

    def billing_for(self, terminal_id: str) -> BillingService:
        return BillingService(
            self.engine,
            self.vault,
            ledger=self.ledger,
            clock=self.clock,
            kiosk_id=terminal_id,
            journal=self.audit.for_terminal(terminal_id),
        )

    def loans_for(self, terminal_id: str | None) -> LoanService:
        return LoanService(
            self.engine, self.vault, journal=self.audit.for_terminal(terminal_id), clock=self.clock
        )

    def advice_for(self, terminal_id: str) -> AdviceStore:
        return AdviceStore(
            self.engine, self.audit.for_terminal(terminal_id), kiosk_id=terminal_id, clock=self.clock
        )

    def alerts_for(self, terminal_id: str) -> StaffAlerts:
        return StaffAlerts(self.engine, self.audit.for_terminal(terminal_id), terminal_id, clock=self.clock)

    def journal_key(self, terminal_id: str) -> bytes:
        """The terminal's journal-seal key: derived from the vault's keyed-hash key, never sent anywhere."""
        from bank.terminals.service import JOURNAL_SEAL_DOMAIN

        return bytes.fromhex(self.vault.lookup_hash(terminal_id, JOURNAL_SEAL_DOMAIN))

    def technicians(self, terminal_id: str | None = None) -> TechnicianService:
        return TechnicianService(
            self.runtime.sessions,
            self.settings.security,
            journal=self.audit.for_terminal(terminal_id),
            unknown_names=self._unknown_tech_names,
        )

    # -- the bank day --
    def today(self) -> date:
        return self.settings.bank_date(self.clock())

    def bank_date(self, when: datetime) -> date:
        return self.settings.bank_date(when)

    def seed_if_empty(self) -> bool:
        """The simulated build's seed customers and test cards; True when created now."""
        from bank.seed import default_faces_dir, seed_bank

        with Session(self.engine) as session:
            report = seed_bank(
                session, self.vault, pvv_for=self.hsm.pvv_for_clear_pin, faces_dir=default_faces_dir()
            )
        return report.created

    def close(self) -> None:
        self.ledger.close()
        self.runtime.close()
