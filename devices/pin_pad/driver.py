"""PIN pad (EPP) driver: ``E`` commands over a pyserial URL, one I/O thread.

The driver never sees a PIN: during PIN entry the pad reports ``*`` per digit and hands over only the
enciphered block, which the driver relays as bytes without logging it. Between commands it polls ``E3``,
so function keys pressed on an idle pad and a tamper alarm become events.

Nor does it see a clear key: working keys arrive from the host as TR-31 key blocks, which it passes to the
pad (``E7``) and answers with the pad's key check value; MACs (``E8``) are computed inside the pad.
"""

from __future__ import annotations

import logging
import time
from typing import Any, Unpack

from devices.base import CancelToken, Completion, DeviceInfo, DeviceLinkError, DeviceState, Operation, Result
from devices.pin_pad import protocol as p
from devices.sankyo_frame import FrameError, Reply, SankyoDriverBase, SankyoTransport
from devices.selftest import SelfTestBuilder, SelfTestReport
from devices.serial_link import ProtocolError, SerialTiming

log = logging.getLogger(__name__)

ERROR_COMPLETION = {
    p.ErrorCode.UNKNOWN_COMMAND: Completion.UNSUPPORTED,
    p.ErrorCode.BAD_PARAMETER: Completion.INVALID_DATA,
    p.ErrorCode.NO_PIN: Completion.USER_ERROR,
    p.ErrorCode.TAMPERED: Completion.HARDWARE_ERROR,
    p.ErrorCode.NO_KEY: Completion.HARDWARE_ERROR,
    p.ErrorCode.KEY_BLOCK_REFUSED: Completion.INVALID_DATA,
    p.ErrorCode.NO_MASTER_KEY: Completion.HARDWARE_ERROR,
    p.ErrorCode.NO_MAC_KEY: Completion.HARDWARE_ERROR,
}
# How many times generate_mac starts over when a chunk had to be resent: the pad may already have MACed
# the first copy (its reply was lost), and it cannot tell a resent chunk from the next one.
MAC_ATTEMPTS = 3


class PinPadDriver(SankyoDriverBase):
    device_class = "pin_pad"
    model = "EPP (Sankyo-framed E command set)"
    command_letter = p.COMMAND_LETTER
    default_poll_interval = 0.05

    def __init__(self, url: str, **timing: Unpack[SerialTiming]) -> None:
        super().__init__(url, **timing)
        self._firmware = ""
        self._tamper: bool | None = None
        self._keys_stale = False
        self._mac_open = False  # the pad may hold a half-done MAC (E80 chunks without their E81)
        self._resent = False  # the last command had to be sent more than once

    # -- link --------------------------------------------------------------------------------
    def _handshake(self, transport: SankyoTransport) -> None:
        self._tamper = None
        self._refresh_status()

    def _on_connected(self) -> None:
        if self._tamper:
            self._set_state(DeviceState.FRAUD_ATTEMPT, error="pad tampered")
        else:
            self._set_state(DeviceState.ONLINE)

    def _idle(self) -> None:
        try:
            reply = self._call(p.READ_KEYS)
            if reply.positive:
                for code in reply.data.decode("ascii", "replace"):
                    if code == p.MASKED or code in p.CLEAR_TEXT_KEYS:
                        continue  # a digit on an idle pad is not ours to report
                    self._emit("key_pressed", key=p.key_name(code), mode="idle")
            if self._keys_stale:
                self._keys_stale = False
                self._refresh_status()
        except ProtocolError as exc:
            log.warning("%s key poll: %s", self.name, exc)
            self._protocol_failed(exc)

    # -- helpers -----------------------------------------------------------------------------
    def _call(self, cmd_pm: tuple[str, str], data: bytes = b"") -> Reply:
        if self._transport is None:
            raise DeviceLinkError("not connected")
        sent = self._transport.stats.sent
        if cmd_pm == p.MAC_MORE:
            self._mac_open = True
        reply = self._send(cmd_pm, data)
        # A resend after a garbled or lost reply repeats a command the pad has already carried out. Even
        # a NAK is no proof it has not: it may be the pad's ACK garbled on the way. So any resend counts.
        self._resent = self._transport.stats.sent - sent > 1
        self._mac_open = cmd_pm == p.MAC_MORE and reply.positive  # any other command ends a MAC
        if reply.positive:
            self._observe(p.reply_state(reply))
        return reply

    def _observe(self, state: p.PadState) -> None:
        """Every positive reply carries the tamper flag: raise the alarm the moment it flips."""
        was = self._tamper
        self._tamper = state.tamper
        active = state.mode in (p.EntryMode.PIN, p.EntryMode.CLEAR)
        if state.tamper:
            self._set_state(DeviceState.FRAUD_ATTEMPT, error="pad tampered", tamper=True, entry_active=False)
            if not was:
                self._keys_stale = True  # a real EPP erases its keys when opened
                self._emit("tamper")
        else:
            self._set_state(DeviceState.ONLINE, tamper=False, entry_active=active, entry_mode=state.mode.name)

    def _refresh_status(self) -> p.PadInfo:
        reply = self._call(p.STATUS)
        if not reply.positive:
            raise FrameError(f"status refused with error {reply.code}")
        info = p.parse_status_data(reply.data)
        self._firmware = info.firmware
        self._set_state(self.status().state, keys={"tdes": info.tdes_key, "aes": info.aes_key})
        return info

    def _fail(self, reply: Reply, what: str) -> Result[Any]:
        error = p.reply_error(reply)
        if error is p.ErrorCode.TAMPERED and not self._tamper:
            self._tamper = True
            self._set_state(DeviceState.FRAUD_ATTEMPT, error="pad tampered", tamper=True, entry_active=False)
            self._emit("tamper")
        return Result.fail(ERROR_COMPLETION[error], f"{what}: {p.ERROR_TEXT[error]}")

    def _stop_entry(self) -> None:
        try:
            self._call(p.STOP_ENTRY)
        except ProtocolError as exc:
            log.warning("%s: stopping entry failed: %s", self.name, exc)

    # -- public API --------------------------------------------------------------------------
    def info(self) -> DeviceInfo:
        keys = self.status().detail.get("keys", {})
        return DeviceInfo(
            self.device_class,
            self.model,
            self.url,
            self._firmware,
            {
                "pin_formats": [0, 4],
                "pin_length": [p.MIN_PIN_LEN, p.MAX_PIN_LEN],
                "function_keys": [f"F{i}" for i in range(1, 9)],
                "clear_text_entry": True,
                "working_keys": sorted(p.LOAD_WORKING_KEY),  # TR-31 version B under the pad's TMK
                "mac_algorithm": "ISO 9797-1 MAC algorithm 3",
                "keys_loaded": dict(keys),
            },
        )

    @property
    def capabilities(self) -> dict[str, Any]:
        return dict(self.info().capabilities)

    def reset(self) -> Operation[str]:
        def job(token: CancelToken) -> Result[str]:
            reply = self._call(p.INITIALISE)
            if not reply.positive:
                return self._fail(reply, "initialise")
            self._refresh_status()
            return Result.success(self._firmware)

        return self._command("reset", job)

    def get_pin(
        self, min_len: int, max_len: int, timeout: float, pan: str, pin_format: int = 0
    ) -> Operation[bytes]:
        def job(token: CancelToken) -> Result[bytes]:
            try:
                params = p.encode_pin_entry(min_len, max_len, max(1, min(999, round(timeout))))
                pan_data = p.encode_pan(pan)
                block_cmd = p.GET_PIN_BLOCK[pin_format]
            except (FrameError, KeyError) as exc:
                return Result.fail(Completion.INVALID_DATA, f"PIN entry parameters: {exc}")
            reply = self._call(p.START_PIN_ENTRY, params)
            if not reply.positive:
                return self._fail(reply, "start PIN entry")
            ended = self._collect_pin_keys(token, timeout)
            if ended is not None:
                return ended
            reply = self._call(block_cmd, pan_data)
            if not reply.positive:
                return self._fail(reply, "get PIN block")
            return Result.success(p.parse_pin_block(reply, pin_format))

        return self._command("get_pin", job)

    def _collect_pin_keys(self, token: CancelToken, timeout: float) -> Result[bytes] | None:
        """Relay masked keys until ENTER (None: go on to the block) or an ending Result."""
        deadline = time.monotonic() + timeout
        try:
            while True:
                reply = self._call(p.READ_KEYS)
                if not reply.positive:
                    return self._fail(reply, "read keys")
                state = p.reply_state(reply)
                if state.tamper:
                    return Result.fail(Completion.HARDWARE_ERROR, "pad tampered during PIN entry")
                for code in reply.data.decode("ascii", "replace"):
                    if code in p.CLEAR_TEXT_KEYS:
                        # a pad that leaks digits in PIN mode is broken; say so without the digit
                        self._stop_entry()
                        return Result.fail(Completion.HARDWARE_ERROR, "pad reported a clear key in PIN mode")
                    name = p.key_name(code)
                    self._emit("key_pressed", key=name, mode="pin")
                    if name == "ENTER":
                        return None
                    if name == "CANCEL":
                        return Result.fail(Completion.CANCELLED, "customer pressed Cancel")
                if state.mode is p.EntryMode.PIN_READY:
                    return None
                if state.mode is p.EntryMode.IDLE:
                    return Result.fail(Completion.HARDWARE_ERROR, "pad left PIN entry on its own")
                if time.monotonic() >= deadline:
                    self._stop_entry()
                    return Result.fail(Completion.TIMEOUT, f"no PIN within {timeout:g}s")
                if self._pause(token, self.poll_interval):
                    self._stop_entry()
                    return Result.fail(Completion.CANCELLED, "PIN entry cancelled")
        finally:
            self._set_state(self.status().state, entry_active=False)

    def get_amount(self, max_digits: int = 9, timeout: float = 60.0, decimals: int = 2) -> Operation[int]:
        def job(token: CancelToken) -> Result[int]:
            try:
                data = p.encode_clear_entry(max_digits + (1 if decimals else 0))
            except FrameError as exc:
                return Result.fail(Completion.INVALID_DATA, str(exc))
            reply = self._call(p.START_CLEAR_ENTRY, data)
            if not reply.positive:
                return self._fail(reply, "start clear-text entry")
            text = ""
            deadline = time.monotonic() + timeout
            try:
                while True:
                    reply = self._call(p.READ_KEYS)
                    if not reply.positive:
                        return self._fail(reply, "read keys")
                    for code in reply.data.decode("ascii", "replace"):
                        name = p.key_name(code)
                        self._emit("key_pressed", key=name, mode="clear")
                        if name in p.CLEAR_TEXT_KEYS:
                            text += name
                        elif name == "BACKSPACE":
                            text = text[:-1]
                        elif name == "CLEAR":
                            text = ""
                        elif name == "CANCEL":
                            return Result.fail(Completion.CANCELLED, "customer pressed Cancel")
                        elif name == "ENTER":
                            return parse_amount(text, decimals)
                    if time.monotonic() >= deadline:
                        self._stop_entry()
                        return Result.fail(Completion.TIMEOUT, f"no amount within {timeout:g}s")
                    if self._pause(token, self.poll_interval):
                        self._stop_entry()
                        return Result.fail(Completion.CANCELLED, "amount entry cancelled")
            finally:
                self._set_state(self.status().state, entry_active=False)

        return self._command("get_amount", job)

    def load_working_key(self, kind: str, key_block: str) -> Operation[str]:
        def job(token: CancelToken) -> Result[str]:
            cmd_pm = p.LOAD_WORKING_KEY.get(kind)
            if cmd_pm is None:
                return Result.fail(
                    Completion.INVALID_DATA, f"working key kind must be 'pin' or 'mac', not {kind!r}"
                )
            try:
                data = p.encode_key_block(key_block)
            except FrameError as exc:
                return Result.fail(Completion.INVALID_DATA, f"load {kind} key: {exc}")
            reply = self._call(cmd_pm, data)
            if not reply.positive:
                return self._fail(reply, f"load {kind} key")
            return Result.success(p.parse_kcv(reply.data))

        return self._command("load_working_key", job)

    def generate_mac(self, data: bytes) -> Operation[bytes]:
        payload = bytes(data)

        def job(token: CancelToken) -> Result[bytes]:
            for _ in range(MAC_ATTEMPTS):
                if self._mac_open:
                    self._call(p.KEY_STATUS)  # any other command makes the pad drop a half-done MAC
                done = self._mac_once(token, payload)
                if done is not None:
                    return done
                log.info("%s: a MAC chunk was resent after a lost reply; starting the MAC again", self.name)
            return Result.fail(
                Completion.HARDWARE_ERROR, f"generate MAC: replies kept getting lost ({MAC_ATTEMPTS} tries)"
            )

        return self._command("generate_mac", job)

    def _mac_once(self, token: CancelToken, data: bytes) -> Result[bytes] | None:
        """Send every chunk; the MAC, a failure, or None when a resent chunk may have been MACed twice."""
        for cmd_pm, chunk in p.mac_chunks(data):
            if token.cancelled:
                return Result.fail(Completion.CANCELLED, "MAC generation cancelled")
            reply = self._call(cmd_pm, chunk)
            if not reply.positive:
                return self._fail(reply, "generate MAC")
            if self._resent:
                return None
            if cmd_pm == p.MAC_LAST:
                return Result.success(p.parse_mac(reply.data))
        raise AssertionError("mac_chunks always ends with the last chunk")  # pragma: no cover

    def key_status(self) -> Operation[p.KeyStatus]:
        def job(token: CancelToken) -> Result[p.KeyStatus]:
            reply = self._call(p.KEY_STATUS)
            if not reply.positive:
                return self._fail(reply, "key status")
            return Result.success(p.parse_key_status(reply.data))

        return self._command("key_status", job)

    def self_test(self) -> Operation[SelfTestReport]:
        """Read the pad's status: it answers, is not tampered, and holds its PIN keys."""

        def job(token: CancelToken) -> Result[SelfTestReport]:
            test = SelfTestBuilder(self.device_class)
            reply = self._call(p.STATUS)
            refused = "" if reply.positive else p.ERROR_TEXT.get(p.reply_error(reply), reply.code)
            if not test.check("status", reply.positive, refused):
                return test.result()
            info = p.parse_status_data(reply.data)
            self._firmware = info.firmware
            test.firmware = info.firmware
            self._set_state(self.status().state, keys={"tdes": info.tdes_key, "aes": info.aes_key})
            tampered = bool(p.reply_state(reply).tamper)
            test.check("not tampered", not tampered, "tamper switch open" if tampered else "")
            test.check("TDES PIN key loaded", info.tdes_key, "" if info.tdes_key else "no key")
            test.check("AES PIN key loaded", info.aes_key, "" if info.aes_key else "no key")
            return test.result()

        return self._command("self_test", job)


def parse_amount(text: str, decimals: int = 2) -> Result[int]:
    """Keyed text → integer minor units (``12.5`` → 1250); a bad entry is a user error, not a crash."""
    whole, dot, frac = text.partition(".")
    if not whole and not frac:
        return Result.fail(Completion.USER_ERROR, "no amount entered")
    if not (whole or "0").isdigit() or (frac and not frac.isdigit()) or "." in frac:
        return Result.fail(Completion.USER_ERROR, "amount must be digits with at most one decimal point")
    if dot and decimals == 0:
        return Result.fail(Completion.USER_ERROR, "this amount takes no decimals")
    if len(frac) > decimals:
        return Result.fail(Completion.USER_ERROR, f"at most {decimals} decimals")
    return Result.success(int(whole or "0") * 10**decimals + int(frac.ljust(decimals, "0") or "0"))
