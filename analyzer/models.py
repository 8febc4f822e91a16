from dataclasses import dataclass

from django.db import models
from django.utils import timezone
from django.utils.translation import gettext_lazy as _


@dataclass(frozen=True)
class LabelScore:
    label: str
    score: float
    flagged: bool


class Verdict(models.TextChoices):
    TOXIC = "toxic", _("Toxic")
    NOT_TOXIC = "not_toxic", _("Not toxic")


class AnalysisQuerySet(models.QuerySet):
    def toxic(self) -> "AnalysisQuerySet":
        return self.filter(verdict=Verdict.TOXIC)

    def not_toxic(self) -> "AnalysisQuerySet":
        return self.filter(verdict=Verdict.NOT_TOXIC)


class Analysis(models.Model):
    text = models.TextField()
    scores = models.JSONField(help_text=_("Score of every label of the engine, from 0 to 1."))
    verdict = models.CharField(max_length=16, choices=Verdict.choices, db_index=True)
    top_label = models.CharField(max_length=64, help_text=_("The label with the highest score."))
    max_score = models.FloatField(help_text=_("The highest score over all labels."))
    threshold = models.FloatField(help_text=_("Score at or above which a label counted as toxic."))
    engine = models.CharField(
        max_length=64, help_text=_("Code path that answered, e.g. transformers or the fallback.")
    )
    model_name = models.CharField(max_length=255, help_text=_("Model that answered."))
    latency_ms = models.FloatField(help_text=_("Inference time in milliseconds."))
    windows = models.PositiveIntegerField(
        default=1, help_text=_("512-token windows the text was read in.")
    )
    created_at = models.DateTimeField(default=timezone.now, db_index=True)

    objects = AnalysisQuerySet.as_manager()

    class Meta:
        ordering = ["-created_at", "-id"]
        verbose_name_plural = "analyses"
        indexes = [models.Index(fields=["top_label", "created_at"])]

    def __str__(self) -> str:
        summary = f"{self.get_verdict_display()} ({self.top_label} {self.max_score:.0%})"
        return f"{summary}: {self.text[:60]}"

    @property
    def is_toxic(self) -> bool:
        return self.verdict == Verdict.TOXIC

    @property
    def label_scores(self) -> list[LabelScore]:
        """Every label's score in the model's order, flagged at or above the threshold."""
        return [
            LabelScore(label=label, score=score, flagged=score >= self.threshold)
            for label, score in self.scores.items()
        ]
