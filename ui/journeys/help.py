"""Registers the main menu's ``help`` service: the offline FAQ assistant and "call staff"."""

from __future__ import annotations

from kiosk.journeys.help import HelpJourney
from ui.kiosk_app import JourneyStart, register_journey_factory
from ui.screens.card import CardWaitScreen
from ui.screens.help_answer import HelpAnswerScreen, HelpNotSureScreen, HelpStaffScreen, HelpTopicScreen
from ui.screens.help_ask import HelpAskScreen

HELP_SCREENS = (
    HelpAskScreen,
    HelpAnswerScreen,
    HelpNotSureScreen,
    HelpTopicScreen,
    HelpStaffScreen,
    CardWaitScreen,
)


def build_help(start: JourneyStart) -> HelpJourney:
    return HelpJourney(start.session_id, start.lang, start.settings.kiosk_id)


register_journey_factory("help", build_help, HELP_SCREENS)
