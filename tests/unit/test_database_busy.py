"""A busy database: transient errors are tried again, and what still fails answers 503."""

import sqlite3

import psycopg
import pytest
from django.db import DatabaseError, IntegrityError, InterfaceError, OperationalError
from django.urls import reverse
from django_tasks_db.models import DBTaskResult
from prometheus_client import REGISTRY

from analyzer import batch_reports, db_retry, services
from analyzer.models import Analysis, Batch
from analyzer.tokens import token_create
from tests.unit.test_batches import make_batch, upload

pytestmark = pytest.mark.django_db

PROBLEM = "application/problem+json"


def wrapped(cause: Exception, kind: type[DatabaseError] = OperationalError) -> DatabaseError:
    """Return the error Django raises for a driver's error, with the driver's error as cause."""
    error = kind(*cause.args)
    error.__cause__ = cause
    return error


def sqlite_error(sql: str) -> sqlite3.Error:
    """Return the error SQLite itself raises for sql on a database another connection locked."""
    with sqlite3.connect(":memory:") as connection:
        try:
            connection.execute(sql)
        except sqlite3.Error as error:
            return error
    raise AssertionError(f"{sql} did not fail")


def locked_sqlite_error(tmp_path) -> sqlite3.OperationalError:
    path = tmp_path / "locked.sqlite3"
    holder = sqlite3.connect(path, isolation_level=None)
    holder.execute("CREATE TABLE t (x)")
    holder.execute("BEGIN EXCLUSIVE")
    waiter = sqlite3.connect(path, timeout=0, isolation_level=None)
    try:
        waiter.execute("BEGIN IMMEDIATE")
    except sqlite3.OperationalError as error:
        return error
    finally:
        waiter.close()
        holder.close()
    raise AssertionError("the lock was not held")


def test_a_locked_sqlite_database_is_transient(tmp_path):
    assert db_retry.is_transient(wrapped(locked_sqlite_error(tmp_path)))


def test_a_sqlite_error_in_the_query_is_not_transient():
    assert not db_retry.is_transient(wrapped(sqlite_error("SELECT * FROM missing")))


@pytest.mark.parametrize(
    "cause",
    [
        psycopg.errors.SerializationFailure("could not serialize access"),
        psycopg.errors.DeadlockDetected("deadlock detected"),
        psycopg.errors.AdminShutdown("terminating connection due to administrator command"),
        psycopg.OperationalError("server closed the connection unexpectedly"),
    ],
)
def test_postgresql_serialization_failures_and_dropped_connections_are_transient(cause):
    assert db_retry.is_transient(wrapped(cause))


def test_a_closed_connection_is_transient():
    assert db_retry.is_transient(InterfaceError("connection already closed"))


def test_a_unique_violation_is_not_transient():
    error = wrapped(psycopg.errors.UniqueViolation("duplicate key"), IntegrityError)
    assert not db_retry.is_transient(error)
    assert not db_retry.is_transient(wrapped(psycopg.errors.UndefinedTable("no table")))


def busy_count(operation: str) -> float:
    value = REGISTRY.get_sample_value("toxmon_database_busy_total", {"operation": operation})
    return value or 0.0


@pytest.fixture
def locked_inserts(monkeypatch) -> list[int]:
    """Make every insert of analyses fail as on a locked database; count the tries."""
    tries: list[int] = []

    def locked(**kwargs):
        tries.append(1)
        raise OperationalError("database is locked")

    monkeypatch.setattr(services, "analyses_insert", locked)
    monkeypatch.setattr(db_retry, "WEB", db_retry.RetryPolicy(attempts=3, budget_seconds=5))
    return tries


def test_a_database_locked_once_is_tried_again_and_the_form_answers(
    client, fake_engine, monkeypatch
):
    insert = services.analyses_insert
    tries = []

    def locked_once(**kwargs):
        tries.append(1)
        if len(tries) == 1:
            raise OperationalError("database is locked")
        insert(**kwargs)

    monkeypatch.setattr(services, "analyses_insert", locked_once)
    response = client.post(reverse("analyzer:analyze"), {"text": "You are a complete idiot"})
    assert response.status_code == 200
    assert len(tries) == 2
    assert Analysis.objects.filter(text="You are a complete idiot").count() == 1, "stored once"


def test_a_database_that_stays_busy_gives_503_keeps_the_text_and_stores_nothing(
    client, fake_engine, locked_inserts
):
    before = busy_count("analyses_save")
    response = client.post(reverse("analyzer:analyze"), {"text": "You are a complete idiot"})
    assert response.status_code == 503
    assert response["Retry-After"] == str(db_retry.RETRY_AFTER_SECONDS)
    html = response.content.decode()
    assert "The database is busy" in html and "You are a complete idiot</textarea>" in html
    assert len(locked_inserts) == 3
    assert Analysis.objects.count() == 0
    assert busy_count("analyses_save") == before + 1


def test_the_api_answers_a_busy_database_with_a_503_problem(client, fake_engine, locked_inserts):
    _, key = token_create(name="tests")
    response = client.post(
        reverse("api_v1:analyze"),
        {"texts": ["You are a complete idiot"]},
        content_type="application/json",
        headers={"Authorization": f"Bearer {key}"},
    )
    assert response.status_code == 503
    assert response["Content-Type"] == PROBLEM
    assert response["Retry-After"] == str(db_retry.RETRY_AFTER_SECONDS)
    assert response.json()["type"] == "/api/v1/problems/database-busy"
    assert Analysis.objects.count() == 0


def test_an_upload_on_a_busy_database_gives_503_and_stores_neither_batch_nor_task(
    admin_client, fake_engine, monkeypatch
):
    monkeypatch.setattr(db_retry, "WEB", db_retry.RetryPolicy(attempts=2, budget_seconds=5))
    record = DBTaskResult.objects.create

    def locked_when_queuing(**kwargs):
        record(**kwargs)  # the batch and the task are written, then the lock bites
        raise OperationalError("database is locked")

    monkeypatch.setattr(DBTaskResult.objects, "create", locked_when_queuing)
    response = admin_client.post(
        reverse("analyzer:batch_upload"), {"file": upload("c.txt", "a\nb\n")}
    )
    assert response.status_code == 503
    assert response["Retry-After"] == str(db_retry.RETRY_AFTER_SECONDS)
    assert "The database is busy" in response.content.decode()
    assert Batch.objects.count() == 0 and DBTaskResult.objects.count() == 0


def test_any_page_that_meets_a_locked_database_answers_503_not_500(client, monkeypatch):
    batch = make_batch(["hello"])

    def locked(**kwargs):
        raise OperationalError("database is locked")

    monkeypatch.setattr(batch_reports, "batch_progress", locked)
    before = busy_count("request")
    response = client.get(reverse("analyzer:batch_status", args=[batch.pk]))
    assert response.status_code == 503
    assert response["Retry-After"] == str(db_retry.RETRY_AFTER_SECONDS)
    assert "The database is busy" in response.content.decode()
    assert busy_count("request") == before + 1
