"""The face check effect: liveness (a random challenge) then a 1:1 match, in the biometrics worker process.

``camera.face_check`` with ``reference_photo`` (the ID card's JPEG, account opening: matched here) or
``customer_id`` (face login: the live encoding is matched by the host against the enrolled template).
A task thread takes the camera driver's newest frames, feeds them to a liveness session in the worker
(dlib never runs in the GUI process: it would hold the GIL), and posts ``camera.face_progress`` events
whenever the prompt changes (look at the camera → blink → turn left …), which the face screen shows.
When liveness passes, the next fresh frames are matched against the reference; with ``enrol`` the
matched frame's encoding becomes the template the host stores (encrypted there). Every decision is
journaled (``face_liveness``, ``face_verification``) without any image, landmark or encoding.

The result value: ``{"matched", "liveness_failed", "prompt", "template" (enrol only), "liveness",
"verification"}``; failures of the camera end with code ``offline``, of the worker with ``worker``.
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Mapping
from typing import TYPE_CHECKING, Any

import numpy as np

from app.effects import EffectContext, handler
from kiosk.biometrics.faces import FaceOutcome
from kiosk.biometrics.liveness import LivenessProgress
from kiosk.biometrics.verify import (
    ENCODING_SIZE,
    VerificationDecision,
    VerificationOutcome,
    decide,
    template_to_bytes,
)
from kiosk.biometrics.worker import WorkerFailure

if TYPE_CHECKING:
    from kiosk.biometrics.worker import BiometricsWorker

log = logging.getLogger(__name__)

CAMERA_GRACE_S = 2.0  # no new frame for this long: the camera is down
# Fresh frames tried for the match: right after the liveness challenge the customer may still be turning
# back or blinking, so a clear match in any of these few frames of the same live session counts.
MATCH_FRAMES = 4
FRAME_MAX_AGE_S = 0.5

_tasks: set[threading.Thread] = set()
_tasks_lock = threading.Lock()


def join_face_checks(timeout: float = 10.0) -> bool:
    """Wait for every face-check thread to end (shutdown, tests). True when none is left."""
    deadline = time.monotonic() + timeout
    while True:
        with _tasks_lock:
            alive = [t for t in _tasks if t.is_alive()]
        if not alive:
            return True
        remaining = deadline - time.monotonic()
        if remaining <= 0:
            return False
        alive[0].join(remaining)


def _journal(ctx: EffectContext, event: str, fields: Mapping[str, Any]) -> None:
    journal = getattr(ctx.services, "journal", None)
    if journal is None:
        return
    clean = {k: v for k, v in fields.items() if k != "event"}
    try:
        journal.record(
            event, session_id=ctx.params.get("session_id"), purpose=ctx.params.get("purpose"), **clean
        )
    except Exception:  # the journal failing must not decide a face check; it is logged loudly
        log.exception("journal record %s failed", event)


class _FaceCheck:
    def __init__(self, ctx: EffectContext, camera: Any, worker: BiometricsWorker) -> None:
        self.ctx = ctx
        self.camera = camera
        self.worker = worker
        self.last_seq = -1
        self.last_new_frame = time.monotonic()

    def next_frame(self) -> Any:
        """The newest frame not seen yet; None when cancelled or the camera stopped delivering."""
        while not self.ctx.token.cancelled:
            frame = self.camera.latest_frame(max_age=FRAME_MAX_AGE_S)
            if frame is not None and frame.seq != self.last_seq:
                self.last_seq = frame.seq
                self.last_new_frame = time.monotonic()
                return frame
            if time.monotonic() - self.last_new_frame > CAMERA_GRACE_S:
                return None
            self.ctx.token.wait(0.01)
        return None

    def run(self) -> None:
        ctx = self.ctx
        params = ctx.params
        # Account opening compares with the ID card's photo here. Face login has no reference here: the
        # host holds the enrolled template and matches the live encoding this terminal sends.
        reference_photo: bytes | None = params.get("reference_photo") or None
        session = self.worker.liveness_start()
        if isinstance(session, WorkerFailure):
            ctx.done(False, {"prompt": session.prompt}, code="worker", detail=session.reason.value)
            return
        try:
            progress = self._liveness(session)
        finally:
            if not isinstance(session, WorkerFailure):
                self.worker.liveness_end(session)
        if progress is None:
            return  # cancelled, or done() already said why
        decision = progress.decision
        assert decision is not None
        _journal(ctx, "face_liveness", decision.to_journal())
        if not decision.passed:
            ctx.done(
                True,
                {"matched": False, "liveness_failed": True, "prompt": "liveness.failed",
                 "liveness": decision.to_journal()},
            )  # fmt: skip
            return
        ctx.progress("camera.face_progress", prompt="liveness.passed", challenge="", step=0, steps=0)
        self._match(reference_photo, decision.to_journal())

    def _verify_at_host(self, image: Any) -> VerificationDecision | WorkerFailure:
        """The live face's encoding from the worker, matched by the host against the enrolled template."""
        analysis = self.worker.analyse(image, encoding=True)
        if isinstance(analysis, WorkerFailure):
            return analysis
        threshold = self.worker.config.threshold
        if analysis.encoding is None or analysis.outcome is not FaceOutcome.OK:
            # No single whole face: the prompt the worker would give (decide() answers before comparing,
            # so the placeholder reference is never used), without asking the host.
            return decide(analysis, np.zeros(ENCODING_SIZE), threshold, 1)
        customer_id = int(self.ctx.params["customer_id"])
        answer = self.ctx.services.host.match_face(customer_id, analysis.encoding.tolist())
        outcome = VerificationOutcome(answer.outcome)
        return VerificationDecision(
            outcome, answer.distance, answer.threshold, analysis.faces_found, 1, "host"
        )

    def _liveness(self, session: str) -> LivenessProgress | None:
        ctx = self.ctx
        shown: tuple[Any, ...] = ()
        while True:
            frame = self.next_frame()
            if frame is None:
                if not ctx.token.cancelled:
                    ctx.done(False, code="offline", detail="the camera stopped delivering frames")
                return None
            progress = self.worker.liveness_feed(session, frame.image, frame.monotonic)
            if isinstance(progress, WorkerFailure):
                ctx.done(False, {"prompt": progress.prompt}, code="worker", detail=progress.reason.value)
                return None
            if progress.finished:
                return progress
            challenge = progress.challenge.value if progress.challenge is not None else ""
            now = (progress.prompt, challenge, progress.step, progress.attempt)
            if now != shown:
                shown = now
                ctx.progress(
                    "camera.face_progress",
                    prompt=progress.prompt,
                    challenge=challenge,
                    step=progress.step + 1 if challenge else 0,
                    steps=progress.steps if challenge else 0,
                    liveness_attempt=progress.attempt,
                    liveness_attempts_left=progress.attempts_left,
                )

    def _match(self, reference_photo: bytes | None, liveness: dict[str, Any]) -> None:
        ctx = self.ctx
        decision: VerificationDecision | None = None
        frame = None
        for _ in range(MATCH_FRAMES):
            candidate = self.next_frame()
            if candidate is None:
                if not ctx.token.cancelled:
                    ctx.done(False, code="offline", detail="the camera stopped delivering frames")
                return
            answer = (
                self.worker.verify(candidate.image, reference_image=reference_photo)
                if reference_photo is not None
                else self._verify_at_host(candidate.image)
            )
            if isinstance(answer, WorkerFailure):
                ctx.done(False, {"prompt": answer.prompt}, code="worker", detail=answer.reason.value)
                return
            if decision is None or _closer(answer, decision):
                decision, frame = answer, candidate
            if answer.matched:
                break  # a match needs no more frames; a no-match or no usable face looks at the next one
        assert decision is not None and frame is not None
        _journal(ctx, "face_verification", decision.to_journal())
        value: dict[str, Any] = {
            "matched": decision.matched,
            "liveness_failed": False,
            "prompt": decision.prompt,
            "liveness": liveness,
            "verification": decision.to_journal(),
        }
        if decision.matched and ctx.params.get("enrol"):
            analysis = self.worker.analyse(frame.image, encoding=True)
            encoding = getattr(analysis, "encoding", None)
            if encoding is None:  # matched a moment ago; a worker hiccup now: the customer tries again
                ctx.done(False, {"prompt": "face.try_again"}, code="worker", detail="no encoding to enrol")
                return
            value["template"] = template_to_bytes(encoding)
        ctx.done(True, value)


@handler("camera.face_check")
def face_check(ctx: EffectContext) -> None:
    camera = ctx.devices.camera if ctx.devices is not None else None
    if camera is None:
        ctx.done(False, code="offline", detail="no camera configured")
        return
    worker = ctx.services.face_worker()
    task = _FaceCheck(ctx, camera, worker)

    def run() -> None:
        try:
            task.run()
        except Exception as exc:  # a value for the journey, never a dead thread with a silent screen
            log.exception("face check failed")
            ctx.done(False, {"prompt": "face.try_again"}, code="error", detail=str(exc))
        finally:
            with _tasks_lock:
                _tasks.discard(threading.current_thread())

    # Not the Qt pool: a face check lasts seconds, and the pool's busy overlay would hide the prompts.
    thread = threading.Thread(target=run, name="face-check", daemon=True)
    with _tasks_lock:
        _tasks.add(thread)
    thread.start()


def _closer(answer: VerificationDecision, best: VerificationDecision) -> bool:
    """Whether ``answer`` beats ``best``: a face with a distance beats none, a smaller distance wins."""
    if answer.distance is None:
        return False
    return best.distance is None or answer.distance < best.distance
