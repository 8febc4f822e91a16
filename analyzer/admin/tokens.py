"""Admin of API tokens: create one and show its key once, revoke a selection."""

from django.contrib import admin, messages
from django.contrib.auth.models import User
from django.db.models import QuerySet
from django.http import HttpRequest, HttpResponse
from django.shortcuts import render

from analyzer.models import ApiToken
from analyzer.tokens import token_create, token_revoke

# Where save_model leaves a new token's key for response_add, on that one request.
NEW_KEY_ATTRIBUTE = "toxmon_new_key"


@admin.register(ApiToken)
class ApiTokenAdmin(admin.ModelAdmin):
    list_display = ["name", "prefix", "is_active", "created_by", "created_at", "last_used_at"]
    list_filter = [("revoked_at", admin.EmptyFieldListFilter)]
    search_fields = ["name", "prefix"]
    actions = ["revoke"]
    readonly_fields = ("prefix", "created_by", "created_at", "revoked_at", "last_used_at")

    def get_fields(self, request: HttpRequest, obj: ApiToken | None = None) -> tuple[str, ...]:
        return ("name",) if obj is None else ("name", *self.readonly_fields)

    @admin.display(boolean=True, description="active")
    def is_active(self, token: ApiToken) -> bool:
        return token.is_active

    def save_model(self, request: HttpRequest, obj: ApiToken, form: object, change: bool) -> None:
        if change:
            super().save_model(request, obj, form, change)
            return
        user = request.user if isinstance(request.user, User) else None
        token, key = token_create(name=obj.name, created_by=user)
        obj.__dict__.update(
            {field.attname: getattr(token, field.attname) for field in token._meta.concrete_fields}
        )
        obj._state.adding = False
        # Shown by response_add on this one response; only its hash is stored.
        setattr(request, NEW_KEY_ATTRIBUTE, key)

    def response_add(
        self, request: HttpRequest, obj: ApiToken, post_url_continue: str | None = None
    ) -> HttpResponse:
        context = {
            **self.admin_site.each_context(request),
            "title": "API token created",
            "token": obj,
            "key": getattr(request, NEW_KEY_ATTRIBUTE),
            "opts": self.model._meta,
        }
        response = render(request, "admin/analyzer/apitoken/created.html", context)
        response["Cache-Control"] = "no-store"
        return response

    @admin.action(description="Revoke selected tokens")
    def revoke(self, request: HttpRequest, queryset: QuerySet[ApiToken]) -> None:
        for token in queryset:
            token_revoke(token=token)
        self.message_user(request, f"Revoked {queryset.count()} token(s).", messages.SUCCESS)
