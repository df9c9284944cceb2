"""Card dispenser with track 2 encoder (Creator CRT-541-style protocol): codec, driver, interface."""
