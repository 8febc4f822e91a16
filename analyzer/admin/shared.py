"""What several admin modules need: the user behind a request, the history list's template, an
admin for rows that are a record."""

from typing import Any

from django.contrib import admin
from django.contrib.auth.models import User
from django.http import HttpRequest

HISTORY_LIST_TEMPLATE = "admin/analyzer/object_history_list.html"


def user_of(request: HttpRequest) -> User | None:
    return request.user if isinstance(request.user, User) else None


class RecordAdmin(admin.ModelAdmin):
    """Admin of rows kept as a record: listed and read, never added, edited or removed here."""

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    def has_delete_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False
