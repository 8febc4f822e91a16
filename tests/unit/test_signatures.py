"""Webhook signatures: what a receiver computes to trust a body."""

import hashlib
import hmac

from analyzer.signatures import signature_digest, signature_header, signature_verify

SECRET = "a-receiver-secret-of-some-length"
BODY = b'{"event":"analysis.block","analysis":{"id":7}}'
NOW = 1_800_000_000


def test_the_header_is_the_hmac_sha256_of_timestamp_dot_body():
    header = signature_header(secret=SECRET, timestamp=NOW, body=BODY)
    expected = hmac.new(SECRET.encode(), f"{NOW}.".encode() + BODY, hashlib.sha256).hexdigest()
    assert header == f"t={NOW},v1={expected}"
    assert signature_digest(secret=SECRET, timestamp=NOW, body=BODY) == expected


def test_a_signed_body_verifies():
    header = signature_header(secret=SECRET, timestamp=NOW, body=BODY)
    assert signature_verify(secret=SECRET, header=header, body=BODY, now=NOW + 10)


def test_a_changed_body_does_not_verify():
    header = signature_header(secret=SECRET, timestamp=NOW, body=BODY)
    assert not signature_verify(secret=SECRET, header=header, body=BODY + b" ", now=NOW)


def test_another_secret_does_not_verify():
    header = signature_header(secret=SECRET, timestamp=NOW, body=BODY)
    assert not signature_verify(secret=SECRET + "x", header=header, body=BODY, now=NOW)


def test_a_changed_timestamp_does_not_verify():
    digest = signature_digest(secret=SECRET, timestamp=NOW, body=BODY)
    forged = f"t={NOW + 60},v1={digest}"
    assert not signature_verify(secret=SECRET, header=forged, body=BODY, now=NOW + 60)


def test_an_old_signature_is_refused_as_a_replay():
    header = signature_header(secret=SECRET, timestamp=NOW, body=BODY)
    assert signature_verify(secret=SECRET, header=header, body=BODY, now=NOW + 300)
    assert not signature_verify(secret=SECRET, header=header, body=BODY, now=NOW + 301)


def test_malformed_headers_do_not_verify():
    for header in ["", "v1=abc", "t=soon,v1=abc", f"t={NOW}", f"t={NOW},t={NOW},v1=abc"]:
        assert not signature_verify(secret=SECRET, header=header, body=BODY, now=NOW)
