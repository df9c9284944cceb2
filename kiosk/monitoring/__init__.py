"""Security monitoring: a live feed of security events with thresholds that raise alerts."""

from kiosk.monitoring.monitor import Alert, MonitorThresholds, SecurityEvent, SecurityMonitor

__all__ = ["Alert", "MonitorThresholds", "SecurityEvent", "SecurityMonitor"]
