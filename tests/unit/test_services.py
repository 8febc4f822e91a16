import pytest

from analyzer.language_checks import language_check
from analyzer.models import Analysis, Verdict
from analyzer.services import (
    PredictionFailed,
    analyses_build,
    analysis_create,
    judgement_from_scores,
)

pytestmark = pytest.mark.django_db


def test_a_label_at_the_threshold_makes_the_text_toxic():
    judgement = judgement_from_scores({"toxic": 0.5, "insult": 0.2}, threshold=0.5)
    assert judgement.verdict == Verdict.TOXIC
    assert judgement.top_label == "toxic"
    assert judgement.max_score == 0.5


def test_every_label_below_the_threshold_is_not_toxic():
    judgement = judgement_from_scores({"toxic": 0.49, "insult": 0.3}, threshold=0.5)
    assert judgement.verdict == Verdict.NOT_TOXIC
    assert judgement.top_label == "toxic"


def test_the_top_label_is_the_highest_score_whatever_its_position():
    judgement = judgement_from_scores({"toxic": 0.6, "threat": 0.1, "insult": 0.8}, threshold=0.9)
    assert (judgement.top_label, judgement.verdict) == ("insult", Verdict.NOT_TOXIC)


def test_a_tie_goes_to_the_label_the_model_lists_first():
    assert judgement_from_scores({"obscene": 0.7, "insult": 0.7}, threshold=0.5).top_label == (
        "obscene"
    )


def test_judging_no_scores_is_an_error():
    with pytest.raises(ValueError):
        judgement_from_scores({}, threshold=0.5)


def test_a_successful_analysis_stores_exactly_one_complete_row(fake_engine, settings):
    settings.TOXMON_THRESHOLD = 0.5
    analysis = analysis_create(text="You are a complete idiot")
    assert Analysis.objects.count() == 1
    stored = Analysis.objects.get()
    assert stored.pk == analysis.pk
    assert stored.text == "You are a complete idiot"
    assert stored.verdict == Verdict.TOXIC
    assert stored.top_label == "toxic"
    assert stored.max_score == pytest.approx(0.97)
    assert list(stored.scores) == list(fake_engine.labels)
    assert stored.engine == "fake" and stored.model_name == "fake-toxic-bert"
    assert stored.threshold == 0.5
    assert stored.latency_ms >= 0


def test_the_threshold_setting_decides_the_verdict(fake_engine, settings):
    settings.TOXMON_THRESHOLD = 0.99
    assert analysis_create(text="You are a complete idiot").verdict == Verdict.NOT_TOXIC


def test_a_failing_model_stores_nothing_and_says_so(fake_engine):
    fake_engine.error = RuntimeError("out of memory")
    with pytest.raises(PredictionFailed, match="out of memory"):
        analysis_create(text="anything")
    assert Analysis.objects.count() == 0


def test_the_next_request_after_a_failure_works(fake_engine):
    fake_engine.error = RuntimeError("boom")
    with pytest.raises(PredictionFailed):
        analysis_create(text="first")
    fake_engine.error = None
    analysis_create(text="second")
    assert list(Analysis.objects.values_list("text", flat=True)) == ["second"]


def test_building_many_analyses_calls_the_engine_once_and_stores_nothing(fake_engine):
    analyses = analyses_build(texts=["hello", "idiot"])
    assert fake_engine.calls == [["hello", "idiot"]]
    assert [analysis.verdict for analysis in analyses] == [Verdict.NOT_TOXIC, Verdict.TOXIC]
    assert Analysis.objects.count() == 0


def test_the_toxic_queryset_returns_only_toxic_analyses(fake_engine):
    analysis_create(text="idiot")
    analysis_create(text="hello")
    assert list(Analysis.objects.toxic().values_list("text", flat=True)) == ["idiot"]
    assert list(Analysis.objects.not_toxic().values_list("text", flat=True)) == ["hello"]


def test_a_disguised_text_is_scored_normalized_and_stored_as_sent(fake_engine):
    disguised = "you are an \uff49\uff44\uff49\uff4f\uff54"  # full-width "idiot"
    analysis = analysis_create(text=disguised)
    assert fake_engine.calls == [["you are an idiot"]], "the model reads the plain word"
    assert analysis.verdict == "toxic"
    stored = Analysis.objects.get(pk=analysis.pk)
    assert stored.text == disguised and stored.normalized is True


def test_a_clean_text_is_stored_as_not_normalized(fake_engine):
    analysis = analysis_create(text="Have a nice day")
    assert fake_engine.calls == [["Have a nice day"]]
    assert Analysis.objects.get(pk=analysis.pk).normalized is False


def test_identity_mentions_never_make_the_verdict_or_the_top_label():
    # unbiased-toxic-roberta scores "muslim" high for "I am a Muslim": a mention, not toxicity.
    scores = {"toxicity": 0.03, "insult": 0.02, "muslim": 0.97, "female": 0.6}
    judgement = judgement_from_scores(scores, threshold=0.5)
    assert judgement.verdict == Verdict.NOT_TOXIC
    assert (judgement.top_label, judgement.max_score) == ("toxicity", 0.03)


def test_identity_rows_are_shown_but_never_flagged():
    analysis = Analysis(scores={"toxicity": 0.7, "muslim": 0.9}, threshold=0.5)
    toxicity, muslim = analysis.label_scores
    assert (toxicity.flagged, toxicity.identity) == (True, False)
    assert (muslim.flagged, muslim.identity) == (False, True)
    assert analysis.has_identity_labels


def test_batch_label_counts_leave_identity_mentions_out():
    for scores in ({"toxicity": 0.9, "muslim": 0.9}, {"toxicity": 0.1, "muslim": 0.8}):
        Analysis.objects.create(
            text="t",
            scores=scores,
            verdict=Verdict.NOT_TOXIC,
            top_label="toxicity",
            max_score=scores["toxicity"],
            threshold=0.5,
            engine="torch",
            model_name="unitary/unbiased-toxic-roberta",
            latency_ms=1.0,
        )
    assert Analysis.objects.label_counts() == {"toxicity": 1}


def test_the_offline_fallback_is_checked_as_an_english_model():
    analysis = Analysis(
        text="Niemand hat nach deiner Meinung gefragt, du Idiot.",
        scores={"offensive": 0.4},
        engine="profanity-check",
        model_name="alt-profanity-check 1.9.1",
    )
    check = language_check(analysis=analysis)
    assert (check.detected, check.covered, check.model_languages) == ("de", False, ("en",))
    assert check.name == "German"
