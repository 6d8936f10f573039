"""Worker text on pages: every filter shows the same characters as escapes."""

import pytest

from integrations.templatetags.replay_tags import printable
from integrations.templatetags.triage import bounded, payload, plain
from opsconsole.lib.visible import bound, show_controls

HIDDEN = {
    "\u061c": "\\u061c",  # Arabic letter mark (bidi)
    "\u2028": "\\u2028",  # line separator
    "\u2029": "\\u2029",  # paragraph separator
    "\u202e": "\\u202e",  # right-to-left override
    "\u2066": "\\u2066",  # left-to-right isolate
    "\u200b": "\\u200b",  # zero-width space
    "\ufeff": "\\ufeff",  # byte order mark
    "\x07": "\\u0007",
    "\x85": "\\u0085",  # next line (C1)
    "\ue000": "\\ue000",  # private use
    "\U000e0001": "\\U000e0001",  # language tag (format)
}


@pytest.mark.parametrize(("char", "shown"), list(HIDDEN.items()), ids=[hex(ord(c)) for c in HIDDEN])
def test_every_filter_shows_a_hidden_character_as_the_same_escape(char, shown):
    text = f"pay{char}load"
    for rendered in (bounded(text), printable(text), plain(text), show_controls(text), payload({"k": text})):
        assert char not in str(rendered)
        assert shown in str(rendered)


def test_ordinary_letters_tabs_and_newlines_are_left_alone():
    text = "Zürich 東京 مرحبا\tcol\nline"
    assert show_controls(text) == text
    assert str(bounded(text)) == text and printable(text) == text


def test_a_value_is_cut_at_its_limit_before_escapes_widen_it():
    assert bound("\u2028" * 10, 3) == ("\\u2028" * 3, 7)
    assert "7 more characters" in str(bounded("a" * 10, 3)) and printable("a" * 10, 3).endswith("(7 more characters)")
