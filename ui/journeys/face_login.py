"""Registers face login (menu service ``face_login``): after the match, the same services menu as a card."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from kiosk.journeys.core import Journey
from kiosk.journeys.face_login import FaceLoginJourney, FaceLoginRules
from kiosk.journeys.session import CustomerSession, ServicesMenu, SessionConfig
from ui.kiosk_app import JourneyStart, register_journey_factory
from ui.screens.face_check import FaceCheckScreen
from ui.screens.face_login import FaceLoginAccountScreen, FaceLoginIdentifyScreen


def build_face_login(start: JourneyStart) -> FaceLoginJourney:
    services = start.services

    def services_menu(data: Mapping[str, Any]) -> Journey:
        session = CustomerSession(
            session_id=start.session_id,
            customer_id=int(data["customer_id"]),
            account_id=int(data["account_id"]),
            account_masked=str(data.get("account_masked", "")),
            lang=start.lang,
            auth="face",
            today=services.today(),
        )
        return ServicesMenu(session, SessionConfig.from_settings(start.settings))

    return FaceLoginJourney(
        FaceLoginRules.from_settings(start.settings), session_id=start.session_id, services_menu=services_menu
    )


register_journey_factory(
    "face_login", build_face_login, (FaceLoginIdentifyScreen, FaceCheckScreen, FaceLoginAccountScreen)
)
