"""Webhook endpoints, and every delivery to them with how it went."""

from django.core.validators import URLValidator
from django.db import models
from django.utils import timezone
from django.utils.translation import gettext_lazy as _
from simple_history.models import HistoricalRecords

from analyzer.models.analyses import Analysis
from analyzer.models.choices import Action, DeliveryStatus


class WebhookEndpoint(models.Model):
    """A URL told about analyses whose action it subscribes to, signed with its secret."""

    name = models.CharField(max_length=100, help_text=_("Who receives it."))
    url = models.URLField(
        max_length=500,
        validators=[URLValidator(schemes=["http", "https"])],
        help_text=_("http or https URL that receives a POST per analysis."),
    )
    secret = models.CharField(
        max_length=200,
        help_text=_("Signs each body (HMAC-SHA256); never shown again after saving."),
    )
    on_review = models.BooleanField(default=True, help_text=_("Notify texts sent to review."))
    on_block = models.BooleanField(default=True, help_text=_("Notify blocked texts."))
    is_active = models.BooleanField(default=True)
    created_at = models.DateTimeField(default=timezone.now, editable=False)

    # The secret stays out of the history: it is the one thing admin never shows.
    history = HistoricalRecords(excluded_fields=["secret"])

    class Meta:
        ordering = ["name"]
        verbose_name = "webhook endpoint"

    def __str__(self) -> str:
        return self.name

    @property
    def actions(self) -> list[str]:
        return [
            action
            for action, wanted in ((Action.REVIEW, self.on_review), (Action.BLOCK, self.on_block))
            if wanted
        ]


class WebhookDelivery(models.Model):
    """One notification of one endpoint: the exact body, and how sending it went."""

    endpoint = models.ForeignKey(
        WebhookEndpoint, on_delete=models.CASCADE, related_name="deliveries"
    )
    analysis = models.ForeignKey(
        Analysis, null=True, blank=True, on_delete=models.SET_NULL, related_name="deliveries"
    )
    action = models.CharField(max_length=16, choices=Action.choices)
    body = models.TextField(help_text=_("The JSON sent, byte for byte the same on every attempt."))
    status = models.CharField(
        max_length=16, choices=DeliveryStatus.choices, default=DeliveryStatus.PENDING, db_index=True
    )
    attempts = models.PositiveIntegerField(default=0)
    status_code = models.PositiveIntegerField(
        null=True, blank=True, help_text=_("The receiver's last HTTP status.")
    )
    last_error = models.TextField(blank=True)
    created_at = models.DateTimeField(default=timezone.now, db_index=True)
    last_attempt_at = models.DateTimeField(null=True, blank=True)
    next_attempt_at = models.DateTimeField(null=True, blank=True)
    delivered_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-created_at", "-id"]
        verbose_name = "webhook delivery"
        verbose_name_plural = "webhook deliveries"

    def __str__(self) -> str:
        return f"{self.endpoint} #{self.pk} ({self.get_status_display()})"
