import math

from django import template

register = template.Library()


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
