"""Label policies: the action of each score, versions, history, and the cheap current read."""

import pytest
from django.core.exceptions import ValidationError

from analyzer import policies
from analyzer.models import Action, Analysis, LabelPolicy, PolicyVersion
from analyzer.policies import Policy, Thresholds
from analyzer.services import action_from_scores, analysis_create
from tests.model_factory import TOXIC_BERT_LABELS

pytestmark = pytest.mark.django_db

# Each label its own bars: a threat matters at 0.3, profanity only at 0.8.
POLICY = Policy(
    version=1,
    thresholds={
        "toxic": Thresholds(review=0.5, block=0.9),
        "severe_toxic": Thresholds(review=0.4, block=0.7),
        "obscene": Thresholds(review=0.8, block=0.95),
        "threat": Thresholds(review=0.3, block=0.6),
        "insult": Thresholds(review=0.6, block=0.85),
        "identity_hate": Thresholds(review=0.35, block=0.65),
    },
)


def calm() -> dict[str, float]:
    return dict.fromkeys(TOXIC_BERT_LABELS, 0.01)


@pytest.mark.parametrize("label", TOXIC_BERT_LABELS)
def test_each_label_reviews_at_its_review_threshold_and_blocks_at_its_block_threshold(label):
    bars = POLICY.thresholds[label]
    for score, expected in [
        (bars.review - 0.001, Action.ALLOW),
        (bars.review, Action.REVIEW),
        (bars.block - 0.001, Action.REVIEW),
        (bars.block, Action.BLOCK),
        (1.0, Action.BLOCK),
    ]:
        decision = action_from_scores({**calm(), label: score}, policy=POLICY)
        assert decision.action == expected, (label, score)
        assert decision.labels == (() if expected == Action.ALLOW else (label,))


def test_the_strictest_label_decides_and_every_label_over_its_bar_is_named():
    scores = {**calm(), "obscene": 0.81, "threat": 0.65, "insult": 0.2}
    decision = action_from_scores(scores, policy=POLICY)
    assert decision.action == Action.BLOCK
    assert decision.labels == ("obscene", "threat")


def test_the_same_score_means_different_actions_for_different_labels():
    assert action_from_scores({"threat": 0.5}, policy=POLICY).action == Action.REVIEW
    assert action_from_scores({"obscene": 0.5}, policy=POLICY).action == Action.ALLOW


def test_a_label_the_policy_has_not_met_gets_the_default_thresholds(settings):
    settings.TOXMON_THRESHOLD = 0.4
    assert action_from_scores({"new_label": 0.45}, policy=POLICY).action == Action.BLOCK
    assert action_from_scores({"new_label": 0.39}, policy=POLICY).action == Action.ALLOW


def test_the_first_read_gives_every_engine_label_the_default_thresholds(settings):
    settings.TOXMON_THRESHOLD = 0.6
    policy = policies.policy_current(labels=TOXIC_BERT_LABELS)
    assert policy.version == PolicyVersion.objects.get().pk
    assert set(policy.thresholds) == set(TOXIC_BERT_LABELS)
    assert all(bars == Thresholds(review=0.6, block=0.6) for bars in policy.thresholds.values())
    assert LabelPolicy.objects.count() == len(TOXIC_BERT_LABELS)
    # Reading again stores nothing new.
    assert policies.policy_current(labels=TOXIC_BERT_LABELS) == policy
    assert PolicyVersion.objects.count() == 1


def test_a_new_engine_label_joins_the_policy_in_a_new_version():
    first = policies.policy_current(labels=["toxic"])
    second = policies.policy_current(labels=["toxic", "offensive"])
    assert second.version != first.version
    assert set(second.thresholds) == {"toxic", "offensive"}


def test_by_default_the_action_follows_the_verdict(fake_engine, settings):
    settings.TOXMON_THRESHOLD = 0.5
    hostile = analysis_create(text="You are a complete idiot")
    friendly = analysis_create(text="Have a lovely day")
    assert (hostile.verdict, hostile.action) == ("toxic", Action.BLOCK)
    assert (friendly.verdict, friendly.action) == ("not_toxic", Action.ALLOW)
    assert hostile.policy_version_id == friendly.policy_version_id is not None


def test_a_change_makes_a_version_with_history_and_new_analyses_use_it(
    fake_engine, django_user_model, settings
):
    settings.TOXMON_THRESHOLD = 0.5
    lead = django_user_model.objects.create_user("lead", password="pw-123456789")
    before = analysis_create(text="You are a complete idiot")
    version = policies.policy_change(
        label="toxic",
        review_threshold=0.9,
        block_threshold=0.99,
        user=lead,
        reason="Too many blocks",
    )
    after = analysis_create(text="You are a complete idiot")
    # toxic 0.97 is now under review; insult 0.91 still blocks at the default 0.5.
    assert after.policy_version_id == version.pk != before.policy_version_id
    assert version.thresholds["toxic"] == {"review": 0.9, "block": 0.99}
    assert version.created_by == lead and "Too many blocks" in version.reason
    record = LabelPolicy.objects.get(label="toxic").history.first()
    assert record.history_user == lead
    assert record.history_change_reason == "Too many blocks"
    changes = {
        change.field: (change.old, change.new)
        for change in record.diff_against(record.prev_record).changes
    }
    assert changes["review_threshold"] == (0.5, 0.9)
    assert changes["block_threshold"] == (0.5, 0.99)
    assert after.action == Action.BLOCK and after.action_labels == ["toxic", "insult"]
    assert [row.action for row in after.label_scores if row.label == "toxic"] == ["review"]


def test_a_block_threshold_below_the_review_threshold_is_refused_and_nothing_changes():
    policies.policy_current(labels=["toxic"])
    with pytest.raises(ValidationError):
        policies.policy_change(label="toxic", review_threshold=0.8, block_threshold=0.7, user=None)
    assert PolicyVersion.objects.count() == 1
    assert LabelPolicy.objects.get(label="toxic").history.count() == 1


def test_a_version_made_by_another_worker_is_seen_by_the_next_read():
    first = policies.policy_current(labels=["toxic"])
    # Another process changed the policy: only the database knows.
    PolicyVersion.objects.create(thresholds={"toxic": {"review": 0.2, "block": 0.3}})
    seen = policies.policy_current(labels=["toxic"])
    assert seen.version != first.version
    assert seen.for_label("toxic") == Thresholds(review=0.2, block=0.3)


def test_reading_the_unchanged_policy_costs_one_query(django_assert_num_queries):
    policies.policy_current(labels=TOXIC_BERT_LABELS)
    with django_assert_num_queries(1):
        policies.policy_current(labels=TOXIC_BERT_LABELS)


def test_the_review_queue_holds_unreviewed_review_actions_oldest_first(fake_engine):
    policies.policy_current(labels=fake_engine.labels)
    policies.policy_change(label="toxic", review_threshold=0.5, block_threshold=0.99, user=None)
    policies.policy_change(label="insult", review_threshold=0.5, block_threshold=0.99, user=None)
    older = analysis_create(text="You idiot, first")
    newer = analysis_create(text="You idiot, second")
    analysis_create(text="Have a lovely day")
    assert list(Analysis.objects.needs_review()) == [older, newer]
    older.reviews.create(decision="toxic", labels=["toxic"])
    assert list(Analysis.objects.needs_review()) == [newer]
