"""A warm biometrics worker PROCESS and its thread-safe client.

dlib holds the GIL while it detects: run in a thread of the GUI process, one detection stalled the GUI
thread for 85 ms at a time. So the face work runs in a separate process (``multiprocessing`` *spawn*
context: no forked Qt or locks), which loads the models once and stays warm. The client sends requests
with ids over a pipe; one reader thread hands each reply to the waiting caller, so any thread may call.

- **Cancel**: a queued request is skipped by the worker; a running one cannot be interrupted (dlib does not
  poll), its late reply is dropped. Either way the caller gets ``WorkerFailure(CANCELLED)`` at once.
- **Crash / hang**: if the process dies (or a request exceeds ``request_timeout_s``) every waiting caller
  gets ``WorkerFailure(CRASHED/TIMEOUT)`` — the UI asks the customer to try again — and a fresh worker is
  started for the next request. Liveness sessions lived in the dead process and must be restarted.
- **Shutdown**: :meth:`BiometricsWorker.close` asks the process to stop and joins it (killing it if it
  will not stop in time).
"""

from __future__ import annotations

import itertools
import logging
import multiprocessing
import os
import random
import threading
import time
from dataclasses import dataclass
from enum import StrEnum
from multiprocessing.connection import Connection
from typing import Any, TypeVar

import numpy as np
import numpy.typing as npt

from kiosk.biometrics.config import BiometricsConfig
from kiosk.biometrics.faces import FaceAnalysis
from kiosk.biometrics.images import load_rgb, normalise_array
from kiosk.biometrics.liveness import LivenessProgress
from kiosk.biometrics.verify import Comparison, VerificationDecision

log = logging.getLogger(__name__)
T = TypeVar("T")


class WorkerFailureReason(StrEnum):
    CRASHED = "crashed"
    TIMEOUT = "timeout"
    CANCELLED = "cancelled"
    CLOSED = "closed"
    BAD_REQUEST = "bad_request"  # e.g. an unreadable image or an unknown liveness session


@dataclass(frozen=True)
class WorkerFailure:
    """The request produced no decision; the customer is asked to try again."""

    reason: WorkerFailureReason
    detail: str = ""
    prompt: str = "face.try_again"

    def to_journal(self) -> dict[str, Any]:
        return {"event": "face_worker_failure", "reason": self.reason.value, "detail": self.detail}


@dataclass(frozen=True)
class WorkerStats:
    pid: int
    rss_bytes: int
    peak_rss_bytes: int
    requests_served: int
    restarts: int


# --- the worker process ------------------------------------------------------------------------------


def _peak_rss_bytes() -> int:
    import resource

    # ru_maxrss is in KiB on Linux.
    return int(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss) * 1024


def _rss_bytes() -> int:
    try:
        with open("/proc/self/statm") as statm:
            return int(statm.read().split()[1]) * os.sysconf("SC_PAGE_SIZE")
    except OSError:
        return _peak_rss_bytes()


def _passive_detector(config: BiometricsConfig) -> Any:
    """The MiniFASNet detector for liveness sessions, or None when the config turns it off."""
    if config.passive_every_frames <= 0:
        return None
    from kiosk.biometrics.passive import PassiveDetector

    return PassiveDetector()


def _worker_main(
    config: BiometricsConfig, requests: Connection, replies: Connection, cancels: Connection
) -> None:
    """Entry point of the worker process: load the models once, then serve requests until told to stop."""
    from kiosk.biometrics.faces import FaceAnalyzer
    from kiosk.biometrics.liveness import LivenessSession
    from kiosk.biometrics.verify import check_template, compare, decide

    analyzer = FaceAnalyzer(config)
    passive = _passive_detector(config)
    sessions: dict[str, LivenessSession] = {}
    cancelled: set[int] = set()
    served = 0
    replies.send(("ready", os.getpid()))

    def landmarks_only(rgb: npt.NDArray[np.uint8]) -> FaceAnalysis:
        return analyzer.analyse(rgb, encoding=False, landmarks=True)

    while True:
        try:
            message = requests.recv()
        except (EOFError, OSError):
            return
        while cancels.poll():
            cancelled.add(cancels.recv())
        request_id, kind, args = message
        if kind == "stop":
            replies.send((request_id, "ok", None))
            return
        if request_id in cancelled:
            cancelled.discard(request_id)
            continue
        try:
            if kind == "analyse":
                result: Any = analyzer.analyse(
                    args["image"], encoding=args["encoding"], landmarks=args["landmarks"]
                )
            elif kind == "verify":
                probe = analyzer.analyse(args["probe"])
                reference_faces = 1
                if args.get("reference_image") is not None:
                    reference = analyzer.analyse(args["reference_image"])
                    reference_faces = reference.faces_found
                    reference_encoding = reference.encoding
                else:
                    reference_encoding = check_template(args["template"])
                result = decide(probe, reference_encoding, args["threshold"], reference_faces)
            elif kind == "compare":
                result = compare(analyzer.analyse(args["a"]), analyzer.analyse(args["b"]), args["threshold"])
            elif kind == "liveness_start":
                rng = random.Random(args["seed"]) if args["seed"] is not None else None
                sessions[args["session"]] = LivenessSession(
                    landmarks_only, config, rng, passive=passive.score if passive is not None else None
                )
                result = args["session"]
            elif kind == "liveness_feed":
                session = sessions.get(args["session"])
                if session is None:
                    result = WorkerFailure(WorkerFailureReason.BAD_REQUEST, "unknown liveness session")
                else:
                    result = session.feed(args["frame"], args["t"])
                    if result.finished:
                        sessions.pop(args["session"], None)
            elif kind == "liveness_end":
                result = sessions.pop(args["session"], None) is not None
            elif kind == "stats":
                result = (os.getpid(), _rss_bytes(), _peak_rss_bytes(), served)
            else:
                result = WorkerFailure(WorkerFailureReason.BAD_REQUEST, f"unknown request {kind!r}")
            served += 1
            replies.send((request_id, "ok", result))
        except Exception as exc:  # one bad frame must not take the warm worker down
            log.exception("biometrics request %s failed", kind)
            replies.send((request_id, "error", f"{exc.__class__.__name__}: {exc}"))


# --- the client ------------------------------------------------------------------------------------------


class _Pending:
    __slots__ = ("event", "value")

    def __init__(self) -> None:
        self.event = threading.Event()
        self.value: Any = None

    def resolve(self, value: Any) -> None:
        if not self.event.is_set():
            self.value = value
            self.event.set()


class Request:
    """A submitted request: wait for its result, or cancel it from any thread."""

    def __init__(self, worker: BiometricsWorker, request_id: int, pending: _Pending) -> None:
        self._worker = worker
        self.request_id = request_id
        self._pending = pending

    def result(self, timeout: float | None = None) -> Any:
        limit = self._worker.config.request_timeout_s if timeout is None else timeout
        if not self._pending.event.wait(limit):
            self._worker._on_timeout(self.request_id)
        return self._pending.value

    def cancel(self) -> None:
        self._worker.cancel(self.request_id)

    @property
    def done(self) -> bool:
        return self._pending.event.is_set()


class BiometricsWorker:
    """Client of the warm worker process. Thread-safe; every call returns a value, never raises for the
    worker's sake: a decision dataclass, or :class:`WorkerFailure` when the customer should try again."""

    def __init__(self, config: BiometricsConfig | None = None) -> None:
        self.config = config or BiometricsConfig()
        self._context = multiprocessing.get_context("spawn")
        self._lock = threading.RLock()
        self._send_lock = threading.Lock()
        self._ids = itertools.count(1)
        self._pending: dict[int, _Pending] = {}
        self._process: Any = None
        self._requests: Connection | None = None
        self._cancels: Connection | None = None
        self._reader: threading.Thread | None = None
        self._ready = threading.Event()
        self._closed = False
        self._generation = 0
        self.restarts = 0

    # lifecycle

    def start(self) -> None:
        """Start the process (returns at once; the first request waits until the models are loaded)."""
        with self._lock:
            if self._closed:
                raise RuntimeError("the biometrics worker is closed")
            if self._process is None:
                self._spawn()

    def wait_ready(self, timeout: float | None = None) -> bool:
        """Wait until the models are loaded; False if the process died or ``timeout`` passed first."""
        self.start()
        deadline = time.monotonic() + (self.config.startup_timeout_s if timeout is None else timeout)
        while time.monotonic() < deadline:
            with self._lock:
                ready, process = self._ready, self._process
            if ready.wait(0.05):
                return True
            if process is None or not process.is_alive():
                return False
        return False

    def _spawn(self) -> None:
        request_read, request_write = self._context.Pipe(duplex=False)
        reply_read, reply_write = self._context.Pipe(duplex=False)
        cancel_read, cancel_write = self._context.Pipe(duplex=False)
        process = self._context.Process(
            target=_worker_main,
            args=(self.config, request_read, reply_write, cancel_read),
            name="smart-teller-biometrics",
            daemon=True,
        )
        process.start()
        # The child holds its own copies; closing ours lets EOF reach us when it dies.
        request_read.close()
        reply_write.close()
        cancel_read.close()
        self._generation += 1
        self._process = process
        self._requests = request_write
        self._cancels = cancel_write
        self._ready = threading.Event()
        self._reader = threading.Thread(
            target=self._read_replies,
            args=(reply_read, process, self._generation, self._ready),
            name="biometrics-reader",
            daemon=True,
        )
        self._reader.start()

    def close(self, timeout: float = 5.0) -> None:
        """Stop the worker and join its process; waiting callers get ``WorkerFailure(CLOSED)``."""
        with self._lock:
            if self._closed:
                return
            self._closed = True
            process, requests, reader = self._process, self._requests, self._reader
            self._process = None
        if process is not None and requests is not None:
            try:
                with self._send_lock:
                    requests.send((0, "stop", None))
            except (OSError, ValueError):
                pass
            process.join(timeout)
            if process.is_alive():
                process.kill()
                process.join(timeout)
            requests.close()
            if self._cancels is not None:
                self._cancels.close()
        if reader is not None and reader is not threading.current_thread():
            reader.join(timeout)
        self._fail_all(WorkerFailure(WorkerFailureReason.CLOSED))

    def __enter__(self) -> BiometricsWorker:
        self.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    @property
    def pid(self) -> int | None:
        process = self._process
        return None if process is None else int(process.pid)

    # requests

    def submit(self, kind: str, **args: Any) -> Request:
        request_id = next(self._ids)
        pending = _Pending()
        request = Request(self, request_id, pending)
        with self._lock:
            if self._closed:
                pending.resolve(WorkerFailure(WorkerFailureReason.CLOSED))
                return request
            if self._process is None or not self._process.is_alive():
                self._restart_locked("worker not running")
            self._pending[request_id] = pending
            connection = self._requests
        assert connection is not None
        try:
            with self._send_lock:
                connection.send((request_id, kind, args))
        except (OSError, ValueError, TypeError) as exc:  # TypeError: closed under us by a crash
            self._take(request_id, WorkerFailure(WorkerFailureReason.CRASHED, str(exc)))
        return request

    def cancel(self, request_id: int) -> None:
        """The caller stops waiting now; the worker skips the request if it has not started it."""
        if self._take(request_id, WorkerFailure(WorkerFailureReason.CANCELLED)):
            with self._lock:
                cancels = self._cancels
            try:
                if cancels is not None:
                    with self._send_lock:
                        cancels.send(request_id)
            except (OSError, ValueError):
                pass

    def _call(self, kind: str, timeout: float | None = None, **args: Any) -> Any:
        return self.submit(kind, **args).result(timeout)

    def analyse(
        self, image: Any, *, encoding: bool = True, landmarks: bool = False, timeout: float | None = None
    ) -> FaceAnalysis | WorkerFailure:
        rgb = _image_or_failure(image)
        if isinstance(rgb, WorkerFailure):
            return rgb
        result: FaceAnalysis | WorkerFailure = self._call(
            "analyse", timeout, image=rgb, encoding=encoding, landmarks=landmarks
        )
        return result

    def verify(
        self,
        probe: Any,
        *,
        reference_image: Any = None,
        template: npt.NDArray[np.float64] | None = None,
        timeout: float | None = None,
    ) -> VerificationDecision | WorkerFailure:
        """Live frame against an ID photo (``reference_image``) or an enrolled ``template``."""
        rgb = _image_or_failure(probe)
        if isinstance(rgb, WorkerFailure):
            return rgb
        reference_rgb = None
        if reference_image is not None:
            reference_rgb = _image_or_failure(reference_image)
            if isinstance(reference_rgb, WorkerFailure):
                return reference_rgb
        result: VerificationDecision | WorkerFailure = self._call(
            "verify",
            timeout,
            probe=rgb,
            reference_image=reference_rgb,
            template=template,
            threshold=self.config.threshold,
        )
        return result

    def compare(self, a: Any, b: Any, *, timeout: float | None = None) -> Comparison | WorkerFailure:
        rgb_a, rgb_b = _image_or_failure(a), _image_or_failure(b)
        for rgb in (rgb_a, rgb_b):
            if isinstance(rgb, WorkerFailure):
                return rgb
        result: Comparison | WorkerFailure = self._call(
            "compare", timeout, a=rgb_a, b=rgb_b, threshold=self.config.threshold
        )
        return result

    def liveness_start(self, seed: int | None = None) -> str | WorkerFailure:
        """A new liveness session in the worker; ``seed`` only for tests (default: OS randomness)."""
        session = f"live-{next(self._ids)}-{os.urandom(4).hex()}"
        result: str | WorkerFailure = self._call("liveness_start", None, session=session, seed=seed)
        return result

    def liveness_feed(
        self, session: str, frame: npt.NDArray[Any], t: float, *, timeout: float | None = None
    ) -> LivenessProgress | WorkerFailure:
        rgb = _image_or_failure(frame)
        if isinstance(rgb, WorkerFailure):
            return rgb
        result: LivenessProgress | WorkerFailure = self._call(
            "liveness_feed", timeout, session=session, frame=rgb, t=t
        )
        return result

    def liveness_end(self, session: str) -> None:
        self._call("liveness_end", None, session=session)

    def stats(self) -> WorkerStats | WorkerFailure:
        result = self._call("stats", None)
        if isinstance(result, WorkerFailure):
            return result
        pid, rss, peak, served = result
        return WorkerStats(pid, rss, peak, served, self.restarts)

    # internals

    def _take(self, request_id: int, value: Any) -> bool:
        with self._lock:
            pending = self._pending.pop(request_id, None)
        if pending is None:
            return False
        pending.resolve(value)
        return True

    def _fail_all(self, failure: WorkerFailure) -> None:
        with self._lock:
            pending, self._pending = self._pending, {}
        for waiter in pending.values():
            waiter.resolve(failure)

    def _on_timeout(self, request_id: int) -> None:
        # A request that takes this long means a hung worker: replace it, the customer tries again.
        if self._take(request_id, WorkerFailure(WorkerFailureReason.TIMEOUT)):
            log.warning("biometrics request %d timed out; restarting the worker", request_id)
            with self._lock:
                if not self._closed:
                    self._restart_locked("request timed out")

    def _restart_locked(self, why: str) -> None:
        old = self._process
        if old is not None:
            self.restarts += 1
            log.warning("restarting the biometrics worker (%s)", why)
            if old.is_alive():
                old.kill()
            old.join(5)
        for connection in (self._requests, self._cancels):
            if connection is not None:
                connection.close()
        self._requests = self._cancels = None
        self._spawn()

    def _read_replies(
        self, replies: Connection, process: Any, generation: int, ready: threading.Event
    ) -> None:
        try:
            while True:
                try:
                    message = replies.recv()
                except (EOFError, OSError):
                    break
                if message[0] == "ready":
                    ready.set()
                    continue
                request_id, status, value = message
                if status == "error":
                    value = WorkerFailure(WorkerFailureReason.BAD_REQUEST, str(value))
                self._take(request_id, value)
        finally:
            replies.close()
            with self._lock:
                current = generation == self._generation and not self._closed
                if current:
                    # The process died under us: whoever waits gets "try again"; the next call restarts it.
                    process.join(1)
                    self._process = None
                    self.restarts += 1
                    for connection in (self._requests, self._cancels):
                        if connection is not None:
                            connection.close()
                    self._requests = self._cancels = None
            if current:
                log.warning("biometrics worker exited (code %s)", process.exitcode)
                self._fail_all(WorkerFailure(WorkerFailureReason.CRASHED, f"exit code {process.exitcode}"))


def _image_or_failure(image: Any) -> npt.NDArray[np.uint8] | WorkerFailure:
    from kiosk.biometrics.images import ImageError

    try:
        if isinstance(image, np.ndarray):
            return normalise_array(image)
        return load_rgb(image)
    except ImageError as exc:
        return WorkerFailure(WorkerFailureReason.BAD_REQUEST, str(exc))
