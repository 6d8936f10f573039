import pytest

from opsconsole.lib.contrast import AA, PAGE, contrast, luminance, palette, shade_for, text_on

# Colours partners could pick, light, dark and in between.
BRAND_COLOURS = ["#0B5FFF", "#FFB000", "#FFE066", "#102A43", "#00A3A3", "#FF0000", "#777777", "#FFFFFF", "#000000"]


def test_contrast_matches_the_wcag_reference_values():
    assert contrast("#000000", "#FFFFFF") == pytest.approx(21.0)
    assert contrast("#777777", "#FFFFFF") == pytest.approx(4.48, abs=0.01)
    assert contrast("#0B5FFF", "#0B5FFF") == pytest.approx(1.0)
    assert luminance("#FFFFFF") == pytest.approx(1.0)


@pytest.mark.parametrize("colour", BRAND_COLOURS)
def test_every_text_on_a_brand_colour_reaches_aa(colour):
    p = palette(colour, colour)
    assert contrast(p.on_primary, p.primary) >= AA
    assert contrast(p.on_accent, p.accent) >= AA
    assert contrast(p.link, PAGE) >= AA
    assert contrast(p.link, "#FFFFFF") >= AA


def test_dark_text_goes_on_a_light_brand_colour_and_white_on_a_dark_one():
    assert text_on("#FFE066") == "#111418"
    assert text_on("#102A43") == "#FFFFFF"


def test_a_readable_brand_colour_is_kept_as_the_link_colour():
    assert palette("#0B5FFF", "#FFB000").link == "#0B5FFF"


def test_a_light_brand_colour_is_darkened_in_its_own_hue_for_links():
    shaded = shade_for("#FFE066", PAGE)
    assert shaded != "#FFE066"
    assert contrast(shaded, PAGE) >= AA
    r, g, b = (int(shaded[i : i + 2], 16) for i in (1, 3, 5))
    assert r > g > b  # still a yellow, not a grey


def test_a_colour_that_is_not_hex_is_refused():
    with pytest.raises(ValueError):
        palette("red", "#FFFFFF")


def test_every_colour_of_a_coarse_grid_gets_readable_text_and_links():
    steps = range(0, 256, 17)
    for r in steps:
        for g in steps:
            for b in steps:
                colour = f"#{r:02X}{g:02X}{b:02X}"
                p = palette(colour, colour)
                assert contrast(p.on_primary, colour) >= AA, colour
                assert contrast(p.link, PAGE) >= AA, colour
