"""The gap spider end to end: real `scrapy crawl` subprocesses against the replica, on both databases."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import threading
import time
from pathlib import Path

import pytest
from sqlalchemy import func, select

from gapspider import db
from gapspider.models import GapDataFetch, Product, ProductData
from tests.crawl import JEANS_URL, ROOT, TSHIRTS_URL, crawl_env, make_group, run_crawl

DATA = ROOT / "tests" / "replica" / "data"
JEANS_FILE = DATA / "20260926T192615578458Z-women-jeans__products-page-2.json"


def expected_jeans():
    """Counts of the women's jeans category computed straight from the real capture."""
    data = json.loads(JEANS_FILE.read_text())
    colours = {}
    for product in data["products"]:
        for colour in product["styleColors"]:
            colours.setdefault(colour["ccId"], colour)
    images = 0
    for colour in colours.values():
        views = {}
        for image in colour["images"]:
            kind, path = image["type"], image["path"]
            if "_VD" in kind or path.endswith(".mp4"):
                continue
            view, _, rendition = kind.partition("_") if kind.startswith("AV") else ("main", "", kind)
            rendition = rendition or "P01"
            views.setdefault(view, set()).add(rendition)
        images += min(10, sum(1 for r in views.values() if r & {"VLI", "Z", "P01", "QL"}))
    return len(colours), images


def latest_fetch(db_url: str) -> GapDataFetch:
    with db.session_scope(db_url) as session:
        return session.scalars(select(GapDataFetch).order_by(GapDataFetch.id.desc())).first()


def start_crawl_until(db_url: str, env: dict[str, str], group_id: int, ready, *, timeout: float = 60,
                      stderr=subprocess.PIPE) -> tuple[subprocess.Popen, GapDataFetch]:
    """Start `scrapy crawl gap` in the background and wait until its fetch satisfies `ready(fetch)`."""
    proc = subprocess.Popen([sys.executable, "-m", "scrapy", "crawl", "gap", "-a", f"group={group_id}"],
                            cwd=ROOT, env=env, stdout=subprocess.DEVNULL, stderr=stderr, text=True)
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        fetch = latest_fetch(db_url)
        if fetch is not None and ready(fetch):
            return proc, fetch
        if proc.poll() is not None:
            break
        time.sleep(0.05)
    proc.kill()
    raise AssertionError(f"the crawl never reached the expected state (last: {latest_fetch(db_url)!r})")


def product_rows(db_url: str, fetch_id: int) -> list[ProductData]:
    with db.session_scope(db_url) as session:
        rows = session.scalars(
            select(ProductData).where(ProductData.gap_data_fetch_id == fetch_id).order_by(ProductData.position)
        ).all()
        for row in rows:
            row.product  # load
        return rows


def assert_ok(result, fetch):
    assert fetch is not None, result.stderr[-3000:]
    assert fetch.status == "succeeded", f"{fetch.status}: {fetch.error_message}\n{result.stderr[-4000:]}"


@pytest.mark.parametrize("database", ["postgresql", "sqlite"])
def test_whole_fetch_on_real_data(database, request, replica, tmp_path):
    db_url = request.getfixturevalue("pg_url" if database == "postgresql" else "sqlite_url")
    group_id = make_group(db_url, "Women's \"jeans\" 'n' more", [("Jeans", JEANS_URL)])
    env = crawl_env(db_url, tmp_path, replica, GAP_PAGE_SIZE="20")
    result = run_crawl(env, "-a", f"group={group_id}")
    fetch = latest_fetch(db_url)
    assert_ok(result, fetch)
    colours, images = expected_jeans()
    assert (colours, images) == (53, 383)
    assert (fetch.total_pages, fetch.processed_pages) == (3, 3)  # 53 colours at 20 a page
    assert (fetch.total_products, fetch.processed_products, fetch.failed_products) == (colours, colours, 0)
    assert (fetch.total_images, fetch.processed_images, fetch.failed_images) == (images, images, 0)
    assert fetch.parsed_products == colours
    assert fetch.started_at and fetch.completed_at and fetch.completed_at >= fetch.started_at
    folder = tmp_path / str(group_id) / fetch.folder_timestamp
    rows = product_rows(db_url, fetch.id)
    assert len(rows) == colours
    served = {e["path"].split("/webcontent/", 1)[1] for e in replica.log if "/webcontent/" in e["path"]}
    for row in rows:
        assert row.html_file_path == f"{group_id}/{fetch.folder_timestamp}/{row.product.cc_id}.html"
        assert (tmp_path / row.html_file_path).read_bytes().startswith(b"<!DOCTYPE html>")
        assert row.image_paths and all(p.startswith(f"{group_id}/{fetch.folder_timestamp}/{row.product.cc_id}/images/") for p in row.image_paths)
        assert all((tmp_path / p).stat().st_size > 0 for p in row.image_paths)
        # Each file beside the URL it was fetched from: the replica served that URL, and its name is the file's.
        assert len(row.image_urls) == len(row.image_paths)
        for url, path in zip(row.image_urls, row.image_paths):
            assert url.split("/webcontent/", 1)[1] in served and Path(path).name.endswith(url.rsplit("/", 1)[1])
        assert row.parsed_data["cc_id"] == row.product.cc_id
        assert row.parsed_data["title"] == row.product.style_name
    # Listing facts of this fetch, as the real capture has them.
    real = json.loads(JEANS_FILE.read_text())
    first = real["products"][0]["styleColors"][0]
    row = next(r for r in rows if r.product.cc_id == first["ccId"])
    assert (row.regular_price, row.effective_price, row.price_type) == (
        first["regularPrice"], first["effectivePrice"], first["priceType"])
    assert row.product.style_name == real["products"][0]["styleName"]
    assert row.listing_data["colour"]["ccId"] == first["ccId"] and "images" not in row.listing_data["colour"]
    assert row.listing_data["style"]["styleId"] == real["products"][0]["styleId"]
    sql = Path(fetch.output_path)
    assert sql == folder / f"gap_data_{fetch.folder_timestamp}.sql" and sql.stat().st_size > 0
    assert sum(1 for _ in folder.glob("*.html")) == colours
    assert sum(1 for _ in folder.glob("*/images/*")) == images


def test_one_request_at_a_time_across_hosts_and_stages(pg_url, replica, tmp_path):
    """Listing on 127.0.0.1, pages on localhost, images on 127.0.0.1; scrapyd-style overrides try to raise concurrency."""
    group_id = make_group(pg_url, "One at a time", [("Jeans", JEANS_URL)])
    replica.add_fault(r".", delay=0.05)  # every answer takes a while, so any overlap would show
    env = crawl_env(pg_url, tmp_path, replica, api_host="127.0.0.1", web_host="localhost",
                    image_host="127.0.0.1", GAP_PAGE_SIZE="20", GAP_MAX_IMAGES_PER_PRODUCT="2")
    result = run_crawl(env, "-a", f"group={group_id}", "-s", "CONCURRENT_REQUESTS=16",
                       "-s", "CONCURRENT_REQUESTS_PER_DOMAIN=8", "-s", "DOWNLOAD_SLOTS={}")
    fetch = latest_fetch(pg_url)
    assert_ok(result, fetch)
    log = sorted(replica.log, key=lambda e: e["start"])
    assert len(log) == 3 + 53 + fetch.total_images and fetch.total_images > 53
    hosts = {e["host"].split(":")[0] for e in log}
    assert hosts == {"127.0.0.1", "localhost"}
    # The replica stamps `end` just after writing the last byte, so a client can start its next request a
    # scheduling tick earlier; a second request in flight would overlap by most of the 50 ms delay.
    for before, after in zip(log, log[1:]):
        assert after["start"] >= before["end"] - 0.01, f"overlap: {before['path']} and {after['path']}"
    stages = ["listing" if "catalog_search" in e["path"] else "page" if "product.do" in e["path"] else "image" for e in log]
    assert stages == sorted(stages, key=["listing", "page", "image"].index), "stages out of order"


def test_bot_block_on_second_listing_page_fails_and_stops(db_url, replica, tmp_path):
    group_id = make_group(db_url, "Blocked", [("Jeans", JEANS_URL)])
    replica.add_fault(r"category_products.*pageNumber=1", status=403)
    result = run_crawl(crawl_env(db_url, tmp_path, replica, GAP_PAGE_SIZE="20"), "-a", f"group={group_id}")
    fetch = latest_fetch(db_url)
    assert fetch.status == "failed", result.stderr[-2000:]
    assert "listing page 2 of 'Jeans'" in fetch.error_message
    assert "blocked" in fetch.error_message and "403" in fetch.error_message
    assert fetch.completed_at is not None
    paths = [e["path"] for e in replica.log]
    assert not any("product.do" in p or "webcontent" in p for p in paths), "nothing after the block"
    assert sum("category_products" in p for p in paths) == 2  # a block is not retried
    assert fetch.total_products == 20  # page 1 was stored before the block


def test_malformed_listing_json_fails_with_the_cause(sqlite_url, replica, tmp_path):
    group_id = make_group(sqlite_url, "Malformed", [("Jeans", JEANS_URL)])
    replica.add_fault(r"category_products", body="{not json", content_type="application/json")
    run_crawl(crawl_env(sqlite_url, tmp_path, replica), "-a", f"group={group_id}")
    fetch = latest_fetch(sqlite_url)
    assert fetch.status == "failed"
    assert fetch.error_message.startswith("listing page 1 of 'Jeans' failed: malformed JSON")


@pytest.mark.parametrize("fault, cause", [
    ({"drop": True}, "the connection was closed before an answer came, after 3 retries"),
    ({"truncate": 100}, "the answer was cut off before its end, after 3 retries"),
])
def test_network_failures_of_a_listing_page_are_named_plainly(fault, cause, sqlite_url, replica, tmp_path):
    group_id = make_group(sqlite_url, "Network", [("Jeans", JEANS_URL)])
    replica.add_fault(r"category_products", **fault)
    run_crawl(crawl_env(sqlite_url, tmp_path, replica), "-a", f"group={group_id}")
    fetch = latest_fetch(sqlite_url)
    assert fetch.status == "failed"
    assert fetch.error_message == f"listing page 1 of 'Jeans' failed: {cause}"
    assert len(replica.log) == 4


def test_missing_page_and_broken_image_are_recorded_and_the_fetch_finishes(pg_url, replica, tmp_path):
    group_id = make_group(pg_url, "Partial", [("Jeans", JEANS_URL)])
    real = json.loads(JEANS_FILE.read_text())
    lost = real["products"][1]["styleColors"][0]["ccId"]
    image_colour = real["products"][0]["styleColors"][0]
    broken_path = next(i["path"] for i in image_colour["images"] if i["type"] == "VLI")
    not_image_path = next(i["path"] for i in image_colour["images"] if i["type"] == "AV1_VLI")
    replica.add_fault(rf"pid={lost}\b", status=404)
    replica.add_fault(broken_path, status=500)
    replica.add_fault(not_image_path, body="<html>oops</html>", content_type="text/html")
    result = run_crawl(crawl_env(pg_url, tmp_path, replica), "-a", f"group={group_id}")
    fetch = latest_fetch(pg_url)
    assert_ok(result, fetch)
    assert (fetch.processed_products, fetch.failed_products) == (53, 1)
    assert fetch.failed_images == 2
    rows = {r.product.cc_id: r for r in product_rows(pg_url, fetch.id)}
    assert rows[lost].page_error == "HTTP 404" and rows[lost].page_http_status == 404
    assert rows[lost].html_file_path is None and rows[lost].parsed_data is None
    errors = {e["url"].split(":", 2)[-1].split("/", 1)[-1]: e for e in rows[image_colour["ccId"]].image_errors}
    assert errors[broken_path.lstrip("/")]["http_status"] == 500
    assert errors[broken_path.lstrip("/")]["reason"] == "HTTP 500"
    assert errors[not_image_path.lstrip("/")]["reason"].startswith("not an image (text/html")
    retried = [e for e in replica.log if broken_path in e["path"]]
    assert len(retried) == 4  # first try + 3 retries
    assert not list((tmp_path).glob("**/images/*.html"))


def test_retry_after_is_honoured(sqlite_url, replica, tmp_path):
    group_id = make_group(sqlite_url, "Slow down", [("Jeans", JEANS_URL)])
    replica.add_fault(r"category_products", status=429, headers={"Retry-After": "2"}, times=1)
    env = crawl_env(sqlite_url, tmp_path, replica, GAP_DOWNLOAD_IMAGES="0")
    result = run_crawl(env, "-a", f"group={group_id}")
    assert_ok(result, latest_fetch(sqlite_url))
    listing = [e for e in replica.log if "category_products" in e["path"]]
    assert [e["status"] for e in listing] == [429, 200]
    assert listing[1]["start"] - listing[0]["end"] >= 1.9


def test_second_fetch_reuses_products_with_new_folder_and_rows(sqlite_url, replica, tmp_path):
    group_id = make_group(sqlite_url, "Twice", [("Jeans", JEANS_URL)])
    env = crawl_env(sqlite_url, tmp_path, replica, GAP_DOWNLOAD_IMAGES="0")
    first = run_crawl(env, "-a", f"group={group_id}")
    one = latest_fetch(sqlite_url)
    assert_ok(first, one)
    second = run_crawl(env, "-a", "group=Twice")  # by title this time
    two = latest_fetch(sqlite_url)
    assert_ok(second, two)
    assert two.id != one.id and two.folder_timestamp != one.folder_timestamp
    with db.session_scope(sqlite_url) as session:
        assert session.scalar(select(func.count(Product.id))) == 53
        counts = dict(session.execute(
            select(ProductData.gap_data_fetch_id, func.count(ProductData.id)).group_by(ProductData.gap_data_fetch_id)
        ).all())
    assert counts == {one.id: 53, two.id: 53}
    assert (tmp_path / str(group_id) / one.folder_timestamp).is_dir()
    assert (tmp_path / str(group_id) / two.folder_timestamp).is_dir()


def test_refuses_when_a_fetch_is_active_without_any_http(pg_url, replica, tmp_path):
    group_id = make_group(pg_url, "Busy", [("Jeans", JEANS_URL)])
    with db.session_scope(pg_url) as session:
        running = db.create_fetch(session, group_id)
        db.set_fetch(session, running.id, status="fetching_product_page")
    result = run_crawl(crawl_env(pg_url, tmp_path, replica), "-a", f"group={group_id}")
    assert "a fetch is already running for group 'Busy'" in result.stderr
    assert replica.log == []
    with db.session_scope(pg_url) as session:
        assert session.scalar(select(func.count(GapDataFetch.id))) == 1


def test_an_unreachable_database_is_a_clear_refusal_without_its_password(replica, tmp_path):
    env = crawl_env("postgresql://shop:s3cret@127.0.0.1:1/shopdb", tmp_path, replica)  # nothing listens on port 1
    result = run_crawl(env, "-a", "group=1")
    assert "gap spider refused: cannot use the database postgresql+psycopg2://shop:***@127.0.0.1:1/shopdb" in result.stderr
    assert "Traceback" not in result.stderr and "s3cret" not in result.stderr
    assert replica.log == []
    assert result.returncode == 2


def test_unknown_group_is_a_clear_refusal(sqlite_url, replica, tmp_path):
    result = run_crawl(crawl_env(sqlite_url, tmp_path, replica), "-a", "group=nope")
    assert "there is no pages group 'nope'" in result.stderr
    assert replica.log == []
    assert result.returncode == 2  # scripts and schedulers see the refusal


def test_exit_status_tells_scripts_how_the_fetch_ended(sqlite_url, replica, tmp_path):
    group_id = make_group(sqlite_url, "Exit status", [("Jeans", JEANS_URL)])
    env = crawl_env(sqlite_url, tmp_path, replica, GAP_DOWNLOAD_IMAGES="0")
    replica.add_fault(r"category_products", status=404, times=1)
    failed = run_crawl(env, "-a", f"group={group_id}")
    assert latest_fetch(sqlite_url).status == "failed" and failed.returncode == 1
    succeeded = run_crawl(env, "-a", f"group={group_id}")
    assert_ok(succeeded, latest_fetch(sqlite_url))
    assert succeeded.returncode == 0


@pytest.mark.parametrize("fetch_ref", ["\u00b2", "abc", "999"])
def test_unknown_fetch_is_a_clear_refusal(fetch_ref, sqlite_url, replica, tmp_path):
    result = run_crawl(crawl_env(sqlite_url, tmp_path, replica), "-a", f"fetch={fetch_ref}")
    assert f"there is no fetch {fetch_ref!r}" in result.stderr, result.stderr[-2000:]
    assert "Traceback" not in result.stderr
    assert replica.log == []


def test_given_pending_fetch_is_used(sqlite_url, replica, tmp_path):
    group_id = make_group(sqlite_url, "Given", [("Jeans", JEANS_URL)])
    with db.session_scope(sqlite_url) as session:
        fetch_id = db.create_fetch(session, group_id).id
    result = run_crawl(crawl_env(sqlite_url, tmp_path, replica, GAP_DOWNLOAD_IMAGES="0"),
                       "-a", f"group={group_id}", "-a", f"fetch={fetch_id}", "-a", "_job=job-42")
    fetch = latest_fetch(sqlite_url)
    assert_ok(result, fetch)
    assert fetch.id == fetch_id and fetch.scrapyd_job_id == "job-42"


def test_interrupted_crawl_is_marked_failed(sqlite_url, replica, tmp_path):
    group_id = make_group(sqlite_url, "Interrupted", [("T-shirts", TSHIRTS_URL)])
    replica.add_fault(r"product\.do", delay=0.2)
    env = crawl_env(sqlite_url, tmp_path, replica)
    proc, _ = start_crawl_until(sqlite_url, env, group_id, lambda fetch: fetch.processed_products >= 2)
    os.kill(proc.pid, signal.SIGINT)  # what scrapyd's cancel.json does
    proc.communicate(timeout=60)
    fetch = latest_fetch(sqlite_url)
    assert fetch.status == "failed"
    assert fetch.error_message.startswith("cancelled")
    assert 2 <= fetch.processed_products < fetch.total_products


def image_requests(replica) -> list[dict]:
    return [e for e in replica.log if "/webcontent/" in e["path"]]


@pytest.mark.parametrize("block", ["403", "200 Access Denied page"])
def test_blocked_images_stop_the_fetch_at_once(block, sqlite_url, replica, tmp_path):
    """Three images in a row blocked: the fetch fails and not one more image is requested."""
    group_id = make_group(sqlite_url, "Images blocked", [("Jeans", JEANS_URL)])
    if block == "403":
        replica.add_fault(r"/webcontent/", status=403)
    else:
        replica.add_fault(r"/webcontent/", status=200, content_type="text/html",
                          body="<HTML><HEAD><TITLE>Access Denied</TITLE></HEAD><BODY>Reference #18.1</BODY></HTML>")
    result = run_crawl(crawl_env(sqlite_url, tmp_path, replica), "-a", f"group={group_id}")
    fetch = latest_fetch(sqlite_url)
    assert fetch.status == "failed", result.stderr[-3000:]
    assert fetch.error_message.startswith("blocked by Gap's bot protection: 3 images in a row"), fetch.error_message
    assert len(image_requests(replica)) == 3
    assert (fetch.processed_images, fetch.failed_images) == (3, 3)


def test_interrupted_during_images_stops_requesting_and_keeps_what_it_has(sqlite_url, replica, tmp_path):
    group_id = make_group(sqlite_url, "Interrupted images", [("Jeans", JEANS_URL)])
    replica.add_fault(r"/webcontent/", delay=0.05)
    env = crawl_env(sqlite_url, tmp_path, replica)
    proc, _ = start_crawl_until(sqlite_url, env, group_id, lambda fetch: fetch.processed_images >= 5, timeout=120)
    interrupted = time.time()
    os.kill(proc.pid, signal.SIGINT)
    _, stderr = proc.communicate(timeout=120)
    fetch = latest_fetch(sqlite_url)
    assert fetch.status == "failed", stderr[-3000:]
    assert fetch.error_message.startswith("cancelled")
    started_later = [e for e in image_requests(replica) if e["start_wall"] > interrupted]
    assert len(started_later) <= 1, f"{len(started_later)} images requested after Ctrl-C"
    # What was saved is recorded, and what is recorded is on disk.
    rows = product_rows(sqlite_url, fetch.id)
    recorded = {p for r in rows for p in (r.image_paths or [])}
    on_disk = {str(p.relative_to(tmp_path)) for p in tmp_path.glob("**/images/*")}
    assert recorded == on_disk and len(recorded) >= 5
    assert fetch.processed_images == len(image_requests(replica))


def test_ctrl_c_twice_still_ends_the_fetch_failed(sqlite_url, replica, tmp_path):
    """The second Ctrl-C forces Scrapy down without its spider_closed: the fetch must not stay active."""
    group_id = make_group(sqlite_url, "Forced", [("Jeans", JEANS_URL)])
    replica.add_fault(r"product\.do", delay=2)  # the graceful stop waits for the page in flight
    env = crawl_env(sqlite_url, tmp_path, replica)
    proc, _ = start_crawl_until(sqlite_url, env, group_id, lambda fetch: fetch.processed_products >= 1)
    lines: list[str] = []
    first_seen = threading.Event()

    def read_stderr() -> None:
        for line in proc.stderr:
            lines.append(line)
            if "shutting down gracefully" in line:
                first_seen.set()

    reader = threading.Thread(target=read_stderr, daemon=True)
    reader.start()
    os.kill(proc.pid, signal.SIGINT)
    # The second Ctrl-C once Scrapy has taken the first (not after a fixed pause): two signals sent too close
    # together can reach the process as one.
    assert first_seen.wait(timeout=30), "the crawl never acknowledged the first SIGINT:\n" + "".join(lines)[-3000:]
    os.kill(proc.pid, signal.SIGINT)
    proc.wait(timeout=60)
    reader.join(timeout=30)
    stderr = "".join(lines)
    assert "forcing unclean shutdown" in stderr, stderr[-3000:]
    fetch = latest_fetch(sqlite_url)
    assert fetch.status == "failed", stderr[-3000:]
    assert fetch.error_message.startswith("cancelled"), fetch.error_message
    assert fetch.completed_at is not None


def test_a_killed_crawl_does_not_block_the_next_fetch_of_its_group(pg_url, replica, tmp_path):
    """kill -9 runs no Python at all: the next crawl sees the recorded process is gone and fails that fetch."""
    group_id = make_group(pg_url, "Killed", [("Jeans", JEANS_URL)])
    replica.add_fault(r"product\.do", delay=0.3, times=3)
    env = crawl_env(pg_url, tmp_path, replica, GAP_DOWNLOAD_IMAGES="0")
    proc, killed = start_crawl_until(pg_url, env, group_id, lambda fetch: fetch.status == "fetching_product_page",
                                     stderr=subprocess.DEVNULL)
    assert killed.crawler_pid == proc.pid
    proc.kill()
    proc.wait(timeout=30)
    assert latest_fetch(pg_url).status == "fetching_product_page"  # nobody could tell the database

    result = run_crawl(env, "-a", f"group={group_id}")
    with db.session_scope(pg_url) as session:
        first = session.get(GapDataFetch, killed.id)
        assert first.status == "failed" and first.error_message == "crawler stopped unexpectedly"
        assert first.error_details["crawler_pid"] == proc.pid
        assert first.error_details["status_when_stopped"] == "fetching_product_page"
    assert_ok(result, latest_fetch(pg_url))


def test_a_category_without_products_fails_the_fetch(sqlite_url, replica, tmp_path):
    wrong = "https://www.gap.com/browse/category.do?cid=999999991"
    group_id = make_group(sqlite_url, "Wrong cid", [("Nothing here", wrong)])
    result = run_crawl(crawl_env(sqlite_url, tmp_path, replica), "-a", f"group={group_id}")
    fetch = latest_fetch(sqlite_url)
    assert (fetch.status, result.returncode) == ("failed", 1), result.stderr[-2000:]
    assert fetch.error_message == (
        "the listing found no products on any page ('Nothing here'): check the category URLs (cid, department)"
    )
    assert not any("product.do" in e["path"] for e in replica.log)


def test_gap_names_given_for_one_run_set_the_scrapy_settings():
    """`-s GAP_DOWNLOAD_DELAY=2` and scrapyd's `setting=GAP_DOWNLOAD_DELAY=2` set DOWNLOAD_DELAY (were ignored)."""
    from scrapy.settings import Settings

    from gapspider.spiders.gap import GapSpider

    settings = Settings({"DOWNLOAD_DELAY": 0.2, "RETRY_TIMES": 3}, priority="project")
    settings.setdict({"GAP_DOWNLOAD_DELAY": "2", "GAP_RETRY_TIMES": "5", "GAP_USER_AGENT": "ua"}, priority="cmdline")
    GapSpider.update_settings(settings)
    assert settings.getfloat("DOWNLOAD_DELAY") == 2.0
    assert settings.getint("RETRY_TIMES") == 5
    assert settings.get("USER_AGENT") == "ua"

    settings = Settings({"DOWNLOAD_DELAY": 0.2}, priority="project")
    settings.set("DOWNLOAD_DELAY", 1.0, priority="cmdline")  # -s DOWNLOAD_DELAY=1 still works
    GapSpider.update_settings(settings)
    assert settings.getfloat("DOWNLOAD_DELAY") == 1.0


def test_no_setting_given_for_one_run_raises_the_concurrency():
    """The spider's chain sends one request at a time by itself, so the crawl test above cannot tell whether the
    forced settings still hold: -s / scrapyd setting= overrides of the concurrency are checked here."""
    from scrapy.settings import Settings

    from gapspider.spiders.gap import DOWNLOAD_SLOT, GapSpider

    settings = Settings({"DOWNLOAD_DELAY": 0}, priority="project")
    settings.setdict({"CONCURRENT_REQUESTS": 16, "CONCURRENT_REQUESTS_PER_DOMAIN": 8, "CONCURRENT_REQUESTS_PER_IP": 8,
                      "DOWNLOAD_SLOTS": {DOWNLOAD_SLOT: {"concurrency": 8, "delay": 0}}}, priority="cmdline")
    GapSpider.update_settings(settings)
    assert settings.getint("CONCURRENT_REQUESTS") == 1
    assert settings.getint("CONCURRENT_REQUESTS_PER_DOMAIN") == 1
    assert settings.getint("CONCURRENT_REQUESTS_PER_IP") == 0
    slot = settings.getdict("DOWNLOAD_SLOTS")[DOWNLOAD_SLOT]
    assert slot["concurrency"] == 1 and slot["delay"] > 0 and settings.getfloat("DOWNLOAD_DELAY") > 0


def test_the_spider_keeps_only_the_chosen_image_urls_of_each_product(sqlite_url, tmp_path, monkeypatch):
    """Each product keeps its page URL and its few image URLs for the later stages, not the listing's image entries
    (22-56 dicts a colour, ~18 kB): that was kept for the whole crawl, 18 MB a thousand products."""
    from scrapy.http import Request, TextResponse
    from scrapy.utils.test import get_crawler

    from gapspider.items import ProductImagesItem, ProductItem
    from gapspider.listing import parse_listing_response, select_image_paths
    from gapspider.spiders.gap import GapSpider

    monkeypatch.setenv("DATABASE_URL", sqlite_url)
    monkeypatch.setenv("GAPSPIDER_OUTPUT_DIR", str(tmp_path))
    group_id = make_group(sqlite_url, "Jeans", [("Jeans", JEANS_URL)])
    with db.session_scope(sqlite_url) as session:
        fetch_id = db.create_fetch(session, group_id).id
    crawler = get_crawler(GapSpider, {"GAP_IMAGE_BASE": "http://images.example", "GAP_MAX_IMAGES_PER_PRODUCT": 3,
                                      "GAP_IMAGE_RENDITIONS": "Z,VLI"})
    spider = crawler._create_spider(fetch=str(fetch_id))
    spider._claim_fetch()
    body = JEANS_FILE.read_bytes()
    response = TextResponse("http://api.example/listing", body=body, encoding="utf-8",
                            request=Request("http://api.example/listing", meta={"page_index": 0, "page_number": 0}))
    produced = list(spider.parse_listing(response))
    listed = {colour.cc_id: colour for colour in parse_listing_response(body.decode("utf-8")).colours}
    assert sum(isinstance(item, ProductItem) for item in produced) == len(listed) == len(spider.products)
    for cc_id, product in spider.products.items():
        assert set(product) == {"url", "image_urls"}
        expected = [f"http://images.example/{c['path'].lstrip('/')}"
                    for c in select_image_paths(listed[cc_id].images, ["Z", "VLI"], 3)]
        assert product["image_urls"] == expected and 0 < len(expected) <= 3
    # stage 3 hands those URLs to the images pipeline, one item per product
    spider.all_stages_done = False
    items = list(spider._start_images())
    assert all(isinstance(item, ProductImagesItem) for item in items)
    assert {item.cc_id: item.file_urls for item in items} == {
        cc_id: product["image_urls"] for cc_id, product in spider.products.items()}
    with db.session_scope(sqlite_url) as session:  # the stage was recorded on the fetch, in the real database
        fetch = session.get(GapDataFetch, fetch_id)
        assert (fetch.status, fetch.total_images) == ("fetching_product_image", sum(len(i.file_urls) for i in items))


def test_finding_a_products_row_uses_the_indexes_not_every_row_of_the_fetch(sqlite_url):
    """Each saved page and each product's images look up their ProductData row: by the cc_id index and the
    (fetch, product) unique index. The join it was read every row of the fetch per lookup on SQLite."""
    from pipelines.pages import product_data_id

    group_id = make_group(sqlite_url, "Plan", [("Jeans", JEANS_URL)])
    with db.session_scope(sqlite_url) as session:
        fetch = db.create_fetch(session, group_id)
        for n in range(3):
            product = Product(style_id="123456", cc_id=f"12345600{n}", style_name="Tee", cc_name=f"Colour {n}")
            session.add(ProductData(product=product, gap_data_fetch_id=fetch.id, folder_timestamp=fetch.folder_timestamp,
                                    position=n))
        session.flush()
        wanted = session.query(ProductData).join(Product).filter(Product.cc_id == "123456001").one().id
        plans = []

        def explain(conn, cursor, statement, parameters, context, executemany):
            if "product_data.id" in statement and "EXPLAIN" not in statement:
                plans.append(" ".join(str(r[-1]) for r in cursor.connection.execute(
                    "EXPLAIN QUERY PLAN " + statement, parameters).fetchall()))

        from sqlalchemy import event

        engine = session.get_bind()
        event.listen(engine, "before_cursor_execute", explain)
        try:
            assert product_data_id(session, fetch.id, "123456001") == wanted
            assert product_data_id(session, fetch.id, "999999999") is None
        finally:
            event.remove(engine, "before_cursor_execute", explain)
    assert plans and all("(gap_data_fetch_id=? AND product_id=?)" in plan and "ix_product_cc_id" in plan
                         for plan in plans), plans
