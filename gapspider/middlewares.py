"""Downloader middlewares: retries that wait (exponential backoff, Retry-After) before trying again."""

from __future__ import annotations

import email.utils
import logging
import random
import time

from scrapy.downloadermiddlewares.retry import RetryMiddleware
from scrapy.utils.defer import maybe_deferred_to_future

logger = logging.getLogger(__name__)


def retry_after_seconds(value: bytes | str | None, *, now: float | None = None) -> float | None:
    """Seconds a Retry-After header asks for (delta seconds or an HTTP date); None when absent or bad."""
    if value is None:
        return None
    if isinstance(value, bytes):
        value = value.decode("latin-1", "replace")
    value = value.strip()
    if not value:
        return None
    if value.isascii() and value.isdigit():
        return float(value)
    try:
        when = email.utils.parsedate_to_datetime(value)
    except (TypeError, ValueError, IndexError):
        return None
    if when is None:
        return None
    return max(0.0, when.timestamp() - (now if now is not None else time.time()))


def backoff_delay(attempt: int, *, base: float, cap: float, rng: random.Random | None = None) -> float:
    """Exponential backoff with full jitter: up to base * 2**(attempt-1), capped."""
    if base <= 0:
        return 0.0
    ceiling = min(cap, base * (2 ** max(0, attempt - 1)))
    return (rng or random).uniform(ceiling / 2, ceiling)


async def sleep(seconds: float) -> None:
    """Wait without blocking the reactor (works with the asyncio and the default reactor)."""
    if seconds <= 0:
        return
    from twisted.internet import reactor
    from twisted.internet.task import deferLater

    await maybe_deferred_to_future(deferLater(reactor, seconds, lambda: None))


class BackoffRetryMiddleware(RetryMiddleware):
    """Scrapy's RetryMiddleware, but a retry waits first: Retry-After when the server says, else backoff.

    Waiting here (not in the scheduler) keeps the spider's one-request-at-a-time chain intact.
    """

    def __init__(self, settings):
        super().__init__(settings)
        self.backoff_base = settings.getfloat("GAP_RETRY_BACKOFF_BASE", 2.0)
        self.backoff_max = settings.getfloat("GAP_RETRY_BACKOFF_MAX", 60.0)
        self.retry_after_max = settings.getfloat("GAP_RETRY_AFTER_MAX", 120.0)

    async def process_response(self, request, response, spider=None):
        result = super().process_response(request, response)
        if result is not response:
            wanted = retry_after_seconds(response.headers.get(b"Retry-After"))
            if wanted is not None:
                delay = min(wanted, self.retry_after_max)
            else:
                delay = backoff_delay(result.meta.get("retry_times", 1), base=self.backoff_base, cap=self.backoff_max)
            if delay > 0:
                logger.info("HTTP %s for %s: waiting %.1f s before retrying", response.status, request.url, delay)
            await sleep(delay)
        return result

    async def process_exception(self, request, exception, spider=None):
        result = super().process_exception(request, exception)
        if result is not None:
            delay = backoff_delay(result.meta.get("retry_times", 1), base=self.backoff_base, cap=self.backoff_max)
            await sleep(delay)
        return result
