"""Card dispenser driver: CRT-541-style frames over a pyserial URL, one I/O thread.

Between commands the driver polls ``RF`` so stock low/empty, a jam and a card taken at the gate become
status and events without anyone asking.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable
from typing import Any, TypeVar, Unpack

from devices.base import CancelToken, Completion, DeviceInfo, DeviceLinkError, DeviceState, Operation, Result
from devices.card_dispenser import protocol as p
from devices.card_reader.tracks import TrackError, parse_track2
from devices.selftest import SelfTestBuilder, SelfTestReport
from devices.serial_link import (
    ExchangeStats,
    ProtocolError,
    SerialDriverBase,
    SerialLink,
    SerialTiming,
    exchange,
)

log = logging.getLogger(__name__)
T = TypeVar("T")

ERROR_COMPLETION = {
    p.ErrorCode.UNKNOWN_COMMAND: Completion.UNSUPPORTED,
    p.ErrorCode.BAD_DATA: Completion.INVALID_DATA,
    p.ErrorCode.NO_CARD: Completion.NO_MEDIA,
    p.ErrorCode.POSITION_OCCUPIED: Completion.HARDWARE_ERROR,
    p.ErrorCode.STOCK_EMPTY: Completion.STOCK_EMPTY,
    p.ErrorCode.WRITE_FAILED: Completion.HARDWARE_ERROR,
    p.ErrorCode.CARD_JAM: Completion.MEDIA_JAMMED,
    p.ErrorCode.BIN_FULL: Completion.BIN_FULL,
}


class CommandFailed(Exception):
    """A negative reply inside a multi-step command; carries the Result to return."""

    def __init__(self, result: Result[Any]) -> None:
        super().__init__(result.detail)
        self.result = result


class CardDispenserDriver(SerialDriverBase):
    device_class = "card_dispenser"
    model = "Creator CRT-541-compatible dispenser with track 2 encoder"

    default_reply_timeout = 5.0  # moving a card to the encoder and writing it takes longer than a status

    def __init__(self, url: str, *, address: str = p.DEFAULT_ADDRESS, **timing: Unpack[SerialTiming]) -> None:
        super().__init__(url, **timing)
        self.address = address
        self.stats = ExchangeStats()
        self._link: SerialLink | None = None
        self._firmware = ""
        self._last: p.DispenserStatus | None = None

    # -- link --------------------------------------------------------------------------------
    def _connect(self) -> None:
        link = SerialLink.open(self.url)
        try:
            self._link = link
            self._last = None
            reply = self._call(p.RESET)
            self._firmware = reply.data.decode("ascii", "replace")
        except Exception:
            self._link = None
            link.close()
            raise

    def _disconnect(self) -> None:
        if self._link is not None:
            self._link.close()
            self._link = None

    def _on_connected(self) -> None:
        if self._last is not None:
            self._apply(self._last, force=True)
        else:
            self._set_state(DeviceState.ONLINE)

    def _idle(self) -> None:
        try:
            self._call(p.STATUS)
        except ProtocolError as exc:
            log.warning("%s status poll: %s", self.name, exc)
            self._protocol_failed(exc)

    # -- helpers -----------------------------------------------------------------------------
    def _call(self, command: str, data: bytes = b"") -> p.Reply:
        if self._link is None:
            raise DeviceLinkError("not connected")
        raw = exchange(
            self._link,
            p.encode_frame(command, data, self.address),
            p.FrameDecoder,
            ack_timeout=self.ack_timeout,
            reply_timeout=self.reply_timeout,
            max_resends=self.max_resends,
            stats=self.stats,
            what=command,
        )
        reply = p.parse_reply(raw)
        if reply.command != command:
            raise p.FrameError(f"reply is for {reply.command}, not for the {command} we sent")
        self._apply(reply.status)
        return reply

    def _must(self, command: str, data: bytes = b"") -> p.Reply:
        reply = self._call(command, data)
        if not reply.positive and reply.error is not None:
            raise CommandFailed(
                Result.fail(ERROR_COMPLETION[reply.error], f"{command}: {p.ERROR_TEXT[reply.error]}")
            )
        return reply

    def _apply(self, st: p.DispenserStatus, *, force: bool = False) -> None:
        prev = self._last
        self._last = st
        detail: dict[str, Any] = {
            "stock": p.STOCK_NAMES[st.stock],
            "position": p.POSITION_NAMES[st.position],
            "jammed": st.jammed,
        }
        if st.jammed:
            self._set_state(DeviceState.HARDWARE_ERROR, error="card jam", **detail)
        else:
            self._set_state(DeviceState.ONLINE, **detail)
        if prev is None or force:
            return
        if st.stock is not prev.stock and st.stock is p.Stock.LOW:
            self._emit("stock_low")
        if st.stock is not prev.stock and st.stock is p.Stock.EMPTY:
            self._emit("stock_empty")
        if prev.position is p.Position.AT_GATE and st.position is p.Position.NONE:
            self._emit("media_taken")
        if st.jammed and not prev.jammed:
            self._emit("jam")

    def _job(self, name: str, steps: Callable[[CancelToken], Result[T]]) -> Operation[T]:
        def job(token: CancelToken) -> Result[T]:
            try:
                return steps(token)
            except CommandFailed as failed:
                return Result(failed.result.code, None, failed.result.detail)

        return self._command(name, job)

    # -- public API --------------------------------------------------------------------------
    def info(self) -> DeviceInfo:
        return DeviceInfo(
            self.device_class,
            self.model,
            self.url,
            self._firmware,
            {"encoder_tracks": [2], "reject_bin": True, "address": self.address},
        )

    @property
    def capabilities(self) -> dict[str, Any]:
        return dict(self.info().capabilities)

    def reset(self) -> Operation[str]:
        def steps(token: CancelToken) -> Result[str]:
            self._firmware = self._must(p.RESET).data.decode("ascii", "replace")
            return Result.success(self._firmware)

        return self._job("reset", steps)

    def move_to_encoder(self) -> Operation[None]:
        return self._job("move_to_encoder", lambda token: self._step(p.MOVE_TO_ENCODER))

    def write_track2(self, track2: str) -> Operation[None]:
        def steps(token: CancelToken) -> Result[None]:
            checked = _check_track2(track2)
            if checked is not None:
                return checked
            return self._step(p.WRITE_TRACK2, track2.encode("ascii"))

        return self._job("write_track2", steps)

    def present(self) -> Operation[None]:
        def steps(token: CancelToken) -> Result[None]:
            self._must(p.PRESENT)
            self._emit("card_presented")
            return Result.success()

        return self._job("present", steps)

    def capture(self) -> Operation[None]:
        return self._job("capture", lambda token: self._capture())

    def wait_for_take(self, timeout: float) -> Operation[bool]:
        return self._job("wait_for_take", lambda token: self._wait_for_take(token, timeout))

    def dispense(self, track2: str, take_timeout: float | None = None) -> Operation[bool]:
        def steps(token: CancelToken) -> Result[bool]:
            checked = _check_track2(track2)
            if checked is not None:
                return Result.fail(checked.code, checked.detail)
            self._must(p.MOVE_TO_ENCODER)
            try:
                self._must(p.WRITE_TRACK2, track2.encode("ascii"))
            except CommandFailed as failed:
                # a badly encoded card must never reach the customer: reject it
                captured = self._capture()
                note = "card rejected" if captured.ok else f"reject failed: {captured.detail}"
                return Result.fail(failed.result.code, f"{failed.result.detail}; {note}")
            if token.cancelled:
                self._capture()
                return Result.fail(Completion.CANCELLED, "cancelled before presenting; card rejected")
            self._must(p.PRESENT)
            self._emit("card_presented")
            if take_timeout is None:
                return Result.success(False, "presented")
            return self._wait_for_take(token, take_timeout, presented=True)

        return self._job("dispense", steps)

    def _step(self, command: str, data: bytes = b"") -> Result[None]:
        self._must(command, data)
        return Result.success()

    def _capture(self) -> Result[None]:
        reply = self._call(p.CAPTURE)
        if not reply.positive and reply.error is not None:
            return Result.fail(ERROR_COMPLETION[reply.error], f"capture: {p.ERROR_TEXT[reply.error]}")
        self._emit("card_captured")
        return Result.success()

    def _wait_for_take(self, token: CancelToken, timeout: float, *, presented: bool = False) -> Result[bool]:
        """Poll until the gate is empty. ``presented``: this job's PRESENT was just acknowledged, so an
        empty gate at the first poll is a quick customer who already took the card, not a missing card."""
        deadline = time.monotonic() + timeout
        first = True
        while True:
            reply = self._call(p.STATUS)
            if reply.status.position is p.Position.NONE and first and presented:
                return Result.success(True)
            if reply.status.position is not p.Position.AT_GATE and first:
                return Result(Completion.NO_MEDIA, False, "no card at the gate")
            if reply.status.position is p.Position.NONE:
                return Result.success(True)
            first = False
            if time.monotonic() >= deadline:
                return Result(Completion.TIMEOUT, False, f"card not taken within {timeout:g}s")
            if self._pause(token, min(self.poll_interval, max(0.0, deadline - time.monotonic()))):
                return Result(Completion.CANCELLED, False, "stopped waiting; the card is at the gate")

    def self_test(self) -> Operation[SelfTestReport]:
        """Reset (firmware), read the status: transport clear, no jam, blank cards in stock."""

        def job(token: CancelToken) -> Result[SelfTestReport]:
            test = SelfTestBuilder(self.device_class)
            reset = self._call(p.RESET)
            if test.check("reset", reset.positive, "" if reset.positive else _error_text(reset)):
                self._firmware = reset.data.decode("ascii", "replace")
            test.firmware = self._firmware
            st = self._call(p.STATUS).status
            stock = p.STOCK_NAMES[st.stock]
            position = p.POSITION_NAMES[st.position]
            test.facts.update(stock=stock, position=position)
            test.check("no card jam", not st.jammed, "card jam" if st.jammed else "")
            test.check(
                "card transport clear", st.position is p.Position.NONE, "" if position == "none" else position
            )
            test.check("blank cards in stock", st.stock is not p.Stock.EMPTY, stock)
            return test.result()

        return self._command("self_test", job)


def _error_text(reply: p.Reply) -> str:
    return p.ERROR_TEXT[reply.error] if reply.error is not None else "refused"


def _check_track2(track2: str) -> Result[None] | None:
    try:
        parse_track2(track2)
    except TrackError as exc:
        return Result.fail(Completion.INVALID_DATA, f"track 2 to write: {exc}")
    return None
