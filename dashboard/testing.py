"""Helpers for the dashboard's tests (real PostgreSQL, real scrapyd, real spider, real browser; no mocks)."""

from __future__ import annotations

import re
import threading
import time
from typing import Any, Callable

from werkzeug.serving import make_server

from gapspider import db
from gapspider.models import GapDataFetch

from dashboard.scrapyd import ScrapydClient

CSRF_META = re.compile(r'<meta name="csrf-token" content="([^"]+)"')


def csrf_token(client, url: str = "/") -> str:
    """The CSRF token of the session, read from a page like a browser would."""
    page = client.get(url)
    match = CSRF_META.search(page.get_data(as_text=True))
    assert match, f"no csrf-token meta tag on {url} (HTTP {page.status_code})"
    return match.group(1)


def post_form(client, url: str, data: dict[str, Any] | None = None, *, token_from: str = "/", **kwargs):
    """POST a form with the session's CSRF token, as the dashboard's own forms do."""
    payload = dict(data or {})
    payload.setdefault("csrf_token", csrf_token(client, token_from))
    return client.post(url, data=payload, **kwargs)


def flashes(html: str) -> list[tuple[str, str]]:
    """(category, text) of the flash messages of a page."""
    return [
        (category, re.sub(r"\s+", " ", text).strip())
        for category, text in re.findall(r'<div class="flash flash-(\w+)"[^>]*>(.*?)</div>', html, re.S)
    ]


def wait_for(predicate: Callable[[], Any], timeout: float = 60.0, interval: float = 0.2, what: str = "condition"):
    deadline = time.monotonic() + timeout
    while True:
        value = predicate()
        if value:
            return value
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out after {timeout:g} s waiting for {what}")
        time.sleep(interval)


def load_fetch(db_url: str, fetch_id: int) -> GapDataFetch:
    with db.session_scope(db_url) as session:
        fetch = session.get(GapDataFetch, fetch_id)
        assert fetch is not None
        session.expunge(fetch)
        return fetch


def wait_fetch(db_url: str, fetch_id: int, statuses: tuple[str, ...] = ("succeeded", "failed"), timeout: float = 180.0):
    return wait_for(
        lambda: (f := load_fetch(db_url, fetch_id)).status in statuses and f,
        timeout=timeout,
        interval=0.3,
        what=f"fetch {fetch_id} to reach {statuses}",
    )


def wait_fetch_in_dashboard(client, fetch_id: int, timeout: float = 180.0) -> dict[str, Any]:
    """Poll the fetch page's status endpoint like the browser does (each poll runs the honest-state check)."""

    def final():
        state = client.get(f"/fetches/{fetch_id}/status.json").get_json()
        return None if state["is_active"] else state

    return wait_for(final, timeout=timeout, interval=0.5, what=f"fetch {fetch_id} to end")


def wait_scrapyd_idle(client: ScrapydClient, timeout: float = 60.0) -> None:
    """Until scrapyd runs and queues nothing (so a test leaves no crawl behind)."""

    def idle() -> bool:
        jobs = client.jobs()
        return not jobs.running and not jobs.pending

    wait_for(idle, timeout=timeout, interval=0.3, what="scrapyd to be idle")


class LiveServer:
    """The Flask app on a free loopback port, in a thread (for the browser tests)."""

    def __init__(self, app, host: str = "127.0.0.1", port: int = 0):
        self.server = make_server(host, port, app, threaded=True)
        self.thread = threading.Thread(target=self.server.serve_forever, name="dashboard-live", daemon=True)

    @property
    def url(self) -> str:
        return f"http://{self.server.host}:{self.server.port}"

    def start(self) -> "LiveServer":
        self.thread.start()
        return self

    def stop(self) -> None:
        self.server.shutdown()
        self.thread.join(10)

    def __enter__(self) -> "LiveServer":
        return self.start()

    def __exit__(self, *exc_info) -> None:
        self.stop()
