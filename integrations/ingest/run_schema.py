"""The run document (contract 3.1), said once: every field, its type,
whether it is required, its limits and choices.

Two readers, so they cannot drift apart:

- the validator (``integrations.ingest.validate``) takes every limit, choice
  and requiredness it checks from these tables;
- the API docs (``integrations.api.runs``) generate the OpenAPI components of
  ``POST /api/v1/runs`` and ``/runs/batch`` from them (``openapi``).

Pure data: no Django, no DRF.
"""

from dataclasses import dataclass
from decimal import Decimal

MAX_INT = 2_147_483_647
# Money on a failure (contract 3.1, 1.1): 0 to 999,999,999,999, at most 4 decimals.
MAX_AMOUNT = Decimal("999999999999")
AMOUNT_PLACES = 4
MAX_SHORT = 200  # entity, record_id, operation, error_code, error_class, fingerprint


@dataclass(frozen=True)
class Field:
    """One field of a document. ``type``: ``string``, ``integer``,
    ``timestamp`` (ISO 8601 with an offset), ``decimal`` (a JSON number from
    0 to ``maximum`` with at most ``decimal_places`` decimals), ``uuid``, ``object`` (any JSON
    object), ``json`` (any JSON value), ``record`` (an object of the fields in
    ``items``) or ``list`` (of objects of the fields in ``items``)."""

    name: str
    type: str
    required: bool = False
    nullable: bool = True
    min_length: int | None = None
    max_length: int | None = None  # characters
    max_bytes: int | None = None  # bytes of UTF-8, for long texts
    choices: tuple[str, ...] = ()
    default: str | None = None
    maximum: int | Decimal | None = None
    decimal_places: int | None = None
    max_items: int | None = None
    items: tuple["Field", ...] = ()
    help: str = ""

    def fields(self):
        """The fields of a ``record`` or of each item of a ``list``, by name."""
        return {f.name: f for f in self.items}


def _table(*fields):
    return {f.name: f for f in fields}


def _count(name):
    return Field(name, "integer", maximum=MAX_INT)


RECORDS = _table(_count("processed"), _count("succeeded"), _count("failed"), _count("skipped"))

LOG = _table(
    Field("at", "timestamp", required=True, nullable=False, help="ISO 8601 with an offset."),
    Field("level", "string", required=True, nullable=False, choices=("debug", "info", "warning", "error", "critical")),
    Field("message", "string", required=True, nullable=False, max_bytes=8 * 1024, help="Up to 8 KiB of UTF-8."),
    Field("context", "object", help="Scrubbed before storage."),
)

FAILURE = _table(
    Field("entity", "string", required=True, nullable=False, max_length=MAX_SHORT),
    Field("record_id", "string", required=True, nullable=False, max_length=MAX_SHORT),
    Field("operation", "string", max_length=MAX_SHORT),
    Field("error_code", "string", max_length=MAX_SHORT),
    Field("error_class", "string", max_length=MAX_SHORT),
    Field(
        "message",
        "string",
        required=True,
        nullable=False,
        help="Any length; over 64 KiB of UTF-8 it is stored cut, ending '… [truncated: N more bytes]'.",
    ),
    Field("occurred_at", "timestamp", help="Default: finished_at, else started_at."),
    Field("source_changed_at", "timestamp"),
    Field("payload", "json", help="Scrubbed; over 64 KiB of JSON stored truncated."),
    Field("response", "json", help='{"status", "body"}, scrubbed.'),
    Field("fingerprint", "string", max_length=MAX_SHORT, help="Groups failures into one exception when given."),
    Field(
        "amount",
        "decimal",
        maximum=MAX_AMOUNT,
        decimal_places=AMOUNT_PLACES,
        help="The money this record carries (an invoice total, hours x rate), in the tenant's currency:"
        " a JSON number from 0 to 999,999,999,999 with at most 4 decimal places, stored exactly.",
    ),
    Field(
        "currency",
        "string",
        help="ISO 4217 code (such as USD); when given it must be the tenant's currency, else a 400.",
    ),
)

RECORD_REF = _table(
    Field("entity", "string", required=True, nullable=False, max_length=MAX_SHORT),
    Field("record_id", "string", required=True, nullable=False, max_length=MAX_SHORT),
)

RUN = _table(
    Field("integration", "string", required=True, nullable=False, help="Slug of an integration of the key's tenant."),
    Field("run_id", "string", required=True, nullable=False, min_length=1, max_length=200),
    Field("status", "string", required=True, nullable=False, choices=("running", "succeeded", "partial", "failed")),
    Field("started_at", "timestamp", required=True, nullable=False, help="With an offset; at most 1 hour ahead."),
    Field("finished_at", "timestamp", help="Required once finished; absent or null while running."),
    Field("trigger", "string", nullable=False, choices=("schedule", "event", "manual", "replay"), default="schedule"),
    Field("replay_id", "uuid", help="The replay this run carries out, of the key's tenant."),
    Field("records", "record", items=tuple(RECORDS.values()), help="processed defaults to the sum of the others."),
    Field("lag_seconds", "integer", maximum=MAX_INT),
    Field("worker", "object"),
    Field("logs", "list", max_items=1000, items=tuple(LOG.values())),
    Field("failures", "list", max_items=10_000, items=tuple(FAILURE.values())),
    Field("recovered", "list", max_items=10_000, items=tuple(RECORD_REF.values()), help="Records fixed since."),
)

MAX_BATCH = 1000
