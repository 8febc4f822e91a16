import pytest

from analyzer.templatetags.analyzer_tags import percent


@pytest.mark.parametrize(
    ("score", "shown"),
    [(0.9731, "97.3%"), (0.5, "50.0%"), (0.49991, "49.9%"), (0.0, "0.0%"), (1.0, "100.0%")],
)
def test_scores_show_as_percentages_rounded_down(score, shown):
    assert percent(score) == shown
