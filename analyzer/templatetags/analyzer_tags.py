import math

from django import template
from django.utils.html import format_html, format_html_join
from django.utils.safestring import SafeString

from analyzer.models import Action, Analysis

register = template.Library()

FLAGGED = format_html('<span class="flag">{}</span>', "Flagged")
NOT_FLAGGED = format_html('<span class="muted">{}</span>', "\N{EN DASH}")


@register.filter
def percent(score: float) -> str:
    """Format a 0-1 score as a percentage with one decimal, e.g. 0.9731 -> "97.3%".

    Rounds down, so a score just under the threshold never reads as the threshold itself
    (0.4999 shows 49.9%, not an unflagged 50.0%).
    """
    return f"{math.floor(score * 1000) / 10:.1f}%"


@register.filter
def points(contribution: float) -> str:
    """Format a score change as signed percentage points, e.g. 0.42 -> "+42.0 points"."""
    return f"{contribution * 100:+.1f} points"


@register.filter
def duration(seconds: int | None) -> str:
    """Format seconds as e.g. "2 min 5 s"; empty when unknown."""
    if seconds is None:
        return ""
    minutes, seconds = divmod(int(seconds), 60)
    return f"{minutes} min {seconds} s" if minutes else f"{seconds} s"


@register.simple_tag
def score_rows(analysis: Analysis) -> SafeString:
    """Return the rows of the label table, one per toxicity label, as the results page shows them.

    Built here rather than by a template loop: the loop's sixty variables were a third of the
    results page's rendering time, on every form post.
    """
    threshold = str(analysis.threshold)
    return format_html_join(
        "\n",
        '<tr{} data-label="{}"><th scope="row">{}</th><td class="percent">{}</td>'
        '<td><meter min="0" max="1" low="{}" high="{}" optimum="0" value="{}" '
        'aria-label="{} score">{}</meter></td><td>{}</td>'
        '<td class="label-action" data-action="{}">{}</td></tr>',
        (
            (
                format_html(' class="{}"', "flagged") if row.flagged else "",
                row.label,
                row.label,
                percent(row.score),
                threshold,
                threshold,
                f"{row.score:.4f}",
                row.label,
                percent(row.score),
                FLAGGED if row.flagged else NOT_FLAGGED,
                row.action,
                NOT_FLAGGED if row.action == Action.ALLOW else Action(row.action).label,
            )
            # Identity mentions have a table of their own, below.
            for row in analysis.label_scores
            if not row.identity
        ),
    )
