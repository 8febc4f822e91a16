from django.core.management.base import BaseCommand, CommandParser

from analyzer.tokens import token_create


class Command(BaseCommand):
    help = "Create an API token and print its key, which is shown only this once."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("name", help="Who or what uses the token.")

    def handle(self, *args: object, name: str, **options: object) -> None:
        _, key = token_create(name=name)
        self.stdout.write(key)
