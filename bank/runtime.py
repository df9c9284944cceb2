"""Start-up of the bank host: its data dir, logging, key vault, database (migrated on first start)."""

from __future__ import annotations

import logging
from dataclasses import dataclass
from pathlib import Path

from sqlalchemy import Engine
from sqlalchemy.orm import Session, sessionmaker

from bank.db.engine import check_connection, make_engine, session_factory
from bank.db.migrate import is_up_to_date, upgrade
from bank.security.custody import open_host_vault
from bank.security.vault import Vault, install_vault
from bank.settings import HostSettings
from hostlink.logs import setup_logging
from hostlink.paths import prepare_data_dir

log = logging.getLogger(__name__)


@dataclass
class Runtime:
    settings: HostSettings
    engine: Engine
    sessions: sessionmaker[Session]
    vault: Vault
    log_file: Path

    @property
    def data_dir(self) -> Path:
        return self.settings.data_dir

    def close(self) -> None:
        self.engine.dispose()


def start_runtime(settings: HostSettings, *, migrate: bool = True, console_log: bool = False) -> Runtime:
    """Raises DatabaseUnavailable (one-line message) when the database cannot be reached."""
    prepare_data_dir(settings.data_dir)
    log_file = setup_logging(settings.data_dir, settings.log_level, console=console_log)
    vault = open_host_vault(settings)
    install_vault(vault)
    engine = make_engine(settings.effective_database_url)
    check_connection(engine)
    if migrate and not is_up_to_date(engine):
        log.info("migrating database to the newest schema")
        upgrade(engine)
    log.info("host runtime started (host %s, data dir %s)", settings.host_id, settings.data_dir)
    return Runtime(settings, engine, session_factory(engine), vault, log_file)
