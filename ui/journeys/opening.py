"""Registers account opening (menu service ``open_account``) and its screens."""

from __future__ import annotations

from kiosk.journeys.opening import OpeningJourney, OpeningRules
from ui.kiosk_app import JourneyStart, register_journey_factory
from ui.screens.face_check import FaceCheckScreen
from ui.screens.opening_card import OpeningDoneScreen, OpeningPinScreen, OpeningTakeCardScreen
from ui.screens.opening_common import OpeningWorkingScreen
from ui.screens.opening_details import OpeningAccountTypeScreen, OpeningDetailsScreen, OpeningTermsScreen
from ui.screens.opening_id import OpeningIdentityScreen, OpeningIdScreen

OPENING_SCREENS = (
    OpeningIdScreen,
    OpeningIdentityScreen,
    FaceCheckScreen,
    OpeningDetailsScreen,
    OpeningTermsScreen,
    OpeningAccountTypeScreen,
    OpeningWorkingScreen,
    OpeningPinScreen,
    OpeningTakeCardScreen,
    OpeningDoneScreen,
)


def build_opening(start: JourneyStart) -> OpeningJourney:
    return OpeningJourney(
        OpeningRules.from_settings(start.settings),
        today=start.services.today(),
        session_id=start.session_id,
        lang=start.lang,
    )


register_journey_factory("open_account", build_opening, OPENING_SCREENS)
