"""The request's database session (one per request, closed at teardown)."""

from __future__ import annotations

from flask import current_app, g
from sqlalchemy.orm import Session

from dashboard import queries
from dashboard.scrapyd import ScrapydClient
from dashboard.services import FetchChecker


def get_session() -> Session:
    if "db_session" not in g:
        g.db_session = current_app.extensions["gapspider_sessions"]()
    return g.db_session


def scrapyd_client() -> ScrapydClient:
    return current_app.extensions["scrapyd"]


def fetch_checker() -> FetchChecker:
    return current_app.extensions["fetch_checker"]


def check_fetches():
    """The honest-state check, rate-limited: run before fetches are shown. Returns the last report."""
    report = fetch_checker().maybe_run()
    g.health = report
    return report


def free_group_if_its_crawl_died(session: Session, group_id: int) -> None:
    """Before a new fetch is refused as 'already running': the honest-state check frees the group when the crawl of
    its active fetch is gone (crash, kill, scrapyd restart), so the user need not wait for the periodic check."""
    if queries.group_active_fetch(session, group_id) is not None:
        fetch_checker().run()
        session.expire_all()
