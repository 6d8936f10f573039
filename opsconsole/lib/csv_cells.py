"""CSV cells that a spreadsheet shows and never runs, bounded: text starting
like a formula (``=``, ``+``, ``-``, ``@``, tab, carriage return, per OWASP's
CSV injection advice) gets a leading apostrophe, NUL characters are dropped,
and long text is cut with a visible marker. Used by every CSV the console
writes: the audit log, report CSVs, the inbox and runs exports."""

import csv

FORMULA_START = ("=", "+", "-", "@", "\t", "\r")
CELL_LIMIT = 2_000
TRUNCATED = "… [truncated]"


def neutralise(value, limit=CELL_LIMIT):
    """``value`` as a CSV text cell: formula-looking text gets a leading
    apostrophe; text longer than ``limit`` is cut with a marker (None: no cut)."""
    if value is None:
        return ""
    text = str(value).replace("\x00", "")
    if limit is not None and len(text) > limit:
        text = text[:limit] + TRUNCATED
    return "'" + text if text.startswith(FORMULA_START) else text


class _Line:
    """A file-like target for csv.writer that hands back what was written."""

    def write(self, value):
        return value


def lines(header, rows):
    """CSV lines (str) for an iterable of already-made cells, header first:
    for a StreamingHttpResponse, so memory stays flat however many rows."""
    writer = csv.writer(_Line())
    yield writer.writerow(header)
    for row in rows:
        yield writer.writerow(row)
