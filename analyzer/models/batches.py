"""Batches: files of texts analyzed in the background, and the queries the watchdog runs."""

import uuid
from datetime import datetime

from django.conf import settings
from django.db import models
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from analyzer.models.choices import BatchStatus


class BatchQuerySet(models.QuerySet):
    def unfinished(self) -> "BatchQuerySet":
        return self.filter(status__in=[BatchStatus.QUEUED, BatchStatus.RUNNING])

    def stalled(self, *, since: datetime) -> "BatchQuerySet":
        """Running batches whose worker has not reported since the given time."""
        return self.filter(status=BatchStatus.RUNNING, heartbeat_at__lt=since)


class Batch(models.Model):
    """A file of texts analyzed in the background, one Analysis per text."""

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    filename = models.CharField(max_length=255)
    column = models.CharField(
        max_length=255, blank=True, help_text=_("The CSV column the texts came from.")
    )
    items = models.JSONField(
        default=list,
        help_text=_("[line, text] pairs still to analyze; emptied when the batch is done."),
    )
    total = models.PositiveIntegerField(help_text=_("Texts in the file."))
    done = models.PositiveIntegerField(default=0, help_text=_("Texts analyzed and stored."))
    status = models.CharField(
        max_length=16, choices=BatchStatus.choices, default=BatchStatus.QUEUED, db_index=True
    )
    error = models.TextField(blank=True, help_text=_("Why the batch failed."))
    attempts = models.PositiveIntegerField(
        default=0, help_text=_("Times a worker started on the batch (more than one: resumed).")
    )
    task_id = models.CharField(max_length=64, blank=True, help_text=_("The last queued task."))
    owner = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.CASCADE,
        related_name="batches",
        help_text=_("Who uploaded the batch; empty when uploaded anonymously."),
    )
    created_at = models.DateTimeField(default=timezone.now, db_index=True)
    started_at = models.DateTimeField(null=True, blank=True)
    heartbeat_at = models.DateTimeField(
        null=True, blank=True, help_text=_("When the worker last stored results.")
    )
    finished_at = models.DateTimeField(null=True, blank=True)

    objects = BatchQuerySet.as_manager()

    class Meta:
        ordering = ["-created_at"]
        verbose_name_plural = "batches"

    def __str__(self) -> str:
        return f"{self.filename} ({self.done}/{self.total}, {self.get_status_display()})"

    @property
    def is_finished(self) -> bool:
        return self.status in {BatchStatus.DONE, BatchStatus.FAILED}

    @property
    def percent(self) -> float:
        return 100.0 * self.done / self.total if self.total else 100.0
