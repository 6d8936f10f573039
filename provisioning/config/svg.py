"""SVG logos read with a real XML parser and checked against an allow-list
of SVG elements and attributes, so that nothing in a logo can run or fetch:
no script under any prefix, no event handler, no ``javascript:`` however it
is spelled (the parser decodes entities before the check), no reference
outside the document, no DTD or entity definitions (defusedxml)."""

import re
from xml.etree.ElementTree import ParseError

from defusedxml import DefusedXmlException
from defusedxml.ElementTree import fromstring

SVG_NS = "http://www.w3.org/2000/svg"
XLINK_NS = "http://www.w3.org/1999/xlink"
XML_NS = "http://www.w3.org/XML/1998/namespace"

ELEMENTS = frozenset(
    "svg g defs title desc symbol use path rect circle ellipse line polyline polygon text tspan "
    "linearGradient radialGradient stop clipPath mask pattern".split()
)
ATTRIBUTES = frozenset(
    """id class style d x y x1 y1 x2 y2 cx cy r rx ry fx fy dx dy width height viewBox preserveAspectRatio
    points fill fill-opacity fill-rule stroke stroke-width stroke-linecap stroke-linejoin stroke-miterlimit
    stroke-dasharray stroke-dashoffset stroke-opacity opacity transform font-family font-size font-weight
    font-style text-anchor dominant-baseline letter-spacing word-spacing offset stop-color stop-opacity
    gradientUnits gradientTransform spreadMethod clip-path clip-rule mask patternUnits patternContentUnits
    patternTransform maskUnits maskContentUnits clipPathUnits rotate textLength lengthAdjust color display
    visibility version baseProfile role aria-label aria-hidden focusable href""".split()
)
# Whatever the attribute, a value may only refer within the document.
_URL = re.compile(r"url\s*\(\s*['\"]?\s*([^'\")\s]*)", re.IGNORECASE)
_FORBIDDEN_VALUE = re.compile(r"javascript\s*:|vbscript\s*:|data\s*:|expression\s*\(|@import|\\", re.IGNORECASE)


class UnsafeSvg(ValueError):
    """The SVG is refused; the message names the first reason."""


def _name(tag):
    """(namespace, local name) of an element or attribute name."""
    if tag.startswith("{"):
        ns, _, local = tag[1:].partition("}")
        return ns, local
    return "", tag


def _check_attribute(element, key, value):
    ns, local = _name(key)
    where = f"<{_name(element.tag)[1]} {local}>"
    if local == "href" and ns in ("", XLINK_NS):
        if not value.strip().startswith("#"):
            raise UnsafeSvg(f"{where} may only refer within the logo (#id)")
        return
    if ns == XML_NS and local == "space":
        return
    if ns or local not in ATTRIBUTES:
        raise UnsafeSvg(f"attribute {local!r} is not allowed in an SVG logo")
    flat = "".join(value.split())
    if _FORBIDDEN_VALUE.search(flat):
        raise UnsafeSvg(f"{where} holds a script, data or import reference")
    for target in _URL.findall(value):
        if not target.startswith("#"):
            raise UnsafeSvg(f"{where} may only refer within the logo (url(#id))")


def check_svg(raw):
    """Raise UnsafeSvg unless ``raw`` (bytes) is an SVG document made only of
    allowed elements and attributes."""
    try:
        root = fromstring(raw, forbid_dtd=True)
    except (ParseError, DefusedXmlException, ValueError) as exc:
        raise UnsafeSvg(f"the SVG logo is not well-formed XML without a DTD ({exc})") from None
    if _name(root.tag) != (SVG_NS, "svg"):
        raise UnsafeSvg("the SVG logo's root must be <svg> in the SVG namespace")
    for element in root.iter():
        ns, local = _name(element.tag)
        if ns != SVG_NS or local not in ELEMENTS:
            raise UnsafeSvg(f"element <{local}> is not allowed in an SVG logo")
        for key, value in element.attrib.items():
            _check_attribute(element, key, value)
