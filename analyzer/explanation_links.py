"""Links to the explanation of an analysis just made: signed, expiring, never guessable.

The results page answers at once and its explanation is fetched afterwards, so the link must
carry the right to have that one analysis explained: a signed, timestamped token of its id.
Nobody can have stored texts re-scored by counting through ids.
"""

from django.conf import settings
from django.core import signing

from analyzer.models import Analysis

SALT = "toxmon.explanation-link"


def link_token(*, analysis_id: int) -> str:
    """Return the token that lets its holder have this analysis explained for a while."""
    return signing.TimestampSigner(salt=SALT).sign(str(analysis_id))


def analysis_from_token(*, token: str) -> Analysis | None:
    """Return the analysis a valid, unexpired token names, or None."""
    try:
        analysis_id = signing.TimestampSigner(salt=SALT).unsign(
            token, max_age=settings.TOXMON_EXPLAIN_LINK_SECONDS
        )
    except signing.BadSignature:  # also SignatureExpired
        return None
    try:
        return Analysis.objects.get(pk=int(analysis_id))
    except Analysis.DoesNotExist:
        return None
