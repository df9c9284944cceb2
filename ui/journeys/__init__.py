"""Journey registrations: each module here calls ``ui.kiosk_app.register_journey_factory`` at import.

``ui.kiosk_app.load_registrations`` imports every module of this package, so a new journey is a new
module here (``card.py`` for card + PIN and the logged-in services; ``opening.py`` / ``face_login.py``
for account opening and face login), never an edit elsewhere.
"""
