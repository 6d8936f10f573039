"""The audit log as CSV (contract 4.2, 1.1), streamed: every matching entry,
newest first, under the contract's header, with formula cells neutralised so
that a spreadsheet never runs what a worker or a configuration file wrote."""

import csv

from opsconsole.lib.timestamps import utc_z

HEADER = ("id", "at", "actor", "action", "tenant", "object_type", "object_id", "summary")
# A cell starting with one of these is a formula to spreadsheet programs
# (tab and carriage return too, per OWASP's CSV injection advice).
FORMULA_START = ("=", "+", "-", "@", "\t", "\r")
CHUNK = 2000


def neutralise(value):
    """``value`` as a CSV cell: text starting like a formula gets a leading
    apostrophe, which spreadsheets show as text and never evaluate."""
    if value is None:
        return ""
    text = str(value).replace("\x00", "")
    return "'" + text if text.startswith(FORMULA_START) else text


class _Line:
    """A file-like target for csv.writer that hands back what was written."""

    def write(self, value):
        return value


def audit_lines(entries):
    """CSV lines (str) for the ``entries`` queryset, header first; reads
    CHUNK rows at a time so memory stays flat however long the log is."""
    writer = csv.writer(_Line())
    yield writer.writerow(HEADER)
    rows = entries.values_list("id", "at", "actor", "action", "tenant_slug", "object_type", "object_id", "summary")
    for pk, at, actor, action, tenant, object_type, object_id, summary in rows.iterator(chunk_size=CHUNK):
        yield writer.writerow(
            [pk, utc_z(at), *(neutralise(v) for v in (actor, action, tenant, object_type, object_id, summary))]
        )
