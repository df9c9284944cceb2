"""The services bundle the effect handlers use: bank, account opening, HSM, PIN checks, journal, face.

Built once by the composition root from a :class:`~bank.runtime.Runtime` (``Services.from_runtime``) and
handed to every :class:`~ui.journey_runner.JourneyRunner`; effect handlers call these from the worker pool,
never from the GUI thread. Everything here is Qt-free and device-free; tests build it on a temporary data
dir exactly like the kiosk does.
"""

from __future__ import annotations

import logging
import secrets
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import date, datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any

from sqlalchemy.orm import Session

from bank.ledger import BANK_TIMEZONE, Ledger
from bank.models import utcnow
from bank.opening import AccountOpened, OpeningRefused, OpeningRequest, open_account
from bank.security.hsm import SimulatedHsm
from bank.security.pins import PinService
from bank.service import BankService
from kiosk.journal import Journal
from kiosk.settings import Settings

if TYPE_CHECKING:
    from bank.runtime import Runtime
    from kiosk.biometrics.worker import BiometricsWorker

log = logging.getLogger(__name__)

RECEIPTS_DIR = "receipts"


@dataclass
class Services:
    """What journeys' effects may call. ``biometrics`` is started lazily by :meth:`face_worker`."""

    settings: Settings
    bank: BankService
    hsm: SimulatedHsm
    pins: PinService
    journal: Journal
    engine: Any
    vault: Any
    clock: Callable[[], datetime] = utcnow
    biometrics: BiometricsWorker | None = None
    _owns_journal: bool = field(default=True, repr=False)

    # -- construction ------------------------------------------------------------------------
    @classmethod
    def from_runtime(
        cls,
        runtime: Runtime,
        *,
        journal: Journal | None = None,
        clock: Callable[[], datetime] = utcnow,
        biometrics: BiometricsWorker | None = None,
    ) -> Services:
        settings = runtime.settings
        own_journal = journal is None
        journal = journal or Journal(settings.data_dir / "journal", settings.kiosk_id)
        hsm = SimulatedHsm.from_settings(settings.security, settings.data_dir / "keys")
        bank = BankService(runtime.engine, runtime.vault, kiosk_id=settings.kiosk_id, clock=clock)
        pins = PinService(
            hsm, runtime.sessions, runtime.vault, journal, max_tries=settings.security.pin_tries
        )
        return cls(
            settings=settings,
            bank=bank,
            hsm=hsm,
            pins=pins,
            journal=journal,
            engine=runtime.engine,
            vault=runtime.vault,
            clock=clock,
            biometrics=biometrics,
            _owns_journal=own_journal,
        )

    # -- helpers the effects share --------------------------------------------------------------
    @property
    def receipts_dir(self) -> Path:
        path = self.settings.data_dir / RECEIPTS_DIR
        path.mkdir(parents=True, exist_ok=True)
        return path

    def today(self) -> date:
        """The bank day (Beijing time), which history ranges and account opening use."""
        return self.clock().astimezone(BANK_TIMEZONE).date()

    def now_local(self) -> datetime:
        return self.clock().astimezone(BANK_TIMEZONE)

    @staticmethod
    def new_session_id() -> str:
        return "S" + secrets.token_hex(6).upper()

    @staticmethod
    def new_idempotency_key(session_id: str) -> str:
        """One per confirmed transfer: a retried request never posts twice."""
        return f"{session_id}:{secrets.token_hex(8)}"

    def open_account(self, request: OpeningRequest) -> AccountOpened | OpeningRefused:
        """Account opening (J2's journey) with this kiosk's minimum age and today's bank day."""
        return open_account(
            self.engine,
            self.vault,
            request,
            today=self.today(),
            minimum_age=self.settings.journeys.minimum_age_years,
        )

    def face_worker(self) -> BiometricsWorker:
        """The biometrics worker process, started on first use (the model loads in the background)."""
        if self.biometrics is None:
            from kiosk.biometrics.config import config_from_settings
            from kiosk.biometrics.worker import BiometricsWorker

            self.biometrics = BiometricsWorker(config_from_settings(self.settings.biometrics))
            self.biometrics.start()
        return self.biometrics

    def settle_transfer(self, reference: str) -> str:
        """Crash recovery for a transfer intent without an outcome, named by its idempotency key.

        The ledger writes a transfer atomically, so it either exists or not: ``not_posted`` (nothing
        moved), or the transfer's status (``posted``; ``pending`` other-bank transfers stay with the
        clearing house, which posts or voids them).
        """
        result = Ledger(self.engine, clock=self.clock).replay(reference)
        if result is None:
            return "not_posted"
        status = getattr(result, "status", None)
        return str(status.value) if status is not None else "manual_review"

    def seed_if_empty(self) -> bool:
        """The simulated build's first start: the seed customers and test cards. True when created now."""
        from bank.seed import seed_bank

        with Session(self.engine) as session:
            report = seed_bank(session, self.vault, pvv_for=self.hsm.pvv_for_clear_pin)
        return report.created

    def close(self) -> None:
        if self.biometrics is not None:
            self.biometrics.close()
            self.biometrics = None
        if self._owns_journal:
            self.journal.close()
