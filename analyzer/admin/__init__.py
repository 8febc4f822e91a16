"""Django admin: analyses and the feedback on them, batches, API tokens, and moderation (the
review queue and decisions, the calibration report, label policies and their history, reviews,
webhook endpoints and deliveries).

Admin's autodiscovery imports this package; importing each module registers its ModelAdmins.
"""

from analyzer.admin import analyses, batches, feedback, policies, reviews, tokens, webhooks

__all__ = ["analyses", "batches", "feedback", "policies", "reviews", "tokens", "webhooks"]
