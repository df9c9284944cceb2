"""Screens for bill payment and loan pre-qualification (logged-in services started from the services menu).

The journeys themselves register with the services menu from ``kiosk.journeys.bill_payment`` and
``kiosk.journeys.loan``; their screens register here so every kiosk window has them.
"""

from __future__ import annotations

from ui.kiosk_app import register_screens
from ui.screens.billing_steps import BILLING_SCREENS
from ui.screens.loan_steps import LOAN_SCREENS

register_screens((*BILLING_SCREENS, *LOAN_SCREENS))
