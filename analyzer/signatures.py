"""Webhook signatures: HMAC-SHA256 over a timestamp and the body, and how a receiver checks one.

The header reads `t=<unix seconds>,v1=<hex digest>`, where the digest is
HMAC-SHA256(secret, "<t>.<body>"). Signing the timestamp with the body lets a receiver refuse a
captured request replayed later.
"""

import hashlib
import hmac

SIGNATURE_HEADER = "X-Toxmon-Signature"
SCHEME = "v1"
# How old a signature a receiver accepts by default, in seconds.
TOLERANCE_SECONDS = 300


def signature_digest(*, secret: str, timestamp: int, body: bytes) -> str:
    """Return the hex HMAC-SHA256 of "<timestamp>.<body>" under the secret."""
    message = str(timestamp).encode() + b"." + body
    return hmac.new(secret.encode(), message, hashlib.sha256).hexdigest()


def signature_header(*, secret: str, timestamp: int, body: bytes) -> str:
    """Return the value of the signature header for this body sent at this time."""
    return (
        f"t={timestamp},{SCHEME}={signature_digest(secret=secret, timestamp=timestamp, body=body)}"
    )


def signature_verify(
    *,
    secret: str,
    header: str,
    body: bytes,
    now: int,
    tolerance_seconds: int = TOLERANCE_SECONDS,
) -> bool:
    """Return whether the header signs this exact body with the secret, recently enough."""
    parts: dict[str, list[str]] = {}
    for item in header.split(","):
        key, _, value = item.strip().partition("=")
        parts.setdefault(key, []).append(value)
    try:
        [timestamp_text] = parts.get("t", [])
        timestamp = int(timestamp_text)
    except ValueError:
        return False
    if abs(now - timestamp) > tolerance_seconds:
        return False
    expected = signature_digest(secret=secret, timestamp=timestamp, body=body)
    return any(hmac.compare_digest(expected, given) for given in parts.get(SCHEME, []))
