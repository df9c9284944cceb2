"""Faults on the wire between a terminal and its bank host: a fault-injecting TCP proxy and a seeded schedule.

:class:`FaultProxy` sits on one link (the JSON API's HTTP port or the ISO 8583 port of one host) and
forwards bytes both ways, unchanged, until told otherwise:

- ``latency(seconds)``: every chunk waits that long before it is forwarded (both directions);
- ``bandwidth(bytes_per_s)``: chunks go out in slices at that rate;
- ``reset_after(k, direction)``: the next ``k`` bytes in that direction (``"answers"`` host → terminal,
  ``"requests"`` terminal → host) still pass, then the connection carrying the next byte is cut with a
  TCP RST on both sides (``SO_LINGER`` 0): a reset mid-message;
- ``black_hole(on)``: connections are accepted and read, never answered and never closed; the ones
  already open go silent the same way;
- ``half_open()``: every open connection loses its far side without a FIN: the host's end is closed,
  the terminal's end stays open, what it sends is read and dropped, nothing ever comes back;
- ``target_down()`` / ``target_up(new_target)``: the host behind the link is gone (the proxy stops
  listening, so a connect is refused as it would be at a dead host's port) / back, possibly elsewhere.

Every connection is served by one thread that owns both of its sockets (no socket is closed under another
thread's blocking call); control calls only set flags, which that thread reads within
``POLL_S``. :meth:`FaultProxy.close` ends every connection and joins every thread.

:func:`fault_schedule` turns a seed into a reproducible list of :class:`Fault` (which visit, how long
after its start, which fault, on which host and link, for how long, with which parameters), and
:class:`FaultDriver` plays the faults of one visit on a thread while the visit runs, host kills and
restarts included (through a :class:`HostControl` the caller provides).
"""

from __future__ import annotations

import contextlib
import random
import selectors
import socket
import struct
import threading
import time
from collections import Counter
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any, Protocol

POLL_S = 0.05
DIRECTIONS = ("requests", "answers")


def _reset(sock: socket.socket | None) -> None:
    """Close with a TCP RST (SO_LINGER on, zero seconds)."""
    if sock is None:
        return
    with contextlib.suppress(OSError):
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
    with contextlib.suppress(OSError):
        sock.close()


def _close(sock: socket.socket | None) -> None:
    if sock is None:
        return
    with contextlib.suppress(OSError):
        sock.close()


@dataclass
class _Connection:
    client: socket.socket
    upstream: socket.socket | None = None
    swallowed: bool = False  # the far side is gone: read the terminal's bytes, answer nothing, ever
    thread: threading.Thread | None = None


class FaultProxy:
    """One link's fault-injecting TCP proxy on ``host`` (an ephemeral port), forwarding to ``target``."""

    def __init__(self, target: tuple[str, int], *, name: str = "", host: str = "127.0.0.1") -> None:
        self.name = name or f"{target[0]}:{target[1]}"
        self.host = host
        self._target = target
        self._listener: socket.socket | None = socket.create_server((host, 0))
        self.port = int(self._listener.getsockname()[1])
        self._lock = threading.Lock()
        self._stop = threading.Event()
        self._want_listening = True
        self._listening_changed = threading.Condition(self._lock)
        self._is_listening = True
        self._latency_s = 0.0
        self._rate = 0  # bytes per second; 0: no limit
        self._reset_budget: dict[str, int | None] = dict.fromkeys(DIRECTIONS)
        self._black_hole = False
        self._connections: list[_Connection] = []
        self.counts: Counter[str] = Counter()
        self._accept_thread = threading.Thread(target=self._accept, name=f"fault-proxy {self.name}")
        self._accept_thread.start()

    # -- addresses ----------------------------------------------------------------------------------
    @property
    def address(self) -> str:
        """``host:port``, as the ISO 8583 link's settings name a host."""
        return f"{self.host}:{self.port}"

    @property
    def url(self) -> str:
        """``http://host:port``, as the JSON API's settings name a host."""
        return f"http://{self.address}"

    @property
    def target(self) -> tuple[str, int]:
        with self._lock:
            return self._target

    # -- faults -------------------------------------------------------------------------------------
    def latency(self, seconds: float) -> None:
        with self._lock:
            self._latency_s = max(0.0, float(seconds))

    def bandwidth(self, bytes_per_s: int) -> None:
        """0 lifts the limit."""
        with self._lock:
            self._rate = max(0, int(bytes_per_s))

    def reset_after(self, nbytes: int, direction: str = "answers") -> None:
        if direction not in DIRECTIONS:
            raise ValueError(f"direction is one of {DIRECTIONS}, not {direction!r}")
        with self._lock:
            self._reset_budget[direction] = max(0, int(nbytes))

    def black_hole(self, on: bool = True) -> None:
        with self._lock:
            self._black_hole = on
            if on:
                for connection in self._connections:
                    connection.swallowed = True

    def half_open(self) -> int:
        """Every open connection loses its far side; how many there were."""
        with self._lock:
            for connection in self._connections:
                connection.swallowed = True
            return len(self._connections)

    def clear(self) -> None:
        """Lift latency, bandwidth, armed resets and the black hole (swallowed connections stay dead)."""
        with self._lock:
            self._latency_s = 0.0
            self._rate = 0
            self._reset_budget = dict.fromkeys(DIRECTIONS)
            self._black_hole = False

    def target_down(self, timeout_s: float = 5.0) -> None:
        """Stop listening: a connect is refused, as at a dead host's port. Returns once it is so."""
        self._set_listening(False, timeout_s)

    def target_up(self, target: tuple[str, int] | None = None, timeout_s: float = 5.0) -> None:
        """Listen again on the same port, forwarding to ``target`` (the restarted host's address)."""
        with self._lock:
            if target is not None:
                self._target = target
        self._set_listening(True, timeout_s)

    def _set_listening(self, on: bool, timeout_s: float) -> None:
        with self._lock:
            self._want_listening = on
            if not self._listening_changed.wait_for(
                lambda: self._is_listening == on or self._stop.is_set(), timeout_s
            ):
                raise TimeoutError(f"proxy {self.name} did not {'listen' if on else 'stop listening'}")

    # -- accepting ----------------------------------------------------------------------------------
    def _accept(self) -> None:
        while not self._stop.is_set():
            self._reconcile_listener()
            listener = self._listener
            if listener is None:
                self._stop.wait(POLL_S)
                continue
            try:
                ready = select_readable(listener, POLL_S)
                if not ready:
                    continue
                client, _ = listener.accept()
            except OSError:
                continue
            with self._lock:
                self.counts["connections"] += 1
                connection = _Connection(client, swallowed=self._black_hole)
                if connection.swallowed:
                    self.counts["black_holed"] += 1
                thread = threading.Thread(
                    target=self._serve, args=(connection,), name=f"fault-proxy {self.name} link"
                )
                connection.thread = thread
                self._connections.append(connection)
            thread.start()
        _close(self._listener)
        self._listener = None

    def _reconcile_listener(self) -> None:
        with self._lock:
            want = self._want_listening
        if want and self._listener is None:
            for _ in range(100):
                try:
                    self._listener = socket.create_server((self.host, self.port))
                    break
                except OSError:  # the port still held a moment: try again shortly
                    self._stop.wait(POLL_S)
        elif not want and self._listener is not None:
            _close(self._listener)
            self._listener = None
        with self._lock:
            self._is_listening = self._listener is not None
            self._listening_changed.notify_all()

    # -- one connection -----------------------------------------------------------------------------
    def _serve(self, connection: _Connection) -> None:
        try:
            if not connection.swallowed:
                try:
                    connection.upstream = socket.create_connection(self.target, timeout=5)
                except OSError:
                    with self._lock:
                        self.counts["upstream_refused"] += 1
                    _reset(connection.client)
                    return
            self._pump(connection)
        finally:
            _close(connection.client)
            _close(connection.upstream)
            with self._lock:
                if connection in self._connections:
                    self._connections.remove(connection)

    def _pump(self, connection: _Connection) -> None:
        client = connection.client
        eof: set[str] = set()
        with selectors.DefaultSelector() as selector:
            selector.register(client, selectors.EVENT_READ, "requests")
            if connection.upstream is not None:
                selector.register(connection.upstream, selectors.EVENT_READ, "answers")
            while not self._stop.is_set():
                if connection.swallowed and connection.upstream is not None:
                    with contextlib.suppress(KeyError, ValueError):
                        selector.unregister(connection.upstream)
                    _close(connection.upstream)
                    connection.upstream = None
                    with self._lock:
                        self.counts["half_open"] += 1
                for key, _ in selector.select(POLL_S):
                    direction = str(key.data)
                    source = client if direction == "requests" else connection.upstream
                    if source is None:
                        continue
                    try:
                        data = source.recv(65536)
                    except OSError:
                        # A reset from one side: the other side gets one too.
                        if direction == "answers" and not connection.swallowed:
                            _reset(client)
                        return
                    if not data:
                        if direction == "requests":
                            return  # the terminal closed its end: nothing more to carry
                        if connection.swallowed:
                            continue
                        eof.add(direction)
                        with contextlib.suppress(KeyError, ValueError):
                            selector.unregister(source)
                        with contextlib.suppress(OSError):
                            client.shutdown(socket.SHUT_WR)  # the host's FIN, passed on
                        continue
                    if connection.swallowed or connection.upstream is None:
                        with self._lock:
                            self.counts["bytes_swallowed"] += len(data)
                        continue
                    target = connection.upstream if direction == "requests" else client
                    if not self._forward(connection, direction, data, target):
                        return

    def _forward(self, connection: _Connection, direction: str, data: bytes, target: socket.socket) -> bool:
        """Send ``data`` on with the faults in force; False when the connection was cut."""
        with self._lock:
            latency, rate = self._latency_s, self._rate
            budget = self._reset_budget[direction]
            cut_at: int | None = None
            if budget is not None and len(data) > budget:
                cut_at = budget
                self._reset_budget[direction] = None
            elif budget is not None:
                self._reset_budget[direction] = budget - len(data)
        if latency and self._stop.wait(latency):
            return False
        payload = data if cut_at is None else data[:cut_at]
        try:
            if rate:
                step = max(1, rate // 20)
                for start in range(0, len(payload), step):
                    target.sendall(payload[start : start + step])
                    if self._stop.wait(len(payload[start : start + step]) / rate):
                        return False
            else:
                target.sendall(payload)
        except OSError:
            _reset(connection.client)
            return False
        with self._lock:
            self.counts[f"bytes_{direction}"] += len(payload)
            if cut_at is not None:
                self.counts[f"reset_{direction}"] += 1
        if cut_at is not None:
            _reset(connection.upstream)
            connection.upstream = None
            _reset(connection.client)
            return False
        return True

    # -- the end ------------------------------------------------------------------------------------
    def open_connections(self) -> int:
        with self._lock:
            return len(self._connections)

    def close(self) -> None:
        self._stop.set()
        with self._lock:
            self._listening_changed.notify_all()
        self._accept_thread.join(timeout=10)
        with self._lock:
            threads = [c.thread for c in self._connections if c.thread is not None]
        for thread in threads:
            thread.join(timeout=10)


def select_readable(sock: socket.socket, timeout_s: float) -> bool:
    with selectors.DefaultSelector() as selector:
        selector.register(sock, selectors.EVENT_READ)
        return bool(selector.select(timeout_s))


# -- the schedule -------------------------------------------------------------------------------------
LINK_FAULTS = ("latency", "bandwidth", "reset", "black_hole", "half_open")
HOST_FAULTS = ("host_restart", "host_down")
FAULT_KINDS = LINK_FAULTS + HOST_FAULTS
LINKS = ("http", "iso")
EVERY_HOST = -1


@dataclass(frozen=True)
class Fault:
    """One fault: ``at_s`` after visit ``visit`` starts, on ``host`` (an index; -1 every host) and
    ``link`` (``http``/``iso``; host faults take both), lifted after ``duration_s``."""

    visit: int
    at_s: float
    kind: str
    host: int
    link: str = ""
    duration_s: float = 0.0
    params: Mapping[str, Any] = field(default_factory=dict)

    def describe(self) -> str:
        where = "every host" if self.host == EVERY_HOST else f"host {self.host}"
        extra = ", ".join(f"{k}={v}" for k, v in sorted(self.params.items()))
        link = f" {self.link}" if self.link else ""
        return (
            f"visit {self.visit} +{self.at_s:.2f}s {self.kind} on {where}{link}"
            f" for {self.duration_s:.2f}s {extra}".rstrip()
        )


def fault_schedule(seed: int, visits: int, *, hosts: int = 2, window_s: float = 1.0) -> list[Fault]:
    """A reproducible list of faults for ``visits`` visits: most visits get one, some none, some two;
    each fault starts within ``window_s`` of its visit's start. The same seed gives the same list."""
    rng = random.Random(seed)
    faults: list[Fault] = []
    for visit in range(visits):
        count = rng.choices((0, 1, 2), weights=(1, 6, 2))[0]
        host_fault_taken = False
        for _ in range(count):
            kind = rng.choice(FAULT_KINDS)
            if kind in HOST_FAULTS and host_fault_taken:
                kind = rng.choice(LINK_FAULTS)  # one host down at a time: the other one must serve
            at_s = round(rng.uniform(0.0, window_s), 3)
            if kind in HOST_FAULTS:
                host_fault_taken = True
                host = rng.randrange(hosts)
                duration = round(rng.uniform(1.0, 5.0), 2) if kind == "host_down" else 0.0
                faults.append(Fault(visit, at_s, kind, host, "", duration))
                continue
            # The first host carries most of the traffic (the terminal prefers it until it fails).
            host = rng.choices([*range(hosts), EVERY_HOST], weights=[5, *([2] * (hosts - 1)), 3])[0]
            link = rng.choice(LINKS)
            params: dict[str, Any] = {}
            duration = round(rng.uniform(0.5, 3.0), 2)
            if kind == "latency":
                # Sometimes longer than the terminal waits: the answer comes after it gave up.
                params["seconds"] = round(rng.choice((rng.uniform(0.05, 0.8), rng.uniform(1.5, 4.0))), 3)
            elif kind == "bandwidth":
                params["bytes_per_s"] = rng.choice((300, 1000, 4000, 16000))
            elif kind == "reset":
                params["nbytes"] = rng.randrange(0, 400)
                params["direction"] = rng.choice(DIRECTIONS)
                duration = round(rng.uniform(2.0, 5.0), 2)  # armed until a message passes, or lifted
            elif kind == "half_open":
                duration = 0.0
            faults.append(Fault(visit, at_s, kind, host, link, duration, params))
    faults.sort(key=lambda f: (f.visit, f.at_s))
    return faults


# -- playing it ---------------------------------------------------------------------------------------
class HostControl(Protocol):
    """What the driver needs of the hosts behind the proxies: kill one (SIGKILL) and start it again."""

    def kill(self, index: int) -> None: ...

    def restart(self, index: int) -> Mapping[str, tuple[str, int]]:
        """Start host ``index`` again; its new addresses by link (``http``, ``iso``)."""
        ...


class FaultDriver:
    """Plays the schedule: :meth:`visit` (a context manager) runs one visit's faults on a thread while the
    visit runs, and at its end lifts what is still in force and brings every host back."""

    def __init__(
        self,
        faults: Sequence[Fault],
        proxies: Mapping[tuple[int, str], FaultProxy],
        hosts: HostControl,
        host_count: int,
    ) -> None:
        self.faults = list(faults)
        self.proxies = dict(proxies)
        self.hosts = hosts
        self.host_count = host_count
        self.injected: Counter[str] = Counter()
        self.log: list[str] = []
        self.errors: list[str] = []
        self._down: set[int] = set()
        self._lock = threading.Lock()

    def _targets(self, fault: Fault) -> list[FaultProxy]:
        hosts = range(self.host_count) if fault.host == EVERY_HOST else [fault.host]
        links = [fault.link] if fault.link else list(LINKS)
        return [self.proxies[h, link] for h in hosts for link in links]

    def _apply(self, fault: Fault, stop: threading.Event) -> None:
        self.log.append(fault.describe())
        self.injected[fault.kind] += 1
        if fault.kind in HOST_FAULTS:
            self._host_down(fault.host)
            if fault.kind == "host_down":
                stop.wait(fault.duration_s)
            self._host_up(fault.host)
            return
        for proxy in self._targets(fault):
            if fault.kind == "latency":
                proxy.latency(float(fault.params["seconds"]))
            elif fault.kind == "bandwidth":
                proxy.bandwidth(int(fault.params["bytes_per_s"]))
            elif fault.kind == "reset":
                proxy.reset_after(int(fault.params["nbytes"]), str(fault.params["direction"]))
            elif fault.kind == "black_hole":
                proxy.black_hole(True)
            elif fault.kind == "half_open":
                proxy.half_open()
        if fault.duration_s:
            stop.wait(fault.duration_s)
            for proxy in self._targets(fault):
                proxy.clear()

    def _host_down(self, index: int) -> None:
        with self._lock:
            if index in self._down:
                return
            self._down.add(index)
        self.hosts.kill(index)  # first: what was in flight on it dies with it
        for link in LINKS:
            self.proxies[index, link].target_down()

    def _host_up(self, index: int) -> None:
        with self._lock:
            if index not in self._down:
                return
        addresses = self.hosts.restart(index)
        for link in LINKS:
            self.proxies[index, link].target_up(addresses[link])
        with self._lock:
            self._down.discard(index)

    @contextlib.contextmanager
    def visit(self, number: int) -> Iterator[list[Fault]]:
        """Runs visit ``number``'s faults in the background while the body runs; yields them. Every fault
        is played in full, also one due after the visit ended (it then meets idle connections: the link
        monitor's, the card link's kept-open one), so the same seed always injects the same faults."""
        mine = [f for f in self.faults if f.visit == number]
        stop = threading.Event()  # set only if the body raised: lift everything at once
        started = time.monotonic()

        def play(fault: Fault) -> None:
            if stop.wait(max(0.0, fault.at_s - (time.monotonic() - started))):
                return
            try:
                self._apply(fault, stop)
            except Exception as exc:
                self.errors.append(f"{fault.describe()}: {type(exc).__name__}: {exc}")

        threads = [threading.Thread(target=play, args=(f,), name=f"fault {f.kind}") for f in mine]
        for thread in threads:
            thread.start()
        try:
            yield mine
        except BaseException:
            stop.set()
            raise
        finally:
            for thread in threads:
                thread.join(timeout=120)
            self.heal()

    def heal(self) -> None:
        """Every fault lifted, every host up."""
        for proxy in self.proxies.values():
            proxy.clear()
        for index in sorted(self._down):
            try:
                self._host_up(index)
            except Exception as exc:
                self.errors.append(f"host {index} did not come back: {type(exc).__name__}: {exc}")
