from argparse import ArgumentParser
from datetime import timedelta

from django.core.management.base import BaseCommand, CommandError

from analyzer.retention import analyses_purge


class Command(BaseCommand):
    help = (
        "Delete stored analyses (and finished batches) older than --older-than days, in chunks. "
        "TOXMON_RETENTION_DAYS makes the task worker do this daily."
    )

    def add_arguments(self, parser: ArgumentParser) -> None:
        parser.add_argument(
            "--older-than",
            type=int,
            required=True,
            metavar="DAYS",
            help="Delete what was stored more than DAYS days ago.",
        )
        parser.add_argument(
            "--dry-run", action="store_true", help="Only count what would be deleted."
        )

    def handle(self, *args: object, **options: object) -> None:
        days = options["older_than"]
        if not isinstance(days, int) or days < 0:
            raise CommandError("--older-than must be a number of days, 0 or more.")
        dry_run = bool(options["dry_run"])
        purged = analyses_purge(older_than=timedelta(days=days), dry_run=dry_run)
        verb = "Would delete" if dry_run else "Deleted"
        self.stdout.write(
            f"{verb} {purged.analyses} analyses and {purged.batches} finished batches "
            f"stored more than {days} days ago."
        )
