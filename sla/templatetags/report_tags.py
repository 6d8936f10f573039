"""Template filters of the report pages."""

from django import template

register = template.Library()


@register.filter
def css_string(value):
    """Text for a double-quoted CSS string inside a <style> element (the PDF's
    running header): backslash, quote, line breaks and angle brackets escaped."""
    out = []
    for ch in str(value):
        if ch in '\\"<>&' or ord(ch) < 0x20 or ch == "\x7f":
            out.append(f"\\{ord(ch):x} ")
        else:
            out.append(ch)
    return "".join(out)
