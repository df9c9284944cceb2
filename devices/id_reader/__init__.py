"""Chinese 2nd-generation resident ID card reader (SAM-style protocol): codec, check digit, driver."""
