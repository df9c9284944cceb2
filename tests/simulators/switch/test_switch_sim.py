"""The interbank switch simulator over real loopback TCP: golden bytes of one 0200 → 0210 exchange written
out by hand from the profile, every scripted mode, the MAC check, duplicates, reversals, link faults."""

from __future__ import annotations

import socket
import time
from collections.abc import Iterator
from typing import Any

import pytest

from devices.simcontrol import ControlClient, ControlError
from hostlink.iso8583 import profile as p
from hostlink.iso8583.codec import Message, decode, encode, encode_with_mac, verify_mac
from hostlink.iso8583.framing import frame, recv_message, send_message
from hostlink.tdes import kcv, retail_mac
from simulators.fleet import DEVICE_CLASSES
from simulators.switch import TEST_ZAK, SwitchServer, make_server, parse_mode

ACQUIRER = "99900000001"
WAIT_S = 10.0  # generous: a busy machine may be slow, the switch is not
QUIET_S = 0.3  # how long "no answer" is waited for

# -- golden bytes, written out field by field from docs/iso8583.md ---------------------------------------
# 0200: bits 1 (secondary bitmap) 3 4 7 11 32 48 49 | 100 102 103 128 (MAC in DE128: fields over 64).
GOLDEN_0200 = (
    b"0200"
    b"B220000100018000"  # bits 1,3,4,7 | 11 | - | 32 | - | 48 | 49 | -
    b"0000000016000001"  # bits 100,102,103 (byte 5: 0x10|0x04|0x02) | 128
    b"400000"  # DE3 transfer
    b"000000012345"  # DE4 ¥123.45 in fen
    b"1203085210"  # DE7 MMDDhhmmss UTC
    b"000042"  # DE11
    b"11"
    b"99900000001"  # DE32 LLVAR
    b"020"
    b"payee_name=Zhao Lei;"  # DE48 LLLVAR
    b"156"  # DE49 CNY
    b"03"
    b"105"  # DE100 receiving bank
    b"16"
    b"0001100000010014"  # DE102 from
    b"16"
    b"6227001234567890"  # DE103 payee
)
GOLDEN_0200_MAC = bytes.fromhex("C5AD2FD303345504")  # retail MAC (X9.19) under TEST_ZAK of the above
# 0210: bits 3 4 7 11 32 37 38 39 49 64; the first answer of a switch started with seed 0.
GOLDEN_0210 = (
    b"0210"
    b"322000010E008001"  # bits 3,4,7 | 11 | - | 32 | 37,38,39 | - | 49 | 64
    b"400000"
    b"000000012345"
    b"1203085210"
    b"000042"
    b"11"
    b"99900000001"
    b"SW0000000001"  # DE37 the switch's retrieval reference
    b"000001"  # DE38 authorisation id
    b"00"  # DE39 approved
    b"156"
)
GOLDEN_0210_MAC = bytes.fromhex("B06190C1A0D7B3A2")


@pytest.fixture
def switch() -> Iterator[SwitchServer]:
    server = make_server().start()
    yield server
    server.close()


@pytest.fixture
def ctl(switch: SwitchServer) -> ControlClient:
    return ControlClient(switch.control.address)


class Peer:
    """A host's end of the link: one TCP connection, framed, MACed under TEST_ZAK."""

    def __init__(self, switch: SwitchServer, zak: bytes = TEST_ZAK) -> None:
        self.sock = socket.create_connection(("127.0.0.1", switch.port), timeout=WAIT_S)
        self.zak = zak

    def mac(self, data: bytes) -> bytes:
        return retail_mac(self.zak, data)

    def send(self, message: Message) -> bytes:
        raw = encode_with_mac(message, self.mac)
        send_message(self.sock, raw)
        return raw

    def receive(self, timeout_s: float = WAIT_S) -> Message:
        raw = recv_message(self.sock, timeout_s)
        assert verify_mac(raw, lambda data: retail_mac(TEST_ZAK, data)), "the switch's MAC is wrong"
        return decode(raw)

    def nothing_within(self, timeout_s: float = QUIET_S) -> bool:
        try:
            recv_message(self.sock, timeout_s)
        except TimeoutError:
            return True
        return False

    def close(self) -> None:
        self.sock.close()


@pytest.fixture
def peer(switch: SwitchServer) -> Iterator[Peer]:
    link = Peer(switch)
    yield link
    link.close()


_stans = iter(range(1, 999_999))


def transfer(
    *, stan: str | None = None, sent: str = "1203085210", bank: str = "105", payee: str = "6227001234567890"
) -> Message:
    return {
        "t": p.FINANCIAL_REQUEST,
        p.PROCESSING_CODE: p.TRANSFER,
        p.AMOUNT: p.amount_field(12345),
        p.TRANSMISSION_DATETIME: sent,
        p.STAN: stan or f"{next(_stans):06d}",
        p.ACQUIRER_ID: ACQUIRER,
        p.ADDITIONAL_DATA: p.additional_data({"payee_name": "Zhao Lei"}),
        p.CURRENCY: p.CURRENCY_CNY,
        p.RECEIVING_INSTITUTION_ID: bank,
        p.ACCOUNT_FROM: "0001100000010014",
        p.ACCOUNT_TO: payee,
    }


def reversal_of(original: Message, *, repeat: bool = False, sent: str = "1203085300") -> Message:
    return {
        "t": p.REVERSAL_REPEAT if repeat else p.REVERSAL,
        p.PROCESSING_CODE: p.TRANSFER,
        p.AMOUNT: str(original[p.AMOUNT]),
        p.TRANSMISSION_DATETIME: sent,
        p.STAN: str(original[p.STAN]),
        p.ACQUIRER_ID: ACQUIRER,
        p.ORIGINAL_DATA: p.original_data(
            p.FINANCIAL_REQUEST, str(original[p.STAN]), str(original[p.TRANSMISSION_DATETIME]), ACQUIRER
        ),
    }


def wait_for(what: Any, timeout_s: float = WAIT_S) -> Any:
    deadline = time.monotonic() + timeout_s
    while True:
        value = what()
        if value or time.monotonic() > deadline:
            return value
        time.sleep(0.02)


# -- the golden exchange ---------------------------------------------------------------------------------


def test_golden_0200_and_0210_bytes(switch: SwitchServer, peer: Peer) -> None:
    assert retail_mac(TEST_ZAK, GOLDEN_0200) == GOLDEN_0200_MAC
    assert retail_mac(TEST_ZAK, GOLDEN_0210) == GOLDEN_0210_MAC
    request = transfer(stan="000042")
    assert peer.send(request) == GOLDEN_0200 + GOLDEN_0200_MAC  # the codec writes what we wrote by hand
    header = peer.sock.recv(2)
    assert header == len(GOLDEN_0210 + GOLDEN_0210_MAC).to_bytes(2, "big")
    body = b""
    while len(body) < int.from_bytes(header, "big"):
        body += peer.sock.recv(4096)
    assert body == GOLDEN_0210 + GOLDEN_0210_MAC


def test_test_zak_is_the_documented_key() -> None:
    assert TEST_ZAK.hex().upper() == "1C4F7A0D2A6E9834C7A1E5F1D3B6298F"
    assert kcv(TEST_ZAK) == "B28018"


# -- approve mode: today's deterministic rules -----------------------------------------------------------


@pytest.mark.parametrize(
    ("bank", "payee", "code"),
    [("105", "6227001234567890", "00"), ("102", "6222020000000000", "14"), ("999", "6222020000001234", "91")],
)
def test_approve_mode_keeps_the_clearing_rules(peer: Peer, bank: str, payee: str, code: str) -> None:
    request = transfer(bank=bank, payee=payee)
    peer.send(request)
    answer = peer.receive()
    assert answer["t"] == p.FINANCIAL_RESPONSE and answer[p.RESPONSE_CODE] == code
    for field in (p.STAN, p.TRANSMISSION_DATETIME, p.ACQUIRER_ID, p.AMOUNT):
        assert answer[field] == request[field]  # the match key is echoed unchanged
    assert (p.AUTH_ID in answer) is (code == "00")


def test_decline_mode_answers_its_code(peer: Peer, ctl: ControlClient) -> None:
    assert ctl.call("mode", mode="decline") == {"mode": "decline", "code": "05"}
    peer.send(transfer())
    assert peer.receive()[p.RESPONSE_CODE] == "05"
    ctl.call("decline", code="51")
    peer.send(transfer())
    assert peer.receive()[p.RESPONSE_CODE] == "51"
    state = ctl.call("state")
    assert state["transfers"] == {"approved": 0, "declined": 2, "reversed": 0}


def test_timeout_mode_never_answers_and_does_not_act(peer: Peer, ctl: ControlClient) -> None:
    ctl.call("timeout")
    request = transfer()
    peer.send(request)
    assert peer.nothing_within()
    ctl.call("clear_faults")
    peer.send(reversal_of(request))  # the switch never acted: the reversal changes nothing
    assert peer.receive()[p.RESPONSE_CODE] == "00"
    state = ctl.call("state")
    assert state["counts"]["unanswered"] == 1 and state["counts"]["reversals_of_unknown"] == 1
    assert state["transfers"] == {"approved": 0, "declined": 0, "reversed": 0}


def test_late_mode_decides_at_once_and_answers_later(peer: Peer, ctl: ControlClient) -> None:
    ctl.call("late", seconds=0.5)
    started = time.monotonic()
    peer.send(transfer())
    assert peer.nothing_within(0.2)
    assert peer.receive()[p.RESPONSE_CODE] == "00"
    assert time.monotonic() - started >= 0.5
    assert ctl.call("state")["transfers"]["approved"] == 1


def test_late_answer_holds_back_the_answers_behind_it(peer: Peer, ctl: ControlClient) -> None:
    """Answers go out in the order the requests came (docs/iso8583.md): a reversal sent while the 0200's
    answer is late is acted on at once but answered after it."""
    ctl.call("script", modes=[{"mode": "late", "seconds": 0.5}])
    request = transfer()
    peer.send(request)
    peer.send(reversal_of(request))
    first, second = peer.receive(), peer.receive()
    assert (first["t"], first[p.RESPONSE_CODE]) == ("0210", "00")
    assert (second["t"], second[p.RESPONSE_CODE]) == ("0430", "00")
    assert ctl.call("state")["transfers"] == {"approved": 0, "declined": 0, "reversed": 1}


def test_script_is_consumed_one_mode_per_request(peer: Peer, ctl: ControlClient) -> None:
    ctl.call("script", modes=["decline:51", "timeout", {"mode": "decline", "code": "61"}])
    assert [m["mode"] for m in ctl.call("state")["script"]] == ["decline", "timeout", "decline"]
    peer.send(transfer())
    assert peer.receive()[p.RESPONSE_CODE] == "51"
    peer.send(transfer())
    assert peer.nothing_within()
    peer.send(transfer())
    assert peer.receive()[p.RESPONSE_CODE] == "61"
    peer.send(transfer())  # script used up: the standing mode (approve) again
    assert peer.receive()[p.RESPONSE_CODE] == "00"
    assert ctl.call("state")["script"] == []


def test_modes_do_not_apply_to_echo(peer: Peer, ctl: ControlClient) -> None:
    ctl.call("timeout")
    peer.send({"t": "0800", "7": "1203085210", "11": "000001", "32": ACQUIRER, "70": p.ECHO})
    answer = peer.receive()
    assert (answer["t"], answer[p.RESPONSE_CODE], answer[p.NETWORK_CODE]) == ("0810", "00", "301")


def test_bad_control_arguments_are_refused(ctl: ControlClient) -> None:
    for args in ({"mode": "explode"}, {"mode": "decline", "code": "00"}, {"mode": "late", "seconds": -1}):
        with pytest.raises(ControlError):
            ctl.call("mode", **args)
    with pytest.raises(ValueError):
        parse_mode("approve:1")
    assert parse_mode("late:2.5").seconds == 2.5


# -- the MAC ---------------------------------------------------------------------------------------------


def test_bad_mac_is_answered_a0_and_not_acted_on(switch: SwitchServer, ctl: ControlClient) -> None:
    wrong = Peer(switch, zak=bytes(reversed(TEST_ZAK)))
    try:
        request = transfer()
        wrong.send(request)
        answer = wrong.receive()  # MACed by the switch under the true ZAK
        assert (answer["t"], answer[p.RESPONSE_CODE]) == ("0210", "A0")
        raw = encode_with_mac(request, lambda data: retail_mac(TEST_ZAK, data))
        tampered = raw[:-9] + bytes([raw[-9] ^ 0x01]) + raw[-8:]  # DE103's last digit flipped
        wrong.sock.sendall(frame(tampered))
        assert wrong.receive()[p.RESPONSE_CODE] == "A0"
        wrong.sock.sendall(frame(encode(request)))  # no MAC at all
        assert wrong.receive()[p.RESPONSE_CODE] == "A0"
    finally:
        wrong.close()
    state = ctl.call("state")
    assert state["counts"]["mac_failures"] == 3
    assert state["transfers"] == {"approved": 0, "declined": 0, "reversed": 0}  # nothing acted on


# -- duplicates and reversals ----------------------------------------------------------------------------


def test_a_duplicate_gets_the_first_answer(peer: Peer, ctl: ControlClient) -> None:
    request = transfer()
    peer.send(request)
    first = peer.receive()
    ctl.call("decline", code="05")  # a new decision would differ: the duplicate is not decided again
    peer.send(request)
    again = peer.receive()
    assert again == first and again[p.RESPONSE_CODE] == "00"
    other = dict(request, **{p.TRANSMISSION_DATETIME: "1203085211"})  # DE7 differs: a new request
    peer.send(other)
    assert peer.receive()[p.RESPONSE_CODE] == "05"
    state = ctl.call("state")
    assert state["counts"]["duplicates"] == 1
    assert state["transfers"] == {"approved": 1, "declined": 1, "reversed": 0}


def test_reversal_marks_an_approved_transfer_reversed_once(peer: Peer, ctl: ControlClient) -> None:
    request = transfer()
    peer.send(request)
    assert peer.receive()[p.RESPONSE_CODE] == "00"
    peer.send(reversal_of(request))
    answer = peer.receive()
    assert (answer["t"], answer[p.RESPONSE_CODE]) == ("0430", "00")
    assert answer[p.STAN] == request[p.STAN]
    peer.send(reversal_of(request, repeat=True, sent="1203085301"))
    assert peer.receive()[p.RESPONSE_CODE] == "00"
    state = ctl.call("state")
    assert state["transfers"] == {"approved": 0, "declined": 0, "reversed": 1}
    assert state["counts"]["reversed"] == 1
    assert state["received"]["0420"] == 1 and state["received"]["0421"] == 1


def test_reversal_of_something_never_seen_changes_nothing(peer: Peer, ctl: ControlClient) -> None:
    declined = transfer(payee="6222020000000000")
    peer.send(declined)
    assert peer.receive()[p.RESPONSE_CODE] == "14"
    for original in (declined, transfer()):  # one declined, one never sent
        peer.send(reversal_of(original))
        assert peer.receive()[p.RESPONSE_CODE] == "00"
    state = ctl.call("state")
    assert state["transfers"] == {"approved": 0, "declined": 1, "reversed": 0}
    assert state["counts"]["reversals_of_unknown"] == 1


def test_timed_out_reversals_are_answered_once_the_switch_is_back(peer: Peer, ctl: ControlClient) -> None:
    request = transfer()
    peer.send(request)
    assert peer.receive()[p.RESPONSE_CODE] == "00"
    ctl.call("script", modes=["timeout", "timeout"])
    peer.send(reversal_of(request, sent="1203085300"))
    peer.send(reversal_of(request, repeat=True, sent="1203085302"))
    assert peer.nothing_within()
    peer.send(reversal_of(request, repeat=True, sent="1203085304"))
    assert peer.receive()["t"] == "0430"
    assert ctl.call("state")["transfers"]["reversed"] == 1


# -- state, link faults, the fleet -----------------------------------------------------------------------


def test_state_describes_messages_without_account_numbers(peer: Peer, ctl: ControlClient) -> None:
    request = dict(transfer(), **{p.PAN: "6212340000001234"})
    peer.send(request)
    peer.receive()
    # The simulator records its answer just after sending it: wait for the record, do not race it.
    deadline = time.monotonic() + 10
    state = ctl.call("state")
    while len(state["messages"]) < 2 and time.monotonic() < deadline:
        time.sleep(0.02)
        state = ctl.call("state")
    assert [(m["direction"], m["mti"]) for m in state["messages"]] == [("in", "0200"), ("out", "0210")]
    text = repr(state)
    assert "6212340000001234" not in text and "621234******1234" in text
    assert "0001100000010014" not in text and "6227001234567890" not in text
    assert state["zak_kcv"] == "B28018" and state["received"] == {"0200": 1}


def test_message_log_keeps_the_last_50(peer: Peer, ctl: ControlClient) -> None:
    for _ in range(30):
        peer.send(transfer())
        peer.receive()
    state = ctl.call("state")
    assert len(state["messages"]) == 50 and state["received"]["0200"] == 30


def test_unplug_drops_and_refuses_then_plug(switch: SwitchServer, peer: Peer, ctl: ControlClient) -> None:
    ctl.call("unplug")
    with pytest.raises((ConnectionError, TimeoutError, OSError)):
        peer.send(transfer())
        peer.receive(2.0)
    refused = Peer(switch)
    try:
        with pytest.raises((ConnectionError, OSError)):
            refused.send(transfer())
            refused.receive(2.0)
    finally:
        refused.close()
    ctl.call("plug")
    again = Peer(switch)
    try:
        again.send(transfer())
        assert again.receive()[p.RESPONSE_CODE] == "00"
    finally:
        again.close()


def test_silent_and_garbage(peer: Peer, ctl: ControlClient) -> None:
    ctl.call("silent")
    peer.send(transfer())
    assert peer.nothing_within()
    ctl.call("silent", on=False)
    ctl.call("garbage", count=1)
    peer.send(transfer())
    raw = recv_message(peer.sock, WAIT_S)  # well framed, but not an answer
    assert not raw.startswith(b"0210") or not verify_mac(raw, lambda d: retail_mac(TEST_ZAK, d))
    peer.send(transfer())
    assert peer.receive()[p.RESPONSE_CODE] == "00"
    ctl.call("clear_faults")
    assert ctl.call("state")["silent"] is False


def test_several_hosts_at_once(switch: SwitchServer, ctl: ControlClient) -> None:
    peers = [Peer(switch) for _ in range(3)]
    try:
        for peer in peers:
            peer.send(transfer())
        assert [peer.receive()[p.RESPONSE_CODE] for peer in peers] == ["00", "00", "00"]
        assert wait_for(lambda: ctl.call("state")["connections"] == 3)
    finally:
        for peer in peers:
            peer.close()
    assert wait_for(lambda: ctl.call("state")["connections"] == 0)


def test_the_fleet_serves_the_switch() -> None:
    assert "switch" in DEVICE_CLASSES
    from simulators.fleet import SimulatorFleet

    with SimulatorFleet(only=["switch"]) as fleet:
        address = fleet.addresses["switch"]
        host, _, port = address["address"].rpartition(":")
        with socket.create_connection((host, int(port)), timeout=WAIT_S) as sock:
            send_message(sock, encode_with_mac(transfer(), lambda d: retail_mac(TEST_ZAK, d)))
            assert decode(recv_message(sock, WAIT_S))[p.RESPONSE_CODE] == "00"
        assert ControlClient(address["control"]).call("state")["received"] == {"0200": 1}


def test_the_documented_example_exchange_decodes_and_verifies() -> None:
    """docs/iso8583.md, "Host ↔ interbank switch": the captured 0200 → 0210, framed, MACed under TEST_ZAK."""
    import re
    from pathlib import Path

    doc = (Path(__file__).resolve().parents[3] / "docs" / "iso8583.md").read_text(encoding="utf-8")
    section = doc[doc.index("## Host ↔ interbank switch") :]
    section = section[section.index("### Example exchange") :]
    frames = [
        bytes.fromhex(block.replace("\n", "")) for block in re.findall(r"```text\n(.*?)\n```", section, re.S)
    ]
    request, answer = frames[0], frames[1]
    for raw in (request, answer):
        assert int.from_bytes(raw[:2], "big") == len(raw) - 2
        assert verify_mac(raw[2:], lambda d: retail_mac(TEST_ZAK, d))
    sent, got = decode(request[2:]), decode(answer[2:])
    assert (sent["t"], sent[p.PROCESSING_CODE], sent[p.RECEIVING_INSTITUTION_ID]) == ("0200", "400000", "105")
    assert (got["t"], got[p.RESPONSE_CODE]) == ("0210", "00")
    for field in (p.STAN, p.TRANSMISSION_DATETIME, p.ACQUIRER_ID):
        assert got[field] == sent[field]
