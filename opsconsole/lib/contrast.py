"""Readable colours from a partner's brand colours (WCAG 2.x contrast).

Every text the pages draw on a brand colour takes its colour from
``palette``: the top bar, primary buttons, the current saved view, the
favicon's letter, and links on the white cards. Pure: no Django import.
"""

import re
from dataclasses import dataclass

# WCAG 2.x level AA for normal text.
AA = 4.5
WHITE = "#FFFFFF"
PAGE = "#F5F7FA"  # the page background behind the cards (static/css/console.css)
BLACK = "#000000"
INK = "#111418"  # near-black, the dark choice for text on light brand colours
HEX = re.compile(r"^#([0-9a-fA-F]{6})$")


def parse_hex(colour: str) -> tuple[int, int, int]:
    """(r, g, b) of ``#RRGGBB``; anything else is a ValueError."""
    m = HEX.match(colour or "")
    if not m:
        raise ValueError(f"not a #RRGGBB colour: {colour!r}")
    v = m.group(1)
    return int(v[0:2], 16), int(v[2:4], 16), int(v[4:6], 16)


def to_hex(rgb: tuple[int, int, int]) -> str:
    return "#{:02X}{:02X}{:02X}".format(*rgb)


def luminance(colour: str) -> float:
    """Relative luminance (WCAG 2.x definition), 0 for black to 1 for white."""

    def channel(c: int) -> float:
        s = c / 255
        return s / 12.92 if s <= 0.04045 else ((s + 0.055) / 1.055) ** 2.4

    r, g, b = (channel(c) for c in parse_hex(colour))
    return 0.2126 * r + 0.7152 * g + 0.0722 * b


def contrast(a: str, b: str) -> float:
    """Contrast ratio of two colours, from 1 (same) to 21 (black on white)."""
    la, lb = sorted((luminance(a), luminance(b)), reverse=True)
    return (la + 0.05) / (lb + 0.05)


def text_on(background: str) -> str:
    """White or near-black, whichever reads better on ``background``; pure
    black where near-black falls short (mid greys): white or black always
    reach 4.5:1, their crossover being at about 4.6:1."""
    best = max((WHITE, INK), key=lambda c: contrast(c, background))
    if contrast(best, background) >= AA:
        return best
    return max((WHITE, BLACK), key=lambda c: contrast(c, background))


def shade_for(colour: str, background: str, minimum: float = AA) -> str:
    """``colour`` itself when it reads on ``background``, else the same hue
    mixed towards black (or white, on a dark background) just enough to."""
    if contrast(colour, background) >= minimum:
        return to_hex(parse_hex(colour))
    towards = (0, 0, 0) if luminance(background) > 0.18 else (255, 255, 255)
    rgb = parse_hex(colour)
    for step in range(1, 101):
        t = step / 100
        mixed = tuple(round(c + (e - c) * t) for c, e in zip(rgb, towards, strict=True))
        if contrast(to_hex(mixed), background) >= minimum:
            return to_hex(mixed)
    return to_hex(towards)


@dataclass(frozen=True)
class Palette:
    primary: str
    accent: str
    on_primary: str  # text on the primary colour (top bar, primary buttons)
    on_accent: str  # text on the accent colour
    link: str  # the primary colour as text on the page (links)


def palette(primary: str, accent: str, page: str = PAGE) -> Palette:
    """The brand colours and the readable foregrounds derived from them
    (links are checked on ``page``, darker than the white cards)."""
    primary, accent = to_hex(parse_hex(primary)), to_hex(parse_hex(accent))
    return Palette(
        primary=primary,
        accent=accent,
        on_primary=text_on(primary),
        on_accent=text_on(accent),
        link=shade_for(primary, page),
    )
