"""The whole dashboard in Debian's Chromium (Playwright): group, page from a URL, Fetch Data, live progress,
success, products with thumbnails, filters, SQL download. Real scrapyd, real spider, replica, PostgreSQL.

Screenshots go to test-artifacts/screenshots/ (or DASHBOARD_SCREENSHOTS_DIR).
"""

from __future__ import annotations

import os
import re
from pathlib import Path
from urllib.parse import parse_qs, urlsplit

import pytest

from gapspider.config import PROJECT_ROOT

from dashboard import create_app
from dashboard.scrapyd_server import ScrapydServer
from dashboard.testing import LiveServer, wait_scrapyd_idle
from tests.crawl import JEANS_URL, crawl_env

pytestmark = pytest.mark.browser

CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-dev-shm-usage",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]
SHOTS = Path(os.environ.get("DASHBOARD_SCREENSHOTS_DIR") or PROJECT_ROOT / "test-artifacts" / "screenshots")


@pytest.fixture(scope="module")
def stack(pg_session_url, replica_session, tmp_path_factory):
    """scrapyd + the dashboard on free loopback ports, as `make dashboard` runs them."""
    if not os.access(CHROMIUM, os.X_OK):
        pytest.fail(f"{CHROMIUM} is missing: apt-get install -y chromium (make chromium)")
    output = tmp_path_factory.mktemp("browser-output")
    env = crawl_env(pg_session_url, output, replica_session, GAP_MAX_IMAGES_PER_PRODUCT="2")
    server = ScrapydServer(env=env, state_dir=tmp_path_factory.mktemp("browser-scrapyd")).start()
    app = create_app(
        {
            "SECRET_KEY": "browser-test",
            "DATABASE_URL": pg_session_url,
            "OUTPUT_ROOT": str(output),
            "SCRAPYD_URL": server.url,
            "SCRAPYD_TIMEOUT": 30,
            # A little politeness delay, so the progress can be seen moving (about 110 requests).
            "SCRAPYD_JOB_SETTINGS": {"GAP_DOWNLOAD_DELAY": "0.1"},
            "DASHBOARD_CHECK_INTERVAL": 2,
            "DASHBOARD_PASSWORD": "",
            "DASHBOARD_API_TOKEN": "",
        }
    )
    live = LiveServer(app).start()
    yield live, server
    live.stop()
    wait_scrapyd_idle(server.client(), timeout=60)
    server.stop()


@pytest.fixture
def browser_page(stack, pg_url):
    from playwright.sync_api import sync_playwright

    SHOTS.mkdir(parents=True, exist_ok=True)
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        context = browser.new_context(viewport={"width": 1360, "height": 900}, accept_downloads=True)
        page = context.new_page()
        errors: list[str] = []
        page.on("pageerror", lambda exc: errors.append(str(exc)))
        page.on("console", lambda msg: errors.append(msg.text) if msg.type == "error" and "CSP" in msg.text else None)
        page.on("dialog", lambda dialog: dialog.accept())
        page.set_default_timeout(20_000)
        yield page, errors
        context.close()
        browser.close()


def shot(page, name: str, full_page: bool = False) -> None:
    page.screenshot(path=str(SHOTS / f"{name}.png"), full_page=full_page)


def test_create_fetch_watch_and_browse_products(stack, browser_page, tmp_path):
    from playwright.sync_api import expect

    live, server = stack
    page, errors = browser_page
    base = live.url

    page.goto(base + "/")
    expect(page.get_by_text("No pages groups yet")).to_be_visible()
    shot(page, "01-empty-index")

    # A group, then a page from its Gap web URL (a wrong URL first).
    page.get_by_role("link", name="Create the first group").click()
    page.fill("#title", "Women's denim")
    page.get_by_role("button", name="Create group").click()
    expect(page.locator("h1")).to_have_text("Women's denim")

    page.fill("#web_page_url", "https://www.gap.com/browse/women/jeans")
    page.get_by_role("button", name="Add page").click()
    expect(page.locator(".field.has-error .errors")).to_contain_text("The URL has no cid (category id)")
    shot(page, "02-page-url-error")

    page.fill("#web_page_url", JEANS_URL)
    expect(page.locator("#derived code")).to_contain_text("/v2/catalog_search_products/v2/category_products?cid=5664")
    shot(page, "03-page-url-derived")
    page.get_by_role("button", name="Add page").click()
    expect(page.locator("#pages tbody tr")).to_have_count(1)
    expect(page.locator("#pages tbody")).to_contain_text("Women / Jeans")
    expect(page.locator("#pages tbody .mono")).to_contain_text("api.gap.com/v2/catalog_search_products")
    shot(page, "04-group-with-page")

    # Fetch Data: we land on the fetch page, the button is disabled while the fetch is active.
    fetch_button = page.locator("[data-fetch-button]")
    expect(fetch_button).to_be_enabled()
    fetch_button.click()
    page.wait_for_url(re.compile(r"/fetches/\d+$"))
    fetch_url = page.url
    expect(page.locator(".flash-success")).to_contain_text("is scheduled")
    expect(page.locator("[data-fetch-button]")).to_be_disabled()
    expect(page.locator("#cancel-button")).to_be_visible()
    shot(page, "05-fetch-scheduled")

    # Progress moves without reloading the page.
    page.evaluate("window.__sameDocument = true")
    page.wait_for_function(
        """() => {
            const n = document.querySelector('[data-count="products"]');
            const done = parseInt((n.textContent || '0').split('/')[0].replace(/,/g, ''), 10);
            return done > 0 && document.querySelector('#fetch[data-live]');
        }""",
        timeout=120_000,
    )
    assert page.evaluate("window.__sameDocument === true"), "the page reloaded instead of updating"
    bar_width = page.evaluate(
        "parseFloat(document.querySelector('[data-progress=\"products\"] span').style.width)"
    )
    assert bar_width > 0
    page.wait_for_timeout(700)  # let the bars finish their transition for the picture
    shot(page, "06-fetch-progress")

    # Meanwhile, the index shows the running fetch with its bar and a disabled Fetch Data.
    index = page.context.new_page()
    index.goto(base + "/")
    row = index.locator("#groups-table tbody tr").first
    expect(row.locator("[data-fetch-button]")).to_be_disabled()
    expect(row.locator(".progress")).to_be_visible()
    shot(index, "07-index-while-fetching")
    index.close()

    # Wait for success: the page reloads itself once, showing results and enabling the button.
    page.wait_for_selector("#fetch[data-status='succeeded'], #fetch[data-status='failed']", timeout=240_000)
    if page.locator("#fetch[data-status='failed']").count():
        shot(page, "08-fetch-failed", full_page=True)
        pytest.fail("the fetch failed: " + page.locator("[data-error-box]").inner_text())
    expect(page.locator("#fetch .badge").first).to_contain_text("Succeeded")
    expect(page.locator("[data-fetch-button]")).to_be_enabled()
    expect(page.locator("[data-step='succeeded']")).to_have_attribute("data-state", "done")
    shot(page, "08-fetch-succeeded")

    # Products with thumbnails from the downloaded images.
    rows = page.locator("#products-table tbody tr")
    expect(rows).to_have_count(53)
    page.locator("#products-table").scroll_into_view_if_needed()
    page.wait_for_function(
        """() => [...document.querySelectorAll('#products-table img.thumb')].slice(0, 12)
                 .every(img => img.complete && img.naturalWidth > 0)""",
        timeout=30_000,
    )
    broken = page.evaluate(
        """async () => {
            const imgs = [...document.querySelectorAll('#products-table img.thumb')];
            await Promise.all(imgs.map(img => { img.loading = 'eager'; return img.decode().catch(() => null); }));
            return imgs.filter(img => !(img.naturalWidth > 0)).length;
        }"""
    )
    assert page.locator("#products-table img.thumb").count() == 53
    assert broken == 0
    first = rows.first
    assert first.locator(".product-name").inner_text().strip()
    assert re.search(r"\$\d+\.\d\d", first.locator(".price").inner_text())
    assert first.locator(".size").count() > 0  # sizes from the parsed page
    page.locator("#products").scroll_into_view_if_needed()
    shot(page, "09-products")
    shot(page, "10-fetch-full-page", full_page=True)

    # Filter by availability and search.
    page.select_option("select[name=availability]", "partial")
    page.wait_for_url(re.compile(r"availability=partial"))
    badges = page.locator("#products-table tbody .badge").all_inner_texts()
    assert badges and set(badges) == {"Some sizes sold out"}
    page.locator("#products").scroll_into_view_if_needed()
    shot(page, "11-products-filtered")
    name = first_name = page.locator("#products-table tbody tr .product-name").first.inner_text().strip()
    page.select_option("select[name=availability]", "")
    # Every submit of the filters form has q= in its URL: wait for the values of this submit, not any q=.
    page.wait_for_url(lambda url: query_of(url).get("availability") == [""])
    word = name.split()[0]
    page.fill("input[name=q]", word)
    page.get_by_role("button", name="Search").click()
    page.wait_for_url(lambda url: query_of(url).get("q") == [word])
    names = page.locator("#products-table tbody .product-name").all_inner_texts()
    assert names and all(word.lower() in n.lower() for n in names), (first_name, names[:5])

    # The crawl log through the dashboard.
    page.goto(fetch_url)
    page.locator("details.log-panel summary").click()
    expect(page.locator("pre.log")).to_contain_text("Spider opened", timeout=10_000)
    shot(page, "12-crawl-log")

    # The SQL file.
    with page.expect_download() as download_info:
        page.locator("#download-sql").click()
    target = tmp_path / "out.sql"
    download_info.value.save_as(target)
    assert "INSERT" in target.read_text(errors="replace").upper()

    # Times say their zone (folder names and logs are UTC, the page is in the reader's zone).
    started = page.locator("dl.facts time").first.inner_text().strip()
    assert re.search(r"(UTC|GMT[+-]?\d*|[A-Z]{2,5})$", started), started

    # On a phone: nothing wider than the screen, products as cards, the scrapyd dot without its words.
    page.set_viewport_size({"width": 390, "height": 844})
    for url in (fetch_url, base + "/", base + "/fetches", page_url_of_group(page, base)):
        page.goto(url)
        widths = page.evaluate("[document.documentElement.scrollWidth, document.documentElement.clientWidth]")
        assert widths[0] <= widths[1], (url, widths)
    page.goto(fetch_url)
    expect(page.locator("#products-table thead")).to_be_hidden()
    expect(page.locator("#products-table tbody tr").first.locator("td[data-label=Price]")).to_be_visible()
    shot(page, "13-mobile-fetch")
    page.locator("#products-table").scroll_into_view_if_needed()
    shot(page, "14-mobile-products")

    assert not errors, errors


def query_of(url: str) -> dict[str, list[str]]:
    return parse_qs(urlsplit(url).query, keep_blank_values=True)


def page_url_of_group(page, base: str) -> str:
    page.goto(base + "/")
    return base + page.locator("#groups-table tbody tr .title-cell a").first.get_attribute("href")


def test_a_long_unbroken_title_keeps_every_row_usable(stack, browser_page, pg_session_url):
    """One group or page title without spaces (255 letters) wraps: it used to widen the tables until every
    group's Fetch Data, Rename and Delete buttons (and each page's Edit, Delete) were out of sight."""
    from gapspider import db
    from gapspider.models import FAILED, GapDataFetch
    from tests.crawl import make_group

    live, _server = stack
    page, errors = browser_page
    long_title = "Ü" * 120 + "-" + "Z" * 130
    group_id = make_group(pg_session_url, long_title, [("x" * 250, JEANS_URL)])
    with db.session_scope(pg_session_url) as session:
        session.add(GapDataFetch(pages_group_id=group_id, status=FAILED, folder_timestamp="20260101000000", error_message="test"))
    checked: dict[str, tuple[int, int]] = {}
    for path in ("/", f"/groups/{group_id}", "/fetches"):
        page.goto(live.url + path)
        widths = page.evaluate("[document.documentElement.scrollWidth, document.documentElement.clientWidth]")
        assert widths[0] <= widths[1], (path, widths)
        wraps = page.locator(".table-wrap").all()
        for wrap in wraps:
            assert wrap.evaluate("w => w.scrollWidth <= w.clientWidth"), path
        viewport_width = page.viewport_size["width"]
        buttons = page.locator("main .actions .btn").all()
        for button in buttons:
            box = button.bounding_box()
            assert box and box["x"] + box["width"] <= viewport_width, (path, button.inner_text())
        checked[path] = (len(wraps), page.locator("main td .actions .btn").count())
    # The loops above looked at something: every page has its table, and the buttons checked include the group
    # row's (Fetch Data, Rename, Delete) and the page row's (Edit, Delete).
    assert all(wraps for wraps, _row_buttons in checked.values()), checked
    assert checked["/"][1] >= 3 and checked[f"/groups/{group_id}"][1] >= 2, checked
    shot(page, "15-long-title")
    assert not errors, errors
