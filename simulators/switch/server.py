"""The simulated interbank switch: ISO 8583 (our 1987 profile) over TCP with 2-byte length framing.

:class:`SwitchSimulator` is the switch's behaviour (decisions, duplicates, reversals, the MAC check,
the scripted modes); :class:`SwitchServer` serves it on loopback, one thread per host connection, and
answers each connection's requests **in the order they arrived** (a ``late`` answer holds back the answers
behind it; an unanswered request is skipped), as docs/iso8583.md asks of both ends of a link.
"""

from __future__ import annotations

import contextlib
import logging
import select
import socket
import threading
import time
from collections import Counter, deque
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

from hostlink.iso8583 import profile as p
from hostlink.iso8583.codec import Iso8583Error, Message, decode, describe, encode_with_mac, verify_mac
from hostlink.iso8583.framing import FrameReader, FramingError, frame
from hostlink.tdes import kcv, retail_mac
from simulators.base import JsonControlServer, SimulatedDevice

log = logging.getLogger(__name__)

# TEST ZONE MAC KEY — for simulators and tests only, never for production: the ZAK the simulated switch
# and the bank host (bank.settings.SwitchSettings.zak_hex, same default) MAC every message with.
# Double-length, odd parity, KCV B28018. A bank and its switch agree their ZAK in a key ceremony.
TEST_ZAK = bytes.fromhex("1C4F7A0D2A6E9834C7A1E5F1D3B6298F")

MODES = ("approve", "decline", "timeout", "late")
DEFAULT_DECLINE = "05"
MESSAGE_LOG = 50
# The deterministic rules of the simulated clearing house (bank/clearing.py), kept for the switch.
UNKNOWN_BANK = "999"
CLOSED_ACCOUNT_SUFFIX = "0000"
# Fields a response echoes from its request (when present); the match key DE7 + DE11 + DE32 among them.
_ECHOED = (p.PROCESSING_CODE, p.AMOUNT, p.TRANSMISSION_DATETIME, p.STAN, p.ACQUIRER_ID, p.CURRENCY)


@dataclass(frozen=True)
class Mode:
    """How the switch answers a request: ``approve`` (by the rules), ``decline`` with ``code``,
    ``timeout`` (never answers, does not act), ``late`` (decides now, answers after ``seconds``)."""

    name: str = "approve"
    code: str = DEFAULT_DECLINE
    seconds: float = 0.0

    def as_dict(self) -> dict[str, Any]:
        data: dict[str, Any] = {"mode": self.name}
        if self.name == "decline":
            data["code"] = self.code
        if self.name == "late":
            data["seconds"] = self.seconds
        return data


def parse_mode(spec: object, code: str | None = None, seconds: float | None = None) -> Mode:
    """A mode from ``"approve"``, ``"decline"``, ``"decline:51"``, ``"timeout"``, ``"late:2.5"`` or
    ``{"mode": "decline", "code": "51"}`` / ``{"mode": "late", "seconds": 2}``."""
    if isinstance(spec, Mapping):
        return parse_mode(spec.get("mode", "approve"), spec.get("code"), spec.get("seconds"))
    if not isinstance(spec, str):
        raise ValueError("a mode is a name such as 'decline:51' or an object {'mode': ...}")
    name, _, argument = spec.partition(":")
    if name not in MODES:
        raise ValueError(f"unknown mode {name!r}: one of {', '.join(MODES)}")
    if name == "decline":
        chosen = str(code if code is not None else (argument or DEFAULT_DECLINE))
        if len(chosen) != 2 or not chosen.isalnum() or not chosen.isascii() or chosen == p.APPROVED:
            raise ValueError("a decline code is 2 letters or digits other than 00")
        return Mode("decline", code=chosen.upper())
    if name == "late":
        delay = float(seconds if seconds is not None else (argument or 1.0))
        if not 0 <= delay <= 3600:
            raise ValueError("late seconds must be between 0 and 3600")
        return Mode("late", seconds=delay)
    if argument:
        raise ValueError(f"mode {name!r} takes no argument")
    return Mode(name)


@dataclass
class Reply:
    """What to send back for one request: ``payload`` after ``delay_s`` (None: no answer)."""

    payload: bytes | None
    delay_s: float = 0.0


@dataclass
class _Decision:
    status: str  # approved | declined | reversed
    code: str
    amount: str = ""


@dataclass
class _Counts:
    received: Counter[str] = field(default_factory=Counter)
    sent: Counter[str] = field(default_factory=Counter)
    other: Counter[str] = field(default_factory=Counter)


class SwitchSimulator(SimulatedDevice):
    """The switch's view of the network. Thread-safe: every entry point takes :attr:`lock`."""

    device_class = "switch"

    def __init__(self, seed: int = 0, *, zak: bytes | None = None) -> None:
        super().__init__(seed)
        self.zak = bytes(zak if zak is not None else TEST_ZAK)
        self.mode = Mode()
        self.script: deque[Mode] = deque()
        self.counts = _Counts()
        self.messages: deque[dict[str, Any]] = deque(maxlen=MESSAGE_LOG)
        # answers by request key (message class, DE11, DE7, DE32): a duplicate gets the first answer
        self._answers: dict[tuple[str, str, str, str], bytes] = {}
        # decisions by the original 0200's (DE11, DE7, DE32): what a reversal finds
        self._decisions: dict[tuple[str, str, str], _Decision] = {}
        self._serial = 0

    # -- the MAC ------------------------------------------------------------------------------
    def mac(self, data: bytes) -> bytes:
        return retail_mac(self.zak, data)

    # -- requests -----------------------------------------------------------------------------
    def count(self, what: str) -> None:
        with self.lock:
            self.counts.other[what] += 1

    def note(self, direction: str, message: Mapping[str, object], connection: int) -> None:
        """One line of the message log (describe(): masked PAN, no field values beyond the keys)."""
        with self.lock:
            mti = str(message.get("t", "????"))
            (self.counts.received if direction == "in" else self.counts.sent)[mti] += 1
            self.messages.append(
                {
                    "at": datetime.now(UTC).isoformat(timespec="milliseconds"),
                    "direction": direction,
                    "connection": connection,
                    "mti": mti,
                    "message": describe(message),
                }
            )

    def note_sent(self, payload: bytes, connection: int) -> None:
        try:
            message: Message = decode(payload)
        except Iso8583Error:
            message = {"t": "????"}
        self.note("out", message, connection)

    def handle(self, raw: bytes, connection: int = 0) -> Reply:
        """The answer to one request (without its length header)."""
        with self.lock:
            try:
                message = decode(raw)
            except Iso8583Error as exc:
                self.counts.other["undecodable"] += 1
                log.warning("switch: undecodable message dropped (%s)", exc)
                return Reply(None)
            self.note("in", message, connection)
            mti = str(message["t"])
            try:
                answer_mti = p.response_mti(mti)
            except ValueError:
                self.counts.other["not_a_request"] += 1
                return Reply(None)
            if not self._mac_ok(raw):
                self.counts.other["mac_failures"] += 1
                return Reply(self._respond(answer_mti, message, "A0"))  # not acted on
            key = (
                mti[:3],
                str(message.get(p.STAN, "")),
                str(message.get(p.TRANSMISSION_DATETIME, "")),
                str(message.get(p.ACQUIRER_ID, "")),
            )
            first = self._answers.get(key)
            if first is not None:
                self.counts.other["duplicates"] += 1
                return Reply(first)
            if mti[:3] == "080":
                reply = Reply(self._network(answer_mti, message))
            elif mti[:3] == "020":
                reply = self._financial(answer_mti, message)
            elif mti[:3] == "042":
                reply = self._reversal(answer_mti, message)
            else:
                reply = Reply(self._respond(answer_mti, message, "12"))
            if reply.payload is None:
                self.counts.other["unanswered"] += 1
            else:
                self._answers[key] = reply.payload
            return reply

    def _mac_ok(self, raw: bytes) -> bool:
        try:
            return verify_mac(raw, self.mac)
        except Iso8583Error:  # no MAC, or not in its place
            return False

    def _next_mode(self) -> Mode:
        return self.script.popleft() if self.script else self.mode

    def _respond(self, mti: str, request: Mapping[str, object], code: str, **extra: str) -> bytes:
        fields: dict[str, str | bytes] = {"t": mti}
        for number in _ECHOED:
            value = request.get(number)
            if isinstance(value, str):
                fields[number] = value
        fields.update(extra)
        fields[p.RESPONSE_CODE] = code
        return encode_with_mac(fields, self.mac)

    def _network(self, mti: str, request: Mapping[str, object]) -> bytes:
        network_code = request.get(p.NETWORK_CODE)
        extra = {p.NETWORK_CODE: network_code} if isinstance(network_code, str) else {}
        return self._respond(mti, request, p.APPROVED, **extra)

    def _financial(self, mti: str, request: Mapping[str, object]) -> Reply:
        mode = self._next_mode()
        if mode.name == "timeout":
            return Reply(None)
        code = mode.code if mode.name == "decline" else self._rules(request)
        original = (
            str(request.get(p.STAN, "")),
            str(request.get(p.TRANSMISSION_DATETIME, "")),
            str(request.get(p.ACQUIRER_ID, "")),
        )
        approved = code == p.APPROVED
        self._decisions[original] = _Decision(
            "approved" if approved else "declined", code, str(request.get(p.AMOUNT, ""))
        )
        self.counts.other["approved" if approved else "declined"] += 1
        self._serial += 1
        extra = {p.RRN: f"SW{self._serial:010d}"}
        if approved:
            extra[p.AUTH_ID] = f"{self._serial % 1_000_000:06d}"
        return Reply(self._respond(mti, request, code, **extra), mode.seconds if mode.name == "late" else 0.0)

    @staticmethod
    def _rules(request: Mapping[str, object]) -> str:
        """Approve mode: a transfer (400000) with amount, accounts and a receiving bank; bank 999 does not
        exist (91), a payee account ending in 0000 is closed (14)."""
        if request.get(p.PROCESSING_CODE) != p.TRANSFER:
            return "12"
        needed = (p.AMOUNT, p.RECEIVING_INSTITUTION_ID, p.ACCOUNT_FROM, p.ACCOUNT_TO)
        if any(not isinstance(request.get(number), str) for number in needed):
            return "30"
        if p.parse_amount(str(request[p.AMOUNT])) == 0:
            return "13"
        if request[p.RECEIVING_INSTITUTION_ID] == UNKNOWN_BANK:
            return "91"
        if str(request[p.ACCOUNT_TO]).endswith(CLOSED_ACCOUNT_SUFFIX):
            return "14"
        return p.APPROVED

    def _reversal(self, mti: str, request: Mapping[str, object]) -> Reply:
        mode = self._next_mode()
        if mode.name == "timeout":
            return Reply(None)
        value = request.get(p.ORIGINAL_DATA)
        try:
            original = p.parse_original_data(value if isinstance(value, str) else "")
        except ValueError:
            return Reply(self._respond(mti, request, "30"))
        decision = self._decisions.get((original.stan, original.transmission_time, original.acquirer_id))
        if decision is None:
            self.counts.other["reversals_of_unknown"] += 1  # never seen: 00, nothing changes
        elif decision.status == "approved":
            decision.status = "reversed"
            self.counts.other["reversed"] += 1
        return Reply(self._respond(mti, request, p.APPROVED), mode.seconds if mode.name == "late" else 0.0)

    # -- control ------------------------------------------------------------------------------
    def snapshot(self) -> dict[str, Any]:
        with self.lock:
            statuses = Counter(d.status for d in self._decisions.values())
            return {
                "mode": self.mode.as_dict(),
                "script": [m.as_dict() for m in self.script],
                "received": dict(self.counts.received),
                "sent": dict(self.counts.sent),
                "counts": dict(self.counts.other),
                "transfers": {s: statuses.get(s, 0) for s in ("approved", "declined", "reversed")},
                "messages": list(self.messages),
                "zak_kcv": kcv(self.zak),
            }

    def ctl_mode(
        self, mode: str = "approve", code: str | None = None, seconds: float | None = None
    ) -> dict[str, Any]:
        self.mode = parse_mode(mode, code, seconds)
        return self.mode.as_dict()

    def ctl_approve(self) -> dict[str, Any]:
        return self.ctl_mode("approve")

    def ctl_decline(self, code: str = DEFAULT_DECLINE) -> dict[str, Any]:
        return self.ctl_mode("decline", code=code)

    def ctl_timeout(self) -> dict[str, Any]:
        return self.ctl_mode("timeout")

    def ctl_late(self, seconds: float = 1.0) -> dict[str, Any]:
        return self.ctl_mode("late", seconds=seconds)

    def ctl_script(self, modes: list[Any]) -> list[dict[str, Any]]:
        """Modes used one per 0200/0420/0421, before the standing mode applies again."""
        self.script = deque(parse_mode(item) for item in modes)
        return [m.as_dict() for m in self.script]

    def ctl_clear_faults(self) -> dict[str, Any]:
        self.mode = Mode()
        self.script.clear()
        return self.mode.as_dict()


@dataclass(order=True)
class _Slot:
    ready_at: float
    payload: bytes = field(compare=False)


class SwitchServer:
    """Serves a :class:`SwitchSimulator` on ``127.0.0.1:port``; any number of host connections.

    Link faults (as the device servers have them): ``unplug`` drops every connection and closes each new
    one at once, ``plug`` undoes it; ``silent`` reads requests and answers none; ``garbage`` answers the
    next N requests with random bytes in a well-framed message. ``clear_faults`` clears these and the
    switch's mode and script.
    """

    def __init__(self, switch: SwitchSimulator, port: int = 0, control_port: int = 0) -> None:
        self.switch = switch
        self._sock = socket.create_server(("127.0.0.1", port))
        self._sock.settimeout(0.2)
        self.port: int = self._sock.getsockname()[1]
        self.address = f"127.0.0.1:{self.port}"
        self.url = f"tcp://{self.address}"
        self.control = JsonControlServer(self._control, control_port)
        self._stop = threading.Event()
        self._plugged = threading.Event()
        self._plugged.set()
        self._silent = False
        self._garbage_replies = 0
        self._lock = threading.Lock()
        self._connections: dict[int, socket.socket] = {}
        self._threads: list[threading.Thread] = []
        self._connection_serial = 0
        self._thread = threading.Thread(target=self._serve, name="sim-switch", daemon=True)

    # -- life cycle ---------------------------------------------------------------------------
    def start(self) -> SwitchServer:
        self.control.start()
        self._thread.start()
        return self

    def close(self) -> None:
        self._stop.set()
        with contextlib.suppress(OSError):
            self._sock.shutdown(socket.SHUT_RDWR)
        self._thread.join(5)
        self._sock.close()
        self._drop_connections()
        with self._lock:
            threads = list(self._threads)
        for thread in threads:
            thread.join(5)
        self.control.close()

    def __enter__(self) -> SwitchServer:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.close()

    def describe(self) -> dict[str, Any]:
        return {"url": self.url, "address": self.address, "control": self.control.address}

    # -- control ------------------------------------------------------------------------------
    def _control(self, cmd: str, args: dict[str, Any]) -> Any:
        if cmd == "unplug":
            self._plugged.clear()
            self._drop_connections()
            return {"plugged": False}
        if cmd == "plug":
            self._plugged.set()
            return {"plugged": True}
        if cmd == "silent":
            self._silent = bool(args.get("on", True))
            return {"silent": self._silent}
        if cmd == "garbage":
            self._garbage_replies = int(args.get("count", 1))
            return {"garbage_replies": self._garbage_replies}
        if cmd == "clear_faults":
            self._plugged.set()
            self._silent = False
            self._garbage_replies = 0
            return self.switch.control("clear_faults", {})
        if cmd == "state":
            state: dict[str, Any] = self.switch.control("state", {})
            with self._lock:
                open_connections = len(self._connections)
            state.update(
                plugged=self._plugged.is_set(),
                silent=self._silent,
                connections=open_connections,
                accepted=self._connection_serial,
            )
            return state
        return self.switch.control(cmd, args)

    def _drop_connections(self) -> None:
        with self._lock:
            connections = list(self._connections.values())
            self._connections.clear()
        for conn in connections:
            with contextlib.suppress(OSError):
                conn.shutdown(socket.SHUT_RDWR)

    # -- serving ------------------------------------------------------------------------------
    def _serve(self) -> None:
        while not self._stop.is_set():
            try:
                conn, _ = self._sock.accept()
            except (TimeoutError, OSError):
                continue
            if not self._plugged.is_set():
                conn.close()
                continue
            with self._lock:
                self._connection_serial += 1
                number = self._connection_serial
                self._connections[number] = conn
                self._threads = [t for t in self._threads if t.is_alive()]
                thread = threading.Thread(
                    target=self._pump, args=(conn, number), name=f"sim-switch-{number}", daemon=True
                )
                self._threads.append(thread)
            thread.start()

    def _pump(self, conn: socket.socket, number: int) -> None:
        reader = FrameReader()
        queue: deque[_Slot] = deque()
        try:
            while not self._stop.is_set() and self._plugged.is_set():
                wait = 0.2
                if queue:
                    wait = max(0.0, min(wait, queue[0].ready_at - time.monotonic()))
                readable, _, _ = select.select([conn], [], [], wait)
                if readable:
                    data = conn.recv(65536)
                    if not data:
                        return
                    for raw in reader.feed(data):
                        if self._silent:
                            self.switch.count("swallowed")
                            continue
                        reply = self.switch.handle(raw, number)
                        if reply.payload is not None:
                            queue.append(_Slot(time.monotonic() + reply.delay_s, reply.payload))
                while queue and queue[0].ready_at <= time.monotonic():
                    self._send(conn, queue.popleft().payload, number)
        except FramingError as exc:
            log.warning("switch: connection %d broke the framing (%s): closed", number, exc)
        except (OSError, ValueError):
            pass  # the host went away, or the connection was dropped by unplug/close
        finally:
            with self._lock:
                self._connections.pop(number, None)
            conn.close()

    def _send(self, conn: socket.socket, payload: bytes, number: int) -> None:
        if self._garbage_replies > 0:
            self._garbage_replies -= 1
            with self.switch.lock:
                garbage = bytes(self.switch.rng.randrange(256) for _ in range(len(payload)))
            conn.sendall(frame(garbage))
            self.switch.count("garbage_sent")
            return
        conn.sendall(frame(payload))
        self.switch.note_sent(payload, number)
