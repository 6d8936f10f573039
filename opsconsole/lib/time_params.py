"""Instants that callers send: query parameters such as ``from``/``to`` on
list endpoints (contract 4.2 "take an ISO date or timestamp"), and the bounds
every instant a caller sends must keep.

A timestamp must carry an offset (``Z`` or ``+02:00``), as everywhere in the
API. A date alone means midnight at the start of that day (UTC unless a zone
is given); a bound is inclusive for ``from`` and exclusive for ``to``, so
``from=2026-11-01&to=2026-12-01`` is November (UTC).

Instants are kept between 1970-01-01 and 2200-01-01 UTC: every tenant
calendar (any zone, any offset) can show them, and no arithmetic on them
(a day either side, a business-hours deadline) leaves Python's datetime range."""

import re
from datetime import UTC, date, datetime, timedelta

from rest_framework.exceptions import ValidationError

EARLIEST = datetime(1970, 1, 1, tzinfo=UTC)
LATEST = datetime(2200, 1, 1, tzinfo=UTC)
OUT_OF_RANGE = "Must be between 1970-01-01T00:00:00Z and 2200-01-01T00:00:00Z."

_DATE = re.compile(r"^\d{4}-\d{2}-\d{2}$")
_TIMESTAMP = re.compile(r"^\d{4}-\d{2}-\d{2}[T ]\d{2}:\d{2}(?::\d{2}(?:[.,]\d{1,6})?)?(?:Z|z|[+-]\d{2}(?::?\d{2})?)$")
# An unencoded "+" in a query string arrives as a space: "…T10:00:00 02:00".
_SPACE_OFFSET = re.compile(r"(T\d{2}:\d{2}(?::\d{2}(?:\.\d{1,6})?)?) (\d{2}:?\d{2})$")


def in_range(instant):
    """True when the aware ``instant`` lies within [EARLIEST, LATEST]."""
    return EARLIEST <= instant <= LATEST


def to_utc(parsed):
    """``parsed`` (aware) in UTC, or None when it lies outside the bounds
    (including offsets that push it past year 1 or 9999)."""
    try:
        instant = parsed.astimezone(UTC)
    except OverflowError:
        return None
    return instant if in_range(instant) else None


def iso_z(value):
    """UTC with a Z, as every timestamp in answers and audit entries (contract section 8)."""
    if value is None:
        return None
    return value.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%S.%fZ")


def _invalid(name, value):
    return ValidationError(
        {
            name: [
                "Expected an ISO 8601 date (YYYY-MM-DD) or a timestamp with an offset, "
                f"such as 2026-11-26T10:00:00Z; got {str(value)[:64]!r}."
            ]
        }
    )


def parse_instant(value, name, tzinfo=UTC, end_of_day=False):
    """An aware UTC datetime for ``value``, or a 400 naming ``name``.

    A date is midnight in ``tzinfo`` at its start, or with ``end_of_day`` the
    midnight after it (so ``to=2026-11-26`` takes in the whole day)."""
    text = (value or "").strip()
    text = _SPACE_OFFSET.sub(r"\1+\2", text)
    try:
        if _DATE.match(text):
            day = date.fromisoformat(text)
            if end_of_day:
                day += timedelta(days=1)
            parsed = datetime.combine(day, datetime.min.time(), tzinfo=tzinfo)
        elif _TIMESTAMP.match(text):
            parsed = datetime.fromisoformat(text.replace("z", "Z").replace(",", "."))
        else:
            raise _invalid(name, value)
    except ValueError:
        raise _invalid(name, value) from None
    except OverflowError:
        raise ValidationError({name: [OUT_OF_RANGE]}) from None
    instant = to_utc(parsed)
    if instant is None:
        raise ValidationError({name: [OUT_OF_RANGE]})
    return instant


def instant_range(params, lower="from", upper="to"):
    """(start, end) from ``params`` (either may be None); ``to`` before ``from`` is a 400."""
    start = parse_instant(params[lower], lower) if params.get(lower) not in (None, "") else None
    end = parse_instant(params[upper], upper) if params.get(upper) not in (None, "") else None
    if start is not None and end is not None and end < start:
        raise ValidationError({upper: ["Must not be before 'from'."]})
    return start, end
