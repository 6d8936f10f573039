"""Query parameters that name an instant: ``from``/``to`` on list endpoints
(contract 4.2 "take an ISO date or timestamp").

A timestamp must carry an offset (``Z`` or ``+02:00``), as everywhere in the
API. A date alone means midnight UTC at the start of that day; a bound is
inclusive for ``from`` and exclusive for ``to``, so ``from=2026-11-01&to=2026-12-01``
is November (UTC)."""

import re
from datetime import UTC, date, datetime

from rest_framework.exceptions import ValidationError

_DATE = re.compile(r"^\d{4}-\d{2}-\d{2}$")
_TIMESTAMP = re.compile(r"^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}(?::\d{2}(?:\.\d{1,6})?)?(?:Z|z|[+-]\d{2}:?\d{2})$")
# An unencoded "+" in a query string arrives as a space: "…T10:00:00 02:00".
_SPACE_OFFSET = re.compile(r"(T\d{2}:\d{2}(?::\d{2}(?:\.\d{1,6})?)?) (\d{2}:?\d{2})$")


def parse_instant(value, name):
    """An aware UTC datetime for ``value``, or a 400 naming ``name``."""
    text = (value or "").strip()
    text = _SPACE_OFFSET.sub(r"\1+\2", text)
    try:
        if _DATE.match(text):
            return datetime.combine(date.fromisoformat(text), datetime.min.time(), tzinfo=UTC)
        if _TIMESTAMP.match(text):
            return datetime.fromisoformat(text.replace("z", "Z")).astimezone(UTC)
    except ValueError:
        pass
    raise ValidationError(
        {
            name: [
                "Expected an ISO 8601 date (YYYY-MM-DD) or a timestamp with an offset, "
                f"such as 2026-11-26T10:00:00Z; got {value!r}."
            ]
        }
    )


def instant_range(params, lower="from", upper="to"):
    """(start, end) from ``params`` (either may be None); ``to`` before ``from`` is a 400."""
    start = parse_instant(params[lower], lower) if params.get(lower) not in (None, "") else None
    end = parse_instant(params[upper], upper) if params.get(upper) not in (None, "") else None
    if start is not None and end is not None and end < start:
        raise ValidationError({upper: ["Must not be before 'from'."]})
    return start, end
