"""Motorised card reader (Sankyo ICT3Q8-style protocol): tracks, codec, driver."""
