"""What a page shows as its brand: the partner's product, or the console's own.

A request carries a partner's brand when its user belongs to the partner, or,
before sign-in, when its host is one of the partner's ``hostnames``
(``opsconsole.middleware.BrandingMiddleware``). Every page, error page, the
favicon and the e-mails read it through ``branding_for``; the text colours on
brand colours come from ``opsconsole.lib.contrast.palette``.
"""

import hashlib
from dataclasses import dataclass

from django.core.cache import cache

from opsconsole.lib.contrast import palette

CONSOLE_NAME = "opsconsole"
DEFAULT_PRIMARY = "#0B5FFF"
DEFAULT_ACCENT = "#FFB000"


@dataclass(frozen=True)
class Brand:
    product_name: str
    primary_color: str
    accent_color: str
    logo: str
    support_email: str
    is_partner: bool
    # Readable foregrounds (WCAG AA) derived from the colours above.
    on_primary: str = "#FFFFFF"
    on_accent: str = "#111418"
    link_color: str = DEFAULT_PRIMARY

    @property
    def version(self):
        """A short digest of what the favicon is drawn from (its URL changes with it)."""
        text = "|".join((self.product_name, self.primary_color, self.on_primary, self.logo))
        return hashlib.sha256(text.encode()).hexdigest()[:10]

    @property
    def initial(self):
        return (self.product_name.strip()[:1] or "·").upper()


def _brand(product_name, primary, accent, logo, support_email, is_partner):
    try:
        colours = palette(primary, accent)
    except ValueError:
        # A stored colour apply_config would have refused: the defaults, never a broken page.
        colours = palette(DEFAULT_PRIMARY, DEFAULT_ACCENT)
    return Brand(
        product_name=product_name,
        primary_color=colours.primary,
        accent_color=colours.accent,
        logo=logo,
        support_email=support_email,
        is_partner=is_partner,
        on_primary=colours.on_primary,
        on_accent=colours.on_accent,
        link_color=colours.link,
    )


DEFAULT = _brand(CONSOLE_NAME, DEFAULT_PRIMARY, DEFAULT_ACCENT, "", "", False)


def branding_for(partner):
    if partner is None:
        return DEFAULT
    return _brand(
        partner.display_name,
        partner.primary_color or DEFAULT_PRIMARY,
        partner.accent_color or DEFAULT_ACCENT,
        partner.logo or "",
        partner.support_email or "",
        True,
    )


def partner_for_host(host):
    """The partner whose branding answers requests for ``host``. The host's
    partner id is cached a minute (each web process has its own cache, so a
    host name added by apply_config is branded within a minute); a cached id
    whose partner is gone is looked up again."""
    from opsconsole.models import Partner

    host = (host or "").split(":")[0].lower()
    if not host:
        return None
    cache_key = f"branding-host:{host}"
    try:
        partner_id = cache.get(cache_key)
    except Exception:  # noqa: BLE001 - Redis down: look the host up in the database
        partner_id = None
    if partner_id:
        partner = Partner.objects.filter(pk=partner_id).first()
        if partner is not None:
            return partner
    elif partner_id == 0:
        return None
    partner = Partner.objects.filter(hostnames__name=host).first()
    try:
        cache.set(cache_key, partner.pk if partner else 0, 60)
    except Exception:  # noqa: BLE001, S110 - Redis down: the page is answered anyway
        pass
    return partner


def host_partner(request):
    """The partner whose hostnames include the request's host, or None."""
    try:
        return partner_for_host(request.get_host())
    except Exception:  # noqa: BLE001 - a bad Host header must not break branding
        return None
