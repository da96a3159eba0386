"""The `gapspider` command line: every bad argument gets one clear line and exit status 2, never a traceback."""

from __future__ import annotations

import pytest
from sqlalchemy import select

from gapspider import cli


@pytest.fixture
def env(sqlite_url, tmp_path, monkeypatch):
    monkeypatch.setenv("DATABASE_URL", sqlite_url)
    monkeypatch.setenv("GAPSPIDER_OUTPUT_DIR", str(tmp_path))
    return sqlite_url


@pytest.mark.parametrize("argv, message", [
    (["fetch-show", "abc"], "a fetch id is a number"),
    (["postprocess", "x"], "a fetch id is a number"),
    (["fetch-show", "\u00b2"], "a fetch id is a number"),
    (["fetch-show", "7"], "there is no fetch 7"),
    (["pages", "\u00b2"], "there is no pages group '\u00b2'"),
    (["page-add", "\u00b2", "T", "https://www.gap.com/browse/category.do?cid=5225"], "there is no pages group"),
])
def test_bad_references_are_one_clear_line(env, capsys, argv, message):
    assert cli.main(argv) == 2
    err = capsys.readouterr().err
    assert err.startswith("gapspider: ") and message in err
    assert "Traceback" not in err


def test_a_fetch_whose_crawl_process_is_gone_is_failed_when_fetches_are_listed(env, capsys):
    import socket
    import subprocess

    from gapspider import db
    from gapspider.groups import create_group
    from gapspider.models import GapDataFetch

    gone = subprocess.Popen(["true"])
    gone.wait()
    with db.session_scope(env) as session:
        group = create_group(session, "Orphan")
        fetch = db.create_fetch(session, group.id)
        db.set_fetch(session, fetch.id, status="fetching_product_image",
                     crawler_host=socket.gethostname(), crawler_pid=gone.pid)
        other = db.create_fetch(session, create_group(session, "Elsewhere").id)
        db.set_fetch(session, other.id, status="fetching_product_page", crawler_host="another-host", crawler_pid=1)
        fetch_id, other_id = fetch.id, other.id
    assert cli.main(["fetches"]) == 0
    assert f"fetch {fetch_id} was active but its crawl process is gone" in capsys.readouterr().err
    with db.session_scope(env) as session:
        assert session.get(GapDataFetch, fetch_id).error_message == "crawler stopped unexpectedly"
        assert session.get(GapDataFetch, other_id).status == "fetching_product_page"  # not ours to judge


def test_a_living_process_that_is_not_a_crawl_does_not_count_as_one():
    import os

    from gapspider import db

    assert not db.process_is_a_crawler(os.getpid())  # pytest: the number was reused by something else


def test_fetch_create_makes_one_pending_fetch_for_a_crawl_started_later(env, capsys):
    from gapspider import db
    from gapspider.models import GapDataFetch

    assert cli.main(["group-create", "Later"]) == 0
    assert cli.main(["fetch-create", "Later"]) == 2
    assert "has no Gap pages to fetch" in capsys.readouterr().err
    assert cli.main(["page-add", "Later", "Jeans", "https://www.gap.com/browse/women/jeans?cid=5664#department=136"]) == 0
    assert cli.main(["fetch-create", "Later"]) == 0
    out = capsys.readouterr().out
    with db.session_scope(env) as session:
        fetch = session.scalars(select(GapDataFetch)).one()
        assert fetch.status == "pending" and f"scrapy crawl gap -a fetch={fetch.id}" in out
    assert cli.main(["fetch-create", "Later"]) == 2
    assert f"a fetch is already running for group 'Later' (fetch {fetch.id}, status pending)" in capsys.readouterr().err


# ---------------------------------------------------------------- postprocess after a crawl ended abruptly

from tests.test_postprocess import crawled, load  # noqa: E402,F401  (the fetch with saved pages)


def _dead_pid() -> int:
    import subprocess

    gone = subprocess.Popen(["true"])
    gone.wait()
    return gone.pid


@pytest.mark.parametrize("stage", ["parsing_product_pages", "generating_output"])
def test_postprocess_finishes_a_fetch_whose_crawl_was_killed_during_the_post_crawl_step(crawled, capsys, stage):
    """kill -9 (out of memory) while the pages were parsed: the crawl had finished, its pages are all saved. The CLI
    first fails the fetch "crawler stopped unexpectedly", and the redo must then finish it, not call its pages
    incomplete."""
    import socket

    from gapspider import db

    with db.session_scope(crawled["url"]) as session:
        db.set_fetch(session, crawled["fetch_id"], status=stage, crawler_host=socket.gethostname(),
                     crawler_pid=_dead_pid())
    assert cli.main(["postprocess", str(crawled["fetch_id"]), "--workers", "1"]) == 0, capsys.readouterr().err
    fetch = load(crawled["url"], crawled["fetch_id"])
    assert fetch.status == "succeeded" and fetch.output_path


def test_postprocess_refuses_a_fetch_whose_crawl_was_killed_before_its_pages_were_all_saved(crawled, capsys):
    import socket

    from gapspider import db

    with db.session_scope(crawled["url"]) as session:
        db.set_fetch(session, crawled["fetch_id"], status="fetching_product_image", crawler_host=socket.gethostname(),
                     crawler_pid=_dead_pid())
    assert cli.main(["postprocess", str(crawled["fetch_id"]), "--workers", "1"]) == 2
    assert "ended before its crawl finished (crawler stopped unexpectedly)" in capsys.readouterr().err
    assert load(crawled["url"], crawled["fetch_id"]).status == "failed"


def test_postprocess_refuses_a_fetch_cancelled_in_the_dashboard_saying_so(crawled, capsys):
    """Cancel is final, also when it came during the post-crawl step (pages all saved)."""
    from gapspider import db

    with db.session_scope(crawled["url"]) as session:
        db.set_fetch(session, crawled["fetch_id"], status="parsing_product_pages")
        db.fail_fetch(session, crawled["fetch_id"], "cancelled", {"cancelled_by": "dashboard"})
    assert cli.main(["postprocess", str(crawled["fetch_id"]), "--workers", "1"]) == 2
    err = capsys.readouterr().err
    assert f"fetch {crawled['fetch_id']} was cancelled" in err and "start a new fetch" in err
    assert "incomplete" not in err
    fetch = load(crawled["url"], crawled["fetch_id"])
    assert (fetch.status, fetch.error_message) == ("failed", "cancelled")


def test_postprocess_refuses_a_fetch_whose_live_crawl_is_in_its_post_crawl_step(crawled, capsys):
    """The crawl is parsing right now: a second parse of the same pages beside it would race it for the counters and
    the SQL file."""
    import socket
    import subprocess
    import sys

    from gapspider import db

    crawl = subprocess.Popen([sys.executable, "-c", "import sys; sys.stdin.read()", "crawl", "gap"],
                             stdin=subprocess.PIPE)
    try:
        with db.session_scope(crawled["url"]) as session:
            db.set_fetch(session, crawled["fetch_id"], status="parsing_product_pages",
                         crawler_host=socket.gethostname(), crawler_pid=crawl.pid)
        assert cli.main(["postprocess", str(crawled["fetch_id"]), "--workers", "1"]) == 2
        assert f"its crawl (process {crawl.pid}) is parsing its pages right now" in capsys.readouterr().err
        fetch = load(crawled["url"], crawled["fetch_id"])
        assert (fetch.status, fetch.crawler_pid, fetch.parsed_products) == ("parsing_product_pages", crawl.pid, 0)
    finally:
        crawl.communicate(b"")


def test_postprocess_exits_1_when_the_redo_is_cancelled_while_it_runs(crawled):
    """Dashboard Cancel during a `gapspider postprocess` redo: the fetch stays cancelled, and the command's exit
    status says it did not succeed (a script would otherwise go on to load the SQL file)."""
    import os
    import subprocess
    import sys
    import threading

    from dashboard.testing import wait_for
    from gapspider import db

    with db.session_scope(crawled["url"]) as session:
        db.set_fetch(session, crawled["fetch_id"], status="succeeded")
    page = crawled["folder"] / "796255962.html"
    html = page.read_bytes()
    page.unlink()
    os.mkfifo(page)  # the redo's parser waits on this page until the test has cancelled
    redo = subprocess.Popen([sys.executable, "-m", "gapspider.cli", "postprocess", str(crawled["fetch_id"]),
                             "--workers", "1"], stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    try:
        wait_for(lambda: load(crawled["url"], crawled["fetch_id"]).status == "parsing_product_pages",
                 timeout=60, what="the redo to start parsing")
        with db.session_scope(crawled["url"]) as session:
            assert db.fail_fetch(session, crawled["fetch_id"], "cancelled", {"cancelled_by": "dashboard"})
    finally:
        writer = threading.Thread(target=page.write_bytes, args=(html,), daemon=True)
        writer.start()
        output = redo.communicate(timeout=120)[0]
        writer.join(timeout=10)
    assert redo.returncode == 1, output
    assert "cancelled" in output
    fetch = load(crawled["url"], crawled["fetch_id"])
    assert (fetch.status, fetch.error_message) == ("failed", "cancelled")


def test_the_summary_counts_failed_product_pages_apart_from_the_fetched_ones(env):
    """53 pages tried, 1 of them a 404: '52 of 53 pages fetched, 1 failed', as the images line already does."""
    from gapspider import db
    from gapspider.groups import create_group

    with db.session_scope(env) as session:
        fetch = db.create_fetch(session, create_group(session, "Summary").id)
        db.set_fetch(session, fetch.id, total_products=53, processed_products=53, failed_products=1,
                     parsed_products=52, total_images=383, processed_images=383, failed_images=2)
        fetch = session.get(fetch.__class__, fetch.id)
        summary = dict(cli.fetch_summary(fetch))
    assert summary["products"] == "52 of 53 pages fetched, 1 failed, 52 parsed"
    assert summary["images"] == "381 of 383 saved, 2 failed"


def test_summary_times_say_they_are_utc():
    import datetime as dt

    assert cli._fmt_time(dt.datetime(2026, 12, 3, 20, 15, 0)) == "2026-12-03 20:15:00 UTC"  # SQLite: naive UTC
    paris = dt.timezone(dt.timedelta(hours=1))
    assert cli._fmt_time(dt.datetime(2026, 12, 3, 21, 15, 0, tzinfo=paris)) == "2026-12-03 20:15:00 UTC"
    assert cli._fmt_time(None) == "-"


def test_db_upgrade_does_not_print_the_database_password(monkeypatch, capsys):
    """A real upgrade of a scratch PostgreSQL database reached with a password in its URL (the test server trusts
    loopback connections, so any password logs in)."""
    import sqlalchemy as sa

    from gapspider import config, db
    from tests.conftest import create_pg_database, drop_pg_database

    url = create_pg_database("gapspider_cli")
    try:
        user_host, name = url.split("://", 1)[1].rsplit("/", 1)
        user, host = user_host.split("@", 1)
        monkeypatch.setenv("DATABASE_URL", f"postgresql://{user}:s3cret@{host}/{name}")
        assert cli.main(["db-upgrade"]) == 0
        out = capsys.readouterr().out
        assert "s3cret" not in out and f"postgresql+psycopg2://{user}:***@{host}/{name}" in out
        with db.get_engine(url).connect() as connection:
            assert "gap_data_fetch" in sa.inspect(connection).get_table_names()
    finally:
        drop_pg_database(url)
    assert config.database_url_for_display("sqlite:////tmp/x.db") == "sqlite:////tmp/x.db"


def test_an_unreachable_database_is_one_clear_line_without_its_password(monkeypatch, capsys):
    monkeypatch.setenv("DATABASE_URL", "postgresql://shop:s3cret@127.0.0.1:1/shopdb")  # nothing listens on port 1
    assert cli.main(["groups"]) == 2
    err = capsys.readouterr().err
    assert err.startswith("gapspider: cannot use the database postgresql+psycopg2://shop:***@127.0.0.1:1/shopdb: ")
    assert "Traceback" not in err and "s3cret" not in err and len(err.strip().splitlines()) == 1
