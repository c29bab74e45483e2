"""Household codes: the household id plus a check character (Luhn mod 36).

A card's QR code and its printed text carry ``H01975-K``: the id, a dash and one
check character over ``0-9A-Z`` that catches every single mistyped character and
nearly every swap of two neighbours. Tally forms and the phone view accept the id alone
or the full code; a code whose check character does not match is refused.
"""

from __future__ import annotations

from collections.abc import Container
from functools import lru_cache

ALPHABET = "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZ"
_N = len(ALPHABET)
_VALUE = {c: i for i, c in enumerate(ALPHABET)}


# A month's import checks every household code a few dozen times; a banner has tens
# of thousands of households.
@lru_cache(maxsize=65536)
def check_char(household_id: str) -> str:
    """The Luhn mod 36 check character of ``household_id`` (case-insensitive).

    Characters outside ``0-9A-Z`` (a dash, an underscore) are skipped.
    """
    total = 0
    factor = 2
    for ch in reversed(household_id.upper()):
        v = _VALUE.get(ch)
        if v is None:
            continue
        add = factor * v
        total += add // _N + add % _N
        factor = 1 if factor == 2 else 2
    return ALPHABET[(_N - total % _N) % _N]


def household_code(household_id: str) -> str:
    """The code printed on the card and in its QR code: ``<id>-<check>``."""
    return f"{household_id}-{check_char(household_id)}"


def parse_household(text: str, known: Container[str]) -> tuple[str | None, str]:
    """Resolve what was written in a household cell.

    Returns
    -------
    (household id or None, reason when None)
        The id when ``text`` is a known id, or a known id followed by ``-`` and its
        check character; otherwise None and a sentence for the error message.
    """
    value = text.strip()
    if value in known:
        return value, ""
    head, sep, check = value.rpartition("-")
    if sep and len(check) == 1 and head in known:
        want = check_char(head)
        if check.upper() == want:
            return head, ""
        return None, f"{value!r} (check character {check!r} does not match: a mistyped code?)"
    return None, f"{value!r}, which is no household of the plan"
