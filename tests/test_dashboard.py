"""Dashboard routes with Flask's test client on PostgreSQL.

scrapyd is a closed loopback port here ("scrapyd down"); scheduling and cancelling against a real scrapyd are in
tests/test_scrapyd_dashboard.py, the whole flow in a browser in tests/test_browser_dashboard.py.
"""

from __future__ import annotations

import datetime as dt
import os
import re

import pytest
from sqlalchemy import func, insert, select

from gapspider import db
from gapspider.groups import add_page, create_group
from gapspider.models import FAILED, PENDING, SUCCEEDED, GapDataFetch, GapPage, PagesGroup, Product, ProductData

from dashboard import create_app
from dashboard.scrapyd_server import free_port
from dashboard.services import NEVER_STARTED, check_active_fetches
from dashboard.testing import csrf_token, flashes, post_form
from tests.crawl import JEANS_URL, TSHIRTS_URL

JEANS_API = (
    "https://api.gap.com/v2/catalog_search_products/v2/category_products?cid=5664&pageSize=200&pageNumber=0"
)


@pytest.fixture
def output_root(tmp_path):
    root = tmp_path / "out"
    root.mkdir()
    return root


def make_app(pg_url, output_root, **overrides):
    """The dashboard on the test database with scrapyd down (nothing listens on its port); `overrides` change config."""
    return create_app(
        {
            "TESTING": True,
            "SECRET_KEY": "test-secret",
            "DATABASE_URL": pg_url,
            "OUTPUT_ROOT": str(output_root),
            "SCRAPYD_URL": f"http://127.0.0.1:{free_port()}",  # nothing listens: scrapyd is down
            "SCRAPYD_TIMEOUT": 3,
            "DASHBOARD_CHECK_INTERVAL": 0,
            "DASHBOARD_PASSWORD": "",
            "DASHBOARD_API_TOKEN": "",
            **overrides,
        }
    )


@pytest.fixture
def app(pg_url, output_root):
    return make_app(pg_url, output_root)


@pytest.fixture
def client(app):
    return app.test_client()


def count(db_url, model, *where) -> int:
    with db.session_scope(db_url) as session:
        return session.scalar(select(func.count()).select_from(model).where(*where)) or 0


def make_group(db_url, title="Women's denim", urls=(("Women / Jeans", JEANS_URL),)) -> int:
    with db.session_scope(db_url) as session:
        group = create_group(session, title)
        for page_title, url in urls:
            add_page(session, group, page_title, url)
        return group.id


def active_fetch_for(db_url, group_id, status=PENDING, job_id="not-a-real-job") -> int:
    with db.session_scope(db_url) as session:
        fetch = db.create_fetch(session, group_id, scrapyd_job_id=job_id)
        db.set_fetch(session, fetch.id, status=status)
        return fetch.id


PARSED = {
    "title": "High Rise '90s Loose Jeans",
    "color": {"name": "Medium Indigo", "cc_id": "796255962"},
    "sizes": [
        {"label": "24", "available": True},
        {"label": "25", "available": False},
        {"label": "26", "available": True},
    ],
    "price": {"current": "49.97", "regular": "89.95", "currency": "USD", "percent_off": "44"},
    "discounts": [
        {"text": "Extra 20% off with code SAVE", "percent": 20, "applies": True, "excluded": False},
        {"text": "Excluded from promotions", "percent": None, "applies": None, "excluded": True},
    ],
    "available": True,
    "images": [],
    "warnings": [],
    "blocked": False,
}


def seed_finished_fetch(db_url, output_root, *, name=PARSED["title"]) -> tuple[int, int]:
    """A succeeded fetch with three products, their image files and an SQL file (what the spider leaves)."""
    group_id = make_group(db_url)
    ts = "20261203201500"
    folder = output_root / str(group_id) / ts
    sql = folder / f"gap_data_{ts}.sql"
    with db.session_scope(db_url) as session:
        fetch = db.create_fetch(session, group_id, folder_timestamp=ts)
        rows = [
            ("796255962", name, "Medium Indigo", dict(PARSED, title=name), "49.97", "89.95"),
            ("796255963", "Low Rise Jeans", "Black", dict(
                PARSED,
                title="Low Rise Jeans",
                color={"name": "Black", "cc_id": "796255963"},
                sizes=[{"label": "24", "available": False}, {"label": "25", "available": False}],
                available=False,
                discounts=[],
                price={"current": "59.95", "regular": "59.95", "currency": "USD", "percent_off": None},
            ), "59.95", "59.95"),
            ("796255964", "Barrel Jeans", "Light Wash", None, "39.99", "79.95"),
        ]
        for position, (cc, style_name, cc_name, parsed, effective, regular) in enumerate(rows):
            product = Product(style_id="606303", cc_id=cc, style_name=style_name, cc_name=cc_name)
            session.add(product)
            session.flush()
            image_dir = folder / cc / "images"
            image_dir.mkdir(parents=True)
            (image_dir / "0-vli.jpg").write_bytes(b"\xff\xd8\xff\xe0fake-jpeg")
            session.add(
                ProductData(
                    product_id=product.id,
                    gap_data_fetch_id=fetch.id,
                    folder_timestamp=ts,
                    position=position,
                    effective_price=effective,
                    regular_price=regular,
                    inventory_status="IN_STOCK",
                    parsed_data=parsed,
                    image_paths=[f"{group_id}/{ts}/{cc}/images/0-vli.jpg"],
                    html_file_path=str(folder / f"{cc}.html"),
                    product_page_url=f"https://www.gap.com/browse/product.do?pid={cc}",
                )
            )
        (folder / "796255962.html").write_text("<html>saved page</html>")
        sql.write_text("BEGIN;\n-- gapspider output\nCOMMIT;\n")
        db.set_fetch(
            session,
            fetch.id,
            status=SUCCEEDED,
            total_pages=1,
            processed_pages=1,
            total_products=3,
            processed_products=3,
            parsed_products=2,
            total_images=3,
            processed_images=3,
            output_path=str(sql),
            started_at=dt.datetime.now(dt.timezone.utc) - dt.timedelta(seconds=75),
            completed_at=dt.datetime.now(dt.timezone.utc),
        )
        return group_id, fetch.id


# ---------------------------------------------------------------- groups


def test_index_shows_an_empty_state_then_groups(client, pg_url):
    page = client.get("/")
    assert page.status_code == 200
    assert "No pages groups yet" in page.get_data(as_text=True)

    group_id = make_group(pg_url, urls=(("Women / Jeans", JEANS_URL), ("Men / T-Shirts", TSHIRTS_URL)))
    html = client.get("/").get_data(as_text=True)
    row = re.search(rf'<tr data-group-id="{group_id}">(.*?)</tr>', html, re.S).group(1)
    assert "Women&#39;s denim" in row
    assert '<td class="num" data-label="Pages">2</td>' in row
    assert "never fetched" in row
    assert "Fetch Data" in row and "disabled" not in row.split("Fetch Data")[0].rsplit("<button", 1)[1]


def test_create_group_and_refuse_a_duplicate_title(client, pg_url):
    response = post_form(client, "/groups/new", {"title": "  Women's denim  "})
    assert response.status_code == 302
    group_id = int(response.headers["Location"].rsplit("/", 1)[1])
    page = client.get(f"/groups/{group_id}").get_data(as_text=True)
    assert ("success", "Group “Women&#39;s denim” created. Now add its Gap category pages.") in flashes(page)

    again = post_form(client, "/groups/new", {"title": "Women's denim"})
    assert again.status_code == 422
    assert "already exists" in again.get_data(as_text=True)
    empty = post_form(client, "/groups/new", {"title": "   "})
    assert empty.status_code == 422
    assert "The group needs a title." in empty.get_data(as_text=True)
    assert count(pg_url, PagesGroup) == 1


def test_rename_and_delete_a_group(client, pg_url):
    group_id = make_group(pg_url)
    other = make_group(pg_url, title="Men", urls=())
    clash = post_form(client, f"/groups/{group_id}/edit", {"title": "Men"})
    assert clash.status_code == 422 and "already exists" in clash.get_data(as_text=True)
    assert post_form(client, f"/groups/{group_id}/edit", {"title": "Denim"}).status_code == 302
    with db.session_scope(pg_url) as session:
        assert session.get(PagesGroup, group_id).title == "Denim"

    with db.session_scope(pg_url) as session:
        db.set_fetch(session, db.create_fetch(session, group_id).id, status=FAILED)
    confirm = re.search(r'data-confirm="([^"]*)"', client.get(f"/groups/{group_id}").get_data(as_text=True)).group(1)
    assert "with its 1 page and 1 fetch?" in confirm  # it said "1 pages and 1 fetches"

    deleted = post_form(client, f"/groups/{group_id}/delete", follow_redirects=True)
    assert "Group “Denim” deleted" in deleted.get_data(as_text=True)
    assert count(pg_url, PagesGroup) == 1 and count(pg_url, GapPage) == 0
    assert client.get(f"/groups/{group_id}").status_code == 404
    assert client.get(f"/groups/{other}").status_code == 200


# ---------------------------------------------------------------- pages


def test_add_a_page_from_a_gap_url_shows_the_listing_api_url(client, pg_url):
    group_id = make_group(pg_url, urls=())
    response = post_form(client, f"/groups/{group_id}/pages/new", {"web_page_url": JEANS_URL, "title": ""})
    assert response.status_code == 303
    html = client.get(f"/groups/{group_id}").get_data(as_text=True)
    assert ("success", "Page “Women / Jeans” added.") in flashes(html)
    with db.session_scope(pg_url) as session:
        page = session.scalars(select(GapPage)).one()
        assert page.title == "Women / Jeans"  # derived from the URL path
        assert page.api_url.startswith(JEANS_API)
        assert "department=136" in page.api_url
    assert page.api_url.replace("&", "&amp;") in html
    assert "cid 5664 · department 136" in html


@pytest.mark.parametrize(
    ("url", "message"),
    [
        ("https://example.com/browse/category.do?cid=5664", "example.com is not a Gap site"),
        ("https://www.gap.com/browse/women/jeans", "The URL has no cid (category id)"),
        ("https://www.gap.com/browse/product.do?pid=796255962", "This is a product page"),
        ("gap.com jeans", "This is not a web URL"),
        ("https://www.gap.com/browse/category.do?cid=abc", "is not a number"),
    ],
)
def test_a_url_that_is_not_a_gap_category_page_gets_a_form_error(client, pg_url, url, message):
    group_id = make_group(pg_url, urls=())
    response = post_form(client, f"/groups/{group_id}/pages/new", {"web_page_url": url, "title": "X"})
    assert response.status_code == 422
    html = response.get_data(as_text=True)
    errors = re.findall(r'<ul class="errors"><li>(.*?)</li>', html)
    assert any(message in e.replace("&#39;", "'") for e in errors), errors
    assert count(pg_url, GapPage) == 0


def test_edit_and_delete_a_page(client, pg_url):
    group_id = make_group(pg_url)
    with db.session_scope(pg_url) as session:
        page_id = session.scalars(select(GapPage.id)).one()
    form = client.get(f"/pages/{page_id}/edit").get_data(as_text=True)
    assert JEANS_API.split("?")[0] in form  # the derived URL is shown on the edit form

    bad = post_form(client, f"/pages/{page_id}/edit", {"web_page_url": "https://www.gap.com/", "title": "T"})
    assert bad.status_code == 422
    ok = post_form(client, f"/pages/{page_id}/edit", {"web_page_url": TSHIRTS_URL, "title": "Tees"})
    assert ok.status_code == 303
    with db.session_scope(pg_url) as session:
        page = session.get(GapPage, page_id)
        assert (page.title, page.web_page_parameters["cid"]) == ("Tees", "5225")
        assert "cid=5225" in page.api_url

    assert post_form(client, f"/pages/{page_id}/delete").status_code == 303
    assert count(pg_url, GapPage) == 0
    assert client.get(f"/groups/{group_id}").status_code == 200


def test_derive_preview(client):
    ok = client.get("/pages/derive", query_string={"url": JEANS_URL}).get_json()
    assert ok["ok"] and ok["cid"] == "5664" and ok["department"] == "136" and ok["title"] == "Women / Jeans"
    assert ok["api_url"].startswith(JEANS_API)
    bad = client.get("/pages/derive", query_string={"url": "https://www.gap.com/"}).get_json()
    assert bad == {"ok": False, "error": bad["error"]} and "cid" in bad["error"]


# ---------------------------------------------------------------- security


def test_every_form_needs_its_csrf_token(client, pg_url):
    group_id = make_group(pg_url)
    fetches_before = count(pg_url, GapDataFetch)
    for url, data in [
        ("/groups/new", {"title": "Forged"}),
        (f"/groups/{group_id}/fetch", {}),
        (f"/groups/{group_id}/delete", {}),
        (f"/groups/{group_id}/pages/new", {"web_page_url": TSHIRTS_URL}),
    ]:
        response = client.post(url, data=data)
        assert response.status_code == 303, url
        for wrong in ("", "forged-token"):
            assert client.post(url, data=dict(data, csrf_token=wrong)).status_code == 303
    html = client.get("/").get_data(as_text=True)
    assert any("nothing was changed" in text for _c, text in flashes(html))
    assert count(pg_url, PagesGroup) == 1 and count(pg_url, GapPage) == 1
    assert count(pg_url, GapDataFetch) == fetches_before


def test_security_headers_and_cookie_flags(client):
    response = client.get("/")
    csp = response.headers["Content-Security-Policy"]
    assert "script-src 'self'" in csp and "frame-ancestors 'none'" in csp and "unsafe-inline" not in csp.split(
        "style-src-attr"
    )[0]
    assert response.headers["X-Content-Type-Options"] == "nosniff"
    assert response.headers["X-Frame-Options"] == "DENY"
    html = response.get_data(as_text=True)
    assert "<script>" not in html  # no inline script: the CSP forbids it


def test_script_in_a_product_name_is_shown_as_text(client, pg_url, output_root):
    evil = "<script>alert(1)</script>"
    group_id, fetch_id = seed_finished_fetch(pg_url, output_root, name=evil)
    with db.session_scope(pg_url) as session:
        session.get(PagesGroup, group_id).title = f"Group {evil}"
    for url in (f"/fetches/{fetch_id}", f"/groups/{group_id}", "/", "/fetches"):
        html = client.get(url).get_data(as_text=True)
        assert evil not in html, url
    html = client.get(f"/fetches/{fetch_id}").get_data(as_text=True)
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in html


def test_files_are_served_only_from_the_output_root(client, pg_url, output_root, tmp_path):
    group_id, _fetch_id = seed_finished_fetch(pg_url, output_root)
    good = f"{group_id}/20261203201500/796255962/images/0-vli.jpg"
    response = client.get(f"/files/{good}")
    assert response.status_code == 200
    assert response.mimetype == "image/jpeg"
    assert response.data.startswith(b"\xff\xd8")

    secret = tmp_path / "secret.jpg"
    secret.write_bytes(b"\xff\xd8secret")
    (output_root / "escape.jpg").symlink_to(secret)
    for path in [
        "../secret.jpg",
        f"{group_id}/../../secret.jpg",
        "%2e%2e/secret.jpg",
        f"{group_id}/20261203201500/..%2f..%2f..%2fsecret.jpg",
        "escape.jpg",  # a symlink out of the root
        str(secret).lstrip("/"),
        f"{group_id}/20261203201500/796255962.html",  # not an image
        f"{group_id}/20261203201500/gap_data_20261203201500.sql",
        f"{group_id}/20261203201500/nope.jpg",
    ]:
        assert client.get(f"/files/{path}").status_code == 404, path
    assert client.get("/files//etc/passwd", follow_redirects=True).status_code == 404


def test_login_when_a_password_is_set(pg_url, output_root):
    app = make_app(pg_url, output_root, DASHBOARD_PASSWORD="s3cret", DASHBOARD_API_TOKEN="api-token")
    client = app.test_client()
    make_group(pg_url)
    response = client.get("/groups/1")
    assert response.status_code == 302 and "/login" in response.headers["Location"]
    assert client.get("/static/app.css").status_code == 200
    assert client.get("/api/groups").status_code == 401
    assert client.get("/api/groups", headers={"Authorization": "Bearer wrong"}).status_code == 401
    assert client.get("/api/groups", headers={"Authorization": "Bearer api-token"}).status_code == 200

    token = csrf_token(client, "/login")
    wrong = client.post("/login?next=/groups/1", data={"password": "nope", "csrf_token": token})
    assert wrong.status_code == 401 and "Wrong password." in wrong.get_data(as_text=True)
    ok = client.post("/login?next=/groups/1", data={"password": "s3cret", "csrf_token": token})
    assert ok.status_code == 303 and ok.headers["Location"] == "/groups/1"
    assert client.get("/groups/1").status_code == 200
    assert client.get("/api/groups").status_code == 200  # the logged-in session works for the API too
    evil_next = client.post("/login?next=//evil.example/", data={"password": "s3cret", "csrf_token": csrf_token(client, "/")})
    assert evil_next.headers["Location"] == "/"

    assert post_form(client, "/logout").status_code == 303
    assert client.get("/groups/1").status_code == 302


def test_api_without_a_token_configured_says_to_sign_in(pg_url, output_root):
    """A password but no DASHBOARD_API_TOKEN: the 401 no longer asks for a bearer token nobody has."""
    app = make_app(pg_url, output_root, DASHBOARD_PASSWORD="s3cret", DASHBOARD_API_TOKEN="")
    response = app.test_client().get("/api/groups")
    assert response.status_code == 401
    error = response.get_json()["error"]
    assert "sign in" in error and "Bearer <DASHBOARD_API_TOKEN>" not in error


# ---------------------------------------------------------------- Fetch Data


def test_fetch_data_with_scrapyd_down_fails_the_new_fetch_and_says_why(client, pg_url):
    group_id = make_group(pg_url)
    response = post_form(client, f"/groups/{group_id}/fetch")
    assert response.status_code == 303
    with db.session_scope(pg_url) as session:
        fetch = session.scalars(select(GapDataFetch)).one()
        assert fetch.status == FAILED
        assert fetch.error_message.startswith("could not schedule the crawl: scrapyd is unreachable at http://127.0.0.1:")
        assert fetch.error_details["stage"] == "schedule"
        assert fetch.completed_at is not None and fetch.folder_timestamp and fetch.scrapyd_job_id
    assert response.headers["Location"] == f"/fetches/{fetch.id}"
    html = client.get(response.headers["Location"]).get_data(as_text=True)
    assert any(c == "error" and "The fetch could not be started: scrapyd is unreachable" in t for c, t in flashes(html))
    assert "Fetch Data cannot start crawls and running fetches cannot be checked: scrapyd is unreachable" in html
    assert client.get(f"/fetches/{fetch.id}/log").get_data(as_text=True).startswith("The crawl was never scheduled")
    assert count(pg_url, GapDataFetch, GapDataFetch.status == PENDING) == 0
    # The group is free again: the button is enabled.
    show = client.get(f"/groups/{group_id}").get_data(as_text=True)
    assert re.search(r"<button [^>]*data-fetch-button[^>]*>", show).group(0).find("disabled") == -1


def test_fetch_data_is_refused_while_a_fetch_is_active(client, pg_url):
    group_id = make_group(pg_url)
    fetch_id = active_fetch_for(pg_url, group_id, status="fetching_product_page")
    for url in ("/", f"/groups/{group_id}", f"/fetches/{fetch_id}"):
        html = client.get(url).get_data(as_text=True)
        button = re.search(r"<button [^>]*data-fetch-button[^>]*>", html).group(0)
        assert "disabled" in button, url

    response = post_form(client, f"/groups/{group_id}/fetch", follow_redirects=True)
    assert (
        "error",
        "A fetch is already running for this group: wait for it to finish or cancel it.",
    ) in flashes(response.get_data(as_text=True))
    assert count(pg_url, GapDataFetch) == 1
    assert load_status(pg_url, fetch_id) == "fetching_product_page"  # scrapyd down: the check changes nothing


def load_status(db_url, fetch_id):
    with db.session_scope(db_url) as session:
        return session.get(GapDataFetch, fetch_id).status


def test_fetch_data_needs_pages(client, pg_url):
    group_id = make_group(pg_url, urls=())
    html = client.get(f"/groups/{group_id}").get_data(as_text=True)
    assert "disabled" in re.search(r"<button [^>]*data-fetch-button[^>]*>", html).group(0)
    response = post_form(client, f"/groups/{group_id}/fetch", follow_redirects=True)
    assert any("no Gap pages yet" in t for _c, t in flashes(response.get_data(as_text=True)))
    assert count(pg_url, GapDataFetch) == 0


def test_pages_and_group_are_locked_while_a_fetch_is_active(client, pg_url):
    group_id = make_group(pg_url)
    with db.session_scope(pg_url) as session:
        page_id = session.scalars(select(GapPage.id)).one()
    active_fetch_for(pg_url, group_id)
    for url, data in [
        (f"/groups/{group_id}/pages/new", {"web_page_url": TSHIRTS_URL}),
        (f"/pages/{page_id}/edit", {"web_page_url": TSHIRTS_URL, "title": "X"}),
        (f"/pages/{page_id}/delete", {}),
        (f"/groups/{group_id}/delete", {}),
    ]:
        html = post_form(client, url, data, follow_redirects=True).get_data(as_text=True)
        assert any(c == "error" and "running fetch" in t.replace("fetch is running", "running fetch") for c, t in flashes(html)), url
    assert count(pg_url, GapPage) == 1 and count(pg_url, PagesGroup) == 1
    with db.session_scope(pg_url) as session:
        assert session.get(GapPage, page_id).title == "Women / Jeans"


def test_cancel(client, pg_url):
    group_id = make_group(pg_url)
    fetch_id = active_fetch_for(pg_url, group_id, status="fetching_product_list")
    html = post_form(client, f"/fetches/{fetch_id}/cancel", follow_redirects=True).get_data(as_text=True)
    messages = flashes(html)
    assert ("success", f"Fetch #{fetch_id} was cancelled.") in messages
    assert any(c == "warning" and "could not be stopped" in t for c, t in messages)  # scrapyd is down
    with db.session_scope(pg_url) as session:
        fetch = session.get(GapDataFetch, fetch_id)
        assert (fetch.status, fetch.error_message) == (FAILED, "cancelled")
    again = post_form(client, f"/fetches/{fetch_id}/cancel", follow_redirects=True).get_data(as_text=True)
    assert ("info", f"Fetch #{fetch_id} had already finished (failed); nothing to cancel.") in flashes(again)


# ---------------------------------------------------------------- fetch page


def test_fetch_page_shows_progress_results_search_and_filters(client, pg_url, output_root):
    group_id, fetch_id = seed_finished_fetch(pg_url, output_root)
    html = client.get(f"/fetches/{fetch_id}").get_data(as_text=True)
    assert "Succeeded" in html and "data-live" not in html  # final: no polling
    assert 'data-count="products">3 / 3<' in html
    assert "1m 15s" in html
    assert f'href="/fetches/{fetch_id}/output.sql"' in html
    assert f'src="/files/{group_id}/20261203201500/796255962/images/0-vli.jpg"' in html
    row = re.search(r'<tr data-cc="796255962">(.*?)</tr>', html, re.S).group(1)
    assert "High Rise &#39;90s Loose Jeans" in row and "Medium Indigo" in row
    assert "$49.97" in row and "$89.95" in row and "−44%" in row
    assert "Extra 20% off with code SAVE" in row
    # The parser's excluded entry says the product gets no promotion: a note, not a struck-through offer.
    assert '<li class="excluded" title="This product is excluded from promotions">Excluded from promotions</li>' in row
    assert "excluded from this product" not in row
    assert '<span class="size out" title="25: sold out">25</span>' in row
    assert "Some sizes sold out" in row
    sold_out = re.search(r'<tr data-cc="796255963">(.*?)</tr>', html, re.S).group(1)
    assert "Sold out" in sold_out and "$59.95" in sold_out and "price-regular" not in sold_out
    unparsed = re.search(r'<tr data-cc="796255964">(.*?)</tr>', html, re.S).group(1)
    # A finished fetch will not parse it any more; the listing's IN_STOCK says nothing about sizes.
    assert "Barrel Jeans" in unparsed and "not parsed" in unparsed and "not parsed yet" not in unparsed
    assert "−50%" in unparsed
    assert "Listed in stock" in unparsed and ">In stock<" not in unparsed
    # The chips add up to the total: 0 in stock + 1 some sizes sold out + 1 sold out + 1 not parsed = 3.
    chips = dict((label, int(n)) for n, label in re.findall(r'<span class="chip[^"]*"[^>]*>(\d+) ([a-z ]+)</span>', html))
    assert (chips["in stock"], chips["some sizes sold out"], chips["sold out"], chips["not parsed"]) == (0, 1, 1, 1)
    assert "1 of 3 products were not parsed" in html

    def ccs(**query):
        page = client.get(f"/fetches/{fetch_id}", query_string=query).get_data(as_text=True)
        return re.findall(r'<tr data-cc="(\d+)">', page)

    assert ccs(q="indigo") == ["796255962"]
    assert ccs(q="jeans black") == ["796255963"]
    assert ccs(q="796255964") == ["796255964"]
    assert ccs(availability="soldout") == ["796255963"]
    assert ccs(availability="partial") == ["796255962"]
    assert ccs(availability="instock") == ["796255962", "796255964"]
    assert ccs(availability="available") == []  # "every size in stock" needs parsed sizes
    assert ccs(sort="price") == ["796255964", "796255962", "796255963"]
    assert ccs(sort="discount")[0] == "796255964"
    assert ccs(q="nothing like this") == []


def test_sql_download(client, pg_url, output_root):
    group_id, fetch_id = seed_finished_fetch(pg_url, output_root)
    response = client.get(f"/fetches/{fetch_id}/output.sql")
    assert response.status_code == 200
    assert response.data == b"BEGIN;\n-- gapspider output\nCOMMIT;\n"
    assert 'attachment; filename=gapspider-women-s-denim-20261203201500.sql' in response.headers["Content-Disposition"]
    # An output path outside the output root is never served.
    with db.session_scope(pg_url) as session:
        db.set_fetch(session, fetch_id, output_path="/etc/passwd")
    assert client.get(f"/fetches/{fetch_id}/output.sql").status_code == 404


def test_status_json_for_the_live_page(client, pg_url):
    group_id = make_group(pg_url)
    fetch_id = active_fetch_for(pg_url, group_id, status="fetching_product_page")
    with db.session_scope(pg_url) as session:
        db.set_fetch(session, fetch_id, total_products=40, processed_products=9, failed_products=1, total_pages=1,
                     processed_pages=1, started_at=dt.datetime.now(dt.timezone.utc) - dt.timedelta(seconds=30))
    state = client.get(f"/fetches/{fetch_id}/status.json").get_json()
    assert state["status"] == "fetching_product_page" and state["is_active"]
    assert state["progress"]["products"] == {"done": 9, "failed": 1, "total": 40, "percent": 25.0, "tone": "run"}
    assert [s["state"] for s in state["steps"]] == ["done", "done", "current", "todo", "todo", "todo", "todo"]
    assert 29 <= state["elapsed_seconds"] < 60
    html = client.get(f"/fetches/{fetch_id}").get_data(as_text=True)
    assert f'data-live="/fetches/{fetch_id}/status.json"' in html
    assert 'id="cancel-button"' in html


# ---------------------------------------------------------------- honest state without scrapyd


def test_the_check_changes_nothing_while_scrapyd_is_unreachable(app, pg_url):
    group_id = make_group(pg_url)
    fetch_id = active_fetch_for(pg_url, group_id, status="fetching_product_image")
    report = app.extensions["fetch_checker"].run()
    assert not report.scrapyd_ok and "unreachable" in report.scrapyd_error
    assert load_status(pg_url, fetch_id) == "fetching_product_image"


def test_a_pending_fetch_nobody_scheduled_does_not_stay_pending_forever(app, pg_url):
    group_id = make_group(pg_url)
    with db.session_scope(pg_url) as session:
        fetch = db.create_fetch(session, group_id)  # created by another system, never scheduled, no job id
        fetch_id = fetch.id
    client = app.extensions["scrapyd"]
    with db.session_scope(pg_url) as session:
        check_active_fetches(session, client)
    assert load_status(pg_url, fetch_id) == PENDING  # young: left alone
    with db.session_scope(pg_url) as session:
        later = dt.datetime.now(dt.timezone.utc) + dt.timedelta(minutes=16)
        report = check_active_fetches(session, client, now=later)
    assert report.failed_ids == [fetch_id]
    with db.session_scope(pg_url) as session:
        assert session.get(GapDataFetch, fetch_id).error_message == NEVER_STARTED



def test_a_crawl_killed_outright_is_failed_even_while_scrapyd_is_down(client, pg_url):
    """`scrapy crawl` started by hand has no scrapyd job; kill -9 leaves only its recorded process behind."""
    import socket
    import subprocess

    gone = subprocess.Popen(["true"])
    gone.wait()
    group_id = make_group(pg_url)
    fetch_id = active_fetch_for(pg_url, group_id, status="fetching_product_page", job_id=None)
    with db.session_scope(pg_url) as session:
        db.set_fetch(session, fetch_id, crawler_host=socket.gethostname(), crawler_pid=gone.pid)
    html = client.get(f"/groups/{group_id}").get_data(as_text=True)
    with db.session_scope(pg_url) as session:
        fetch = session.get(GapDataFetch, fetch_id)
        assert (fetch.status, fetch.error_message) == ("failed", "crawler stopped unexpectedly")
        assert fetch.error_details["crawler_pid"] == gone.pid
    assert "data-fetch-button" in html and "disabled" not in re.search(r"<button [^>]*data-fetch-button[^>]*>", html).group(0)

# ---------------------------------------------------------------- JSON API


def test_api_lists_groups_and_fetches(client, pg_url, output_root):
    group_id, fetch_id = seed_finished_fetch(pg_url, output_root)
    groups = client.get("/api/groups").get_json()["groups"]
    assert [(g["id"], g["title"], g["page_count"], g["has_active_fetch"]) for g in groups] == [
        (group_id, "Women's denim", 1, False)
    ]
    assert groups[0]["last_fetch"]["status"] == "succeeded"
    group = client.get(f"/api/groups/{group_id}").get_json()
    assert group["pages"][0]["api_url"].startswith(JEANS_API)
    assert client.get("/api/groups/Women's denim").get_json()["id"] == group_id  # by title too
    assert client.get("/api/groups/999").status_code == 404

    fetches = client.get(f"/api/groups/{group_id}/fetches").get_json()["fetches"]
    assert [f["id"] for f in fetches] == [fetch_id]
    status = client.get(f"/api/fetches/{fetch_id}").get_json()
    assert status["status"] == "succeeded" and status["has_output"]
    assert status["urls"]["output"].endswith(f"/fetches/{fetch_id}/output.sql")
    assert status["counters"]["processed_products"] == 3
    assert client.get("/api/fetches?status=active").get_json()["fetches"] == []
    assert client.get("/api/fetches?status=succeeded").get_json()["fetches"][0]["id"] == fetch_id
    assert client.get("/api/fetches?status=bogus").status_code == 400
    products = client.get(f"/api/fetches/{fetch_id}/products?availability=soldout").get_json()
    assert products["count"] == 1 and products["products"][0]["cc_id"] == "796255963"
    assert products["products"][0]["thumbnail_url"].endswith("/0-vli.jpg")
    # Unknown filter values are refused, not answered with every product (as if they had filtered).
    for query in ("availability=in_stock", "sort=cheapest"):
        refused = client.get(f"/api/fetches/{fetch_id}/products?{query}")
        assert refused.status_code == 400 and "unknown" in refused.get_json()["error"], query
    assert client.get(f"/api/fetches/{fetch_id}/products?sort=price&availability=instock").status_code == 200


def test_api_start_fetch_follows_the_button_rules(client, pg_url):
    group_id = make_group(pg_url)
    not_json = client.post(f"/api/groups/{group_id}/fetches", data={"x": "1"})
    assert not_json.status_code == 415
    assert count(pg_url, GapDataFetch) == 0

    down = client.post(f"/api/groups/{group_id}/fetches", json={})
    assert down.status_code == 502
    body = down.get_json()
    assert "scrapyd is unreachable" in body["error"]
    assert body["fetch"]["status"] == "failed"

    fetch_id = active_fetch_for(pg_url, group_id)
    busy = client.post(f"/api/groups/{group_id}/fetches", json={})
    assert busy.status_code == 409 and "already running" in busy.get_json()["error"]
    assert count(pg_url, GapDataFetch) == 2

    cancelled = client.post(f"/api/fetches/{fetch_id}/cancel", json={})
    assert cancelled.status_code == 200 and cancelled.get_json()["fetch"]["error_message"] == "cancelled"
    assert client.post(f"/api/fetches/{fetch_id}/cancel", json={}).status_code == 409
    assert client.post("/api/groups/999/fetches", json={}).status_code == 404
    empty = make_group(pg_url, title="Empty", urls=())
    assert client.post(f"/api/groups/{empty}/fetches", json={}).status_code == 422


def test_api_health_reports_scrapyd(client):
    response = client.get("/api/health")
    assert response.status_code == 503
    assert response.get_json()["scrapyd"] == "unreachable"


def make_fetches(db_url, group_id, n, status=SUCCEEDED) -> list[int]:
    """`n` finished fetches of the group in one INSERT (cheap: no spider, no files); their ids, oldest first."""
    with db.session_scope(db_url) as session:
        ids = session.scalars(
            insert(GapDataFetch).returning(GapDataFetch.id),
            [
                {"pages_group_id": group_id, "status": status, "folder_timestamp": f"2026010100{i:04d}"}
                for i in range(n)
            ],
        ).all()
        session.commit()
        return sorted(ids)


def test_api_fetch_lists_are_paged(client, pg_url):
    group_id = make_group(pg_url)
    done = make_fetches(pg_url, group_id, 120)
    failed = make_fetches(pg_url, group_id, 10, status=FAILED)
    newest_first = sorted(done + failed, reverse=True)
    other = make_group(pg_url, title="Other")
    make_fetches(pg_url, other, 3)
    base = f"http://localhost/api/groups/{group_id}/fetches"

    # Default page: 100 of 130, newest first, with the URL of the next page (filters kept, per_page said).
    first = client.get(f"/api/groups/{group_id}/fetches")
    body = first.get_json()
    assert (body["total"], body["page"], body["per_page"], body["pages"], body["count"]) == (130, 1, 100, 2, 100)
    assert [f["id"] for f in body["fetches"]] == newest_first[:100]
    assert body["next"] == f"{base}?page=2&per_page=100" and body["previous"] is None
    assert first.headers["Link"] == f'<{base}?page=2&per_page=100>; rel="next"'
    last = client.get(body["next"]).get_json()  # a client follows `next` until it is null
    assert [f["id"] for f in last["fetches"]] == newest_first[100:]
    assert last["next"] is None and last["previous"] == f"{base}?page=1&per_page=100"

    def page(query):
        return client.get(f"/api/groups/{group_id}/fetches?{query}").get_json()

    middle = page("page=2&per_page=50")
    assert [f["id"] for f in middle["fetches"]] == newest_first[50:100]
    assert middle["next"].endswith("?page=3&per_page=50") and middle["previous"].endswith("?page=1&per_page=50")
    end = page("page=3&per_page=50")
    assert [f["id"] for f in end["fetches"]] == newest_first[100:] and end["next"] is None
    beyond = page("page=4&per_page=50")
    assert (beyond["fetches"], beyond["total"], beyond["pages"], beyond["next"]) == ([], 130, 3, None)
    assert beyond["previous"].endswith("?page=3&per_page=50")  # back to the last page
    everything = page("per_page=1000")
    assert everything["count"] == 130 and everything["pages"] == 1 and everything["next"] is None

    # The cross-group list: the same paging, its filters kept in `next`; `limit` (its first name) is per_page.
    all_failed = client.get(f"/api/fetches?status=failed&group={group_id}&per_page=4").get_json()
    assert all_failed["total"] == 10 and [f["id"] for f in all_failed["fetches"]] == sorted(failed, reverse=True)[:4]
    assert all_failed["next"] == f"http://localhost/api/fetches?status=failed&group={group_id}&page=2&per_page=4"
    assert [f["id"] for f in client.get(all_failed["next"]).get_json()["fetches"]] == sorted(failed, reverse=True)[4:8]
    every = client.get("/api/fetches?limit=7").get_json()
    assert (every["total"], every["per_page"], every["count"]) == (133, 7, 7)
    assert every["next"].endswith("/api/fetches?page=2&per_page=7")
    assert client.get("/api/fetches?status=active").get_json()["total"] == 0

    # Bad values are refused with what is accepted, not answered with some default page.
    for path in (f"/api/groups/{group_id}/fetches", "/api/fetches"):
        for query, message in (
            ("page=0", "page must be an integer from 1, not '0'"),
            ("page=two", "page must be an integer from 1, not 'two'"),
            ("per_page=1001", "per_page must be an integer from 1 to 1000, not '1001'"),
            ("per_page=0", "per_page must be an integer from 1 to 1000, not '0'"),
            ("per_page=", "per_page must be an integer from 1 to 1000, not ''"),
        ):
            refused = client.get(f"{path}?{query}")
            assert refused.status_code == 400 and refused.get_json()["error"] == message, (path, query)
    assert client.get("/api/fetches?limit=5000").get_json()["error"] == "limit must be an integer from 1 to 1000, not '5000'"


def test_api_products_are_paged_with_their_filters(client, pg_url, output_root):
    _group_id, fetch_id = seed_finished_fetch(pg_url, output_root)
    base = f"http://localhost/api/fetches/{fetch_id}/products"

    def get(query=""):
        response = client.get(f"/api/fetches/{fetch_id}/products?{query}")
        assert response.status_code == 200, response.get_data(as_text=True)
        return response.get_json()

    def ccs(body):
        return [p["cc_id"] for p in body["products"]]

    default = get()
    assert (default["total"], default["page"], default["per_page"], default["pages"], default["count"]) == (3, 1, 100, 1, 3)
    assert default["next"] is None and default["previous"] is None and default["status"] == "succeeded"
    first = get("per_page=1")
    assert ccs(first) == ["796255962"] and (first["total"], first["pages"]) == (3, 3)
    assert first["next"] == f"{base}?page=2&per_page=1"
    assert first["products"][0]["thumbnail_url"].endswith("/0-vli.jpg")
    middle = get("page=2&per_page=1")
    assert ccs(middle) == ["796255963"] and middle["next"].endswith("?page=3&per_page=1")
    last = get("page=3&per_page=1")
    assert ccs(last) == ["796255964"] and last["next"] is None and last["previous"].endswith("?page=2&per_page=1")
    beyond = get("page=4&per_page=1")
    assert (beyond["products"], beyond["total"], beyond["count"], beyond["next"]) == ([], 3, 0, None)
    assert get("per_page=1000")["count"] == 3

    # Filters, sort and search page together: total counts the matching products, `next` keeps the filters.
    in_stock = get("availability=instock&per_page=1")
    assert ccs(in_stock) == ["796255962"] and in_stock["total"] == 2 and in_stock["pages"] == 2
    assert in_stock["next"] == f"{base}?availability=instock&page=2&per_page=1"
    assert ccs(client.get(in_stock["next"]).get_json()) == ["796255964"]
    by_price = get("sort=price&per_page=2&page=2")
    assert ccs(by_price) == ["796255963"] and by_price["total"] == 3
    searched = get("q=jeans&sort=name&per_page=2")
    assert ccs(searched) == ["796255964", "796255962"] and searched["next"].endswith("q=jeans&sort=name&page=2&per_page=2")

    for query, message in (
        ("page=0", "page must be an integer from 1, not '0'"),
        ("page=1.5", "page must be an integer from 1, not '1.5'"),
        ("per_page=1001", "per_page must be an integer from 1 to 1000, not '1001'"),
        ("per_page=-1", "per_page must be an integer from 1 to 1000, not '-1'"),
        ("availability=in_stock&page=2", "unknown availability 'in_stock' (expected one of: instock, available, partial, soldout)"),
    ):
        refused = client.get(f"/api/fetches/{fetch_id}/products?{query}")
        assert refused.status_code == 400 and refused.get_json()["error"] == message, query


# ---------------------------------------------------------------- what a user reads (found driving the dashboard)


def test_the_same_category_twice_in_a_group_is_refused_with_its_reason(client, pg_url):
    group_id = make_group(pg_url)  # has Women / Jeans
    same = JEANS_URL.replace("#department=136", "") + "#department=136"
    response = post_form(client, f"/groups/{group_id}/pages/new", {"web_page_url": same, "title": "Jeans again"})
    assert response.status_code == 422
    errors = re.findall(r'<ul class="errors"><li>(.*?)</li>', response.get_data(as_text=True))
    assert errors == ["This group already has this category: “Women / Jeans” (cid 5664)."]
    without_department = "https://www.gap.com/browse/women/jeans?cid=5664"  # same category, other listing URL
    response = post_form(client, f"/groups/{group_id}/pages/new", {"web_page_url": without_department, "title": ""})
    assert response.status_code == 422 and "already has this category" in response.get_data(as_text=True)
    assert count(pg_url, GapPage) == 1
    # Editing a page to its own URL is not a duplicate.
    with db.session_scope(pg_url) as session:
        page_id = session.scalars(select(GapPage.id)).one()
    assert post_form(client, f"/pages/{page_id}/edit", {"web_page_url": JEANS_URL, "title": "Jeans"}).status_code == 303


def test_status_json_says_whether_scrapyd_answers(client, pg_url):
    group_id = make_group(pg_url)
    fetch_id = active_fetch_for(pg_url, group_id, status="fetching_product_page")
    state = client.get(f"/fetches/{fetch_id}/status.json").get_json()
    assert state["scrapyd"]["ok"] is False
    assert "scrapyd is unreachable" in state["scrapyd"]["error"]


def test_a_queued_fetch_has_no_elapsed_time_until_the_crawl_starts(client, pg_url):
    group_id = make_group(pg_url)
    fetch_id = active_fetch_for(pg_url, group_id, status=PENDING)
    state = client.get(f"/fetches/{fetch_id}/status.json").get_json()
    assert state["elapsed_seconds"] is None and state["elapsed"] == "–"
    html = client.get(f"/fetches/{fetch_id}").get_data(as_text=True)
    assert 'data-elapsed-seconds=""' in html
    assert "Waiting for scrapyd to start the crawl" in html
    with db.session_scope(pg_url) as session:
        db.set_fetch(session, fetch_id, status="fetching_product_list",
                     started_at=dt.datetime.now(dt.timezone.utc) - dt.timedelta(seconds=5))
    state = client.get(f"/fetches/{fetch_id}/status.json").get_json()
    assert 4 <= state["elapsed_seconds"] < 60  # counted from the start of the crawl, not from the press


def test_big_counters_are_written_with_thousands_separators_as_the_live_updates_write_them(client, pg_url):
    group_id = make_group(pg_url)
    fetch_id = active_fetch_for(pg_url, group_id, status="fetching_product_image")
    with db.session_scope(pg_url) as session:
        db.set_fetch(session, fetch_id, total_pages=13, processed_pages=13, total_products=2500, processed_products=2500,
                     total_images=9966, processed_images=1234)
    html = client.get(f"/fetches/{fetch_id}").get_data(as_text=True)
    assert '<div class="value" data-count="products">2,500 / 2,500</div>' in html
    assert '<div class="value" data-count="images">1,234 / 9,966</div>' in html
    assert '<div class="value" data-count="pages">13 / 13</div>' in html
    assert '<dd data-count="parsed">0 / 2,500</dd>' in html
    group_page = client.get(f"/groups/{group_id}").get_data(as_text=True)
    assert "1,234 / 9,966" in group_page
    with db.session_scope(pg_url) as session:
        db.set_fetch(session, fetch_id, status="succeeded", processed_images=9966,
                     completed_at=dt.datetime.now(dt.timezone.utc))
    for page in ("/", "/fetches", f"/fetches/{fetch_id}"):
        assert "2,500 products · 9,966 images" in client.get(page).get_data(as_text=True), page


def test_a_running_fetch_with_listing_rows_says_they_are_only_the_listing(client, pg_url, output_root):
    group_id, fetch_id = seed_finished_fetch(pg_url, output_root)
    with db.session_scope(pg_url) as session:
        db.set_fetch(session, fetch_id, status="fetching_product_page", completed_at=None, output_path=None)
    html = client.get(f"/fetches/{fetch_id}").get_data(as_text=True)
    assert "Still fetching: these rows show what the listing said." in html
    assert "not parsed yet" in html


def test_the_products_count_says_which_rows_a_page_shows(app, client, pg_url, output_root):
    """With more products than one page holds, the count names the rows shown (it said "3 shown" over 2 rows)."""
    _group_id, fetch_id = seed_finished_fetch(pg_url, output_root)
    app.config["PRODUCTS_PER_PAGE"] = 2

    def count(query=""):
        html = client.get(f"/fetches/{fetch_id}{query}").get_data(as_text=True)
        return re.search(r'id="products-count">([^<]*)<', html).group(1)

    assert count() == "1–2 of 3"
    assert count("?page=2") == "3 of 3"
    assert count("?availability=soldout") == "1 shown of 3"
    app.config["PRODUCTS_PER_PAGE"] = 60
    assert count() == "3 shown"


def test_the_fetches_list_pages_newer_and_older(app, client, pg_url):
    group_id = make_group(pg_url)
    newest_first = sorted(make_fetches(pg_url, group_id, 130), reverse=True)
    assert app.config["FETCHES_PER_PAGE"] == 50

    def shown(query=""):
        html = client.get(f"/fetches{query}").get_data(as_text=True)
        ids = [int(i) for i in re.findall(r'<td class="title-cell"><a href="/fetches/(\d+)">', html)]
        pager = re.search(r'<nav class="card-foot pager".*?</nav>', html, re.S)
        return ids, html, pager.group(0) if pager else ""

    ids, html, pager = shown()
    assert ids == newest_first[:50] and "130 in all" in html
    assert "Page 1 of 3 · 1–50 of 130 fetches" in pager
    assert '<a class="btn btn-sm" rel="next" href="/fetches?page=2">Older →</a>' in pager and "Newer" not in pager
    ids, _html, pager = shown("?page=2")
    assert ids == newest_first[50:100] and "Page 2 of 3 · 51–100 of 130 fetches" in pager
    assert 'href="/fetches">← Newer</a>' in pager and 'href="/fetches?page=3">Older →</a>' in pager
    ids, _html, pager = shown("?page=3")
    assert ids == newest_first[100:] and "101–130 of 130" in pager and "Older" not in pager
    assert shown("?page=99")[0] == newest_first[100:]  # past the end: the last page
    assert shown("?page=abc")[0] == newest_first[:50]
    app.config["FETCHES_PER_PAGE"] = 200
    ids, _html, pager = shown()
    assert ids == newest_first and pager == ""  # one page: no pager


def test_a_groups_history_is_paged_and_its_delete_confirmation_counts_every_fetch(app, client, pg_url):
    group_id = make_group(pg_url)
    older = sorted(make_fetches(pg_url, group_id, 130), reverse=True)
    running = active_fetch_for(pg_url, group_id)
    newest_first = [running, *older]

    def history(query=""):
        html = client.get(f"/groups/{group_id}{query}").get_data(as_text=True)
        section = html[html.index('id="history"'):]
        return [int(i) for i in re.findall(r'<td class="title-cell"><a href="/fetches/(\d+)">', section)], html

    ids, html = history()
    assert ids == newest_first[:50] and "<span>131 fetches</span>" in html
    assert f'href="/groups/{group_id}?page=2#history">Older →</a>' in html
    ids, html = history("?page=3")
    assert ids == newest_first[100:] and f'href="/groups/{group_id}?page=2#history">← Newer</a>' in html
    # The running fetch is not on this page of the history, yet the group still says it is running.
    assert f"Fetch #{running} is running" in html and "Delete the group" not in html
    with db.session_scope(pg_url) as session:
        db.set_fetch(session, running, status=FAILED, error_message="cancelled")
    ids, html = history()
    confirm = re.search(r'data-confirm="(Delete the group[^"]*)"', html).group(1)
    assert confirm == "Delete the group “Women&#39;s denim” with its 1 page and 131 fetches? Files on disk are kept."


def test_a_running_fetch_without_products_shows_no_empty_filters(client, pg_url):
    group_id = make_group(pg_url)
    fetch_id = active_fetch_for(pg_url, group_id, status="fetching_product_list")
    html = client.get(f"/fetches/{fetch_id}").get_data(as_text=True)
    assert "Products appear here as soon as the listing has been read" in html
    assert 'name="q"' not in html and "0 in stock" not in html


def test_a_crawl_that_died_is_explained_and_its_last_step_is_not_shown_as_current(client, pg_url):
    group_id = make_group(pg_url)
    fetch_id = active_fetch_for(pg_url, group_id, status="fetching_product_page")
    with db.session_scope(pg_url) as session:
        db.set_fetch(session, fetch_id, current_step="Fetching 158 product pages")
        db.fail_fetch(session, fetch_id, "crawler stopped unexpectedly", {"scrapyd_state": "unknown"})
    html = client.get(f"/fetches/{fetch_id}").get_data(as_text=True)
    sub = re.search(r'<div class="sub">(.*?)</div>', html, re.S).group(1)
    assert "stopped during: Fetching 158 product pages" in sub
    assert 'data-field="current_step"' not in sub
    assert "The crawl process ended without reporting back" in html


def test_a_crawl_stopped_by_a_signal_is_not_called_cancelled(client, pg_url):
    group_id = make_group(pg_url)
    pressed = active_fetch_for(pg_url, group_id, status="fetching_product_page")
    post_form(client, f"/fetches/{pressed}/cancel")
    stopped = active_fetch_for(pg_url, group_id, status="fetching_product_page", job_id="other-job")
    with db.session_scope(pg_url) as session:  # what the spider writes when scrapyd goes away (SIGINT)
        db.fail_fetch(session, stopped, "cancelled: the crawl was stopped before it finished (shutdown)", {})
    assert client.get(f"/fetches/{pressed}/status.json").get_json()["status_label"] == "Cancelled"
    assert client.get(f"/fetches/{stopped}/status.json").get_json()["status_label"] == "Stopped"
    html = client.get(f"/fetches/{stopped}").get_data(as_text=True)
    assert "Nobody pressed Cancel" in html


def test_a_running_fetch_page_can_show_the_listed_products_once_read(client, pg_url):
    group_id = make_group(pg_url)
    fetch_id = active_fetch_for(pg_url, group_id, status="fetching_product_list")
    html = client.get(f"/fetches/{fetch_id}").get_data(as_text=True)
    # Loaded before the listing was read: the page swaps the message live (data-when-some / data-when-none).
    assert re.search(r'<span data-when-none="products">Products appear here', html)
    assert re.search(r'<span data-when-some="products" hidden>The listing has been read', html)
    assert "data-reload" in html


def test_times_are_written_in_utc_and_say_so(client, pg_url, output_root):
    group_id, fetch_id = seed_finished_fetch(pg_url, output_root)
    html = client.get(f"/fetches/{fetch_id}").get_data(as_text=True)
    times = re.findall(r"<time datetime=\"([^\"]+)\" data-local[^>]*>([^<]+)</time>", html)
    assert times and all(iso.endswith("+00:00") and text.endswith(" UTC") for iso, text in times), times


def test_form_pages_show_scrapyd_down_too(client, pg_url):
    client.get("/")  # a page that runs the check
    html = client.get("/groups/new").get_data(as_text=True)
    assert "scrapyd <span data-health-text>unreachable</span>" in html
    assert "Fetch Data cannot start crawls" in html


class Statements:
    """Every SQL statement the app's engine runs inside the `with` block."""

    def __init__(self, app):
        self.engine = app.extensions["gapspider_sessions"].kw["bind"]
        self.sql: list[str] = []

    def _record(self, _conn, _cursor, statement, *_args):
        self.sql.append(statement)

    def __enter__(self):
        from sqlalchemy import event

        event.listen(self.engine, "before_cursor_execute", self._record)
        return self

    def __exit__(self, *exc_info):
        from sqlalchemy import event

        event.remove(self.engine, "before_cursor_execute", self._record)


def test_the_products_table_reads_no_listing_json_and_is_read_again_only_when_the_fetch_changes(app, client, pg_url,
                                                                                                output_root):
    """A big fetch (thousands of products, ~8 kB of listing JSON each) must not be read and converted whole on every
    click: the table reads only the columns it shows, once, and paging, search and filters reuse those rows until a
    row of the fetch is written again."""
    _group_id, fetch_id = seed_finished_fetch(pg_url, output_root)
    app.config["PRODUCTS_PER_PAGE"] = 2
    with Statements(app) as first:
        assert client.get(f"/fetches/{fetch_id}").status_code == 200
    product_reads = [s for s in first.sql if "parsed_data" in s]
    assert len(product_reads) == 1
    assert not [s for s in first.sql if "listing_data" in s or "api_image_paths" in s or "image_urls" in s]

    for query in ("?page=2", "?q=jeans", "?availability=soldout", "?sort=price"):
        with Statements(app) as again:
            assert client.get(f"/fetches/{fetch_id}{query}").status_code == 200
        assert not [s for s in again.sql if "parsed_data" in s], query
        assert len(again.sql) <= len(first.sql), query
    with Statements(app) as api:
        assert client.get(f"/api/fetches/{fetch_id}/products").get_json()["count"] == 3
    assert not [s for s in api.sql if "parsed_data" in s]

    # A postprocess redo (or a running crawl) writes the rows: the table shows what is there now.
    with db.session_scope(pg_url) as session:
        row = session.scalars(select(ProductData).where(ProductData.gap_data_fetch_id == fetch_id)
                              .order_by(ProductData.position)).first()
        row.parsed_data = dict(row.parsed_data, title="Renamed Loose Jeans")
    html = client.get(f"/fetches/{fetch_id}").get_data(as_text=True)
    assert "Renamed Loose Jeans" in html
    assert "Barrel Jeans, renamed" not in client.get(f"/fetches/{fetch_id}?page=2").get_data(as_text=True)
    # A later fetch renames the Product of the unparsed row (whose name comes from the listing): shown at once too.
    with db.session_scope(pg_url) as session:
        unparsed = session.scalars(select(ProductData).where(ProductData.gap_data_fetch_id == fetch_id,
                                                             ProductData.position == 2)).one()
        session.get(Product, unparsed.product_id).style_name = "Barrel Jeans, renamed"
    assert "Barrel Jeans, renamed" in client.get(f"/fetches/{fetch_id}?page=2").get_data(as_text=True)
