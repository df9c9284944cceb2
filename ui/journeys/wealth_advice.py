"""Wealth advice's screens (the journey is a logged-in service: kiosk/journeys/wealth_advice.py registers
it with the services menu; its screens are shared screens here, like the enquiries')."""

from __future__ import annotations

import kiosk.journeys.wealth_advice  # noqa: F401  (registers the service with the services menu)
from ui.kiosk_app import register_screens
from ui.screens.advice_questionnaire import AdviceAmountScreen, AdviceIntroScreen, AdviceQuestionScreen
from ui.screens.advice_result import (
    AdviceCoolingOffScreen,
    AdviceProductScreen,
    AdviceRegisteredScreen,
    AdviceResultScreen,
    AdviceShelfScreen,
)

ADVICE_SCREENS = (
    AdviceIntroScreen,
    AdviceQuestionScreen,
    AdviceAmountScreen,
    AdviceResultScreen,
    AdviceShelfScreen,
    AdviceProductScreen,
    AdviceCoolingOffScreen,
    AdviceRegisteredScreen,
)

register_screens(ADVICE_SCREENS)
