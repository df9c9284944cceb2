"""Maintenance mode's Qt-free core: role-checked, journaled actions; state that survives a restart."""

from kiosk.maintenance.overview import describe_device
from kiosk.maintenance.service import ActionOutcome, MaintenanceService
from kiosk.maintenance.store import MaintenanceStore, OutOfService

__all__ = ["ActionOutcome", "MaintenanceService", "MaintenanceStore", "OutOfService", "describe_device"]
