"""Months of a tenant's calendar, as the report URLs name them (YYYY-MM).
Pure: no Django import."""

import re
from dataclasses import dataclass
from datetime import date

MONTH_RE = re.compile(r"^(\d{4})-(\d{2})$")


class BadPeriod(ValueError):
    """The text does not name a month as YYYY-MM."""


@dataclass(frozen=True, order=True)
class Month:
    year: int
    month: int

    @classmethod
    def parse(cls, text):
        m = MONTH_RE.match(text or "")
        if not m:
            raise BadPeriod("The period must be a month written YYYY-MM, such as 2026-11.")
        year, month = int(m.group(1)), int(m.group(2))
        if not 1 <= month <= 12:
            raise BadPeriod(f"There is no month {month:02d}; months run from 01 to 12.")
        if not 1971 <= year <= 9998:
            raise BadPeriod("The year must lie between 1971 and 9998.")
        return cls(year, month)

    @classmethod
    def of(cls, day):
        return cls(day.year, day.month)

    def __str__(self):
        return f"{self.year:04d}-{self.month:02d}"

    @property
    def first_day(self):
        return date(self.year, self.month, 1)

    @property
    def next_first_day(self):
        return self.next().first_day

    def next(self):
        return Month(self.year + (self.month == 12), self.month % 12 + 1)

    def previous(self):
        return Month(self.year - (self.month == 1), (self.month - 2) % 12 + 1)

    @property
    def label(self):
        """ "November 2026"."""
        return self.first_day.strftime("%B %Y")
