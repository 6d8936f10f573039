"""What a page shows as its brand: the partner's product, or the console's own."""

from dataclasses import dataclass

CONSOLE_NAME = "opsconsole"


@dataclass(frozen=True)
class Brand:
    product_name: str
    primary_color: str
    accent_color: str
    logo: str
    support_email: str
    is_partner: bool


DEFAULT = Brand(CONSOLE_NAME, "#0B5FFF", "#FFB000", "", "", False)


def branding_for(partner):
    if partner is None:
        return DEFAULT
    return Brand(
        product_name=partner.display_name,
        primary_color=partner.primary_color or DEFAULT.primary_color,
        accent_color=partner.accent_color or DEFAULT.accent_color,
        logo=partner.logo,
        support_email=partner.support_email,
        is_partner=True,
    )
