"""Moved to :mod:`hostlink.chaos` (the bank's ledger has crash points too, and the bank must not import
``kiosk``). This name stays only for ``app/effects/printer.py`` and ``app/effects/card_dispenser.py``,
which import it and are being edited elsewhere; point them at ``hostlink.chaos`` and delete this module.

A re-export, not a copy: the armed target and the hit counts live in ``hostlink.chaos`` alone, so
``configure`` through either name arms the same crash points.
"""

from hostlink.chaos import ENV_CRASH_AT, ENV_CRASH_LOG, configure, crash_point, hits

__all__ = ["ENV_CRASH_AT", "ENV_CRASH_LOG", "configure", "crash_point", "hits"]
