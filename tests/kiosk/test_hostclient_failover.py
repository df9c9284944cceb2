"""The host client's failover over a real host process, with a fault-injecting proxy in front of the first
host: a host that does not answer costs one timeout, then the next host answers and is preferred after."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from kiosk.hostclient import Credential, HostClient
from simulators.netfaults import FaultProxy

LIU_YANG_PAN = "6212340000004045"


def test_a_silent_first_host_is_tried_once_then_the_next_one_serves(tmp_path: Path, bank_host: Any) -> None:
    credential = Credential.load(bank_host.install_credential(tmp_path / "t"))
    host, port = bank_host.url.removeprefix("http://").rsplit(":", 1)
    silent = FaultProxy((host, int(port)), name="silent")
    silent.black_hole(True)
    client = HostClient([silent.url, bank_host.url], credential, timeout_s=1.0)
    try:
        assert client.card_lookup(LIU_YANG_PAN).found
        # One attempt on the silent host (before the fix the client tried it twice: two timeouts).
        assert silent.counts["connections"] == 1, silent.counts
        assert client.card_lookup(LIU_YANG_PAN).found  # straight to the host that answered
        assert silent.counts["connections"] == 1
    finally:
        client.close()
        silent.close()
