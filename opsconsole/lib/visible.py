"""Worker text made visible: the one place that decides which characters a
page must not pass to the browser as they are (C0/C1 controls, bidirectional
overrides and isolates such as U+061C and U+202E, zero-width and other format
characters, line and paragraph separators U+2028/U+2029, surrogates, private
use and unassigned code points) and how long a shown value may be.

Every template filter that shows worker text (``bounded``, ``plain``,
``payload``, ``printable``) goes through ``bound``."""

import re
import unicodedata

# Unicode categories shown as escapes: control, format, surrogate, private
# use, unassigned, line and paragraph separators.
HIDDEN_CATEGORIES = frozenset({"Cc", "Cf", "Cs", "Co", "Cn", "Zl", "Zp"})

# Printable ASCII, tab and newline never need a look; anything else is
# judged by its category (a cheap pre-filter for the common, ASCII text).
_SUSPECT = re.compile(r"[^\t\n\x20-\x7e]")


def _escape(match):
    char = match.group()
    if unicodedata.category(char) not in HIDDEN_CATEGORIES:
        return char
    code = ord(char)
    return f"\\u{code:04x}" if code <= 0xFFFF else f"\\U{code:08x}"


def show_controls(text):
    """``text`` with every hidden character written as ``\\uXXXX``."""
    return _SUSPECT.sub(_escape, text)


def bound(text, limit):
    """(shown, cut): the first ``limit`` characters of ``text`` with hidden
    characters made visible, and how many characters were left out."""
    text = text if isinstance(text, str) else str(text)
    cut = max(len(text) - limit, 0)
    return show_controls(text[:limit] if cut else text), cut
