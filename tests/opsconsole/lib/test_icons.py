import base64

from opsconsole.lib.icons import icon_from_logo, letter_icon


def data_uri(mime, body):
    return f"data:{mime};base64,{base64.b64encode(body).decode()}"


def test_a_square_svg_logo_is_the_icon():
    svg = b'<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 48 48"><circle r="20"/></svg>'
    assert icon_from_logo(data_uri("image/svg+xml", svg)) == ("image/svg+xml", svg)


def test_a_wordmark_logo_is_not_the_icon():
    svg = b'<svg xmlns="http://www.w3.org/2000/svg" width="220" height="48" viewBox="0 0 220 48"></svg>'
    assert icon_from_logo(data_uri("image/svg+xml", svg)) is None


def test_a_square_png_logo_is_the_icon_by_its_header():
    png = b"\x89PNG\r\n\x1a\n" + b"\x00\x00\x00\rIHDR" + (64).to_bytes(4, "big") + (64).to_bytes(4, "big") + b"\x08"
    assert icon_from_logo(data_uri("image/png", png)) == ("image/png", png)


def test_a_logo_given_as_a_url_or_garbage_is_not_the_icon():
    assert icon_from_logo("https://cdn.example/logo.svg") is None
    assert icon_from_logo("data:image/svg+xml;base64,!!!") is None
    assert icon_from_logo("") is None


def test_the_letter_icon_escapes_its_letter():
    svg = letter_icon("<", "#0B5FFF", "#FFFFFF")
    assert "&lt;</text>" in svg
    assert 'fill="#0B5FFF"' in svg
