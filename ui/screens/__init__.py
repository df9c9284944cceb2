"""One class per kiosk screen; flow lives in plain Python (see ui.screens.base.Navigation)."""
