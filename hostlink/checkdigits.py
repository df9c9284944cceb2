"""The Luhn (ISO/IEC 7812 mod 10) check digit: card PANs, account numbers and biller customer numbers."""

from __future__ import annotations


def luhn_check_digit(payload: str) -> str:
    """The digit that makes ``payload + digit`` pass the Luhn check."""
    if not payload.isdigit() or not payload.isascii():
        raise ValueError("Luhn payload must be digits")
    total = 0
    # Double every second digit counting from the right of the payload (the check digit is appended).
    for index, char in enumerate(reversed(payload)):
        digit = int(char)
        if index % 2 == 0:
            digit *= 2
            if digit > 9:
                digit -= 9
        total += digit
    return str((10 - total % 10) % 10)


def luhn_valid(number: str) -> bool:
    return (
        len(number) >= 2
        and number.isdigit()
        and number.isascii()
        and luhn_check_digit(number[:-1]) == number[-1]
    )
