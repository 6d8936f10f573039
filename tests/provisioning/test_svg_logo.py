"""SVG logos are parsed and checked against an allow-list: nothing in them
can run or fetch, however it is spelled."""

import pytest

from provisioning.config.svg import UnsafeSvg, check_svg
from tests.provisioning.test_apply_config import EXAMPLE

SVG = '<svg xmlns="http://www.w3.org/2000/svg" xmlns:xlink="http://www.w3.org/1999/xlink">{}</svg>'


@pytest.mark.parametrize(
    "body",
    [
        "<script>alert(1)</script>",
        '<x:script xmlns:x="http://www.w3.org/2000/svg">alert(1)</x:script>',
        '<h:script xmlns:h="http://www.w3.org/1999/xhtml">alert(1)</h:script>',
        '<a href="&#106;avascript:alert(1)"><text>click</text></a>',
        '<use href="&#106;avascript:alert(1)"/>',
        '<use xlink:href="&#x6A;ava&#x09;script:alert(1)"/>',
        '<use href="https://evil.example/sprite.svg#x"/>',
        '<rect onload="alert(1)" width="1" height="1"/>',
        '<rect x:onclick="alert(1)" xmlns:x="urn:x" width="1" height="1"/>',
        '<foreignObject><div xmlns="http://www.w3.org/1999/xhtml">hi</div></foreignObject>',
        '<image href="https://evil.example/track.png"/>',
        '<rect style="fill:url(https://evil.example/x)" width="1" height="1"/>',
        '<rect fill="url(&#x27;https://evil.example/x&#x27;)" width="1" height="1"/>',
        "<style>@import url(https://evil.example/x.css);</style>",
        '<rect style="background:\\75rl(https://evil.example)" width="1" height="1"/>',
        '<animate attributeName="href" to="javascript:alert(1)"/>',
        '<set attributeName="onmouseover" to="alert(1)"/>',
    ],
)
def test_active_or_outside_content_is_refused(body):
    with pytest.raises(UnsafeSvg):
        check_svg(SVG.format(body).encode())


@pytest.mark.parametrize(
    "document",
    [
        b'<?xml version="1.0"?><!DOCTYPE svg [<!ENTITY x "javascript:alert(1)">]>'
        b'<svg xmlns="http://www.w3.org/2000/svg"><a href="&x;"/></svg>',
        b'<svg xmlns="http://www.w3.org/2000/svg"><rect',
        b"<svg><rect/></svg>",
        b'<html xmlns="http://www.w3.org/1999/xhtml"><svg xmlns="http://www.w3.org/2000/svg"/></html>',
    ],
)
def test_dtds_broken_xml_and_other_roots_are_refused(document):
    with pytest.raises(UnsafeSvg):
        check_svg(document)


def test_an_ordinary_logo_passes():
    check_svg((EXAMPLE.parent / "logos" / "northwind.svg").read_bytes())
    check_svg(
        SVG.format(
            '<defs><linearGradient id="g"><stop offset="0" stop-color="#fff"/></linearGradient></defs>'
            '<rect fill="url(#g)" width="10" height="10"/><use xlink:href="#g"/>'
        ).encode()
    )
