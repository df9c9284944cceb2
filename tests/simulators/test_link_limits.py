"""Raw-socket attacks on the simulators' shared plumbing: an idle client holding a device port, and a
control request line that never ends."""

from __future__ import annotations

import json
import socket
import time
from collections.abc import Iterator
from contextlib import ExitStack
from pathlib import Path

import pytest

from simulators.base import MAX_CONTROL_LINE, DeviceServer, SimulatedDevice
from simulators.printer.server import make_printer_server


class Echo(SimulatedDevice):
    device_class = "echo"

    def on_bytes(self, data: bytes) -> bytes:
        return b"<" + data + b">"


@pytest.fixture
def sockets() -> Iterator[ExitStack]:
    with ExitStack() as stack:
        yield stack


def _connect(stack: ExitStack, port: int) -> socket.socket:
    return stack.enter_context(socket.create_connection(("127.0.0.1", port), timeout=5))


def _recv_until(sock: socket.socket, end: bytes, timeout: float) -> bytes:
    sock.settimeout(timeout)
    buf = b""
    while not buf.endswith(end):
        chunk = sock.recv(65536)
        if not chunk:
            break
        buf += chunk
    return buf


def test_an_idle_client_gives_way_to_a_newer_connection(sockets: ExitStack) -> None:
    server = sockets.enter_context(DeviceServer(Echo(), idle_timeout_s=0.5))
    idle = _connect(sockets, server.port)
    idle.sendall(b"a")
    assert _recv_until(idle, b">", 5) == b"<a>"  # the idle client really holds the link
    newer = _connect(sockets, server.port)
    started = time.monotonic()
    newer.sendall(b"hello")
    assert _recv_until(newer, b">", 5) == b"<hello>"  # before the fix: served never (timeout)
    assert time.monotonic() - started < 3
    idle.settimeout(2)
    assert idle.recv(10) == b""  # the idle client was dropped


def test_an_active_host_keeps_its_link_while_another_client_waits(sockets: ExitStack) -> None:
    server = sockets.enter_context(DeviceServer(Echo(), idle_timeout_s=0.6))
    host = _connect(sockets, server.port)
    intruder = _connect(sockets, server.port)
    intruder.sendall(b"x")
    for i in range(8):  # 1.6 s of traffic, every gap shorter than the idle timeout
        host.sendall(str(i).encode())
        assert _recv_until(host, b">", 5) == f"<{i}>".encode()
        time.sleep(0.2)
    # Once the host goes quiet the waiting client is served.
    assert _recv_until(intruder, b">", 5) == b"<x>"


def test_the_printer_port_is_freed_from_an_idle_client_too(sockets: ExitStack, tmp_path: Path) -> None:
    server = make_printer_server(out_dir=tmp_path, render_png=False)
    server.idle_timeout_s = 0.5
    sockets.enter_context(server)
    _connect(sockets, server.port)  # connects and says nothing
    newer = _connect(sockets, server.port)
    newer.sendall(b"\x10\x04\x01")  # DLE EOT 1: real-time status
    newer.settimeout(5)
    assert len(newer.recv(1)) == 1  # the status byte: the printer answers the newer client


def test_an_endless_control_line_is_refused_and_closed(sockets: ExitStack) -> None:
    server = sockets.enter_context(DeviceServer(Echo()))
    attacker = _connect(sockets, server.control.port)
    payload = b'{"cmd": "state", "args": {"x": "' + b"A" * (MAX_CONTROL_LINE + 4096)
    attacker.sendall(payload)
    answer = _recv_until(attacker, b"\n", 5)
    reply = json.loads(answer)
    assert reply["ok"] is False and "longer than" in reply["error"]
    assert attacker.recv(10) == b""  # closed after the answer
    honest = _connect(sockets, server.control.port)
    honest.sendall(b'{"cmd": "state"}\n')
    assert json.loads(_recv_until(honest, b"\n", 5))["ok"] is True
