"""The CSV of a report (contract 5): one line per SLA row of 4.4 under the
contract's header, an empty cell for null, ``true``/``false`` for met.
Pure: no Django import (``opsconsole.lib.csv_cells`` neither).

Numbers are written as Python writes them (they read back to the very
floats the API answers). Text cells starting with ``=``, ``+``, ``-`` or
``@`` (or a tab or carriage return) get a leading apostrophe, so that a
spreadsheet never runs them as a formula; numbers are left alone, a negative
budget stays a number."""

import csv
import io

from opsconsole.lib.csv_cells import neutralise

HEADER = (
    "objective",
    "integration",
    "priority",
    "target",
    "threshold_minutes",
    "within_business_minutes",
    "good",
    "total",
    "attained",
    "met",
    "allowed",
    "spent",
    "remaining_pct",
)


def cell(value):
    if value is None:
        return ""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int | float):
        return repr(value)
    return neutralise(value, limit=None)


def line(row):
    budget = row["error_budget"]
    values = [row[k] for k in HEADER[:10]] + [budget["allowed"], budget["spent"], budget["remaining_pct"]]
    return [cell(v) for v in values]


def render(rows):
    """The CSV document as UTF-8 bytes (CRLF line ends, as RFC 4180 has them)."""
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\r\n")
    writer.writerow(HEADER)
    for row in rows:
        writer.writerow(line(row))
    return out.getvalue().encode("utf-8")
