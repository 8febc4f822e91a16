"""What several admin modules need: the user behind a request, the history list's template."""

from django.contrib.auth.models import User
from django.http import HttpRequest

HISTORY_LIST_TEMPLATE = "admin/analyzer/object_history_list.html"


def user_of(request: HttpRequest) -> User | None:
    return request.user if isinstance(request.user, User) else None
