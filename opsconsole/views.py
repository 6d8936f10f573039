"""The favicon: the request's brand as an icon, and the page to change one's password. (The home page is an
integrations page: ``integrations/views/home.py``.)"""

from django.contrib import messages
from django.contrib.auth import views as auth_views
from django.http import HttpResponse
from django.urls import reverse_lazy
from django.utils.cache import patch_vary_headers

from opsconsole import audit
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


class PasswordChange(auth_views.PasswordChangeView):
    """Change one's own password (the old one first); the session stays signed
    in, other sessions of the user end (Django rotates the session hash)."""

    template_name = "opsconsole/password_change.html"
    success_url = reverse_lazy("password-change")

    def form_valid(self, form):
        response = super().form_valid(form)
        audit.record(
            self.request.user,
            "user.password_changed",
            partner=getattr(self.request.user, "partner", None),
            obj=self.request.user,
            summary="Changed their own password.",
        )
        messages.success(self.request, "Your password was changed.")
        return response
