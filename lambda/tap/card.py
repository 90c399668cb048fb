"""Card number (PAN) helpers. The PAN itself never leaves validation: only the
masked form (last four digits) is kept, logged or stored.

We deliberately store no hash of the PAN: the PAN space is small enough
(issuer prefix + Luhn) that an unkeyed or publicly salted hash can be brute
forced, and a keyed hash would need key management this service does not own.
"""

from __future__ import annotations

PAN_MIN_LENGTH = 12
PAN_MAX_LENGTH = 19


def luhn_valid(digits: str) -> bool:
    """ISO/IEC 7812-1 check digit. ``digits`` must contain only 0-9."""
    if not digits or not digits.isascii() or not digits.isdigit():
        return False
    total = 0
    for index, char in enumerate(reversed(digits)):
        value = ord(char) - 48
        if index % 2 == 1:
            value *= 2
            if value > 9:
                value -= 9
        total += value
    return total % 10 == 0


def mask(digits: str) -> str:
    """All but the last four digits replaced by '*' (PCI DSS 3.4 display rule)."""
    if len(digits) <= 4:
        return "*" * len(digits)
    return "*" * (len(digits) - 4) + digits[-4:]
