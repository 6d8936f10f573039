"""django-q2 tasks of integrations. Each takes ids or primitives, never
model instances, so a task survives a worker restart."""

from integrations import replays
from integrations.replays import push

# The periodic sweep (opsconsole.schedules, every minute): queues expired
# leases again and delivers replays whose next try has come, so that a
# delivery whose worker died is picked up even if its task was lost.
HOUSEKEEPING_SCHEDULE = "replay-housekeeping"


def deliver_replay(replay_id):
    """Deliver one queued replay to its webhook if it is due (contract 3.6)."""
    row = push.push_replay(replay_id)
    return None if row is None else {"status_code": row.status_code, "succeeded": row.succeeded}


def deliver_due_replays():
    """Deliver every replay whose next try has come; returns how many were tried."""
    tried = 0
    for replay_id in push.due_replay_ids():
        if push.push_replay(replay_id) is not None:
            tried += 1
    return tried


def expire_replay_leases():
    return len(replays.expire_leases())


def replay_housekeeping():
    expired = expire_replay_leases()
    delivered = deliver_due_replays()
    return {"expired": expired, "delivered": delivered}
