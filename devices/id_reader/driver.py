"""ID card reader driver over a pyserial URL (``/dev/ttyUSB0`` or ``socket://127.0.0.1:PORT``).

``read_card(timeout)`` polls find → select → read until a card is read, the timeout passes or the
caller cancels. Between commands the driver polls "find card" to report ``card_placed`` /
``card_removed`` events.
"""

from __future__ import annotations

import time
from typing import Any

from devices.base import (
    CancelToken,
    Completion,
    DeviceInfo,
    DeviceLinkError,
    DeviceState,
    DriverBase,
    Operation,
    Result,
)
from devices.id_reader.protocol import (
    CMD_FIND,
    CMD_READ,
    CMD_SAM_STATUS,
    CMD_SELECT,
    SW_FOUND,
    SW_NOT_FOUND,
    SW_SUCCESS,
    FrameDecoder,
    Identity,
    ProtocolError,
    decode_read_data,
    encode_command,
)
from devices.selftest import SelfTestBuilder, SelfTestReport
from devices.serial_link import SerialLink


class IdReaderDriver(DriverBase):
    device_class = "id_reader"
    model = "Resident ID card SAM reader (GA 467 frames)"

    def __init__(
        self,
        url: str,
        *,
        name: str | None = None,
        baudrate: int = 115200,
        reply_timeout: float = 1.0,
        poll_interval: float = 0.3,
        presence_poll: bool = True,
    ) -> None:
        super().__init__(url, name=name)
        self.baudrate = baudrate
        self.reply_timeout = reply_timeout
        self.poll_interval = poll_interval
        self.presence_poll = presence_poll
        self._link: SerialLink | None = None
        self._decoder = FrameDecoder()
        self._card_present: bool | None = None
        self._last_poll = 0.0

    # -- commands ----------------------------------------------------------------------------
    def read_card(self, timeout: float = 30.0) -> Operation[Identity]:
        return self.submit("read_card", lambda token: self._read_card(timeout, token))

    def info(self) -> DeviceInfo:
        return DeviceInfo(
            self.device_class,
            self.model,
            self.url,
            "",
            {"photo": "jpeg", "text_fields": 8, "check_digit": "GB 11643"},
        )

    @property
    def capabilities(self) -> dict[str, Any]:
        return dict(self.info().capabilities)

    def self_test(self) -> Operation[SelfTestReport]:
        """The SAM module answers its status, and "find card" gets a valid answer."""

        def job(token: CancelToken) -> Result[SelfTestReport]:
            test = SelfTestBuilder(self.device_class)
            status, _ = self._exchange(CMD_SAM_STATUS)
            test.check(
                "SAM module", status == SW_SUCCESS, "" if status == SW_SUCCESS else f"SW {status.hex()}"
            )
            status, _ = self._exchange(CMD_FIND)
            answered = status in (SW_FOUND, SW_NOT_FOUND)
            test.check("card search", answered, "" if answered else f"SW {status.hex()}")
            test.facts["card_present"] = status == SW_FOUND
            return test.result()

        return self.submit("self_test", job)

    # -- DriverBase hooks --------------------------------------------------------------------
    def _connect(self) -> None:
        self._link = SerialLink.open(self.url, baudrate=self.baudrate)
        self._decoder = FrameDecoder()
        try:
            status, _ = self._exchange(CMD_SAM_STATUS)
        except DeviceLinkError:
            self._disconnect()
            raise
        if status != SW_SUCCESS:
            self._disconnect()
            raise DeviceLinkError(f"SAM status {status.hex()}")

    def _disconnect(self) -> None:
        if self._link is not None:
            self._link.close()
            self._link = None

    def _idle(self) -> None:
        if self.presence_poll and time.monotonic() - self._last_poll >= self.poll_interval:
            self._last_poll = time.monotonic()
            status, _ = self._exchange(CMD_FIND)
            self._note_presence(status == SW_FOUND)

    # -- internals ---------------------------------------------------------------------------
    def _note_presence(self, present: bool) -> None:
        if present == self._card_present:
            return
        first = self._card_present is None
        self._card_present = present
        self._set_state(DeviceState.ONLINE, card_present=present)
        if not first or present:
            self._emit("card_placed" if present else "card_removed")

    def _exchange(self, command: bytes, data: bytes = b"") -> tuple[bytes, bytes]:
        """Send one command; return (SW1 SW2 SW3, data). Raises DeviceLinkError on silence/garbage."""
        if self._link is None:
            raise DeviceLinkError("not connected")
        self._link.write(encode_command(command, data))
        deadline = time.monotonic() + self.reply_timeout
        while (remaining := deadline - time.monotonic()) > 0:
            chunk = self._link.read_some(remaining)
            if not chunk:
                continue
            for item in self._decoder.feed(chunk):
                if isinstance(item, ProtocolError):
                    raise DeviceLinkError(f"bad reply frame: {item}")
                if len(item) < 3:
                    raise DeviceLinkError("reply shorter than its status")
                return item[:3], item[3:]
        self._decoder = FrameDecoder()  # drop any half frame
        raise DeviceLinkError(f"no reply to command {command.hex()}")

    def _read_card(self, timeout: float, token: CancelToken) -> Result[Identity]:
        deadline = time.monotonic() + timeout
        last_problem = "no card presented"
        while True:
            if token.cancelled:
                return Result.fail(Completion.CANCELLED, "card read cancelled")
            status, _ = self._exchange(CMD_FIND)
            self._note_presence(status == SW_FOUND)
            if status == SW_FOUND:
                status, _ = self._exchange(CMD_SELECT)
                if status == SW_SUCCESS:
                    status, data = self._exchange(CMD_READ)
                    if status == SW_SUCCESS:
                        try:
                            identity = decode_read_data(data)
                        except ProtocolError as exc:
                            return Result.fail(Completion.INVALID_DATA, f"unreadable card data: {exc}")
                        detail = "read" if identity.check_digit_ok else "ID number check digit is wrong"
                        return Result(Completion.SUCCESS, identity, detail)
                    last_problem = f"read failed (SW {status.hex()})"
                else:
                    last_problem = f"select failed (SW {status.hex()})"
            elif status != SW_NOT_FOUND:
                last_problem = f"find card answered SW {status.hex()}"
            remaining = deadline - time.monotonic()
            if remaining <= 0:
                code = (
                    Completion.TIMEOUT if last_problem == "no card presented" else Completion.HARDWARE_ERROR
                )
                return Result.fail(code, last_problem)
            if token.wait(min(self.poll_interval, remaining)):
                return Result.fail(Completion.CANCELLED, "card read cancelled")
