from django.core.management.base import BaseCommand

from analyzer.batches import batches_recover_stalled


class Command(BaseCommand):
    help = "Resume (or fail, after too many attempts) batches whose worker stopped mid-job."

    def handle(self, *args: object, **options: object) -> None:
        count = batches_recover_stalled()
        self.stdout.write(f"{count} stalled batch(es) resumed or failed.")
