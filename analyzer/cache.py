"""Django's database cache with an increment that concurrent workers cannot lose.

The rate limits (django-ratelimit) count requests with `cache.incr`. Django's database cache
increments by reading the value and writing it back, so two workers counting at once can both
write the same number and a client gets more requests than its limit. Here the row is locked by a
write before it is read (a row lock on PostgreSQL, the database's write lock on SQLite), so each
increment sees the one before it; and the expiry is kept, where Django's resets it.
"""

import base64
import pickle
from typing import Any

from django.core.cache.backends.db import DatabaseCache as DjangoDatabaseCache
from django.db import connections, models, router, transaction
from django.utils import timezone


class DatabaseCache(DjangoDatabaseCache):
    def incr(self, key: Any, delta: int = 1, version: int | None = None) -> int:
        """Add delta to the stored number atomically; raise ValueError if the key is missing."""
        stored_key = self.make_and_validate_key(key, version=version)
        database = router.db_for_write(self.cache_model_class)
        connection = connections[database]
        table = connection.ops.quote_name(self.cache_model_class._meta.db_table)
        expression = models.Expression(output_field=models.DateTimeField())
        converters = connection.ops.get_db_converters(expression) + expression.get_db_converters(
            connection
        )
        with transaction.atomic(using=database), connection.cursor() as cursor:
            # A write first: it takes the lock the read below then holds until the commit.
            cursor.execute(
                f"UPDATE {table} SET expires = expires WHERE cache_key = %s",  # noqa: S608
                [stored_key],
            )
            cursor.execute(
                f"SELECT value, expires FROM {table} WHERE cache_key = %s",  # noqa: S608
                [stored_key],
            )
            row = cursor.fetchone()
            if row is None:
                raise ValueError(f"Key '{key}' not found")
            value, expires = row
            for converter in converters:
                expires = converter(expires, expression, connection)
            if expires < timezone.now():
                raise ValueError(f"Key '{key}' not found")
            # The same encoding as Django's database cache; the rows are written only by it.
            value = connection.ops.process_clob(value)
            value = pickle.loads(base64.b64decode(value.encode()))  # noqa: S301
            new_value: int = value + delta
            encoded = base64.b64encode(pickle.dumps(new_value, self.pickle_protocol)).decode()
            cursor.execute(
                f"UPDATE {table} SET value = %s WHERE cache_key = %s",  # noqa: S608
                [encoded, stored_key],
            )
        return new_value
