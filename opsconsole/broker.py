"""django-q2's Redis broker, made as safe as the ORM broker for a queue
worker that dies (settings.Q_CLUSTER "broker_class" when REDIS_URL is set).

django-q2's own Redis broker takes a task off the list with BLPOP: a worker
killed (or a machine lost) while holding it loses the task for good, and a
Redis that is down turns every ``async_task`` into an exception in the
request that queued it. Here:

- a task taken off the queue list is kept, under an id, in a set of taken
  tasks until the cluster acknowledges it (``ack_failures`` is on, so every
  finished task is acknowledged); one taken longer than Q_CLUSTER "retry"
  seconds ago (its worker died) is put back on the queue, as the ORM broker
  hands out a task whose lock expired;
- a task queued while Redis cannot be reached is written to the ORM queue
  table (django-q2's ``OrmQ``) instead, and the queue workers move it to
  Redis once Redis answers again, so work queued meanwhile is not lost.

Each step on Redis is one Lua script, so two clusters never take the same
task or put one back twice. Tasks are written to be safe to run twice (see
the apps' tasks.py), which covers the moment between a task's end and its
acknowledgement.
"""

import logging
import time

import redis
from django.db import transaction
from django_q.brokers.redis_broker import Redis
from django_q.conf import Conf

log = logging.getLogger(__name__)

# KEYS: queue list, taken zset, payload hash, id counter; ARGV: now, retry seconds.
# Puts back tasks taken more than ``retry`` seconds ago, then takes one.
_TAKE = """
local stale = redis.call('ZRANGEBYSCORE', KEYS[2], '-inf', tonumber(ARGV[1]) - tonumber(ARGV[2]))
for _, id in ipairs(stale) do
  local task = redis.call('HGET', KEYS[3], id)
  if task then redis.call('LPUSH', KEYS[1], task) end
  redis.call('HDEL', KEYS[3], id)
  redis.call('ZREM', KEYS[2], id)
end
local task = redis.call('LPOP', KEYS[1])
if not task then return false end
local id = tostring(redis.call('INCR', KEYS[4]))
redis.call('HSET', KEYS[3], id, task)
redis.call('ZADD', KEYS[2], ARGV[1], id)
return {id, task}
"""

# Redis errors meaning "cannot reach Redis now", as opposed to a bug.
UNREACHABLE = (redis.ConnectionError, redis.TimeoutError, redis.BusyLoadingError)


class ReliableRedis(Redis):
    def __init__(self, list_key=None):
        super().__init__(list_key)
        self._setup()

    def _setup(self):
        self.taken_key = f"{self.list_key}:taken"
        self.payload_key = f"{self.list_key}:payload"
        self.counter_key = f"{self.list_key}:ids"
        self._take = self.connection.register_script(_TAKE)
        self._next_drain = 0.0

    def __setstate__(self, state):
        # A broker handed to a spawned process is rebuilt from its list key.
        super().__setstate__(state)
        self._setup()

    def enqueue(self, task):
        try:
            return self.connection.rpush(self.list_key, task)
        except UNREACHABLE as exc:
            from django.utils import timezone
            from django_q.models import OrmQ

            log.warning("Redis unreachable (%s): task kept in the database until it answers", exc)
            return OrmQ.objects.create(key=self.list_key, payload=task, lock=timezone.now()).pk

    def dequeue(self):
        now = time.time()
        if now >= self._next_drain:
            self._next_drain = now + 5
            self.drain_database_queue()
        taken = self._take(
            keys=[self.list_key, self.taken_key, self.payload_key, self.counter_key], args=[now, Conf.RETRY]
        )
        if not taken:
            time.sleep(Conf.POLL)
            return None
        task_id, task = taken
        return [(task_id.decode() if isinstance(task_id, bytes) else task_id, task)]

    def acknowledge(self, task_id):
        pipe = self.connection.pipeline()
        pipe.hdel(self.payload_key, task_id)
        pipe.zrem(self.taken_key, task_id)
        pipe.execute()

    def fail(self, task_id):
        self.acknowledge(task_id)

    def delete(self, task_id):
        self.acknowledge(task_id)

    def lock_size(self):
        return self.connection.zcard(self.taken_key)

    def delete_queue(self):
        return self.connection.delete(self.list_key, self.taken_key, self.payload_key, self.counter_key)

    def drain_database_queue(self, batch=500):
        """Move tasks queued while Redis was down onto the Redis queue; returns how many."""
        from django_q.models import OrmQ

        moved = 0
        while True:
            with transaction.atomic():
                rows = list(
                    OrmQ.objects.select_for_update(skip_locked=True)
                    .filter(key=self.list_key)
                    .order_by("id")
                    .values_list("id", "payload")[:batch]
                )
                if not rows:
                    return moved
                OrmQ.objects.filter(pk__in=[pk for pk, _ in rows]).delete()
                # If Redis fails here the delete is rolled back: nothing lost.
                self.connection.rpush(self.list_key, *[payload for _, payload in rows])
            moved += len(rows)
            if len(rows) < batch:
                return moved

    def waiting_in_database(self):
        from django_q.models import OrmQ

        return OrmQ.objects.filter(key=self.list_key).count()
