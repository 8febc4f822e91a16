from django import template

register = template.Library()


@register.filter
def percent(score: float) -> str:
    """Format a 0-1 score as a percentage with one decimal, e.g. 0.9731 -> "97.3%"."""
    return f"{score * 100:.1f}%"
