"""A JSONField for what workers and callers send (payloads, responses, log
context, worker info, patches): a stored value too deep for the JSON decoder
(rows written before ingest bounded depth) reads back as the contract's
truncation marker (section 3.5) instead of failing the page that shows it."""

from django.db import models

from integrations.scrub import DEFAULT_FIELDS, HEAD_BYTES, scrub_json_text


class WorkerJSONField(models.JSONField):
    def from_db_value(self, value, expression, connection):
        try:
            return super().from_db_value(value, expression, connection)
        except RecursionError:
            text = value if isinstance(value, str) else str(value)
            raw = text.encode("utf-8")
            head = raw[:HEAD_BYTES].decode("utf-8", "ignore")
            # Scrubbed again: earlier versions skipped scrubbing at such depths.
            return {"_truncated": True, "_bytes": len(raw), "_head": scrub_json_text(head, DEFAULT_FIELDS)}
