"""Customer journeys as Qt-free, device-free state machines (see core.py)."""
