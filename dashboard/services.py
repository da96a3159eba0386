"""What the dashboard and its JSON API do, in one place: start a fetch, cancel it, keep the state honest.

The rules live in the database (`gapspider.db.create_fetch` refuses a second active fetch through the partial
unique index; `fail_fetch` only changes an active fetch, so whoever finishes a fetch first wins).
"""

from __future__ import annotations

import datetime as dt
import logging
import threading
import time
import uuid
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from gapspider import db
from gapspider.db import FetchAlreadyActive
from gapspider.groups import page_count
from gapspider.models import ACTIVE_STATUSES, PENDING, GapDataFetch, PagesGroup, utcnow

from dashboard.scrapyd import ScrapydClient, ScrapydError, ScrapydTimeout

log = logging.getLogger(__name__)

CANCELLED = "cancelled"
STOPPED_UNEXPECTEDLY = db.CRAWLER_GONE
NEVER_STARTED = "the crawl was never started (no crawler picked this fetch up)"
# A pending fetch without a scrapyd job id (created by another system) gets this long to be picked up.
UNSCHEDULED_PENDING_LIMIT = dt.timedelta(minutes=15)


class FetchStartError(Exception):
    """Fetch Data could not start; `message` is for the user, `http_status` for the API."""

    http_status = 400

    def __init__(self, message: str, fetch: GapDataFetch | None = None):
        super().__init__(message)
        self.message = message
        self.fetch = fetch


class NothingToFetch(FetchStartError):
    http_status = 422


class AlreadyRunning(FetchStartError):
    http_status = 409


class SchedulingFailed(FetchStartError):
    http_status = 502


def start_fetch(session: Session, group: PagesGroup, client: ScrapydClient) -> GapDataFetch:
    """Create the pending fetch and schedule its crawl; on any scheduling problem the fetch ends `failed`.

    Raises AlreadyRunning (nothing scheduled), NothingToFetch, or SchedulingFailed (fetch failed, with the reason).
    """
    if page_count(session, group.id) == 0:
        raise NothingToFetch("This group has no Gap pages yet: add a category page before fetching.")
    job_id = uuid.uuid4().hex
    try:
        # The job id is stored before scheduling, so a fetch whose scheduling never happened (a crash right here)
        # is recognised by the honest-state check: scrapyd does not know its job.
        fetch = db.create_fetch(session, group.id, scrapyd_job_id=job_id)
    except FetchAlreadyActive as exc:
        raise AlreadyRunning(
            "A fetch is already running for this group: wait for it to finish or cancel it."
        ) from exc
    try:
        client.schedule(job_id=job_id, group=group.id, fetch=fetch.id)
    except ScrapydError as exc:
        reason = f"could not schedule the crawl: {exc}"
        db.fail_fetch(session, fetch.id, reason, {"stage": "schedule", "scrapyd_url": client.url})
        session.commit()
        if isinstance(exc, ScrapydTimeout):
            # scrapyd may have queued it after all: take it back (the spider would refuse a failed fetch anyway).
            try:
                client.cancel(job_id)
            except ScrapydError:
                pass
        session.refresh(fetch)
        log.warning("fetch %s of group %s failed to schedule: %s", fetch.id, group.id, exc)
        raise SchedulingFailed(f"The fetch could not be started: {exc}", fetch) from exc
    log.info("fetch %s of group %s scheduled as scrapyd job %s", fetch.id, group.id, job_id)
    return fetch


@dataclass
class CancelResult:
    cancelled: bool
    message: str
    warning: str | None = None


def cancel_fetch(session: Session, fetch: GapDataFetch, client: ScrapydClient) -> CancelResult:
    """Mark the fetch failed ("cancelled") first, then stop its scrapyd job (SIGINT, or removal from the queue)."""
    changed = db.fail_fetch(session, fetch.id, CANCELLED, {"cancelled_by": "dashboard"})
    session.commit()
    session.refresh(fetch)
    if not changed:
        return CancelResult(False, f"Fetch #{fetch.id} had already finished ({fetch.status}); nothing to cancel.")
    warning = None
    if fetch.scrapyd_job_id:
        try:
            client.cancel(fetch.scrapyd_job_id)
        except ScrapydError as exc:
            warning = f"The fetch is marked cancelled, but its crawl could not be stopped: {exc}"
    return CancelResult(True, f"Fetch #{fetch.id} was cancelled.", warning)


# ---------------------------------------------------------------- honest state


@dataclass
class CheckReport:
    checked_at: float = field(default_factory=time.time)
    scrapyd_ok: bool = True
    scrapyd_error: str | None = None
    active: int = 0
    failed_ids: list[int] = field(default_factory=list)

    def as_dict(self) -> dict[str, Any]:
        return {
            "checked_at": self.checked_at,
            "scrapyd_ok": self.scrapyd_ok,
            "scrapyd_error": self.scrapyd_error,
            "active": self.active,
            "failed_ids": self.failed_ids,
        }


def _aware(value: dt.datetime | None) -> dt.datetime | None:
    if value is not None and value.tzinfo is None:
        return value.replace(tzinfo=dt.timezone.utc)
    return value


def check_active_fetches(
    session: Session, client: ScrapydClient, *, grace_seconds: float = 60.0, now: dt.datetime | None = None
) -> CheckReport:
    """Fail active fetches whose crawl is gone: their scrapyd job finished or is unknown (crash, kill, restart).

    The database is read before scrapyd is asked, and `fail_fetch` only changes a fetch that is still active, so a
    crawl that finished properly in between keeps its outcome. A fetch created moments ago may not be queued yet:
    it gets `grace_seconds`.
    """
    report = CheckReport()
    now = now or utcnow()
    active = list(session.scalars(select(GapDataFetch).where(GapDataFetch.status.in_(ACTIVE_STATUSES))))
    report.active = len(active)
    # Crawls of this host whose process is gone (kill -9, OOM): no need to ask scrapyd, and `scrapy crawl`
    # started by hand has no scrapyd job at all.
    report.failed_ids.extend(db.fail_dead_crawls(session, checked_by="dashboard"))

    for fetch in active:
        created = _aware(fetch.created_at)
        if fetch.id not in report.failed_ids and (
            not fetch.scrapyd_job_id
            and fetch.status == PENDING
            and created is not None
            and now - created > UNSCHEDULED_PENDING_LIMIT
        ):
            if db.fail_fetch(session, fetch.id, NEVER_STARTED, {"checked_by": "dashboard"}):
                report.failed_ids.append(fetch.id)

    try:
        jobs = client.jobs()
    except ScrapydError as exc:
        report.scrapyd_ok = False
        report.scrapyd_error = str(exc)
        session.commit()
        return report

    for fetch in active:
        if not fetch.scrapyd_job_id or fetch.id in report.failed_ids:
            continue
        if db.crawler_is_alive(fetch):
            # Its process runs here: another scrapyd's job (an egg deployed elsewhere on this host) or a
            # `gapspider postprocess` redo of a finished job. Our scrapyd cannot speak for it.
            continue
        state = jobs.state(fetch.scrapyd_job_id)
        if state in ("pending", "running"):
            continue
        created = _aware(fetch.created_at)
        if state is None and fetch.status == PENDING and created is not None:
            if (now - created).total_seconds() < grace_seconds:
                continue
        status_before = fetch.status
        details = {
            "checked_by": "dashboard",
            "scrapyd_job_id": fetch.scrapyd_job_id,
            "scrapyd_state": state or "unknown",
            "status_when_stopped": fetch.status,
        }
        if db.fail_fetch(session, fetch.id, STOPPED_UNEXPECTEDLY, details):
            report.failed_ids.append(fetch.id)
            log.warning(
                "fetch %s was %s but its scrapyd job %s is %s: marked failed",
                fetch.id,
                status_before,
                fetch.scrapyd_job_id,
                state or "unknown",
            )
    session.commit()
    return report


class FetchChecker:
    """Runs `check_active_fetches` at most once per `interval` seconds per process (requests and a thread)."""

    def __init__(self, session_factory, client: ScrapydClient, *, interval: float, grace_seconds: float):
        self.session_factory = session_factory
        self.client = client
        self.interval = interval
        self.grace_seconds = grace_seconds
        self.last: CheckReport | None = None
        self._lock = threading.Lock()
        self._thread: threading.Thread | None = None
        self._stop = threading.Event()

    def run(self) -> CheckReport:
        with self._lock:
            session = self.session_factory()
            try:
                self.last = check_active_fetches(session, self.client, grace_seconds=self.grace_seconds)
            except Exception:  # the database may be briefly unavailable: never break a page for this
                session.rollback()
                log.exception("checking active fetches failed")
            finally:
                session.close()
            return self.last or CheckReport(scrapyd_ok=False, scrapyd_error="check failed")

    def maybe_run(self) -> CheckReport | None:
        """Run the check if the last one is older than the interval; never waits for a check already running."""
        if self.last is not None and time.time() - self.last.checked_at < self.interval:
            return self.last
        if not self._lock.acquire(blocking=False):
            return self.last
        self._lock.release()
        return self.run()

    def start_thread(self, period: float | None = None) -> None:
        if self._thread is not None:
            return
        period = period or max(self.interval, 5.0)

        def loop() -> None:
            while not self._stop.wait(period):
                self.run()

        self._thread = threading.Thread(target=loop, name="gapspider-fetch-checker", daemon=True)
        self._thread.start()

    def stop_thread(self) -> None:
        self._stop.set()
