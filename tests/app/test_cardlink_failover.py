"""The card link's failover between two ISO 8583 addresses of one bank, against a real host process and the
simulated PIN pad, with a fault-injecting proxy (simulators/netfaults.py) in front of the first address."""

from __future__ import annotations

import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from app.cardlink import PinPadSecurity
from devices.base import DeviceState
from devices.pin_pad.driver import PinPadDriver
from kiosk.cardlink import CardLink, CardLinkUnavailable
from simulators.netfaults import FaultProxy
from simulators.pin_pad import make_server

WANG_FANG_PAN, WANG_FANG_EXPIRY = "43219876543210987", "3012"


@pytest.fixture
def pad() -> Iterator[PinPadDriver]:
    server = make_server(seed=0).start()
    driver = PinPadDriver(server.url, reply_timeout=2.0)
    driver.start()
    try:
        deadline = time.monotonic() + 20
        while driver.status().state is not DeviceState.ONLINE and time.monotonic() < deadline:
            time.sleep(0.05)
        yield driver
    finally:
        driver.close()
        server.close()


def test_a_first_host_that_accepts_and_never_answers_is_left_for_the_next(
    bank_host: Any, pad: PinPadDriver, tmp_path: Path
) -> None:
    silent = FaultProxy(bank_host.iso8583, name="silent iso")
    silent.black_hole(True)
    link = CardLink(
        [silent.address, "{}:{}".format(*bank_host.iso8583)],
        "KIOSK-0001",
        PinPadSecurity(pad),
        tmp_path / "cardlink",
        timeout_s=1.5,
    )
    try:
        with pytest.raises(CardLinkUnavailable):
            link.sign_on()  # sent to the first address, which takes it and says nothing
        account = bank_host.bank().card_by_pan(WANG_FANG_PAN).account_id
        # The next request goes to the other address first (before the fix: to the silent one again,
        # for ever, as it accepts every connection).
        answer = link.balance(WANG_FANG_PAN, WANG_FANG_EXPIRY, int(account))
        assert answer.approved, answer.code
        assert silent.counts["connections"] == 1
        assert link.balance(WANG_FANG_PAN, WANG_FANG_EXPIRY, int(account)).approved
        assert silent.counts["connections"] == 1
    finally:
        link.close()
        silent.close()


def test_the_sign_on_before_a_pin_entry_moves_on_to_the_next_host(
    bank_host: Any, pad: PinPadDriver, tmp_path: Path
) -> None:
    silent = FaultProxy(bank_host.iso8583, name="silent iso")
    silent.black_hole(True)
    link = CardLink(
        [silent.address, "{}:{}".format(*bank_host.iso8583)],
        "KIOSK-0001",
        PinPadSecurity(pad),
        tmp_path / "cardlink",
        timeout_s=1.5,
    )
    try:
        link.ensure_signed_on()  # the first address is silent: the second one signs the terminal on
        assert link.signed_on
        assert silent.counts["connections"] == 1
    finally:
        link.close()
        silent.close()
