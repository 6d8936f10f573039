"""The favicon: the partner's logo when it is square enough to read at 16 px,
else a letter on the partner's colour. Pure: no Django import."""

import base64
import binascii
import re
import struct
from xml.sax.saxutils import escape

# A logo wider (or taller) than this ratio is a wordmark: unreadable as an icon.
MAX_ASPECT = 1.25
DATA_URI = re.compile(r"^data:(?P<mime>image/(?:svg\+xml|png));base64,(?P<data>[A-Za-z0-9+/=\s]+)$")
VIEWBOX = re.compile(rb"viewBox\s*=\s*[\"']\s*[-\d.]+[\s,]+[-\d.]+[\s,]+([\d.]+)[\s,]+([\d.]+)\s*[\"']")
SIZE = re.compile(rb"<svg\b[^>]*?\bwidth\s*=\s*[\"']([\d.]+)[^>]*?\bheight\s*=\s*[\"']([\d.]+)", re.S)


def _dimensions(mime, data):
    """(width, height) of a PNG or SVG logo, or None when unknown."""
    if mime == "image/png":
        if len(data) >= 24 and data[:8] == b"\x89PNG\r\n\x1a\n":
            return struct.unpack(">II", data[16:24])
        return None
    m = VIEWBOX.search(data) or SIZE.search(data)
    return (float(m.group(1)), float(m.group(2))) if m else None


def icon_from_logo(logo):
    """(content type, bytes) of a square-enough logo stored as a data: URI
    (apply_config stores files that way), else None."""
    m = DATA_URI.match(logo or "")
    if not m:
        return None
    try:
        data = base64.b64decode(m.group("data"), validate=False)
    except (binascii.Error, ValueError):
        return None
    size = _dimensions(m.group("mime"), data)
    if not size or not size[0] or not size[1]:
        return None
    w, h = size
    if max(w, h) / min(w, h) > MAX_ASPECT:
        return None
    return m.group("mime"), data


def letter_icon(letter, background, foreground):
    """An SVG icon: ``letter`` in ``foreground`` on a rounded ``background`` square."""
    letter = escape((letter or "·")[:1])
    return (
        '<svg xmlns="http://www.w3.org/2000/svg" width="64" height="64" viewBox="0 0 64 64">'
        f'<rect width="64" height="64" rx="14" fill="{escape(background)}"/>'
        f'<text x="32" y="45" text-anchor="middle" font-family="Liberation Sans, Arial, sans-serif" '
        f'font-size="40" font-weight="700" fill="{escape(foreground)}">{letter}</text></svg>'
    )
