"""Card + PIN and the logged-in services: the journey for the menu's "insert card" and its screens."""

from __future__ import annotations

from kiosk.journeys.card_login import CardJourney
from kiosk.journeys.core import Journey
from kiosk.journeys.session import SessionConfig
from ui.kiosk_app import JourneyStart, register_journey_factory, register_screens
from ui.screens.card import CardInsertScreen, CardTakeScreen, CardWaitScreen, NoticeScreen, PinEntryScreen
from ui.screens.enquiry import BalanceScreen, HistoryRangeScreen, HistoryScreen, StatementScreen
from ui.screens.services import AnythingElseScreen, ServicesMenuScreen
from ui.screens.transfer import (
    TransferAmountScreen,
    TransferConfirmScreen,
    TransferKindScreen,
    TransferOwnAccountScreen,
    TransferPayeeScreen,
    TransferResultScreen,
)

# Shared by every login (card and face): the services, enquiries, transfers, notices, PIN re-entry.
SESSION_SCREENS = (
    CardWaitScreen,
    NoticeScreen,
    PinEntryScreen,
    ServicesMenuScreen,
    AnythingElseScreen,
    BalanceScreen,
    StatementScreen,
    HistoryRangeScreen,
    HistoryScreen,
    TransferKindScreen,
    TransferOwnAccountScreen,
    TransferPayeeScreen,
    TransferAmountScreen,
    TransferConfirmScreen,
    TransferResultScreen,
    CardTakeScreen,
)


def session_config(start: JourneyStart) -> SessionConfig:
    overrides = dict(start.context.get("session_config", {}))
    return SessionConfig.from_settings(start.settings, **overrides)


def card_journey(start: JourneyStart) -> Journey:
    return CardJourney(
        start.session_id,
        start.lang,
        session_config(start),
        start.services.today(),
        pin_tries=start.settings.security.pin_tries,
    )


register_screens(SESSION_SCREENS)
register_journey_factory("insert_card", card_journey, screens=(CardInsertScreen,))
