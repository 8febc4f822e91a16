import uuid
from dataclasses import dataclass
from datetime import datetime

from django.conf import settings
from django.db import models
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from analyzer.checkpoints import is_identity_label


@dataclass(frozen=True)
class LabelScore:
    label: str
    score: float
    flagged: bool
    # An identity the text mentions (unbiased-toxic-roberta), never flagged as toxic.
    identity: bool = False


class Verdict(models.TextChoices):
    TOXIC = "toxic", _("Toxic")
    NOT_TOXIC = "not_toxic", _("Not toxic")


class Source(models.TextChoices):
    FORM = "form", _("Form")
    API = "api", _("API")
    BATCH = "batch", _("Batch")
    PERSPECTIVE = "perspective", _("Perspective API")


class BatchStatus(models.TextChoices):
    QUEUED = "queued", _("Queued")
    RUNNING = "running", _("Running")
    DONE = "done", _("Done")
    FAILED = "failed", _("Failed")


class AnalysisQuerySet(models.QuerySet):
    def toxic(self) -> "AnalysisQuerySet":
        return self.filter(verdict=Verdict.TOXIC)

    def not_toxic(self) -> "AnalysisQuerySet":
        return self.filter(verdict=Verdict.NOT_TOXIC)

    def label_counts(self) -> dict[str, int]:
        """Return, per toxicity label, how many analyses scored at or above their threshold."""
        counts: dict[str, int] = {}
        for scores, threshold in self.values_list("scores", "threshold").iterator():
            for label, score in scores.items():
                if not is_identity_label(label):
                    counts[label] = counts.get(label, 0) + (score >= threshold)
        return counts


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


class ApiToken(models.Model):
    """A key for the JSON API; only a hash of it is kept."""

    name = models.CharField(max_length=100, help_text=_("Who or what uses this token."))
    prefix = models.CharField(
        max_length=16, editable=False, help_text=_("The start of the key, to recognise it.")
    )
    key_hash = models.CharField(max_length=64, unique=True, editable=False)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, editable=False
    )
    created_at = models.DateTimeField(default=timezone.now, editable=False)
    revoked_at = models.DateTimeField(null=True, blank=True, editable=False)
    last_used_at = models.DateTimeField(null=True, blank=True, editable=False)
    # A fixed window per token, kept in the database so every worker and replica shares it.
    window_started_at = models.DateTimeField(null=True, blank=True, editable=False)
    requests_in_window = models.PositiveIntegerField(default=0, editable=False)

    class Meta:
        ordering = ["-created_at"]
        verbose_name = "API token"

    def __str__(self) -> str:
        return f"{self.name} ({self.prefix}…)"

    @property
    def is_active(self) -> bool:
        return self.revoked_at is None


class Analysis(models.Model):
    text = models.TextField()
    scores = models.JSONField(help_text=_("Score of every label of the engine, from 0 to 1."))
    verdict = models.CharField(max_length=16, choices=Verdict.choices, db_index=True)
    top_label = models.CharField(max_length=64, help_text=_("The label with the highest score."))
    max_score = models.FloatField(help_text=_("The highest score over all labels."))
    threshold = models.FloatField(help_text=_("Score at or above which a label counted as toxic."))
    engine = models.CharField(
        max_length=64,
        help_text=_("Runtime that answered: onnx-int8, onnx-fp32, torch or profanity-check."),
    )
    model_name = models.CharField(max_length=255, help_text=_("Model that answered."))
    latency_ms = models.FloatField(help_text=_("Inference time in milliseconds."))
    windows = models.PositiveIntegerField(
        default=1, help_text=_("512-token windows the text was read in.")
    )
    normalized = models.BooleanField(
        default=False,
        db_index=True,
        help_text=_(
            "Normalization changed the text before the model read it (hidden characters, "
            "look-alike letters, spaced or disguised words)."
        ),
    )
    source = models.CharField(
        max_length=16, choices=Source.choices, default=Source.FORM, db_index=True
    )
    batch = models.ForeignKey(
        Batch, null=True, blank=True, on_delete=models.CASCADE, related_name="analyses"
    )
    batch_line = models.PositiveIntegerField(
        null=True, blank=True, help_text=_("Line of the batch file the text came from.")
    )
    # What a Perspective client said about the comment (comments:analyze); empty otherwise.
    session_id = models.CharField(
        max_length=255, blank=True, help_text=_("Perspective's sessionId: related calls.")
    )
    community_id = models.CharField(
        max_length=255,
        blank=True,
        db_index=True,
        help_text=_("Perspective's communityId: the forum or site the comment belongs to."),
    )
    client_token = models.CharField(
        max_length=255, blank=True, help_text=_("Perspective's clientToken: the client's own id.")
    )
    created_at = models.DateTimeField(default=timezone.now, db_index=True)

    objects = AnalysisQuerySet.as_manager()

    class Meta:
        ordering = ["-created_at", "-id"]
        verbose_name_plural = "analyses"
        indexes = [models.Index(fields=["top_label", "created_at"])]
        constraints = [
            # A resumed batch can never store the same line twice.
            models.UniqueConstraint(fields=["batch", "batch_line"], name="one_analysis_per_line")
        ]

    def __str__(self) -> str:
        summary = f"{self.get_verdict_display()} ({self.top_label} {self.max_score:.0%})"
        return f"{summary}: {self.text[:60]}"

    @property
    def is_toxic(self) -> bool:
        return self.verdict == Verdict.TOXIC

    @property
    def label_scores(self) -> list[LabelScore]:
        """Every label's score in the model's order; toxicity labels flagged at the threshold."""
        rows = []
        for label, score in self.scores.items():
            identity = is_identity_label(label)
            flagged = not identity and score >= self.threshold
            rows.append(LabelScore(label=label, score=score, flagged=flagged, identity=identity))
        return rows

    @property
    def has_identity_labels(self) -> bool:
        return any(is_identity_label(label) for label in self.scores)


class Feedback(models.Model):
    """The scores a person thinks a text should have had, sent to comments:suggestscore."""

    analysis = models.ForeignKey(Analysis, on_delete=models.CASCADE, related_name="feedback")
    scores = models.JSONField(
        help_text=_('Suggested score of each attribute, from 0 to 1, e.g. {"TOXICITY": 0.0}.')
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
