"""Host loss: the terminal notices within seconds, journals it, refuses host calls plainly, and comes back
by itself when the host does."""

from __future__ import annotations

import time
from pathlib import Path
from typing import Any

import pytest

from app.hostproc import HostProcess, host_environment
from app.services import TerminalServices
from kiosk.hostclient import HostUnavailable
from kiosk.settings import load_settings

LIU_YANG_PAN = "6212340000004045"


def test_host_loss_is_noticed_within_seconds_journaled_and_recovered(tmp_path: Path, bank_host: Any) -> None:
    bank_host.install_credential(tmp_path / "t")
    settings = load_settings(
        data_dir=str(tmp_path / "t"), host={"urls": [bank_host.url], "probe_interval_s": 0.5}
    )
    services = TerminalServices.start(settings)
    changes: list[tuple[bool, float]] = []
    services.link.subscribe(lambda up: changes.append((up, time.monotonic())))
    try:
        assert services.link.up is True
        stopped = time.monotonic()
        bank_host.process.kill()
        deadline = time.monotonic() + 10
        # The link's state flips first, then its listeners are told (the journal's among them): wait for both.
        while (services.link.up is not False or not changes) and time.monotonic() < deadline:
            time.sleep(0.05)
        assert services.link.up is False
        assert changes and changes[0][0] is False and changes[0][1] - stopped < 5.0
        with pytest.raises(HostUnavailable):
            services.host.card_lookup(LIU_YANG_PAN)
        # The host comes back on its address: the terminal notices by itself.
        port = int(bank_host.url.rsplit(":", 1)[1])
        restarted = HostProcess(host_environment(bank_host.data_dir), seed=False, port=port).start()
        try:
            deadline = time.monotonic() + 15
            while (services.link.up is not True or len(changes) < 2) and time.monotonic() < deadline:
                time.sleep(0.05)
            assert services.link.up is True and changes[-1][0] is True
            assert services.host.card_lookup(LIU_YANG_PAN).found
        finally:
            restarted.stop()
        events = [r.event for r in services.journal.records()]
        assert "host_link_down" in events and events.index("host_link_down") < len(events) - 1
        assert events[-1] == "host_link_up" or "host_link_up" in events[events.index("host_link_down") :]
    finally:
        services.close()
