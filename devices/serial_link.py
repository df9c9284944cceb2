"""A byte link opened from a pyserial URL, with deadline-based reads, and the ACK/NAK request/reply
exchange that the framed serial devices (card reader, PIN pad, card dispenser) share.

The same code talks to hardware (``/dev/ttyUSB0``) and to a simulator (``socket://127.0.0.1:7001``):
pyserial hides the difference. Every pyserial or socket failure is turned into
:class:`devices.base.DeviceLinkError`, which the driver base class handles by going offline and
reconnecting.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, Protocol, TypedDict, TypeVar

import serial

from devices.base import CancelToken, Completion, DeviceLinkError, DeviceState, DriverBase, Operation, Result

T = TypeVar("T")

log = logging.getLogger(__name__)

ACK = 0x06
NAK = 0x15


class SerialLink:
    """One open pyserial port. Not thread-safe: it belongs to the driver's single I/O thread."""

    def __init__(self, port: Any, url: str) -> None:
        self._port = port
        self.url = url
        self._timeout: float | None = None

    @classmethod
    def open(cls, url: str, *, baudrate: int = 9600, timeout: float = 0.05) -> SerialLink:
        """Open ``url`` (``/dev/tty…``, ``COM3``, ``socket://host:port``, ``loop://``)."""
        try:
            port = serial.serial_for_url(url, baudrate=baudrate, timeout=timeout)
        except (serial.SerialException, OSError, ValueError) as exc:
            raise DeviceLinkError(f"cannot open {url}: {exc}") from exc
        link = cls(port, url)
        link._timeout = timeout
        return link

    def close(self) -> None:
        try:
            self._port.close()
        except Exception:  # closing a broken port must not fail the caller
            log.debug("closing %s failed", self.url, exc_info=True)

    def _set_timeout(self, timeout: float) -> None:
        if timeout != self._timeout:
            self._port.timeout = timeout
            self._timeout = timeout

    def write(self, data: bytes) -> None:
        try:
            self._port.write(data)
            self._port.flush()
        except (serial.SerialException, OSError) as exc:
            raise DeviceLinkError(f"write to {self.url} failed: {exc}") from exc

    def read_some(self, timeout: float, limit: int = 4096) -> bytes:
        """Whatever arrives first within ``timeout`` seconds (b"" if nothing), up to ``limit`` bytes."""
        try:
            self._set_timeout(max(0.0, timeout))
            first = self._port.read(1)
            if not first:
                return b""
            self._set_timeout(0.0)
            return bytes(first) + bytes(self._port.read(limit - 1))
        except (serial.SerialException, OSError) as exc:
            raise DeviceLinkError(f"read from {self.url} failed: {exc}") from exc

    def read_exactly(self, count: int, timeout: float) -> bytes:
        """Exactly ``count`` bytes, or fewer if the deadline passes first (the caller decides)."""
        deadline = time.monotonic() + timeout
        buf = bytearray()
        while len(buf) < count:
            remaining = deadline - time.monotonic()
            if remaining <= 0:
                break
            buf += self.read_some(remaining, count - len(buf))
        return bytes(buf)

    def drain(self, quiet: float = 0.03, limit: float = 0.5) -> int:
        """Discard input until the line is quiet for ``quiet`` seconds (resync after garbage)."""
        deadline = time.monotonic() + limit
        dropped = 0
        while time.monotonic() < deadline:
            chunk = self.read_some(quiet)
            if not chunk:
                break
            dropped += len(chunk)
        return dropped


# -- ACK/NAK exchange ---------------------------------------------------------------------------


@dataclass(frozen=True)
class Rejected:
    """A decoder threw bytes away; ``reason`` says why (bad checksum, bad length, stray bytes)."""

    reason: str
    dropped: int
    bad_frame: bool = False  # a whole frame failed its checks (a device answers NAK to these)


class FrameDecoder(Protocol):
    """Incremental decoder: ``feed`` returns payloads (bytes) and :class:`Rejected` notes, in order."""

    def feed(self, data: bytes) -> list[bytes | Rejected]: ...


class DeviceSide:
    """The device's half of an ACK/NAK frame protocol, whatever the framing (used by simulators and by
    tests that play the device).

    ``feed`` takes host bytes and returns what the device sends back: for each good frame ACK + the reply
    ``answer`` gives (``answer`` returning None means the frame is not for this unit: nothing is sent), NAK
    for a frame that fails its checks, nothing for stray bytes. ``nak_next`` makes the device refuse the
    next N good frames too (fault injection).
    """

    def __init__(self, decoder: Callable[[], FrameDecoder], answer: Callable[[bytes], bytes | None]) -> None:
        self._new_decoder = decoder
        self._answer = answer
        self._decoder = decoder()
        self.nak_next = 0
        self.frames_received = 0
        self.naks_sent = 0
        self.rejections: list[str] = []

    def reset(self) -> None:
        """A new connection: bytes half-way through a frame on the old one are forgotten."""
        self._decoder = self._new_decoder()

    def feed(self, data: bytes) -> bytes:
        out = bytearray()
        for item in self._decoder.feed(data):
            if isinstance(item, Rejected):
                self.rejections = [*self.rejections[-19:], item.reason]
                if item.bad_frame:
                    self.naks_sent += 1
                    out.append(NAK)
                continue
            self.frames_received += 1
            if self.nak_next > 0:
                self.nak_next -= 1
                self.naks_sent += 1
                out.append(NAK)
                continue
            reply = self._answer(item)
            if reply is None:
                continue
            out.append(ACK)
            out += reply
        return bytes(out)


class ProtocolError(ValueError):
    """Bytes that do not follow the device's protocol; the message is the reason."""


class ExchangeFailed(ProtocolError):
    """The device refused or garbled the command on every attempt (NAK, garbage, bad frames)."""

    def __init__(self, message: str, *, garbled: bool = False) -> None:
        super().__init__(message)
        self.garbled = garbled  # some answer was unintelligible, not merely a NAK


@dataclass
class ExchangeStats:
    """Counters a driver keeps for the maintenance dashboard."""

    sent: int = 0
    naks: int = 0
    garbled: int = 0


def exchange(
    link: SerialLink,
    frame: bytes,
    new_decoder: Callable[[], FrameDecoder],
    *,
    ack_timeout: float,
    reply_timeout: float,
    max_resends: int = 3,
    stats: ExchangeStats | None = None,
    what: str = "command",
) -> bytes:
    """Send ``frame``, expect ACK then one reply frame; return the reply payload.

    A NAK, a stray byte instead of ACK, a rejected reply frame or an incomplete one makes us resend the
    command, at most ``max_resends`` times, then :class:`ExchangeFailed`. No byte at all within
    ``ack_timeout`` means the device is gone or silent: :class:`DeviceLinkError`. The host never
    acknowledges replies.
    """
    stats = stats or ExchangeStats()
    problems: list[str] = []
    for attempt in range(max_resends + 1):
        if attempt:
            log.info("%s: resending %s (attempt %d): %s", link.url, what, attempt + 1, problems[-1])
        link.drain(quiet=0.0, limit=0.05)  # anything unread now is stale (a late reply or line noise)
        link.write(frame)
        stats.sent += 1
        first = link.read_some(ack_timeout, 1)
        if not first:
            raise DeviceLinkError(f"{what}: no ACK within {ack_timeout:.2f}s (device silent or gone)")
        if first[0] == NAK:
            stats.naks += 1
            problems.append("NAK")
            continue
        if first[0] != ACK:
            stats.garbled += 1
            dropped = 1 + link.drain()
            problems.append(f"expected ACK, got 0x{first[0]:02X} ({dropped} bytes of garbage dropped)")
            log.warning("%s: %s", link.url, problems[-1])
            continue
        reply, reason = _read_reply(link, new_decoder(), reply_timeout)
        if reply is not None:
            return reply
        stats.garbled += 1
        problems.append(reason)
        log.warning("%s: bad reply to %s: %s", link.url, what, reason)
        link.drain()
    raise ExchangeFailed(
        f"{what}: failed after {max_resends + 1} attempts ({'; '.join(problems)})",
        garbled=any(problem != "NAK" for problem in problems),
    )


def _read_reply(link: SerialLink, decoder: FrameDecoder, timeout: float) -> tuple[bytes | None, str]:
    deadline = time.monotonic() + timeout
    rejections: list[str] = []
    while True:
        remaining = deadline - time.monotonic()
        if remaining <= 0:
            detail = f" after {'; '.join(rejections)}" if rejections else ""
            return None, f"no complete reply frame within {timeout:.2f}s{detail}"
        chunk = link.read_some(remaining)
        for item in decoder.feed(chunk):
            if isinstance(item, Rejected):
                rejections.append(item.reason)
                # a rejected reply means the device's answer is lost: resend rather than wait
                return None, item.reason
            return item, ""


class SerialTiming(TypedDict, total=False):
    """The keyword arguments every framed serial driver takes (see :class:`SerialDriverBase`)."""

    name: str | None
    ack_timeout: float
    reply_timeout: float | None
    max_resends: int
    poll_interval: float | None
    idle_poll_interval: float


class SerialDriverBase(DriverBase):
    """What the framed serial drivers share on top of :class:`DriverBase`: the exchange's timing (ACK
    wait, reply wait, resends, poll intervals; each driver class sets its own defaults), commands whose
    protocol errors end as ``hardware_error`` results, and waits that honour Cancel and driver shutdown."""

    default_reply_timeout = 3.0
    default_poll_interval = 0.1

    def __init__(
        self,
        url: str,
        *,
        name: str | None = None,
        ack_timeout: float = 0.5,
        reply_timeout: float | None = None,
        max_resends: int = 3,
        poll_interval: float | None = None,
        idle_poll_interval: float = 0.25,
    ) -> None:
        super().__init__(url, name=name)
        self.ack_timeout = ack_timeout
        self.reply_timeout = self.default_reply_timeout if reply_timeout is None else reply_timeout
        self.max_resends = max_resends
        self.poll_interval = self.default_poll_interval if poll_interval is None else poll_interval
        self.idle_poll_interval = idle_poll_interval

    def _idle_interval(self) -> float:
        return self.idle_poll_interval

    def _protocol_failed(self, exc: ProtocolError) -> None:
        """A device whose every answer is garbled is not working, even though its link is up:
        the dashboard shows a hardware error until the next good reply (each driver republishes its
        state from every good reply)."""
        if isinstance(exc, ExchangeFailed) and exc.garbled:
            self._set_state(DeviceState.HARDWARE_ERROR, error=str(exc))
        else:
            self._set_state(self.status().state, error=str(exc))

    def _pause(self, token: CancelToken, seconds: float) -> bool:
        """Sleep; True if the caller cancelled or the driver is closing."""
        return token.wait(seconds) or self._stop.is_set()

    def _command(self, name: str, job: Callable[[CancelToken], Result[T]]) -> Operation[T]:
        def guarded(token: CancelToken) -> Result[T]:
            try:
                return job(token)
            except ProtocolError as exc:
                log.warning("%s %s: %s", self.name, name, exc)
                self._protocol_failed(exc)
                return Result.fail(Completion.HARDWARE_ERROR, str(exc))

        return self.submit(name, guarded)
