"""PIN pad driver against the real EPP simulator over loopback; the bank side decrypts the blocks."""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable, Iterator
from typing import Any

import pytest

from devices.base import Completion, DeviceEvent, DeviceState
from devices.pin_pad.driver import PinPadDriver
from devices.pin_pad.protocol import KeyStatus
from devices.simcontrol import ControlClient
from hostlink.keyblock import wrap
from hostlink.pinblock import PinBlockError, decrypt_pin_block
from hostlink.tdes import kcv, random_tdes_key, retail_mac
from simulators.base import DeviceServer
from simulators.pin_pad import TEST_AES_PIN_KEY, TEST_TDES_PIN_KEY, TEST_TMK, make_server

PAN = "43219876543210987"


def wait_until(predicate: Callable[[], bool], timeout: float = 5.0) -> bool:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if predicate():
            return True
        time.sleep(0.02)
    return predicate()


class Rig:
    def __init__(self, server: DeviceServer, driver: PinPadDriver) -> None:
        self.server, self.driver = server, driver
        self.ctl = ControlClient(server.control.address)
        self.events: list[DeviceEvent] = []
        self._lock = threading.Lock()
        driver.subscribe(self._on_event)

    def _on_event(self, event: DeviceEvent) -> None:
        with self._lock:
            self.events.append(event)

    def pressed(self) -> list[str]:
        with self._lock:
            return [str(e.data["key"]) for e in self.events if e.kind == "key_pressed"]

    def kinds(self) -> list[str]:
        with self._lock:
            return [e.kind for e in self.events]

    def sim(self) -> dict[str, Any]:
        state: dict[str, Any] = self.ctl.call("state")
        return state

    def type_when_entry_starts(self, keys: str | list[str], mode: str = "pin") -> None:
        assert wait_until(lambda: self.sim()["mode"] == mode)
        self.ctl.call("press_keys", keys=keys)


@pytest.fixture
def rig(request: pytest.FixtureRequest) -> Iterator[Rig]:
    idle_poll_interval = float(getattr(request, "param", 0.1))
    server = make_server(seed=5).start()
    driver = PinPadDriver(server.url, ack_timeout=0.3, idle_poll_interval=idle_poll_interval)
    driver.reconnect_interval = 0.1
    driver.start()
    try:
        assert wait_until(lambda: driver.status().state is DeviceState.ONLINE)
        yield Rig(server, driver)
    finally:
        driver.close()
        server.close()


def test_identity_and_status(rig: Rig) -> None:
    info = rig.driver.info()
    assert info.firmware == "SIM-EPP 1.0" and info.capabilities["pin_formats"] == [0, 4]
    detail = rig.driver.status().detail
    assert detail["tamper"] is False and detail["entry_active"] is False
    assert detail["keys"] == {"tdes": True, "aes": True}


def test_format0_pin_block_verifies_at_the_bank_and_only_stars_are_reported(
    rig: Rig, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.DEBUG)
    op = rig.driver.get_pin(4, 6, 10, PAN)
    rig.type_when_entry_starts("12345B")  # typo corrected with backspace
    assert wait_until(lambda: rig.driver.status().detail["entry_active"] is True)
    rig.ctl.call("press_keys", keys="E")
    result = op.result(5)
    assert result.ok and result.value is not None and len(result.value) == 8
    assert decrypt_pin_block(result.value, TEST_TDES_PIN_KEY, PAN, 0) == "1234"
    assert rig.pressed() == ["*"] * 5 + ["BACKSPACE", "ENTER"]
    assert not any(k.isdigit() for k in rig.pressed())
    block_hex = result.value.hex()
    for record in caplog.records:  # neither the PIN nor its block reaches any log
        message = record.getMessage()
        assert "1234" not in message and block_hex not in message.lower()
    assert rig.sim()["pin_length"] == 0  # the pad forgot the PIN after issuing the block


def test_format4_pin_block_under_aes(rig: Rig) -> None:
    op = rig.driver.get_pin(4, 12, 10, PAN, pin_format=4)
    rig.type_when_entry_starts(["9", "8", "7", "6", "5", "4", "ENTER"])
    result = op.result(5)
    assert result.ok and result.value is not None and len(result.value) == 16
    assert decrypt_pin_block(result.value, TEST_AES_PIN_KEY, PAN, 4) == "987654"


def test_clear_key_and_short_pin_then_enter(rig: Rig) -> None:
    op = rig.driver.get_pin(4, 6, 10, PAN)
    rig.type_when_entry_starts("99C123E")  # CLEAR wipes 99; ENTER on 3 digits is ignored by the pad
    assert wait_until(lambda: rig.pressed().count("*") == 5)
    assert not op.done()
    rig.ctl.call("press_keys", keys="4E")
    result = op.result(5)
    assert result.ok and result.value is not None
    assert decrypt_pin_block(result.value, TEST_TDES_PIN_KEY, PAN) == "1234"


def test_max_length_is_enforced_by_the_pad(rig: Rig) -> None:
    op = rig.driver.get_pin(4, 4, 10, PAN)
    rig.type_when_entry_starts("123456E")
    result = op.result(5)
    assert result.ok and result.value is not None
    assert decrypt_pin_block(result.value, TEST_TDES_PIN_KEY, PAN) == "1234"


def test_customer_cancel_timeout_and_caller_cancel(rig: Rig) -> None:
    op = rig.driver.get_pin(4, 6, 10, PAN)
    rig.type_when_entry_starts("12X")
    result = op.result(5)
    assert result.code is Completion.CANCELLED and "customer" in result.detail

    assert rig.driver.get_pin(4, 6, 0.3, PAN).result(5).code is Completion.TIMEOUT
    assert wait_until(lambda: rig.sim()["mode"] == "idle")

    op = rig.driver.get_pin(4, 6, 30, PAN)
    assert wait_until(lambda: rig.sim()["mode"] == "pin")
    started = time.monotonic()
    op.cancel()
    assert op.result(5).code is Completion.CANCELLED
    assert time.monotonic() - started < 1.0
    assert wait_until(lambda: rig.sim()["mode"] == "idle")


def test_function_keys_during_entry_and_while_idle(rig: Rig) -> None:
    rig.ctl.call("press_keys", keys=["F1", "5", "CANCEL"])  # idle: digits are not reported
    assert wait_until(lambda: rig.pressed() == ["F1", "CANCEL"])
    op = rig.driver.get_pin(4, 6, 10, PAN)
    rig.type_when_entry_starts(["F8", "1", "2", "3", "4", "ENTER"])
    assert op.result(5).ok
    assert rig.pressed()[2:] == ["F8", "*", "*", "*", "*", "ENTER"]


def test_amount_entry_in_clear_text(rig: Rig) -> None:
    op = rig.driver.get_amount(max_digits=7)
    rig.type_when_entry_starts("1259B.50E", mode="clear")
    result = op.result(5)
    assert result.ok and result.value == 12550
    assert rig.pressed()[:3] == ["1", "2", "5"]
    op = rig.driver.get_amount()
    rig.type_when_entry_starts("1.2.3E", mode="clear")
    assert op.result(5).code is Completion.USER_ERROR


def test_tamper_erases_keys_and_refuses_entry_until_reinitialised(rig: Rig) -> None:
    rig.ctl.call("tamper")
    assert wait_until(lambda: rig.driver.status().state is DeviceState.FRAUD_ATTEMPT)
    assert "tamper" in rig.kinds()
    assert wait_until(lambda: rig.driver.status().detail["keys"] == {"tdes": False, "aes": False})
    refused = rig.driver.get_pin(4, 6, 5, PAN).result(5)
    assert refused.code is Completion.HARDWARE_ERROR and "tamper" in refused.detail
    assert rig.driver.reset().result(5).ok
    assert rig.driver.status().state is DeviceState.ONLINE
    no_key = rig.driver.get_pin(4, 6, 5, PAN).result(5)
    assert no_key.code is Completion.HARDWARE_ERROR and "key" in no_key.detail
    rig.ctl.call("load_keys")
    op = rig.driver.get_pin(4, 6, 5, PAN)
    rig.type_when_entry_starts("4321E")
    result = op.result(5)
    assert result.ok and result.value is not None
    assert decrypt_pin_block(result.value, TEST_TDES_PIN_KEY, PAN) == "4321"


def test_tamper_during_entry_aborts_it(rig: Rig) -> None:
    op = rig.driver.get_pin(4, 6, 10, PAN)
    rig.type_when_entry_starts("12")
    rig.ctl.call("tamper")
    result = op.result(5)
    assert result.code is Completion.HARDWARE_ERROR
    assert rig.driver.status().state is DeviceState.FRAUD_ATTEMPT


def test_bad_parameters_never_reach_the_pad(rig: Rig) -> None:
    before = rig.sim()["commands"].count("E20")
    assert rig.driver.get_pin(2, 6, 10, PAN).result(5).code is Completion.INVALID_DATA
    assert rig.driver.get_pin(4, 6, 10, "12ab").result(5).code is Completion.INVALID_DATA
    assert rig.driver.get_pin(4, 6, 10, PAN, pin_format=1).result(5).code is Completion.INVALID_DATA
    assert rig.sim()["commands"].count("E20") == before


@pytest.mark.parametrize("rig", [60.0], indirect=True)  # no idle polls: every frame is the test's
def test_nak_resend_limit_and_garbage_recovery(rig: Rig) -> None:
    before = rig.sim()["frames_received"]
    rig.ctl.call("nak", count=3)
    assert rig.driver.reset().result(5).ok
    assert rig.sim()["frames_received"] - before == 4 + 1  # E00 four times, then the E10 refresh
    before = rig.sim()["frames_received"]
    rig.ctl.call("nak", count=4)
    failed = rig.driver.reset().result(5)
    assert failed.code is Completion.HARDWARE_ERROR and "NAK" in failed.detail
    assert rig.sim()["frames_received"] - before == 4
    rig.ctl.call("garbage", count=1)
    assert rig.driver.reset().result(5).ok  # garbled reply: resent once, recovered


def test_link_drop_and_silence(rig: Rig) -> None:
    rig.ctl.call("unplug")
    assert wait_until(lambda: rig.driver.status().state is DeviceState.OFFLINE)
    assert rig.driver.get_pin(4, 6, 5, PAN).result(5).code is Completion.OFFLINE
    rig.ctl.call("plug")
    assert wait_until(lambda: rig.driver.status().state is DeviceState.ONLINE, timeout=8)
    rig.ctl.call("silent", on=True)
    assert wait_until(lambda: rig.driver.status().state is DeviceState.OFFLINE)
    rig.ctl.call("silent", on=False)
    assert wait_until(lambda: rig.driver.status().state is DeviceState.ONLINE, timeout=8)


# -- key hierarchy ---------------------------------------------------------------------------------

TPK = bytes.fromhex("F1E0D3C2B5A497860E1F2C3D4A5B6879")  # KCV 61D0F7
TAK = bytes.fromhex("1032547698BADCFE8967452301EFCDAB")  # KCV 21C2FD
MAC_DATA = bytes(range(256)) * 5 + b"\xf2\x06\x15\x03" * 55  # 1500 bytes, every byte value


def sign_on(rig: Rig) -> None:
    assert rig.driver.load_working_key("pin", wrap(TEST_TMK, TPK, "P0")).result(5).value == "61D0F7"
    assert rig.driver.load_working_key("mac", wrap(TEST_TMK, TAK, "M3")).result(5).value == "21C2FD"


def test_sign_on_keys_mac_and_key_status(rig: Rig, caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level(logging.DEBUG)
    before = rig.driver.key_status().result(5)
    assert before.ok and before.value == KeyStatus(kcv(TEST_TMK), None, None)
    sign_on(rig)
    status = rig.driver.key_status().result(5)
    assert status.ok and status.value == KeyStatus("0385D4", "61D0F7", "21C2FD")
    for size in (0, 1, 511, 512, 513, 1500):
        result = rig.driver.generate_mac(MAC_DATA[:size]).result(5)
        assert result.ok and result.value == retail_mac(TAK, MAC_DATA[:size]), size
    assert rig.sim()["macs_issued"] == 6
    assert rig.sim()["commands"].count("E80") == 1 + 2  # 513 bytes take 2 chunks, 1500 bytes 3
    op = rig.driver.get_pin(4, 6, 10, PAN)
    rig.type_when_entry_starts("9135E")
    block = op.result(5)
    assert block.ok and block.value is not None
    assert decrypt_pin_block(block.value, TPK, PAN) == "9135"
    try:
        old = decrypt_pin_block(block.value, TEST_TDES_PIN_KEY, PAN)
    except PinBlockError:
        old = None
    assert old != "9135"
    for record in caplog.records:  # no key, key block or PIN block in any log line
        message = record.getMessage().upper()
        for secret in (TPK.hex(), TAK.hex(), TEST_TMK.hex(), block.value.hex()):
            assert secret.upper() not in message


def test_refused_key_blocks_and_missing_keys(rig: Rig) -> None:
    no_mac_key = rig.driver.generate_mac(b"0200").result(5)
    assert no_mac_key.code is Completion.HARDWARE_ERROR and "MAC key" in no_mac_key.detail
    refused = rig.driver.load_working_key("pin", wrap(random_tdes_key(), TPK, "P0")).result(5)
    assert refused.code is Completion.INVALID_DATA and "key block refused" in refused.detail
    wrong_usage = rig.driver.load_working_key("mac", wrap(TEST_TMK, TPK, "P0")).result(5)
    assert wrong_usage.code is Completion.INVALID_DATA
    before = rig.sim()["commands"].count("E7P")
    assert (
        rig.driver.load_working_key("tmk", wrap(TEST_TMK, TPK, "K0")).result(5).code
        is Completion.INVALID_DATA
    )
    assert rig.driver.load_working_key("pin", "B0016P0TE00N0000é").result(5).code is Completion.INVALID_DATA
    assert rig.sim()["commands"].count("E7P") == before  # neither reached the pad
    assert rig.driver.key_status().result(5).value == KeyStatus("0385D4", None, None)


def test_tamper_erases_the_key_hierarchy(rig: Rig) -> None:
    sign_on(rig)
    rig.ctl.call("tamper")
    status = rig.driver.key_status().result(5)
    assert status.ok and status.value == KeyStatus(None, None, None)
    assert rig.driver.status().state is DeviceState.FRAUD_ATTEMPT
    assert rig.driver.reset().result(5).ok
    no_tmk = rig.driver.load_working_key("pin", wrap(TEST_TMK, TPK, "P0")).result(5)
    assert no_tmk.code is Completion.HARDWARE_ERROR and "master key" in no_tmk.detail
    rig.ctl.call("load_keys", tmk=TEST_TMK.hex())  # re-enrolment
    sign_on(rig)


@pytest.mark.parametrize("rig", [60.0], indirect=True)  # no idle polls: every frame is the test's
@pytest.mark.parametrize("fault", ["garbage", "nak"])
def test_mac_is_right_after_a_resent_chunk(rig: Rig, fault: str) -> None:
    sign_on(rig)
    rig.ctl.call(fault, count=1)  # the first chunk's reply is lost (or it is refused): E80 goes twice
    result = rig.driver.generate_mac(MAC_DATA).result(5)
    assert result.ok and result.value == retail_mac(TAK, MAC_DATA)
    commands = rig.sim()["commands"]
    start = len(commands) - commands[::-1].index("E90") - 1  # the driver abandoned the doubtful MAC
    assert commands[start:] == ["E90", "E80", "E80", "E81"]
    assert rig.sim()["mac_in_progress"] is False
