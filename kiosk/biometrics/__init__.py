"""Face biometrics: 1:1 verification and liveness, run in a warm worker process.

The public pieces are the :class:`~kiosk.biometrics.config.BiometricsConfig`, the decision value types
(:mod:`~kiosk.biometrics.verify`, :mod:`~kiosk.biometrics.liveness`) and the process client
:class:`~kiosk.biometrics.worker.BiometricsWorker`. Importing this package is cheap: dlib and
face_recognition are imported only where detection actually runs (inside the worker process).
"""

from kiosk.biometrics.config import BiometricsConfig

__all__ = ["BiometricsConfig"]
