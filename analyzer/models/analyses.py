"""Analyses: one scored text each, its rows per label, and the queries over them."""

from dataclasses import dataclass

from django.db import models
from django.db.models import Exists, OuterRef, Q, Subquery
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from analyzer.checkpoints import is_identity_label
from analyzer.models.batches import Batch
from analyzer.models.choices import Action, Source, Verdict
from analyzer.models.policies import PolicyVersion
from analyzer.models.reviews import Feedback, Review


@dataclass(frozen=True)
class LabelScore:
    label: str
    score: float
    flagged: bool
    # What this label alone would have the policy do: allow, review or block.
    action: str = "allow"
    # An identity the text mentions (unbiased-toxic-roberta), never flagged as toxic.
    identity: bool = False


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
