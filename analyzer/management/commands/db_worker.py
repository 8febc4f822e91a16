"""`manage.py db_worker`: django-tasks-db's task worker, with the batch watchdog beside it.

It takes the place of django-tasks-db's own command of the same name (analyzer comes first in
INSTALLED_APPS), so every way of starting a worker also watches the batches.
"""

import logging
import os
import threading
import time
from typing import Any

from django.conf import settings
from django.db import connections
from django.utils.autoreload import DJANGO_AUTORELOAD_ENV
from django_tasks_db.management.commands import db_worker

from analyzer import tasks
from analyzer.engines import loader

logger = logging.getLogger(__name__)


class Command(db_worker.Command):
    help = (
        "Run the database task worker. Every TOXMON_BATCH_WATCH_SECONDS it also queues again "
        "each unfinished batch that nothing runs, or fails it with its reason."
    )

    def handle(self, *args: Any, **options: Any) -> None:
        # With --reload the command runs in the reloader and again in the child that works.
        if not options["reload"] or os.environ.get(DJANGO_AUTORELOAD_ENV) == "true":
            # Loaded before the first batch, so loading it never looks like a silent worker.
            loader.engine_get()
            threading.Thread(target=batches_watch, name="batch-watchdog", daemon=True).start()
        super().handle(*args, **options)


def batches_watch() -> None:
    """Recover stalled batches now and then every TOXMON_BATCH_WATCH_SECONDS, until exit."""
    while True:
        try:
            tasks.batches_recover()
        except Exception:
            logger.exception("The batch watchdog failed; it tries again in its next round")
        finally:
            connections.close_all()  # this thread's own connections
        time.sleep(settings.TOXMON_BATCH_WATCH_SECONDS)
