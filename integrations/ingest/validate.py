"""Plain-Python validation of run documents (contract 3.1, 8).

DRF serializers cost more than the rest of the ingest path together, so the
worker API validates here and produces errors in DRF's shape: each message
under the name of its field, nested for items
(``{"failures": {"3": {"record_id": ["This field is required."]}}}``).

Every limit, choice and requiredness comes from the one description of the
run document, ``integrations.ingest.run_schema``, from which the API docs
are generated too."""

import datetime as dt
import decimal
import hashlib
import json
import math
import re
import uuid

from integrations import scrub as scrubbing
from integrations.ingest.grouping import grouping_key, key_hash, normalise_message
from integrations.ingest.run_schema import AMOUNT_PLACES, FAILURE, LOG, MAX_AMOUNT, MAX_INT, RECORD_REF, RECORDS, RUN
from opsconsole.lib import time_params

UTC = dt.UTC

STATUSES = frozenset(RUN["status"].choices)
TRIGGERS = frozenset(RUN["trigger"].choices)
LEVELS = frozenset(LOG["level"].choices)
RECORD_COUNTS = tuple(RECORDS)

MAX_LOGS = RUN["logs"].max_items
MAX_FAILURES = RUN["failures"].max_items
MAX_RECOVERED = RUN["recovered"].max_items
MAX_RUN_ID = RUN["run_id"].max_length
FUTURE_SLACK = dt.timedelta(hours=1)

REQUIRED = "This field is required."
NOT_STRING = "Not a valid string."
NOT_OBJECT = "Expected an object."
NOT_LIST = "Expected a list of items."
BLANK = "This field may not be blank."

_BAD_CHAR = re.compile("[\x00\ud800-\udfff]")


class Invalid(Exception):
    """One field's problem; ``errors`` is DRF-shaped."""

    def __init__(self, errors):
        super().__init__(errors)
        self.errors = errors


# --- strings, numbers and timestamps -------------------------------------------------------------


def _bad_string_path(value, path):
    """(path, value) of the first string or key holding a NUL character or an
    unpaired surrogate, or of a non-finite number; None if there is none."""
    if isinstance(value, str):
        return (path, value) if _BAD_CHAR.search(value) else None
    if isinstance(value, dict):
        for k, v in value.items():
            if not isinstance(k, str) or _BAD_CHAR.search(k):
                return [*path, k], k
            found = _bad_string_path(v, [*path, k])
            if found is not None:
                return found
        return None
    if isinstance(value, list | tuple):
        for i, v in enumerate(value):
            found = _bad_string_path(v, [*path, i])
            if found is not None:
                return found
        return None
    if isinstance(value, float) and not math.isfinite(value):
        return path, value
    if value is None or isinstance(value, bool | int | float):
        return None
    return path, value  # not a JSON value at all (direct callers)


def _text_problem(value):
    if isinstance(value, str):
        if "\x00" in value:
            return "Contains a NUL character (U+0000)."
        return "Contains an unpaired surrogate."
    if isinstance(value, float):
        return "Not a finite number."
    return "Not a JSON value."


def check_strings(doc):
    """Raise Invalid naming the field when any string of ``doc`` holds a NUL
    or an unpaired surrogate (contract 3.1, "any string"). One C-speed
    serialisation answers for the common, clean document."""
    try:
        text = json.dumps(doc, ensure_ascii=False, allow_nan=False)
        text.encode("utf-8")
        if "\\u0000" not in text:
            return
    except (ValueError, TypeError, UnicodeEncodeError, RecursionError):
        pass
    try:
        found = _bad_string_path(doc, [])
    except RecursionError:
        raise Invalid({"non_field_errors": ["Nested too deeply."]}) from None
    if found is not None:
        path, value = found
        raise Invalid(_nest(path, _text_problem(value)))


def printable(text):
    """``text`` safe to echo in an answer: NUL and unpaired surrogates
    written as escapes, at most 200 characters."""
    text = text if isinstance(text, str) else str(text)
    if _BAD_CHAR.search(text):
        text = text.replace("\x00", "\\u0000").encode("utf-8", "backslashreplace").decode("utf-8")
    return text[:200]


def _nest(path, message):
    """DRF-shaped error for a problem at ``path`` inside a run document."""
    path = [printable(p) for p in path]
    if not path:
        return {"non_field_errors": [message]}
    head = path[0]
    if head in ("failures", "logs", "recovered") and len(path) >= 3:
        inner = ".".join(path[3:])
        return {head: {path[1]: {path[2]: [f"{message[:-1]} at {inner}." if inner else message]}}}
    if head == "records" and len(path) >= 2:
        return {head: {path[1]: [message]}}
    inner = ".".join(path[1:])
    return {head: [f"{message[:-1]} at {inner}." if inner else message]}


def parse_timestamp(value):
    """An aware UTC datetime from an ISO 8601 string with an offset, or a
    ValueError whose text is the error message."""
    if not isinstance(value, str):
        raise ValueError("Expected an ISO 8601 timestamp string.")
    if len(value) > 64:
        raise ValueError("Not a valid ISO 8601 timestamp.")
    try:
        parsed = dt.datetime.fromisoformat(value)
    except ValueError:
        raise ValueError("Not a valid ISO 8601 timestamp.") from None
    if parsed.tzinfo is None or parsed.utcoffset() is None:
        raise ValueError("Timestamp needs an offset (Z or +HH:MM).")
    instant = time_params.to_utc(parsed)
    if instant is None:  # no tenant calendar could show it
        raise ValueError(time_params.OUT_OF_RANGE)
    return instant


def _int(value, field, errors, minimum=0, maximum=MAX_INT):
    if type(value) is not int:  # bools and "0" strings are not integers
        errors[field] = ["A valid integer is required."]
        return None
    if value < minimum:
        errors[field] = [f"Ensure this value is greater than or equal to {minimum}."]
        return None
    if value > maximum:
        errors[field] = [f"Ensure this value is less than or equal to {maximum}."]
        return None
    return value


def _string(item, field, errors, *, required=False, max_len=None, max_bytes=None):
    """The stripped-of-nothing string at ``item[field]``; "" when absent or
    null and not required."""
    value = item.get(field)
    if value is None:
        if required:
            errors[field] = [REQUIRED if field not in item else "This field may not be null."]
        return ""
    if not isinstance(value, str):
        errors[field] = [NOT_STRING]
        return ""
    if required and not value.strip():
        errors[field] = [BLANK]
        return ""
    if max_bytes is not None:
        if len(value) * 4 > max_bytes and len(value.encode("utf-8")) > max_bytes:
            errors[field] = [f"Ensure this field has no more than {max_bytes} bytes of UTF-8."]
            return ""
    elif max_len is not None and len(value) > max_len:
        errors[field] = [f"Ensure this field has no more than {max_len} characters."]
        return ""
    return value


# A failure message over this is stored cut (the contract sets no limit).
MAX_FAILURE_MESSAGE_BYTES = 64 * 1024


def cut_message(message, limit=MAX_FAILURE_MESSAGE_BYTES):
    """A failure message of at most ``limit`` bytes of UTF-8: a longer one
    (the contract sets no limit) is stored cut, never half a character, with
    a visible marker saying how much was left out; the run is never refused
    for it."""
    if len(message) * 4 <= limit:
        return message
    raw = message.encode("utf-8")
    if len(raw) <= limit:
        return message
    marker = f" … [truncated: {len(raw) - limit:,} more bytes]"
    keep = limit - len(marker.encode("utf-8")) - 16  # the marker's own count may grow a digit or two
    head = raw[:keep].decode("utf-8", "ignore")
    return f"{head} … [truncated: {len(raw) - len(head.encode('utf-8')):,} more bytes]"


_QUANTUM = decimal.Decimal(1).scaleb(-AMOUNT_PLACES)
NOT_AMOUNT = "A valid number is required (a JSON number, not a string)."


def _amount(item, errors):
    """The exact Decimal of ``item["amount"]`` (contract 3.1, 1.1), or None
    when absent or null. A JSON number only: from 0 to 999,999,999,999 with
    at most 4 decimal places, read from the literal the worker wrote (the
    parser keeps it), never through a binary float."""
    value = item.get("amount")
    if value is None:
        return None
    if type(value) is int:
        number = decimal.Decimal(value)
    elif isinstance(value, float):
        # The parser (opsconsole.parsers.RunDocumentParser) keeps the literal
        # of a long number (JSONFloat.text); a short one is a float whose repr
        # is the number as written.
        literal = getattr(value, "text", None)
        try:
            number = decimal.Decimal(literal if literal is not None else repr(value))
        except decimal.InvalidOperation:
            errors["amount"] = [NOT_AMOUNT]
            return None
    else:  # strings, booleans, objects
        errors["amount"] = [NOT_AMOUNT]
        return None
    if not number.is_finite():
        errors["amount"] = ["Not a finite number."]
        return None
    if number < 0:
        errors["amount"] = ["Ensure this value is greater than or equal to 0."]
        return None
    if number > MAX_AMOUNT:
        errors["amount"] = [f"Ensure this value is less than or equal to {MAX_AMOUNT:,}."]
        return None
    exact = number.quantize(_QUANTUM)
    if exact != number:
        errors["amount"] = [f"Ensure that there are no more than {AMOUNT_PLACES} decimal places."]
        return None
    return exact + 0  # no negative zero


def _currency(item, ctx, errors):
    """``item["currency"]`` when given: the tenant's currency, else an error."""
    value = item.get("currency")
    if value is None:
        return ""
    if not isinstance(value, str):
        errors["currency"] = [NOT_STRING]
        return ""
    if value != ctx.currency:
        errors["currency"] = [f"Must be the tenant's currency, {ctx.currency} (got {printable(value)[:20]!r})."]
        return ""
    return value


def _text(item, spec, errors):
    """``_string`` of the field ``spec`` (a ``run_schema.Field``)."""
    return _string(item, spec.name, errors, required=spec.required, max_len=spec.max_length, max_bytes=spec.max_bytes)


def _when(item, spec, errors):
    """``_timestamp`` of the field ``spec`` (a ``run_schema.Field``)."""
    return _timestamp(item, spec.name, errors, required=spec.required)


def _timestamp(item, field, errors, *, required=False):
    value = item.get(field)
    if value is None:
        if required:
            errors[field] = [REQUIRED if field not in item else "This field may not be null."]
        return None
    try:
        return parse_timestamp(value)
    except ValueError as exc:
        errors[field] = [str(exc)]
        return None


def _object_or_null(item, field, errors):
    value = item.get(field)
    if value is None or isinstance(value, dict):
        return value
    errors[field] = [NOT_OBJECT]
    return None


def _stored(value, field, errors, fields, scrubber=scrubbing.scrub):
    """The JSON text stored for a worker's value: scrubbed, then bounded
    (contract 3.5); None for None. A value nested deeper than
    ``scrubbing.MAX_DEPTH`` is an error under ``field``: nothing unscrubbed
    is ever stored."""
    if value is None:
        return None
    try:
        return scrubbing.stored_text(value, fields, scrubber)
    except scrubbing.TooDeep as exc:
        errors[field] = [str(exc)]
        return None


def _list(doc, field, errors, maximum):
    value = doc.get(field)
    if value is None:
        return []
    if not isinstance(value, list):
        errors[field] = [NOT_LIST]
        return []
    if len(value) > maximum:
        errors[field] = [f"Ensure this field has no more than {maximum} elements."]
        return []
    return value


# --- the run document ---------------------------------------------------------------------------


class Context:
    """What validation needs to know about the tenant, looked up once per request."""

    def __init__(self, *, integrations, replays, scrub_fields, now, strings_clean=False, currency="USD"):
        self.integrations = integrations  # slug -> integration id
        self.currency = currency  # the tenant's; a failure's currency must be it
        self.replays = replays  # set of replay ids (str) of the tenant
        self.scrub_fields = scrub_fields
        self.now = now
        self.latest_start = now + FUTURE_SLACK
        # True when the JSON text was seen to hold no NUL or surrogate escape.
        self.strings_clean = strings_clean


def replay_ids_in(documents):
    """Replay ids named by ``documents`` that are UUIDs (for one lookup)."""
    found = set()
    for doc in documents:
        if isinstance(doc, dict):
            value = doc.get("replay_id")
            if isinstance(value, str):
                try:
                    found.add(str(uuid.UUID(value)))
                except ValueError:
                    pass
    return found


def validate_run(doc, ctx):
    """A cleaned run (dict) from the decoded document ``doc``, or Invalid
    with every problem found."""
    try:
        return _validate_run(doc, ctx)
    except RecursionError:
        raise Invalid({"non_field_errors": ["The document is nested too deeply."]}) from None


def _validate_run(doc, ctx):
    """Steps: the document's shape and strings; its identity (integration,
    run_id, status, trigger); its times; its replay; its counts; its logs,
    failures and recoveries. Every problem is collected, then raised."""
    if not isinstance(doc, dict):
        raise Invalid({"non_field_errors": ["Expected a JSON object."]})
    if not ctx.strings_clean:
        check_strings(doc)
    errors = {}
    integration_id, run_id, status, trigger = _identity(doc, ctx, errors)
    started_at, finished_at = _times(doc, status, ctx, errors)
    replay_id = _replay(doc, ctx, errors)
    counts = _counts(doc, errors)
    lag_seconds = doc.get("lag_seconds")
    if lag_seconds is not None:
        lag_seconds = _int(lag_seconds, "lag_seconds", errors)

    worker = _stored(_object_or_null(doc, "worker", errors), "worker", errors, ctx.scrub_fields)

    logs = _clean_logs(_list(doc, "logs", errors, MAX_LOGS), ctx, errors)
    default_at = finished_at or started_at
    failures = _clean_failures(_list(doc, "failures", errors, MAX_FAILURES), default_at, ctx, errors)
    recovered = _clean_recovered(_list(doc, "recovered", errors, MAX_RECOVERED), errors)

    if errors:
        raise Invalid(errors)

    return {
        "integration_id": integration_id,
        "run_id": run_id,
        "status": status,
        "trigger": trigger,
        "started_at": started_at,
        "finished_at": finished_at,
        "replay_id": replay_id,
        **counts,
        "lag_seconds": lag_seconds,
        "worker": worker,
        "logs": logs,
        "failures": failures,
        "recovered": recovered,
    }


def _identity(doc, ctx, errors):
    """(integration id, run_id, status, trigger) of the document."""
    slug = doc.get("integration")
    integration_id = None
    if slug is None:
        errors["integration"] = [REQUIRED]
    elif not isinstance(slug, str):
        errors["integration"] = [NOT_STRING]
    else:
        integration_id = ctx.integrations.get(slug)
        if integration_id is None:
            errors["integration"] = ["No integration with this slug in the key's tenant."]

    run_id = doc.get("run_id")
    if run_id is None:
        errors["run_id"] = [REQUIRED]
    elif not isinstance(run_id, str):
        errors["run_id"] = [NOT_STRING]
    elif not RUN["run_id"].min_length <= len(run_id) <= MAX_RUN_ID:
        errors["run_id"] = [f"Ensure this field has {RUN['run_id'].min_length} to {MAX_RUN_ID} characters."]

    status = doc.get("status")
    if status is None:
        errors["status"] = [REQUIRED]
    elif not isinstance(status, str) or status not in STATUSES:
        errors["status"] = [f'"{printable(status)}" is not a valid choice ({", ".join(RUN["status"].choices)}).']
        status = None

    trigger = doc.get("trigger")
    if trigger is None:
        trigger = RUN["trigger"].default
    elif not isinstance(trigger, str) or trigger not in TRIGGERS:
        errors["trigger"] = [f'"{printable(trigger)}" is not a valid choice ({", ".join(RUN["trigger"].choices)}).']
    return integration_id, run_id, status, trigger


def _times(doc, status, ctx, errors):
    """(started_at, finished_at): finished_at only once the run is finished."""
    started_at = _when(doc, RUN["started_at"], errors)
    if started_at is not None and started_at > ctx.latest_start:
        errors["started_at"] = ["Must not be more than 1 hour in the future."]
    finished_at = None
    if status == "running":
        if doc.get("finished_at") is not None:
            errors["finished_at"] = ["Must be absent or null while the run is running."]
    elif status is not None:
        finished_at = _timestamp(doc, "finished_at", errors, required=True)
        if finished_at is not None and started_at is not None and finished_at < started_at:
            errors["finished_at"] = ["Must not be before started_at."]
    return started_at, finished_at


def _replay(doc, ctx, errors):
    """The replay id the run carries out, one of the tenant's, or None."""
    replay_id = doc.get("replay_id")
    if replay_id is not None:
        try:
            replay_id = str(uuid.UUID(replay_id)) if isinstance(replay_id, str) else None
        except ValueError:
            replay_id = None
        if replay_id is None or replay_id not in ctx.replays:
            errors["replay_id"] = ["No replay with this id in the key's tenant."]
    return replay_id


def _counts(doc, errors):
    """The record counts; processed defaults to the sum of the others."""
    counts = {name: 0 for name in RECORD_COUNTS}
    records = doc.get("records")
    if records is not None:
        if not isinstance(records, dict):
            errors["records"] = [NOT_OBJECT]
        else:
            record_errors = {}
            for name in RECORD_COUNTS:
                if records.get(name) is not None:
                    counts[name] = _int(records[name], name, record_errors)
            if not record_errors:
                total = counts["succeeded"] + counts["failed"] + counts["skipped"]
                if records.get("processed") is None:
                    if total > MAX_INT:
                        record_errors["processed"] = [f"The sum of the counts is over {MAX_INT}."]
                    counts["processed"] = total
                elif counts["processed"] < total:
                    record_errors["processed"] = ["Must be at least succeeded + failed + skipped."]
            if record_errors:
                errors["records"] = record_errors
    return counts


def _clean_logs(items, ctx, errors):
    cleaned = {}
    item_errors = {}
    fields = ctx.scrub_fields
    for index, item in enumerate(items):
        if not isinstance(item, dict):
            item_errors[str(index)] = {"non_field_errors": [NOT_OBJECT]}
            continue
        e = {}
        at = _when(item, LOG["at"], e)
        level = item.get("level")
        if level is None:
            e["level"] = [REQUIRED]
        elif not isinstance(level, str) or level not in LEVELS:
            e["level"] = [f"Must be one of {', '.join(LOG['level'].choices)}."]
        message = _string(item, "message", e, max_bytes=LOG["message"].max_bytes)  # blank allowed
        if "message" not in item or item.get("message") is None:
            e["message"] = [REQUIRED]
        context_text = _stored(_object_or_null(item, "context", e), "context", e, fields)
        if e:
            item_errors[str(index)] = e
            continue
        stamp = at.isoformat()
        digest = hashlib.md5(  # noqa: S324 - a dedup key, not security
            f"{stamp}|{level}|{message}".encode(), usedforsecurity=False
        ).hexdigest()
        cleaned[digest] = (at, level, message, context_text, digest)
    if item_errors:
        errors["logs"] = item_errors
    return list(cleaned.values())


def _clean_failures(items, default_at, ctx, errors):
    cleaned = {}
    item_errors = {}
    fields = ctx.scrub_fields
    for index, item in enumerate(items):
        if not isinstance(item, dict):
            item_errors[str(index)] = {"non_field_errors": [NOT_OBJECT]}
            continue
        e = {}
        entity = _text(item, FAILURE["entity"], e)
        record_id = _text(item, FAILURE["record_id"], e)
        message = cut_message(_string(item, "message", e, required=True, max_len=None))
        operation = _text(item, FAILURE["operation"], e)
        error_code = _text(item, FAILURE["error_code"], e)
        error_class = _text(item, FAILURE["error_class"], e)
        fingerprint = _text(item, FAILURE["fingerprint"], e)
        occurred_at = _when(item, FAILURE["occurred_at"], e)
        source_changed_at = _when(item, FAILURE["source_changed_at"], e)
        payload = _stored(item.get("payload"), "payload", e, fields)
        response = _stored(item.get("response"), "response", e, fields, scrubbing.scrub_response)
        amount = _amount(item, e)
        currency = _currency(item, ctx, e)
        if e:
            item_errors[str(index)] = e
            continue
        normalised = normalise_message(message)
        grouped_by, parts = grouping_key(entity, error_code, error_class, message, fingerprint, normalised)
        # Within one document the last failure for an (entity, record_id) wins.
        cleaned.pop((entity, record_id), None)
        cleaned[(entity, record_id)] = {
            "entity": entity,
            "record_id": record_id,
            "operation": operation,
            "error_code": error_code,
            "error_class": error_class,
            "message": message,
            "fingerprint": fingerprint,
            "occurred_at": occurred_at or default_at,
            "source_changed_at": source_changed_at,
            "payload": payload,
            "response": response,
            "grouped_by": grouped_by,
            "key_hash": key_hash(grouped_by, parts),
            "title": normalised,
            "amount": amount,
            "currency": currency,
        }
    if item_errors:
        errors["failures"] = item_errors
    return list(cleaned.values())


def _clean_recovered(items, errors):
    cleaned = {}
    item_errors = {}
    for index, item in enumerate(items):
        if not isinstance(item, dict):
            item_errors[str(index)] = {"non_field_errors": [NOT_OBJECT]}
            continue
        e = {}
        entity = _text(item, RECORD_REF["entity"], e)
        record_id = _text(item, RECORD_REF["record_id"], e)
        if e:
            item_errors[str(index)] = e
            continue
        cleaned[(entity, record_id)] = None
    if item_errors:
        errors["recovered"] = item_errors
    return list(cleaned)
