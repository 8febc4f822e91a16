"""Transient database errors: tell them apart, and try the operation again with backoff.

SQLite says "database is locked" when a writer waited its whole busy timeout; PostgreSQL aborts
a transaction on a serialization failure or a deadlock, and a connection can drop. A new try of
the whole transaction can get past each of them. Any other error is raised at once.
"""

import logging
import random
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import TypeVar

from django.db import InterfaceError, OperationalError, connection

from analyzer import metrics

logger = logging.getLogger(__name__)

T = TypeVar("T")

# SQLITE_BUSY (another connection holds the lock) and SQLITE_LOCKED (a table lock within one
# connection's shared cache); extended codes such as SQLITE_BUSY_SNAPSHOT share the low byte.
SQLITE_BUSY_CODES = {5, 6}
# PostgreSQL: serialization_failure, deadlock_detected, and the server shutting down or not yet
# accepting connections; class 08 (connection exceptions) is added below.
TRANSIENT_SQLSTATES = {"40001", "40P01", "57P01", "57P02", "57P03"}
# What a client is told to wait before sending a request again after a 503.
RETRY_AFTER_SECONDS = 5


class DatabaseBusy(RuntimeError):
    """The database stayed busy through every try; the operation stored nothing."""


@dataclass(frozen=True)
class RetryPolicy:
    attempts: int
    # No new try starts once this many seconds have gone, so a caller knows its worst case.
    budget_seconds: float
    first_delay: float = 0.05
    max_delay: float = 2.0


# A web request gets quick retries for errors that come at once (a serialization failure, a
# dropped connection) but not a second full busy-timeout wait: it answers 503 well before
# gunicorn's timeout instead.
WEB = RetryPolicy(attempts=4, budget_seconds=5)
# The batch worker has time: it waits out a long lock (a backup, a migration) before leaving
# the batch to the watchdog.
WORKER = RetryPolicy(attempts=10, budget_seconds=120)


def is_transient(error: BaseException) -> bool:
    """Return whether a new try of the failed transaction may succeed."""
    if not isinstance(error, OperationalError | InterfaceError):
        return False
    cause = error.__cause__ or error
    sqlite_code = getattr(cause, "sqlite_errorcode", None)
    if isinstance(sqlite_code, int):
        return sqlite_code & 0xFF in SQLITE_BUSY_CODES
    sqlstate = getattr(cause, "sqlstate", None)
    if isinstance(sqlstate, str) and sqlstate:
        return sqlstate in TRANSIENT_SQLSTATES or sqlstate.startswith("08")
    if "database is locked" in str(error) or "database table is locked" in str(error):
        return True
    # A psycopg error without a SQLSTATE never reached the server: the connection failed.
    return isinstance(error, InterfaceError) or type(cause).__module__.startswith("psycopg")


def is_busy(error: BaseException) -> bool:
    """Return whether the error means the database is busy: given up on, or transient."""
    return isinstance(error, DatabaseBusy) or is_transient(error)


def backoff(*, attempt: int, policy: RetryPolicy) -> float:
    """Return the pause before the next try: doubling, capped, with jitter against a herd."""
    delay = min(policy.max_delay, policy.first_delay * 2.0 ** (attempt - 1))
    return delay * random.uniform(0.5, 1.0)  # noqa: S311 - jitter, not a secret


def retrying(action: Callable[[], T], *, operation: str, policy: RetryPolicy) -> T:
    """Run action, trying again after a pause each time it fails on a transient error.

    The action must be one transaction, so a failed try leaves nothing behind. When the tries
    or the time run out, raise DatabaseBusy, counted in toxmon_database_busy_total.
    """
    started = time.monotonic()
    attempt = 0
    while True:
        attempt += 1
        try:
            return action()
        except (OperationalError, InterfaceError) as error:
            if not is_transient(error):
                raise
            delay = backoff(attempt=attempt, policy=policy)
            elapsed = time.monotonic() - started
            if attempt >= policy.attempts or elapsed + delay > policy.budget_seconds:
                metrics.database_busy(operation=operation)
                logger.warning(
                    "%s: the database stayed busy through %d tries in %.1f s: %s",
                    operation,
                    attempt,
                    elapsed,
                    error,
                )
                raise DatabaseBusy(f"the database stayed busy ({error})") from error
            metrics.database_retried(operation=operation)
            logger.info("%s: %s; trying again in %.2f s", operation, error, delay)
            connection_reset()
            time.sleep(delay)


def connection_reset() -> None:
    """Drop this thread's connection if it broke, so the next try opens a new one."""
    if not connection.in_atomic_block:
        connection.close_if_unusable_or_obsolete()
