"""The one writer of exceptions and their openings (contract 4.1): states,
counts and the stored SLA deadline ``due_at``. Nothing else writes those
tables.

- ``staff``: acknowledge, assign, comment, resolve, ignore, reopen;
- ``ingested``: find or create, lock, open and reopen, for ingest;
- ``resolution``: automatic resolution once every record is remediated;
- ``counts``: occurrences, records, first and last seen;
- ``deadlines``: ``due_at`` recomputed after objectives or calendars change.
"""
