"""Django's database cache with an ``incr`` that is atomic across processes.

Django's own ``incr`` on the database cache reads the value and writes it
back (two web processes counting the same key both write n + 1) and resets
the entry's expiry. The per-key rate limit (opsconsole/throttling.py) counts
with ``add`` + ``incr``, so here ``incr`` locks the row (SELECT … FOR UPDATE on
PostgreSQL; on SQLite the IMMEDIATE transaction holds the write lock) and
keeps the expiry."""

import base64
import pickle

from django.core.cache.backends.db import DatabaseCache as DjangoDatabaseCache
from django.db import connections, models, router, transaction
from django.utils import timezone


class DatabaseCache(DjangoDatabaseCache):
    def incr(self, key, delta=1, version=None):
        key = self.make_and_validate_key(key, version=version)
        db = router.db_for_write(self.cache_model_class)
        connection = connections[db]
        table = connection.ops.quote_name(self._table)
        lock = " FOR UPDATE" if connection.features.has_select_for_update else ""
        with transaction.atomic(using=db), connection.cursor() as cursor:
            # The table name is the cache's own setting, quoted; the key is a parameter.
            cursor.execute(f"SELECT value, expires FROM {table} WHERE cache_key = %s{lock}", [key])  # noqa: S608
            row = cursor.fetchone()
            if row is None or _expires(row[1], connection) < timezone.now():
                raise ValueError(f"Key '{key}' not found")
            # Written by this cache only, as Django's database cache reads it.
            value = pickle.loads(base64.b64decode(row[0].encode())) + delta  # noqa: S301
            encoded = base64.b64encode(pickle.dumps(value, self.pickle_protocol)).decode("latin1")
            cursor.execute(f"UPDATE {table} SET value = %s WHERE cache_key = %s", [encoded, key])  # noqa: S608
        return value


def _expires(value, connection):
    """The stored expiry as an aware datetime, converted as Django's database cache does."""
    expression = models.Expression(output_field=models.DateTimeField())
    for converter in connection.ops.get_db_converters(expression) + expression.get_db_converters(connection):
        value = converter(value, expression, connection)
    return value
