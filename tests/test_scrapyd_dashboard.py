"""Fetch Data, Cancel and the honest-state check against a real scrapyd running the real gap spider.

scrapyd runs from the project folder (scrapy.cfg registers the project), on a free port, with its own
directories; the spider crawls the Gap replica and writes to the test's PostgreSQL database.
"""

from __future__ import annotations

import threading

import pytest
from sqlalchemy import func, select

from gapspider import db
from gapspider.models import FAILED, SUCCEEDED, GapDataFetch

from dashboard import create_app
from dashboard.scrapyd_server import ScrapydServer
from dashboard.services import STOPPED_UNEXPECTEDLY
from dashboard.testing import (
    flashes,
    load_fetch,
    post_form,
    wait_fetch,
    wait_fetch_in_dashboard,
    wait_for,
    wait_scrapyd_idle,
)
from tests.crawl import JEANS_URL, crawl_env, make_group

SLOW = {"GAP_DOWNLOAD_DELAY": "0.5"}  # per-job settings: slow enough to act while the crawl runs


@pytest.fixture(scope="module")
def crawl_output(tmp_path_factory):
    return tmp_path_factory.mktemp("dashboard-output")


@pytest.fixture(scope="module")
def scrapyd_env(pg_session_url, replica_session, crawl_output):
    return crawl_env(pg_session_url, crawl_output, replica_session, GAP_MAX_IMAGES_PER_PRODUCT="1")


@pytest.fixture(scope="module")
def scrapyd(scrapyd_env, tmp_path_factory):
    server = ScrapydServer(env=scrapyd_env, state_dir=tmp_path_factory.mktemp("scrapyd"))
    server.start()
    yield server
    server.stop()


@pytest.fixture
def idle_scrapyd(scrapyd):
    """The module's scrapyd, with no crawl left running after the test."""
    wait_scrapyd_idle(scrapyd.client())
    yield scrapyd
    wait_scrapyd_idle(scrapyd.client(), timeout=90)


def dashboard(db_url, output_root, server, **overrides):
    config = {
        "TESTING": True,
        "SECRET_KEY": "test",
        "DATABASE_URL": db_url,
        "OUTPUT_ROOT": str(output_root),
        "SCRAPYD_URL": server.url,
        "SCRAPYD_USERNAME": server.username,
        "SCRAPYD_PASSWORD": server.password,
        "SCRAPYD_TIMEOUT": 30,
        "DASHBOARD_CHECK_INTERVAL": 0,
        "DASHBOARD_PASSWORD": "",
        "DASHBOARD_API_TOKEN": "",
    }
    config.update(overrides)
    return create_app(config)


def jeans_group(db_url) -> int:
    return make_group(db_url, "Women's denim", [("Women / Jeans", JEANS_URL)])


def press_fetch_data(client, group_id) -> int:
    response = post_form(client, f"/groups/{group_id}/fetch")
    assert response.status_code == 303, response.get_data(as_text=True)
    location = response.headers["Location"]
    assert location.startswith("/fetches/"), location
    return int(location.rsplit("/", 1)[1])


def all_job_ids(client) -> set[str]:
    jobs = client.jobs()
    return jobs.pending | jobs.running | jobs.finished


def test_fetch_data_runs_the_real_crawl_to_success(pg_url, crawl_output, idle_scrapyd):
    app = dashboard(pg_url, crawl_output, idle_scrapyd)
    client = app.test_client()
    group_id = jeans_group(pg_url)

    fetch_id = press_fetch_data(client, group_id)
    fetch = load_fetch(pg_url, fetch_id)
    assert fetch.scrapyd_job_id and len(fetch.folder_timestamp) == 14
    assert fetch.scrapyd_job_id in all_job_ids(idle_scrapyd.client())
    page = client.get(f"/fetches/{fetch_id}").get_data(as_text=True)
    assert ("success", f"Fetch #{fetch_id} of “Women&#39;s denim” is scheduled.") in flashes(page)

    wait_fetch_in_dashboard(client, fetch_id, timeout=240)
    fetch = load_fetch(pg_url, fetch_id)
    assert fetch.status == SUCCEEDED, (fetch.error_message, client.get(f"/fetches/{fetch_id}/log").get_data(as_text=True)[-3000:])
    assert fetch.total_products == fetch.processed_products == 53
    assert fetch.output_path

    html = client.get(f"/fetches/{fetch_id}").get_data(as_text=True)
    assert "Succeeded" in html
    thumbnails = [src for src in __import__("re").findall(r'<img class="thumb" src="([^"]+)"', html)]
    assert len(thumbnails) == 53
    image = client.get(thumbnails[0])
    assert image.status_code == 200 and image.mimetype.startswith("image/") and len(image.data) > 20

    sql = client.get(f"/fetches/{fetch_id}/output.sql")
    assert sql.status_code == 200 and b"INSERT" in sql.data.upper()

    log = client.get(f"/fetches/{fetch_id}/log")
    assert log.status_code == 200 and log.mimetype == "text/plain"
    assert "Spider opened" in log.get_data(as_text=True)

    api = client.get(f"/api/fetches/{fetch_id}").get_json()
    assert api["status"] == "succeeded" and api["has_output"]


def test_cancel_stops_the_crawl_and_the_fetch_ends_cancelled(pg_url, crawl_output, idle_scrapyd):
    app = dashboard(pg_url, crawl_output, idle_scrapyd, SCRAPYD_JOB_SETTINGS=SLOW)
    client = app.test_client()
    fetch_id = press_fetch_data(client, jeans_group(pg_url))
    wait_fetch(pg_url, fetch_id, statuses=("fetching_product_page", "fetching_product_image"), timeout=60)
    job_id = load_fetch(pg_url, fetch_id).scrapyd_job_id

    html = post_form(client, f"/fetches/{fetch_id}/cancel", follow_redirects=True).get_data(as_text=True)
    assert ("success", f"Fetch #{fetch_id} was cancelled.") in flashes(html)
    assert not any(category == "warning" for category, _text in flashes(html))
    wait_for(lambda: job_id in idle_scrapyd.client().jobs().finished, timeout=60, what="the crawl to stop")
    fetch = load_fetch(pg_url, fetch_id)
    assert (fetch.status, fetch.error_message) == (FAILED, "cancelled")
    assert fetch.error_details == {"cancelled_by": "dashboard"}
    assert fetch.processed_products < 53
    log = client.get(f"/fetches/{fetch_id}/log").get_data(as_text=True)
    assert "shutdown" in log.lower()
    # The per-job setting=GAP_DOWNLOAD_DELAY=0.5 reached Scrapy's DOWNLOAD_DELAY (it used to be ignored).
    assert "'DOWNLOAD_DELAY': 0.5," in log
    # The group is free again.
    next_fetch = press_fetch_data(client, load_fetch(pg_url, fetch_id).pages_group_id)
    assert load_fetch(pg_url, next_fetch).status != FAILED
    post_form(client, f"/fetches/{next_fetch}/cancel")


def test_two_presses_at_once_start_one_fetch(pg_url, crawl_output, idle_scrapyd):
    app = dashboard(pg_url, crawl_output, idle_scrapyd, SCRAPYD_JOB_SETTINGS=SLOW)
    group_id = jeans_group(pg_url)
    jobs_before = all_job_ids(idle_scrapyd.client())
    presses = 6
    clients = [app.test_client() for _ in range(presses)]
    tokens = [c.get("/").get_data(as_text=True) for c in clients]  # sessions with their CSRF tokens
    import re

    tokens = [re.search(r'name="csrf-token" content="([^"]+)"', t).group(1) for t in tokens]
    barrier = threading.Barrier(presses)
    results: list[tuple[int, str]] = [None] * presses  # type: ignore[list-item]

    def press(index: int) -> None:
        barrier.wait()
        response = clients[index].post(f"/groups/{group_id}/fetch", data={"csrf_token": tokens[index]})
        results[index] = (response.status_code, response.headers.get("Location", ""))

    threads = [threading.Thread(target=press, args=(i,)) for i in range(presses)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(60)

    assert all(status == 303 for status, _ in results), results
    winners = [location for _status, location in results if location.startswith("/fetches/")]
    assert len(winners) == 1, results
    messages = [flashes(c.get("/").get_data(as_text=True)) for c in clients]
    refused = [m for m in messages if ("error", "A fetch is already running for this group: wait for it to finish or cancel it.") in m]
    assert len(refused) == presses - 1

    with db.session_scope(pg_url) as session:
        assert session.scalar(select(func.count(GapDataFetch.id))) == 1
    new_jobs = all_job_ids(idle_scrapyd.client()) - jobs_before
    fetch_id = int(winners[0].rsplit("/", 1)[1])
    assert new_jobs == {load_fetch(pg_url, fetch_id).scrapyd_job_id}  # nothing else was scheduled
    post_form(clients[0], f"/fetches/{fetch_id}/cancel")


def test_an_active_fetch_whose_crawl_ended_is_marked_failed(pg_url, crawl_output, idle_scrapyd):
    """The spider refuses a fetch that is not pending and ends without touching it: the fetch would stay active."""
    app = dashboard(pg_url, crawl_output, idle_scrapyd)
    group_id = jeans_group(pg_url)
    job_id = "honest-state-finished-job"
    with db.session_scope(pg_url) as session:
        fetch = db.create_fetch(session, group_id, scrapyd_job_id=job_id)
        db.set_fetch(session, fetch.id, status="fetching_product_list")
        fetch_id = fetch.id
    idle_scrapyd.client().schedule(job_id=job_id, group=group_id, fetch=fetch_id)
    wait_for(lambda: job_id in idle_scrapyd.client().jobs().finished, timeout=60, what="the refused crawl to end")
    assert load_fetch(pg_url, fetch_id).status == "fetching_product_list"

    # The periodic check (a background thread) finds it without anyone looking.
    checker = app.extensions["fetch_checker"]
    checker.start_thread(period=0.3)
    try:
        fetch = wait_fetch(pg_url, fetch_id, statuses=(FAILED,), timeout=20)
    finally:
        checker.stop_thread()
    assert fetch.error_message == STOPPED_UNEXPECTEDLY
    assert fetch.error_details["scrapyd_state"] == "finished"
    assert fetch.error_details["status_when_stopped"] == "fetching_product_list"
    html = app.test_client().get(f"/fetches/{fetch_id}").get_data(as_text=True)
    assert STOPPED_UNEXPECTEDLY in html
    assert 'data-step="fetching_product_list" data-state="failed"' in html


def test_a_crash_and_scrapyd_restart_fail_the_fetch(pg_url, crawl_output, scrapyd_env, tmp_path):
    server = ScrapydServer(env=scrapyd_env, state_dir=tmp_path / "scrapyd")
    server.start()
    try:
        app = dashboard(pg_url, crawl_output, server, SCRAPYD_JOB_SETTINGS=SLOW)
        client = app.test_client()
        fetch_id = press_fetch_data(client, jeans_group(pg_url))
        wait_fetch(pg_url, fetch_id, statuses=("fetching_product_page", "fetching_product_image"), timeout=60)
        with db.session_scope(pg_url) as session:  # as if scrapyd ran on another machine: only scrapyd can tell
            db.set_fetch(session, fetch_id, crawler_host="scrapyd-elsewhere")

        server.kill()  # scrapyd and its crawl die at once: nobody marks the fetch
        html = client.get(f"/fetches/{fetch_id}").get_data(as_text=True)
        assert "scrapyd is unreachable" in html
        assert load_fetch(pg_url, fetch_id).is_active  # unknown is not failed while scrapyd cannot be asked

        server.start()  # a new scrapyd knows nothing of the job
        state = client.get(f"/fetches/{fetch_id}/status.json").get_json()
        assert state["status"] == "failed" and state["error_message"] == STOPPED_UNEXPECTEDLY
        assert state["error_details"]["scrapyd_state"] == "unknown"
    finally:
        server.stop()


def test_a_killed_scrapyd_is_revived_and_its_orphaned_crawl_ends_its_fetch(pg_url, crawl_output, scrapyd_env, tmp_path):
    """kill -9 of scrapyd alone leaves its crawl running unseen; `make dashboard`'s watchdog ends it and restarts."""
    import os
    import signal

    server = ScrapydServer(env=scrapyd_env, state_dir=tmp_path / "scrapyd")
    server.start()
    try:
        app = dashboard(pg_url, crawl_output, server, SCRAPYD_JOB_SETTINGS=SLOW)
        client = app.test_client()
        fetch_id = press_fetch_data(client, jeans_group(pg_url))
        wait_fetch(pg_url, fetch_id, statuses=("fetching_product_page", "fetching_product_image"), timeout=60)
        assert server.revive_if_dead() is None  # alive: nothing to do

        os.kill(server.process.pid, signal.SIGKILL)  # scrapyd only; its crawl is orphaned and goes on
        server.process.wait(10)
        assert load_fetch(pg_url, fetch_id).is_active
        assert server.revive_if_dead() == -signal.SIGKILL

        fetch = wait_fetch(pg_url, fetch_id, timeout=60)  # the orphan got SIGINT: it ends its own fetch
        assert fetch.status == FAILED and "shutdown" in fetch.error_message, fetch.error_message
        assert server.client().daemon_status()["status"] == "ok"  # scrapyd answers again, same URL
        state = client.get(f"/fetches/{fetch_id}/status.json").get_json()
        assert state["scrapyd"]["ok"] is True and state["status"] == "failed"
    finally:
        server.stop()


def test_scrapyd_basic_auth(pg_url, crawl_output, scrapyd_env, tmp_path):
    server = ScrapydServer(env=scrapyd_env, state_dir=tmp_path / "scrapyd", username="crawler", password="pa:ss w0rd")
    server.start()
    try:
        group_id = jeans_group(pg_url)
        wrong = dashboard(pg_url, crawl_output, server, SCRAPYD_PASSWORD="nope").test_client()
        fetch_id = press_fetch_data(wrong, group_id)
        fetch = load_fetch(pg_url, fetch_id)
        assert fetch.status == FAILED and "refused the credentials" in fetch.error_message

        right = dashboard(pg_url, crawl_output, server, SCRAPYD_JOB_SETTINGS=SLOW).test_client()
        fetch_id = press_fetch_data(right, group_id)
        wait_fetch(pg_url, fetch_id, statuses=("fetching_product_page", "fetching_product_image"), timeout=60)
        log = right.get(f"/fetches/{fetch_id}/log")
        assert log.status_code == 200 and "Spider opened" in log.get_data(as_text=True)
        html = post_form(right, f"/fetches/{fetch_id}/cancel", follow_redirects=True).get_data(as_text=True)
        assert ("success", f"Fetch #{fetch_id} was cancelled.") in flashes(html)
        wait_scrapyd_idle(server.client(), timeout=60)
    finally:
        server.stop()


def test_a_refusing_scrapyd_fails_the_fetch_with_its_reason(pg_url, crawl_output, idle_scrapyd):
    app = dashboard(pg_url, crawl_output, idle_scrapyd, SCRAPYD_PROJECT="not-a-project")
    client = app.test_client()
    fetch_id = press_fetch_data(client, jeans_group(pg_url))
    fetch = load_fetch(pg_url, fetch_id)
    assert fetch.status == FAILED
    assert fetch.error_message == "could not schedule the crawl: scrapyd refused: project 'not-a-project' not found"
    html = client.get(f"/fetches/{fetch_id}").get_data(as_text=True)
    assert any(c == "error" and "project &#39;not-a-project&#39; not found" in t for c, t in flashes(html))


def test_a_fetch_started_by_calling_scrapyd_directly_is_watched_like_our_own(pg_url, crawl_output, idle_scrapyd):
    app = dashboard(pg_url, crawl_output, idle_scrapyd)
    client = app.test_client()
    group_id = jeans_group(pg_url)
    idle_scrapyd.client().schedule(job_id="direct-call-1", settings=SLOW, group=group_id)

    def created():
        with db.session_scope(pg_url) as session:
            return session.scalar(select(GapDataFetch.id).where(GapDataFetch.pages_group_id == group_id))

    fetch_id = wait_for(created, timeout=30, what="the spider to create its fetch")
    wait_fetch(pg_url, fetch_id, statuses=("fetching_product_page", "fetching_product_image"), timeout=60)
    assert load_fetch(pg_url, fetch_id).scrapyd_job_id == "direct-call-1"
    html = client.get(f"/groups/{group_id}").get_data(as_text=True)
    assert f"Fetch #{fetch_id} is running" in html
    assert "disabled" in __import__("re").search(r"<button [^>]*data-fetch-button[^>]*>", html).group(0)
    log = client.get(f"/fetches/{fetch_id}/log").get_data(as_text=True)
    assert "Spider opened" in log, log[-2000:]  # the crawl runs: scrapyd has its log ("No log yet" is a failure)
    html = post_form(client, f"/fetches/{fetch_id}/cancel", follow_redirects=True).get_data(as_text=True)
    assert ("success", f"Fetch #{fetch_id} was cancelled.") in flashes(html)
    wait_for(lambda: "direct-call-1" in idle_scrapyd.client().jobs().finished, timeout=60, what="the crawl to stop")
    assert load_fetch(pg_url, fetch_id).error_message == "cancelled"


def test_cancel_during_the_product_list_sticks(pg_url, crawl_output, idle_scrapyd, replica_session):
    """Cancel is final: the crawl must not move the fetch on to its next stage while it shuts down."""
    app = dashboard(pg_url, crawl_output, idle_scrapyd)
    client = app.test_client()
    replica_session.add_fault(r"category_products", delay=3, times=1)  # a slow listing answer: cancel meanwhile
    try:
        fetch_id = press_fetch_data(client, jeans_group(pg_url))
        wait_fetch(pg_url, fetch_id, statuses=("fetching_product_list",), timeout=60)
        job_id = load_fetch(pg_url, fetch_id).scrapyd_job_id
        post_form(client, f"/fetches/{fetch_id}/cancel")
        wait_for(lambda: job_id in idle_scrapyd.client().jobs().finished, timeout=60, what="the crawl to stop")
    finally:
        replica_session.clear_faults()
    fetch = load_fetch(pg_url, fetch_id)
    assert (fetch.status, fetch.error_message) == (FAILED, "cancelled")


def test_a_crawl_run_by_another_scrapyd_on_this_host_is_left_alone(pg_url, crawl_output, idle_scrapyd, scrapyd_env,
                                                                    tmp_path):
    """An egg deployed to a second scrapyd crawls into the same database: the dashboard's scrapyd does not know its
    job, but its crawl process is alive on this host, so it is not "stopped unexpectedly"."""
    other = ScrapydServer(env=scrapyd_env, state_dir=tmp_path / "other-scrapyd")
    other.start()
    try:
        app = dashboard(pg_url, crawl_output, idle_scrapyd)
        client = app.test_client()
        group_id = jeans_group(pg_url)
        other.client().schedule(job_id="other-scrapyd-1", settings=SLOW, group=group_id)

        def created():
            with db.session_scope(pg_url) as session:
                return session.scalar(select(GapDataFetch.id).where(GapDataFetch.pages_group_id == group_id))

        fetch_id = wait_for(created, timeout=30, what="the spider to create its fetch")
        wait_fetch(pg_url, fetch_id, statuses=("fetching_product_page", "fetching_product_image"), timeout=60)
        state = client.get(f"/fetches/{fetch_id}/status.json").get_json()  # runs the honest-state check
        assert state["error_message"] is None
        assert load_fetch(pg_url, fetch_id).is_active

        other.client().cancel("other-scrapyd-1")
        wait_for(lambda: "other-scrapyd-1" in other.client().jobs().finished, timeout=60, what="the crawl to stop")
        fetch = load_fetch(pg_url, fetch_id)
        assert fetch.status == FAILED and fetch.error_message.startswith("cancelled"), fetch.error_message
    finally:
        other.stop()
