"""Label policies: each label's thresholds, and the versions analyses are judged under."""

from django.conf import settings
from django.core.exceptions import ValidationError
from django.core.validators import MaxValueValidator, MinValueValidator
from django.db import models
from django.db.models import Q
from django.utils import timezone
from django.utils.translation import gettext_lazy as _
from simple_history.models import HistoricalRecords

# Above 0 (0 would flag every text), at most 1.
THRESHOLD_VALIDATORS = [MinValueValidator(0.0001), MaxValueValidator(1.0)]


class LabelPolicy(models.Model):
    """One label's two thresholds; every change is kept in its history (who, when, old, new)."""

    label = models.CharField(max_length=64, unique=True, editable=False)
    review_threshold = models.FloatField(
        validators=THRESHOLD_VALIDATORS,
        help_text=_("A score at or above this sends the text to a person for review."),
    )
    block_threshold = models.FloatField(
        validators=THRESHOLD_VALIDATORS,
        help_text=_("A score at or above this blocks the text. At least the review threshold."),
    )
    updated_at = models.DateTimeField(default=timezone.now, editable=False)

    history = HistoricalRecords()

    class Meta:
        ordering = ["label"]
        verbose_name = "label policy"
        verbose_name_plural = "label policies"
        constraints = [
            models.CheckConstraint(
                condition=Q(review_threshold__gt=0)
                & Q(review_threshold__lte=models.F("block_threshold"))
                & Q(block_threshold__lte=1),
                name="label_policy_thresholds_ordered",
            )
        ]

    def __str__(self) -> str:
        review, block = self.review_threshold, self.block_threshold
        return f"{self.label}: review at {review:.0%}, block at {block:.0%}"

    def clean(self) -> None:
        if (
            self.review_threshold is not None
            and self.block_threshold is not None
            and self.block_threshold < self.review_threshold
        ):
            raise ValidationError(
                {"block_threshold": _("The block threshold cannot be below the review threshold.")}
            )


class PolicyVersion(models.Model):
    """Every label's thresholds as they stood after one change; analyses point to theirs."""

    thresholds = models.JSONField(
        help_text=_('{label: {"review": threshold, "block": threshold}} for every label.')
    )
    reason = models.CharField(max_length=255, blank=True, help_text=_("Why it changed."))
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL
    )
    created_at = models.DateTimeField(default=timezone.now, db_index=True)

    class Meta:
        ordering = ["-id"]
        verbose_name = "policy version"

    def __str__(self) -> str:
        return f"Policy version {self.pk}"
