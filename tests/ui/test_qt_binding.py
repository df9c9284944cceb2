"""The Qt binding itself: PySide6 6.12.0 dropped a reference to ``True`` on every ``Signal.emit()``, which
aborts the interpreter (``bool_dealloc``) after a few thousand emits — a kiosk that runs for days emits
millions. pyproject.toml pins a release without the bug; this test fails if a release with it comes back.
"""

import sys

from PySide6.QtCore import QObject, Signal


class _Emitter(QObject):
    pair = Signal(str, str)
    payload = Signal(object)
    flag = Signal(bool, object)


def test_emitting_signals_keeps_the_reference_counts_of_singletons(qapp: object) -> None:
    emitter = _Emitter()
    received: list[object] = []
    emitter.payload.connect(received.append)
    before = {name: sys.getrefcount(obj) for name, obj in (("True", True), ("False", False), ("None", None))}
    for index in range(300):
        emitter.pair.emit("a", "b")
        emitter.payload.emit({"n": index})
        emitter.flag.emit(index % 2 == 0, None)
    after = {name: sys.getrefcount(obj) for name, obj in (("True", True), ("False", False), ("None", None))}
    assert len(received) == 300
    for name in before:
        # Other threads may hold a few transient references; a leak of one per emit would be ≥ 300.
        assert abs(after[name] - before[name]) < 50, (name, before[name], after[name])
