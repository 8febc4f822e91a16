"""The app's models, one module per kind of record; import them all from here."""

from analyzer.models.analyses import Analysis, AnalysisQuerySet, LabelScore
from analyzer.models.batches import Batch, BatchQuerySet
from analyzer.models.choices import (
    Action,
    BatchStatus,
    DeliveryStatus,
    ReviewDecision,
    Source,
    Verdict,
)
from analyzer.models.policies import LabelPolicy, PolicyVersion
from analyzer.models.reviews import Feedback, Review
from analyzer.models.tokens import ApiToken
from analyzer.models.webhooks import WebhookDelivery, WebhookEndpoint

__all__ = [
    "Action",
    "Analysis",
    "AnalysisQuerySet",
    "ApiToken",
    "Batch",
    "BatchQuerySet",
    "BatchStatus",
    "DeliveryStatus",
    "Feedback",
    "LabelPolicy",
    "LabelScore",
    "PolicyVersion",
    "Review",
    "ReviewDecision",
    "Source",
    "Verdict",
    "WebhookDelivery",
    "WebhookEndpoint",
]
