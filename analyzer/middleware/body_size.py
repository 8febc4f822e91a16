"""Refuse a request body over its route's limit before any of it is read.

A body announced by Content-Length is judged by that number alone: a 2 GB announcement gets its
413 at once, nothing read and nothing spooled to disk. A chunked body announces no length, so it is
read here, counted, and cut off at the limit; one within the limit is handed on to Django, which
would otherwise see no body at all.
"""

import logging
import tempfile
from collections.abc import Callable

from django.conf import settings
from django.core.handlers.wsgi import LimitedStream
from django.http import HttpRequest, HttpResponse
from django.shortcuts import render
from django.urls import Resolver404, resolve

from analyzer.api.perspective_errors import google_error
from analyzer.api.problems import problem

logger = logging.getLogger(__name__)

# Room for a multipart body's boundaries, headers and the form's other fields.
MULTIPART_OVERHEAD = 64 * 1024
READ_SIZE = 64 * 1024


def route_of(path: str) -> str:
    """Return which limit applies to path: "form", "batch", "api", "perspective", "admin" or
    "other"."""
    if path.startswith("/v1alpha1/"):
        return "perspective"
    try:
        match = resolve(path)
    except Resolver404:
        return "api" if path.startswith("/api/") else "other"
    if match.namespace == "admin":
        return "admin"
    if match.namespace == "api_v1" or path.startswith("/api/"):
        return "api"
    if match.url_name == "batch_upload":
        return "batch"
    if match.url_name == "analyze":
        return "form"
    return "other"


def body_limit(route: str) -> int:
    """Return the most bytes a request body may have on the route."""
    return {
        "batch": settings.TOXMON_BATCH_MAX_BYTES + MULTIPART_OVERHEAD,
        "api": settings.TOXMON_API_MAX_BYTES,
        "perspective": settings.TOXMON_API_MAX_BYTES,
        "admin": settings.TOXMON_ADMIN_MAX_BYTES,
    }.get(route, settings.TOXMON_FORM_MAX_BYTES)


def announced_length(request: HttpRequest) -> int | None:
    """Return the Content-Length of the request, or None when it sends none (or a bad one)."""
    try:
        return int(request.META["CONTENT_LENGTH"])
    except (KeyError, ValueError, TypeError):
        return None


def is_chunked(request: HttpRequest) -> bool:
    return "chunked" in request.META.get("HTTP_TRANSFER_ENCODING", "").lower()


def chunked_body_take(request: HttpRequest, *, limit: int) -> bool:
    """Read a chunked body up to limit and give it to Django; return False if it is longer."""
    stream = request.META["wsgi.input"]
    # Spooled like Django's own uploads: in memory while small, a temporary file when large.
    body = tempfile.SpooledTemporaryFile(max_size=settings.FILE_UPLOAD_MAX_MEMORY_SIZE)  # noqa: SIM115
    size = 0
    while chunk := stream.read(min(READ_SIZE, limit + 1 - size)):
        size += len(chunk)
        if size > limit:
            body.close()
            return False
        body.write(chunk)
    body.seek(0)
    request.META["CONTENT_LENGTH"] = str(size)
    # Django reads the body through this stream; it is not read yet at this point.
    request._stream = LimitedStream(body, size)  # type: ignore[arg-type,assignment]
    return True


def too_large(request: HttpRequest, *, route: str, limit: int) -> HttpResponse:
    """Return the 413 of the route: problem details for the API, a page for people."""
    logger.warning(
        "Refused a %s body over %s bytes on %s from %s",
        request.method,
        f"{limit:,}",
        request.path,
        request.META.get("REMOTE_ADDR", ""),
    )
    detail = f"The request body is larger than this address accepts ({limit:,} bytes)."
    if route == "api":
        return problem(
            status=413,
            kind="body-too-large",
            detail=detail + " Send fewer or shorter texts.",
        )
    if route == "perspective":
        # What Google's APIs answer to an oversized payload, which Perspective clients expect.
        return google_error(
            code=400, message=f"Request payload size exceeds the limit: {limit} bytes."
        )
    return render(
        request,
        "analyzer/request_too_large.html",
        {"limit": limit, "route": route},
        status=413,
    )


class RequestSizeLimitMiddleware:
    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        route = route_of(request.path_info)
        limit = body_limit(route)
        length = announced_length(request)
        if length is not None and length > limit:
            return too_large(request, route=route, limit=limit)
        if length is None and is_chunked(request) and not chunked_body_take(request, limit=limit):
            return too_large(request, route=route, limit=limit)
        return self.get_response(request)
