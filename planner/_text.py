"""What counts as printable text in the files people fill in.

Scenario tables and tally files both refuse control characters: a NUL or an ESC
in a name or a note cannot be carried by the XML outputs (GPX, KML) nor stored by
PostgreSQL, and is never something a clerk meant to type. Tab and line breaks are
allowed: a note may hold them.
"""

from __future__ import annotations

import re

CONTROL = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\x7f]")
# The same in UTF-8 bytes: these bytes are never part of a longer character.
CONTROL_BYTES = re.compile(CONTROL.pattern.encode())


def control_character(text: str) -> str | None:
    """``'control character U+0000'`` for the first one in ``text``, or ``None``."""
    found = CONTROL.search(text)
    return None if found is None else f"control character U+{ord(found.group()):04X}"
