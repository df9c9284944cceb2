"""Card reader driver: Sankyo-style ``C`` commands over a pyserial URL, one I/O thread.

Between commands the driver polls ``C10`` so that a card taken at the gate, a jam, a full bin or a dropped
link shows up in :meth:`status` and as events without anyone asking.
"""

from __future__ import annotations

import logging
import time
from typing import Any, Unpack

from devices.base import CancelToken, Completion, DeviceInfo, DeviceState, Operation, Result
from devices.card_reader import protocol as p
from devices.card_reader.interface import CardData
from devices.card_reader.tracks import Track1, Track2, TrackError, parse_track1, parse_track2, parse_track3
from devices.sankyo_frame import FrameError, Reply, SankyoDriverBase, SankyoTransport
from devices.selftest import SelfTestBuilder, SelfTestReport
from devices.serial_link import ProtocolError, SerialTiming

log = logging.getLogger(__name__)

ERROR_COMPLETION = {
    p.ErrorCode.NO_CARD: Completion.NO_MEDIA,
    p.ErrorCode.CARD_JAM: Completion.MEDIA_JAMMED,
    p.ErrorCode.BIN_FULL: Completion.BIN_FULL,
    p.ErrorCode.TRACK_UNREADABLE: Completion.INVALID_DATA,
    p.ErrorCode.UNKNOWN_COMMAND: Completion.UNSUPPORTED,
    p.ErrorCode.BAD_PARAMETER: Completion.UNSUPPORTED,
}


class CardReaderDriver(SankyoDriverBase):
    device_class = "card_reader"
    model = "Sankyo ICT3Q8-compatible motorised reader"
    command_letter = p.COMMAND_LETTER

    def __init__(self, url: str, **timing: Unpack[SerialTiming]) -> None:
        super().__init__(url, **timing)
        self._firmware = ""
        self._last: p.ReaderStatus | None = None

    # -- link --------------------------------------------------------------------------------
    def _handshake(self, transport: SankyoTransport) -> None:
        init = transport.call(*p.INITIALISE)
        self._firmware = init.data.decode("ascii", "replace")
        self._last = None
        self._apply(self._read_status())

    def _on_connected(self) -> None:
        last = self._last
        if last is not None and last.jammed:
            self._set_state(DeviceState.HARDWARE_ERROR, error="card jam")
        else:
            self._set_state(DeviceState.ONLINE)

    def _idle(self) -> None:
        try:
            self._apply(self._read_status())
        except ProtocolError as exc:  # the exchange already resent; keep the link and poll again
            log.warning("%s status poll: %s", self.name, exc)
            self._protocol_failed(exc)

    # -- helpers -----------------------------------------------------------------------------
    def _call(self, cmd_pm: tuple[str, str], data: bytes = b"") -> Reply:
        return self._send(cmd_pm, data)

    def _read_status(self) -> p.ReaderStatus:
        reply = self._call(p.STATUS)
        if not reply.positive:
            raise FrameError(f"status refused with error {reply.code}")
        return p.parse_status(reply)

    def _apply(self, st: p.ReaderStatus) -> None:
        """Publish a status reading: detail, state and the events its changes imply."""
        prev = self._last
        self._last = st
        media = p.MEDIA_NAMES[st.position]
        detail: dict[str, Any] = {
            "media": media,
            "retained": st.retained,
            "bin_capacity": st.capacity,
            "bin_full": st.bin_full,
            "jammed": st.jammed,
        }
        state = DeviceState.HARDWARE_ERROR if st.jammed else DeviceState.ONLINE
        self._set_state(state, error="card jam" if st.jammed else None, **detail)
        if prev is None:
            return
        if prev.position is not p.Position.INSIDE and st.position is p.Position.INSIDE:
            self._emit("card_inserted")
        if prev.position is p.Position.AT_GATE and st.position is p.Position.NONE:
            self._emit("media_taken")
        if st.bin_full and not prev.bin_full:
            self._emit("retain_bin_full", retained=st.retained, capacity=st.capacity)
        if st.jammed and not prev.jammed:
            self._emit("jam")

    def _fail(self, reply: Reply, what: str) -> Result[Any]:
        error = p.reply_error(reply)
        if error is p.ErrorCode.CARD_JAM:
            self._emit("jam")
            self._set_state(DeviceState.HARDWARE_ERROR, error="card jam", jammed=True)
        if error is p.ErrorCode.BIN_FULL:
            self._set_state(self.status().state, bin_full=True)
        return Result.fail(ERROR_COMPLETION[error], f"{what}: {p.ERROR_TEXT[error]}")

    # -- public API --------------------------------------------------------------------------
    def info(self) -> DeviceInfo:
        return DeviceInfo(
            self.device_class,
            self.model,
            self.url,
            self._firmware,
            {"tracks": [1, 2, 3], "shutter": True, "retain_bin": True, "chip": False},
        )

    @property
    def capabilities(self) -> dict[str, Any]:
        return dict(self.info().capabilities)

    def reset(self) -> Operation[str]:
        def job(token: CancelToken) -> Result[str]:
            reply = self._call(p.INITIALISE)
            if not reply.positive:
                return self._fail(reply, "initialise")
            self._firmware = reply.data.decode("ascii", "replace")
            self._apply(self._read_status())
            return Result.success(self._firmware)

        return self._command("reset", job)

    def wait_for_card(self, timeout: float) -> Operation[str]:
        def job(token: CancelToken) -> Result[str]:
            st = self._read_status()
            self._apply(st)
            if st.jammed:
                return Result.fail(Completion.MEDIA_JAMMED, "card jam")
            if st.position is p.Position.INSIDE:
                return Result.success("inside", "a card was already inside")
            reply = self._call(p.PERMIT_ENTRY)
            if not reply.positive:
                return self._fail(reply, "permit entry")
            deadline = time.monotonic() + timeout
            try:
                while True:
                    st = self._read_status()
                    self._apply(st)
                    if st.position is p.Position.INSIDE:
                        return Result.success("inside")
                    if time.monotonic() >= deadline:
                        return Result.fail(Completion.TIMEOUT, f"no card within {timeout:g}s")
                    if self._pause(token, min(self.poll_interval, max(0.0, deadline - time.monotonic()))):
                        return Result.fail(Completion.CANCELLED, "card wait cancelled")
            finally:
                self._prohibit_entry()

        return self._command("wait_for_card", job)

    def _prohibit_entry(self) -> None:
        try:
            self._call(p.PROHIBIT_ENTRY)
        except ProtocolError as exc:
            log.warning("%s: closing the shutter failed: %s", self.name, exc)

    def read_tracks(self, tracks: tuple[int, ...] = (1, 2)) -> Operation[CardData]:
        def job(token: CancelToken) -> Result[CardData]:
            if not tracks or any(n not in p.READ_TRACK for n in tracks):
                return Result.fail(Completion.INVALID_DATA, "tracks must be a non-empty subset of 1, 2, 3")
            track1: Track1 | None = None
            track2: Track2 | None = None
            track3: str | None = None
            unreadable: list[int] = []
            for n in tracks:
                reply = self._call(p.READ_TRACK[n])
                if not reply.positive:
                    error = p.reply_error(reply)
                    if error is p.ErrorCode.TRACK_UNREADABLE:
                        unreadable.append(n)
                        continue
                    return self._fail(reply, f"read track {n}")
                try:
                    raw = reply.data.decode("ascii")
                    if n == 1:
                        track1 = parse_track1(raw)
                    elif n == 2:
                        track2 = parse_track2(raw)
                    else:
                        track3 = parse_track3(raw)
                except (UnicodeDecodeError, TrackError) as exc:
                    # the reason only: the data itself is cardholder data and never logged
                    log.warning("%s: track %d rejected: %s", self.name, n, exc)
                    unreadable.append(n)
            card = CardData(track1, track2, track3, tuple(unreadable))
            if len(unreadable) == len(tracks):
                return Result(Completion.INVALID_DATA, card, "no readable track")
            return Result.success(card)

        return self._command("read_tracks", job)

    def eject(self, take_timeout: float, *, capture_if_not_taken: bool = False) -> Operation[bool]:
        def job(token: CancelToken) -> Result[bool]:
            reply = self._call(p.EJECT)
            if not reply.positive:
                return self._fail(reply, "eject")
            self._emit("card_ejected")
            deadline = time.monotonic() + take_timeout
            while True:
                st = self._read_status()
                self._apply(st)
                if st.position is p.Position.NONE:
                    return Result.success(True)
                if time.monotonic() >= deadline:
                    break
                if self._pause(token, min(self.poll_interval, max(0.0, deadline - time.monotonic()))):
                    return Result(Completion.CANCELLED, False, "stopped waiting; the card is at the gate")
            if capture_if_not_taken:
                captured = self._capture()
                note = "retained" if captured.ok else f"retain failed: {captured.detail}"
                return Result(Completion.TIMEOUT, False, f"card not taken within {take_timeout:g}s; {note}")
            return Result(Completion.TIMEOUT, False, f"card not taken within {take_timeout:g}s")

        return self._command("eject", job)

    def _capture(self) -> Result[int]:
        reply = self._call(p.CAPTURE)
        if not reply.positive:
            return self._fail(reply, "capture")
        count = p.parse_count(reply)
        self._emit("card_captured", retained=count)
        self._apply(self._read_status())
        return Result.success(count)

    def capture(self) -> Operation[int]:
        return self._command("capture", lambda token: self._capture())

    def self_test(self) -> Operation[SelfTestReport]:
        """Initialise, read the status and cycle the shutter; every check is named in the report."""

        def job(token: CancelToken) -> Result[SelfTestReport]:
            test = SelfTestBuilder(self.device_class)
            init = self._call(p.INITIALISE)
            if test.check("initialise", init.positive, "" if init.positive else f"error {init.code}"):
                self._firmware = init.data.decode("ascii", "replace")
            test.firmware = self._firmware
            st = self._read_status()
            self._apply(st)
            media = p.MEDIA_NAMES[st.position]
            test.facts.update(retained=st.retained, bin_capacity=st.capacity, media=media)
            test.check("no card jam", not st.jammed, "card jam" if st.jammed else "")
            test.check("retain bin has room", not st.bin_full, f"{st.retained} of {st.capacity} retained")
            test.check("card path clear", st.position is p.Position.NONE, "" if media == "none" else media)
            if not st.jammed and st.position is p.Position.NONE:
                opened = self._call(p.PERMIT_ENTRY)
                closed = self._call(p.PROHIBIT_ENTRY)
                ok = opened.positive and closed.positive
                test.check("shutter opens and closes", ok, "" if ok else "shutter command refused")
            return test.result()

        return self._command("self_test", job)
