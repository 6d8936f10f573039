"""The records of an exception a replay or a discard acts on: each record's
latest failure, which records are already in an unfinished replay, and the
state of their failures (a record's state is its latest failure's)."""

from django.db.models import Q

from integrations.errors import Conflict, Invalid
from integrations.models import REMEDIATED_STATES, Failure, FailureState, ReplayRecord
from integrations.replays.statuses import ACTIVE_STATUSES
from integrations.sync_exceptions import money

NOT_REMEDIATED = (FailureState.FAILED, FailureState.REPLAY_REQUESTED, FailureState.REPLAY_FAILED)


def latest_failures(exception):
    """The latest failure per (entity, record_id) of ``exception``: what a
    replay or a discard acts on. A record's state is its latest failure's."""
    latest = {}
    rows = Failure.objects.filter(exception=exception).order_by("entity", "record_id", "-occurred_at", "-id")
    for failure in rows:
        latest.setdefault((failure.entity, failure.record_id), failure)
    return latest


def records_q(keys):
    by_entity = {}
    for entity, record_id in keys:
        by_entity.setdefault(entity, []).append(record_id)
    q = Q()
    for entity, record_ids in by_entity.items():
        q |= Q(entity=entity, record_id__in=record_ids)
    return q


def active_record_keys(exception, keys=None):
    """(entity, record_id) of records already in an unfinished replay
    (among ``keys`` when given)."""
    rows = ReplayRecord.objects.filter(replay__exception=exception, replay__status__in=ACTIVE_STATUSES)
    if keys is not None:
        if not keys:
            return set()
        rows = rows.filter(records_q(keys))
    return set(rows.values_list("entity", "record_id"))


def replayable_records(exception, search=""):
    """(entity, record_id) rows of the records of ``exception`` that a replay
    would take now (failed or replay failed: a record's failures share its
    state), by record id, optionally those whose id contains ``search``: what
    the record picker pages through, in the database."""
    rows = Failure.objects.filter(exception=exception, state__in=(FailureState.FAILED, FailureState.REPLAY_FAILED))
    if search:
        rows = rows.filter(record_id__icontains=search)
    return rows.values("entity", "record_id").distinct().order_by("record_id", "entity")


def set_failure_state(exception_id, keys, state, only_states=None):
    """Set ``state`` on every failure of these records of the exception, the
    exception locked first (the order ingest locks in), and recompute the
    money it holds (``sync_exceptions.money``). Call inside a transaction."""
    money.lock([exception_id])
    by_entity = {}
    for entity, record_id in keys:
        by_entity.setdefault(entity, []).append(record_id)
    for entity, record_ids in by_entity.items():
        rows = Failure.objects.filter(exception_id=exception_id, entity=entity, record_id__in=record_ids)
        if only_states is not None:
            rows = rows.filter(state__in=only_states)
        rows.update(state=state)
    money.recompute([exception_id])


def pick_records(latest, records, active, *, nothing, busy):
    """The (entity, record_id) keys a replay or a discard acts on: the named
    ``records``, or (None) every record not remediated nor in an unfinished
    replay. 409 with ``nothing`` when none is left, or with ``busy`` naming
    the named records that are in an unfinished replay."""
    if records is None:
        keys = [k for k, f in latest.items() if f.state not in REMEDIATED_STATES and k not in active]
        if not keys:
            raise Conflict(nothing)
        return keys
    keys = select_records(latest, records)
    if not keys:
        raise Invalid({"records": ["Name at least one record, or leave records out for all."]})
    taken = [k[1] for k in keys if k in active]
    if taken:
        raise Conflict(f"{busy}: {', '.join(repr(b[:200]) for b in taken[:20])}.")
    return keys


def select_records(latest, requested, field="records"):
    """Map requested RECORD_IDs to (entity, record_id) keys of ``latest``.
    A record id shared by several entities selects each of them."""
    if not isinstance(requested, list):
        raise Invalid({field: ["Expected a list of record ids."]})
    by_id = {}
    for key in latest:
        by_id.setdefault(key[1], []).append(key)
    # A dict keeps the order of the request and finds a repeated id in
    # constant time: 10,000 records are selected in linear time.
    selected, unknown = {}, []
    for item in requested:
        if not isinstance(item, str) or not item:
            raise Invalid({field: ["Each record id must be a non-empty string."]})
        if item not in by_id:
            unknown.append(item)
            continue
        for key in by_id[item]:
            selected.setdefault(key, None)
    if unknown:
        names = ", ".join(repr(u[:200]) for u in unknown[:20])
        raise Invalid({field: [f"Not a record of this exception: {names}."]})
    return list(selected)


def clean_text(value, field, limit=10_000):
    if value is None:
        return ""
    if not isinstance(value, str):
        raise Invalid({field: ["Expected a string."]})
    if "\x00" in value:
        raise Invalid({field: ["Null characters are not allowed."]})
    try:
        value.encode("utf-8")
    except UnicodeEncodeError:
        raise Invalid({field: ["Unpaired surrogates are not allowed."]}) from None
    if len(value) > limit:
        raise Invalid({field: [f"Ensure this field has no more than {limit} characters."]})
    return value


def check_json(value, path):
    """No NUL and no unpaired surrogate anywhere in a JSON value (contract 3.1)."""
    if isinstance(value, str):
        clean_text(value, path, limit=1_000_000)
    elif isinstance(value, dict):
        for k, v in value.items():
            clean_text(k, path, limit=1000)
            check_json(v, path)
    elif isinstance(value, list):
        for v in value:
            check_json(v, path)
