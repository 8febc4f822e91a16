from django.core.management.base import BaseCommand

from analyzer.tasks import batches_recover


class Command(BaseCommand):
    help = "Resume (or fail, after too many attempts) batches whose worker stopped mid-job."

    def handle(self, *args: object, **options: object) -> None:
        count = batches_recover()
        self.stdout.write(f"{count} stalled batch(es) queued to resume.")
