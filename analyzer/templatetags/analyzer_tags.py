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
