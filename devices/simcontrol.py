"""Client for the simulators' loopback control API (JSON lines over TCP).

It sits in the device layer beside the wire codecs because test rigs, the demo and the developer panel
all speak it, and the app may only ever know simulators by address.

Request: one JSON object per line, ``{"cmd": "insert_card", "args": {...}}``.
Reply: one JSON object per line, ``{"ok": true, "result": ...}`` or ``{"ok": false, "error": "..."}``.
"""

from __future__ import annotations

import json
import socket
from typing import Any


class ControlError(RuntimeError):
    """The simulator refused a control command (the message says why)."""


def parse_address(address: str) -> tuple[str, int]:
    """``tcp://127.0.0.1:7101`` or ``127.0.0.1:7101`` → (host, port)."""
    rest = address.split("://", 1)[-1].rstrip("/")
    host, _, port = rest.rpartition(":")
    if not host or not port.isdigit():
        raise ValueError(f"not a control address: {address!r}")
    return host, int(port)


class ControlClient:
    def __init__(self, address: str, timeout: float = 10.0) -> None:
        self.address = address
        self.timeout = timeout

    def call(self, cmd: str, **args: Any) -> Any:
        host, port = parse_address(self.address)
        with socket.create_connection((host, port), timeout=self.timeout) as sock:
            sock.sendall(json.dumps({"cmd": cmd, "args": args}).encode() + b"\n")
            buf = b""
            while not buf.endswith(b"\n"):
                chunk = sock.recv(65536)
                if not chunk:
                    break
                buf += chunk
        if not buf:
            raise ControlError(f"{cmd}: no reply from {self.address}")
        reply = json.loads(buf)
        if not reply.get("ok"):
            raise ControlError(f"{cmd}: {reply.get('error', 'refused')}")
        return reply.get("result")
