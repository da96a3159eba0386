"""The post-crawl step: parse saved pages, write the SQL file, move the fetch on only while it is active."""

from __future__ import annotations

import datetime as dt
import os
import shutil
import socket
import subprocess
import sys
import threading
from pathlib import Path

import pytest

from gapspider import cli, db
from gapspider.groups import create_group
from gapspider.models import FAILED, SUCCEEDED, GapDataFetch, Product, ProductData
from gapspider.postprocess import PostprocessRefused, output_file_name, run_postprocess

PAGES = Path(__file__).parent / "fixtures" / "pages"
SAVED = {"796255962": "01_flight_jsonld_sale.html", "500000001": "09_bot_block_akamai.html"}


@pytest.fixture
def crawled(db_url, tmp_path, monkeypatch):
    """A fetch whose crawl has just finished (status fetching_product_image), with two saved pages."""
    monkeypatch.setenv("DATABASE_URL", db_url)
    monkeypatch.setenv("GAPSPIDER_OUTPUT_DIR", str(tmp_path))
    with db.session_scope(db_url) as session:
        group = create_group(session, "Post 'crawl'")
        fetch = db.create_fetch(session, group.id)
        fetch.status = "fetching_product_image"
        folder = Path(str(group.id)) / fetch.folder_timestamp
        (tmp_path / folder).mkdir(parents=True)
        for position, (cc_id, fixture) in enumerate(SAVED.items()):
            shutil.copy(PAGES / fixture, tmp_path / folder / f"{cc_id}.html")
            product = Product(style_id=cc_id[:6], cc_id=cc_id, style_name="Jeans", cc_name="Blue")
            session.add(product)
            session.add(ProductData(
                product=product, gap_data_fetch_id=fetch.id, folder_timestamp=fetch.folder_timestamp,
                position=position, html_file_path=str(folder / f"{cc_id}.html"),
                regular_price="59.95", effective_price="29.97", price_type="M", percentage_off="50",
            ))
        session.flush()
        return {"url": db_url, "fetch_id": fetch.id, "group_id": group.id, "folder": tmp_path / folder}


def load(url, fetch_id) -> GapDataFetch:
    with db.session_scope(url) as session:
        fetch = session.get(GapDataFetch, fetch_id)
        session.expunge(fetch)
        return fetch


def test_a_finished_crawl_is_parsed_written_and_succeeds(crawled):
    run_postprocess(crawled["fetch_id"], workers=1)
    fetch = load(crawled["url"], crawled["fetch_id"])
    sql = crawled["folder"] / output_file_name(crawled["folder"].name)
    assert (fetch.status, fetch.current_step, fetch.output_path) == (SUCCEEDED, "Done", str(sql))
    assert fetch.completed_at is not None and fetch.parsed_products == 2
    assert fetch.failed_products == 1  # the saved Access Denied page is a failed page, not a product without sizes
    assert "BEGIN;" in sql.read_text() and "796255962" in sql.read_text()
    # The file's gap_fetch row is complete: completed_at is the fetch's, the same instant as generated_at
    completed = fetch.completed_at.replace(tzinfo=dt.timezone.utc) if fetch.completed_at.tzinfo is None else fetch.completed_at
    stamp = completed.astimezone(dt.timezone.utc).isoformat(sep=" ")
    assert f"started_at, completed_at, generated_at, product_count) VALUES ({crawled['fetch_id']}, " in sql.read_text()
    assert f"NULL, '{stamp}', '{stamp}', 2) ON CONFLICT (fetch_id)" in sql.read_text()
    with db.session_scope(crawled["url"]) as session:
        rows = {r.product.cc_id: r for r in session.query(ProductData).all()}
        assert rows["796255962"].parsed_data["sizes"] and rows["796255962"].parse_error is None
        assert rows["500000001"].parsed_data["blocked"] is True
        assert "Access Denied" in rows["500000001"].page_error


def test_a_fetch_cancelled_before_its_post_crawl_step_stays_cancelled(crawled):
    with db.session_scope(crawled["url"]) as session:
        assert db.fail_fetch(session, crawled["fetch_id"], "cancelled")
    run_postprocess(crawled["fetch_id"], workers=1)  # what the spider would still call on its way out
    fetch = load(crawled["url"], crawled["fetch_id"])
    assert (fetch.status, fetch.error_message, fetch.output_path) == (FAILED, "cancelled", None)
    assert not (crawled["folder"] / output_file_name(crawled["folder"].name)).exists()


def test_set_fetch_active_only_leaves_a_finished_fetch_alone(crawled):
    with db.session_scope(crawled["url"]) as session:
        assert db.set_fetch(session, crawled["fetch_id"], active_only=True, current_step="Images")
        db.fail_fetch(session, crawled["fetch_id"], "cancelled")
        assert not db.set_fetch(session, crawled["fetch_id"], active_only=True, status="fetching_product_image")
    assert load(crawled["url"], crawled["fetch_id"]).status == FAILED


def test_the_cli_redoes_the_post_crawl_step_of_a_succeeded_fetch(crawled, capsys):
    run_postprocess(crawled["fetch_id"], workers=1)
    sql = crawled["folder"] / output_file_name(crawled["folder"].name)
    sql.unlink()
    assert cli.main(["postprocess", str(crawled["fetch_id"]), "--workers", "1"]) == 0
    assert sql.exists() and load(crawled["url"], crawled["fetch_id"]).status == SUCCEEDED
    assert "succeeded" in capsys.readouterr().out


def test_the_cli_refuses_a_fetch_whose_crawl_did_not_finish(crawled, capsys):
    with db.session_scope(crawled["url"]) as session:
        db.fail_fetch(session, crawled["fetch_id"], "cancelled")
    assert cli.main(["postprocess", str(crawled["fetch_id"])]) == 2
    assert "ended before its crawl finished (cancelled)" in capsys.readouterr().err
    assert load(crawled["url"], crawled["fetch_id"]).error_message == "cancelled"


def test_a_redo_waits_for_the_active_fetch_of_the_same_group(crawled):
    run_postprocess(crawled["fetch_id"], workers=1)
    with db.session_scope(crawled["url"]) as session:
        db.create_fetch(session, crawled["group_id"])
    with pytest.raises(PostprocessRefused, match="another fetch of this group is active"):
        run_postprocess(crawled["fetch_id"], workers=1, reopen=True)
    assert load(crawled["url"], crawled["fetch_id"]).status == SUCCEEDED


def test_a_stop_request_during_the_post_crawl_step_cancels_the_fetch_and_a_redo_finishes_it(crawled, capsys):
    """Ctrl-C or scrapyd's cancel while pages are parsed: the fetch ends cancelled, not succeeded."""
    run_postprocess(crawled["fetch_id"], workers=1, should_stop=lambda: True)
    fetch = load(crawled["url"], crawled["fetch_id"])
    assert fetch.status == FAILED and fetch.output_path is None
    assert fetch.error_message.startswith("cancelled during the post-crawl step"), fetch.error_message
    assert not (crawled["folder"] / output_file_name(crawled["folder"].name)).exists()
    # The crawl itself had finished: its pages are all there, so the post-crawl step can be redone.
    assert cli.main(["postprocess", str(crawled["fetch_id"]), "--workers", "1"]) == 0
    assert load(crawled["url"], crawled["fetch_id"]).status == SUCCEEDED


def test_a_redo_running_beside_other_commands_is_not_taken_for_a_dead_crawl(crawled):
    """`gapspider postprocess` reopens a succeeded fetch whose crawl process is long gone: while it runs, every other
    gapspider command and the dashboard check for dead crawls. The redo is the fetch's process now."""
    from dashboard.testing import wait_for

    gone = subprocess.Popen(["true"])
    gone.wait()
    with db.session_scope(crawled["url"]) as session:
        db.set_fetch(session, crawled["fetch_id"], status=SUCCEEDED, crawler_host=socket.gethostname(),
                     crawler_pid=gone.pid)
    page = crawled["folder"] / "796255962.html"
    html = page.read_bytes()
    page.unlink()
    os.mkfifo(page)  # the redo's parser waits on this page until the test has looked
    redo = subprocess.Popen([sys.executable, "-m", "gapspider.cli", "postprocess", str(crawled["fetch_id"]),
                             "--workers", "1"], stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    writer = None
    try:
        wait_for(lambda: load(crawled["url"], crawled["fetch_id"]).status == "parsing_product_pages",
                 timeout=60, what="the redo to start parsing")
        with db.session_scope(crawled["url"]) as session:  # what any other command does first
            assert db.fail_dead_crawls(session) == []
        fetch = load(crawled["url"], crawled["fetch_id"])
        assert fetch.is_active and fetch.crawler_pid == redo.pid
    finally:
        writer = threading.Thread(target=page.write_bytes, args=(html,), daemon=True)
        writer.start()
        output = redo.communicate(timeout=120)[0]
        writer.join(timeout=10)
    assert redo.returncode == 0, output
    assert load(crawled["url"], crawled["fetch_id"]).status == SUCCEEDED


def test_a_fetch_cancelled_while_its_sql_file_is_written_leaves_no_sql_file(crawled):
    """Dashboard Cancel lands while the SQL file is being written: the fetch ends cancelled, and no loadable
    gap_data_*.sql of a cancelled fetch is left in its folder."""
    sql = crawled["folder"] / output_file_name(crawled["folder"].name)
    partial = sql.with_name(f".{sql.name}.part")
    os.mkfifo(partial)  # the writer blocks on it until the test reads
    import fcntl

    def read_and_cancel() -> None:
        with open(partial, "rb") as reader:
            fcntl.fcntl(reader.fileno(), 1031, 4096)  # F_SETPIPE_SZ: the writer waits after its first 4 KB
            reader.read(1)
            with db.session_scope(crawled["url"]) as session:
                db.fail_fetch(session, crawled["fetch_id"], "cancelled", {"cancelled_by": "dashboard"})
            reader.read()

    canceller = threading.Thread(target=read_and_cancel, daemon=True)
    canceller.start()
    run_postprocess(crawled["fetch_id"], workers=1)
    canceller.join(timeout=60)
    fetch = load(crawled["url"], crawled["fetch_id"])
    assert (fetch.status, fetch.error_message, fetch.output_path) == (FAILED, "cancelled", None)
    assert not sql.exists() and not partial.exists()


def test_parse_jobs_read_only_the_columns_they_need(crawled):
    """The post-crawl step reads (id, page, listing facts), not whole rows: loading every ProductData with its JSON
    (listing_data, api_image_paths...) made the crawl process's peak memory grow ~45 kB a product."""
    from sqlalchemy import event

    from gapspider.postprocess import _parse_jobs

    statements = []
    engine = db.get_engine(crawled["url"])
    listener = lambda conn, cursor, statement, *args: statements.append(statement)  # noqa: E731
    event.listen(engine, "before_cursor_execute", listener)
    try:
        with db.session_scope(crawled["url"]) as session:
            jobs = _parse_jobs(session, crawled["fetch_id"])
    finally:
        event.remove(engine, "before_cursor_execute", listener)
    selects = [s for s in statements if s.lstrip().upper().startswith("SELECT")]
    assert len(selects) == 1
    for heavy in ("listing_data", "api_image_paths", "parsed_data", "image_paths", "image_errors"):
        assert heavy not in selects[0]
    with db.session_scope(crawled["url"]) as session:
        rows = session.query(ProductData).order_by(ProductData.id).all()
        expected = [(r.id, str(crawled["folder"].parent.parent / r.html_file_path), r.listing_facts()) for r in rows]
    assert jobs == expected and jobs[0][2]["cc_id"] == "796255962" and jobs[0][2]["percentage_off"] == "50"
