"""A partner's logo in a configuration file: an https URL, a data: URI, or
a file next to the configuration read into a data: URI (SVG, PNG or JPEG)."""

import base64
from pathlib import Path

from provisioning.config.svg import UnsafeSvg, check_svg

MAX_LOGO_BYTES = 256 * 1024
LOGO_TYPES = {"image/svg+xml", "image/png", "image/jpeg"}


def _sniff_image(raw, suffix):
    if raw.startswith(b"\x89PNG\r\n\x1a\n"):
        return "image/png"
    if raw.startswith(b"\xff\xd8\xff"):
        return "image/jpeg"
    head = raw[:4096].decode("utf-8", "replace").lstrip("\ufeff \t\r\n").lower()
    if "<svg" in head and (head.startswith("<") or suffix == ".svg"):
        return "image/svg+xml"
    return None


def read_logo(c, value, path, base_dir):
    """An https URL, a data: URI, or a file next to the config read into a data: URI."""
    text = c.string(value, path, max_length=2000)
    if not text:
        return ""
    lowered = text.lower()
    if lowered.startswith("data:"):
        head, _, payload = text.partition(",")
        mime = head[5:].split(";")[0].lower()
        if mime not in LOGO_TYPES or ";base64" not in head.lower():
            c.problem(path, "a data: logo must be a base64 SVG, PNG or JPEG image")
            return ""
        try:
            raw = base64.b64decode(payload, validate=True)
        except ValueError:
            c.problem(path, "the data: logo is not valid base64")
            return ""
        return _logo_bytes(c, raw, path, ".svg" if mime == "image/svg+xml" else "")
    if "://" in text:
        if not lowered.startswith("https://"):
            c.problem(path, "a logo URL must be https")
            return ""
        return c.url(text, path, check_target=False)
    if base_dir is None:
        c.problem(path, "a logo file needs the configuration to be read from a file (or give an https URL)")
        return ""
    file = Path(base_dir) / text
    try:
        with file.open("rb") as fh:
            raw = fh.read(MAX_LOGO_BYTES + 1)
    except OSError as exc:
        c.problem(path, f"cannot read logo file {text!r}: {exc.strerror or exc}")
        return ""
    return _logo_bytes(c, raw, path, file.suffix.lower())


def _logo_bytes(c, raw, path, suffix):
    if len(raw) > MAX_LOGO_BYTES:
        c.problem(path, f"the logo is over {MAX_LOGO_BYTES // 1024} KiB")
        return ""
    mime = _sniff_image(raw, suffix)
    if mime is None:
        c.problem(path, "the logo must be an SVG, PNG or JPEG image")
        return ""
    if mime == "image/svg+xml":
        # SVG shown as an <img> runs no script, but a logo may be opened on its own.
        try:
            check_svg(raw)
        except UnsafeSvg as exc:
            c.problem(path, f"the SVG logo must not contain scripts or outside references: {exc}")
            return ""
    return f"data:{mime};base64,{base64.b64encode(raw).decode('ascii')}"
