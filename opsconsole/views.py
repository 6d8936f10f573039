"""The favicon: the request's brand as an icon. (The home page is an
integrations page: ``integrations/views/home.py``.)"""

from django.http import HttpResponse
from django.utils.cache import patch_vary_headers

from opsconsole.branding import branding_for
from opsconsole.lib.icons import icon_from_logo, letter_icon


def favicon(request):
    """The request's brand as an icon (/favicon.ico and <link rel=icon>): the
    partner's logo when it is square enough, else its initial on its colour."""
    brand = branding_for(getattr(request, "partner", None))
    logo = icon_from_logo(brand.logo)
    if logo:
        content_type, body = logo
    else:
        content_type = "image/svg+xml"
        body = letter_icon(brand.initial, brand.primary_color, brand.on_primary)
    response = HttpResponse(body, content_type=content_type)
    # The icon depends on the host name and on who is signed in.
    response["Cache-Control"] = "private, max-age=86400"
    patch_vary_headers(response, ("Host", "Cookie"))
    return response
