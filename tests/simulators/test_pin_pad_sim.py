"""The EPP simulator on its own: keypad behaviour, the clear PIN never shows, control API errors, and the
key hierarchy (TMK → TPK/TAK as TR-31 blocks, MACs over chunks, tamper erasing every key)."""

from __future__ import annotations

import os

import pytest
from cryptography.hazmat.decrepit.ciphers.algorithms import TripleDES
from cryptography.hazmat.primitives.ciphers import Cipher, modes

from devices.pin_pad import protocol as p
from devices.sankyo_frame import ACK, FrameDecoder, encode_frame
from hostlink.keyblock import wrap
from hostlink.pinblock import PinBlockError, decrypt_pin_block
from hostlink.tdes import has_odd_parity, random_tdes_key, retail_mac
from simulators.pin_pad import TEST_TDES_PIN_KEY, TEST_TMK, PinPadSimulator, parse_keys

PAN = "43219876543210987"


def send(sim: PinPadSimulator, text: bytes) -> bytes:
    out = sim.on_bytes(encode_frame(text))
    assert out[0] == ACK
    frames = FrameDecoder().feed(out[1:])
    assert len(frames) == 1 and isinstance(frames[0], bytes)
    return frames[0]


def test_pin_entry_over_the_wire() -> None:
    sim = PinPadSimulator(seed=1)
    assert send(sim, b"E200406030") == b"P2001"
    sim.ctl_press_keys("1234E")
    assert send(sim, b"E30") == b"P3003****E"
    snapshot = sim.snapshot()
    assert snapshot["pin_length"] == 4 and "1234" not in repr(snapshot)
    reply = send(sim, b"E40" + PAN.encode())
    assert reply[:5] == b"P4000"
    assert decrypt_pin_block(bytes.fromhex(reply[5:].decode()), TEST_TDES_PIN_KEY, PAN) == "1234"
    assert send(sim, b"E40" + PAN.encode()) == b"N4020"  # one block per entry


def test_refusals() -> None:
    sim = PinPadSimulator(seed=1)
    assert send(sim, b"E2099") == b"N2001"
    assert send(sim, b"E40" + PAN.encode()) == b"N4020"
    assert send(sim, b"E99") == b"N9900"
    sim.ctl_tamper()
    assert send(sim, b"E200406030") == b"N2030"
    assert send(sim, b"E10") == b"P101000SIM-EPP 1.0"  # tamper 1, idle 0, no TDES, no AES key
    assert send(sim, b"E00") == b"P0000SIM-EPP 1.0"
    assert send(sim, b"E200406030") == b"N2031"  # keys stay erased after re-initialising


def test_key_parsing() -> None:
    assert parse_keys("12E") == ["1", "2", "ENTER"]
    assert parse_keys(["f2", "Cancel", "."]) == ["F2", "CANCEL", "."]
    with pytest.raises(ValueError):
        parse_keys("12Q")
    with pytest.raises(ValueError):
        parse_keys(["F9"])
    assert set(p.CODE_FOR_KEY) >= {"F1", "F8", "ENTER", "CANCEL", "CLEAR", "BACKSPACE"}


# -- key hierarchy ---------------------------------------------------------------------------------

TPK = bytes.fromhex("F1E0D3C2B5A497860E1F2C3D4A5B6879")
TAK = bytes.fromhex("1032547698BADCFE8967452301EFCDAB")


def independent_kcv(key: bytes) -> str:
    """TDES-ECB of a zero block straight from the cipher library, not via hostlink.tdes."""
    encryptor = Cipher(TripleDES(key + key[:8]), modes.ECB()).encryptor()
    return (encryptor.update(bytes(8)) + encryptor.finalize())[:3].hex().upper()


def load(sim: PinPadSimulator, pm: str, block: str) -> bytes:
    return send(sim, b"E7" + pm.encode() + block.encode())


def mac_over_the_wire(sim: PinPadSimulator, data: bytes) -> bytes:
    reply = b""
    for cmd_pm, chunk in p.mac_chunks(data):
        reply = send(sim, p.command(cmd_pm, chunk))
        assert reply[:5] == f"P{cmd_pm[0]}{cmd_pm[1]}00".encode(), reply
    return bytes.fromhex(reply[5:].decode())


def test_test_tmk_is_a_double_length_key_with_odd_parity() -> None:
    assert len(TEST_TMK) == 16 and has_odd_parity(TEST_TMK) and TEST_TMK[:8] != TEST_TMK[8:]
    assert independent_kcv(TEST_TMK) == "0385D4"


def test_working_keys_load_under_the_tmk_and_answer_their_kcv() -> None:
    sim = PinPadSimulator(seed=1)
    assert send(sim, b"E90") == b"P9000" + b"0385D4------------"
    assert load(sim, "P", wrap(TEST_TMK, TPK, "P0")) == b"P7P00" + independent_kcv(TPK).encode()
    assert load(sim, "M", wrap(TEST_TMK, TAK, "M3")) == b"P7M00" + independent_kcv(TAK).encode()
    expected = f"0385D4{independent_kcv(TPK)}{independent_kcv(TAK)}"
    assert send(sim, b"E90") == b"P9000" + expected.encode()
    snapshot = sim.snapshot()
    assert snapshot["kcv"] == {"tmk": "0385D4", "tpk": independent_kcv(TPK), "tak": independent_kcv(TAK)}
    for key in (TEST_TMK, TPK, TAK):  # check values only, never a key
        assert key.hex() not in repr(snapshot).lower()
    new_tpk = random_tdes_key()
    assert (
        load(sim, "P", wrap(TEST_TMK, new_tpk, "P0", mode="B"))
        == b"P7P00" + independent_kcv(new_tpk).encode()
    )
    assert sim.key_status().tpk == independent_kcv(new_tpk)  # a new TPK replaces the old one


@pytest.mark.parametrize("size", [0, 1, 511, 512, 513, 1500])
def test_mac_over_chunks_equals_the_retail_mac(size: int) -> None:
    sim = PinPadSimulator(seed=1)
    assert load(sim, "M", wrap(TEST_TMK, TAK, "M3"))[:5] == b"P7M00"
    data = bytes([0xF2, 0x06, 0x15, 0x00, 0xFF, 0x03]) * (size // 6) + os.urandom(size % 6)
    assert mac_over_the_wire(sim, data) == retail_mac(TAK, data)
    assert mac_over_the_wire(sim, data) == retail_mac(TAK, data)  # E81 reset the pad for the next MAC
    assert sim.snapshot()["mac_in_progress"] is False


def test_another_command_between_chunks_abandons_the_mac() -> None:
    sim = PinPadSimulator(seed=1)
    load(sim, "M", wrap(TEST_TMK, TAK, "M3"))
    assert send(sim, b"E80" + b"A" * 512) == b"P8000"
    assert sim.snapshot()["mac_in_progress"] is True
    assert send(sim, b"E30") == b"P3000"
    assert send(sim, b"E81" + b"tail") == b"P8100" + retail_mac(TAK, b"tail").hex().upper().encode()


def test_mac_refusals() -> None:
    sim = PinPadSimulator(seed=1)
    assert send(sim, b"E80" + b"x") == b"N8035"
    assert send(sim, b"E81") == b"N8135"
    load(sim, "M", wrap(TEST_TMK, TAK, "M3"))
    assert send(sim, b"E80" + b"x" * 513) == b"N8001"  # chunks are 512 bytes at most
    assert send(sim, b"E82") == b"N8200"
    assert send(sim, b"E7X" + wrap(TEST_TMK, TAK, "M3").encode()) == b"N7X00"


def test_key_blocks_the_pad_refuses() -> None:
    sim = PinPadSimulator(seed=1)
    block = wrap(TEST_TMK, TPK, "P0")
    assert load(sim, "P", wrap(random_tdes_key(), TPK, "P0")) == b"N7P32"  # another TMK
    for pos in (3, 10, 20, 40, len(block) - 1):  # one character changed, header, key data or MAC
        altered = block[:pos] + ("1" if block[pos] != "1" else "2") + block[pos + 1 :]
        assert load(sim, "P", altered) == b"N7P32"
    assert load(sim, "M", block) == b"N7M32"  # a PIN key is not a MAC key
    assert load(sim, "P", wrap(TEST_TMK, TAK, "M3")) == b"N7P32"
    assert load(sim, "P", wrap(TEST_TMK, TPK, "P0", mode="D")) == b"N7P32"  # decrypt-only: not for a pad
    assert load(sim, "M", wrap(TEST_TMK, TAK, "M3", mode="V")) == b"N7M32"  # verify-only
    assert load(sim, "M", wrap(TEST_TMK, random_tdes_key(24), "M3")) == b"N7M32"  # X9.19 takes K1 K2
    assert load(sim, "P", wrap(TEST_TMK, TPK, "K0")) == b"N7P32"
    assert load(sim, "P", "not a key block") == b"N7P32"
    assert send(sim, b"E7P\xff\xfe") == b"N7P32"
    assert sim.key_status() == p.KeyStatus("0385D4", None, None)  # nothing was loaded
    assert load(sim, "P", block)[:5] == b"P7P00"
    no_tmk = PinPadSimulator(seed=1, tmk=None)
    assert load(no_tmk, "P", block) == b"N7P34"
    assert send(no_tmk, b"E90") == b"P9000" + b"-" * 18


def enter_pin(sim: PinPadSimulator, pin: str) -> bytes:
    assert send(sim, b"E200406030") == b"P2001"
    sim.ctl_press_keys(pin + "E")
    send(sim, b"E30")
    reply = send(sim, b"E40" + PAN.encode())
    assert reply[:5] == b"P4000", reply
    return bytes.fromhex(reply[5:].decode())


def deciphers(block: bytes, key: bytes) -> str | None:
    try:
        return decrypt_pin_block(block, key, PAN)
    except PinBlockError:
        return None


def test_format0_blocks_go_under_the_tpk_once_loaded() -> None:
    sim = PinPadSimulator(seed=1)
    assert decrypt_pin_block(enter_pin(sim, "2468"), TEST_TDES_PIN_KEY, PAN) == "2468"  # initial key
    load(sim, "P", wrap(TEST_TMK, TPK, "P0"))
    block = enter_pin(sim, "1357")
    assert decrypt_pin_block(block, TPK, PAN) == "1357"
    assert deciphers(block, TEST_TDES_PIN_KEY) != "1357"  # the old key no longer deciphers it
    assert send(sim, b"E10") == b"P100011SIM-EPP 1.0"


def test_tamper_erases_tmk_tpk_and_tak() -> None:
    sim = PinPadSimulator(seed=1)
    load(sim, "P", wrap(TEST_TMK, TPK, "P0"))
    load(sim, "M", wrap(TEST_TMK, TAK, "M3"))
    send(sim, b"E80" + b"half")
    snapshot = sim.ctl_tamper()
    assert snapshot["kcv"] == {"tmk": None, "tpk": None, "tak": None}
    assert snapshot["mac_in_progress"] is False
    assert send(sim, b"E90") == b"P9010" + b"------" * 3  # tamper flag set, every slot empty
    assert load(sim, "P", wrap(TEST_TMK, TPK, "P0")) == b"N7P30"
    assert send(sim, b"E81" + b"x") == b"N8130"
    assert send(sim, b"E00") == b"P0000SIM-EPP 1.0"
    assert load(sim, "P", wrap(TEST_TMK, TPK, "P0")) == b"N7P34"  # the TMK stays erased
    assert send(sim, b"E81" + b"x") == b"N8135"
    assert send(sim, b"E200406030") == b"N2031"  # and the TPK with it: no PIN key at all


def test_load_keys_installs_a_new_tmk_and_drops_the_working_keys() -> None:
    sim = PinPadSimulator(seed=1)
    load(sim, "P", wrap(TEST_TMK, TPK, "P0"))
    new_tmk = random_tdes_key()
    snapshot = sim.ctl_load_keys(tmk=new_tmk.hex())
    assert snapshot["kcv"] == {"tmk": independent_kcv(new_tmk), "tpk": None, "tak": None}
    assert load(sim, "M", wrap(TEST_TMK, TAK, "M3")) == b"N7M32"  # under the old TMK
    assert load(sim, "M", wrap(new_tmk, TAK, "M3")) == b"P7M00" + independent_kcv(TAK).encode()
    assert sim.ctl_load_keys()["kcv"]["tmk"] == "0385D4"  # back to the TMK it was built with
