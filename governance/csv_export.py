"""The audit log as CSV (contract 4.2, 1.1), streamed: every matching entry,
newest first, under the contract's header, with formula cells neutralised so
that a spreadsheet never runs what a worker or a configuration file wrote."""

from opsconsole.lib.csv_cells import lines, neutralise
from opsconsole.lib.timestamps import utc_z

HEADER = ("id", "at", "actor", "action", "tenant", "object_type", "object_id", "summary")
CHUNK = 2000


def audit_lines(entries):
    """CSV lines (str) for the ``entries`` queryset, header first; reads
    CHUNK rows at a time so memory stays flat however long the log is."""
    rows = entries.values_list("id", "at", "actor", "action", "tenant_slug", "object_type", "object_id", "summary")
    cells = (
        [pk, utc_z(at), *(neutralise(v, limit=None) for v in (actor, action, tenant, object_type, object_id, summary))]
        for pk, at, actor, action, tenant, object_type, object_id, summary in rows.iterator(chunk_size=CHUNK)
    )
    yield from lines(HEADER, cells)
