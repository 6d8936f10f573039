"""How the money an exception holds is shown (contract 4.1, 1.1): the open
amount with its currency, and the book close it blocks ("blocks the October
close · 2 business days left"), in the tenant's calendar. The inbox and the
exception page use these; the figures are the stored ones, never rounded."""

import decimal

from sla.business_time import business_days_to, business_hours_of, closing_month

MONTHS = (
    "January",
    "February",
    "March",
    "April",
    "May",
    "June",
    "July",
    "August",
    "September",
    "October",
    "November",
    "December",
)


def amount_text(amount, currency):
    """``8,120.50 USD``: grouped, two decimals unless the amount has more
    (then all four), so no page rounds what the API says; "" for None."""
    if amount is None:
        return ""
    amount = decimal.Decimal(amount)
    cents = amount.quantize(decimal.Decimal("0.01"))
    shown = cents if cents == amount else amount.quantize(decimal.Decimal("0.0001"))
    return f"{shown:,} {currency}".strip()


def _plural(n, word):
    return f"{n} {word}{'' if n == 1 else 's'}"


def close_note(exception, tenant, now):
    """(text, css class) of the close an exception blocks, or None: "blocks
    the October close · 2 business days left", or once past "October close
    passed 1 business day ago"."""
    deadline = exception.close_deadline
    if deadline is None or not tenant.close_business_day:
        return None
    hours = business_hours_of(tenant)
    month = closing_month(deadline, tenant.close_business_day, hours, tenant.timezone)
    name = f"{MONTHS[month.month - 1]} close" if month else "book close"
    days = business_days_to(now, deadline, hours, tenant.timezone)
    if days > 0:
        css = "clock-breached" if days <= 1 else ("clock-soon" if days <= 3 else "clock-ok")
        return f"blocks the {name} · {_plural(days, 'business day')} left", css
    if days == 0:
        return f"{name[0].upper()}{name[1:]} passed today", "clock-breached"
    return f"{name[0].upper()}{name[1:]} passed {_plural(-days, 'business day')} ago", "clock-breached"
