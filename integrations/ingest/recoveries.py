"""Recoveries reported by ingest (contract 3.1 ``recovered``): failures of
earlier runs marked recovered."""

from integrations.models import FailureState
from integrations.sync_exceptions.resolution import UNREMEDIATED_STATES
from integrations.tables import FAILURE, chunks


def recover(cursor, merged, ordered, run_pks, keys):
    """Mark the ``recovered`` records' failing failures (failed,
    replay_requested, replay_failed) of earlier runs as recovered; return the
    ids of the exceptions they belong to."""
    if not any(merged[key]["recovered"] for key in ordered):
        return set()
    # A failure posted in this request by the same run, or by a run that came
    # later in it, is newer than the recovery and stays failed.
    position = {}
    for index, key in enumerate(keys):
        position[key] = index
    failing_later = {}
    for key in ordered:
        for f in merged[key]["failures"]:
            failing_later.setdefault((key[0], f["entity"], f["record_id"]), []).append((position[key], run_pks[key]))
    conditions = []
    for key in ordered:
        for entity, record_id in merged[key]["recovered"]:
            keep = {
                pk
                for pos, pk in failing_later.get((key[0], entity, record_id), ())
                if pos >= position[key] or pk == run_pks[key]
            }
            keep.add(run_pks[key])
            conditions.append((key[0], entity, record_id, sorted(keep)))
    if not conditions:
        return set()
    states = list(UNREMEDIATED_STATES)
    touched = set()
    for chunk in chunks(conditions, 300):
        clauses = []
        params = [FailureState.RECOVERED, *states]
        for integration_id, entity, record_id, keep in chunk:
            clauses.append(
                f"(integration_id = %s AND entity = %s AND record_id = %s"
                f" AND run_id NOT IN ({', '.join(['%s'] * len(keep))}))"
            )
            params += [integration_id, entity, record_id, *keep]
        cursor.execute(
            f"UPDATE {FAILURE} SET state = %s WHERE state IN (%s, %s, %s)"  # noqa: S608
            f" AND ({' OR '.join(clauses)}) RETURNING exception_id",
            params,
        )
        touched.update(row[0] for row in cursor.fetchall())
    return touched
