"""The fixed vocabularies the models store: verdicts, sources, actions, decisions, statuses."""

from django.db import models
from django.utils.translation import gettext_lazy as _


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
