"""The terminal's services, what effect handlers use: the bank host's client, the journal, the face worker.

Built once by the composition root (:meth:`TerminalServices.start`) and handed to every journey runner;
effect handlers call these from the worker pool, never from the GUI thread. Nothing here holds a bank
key, a database connection or a customer record: the host decides and keeps, the terminal captures and
shows.
"""

from __future__ import annotations

import logging
import secrets
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, date, datetime
from pathlib import Path
from typing import TYPE_CHECKING

from hostlink import keycheck
from hostlink.paths import prepare_data_dir, private_dir
from kiosk.hostclient import Credential, HostClient, HostLink
from kiosk.journal import Journal
from kiosk.journal.anchor import JournalAnchor
from kiosk.settings import Settings

if TYPE_CHECKING:
    from devices.pin_pad.interface import PinPad
    from kiosk.biometrics.worker import BiometricsWorker
    from kiosk.cardlink import CardLink

log = logging.getLogger(__name__)

RECEIPTS_DIR = "receipts"


def utcnow() -> datetime:
    return datetime.now(UTC)


@dataclass
class TerminalServices:
    """What journeys' effects may call. ``biometrics`` is started lazily by :meth:`face_worker`."""

    settings: Settings
    host: HostClient
    link: HostLink
    journal: Journal
    clock: Callable[[], datetime] = utcnow
    biometrics: BiometricsWorker | None = None
    _owns_journal: bool = field(default=True, repr=False)
    # Card transactions over ISO 8583, once the PIN pad is known (attach_card_link); None: JSON API.
    cardlink: CardLink | None = None
    # The journal's checkpoints at the host (docs/security.md, "Journal anchoring").
    anchor: JournalAnchor | None = None

    # -- construction ------------------------------------------------------------------------
    @classmethod
    def start(
        cls,
        settings: Settings,
        *,
        journal: Journal | None = None,
        clock: Callable[[], datetime] = utcnow,
        biometrics: BiometricsWorker | None = None,
        probe: bool = True,
    ) -> TerminalServices:
        """Raises :class:`~kiosk.hostclient.CredentialError` when the terminal is not enrolled."""
        prepare_data_dir(settings.data_dir)
        credential = Credential.load(settings.host_credential_path)
        own_journal = journal is None
        journal = journal or Journal(settings.data_dir / "journal", settings.kiosk_id)
        client = HostClient(
            settings.host.urls,
            credential,
            timeout_s=settings.host.timeout_s,
            journal_head=journal.head_text,
        )
        link = HostLink(client, interval_s=settings.host.probe_interval_s)
        services = cls(settings, client, link, journal, clock, biometrics, own_journal)
        services.anchor = JournalAnchor(journal, client.anchor_journal)
        link.subscribe(services._journal_link)
        if probe:
            link.probe()
            link.start()
            services.anchor.start()
        return services

    def _journal_link(self, up: bool) -> None:
        try:
            self.journal.record("host_link_up" if up else "host_link_down", hosts=len(self.host.urls))
        except Exception:
            log.exception("journaling the host link failed")

    # -- helpers the effects share --------------------------------------------------------------
    @property
    def receipts_dir(self) -> Path:
        return private_dir(self.settings.data_dir / RECEIPTS_DIR)

    def today(self) -> date:
        """The bank day, which history ranges and account opening use."""
        return self.now_local().date()

    def now_local(self) -> datetime:
        return self.clock().astimezone(self.settings.bank_timezone)

    @staticmethod
    def new_session_id() -> str:
        return "S" + secrets.token_hex(6).upper()

    def face_worker(self) -> BiometricsWorker:
        """The biometrics worker process, started on first use (the model loads in the background)."""
        if self.biometrics is None:
            from kiosk.biometrics.config import config_from_settings
            from kiosk.biometrics.worker import BiometricsWorker

            self.biometrics = BiometricsWorker(config_from_settings(self.settings.biometrics))
            self.biometrics.start()
        return self.biometrics

    def attach_card_link(self, pin_pad: PinPad | None) -> CardLink | None:
        """The ISO 8583 card link through ``pin_pad`` when the settings name the host's ISO 8583
        listeners; started (queued reversals go out in the background). Once per services."""
        if self.cardlink is not None or pin_pad is None or not self.settings.host.iso8583:
            return self.cardlink
        from app.cardlink import card_link

        self.cardlink = card_link(
            list(self.settings.host.iso8583),
            self.settings.kiosk_id,
            pin_pad,
            self.settings.data_dir,
            timeout_s=self.settings.host.iso8583_timeout_s,
            real_pin_pad=keycheck.is_hardware_address(self.settings.devices.pin_pad),
            local_zone=self.settings.bank_timezone,
        )
        self.cardlink.start()
        return self.cardlink

    def settle_transfer(self, reference: str) -> str:
        """Crash recovery for a transfer intent without an outcome, named by its idempotency key:
        ``not_posted`` (nothing moved) or the transfer's status at the host (``posted``, ``pending``,
        ``reversed`` …). Reversals a crash left queued go first, so the answer is the final one."""
        if self.cardlink is not None:
            try:
                self.cardlink.send_pending_reversals()
            except Exception:
                log.exception("sending queued reversals failed")
        return self.host.transfer_state(reference).status

    def close(self) -> None:
        if self.cardlink is not None:
            self.cardlink.close()
            self.cardlink = None
        if self.anchor is not None:
            self.anchor.close()  # the last checkpoint is queued on disk
            if self.link.up:
                self.anchor.flush()  # and sent now while the host answers (else at the next start)
            self.anchor = None
        self.link.close()
        self.host.close()
        if self.biometrics is not None:
            self.biometrics.close()
            self.biometrics = None
        if self._owns_journal:
            self.journal.close()
