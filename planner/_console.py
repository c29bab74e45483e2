"""The commands' two consoles, which never read input text as markup.

Names, cells, paths and messages quoting them print as they are: "[/bold]" or
"root:x:0:0" stay themselves (rich would otherwise parse them as a closing tag or an
emoji code, and raise on the first). Styles come from :class:`rich.text.Text`. Piped or
redirected output keeps whole tables (rich would wrap them at 80 columns).
"""

from __future__ import annotations

import sys

from rich.console import Console
from rich.text import Text

out = Console(width=None if sys.stdout.isatty() else 180, markup=False, emoji=False)
err = Console(stderr=True, markup=False, emoji=False)


def say(console: Console, label: str, style: str, text: object) -> None:
    """Print ``label`` in ``style`` and then ``text`` exactly as it is."""
    console.print(Text.assemble((label, style), " ", str(text)), highlight=False, soft_wrap=True)
