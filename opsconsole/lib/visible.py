"""Worker text made visible: the one place that decides which characters a
page must not pass to the browser as they are (C0/C1 controls, bidirectional
overrides and isolates such as U+061C and U+202E, zero-width and other format
characters, line and paragraph separators U+2028/U+2029, surrogates, private
use and unassigned code points) and how long a shown value may be.

Every template filter that shows worker text (``bounded``, ``plain``,
``payload``, ``printable``) goes through ``bound``."""

import json
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


def json_text(value, indent=2, sort_keys=False, ensure_ascii=False):
    """``value`` as indented JSON text, like ``json.dumps``, whatever its
    depth: a value nested past the interpreter's recursion limit (rows stored
    before ingest bounded depth) is written by an explicit stack instead."""
    try:
        return json.dumps(value, indent=indent, sort_keys=sort_keys, ensure_ascii=ensure_ascii, default=str)
    except RecursionError:
        return "".join(_json_pieces(value, indent, sort_keys, ensure_ascii))


def _json_pieces(value, indent, sort_keys, ensure_ascii):
    """The text of ``value`` in pieces; ``stack`` holds what is still to be
    written, last first: ("text", str) or ("value", item, level)."""
    stack = [("value", value, 0)]
    while stack:
        work = stack.pop()
        if work[0] == "text":
            yield work[1]
            continue
        _, item, level = work
        if isinstance(item, dict) and item:
            pairs = sorted(item.items(), key=lambda kv: str(kv[0])) if sort_keys else list(item.items())
            pad, comma, end = _layout(indent, level)
            todo = []
            for i, (k, v) in enumerate(pairs):
                key = json.dumps(str(k), ensure_ascii=ensure_ascii)
                todo += [("text", (comma if i else "") + pad + key + ": "), ("value", v, level + 1)]
            todo.append(("text", end + "}"))
            stack.extend(reversed(todo))
            yield "{"
        elif isinstance(item, list) and item:
            pad, comma, end = _layout(indent, level)
            todo = []
            for i, v in enumerate(item):
                todo += [("text", (comma if i else "") + pad), ("value", v, level + 1)]
            todo.append(("text", end + "]"))
            stack.extend(reversed(todo))
            yield "["
        else:
            yield json.dumps(item, ensure_ascii=ensure_ascii, default=str)


def _layout(indent, level):
    """(before an item, between items, before the closing mark) at ``level``."""
    if indent is None:
        return "", ", ", ""
    return "\n" + " " * (indent * (level + 1)), ",", "\n" + " " * (indent * level)
