from django.core.management.base import BaseCommand

from analyzer.tasks import batches_recover


class Command(BaseCommand):
    help = (
        "Run one round of the db worker's batch watchdog: queue again each unfinished batch "
        "that nothing runs, or fail it after too many tries."
    )

    def handle(self, *args: object, **options: object) -> None:
        count = batches_recover()
        self.stdout.write(f"{count} batch(es) nothing ran were queued to resume.")
