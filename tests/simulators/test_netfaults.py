"""The fault-injecting TCP proxy against a real echo server on loopback, and the seeded schedule."""

from __future__ import annotations

import contextlib
import socket
import threading
import time
from collections.abc import Iterator

import pytest

from simulators.netfaults import FAULT_KINDS, FaultProxy, fault_schedule


@pytest.fixture
def echo() -> Iterator[tuple[str, int]]:
    """Answers every chunk it reads with the same bytes."""
    listener = socket.create_server(("127.0.0.1", 0))
    listener.settimeout(0.1)
    stop = threading.Event()
    threads: list[threading.Thread] = []

    def serve(conn: socket.socket) -> None:
        with conn:
            conn.settimeout(0.1)
            while not stop.is_set():
                try:
                    data = conn.recv(4096)
                except TimeoutError:
                    continue
                except OSError:
                    return
                if not data:
                    return
                conn.sendall(data)

    def accept() -> None:
        while not stop.is_set():
            try:
                conn, _ = listener.accept()
            except TimeoutError:
                continue
            thread = threading.Thread(target=serve, args=(conn,))
            thread.start()
            threads.append(thread)

    acceptor = threading.Thread(target=accept)
    acceptor.start()
    try:
        yield listener.getsockname()[:2]
    finally:
        stop.set()
        acceptor.join(5)
        for thread in threads:
            thread.join(5)
        listener.close()


@pytest.fixture
def proxy(echo: tuple[str, int]) -> Iterator[FaultProxy]:
    proxy = FaultProxy(echo, name="echo")
    try:
        yield proxy
    finally:
        proxy.close()


def connect(proxy: FaultProxy, timeout: float = 5.0) -> socket.socket:
    return socket.create_connection(("127.0.0.1", proxy.port), timeout=timeout)


def read_exactly(sock: socket.socket, n: int) -> bytes:
    data = b""
    while len(data) < n:
        chunk = sock.recv(n - len(data))
        if not chunk:
            break
        data += chunk
    return data


def test_bytes_pass_unchanged_both_ways(proxy: FaultProxy) -> None:
    with connect(proxy) as sock:
        sock.sendall(b"hello")
        assert read_exactly(sock, 5) == b"hello"
    deadline = time.monotonic() + 10  # counted by the proxy's thread just after it sent them
    while proxy.counts["bytes_answers"] < 5 and time.monotonic() < deadline:
        time.sleep(0.01)
    assert proxy.counts["bytes_requests"] == 5 and proxy.counts["bytes_answers"] == 5


def test_latency_and_bandwidth_slow_the_link(proxy: FaultProxy) -> None:
    proxy.latency(0.3)
    with connect(proxy) as sock:
        started = time.monotonic()
        sock.sendall(b"x")
        assert read_exactly(sock, 1) == b"x"
        assert time.monotonic() - started >= 0.55  # once each way
        proxy.clear()
        proxy.bandwidth(400)
        started = time.monotonic()
        sock.sendall(b"y" * 200)
        assert read_exactly(sock, 200) == b"y" * 200
        assert time.monotonic() - started >= 0.8  # 200 bytes at 400 B/s, each way


def test_a_reset_mid_message_passes_k_bytes_then_rst(proxy: FaultProxy) -> None:
    proxy.reset_after(3, "answers")
    with connect(proxy) as sock:
        sock.sendall(b"abcdefgh")
        received = b""
        with pytest.raises(ConnectionResetError):
            while True:
                chunk = sock.recv(100)
                if not chunk:
                    break
                received += chunk
        assert received == b"abc"
    assert proxy.counts["reset_answers"] == 1
    with connect(proxy) as sock:  # one reset only: the next connection is served
        sock.sendall(b"ok")
        assert read_exactly(sock, 2) == b"ok"


def test_a_black_hole_reads_and_never_answers_nor_closes(proxy: FaultProxy) -> None:
    proxy.black_hole(True)
    with connect(proxy, timeout=0.5) as sock:
        sock.sendall(b"anyone?")
        with pytest.raises(TimeoutError):
            sock.recv(10)
    proxy.clear()
    with connect(proxy) as sock:
        sock.sendall(b"back")
        assert read_exactly(sock, 4) == b"back"


def test_half_open_silences_open_connections_only(proxy: FaultProxy) -> None:
    with connect(proxy, timeout=0.5) as old:
        old.sendall(b"1")
        assert read_exactly(old, 1) == b"1"
        assert proxy.half_open() == 1
        deadline = time.monotonic() + 5
        while proxy.counts["half_open"] < 1 and time.monotonic() < deadline:
            time.sleep(0.01)
        old.sendall(b"2")  # accepted, as by a peer that vanished without a FIN
        with pytest.raises(TimeoutError):
            old.recv(10)
        with connect(proxy) as new:
            new.sendall(b"3")
            assert read_exactly(new, 1) == b"3"


def test_a_target_down_refuses_connections_until_it_is_up_again(proxy: FaultProxy, echo: tuple) -> None:
    proxy.target_down()
    with pytest.raises(ConnectionRefusedError):
        connect(proxy)
    proxy.target_up(echo)
    with connect(proxy) as sock:
        sock.sendall(b"up")
        assert read_exactly(sock, 2) == b"up"


def test_close_ends_every_connection_and_thread(echo: tuple[str, int]) -> None:
    before = set(threading.enumerate())
    proxy = FaultProxy(echo)
    sockets = [connect(proxy) for _ in range(3)]
    proxy.black_hole(True)
    sockets.append(connect(proxy))
    proxy.close()
    for sock in sockets:
        with contextlib.suppress(OSError):
            sock.close()
    left = [t for t in threading.enumerate() if t not in before and t.name.startswith("fault-proxy")]
    assert [t for t in left if t.is_alive()] == []


def test_the_schedule_is_a_function_of_the_seed() -> None:
    assert fault_schedule(5, 30) == fault_schedule(5, 30)
    assert fault_schedule(5, 30) != fault_schedule(6, 30)
    faults = fault_schedule(5, 200)
    assert {f.kind for f in faults} == set(FAULT_KINDS)
    for visit in range(200):  # never both hosts down at once
        assert sum(f.kind.startswith("host_") for f in faults if f.visit == visit) <= 1
