"""What both JSON APIs (/api/v1/ and Perspective's) do alike with their failures: answer each
exception with a handler, and describe the error responses in their OpenAPI documents."""

from collections.abc import Callable, Iterator, Mapping
from typing import Any

from django.http import HttpRequest, HttpResponse
from ninja import NinjaAPI

RETRY_AFTER_HEADER = {
    "description": "Seconds to wait before trying again.",
    "schema": {"type": "string", "pattern": r"^\d+$"},
}


def handlers_register(
    api: NinjaAPI, handlers: Mapping[type[Exception], Callable[[HttpRequest, Any], HttpResponse]]
) -> None:
    """Make api answer each exception with its handler."""
    for exception, handler in handlers.items():
        api.add_exception_handler(exception, handler)


def documented_responses(document: dict[str, Any]) -> Iterator[tuple[str, dict[str, Any]]]:
    """Yield the status and the description of every response of every operation in document."""
    for operations in document["paths"].values():
        for operation in operations.values():
            for code, response in operation.get("responses", {}).items():
                yield str(code), response
