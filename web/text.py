"""Plain-text helpers shared by forms and services: cleaning typed text and ASCII digits."""

from __future__ import annotations

import re
import unicodedata

# Digits a user may type on an Arabic or Persian keyboard, mapped to ASCII.
_DIGITS = str.maketrans(
    "٠١٢٣٤٥٦٧٨٩۰۱۲۳۴۵۶۷۸۹٫٬",
    "01234567890123456789.,",
)
# Bidi overrides/isolates and zero-width characters: invisible, and used to disguise text.
_INVISIBLE = re.compile("[\u200b-\u200f\u202a-\u202e\u2060-\u2064\u2066-\u2069\ufeff]")


def ascii_digits(value: str) -> str:
    """Turn Arabic-Indic and Persian digits (and Arabic separators) into ASCII."""
    return value.translate(_DIGITS)


def clean_text(value: str | None) -> str:
    """NFC-normalise, drop invisible direction and zero-width marks and control characters."""
    if not value:
        return ""
    value = unicodedata.normalize("NFC", value)
    value = _INVISIBLE.sub("", value)
    value = "".join(ch for ch in value if ch in "\n\t" or unicodedata.category(ch) != "Cc")
    return value.strip()
