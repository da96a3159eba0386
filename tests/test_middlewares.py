"""Retry waits: Retry-After parsing and backoff."""

import email.utils
import random

from gapspider.middlewares import backoff_delay, retry_after_seconds


def test_retry_after_seconds_and_dates():
    assert retry_after_seconds(b"2") == 2.0
    assert retry_after_seconds(" 120 ") == 120.0
    assert retry_after_seconds(None) is None and retry_after_seconds(b"") is None
    assert retry_after_seconds("soon") is None
    assert retry_after_seconds("\u00b2") is None and retry_after_seconds("\uff12") is None  # not ASCII digits
    date = email.utils.formatdate(1_000_030, usegmt=True)
    assert retry_after_seconds(date, now=1_000_000) == 30.0
    assert retry_after_seconds(date, now=2_000_000) == 0.0


def test_backoff_grows_and_is_capped():
    rng = random.Random(1)
    assert backoff_delay(1, base=0, cap=60) == 0.0
    for attempt, ceiling in [(1, 2), (2, 4), (3, 8), (10, 60)]:
        delay = backoff_delay(attempt, base=2, cap=60, rng=rng)
        assert ceiling / 2 <= delay <= ceiling
