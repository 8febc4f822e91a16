from django.conf import settings
from django.core.management.base import BaseCommand

from analyzer.tasks import retention_schedule


class Command(BaseCommand):
    help = (
        "Queue the daily purge of texts older than TOXMON_RETENTION_DAYS for the task worker, "
        "unless one is queued already; nothing when the setting is empty. Run before db_worker."
    )

    def handle(self, *args: object, **options: object) -> None:
        if retention_schedule():
            self.stdout.write(
                f"Queued the daily purge of texts older than {settings.TOXMON_RETENTION_DAYS} days."
            )
        elif settings.TOXMON_RETENTION_DAYS:
            self.stdout.write("The daily purge is queued already.")
        else:
            self.stdout.write("TOXMON_RETENTION_DAYS is empty: stored texts are kept.")
