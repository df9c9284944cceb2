"""Maintenance mode on the kiosk's own screen (technician login, dashboard, actions)."""

from ui.maintenance.controller import MaintenanceController, install_maintenance

__all__ = ["MaintenanceController", "install_maintenance"]
