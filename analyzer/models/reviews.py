"""Reviews and feedback: what people said about an analysis."""

from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import models
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from analyzer.models.choices import ReviewDecision


class Review(models.Model):
    """A person's decision on one analysis; every decision is kept, the latest one counts."""

    # Analysis by name: analyses.py imports this module for its review queue.
    analysis = models.ForeignKey(
        "analyzer.Analysis", on_delete=models.CASCADE, related_name="reviews"
    )
    decision = models.CharField(max_length=16, choices=ReviewDecision.choices, db_index=True)
    labels = models.JSONField(
        default=list,
        blank=True,
        help_text=_("The labels the reviewer found right; empty when the text is not toxic."),
    )
    note = models.TextField(blank=True)
    reviewer = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL
    )
    created_at = models.DateTimeField(default=timezone.now, db_index=True)

    class Meta:
        ordering = ["-created_at", "-id"]
        indexes = [models.Index(fields=["analysis", "created_at"])]

    def __str__(self) -> str:
        return f"{self.get_decision_display()} by {self.reviewer or 'a deleted user'}"


class Feedback(models.Model):
    """The scores a person thinks a text should have had, sent to comments:suggestscore."""

    analysis = models.ForeignKey(
        "analyzer.Analysis", on_delete=models.CASCADE, related_name="feedback"
    )
    scores = models.JSONField(
        default=dict,
        blank=True,
        help_text=_('Suggested score of each attribute, from 0 to 1, e.g. {"TOXICITY": 0.0}.'),
    )
    span_scores = models.JSONField(
        default=dict,
        blank=True,
        help_text=_(
            "Suggested scores of parts of the text, per attribute: [{begin, end, score}] "
            "in UTF-16 code units, as Perspective counts them."
        ),
    )
    client_token = models.CharField(
        max_length=255, blank=True, help_text=_("Perspective's clientToken: the client's own id.")
    )
    community_id = models.CharField(
        max_length=255,
        blank=True,
        db_index=True,
        help_text=_("Perspective's communityId: the forum or site the comment belongs to."),
    )
    created_at = models.DateTimeField(default=timezone.now, db_index=True)

    class Meta:
        ordering = ["-created_at", "-id"]
        verbose_name_plural = "feedback"

    def __str__(self) -> str:
        suggested = ", ".join(f"{name} {score:.0%}" for name, score in self.scores.items())
        return f"{suggested or 'span scores'} for analysis {self.analysis_id}"

    def clean(self) -> None:
        # A suggestion may score the whole text, parts of it, or both, but not nothing.
        if not self.scores and not self.span_scores:
            raise ValidationError(_("Suggest a summary score or span scores."))
