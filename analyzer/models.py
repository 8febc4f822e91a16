import uuid
from dataclasses import dataclass
from datetime import datetime

from django.conf import settings
from django.core.exceptions import ValidationError
from django.core.validators import MaxValueValidator, MinValueValidator, URLValidator
from django.db import models
from django.db.models import Exists, OuterRef, Q, Subquery
from django.utils import timezone
from django.utils.translation import gettext_lazy as _
from simple_history.models import HistoricalRecords

from analyzer.checkpoints import is_identity_label


@dataclass(frozen=True)
class LabelScore:
    label: str
    score: float
    flagged: bool
    # What this label alone would have the policy do: allow, review or block.
    action: str = "allow"
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


class Action(models.TextChoices):
    """What the label policy does with a text; ordered from mildest to strictest."""

    ALLOW = "allow", _("Allow")
    REVIEW = "review", _("Review")
    BLOCK = "block", _("Block")


class ReviewDecision(models.TextChoices):
    TOXIC = "toxic", _("Toxic")
    NOT_TOXIC = "not_toxic", _("Not toxic")


class DeliveryStatus(models.TextChoices):
    PENDING = "pending", _("Pending")
    DELIVERED = "delivered", _("Delivered")
    FAILED = "failed", _("Failed")


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

    def needs_review(self) -> "AnalysisQuerySet":
        """Analyses a person should look at, oldest first: those the policy sent to review that
        nobody has reviewed yet, and those a Perspective client suggested other scores for
        (comments:suggestscore) since their last review.

        The one definition of the review queue: admin's "needs review" filter uses it.
        """
        reviewed = Review.objects.filter(analysis=OuterRef("pk"))
        # Inside the feedback subquery, the outer row is the feedback: its analysis's reviews.
        reviews_of_feedback = Review.objects.filter(analysis=OuterRef("analysis"))
        latest_review = reviews_of_feedback.order_by("-created_at", "-id").values("created_at")
        feedback_since_review = Feedback.objects.filter(analysis=OuterRef("pk")).filter(
            ~Exists(reviews_of_feedback) | Q(created_at__gt=Subquery(latest_review[:1]))
        )
        return self.filter(
            (Q(action=Action.REVIEW) & ~Exists(reviewed)) | Exists(feedback_since_review)
        ).order_by("created_at", "id")

    def with_latest_decision(self) -> "AnalysisQuerySet":
        """Annotate each analysis with its latest review's decision (None: not reviewed)."""
        latest = Review.objects.filter(analysis=OuterRef("pk")).order_by("-created_at", "-id")
        annotated: AnalysisQuerySet = self.annotate(
            latest_decision=Subquery(latest.values("decision")[:1])
        )
        return annotated

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
    action = models.CharField(
        max_length=16,
        choices=Action.choices,
        default=Action.ALLOW,
        db_index=True,
        help_text=_("What the label policy did with the text."),
    )
    policy_version = models.ForeignKey(
        PolicyVersion,
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="analyses",
        help_text=_("The label policy the text was judged under; empty before policies existed."),
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
            rows.append(
                LabelScore(
                    label=label,
                    score=score,
                    flagged=not identity and score >= self.threshold,
                    action=Action.ALLOW
                    if identity
                    else self.label_action(label=label, score=score),
                    identity=identity,
                )
            )
        return rows

    @property
    def has_identity_labels(self) -> bool:
        return any(is_identity_label(label) for label in self.scores)

    def label_action(self, *, label: str, score: float) -> str:
        """Return what the analysis's policy does for this label's score alone."""
        if self.policy_version is None:
            # Judged before policies: one threshold, and what crossed it was blocked.
            return Action.BLOCK if score >= self.threshold else Action.ALLOW
        bars = self.policy_version.thresholds.get(label)
        if bars is None:
            return Action.ALLOW
        if score >= bars["block"]:
            return Action.BLOCK
        return Action.REVIEW if score >= bars["review"] else Action.ALLOW

    @property
    def action_labels(self) -> list[str]:
        """Return the labels that made the action: those at or above their review threshold."""
        return [row.label for row in self.label_scores if row.action != Action.ALLOW]


class Review(models.Model):
    """A person's decision on one analysis; every decision is kept, the latest one counts."""

    analysis = models.ForeignKey(Analysis, on_delete=models.CASCADE, related_name="reviews")
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


class Feedback(models.Model):
    """The scores a person thinks a text should have had, sent to comments:suggestscore."""

    analysis = models.ForeignKey(Analysis, on_delete=models.CASCADE, related_name="feedback")
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
