from django.contrib import admin, messages
from django.contrib.auth.models import User
from django.db.models import QuerySet
from django.http import HttpRequest, HttpResponse, StreamingHttpResponse
from django.shortcuts import render
from django.urls import reverse
from django.utils.html import format_html, format_html_join

from analyzer.csv_export import analyses_csv
from analyzer.models import Analysis, ApiToken, Batch, Feedback
from analyzer.moderation_admin import ModerationAnalysisAdmin, ReviewStateFilter
from analyzer.tokens import token_create, token_revoke

# Where save_model leaves a new token's key for response_add, on that one request.
NEW_KEY_ATTRIBUTE = "toxmon_new_key"


class FeedbackInline(admin.TabularInline):
    """Scores people suggested for this text through comments:suggestscore."""

    model = Feedback
    fields = ("scores", "span_scores", "community_id", "client_token", "created_at")
    readonly_fields = fields
    extra = 0
    can_delete = False
    show_change_link = True

    def has_add_permission(self, request: HttpRequest, obj: Analysis | None = None) -> bool:
        return False


@admin.register(Analysis)
class AnalysisAdmin(ModerationAnalysisAdmin):
    list_display = [
        "short_text",
        "verdict",
        "action",
        "review_state",
        "top_label",
        "max_score_percent",
        "model_name",
        "latency_ms",
        "created_at",
    ]
    list_filter = [
        ReviewStateFilter,
        "action",
        "verdict",
        "top_label",
        "model_name",
        "engine",
        "source",
        "normalized",
        "created_at",
    ]
    search_fields = ["text", "community_id", "session_id", "client_token"]
    date_hierarchy = "created_at"
    actions = ["review_toxic", "review_not_toxic", "review_with_note", "export_csv"]
    fields = (
        "text",
        "verdict",
        "action",
        "action_labels_display",
        "policy_link",
        "top_label",
        "max_score",
        "threshold",
        "scores_table",
        "engine",
        "model_name",
        "latency_ms",
        "windows",
        "normalized",
        "source",
        "batch_link",
        "batch_line",
        "community_id",
        "session_id",
        "client_token",
        "created_at",
    )
    readonly_fields = fields
    inlines = [FeedbackInline]
    list_per_page = 50

    @admin.display(description="text")
    def short_text(self, analysis: Analysis) -> str:
        return analysis.text if len(analysis.text) <= 80 else analysis.text[:79] + "…"

    @admin.display(description="max score", ordering="max_score")
    def max_score_percent(self, analysis: Analysis) -> str:
        return f"{analysis.max_score:.1%}"

    @admin.display(description="scores")
    def scores_table(self, analysis: Analysis) -> str:
        return format_html_join(
            "\n",
            "<div>{}: {} {} {}</div>",
            (
                (
                    row.label,
                    f"{row.score:.1%}",
                    "(flagged)" if row.flagged else "",
                    "" if row.action == "allow" else f"→ {row.action}",
                )
                for row in analysis.label_scores
            ),
        )

    @admin.display(description="batch")
    def batch_link(self, analysis: Analysis) -> str:
        if analysis.batch_id is None:
            return self.get_empty_value_display()
        url = reverse("admin:analyzer_batch_change", args=[analysis.batch_id])
        return format_html('<a href="{}">{}</a>', url, analysis.batch)

    def get_queryset(self, request: HttpRequest) -> QuerySet[Analysis]:
        return super().get_queryset(request).select_related("batch")

    def lookup_allowed(self, lookup: str, value: str, request: HttpRequest | None = None) -> bool:
        # The batch page links to its analyses with ?batch__id__exact=<id>.
        return lookup == "batch__id__exact" or super().lookup_allowed(lookup, value, request)

    @admin.action(description="Export selected analyses as CSV")
    def export_csv(
        self, request: HttpRequest, queryset: QuerySet[Analysis]
    ) -> StreamingHttpResponse:
        return analyses_csv(queryset)

    # Analyses are records of what the model said: made by the app, never edited by hand.
    def has_add_permission(self, request: HttpRequest) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: Analysis | None = None) -> bool:
        return False


@admin.register(Feedback)
class FeedbackAdmin(admin.ModelAdmin):
    """Suggested scores, each beside what the model said about the same text."""

    list_display = ["short_text", "suggested", "model_said", "community_id", "created_at"]
    list_filter = ["created_at", "community_id"]
    search_fields = ["analysis__text", "community_id", "client_token"]
    date_hierarchy = "created_at"
    fields = (
        "analysis_link",
        "scores",
        "span_scores",
        "community_id",
        "client_token",
        "created_at",
    )
    readonly_fields = fields
    list_select_related = ["analysis"]

    @admin.display(description="text")
    def short_text(self, feedback: Feedback) -> str:
        text = feedback.analysis.text
        return text if len(text) <= 80 else text[:79] + "…"

    @admin.display(description="suggested")
    def suggested(self, feedback: Feedback) -> str:
        return ", ".join(f"{name} {score:.0%}" for name, score in feedback.scores.items()) or "—"

    @admin.display(description="model said")
    def model_said(self, feedback: Feedback) -> str:
        analysis = feedback.analysis
        return f"{analysis.get_verdict_display()} ({analysis.top_label} {analysis.max_score:.0%})"

    @admin.display(description="analysis")
    def analysis_link(self, feedback: Feedback) -> str:
        url = reverse("admin:analyzer_analysis_change", args=[feedback.analysis_id])
        return format_html('<a href="{}">{}</a>', url, feedback.analysis)

    # Feedback is what a client sent: kept as it came.
    def has_add_permission(self, request: HttpRequest) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: Feedback | None = None) -> bool:
        return False


@admin.register(Batch)
class BatchAdmin(admin.ModelAdmin):
    list_display = ["filename", "status", "done", "total", "attempts", "created_at"]
    list_filter = ["status", "created_at"]
    search_fields = ["filename"]
    date_hierarchy = "created_at"
    fields = (
        "id",
        "filename",
        "column",
        "status",
        "error",
        "done",
        "total",
        "analyses_link",
        "attempts",
        "task_id",
        "created_at",
        "started_at",
        "heartbeat_at",
        "finished_at",
    )
    readonly_fields = fields

    @admin.display(description="analyses")
    def analyses_link(self, batch: Batch) -> str:
        url = reverse("admin:analyzer_analysis_changelist") + f"?batch__id__exact={batch.pk}"
        page = reverse("analyzer:batch_detail", args=[batch.pk])
        return format_html(
            '<a href="{}">{} stored analyses</a> · <a href="{}">progress and summary</a>',
            url,
            batch.analyses.count(),
            page,
        )

    # Batches are made by uploading a file on the batch page.
    def has_add_permission(self, request: HttpRequest) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: Batch | None = None) -> bool:
        return False


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
