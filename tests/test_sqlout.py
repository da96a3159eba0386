"""The SQL output: rendered without a database, then loaded with real psql into scratch PostgreSQL databases.

The round trip compares every row and every column of every gap_ table with values written out by hand from
the source data (names with quotes, backslashes, newlines, percent signs, emoji and SQL-looking text).
"""

from __future__ import annotations

import datetime as dt
import shutil
import subprocess
from decimal import Decimal
from pathlib import Path

import pytest
import sqlalchemy as sa
from sqlalchemy.engine import make_url

from gapspider import db
from gapspider.models import FAILED, GENERATING_OUTPUT, SUCCEEDED, GapDataFetch, GapPage, PagesGroup, Product, ProductData
from gapspider.sqlout import (
    JSONBLiteral,
    FetchInfo,
    METADATA,
    product_rows,
    render_sql,
    write_sql_output,
)
from tests.conftest import create_pg_database, drop_pg_database

pytestmark = pytest.mark.skipif(shutil.which("psql") is None, reason="psql is not installed")

UTC = dt.timezone.utc
TS_A = "20240506070809"
TS_B = "20240507080910"
GENERATED_A = dt.datetime(2024, 5, 6, 7, 30, 0, 123456, tzinfo=UTC)
GENERATED_B = dt.datetime(2024, 5, 7, 8, 30, 0, 654321, tzinfo=UTC)
STARTED_A = dt.datetime(2024, 5, 6, 7, 8, 9, tzinfo=UTC)
GROUP_TITLE = "Men's \"tees\" \\ 100% 😀™\n-- DROP TABLE gap_product; --\r\n\\! echo pwned"
INJECTION = "'); DROP TABLE x; --"
TABLES = {
    "gap_fetch": ("fetch_id",),
    "gap_product": ("cc_id",),
    "gap_product_size": ("cc_id", "position"),
    "gap_product_fit": ("cc_id", "position"),
    "gap_product_length": ("cc_id", "position"),
    "gap_product_variant": ("cc_id", "size", "fit", "length"),
    "gap_product_color": ("cc_id", "position"),
    "gap_product_discount": ("cc_id", "position"),
    "gap_product_image": ("cc_id", "position"),
}


# ------------------------------------------------------------------ helpers


def libpq_url(url: str) -> str:
    return make_url(url).set(drivername="postgresql").render_as_string(hide_password=False)


def psql(url: str, path: Path, check: bool = True) -> subprocess.CompletedProcess:
    return subprocess.run(
        ["psql", "-v", "ON_ERROR_STOP=1", "-X", "-q", "-d", libpq_url(url), "-f", str(path)],
        check=check,
        capture_output=True,
        text=True,
        timeout=120,
    )


def read_tables(url: str) -> dict[str, list[dict]]:
    """Every row of every gap_ table, ordered by key ({} for a table that does not exist)."""
    engine = sa.create_engine(url)
    try:
        with engine.connect() as conn:
            existing = set(sa.inspect(conn).get_table_names())
            result = {}
            for table, key in TABLES.items():
                if table not in existing:
                    continue
                rows = conn.execute(sa.text(f"SELECT * FROM {table} ORDER BY {', '.join(key)}"))
                result[table] = [dict(r._mapping) for r in rows]
            return result
    finally:
        engine.dispose()


@pytest.fixture
def scratch():
    """An empty PostgreSQL database to load files into; dropped at the end."""
    url = create_pg_database("gapspider_sqlout")
    yield url
    drop_pg_database(url)


def add_fetch(session, group: PagesGroup, ts: str, status: str = GENERATING_OUTPUT, started_at=None) -> GapDataFetch:
    fetch = GapDataFetch(pages_group_id=group.id, status=status, folder_timestamp=ts, started_at=started_at)
    session.add(fetch)
    session.flush()
    return fetch


def add_product(session, fetch: GapDataFetch, page: GapPage | None, product: dict, data: dict) -> None:
    row = session.scalar(
        sa.select(Product).where(Product.style_id == product["style_id"], Product.cc_id == product["cc_id"])
    )
    if row is None:
        row = Product(**product)
        session.add(row)
        session.flush()
    session.add(
        ProductData(
            product_id=row.id,
            gap_data_fetch_id=fetch.id,
            gap_page_id=page.id if page is not None else None,
            folder_timestamp=fetch.folder_timestamp,
            **data,
        )
    )
    session.flush()


def empty_product_row(**values) -> dict:
    row = {c.name: None for c in METADATA.tables["gap_product"].columns}
    row.update(values)
    return row


# ------------------------------------------------------------------ source data of fetch A


P1 = dict(
    style_id="500001",
    cc_id="500001002",
    style_name="Vintage 'Soft' Tee \\ 100% \"cotton\" 😀™",
    cc_name="Navy\nBlue" + INJECTION,
    cc_short_description="Short \\n is a backslash and an n, this ends with one \\",
    web_product_type="T-Shirts",
)
P1_PARSED = {
    "schema": 1,
    "cc_id": "500001002",
    "style_id": "500001",
    "title": "Vintage 'Soft' Tee — \"quoted\" \\ back\nslash 😀",
    "color": {"name": "Navy 'Blue' 😀", "cc_id": "500001002"},
    "colors": [
        {"name": "Navy 'Blue' 😀", "cc_id": "500001002", "available": True},
        {"name": 'Red \\ "Hot"', "cc_id": "500001003", "available": False},
    ],
    "sizes": [
        {"label": "XS", "available": False},
        {"label": "S", "available": True},
        {"label": "M", "available": True},
    ],
    "fits": [{"label": "Regular", "available": True}, {"label": "Tall", "available": False}],
    "lengths": [{"label": "Short", "available": True}, {"label": "Long 'L'", "available": False}],
    "variants": [
        {"size": "XS", "fit": "Regular", "available": False, "sku": "5000010020001", "price": "24.97"},
        {"size": "S", "fit": "Regular", "available": True, "sku": "5000010020002", "price": "24.97"},
        {"size": "S", "fit": "Tall", "available": False, "sku": None, "price": None},
        {"size": "M", "fit": "Regular", "length": "Short", "available": True, "sku": "x'y\\z%", "price": "19.99"},
        {"size": "M", "fit": "Regular", "length": "Long 'L'", "available": False, "sku": "9", "price": "19.99"},
    ],
    "description": "Soft \"vintage\" jersey\nwith a \\ backslash 😀",
    "price": {"current": "24.97", "regular": "49.95", "currency": "USD", "percent_off": 50},
    "discounts": [
        {"text": "Extra 50% off at checkout", "percent": 50, "applies": "checkout", "excluded": False},
        {"text": "'); DROP TABLE gap_product; --", "percent": None, "applies": None, "excluded": True},
        {"text": "10% off in the app 😀", "percent": 10, "applies": "app", "excluded": False},
    ],
    "available": True,
    "details": {
        "Fabric & care": ["100% cotton", "Machine wash \\ cold", "Line\nbreak", "tab\there"],
        "Fit & sizing": ["Fits \"true\" to size 'really'", "emoji 😀 ™", "$$dollar$$ :psqlvar"],
        INJECTION: ["\\'; --", "\\u0041 stays literal"],
    },
    "images": ["https://www.gap.com/webcontent/0001/cn500001002.jpg"],
    "warnings": ["fit markup unconfirmed \\ 'guess'"],
    "blocked": False,
}


def p1_data(group_id: int, ts: str) -> dict:
    return dict(
        position=0,
        regular_price="49.95",
        effective_price="24.975",
        price_type="P",
        percentage_off="50",
        inventory_status="In Stock",
        inventory_count=12,
        review_score="4.6",
        review_count=87,
        excluded_from_promotion=False,
        marketing_flags=[{"content": "Extra 50% off at checkout", "position": "1", "type": "promo"}],
        style_marketing_flags=[],
        badges=[{"type": "Dynamic", "id": "BEST_SELLER", "content": "Best seller 😀", "position": "6"}],
        api_image_paths=[
            {"type": "VLI", "path": "/webcontent/0001/cn500001002.jpg",
             "absoluteUrl": "https://www.gap.com/webcontent/0001/cn500001002.jpg"},
            {"type": "AV1_VLI", "path": "/webcontent/0001/cn500001002_av1.jpg"},
        ],
        product_page_url="https://www.gap.com/browse/product.do?pid=500001002&vid=1",
        html_file_path=f"{group_id}/{ts}/500001002.html",
        page_http_status=200,
        image_paths=[
            f"{group_id}/{ts}/500001002/images/01-cn500001002.jpg",
            f"{group_id}/{ts}/500001002/images/02-cn500001002_av1.jpg",
        ],
        parsed_data=P1_PARSED,
    )


P2 = dict(style_id="500002", cc_id="500002001", style_name="Plain \"Crew\" 'Neck'", cc_name="Black 😀\r\n\ttab")
P2_DATA = dict(
    position=1,
    regular_price="89.95",
    effective_price="44.0",
    price_type="M",
    percentage_off="51",
    inventory_status="Very Low",
    excluded_from_promotion=True,
    marketing_flags=[
        {"content": "50% off + extra 10% in the app", "position": "1", "type": "promo"},
        {"content": "Final sale", "position": "2", "type": "promo"},
        {"content": "60% off: limited time", "position": "3", "type": "promo"},
    ],
    style_marketing_flags=["Online exclusive"],
    badges=[],
    api_image_paths=[
        {"type": "S", "path": "/webcontent/0002/swatch.jpg"},
        {"type": "P01", "path": "/webcontent/0002/p01.jpg"},
        {"type": "VLI", "path": "/webcontent/0002/vli.jpg", "absoluteUrl": "https://www.gap.com/webcontent/0002/vli.jpg"},
        {"type": "AV1_Z", "path": "/webcontent/0002/av1z.jpg"},
        {"type": "VI_VD", "path": "/webcontent/0002/video.mp4"},
    ],
    product_page_url="https://www.gap.com/browse/product.do?pid=500002001",
    page_error="HTTP 404: not found 'x' \\ y",
    page_http_status=404,
    image_paths=[],
    parsed_data=None,
)

P3 = dict(style_id="500003", cc_id="500003001", style_name="Partial tee", cc_name="Grey % 'heather'")
P3_DATA = dict(
    position=2,
    regular_price="20",
    effective_price="20",
    price_type="R",
    percentage_off="",
    marketing_flags=[],
    badges=[],
    api_image_paths=[],
    html_file_path=None,
    image_paths=[],
    parsed_data={
        "schema": 1,
        "title": "Partial 'tee'",
        "sizes": [{"label": "S", "available": True}, {"label": "M", "available": False}],
        "warnings": ["price not found", "colour \"missing\""],
        "images": ["https://img.example/x.jpg?a=1&b='2'", "https://img.example/y.jpg"],
    },
    parse_error="partial: no price 😀",
)


def build_fetch_a(url: str) -> tuple[int, int]:
    """Group, page and fetch A with products P1 (fully parsed), P2 (no parsed data), P3 (partly parsed)."""
    with db.session_scope(url) as session:
        group = PagesGroup(title=GROUP_TITLE)
        session.add(group)
        session.flush()
        page = GapPage(pages_group_id=group.id, title="Men's tees", web_page_url="https://www.gap.com/x",
                       web_page_parameters={}, api_url="https://api.gap.com/x")
        session.add(page)
        session.flush()
        fetch = add_fetch(session, group, TS_A, started_at=STARTED_A)
        add_product(session, fetch, page, P1, p1_data(group.id, TS_A))
        add_product(session, fetch, page, P2, P2_DATA)
        add_product(session, fetch, None, P3, P3_DATA)
        return group.id, fetch.id


def expected_a(group_id: int, fetch_id: int) -> dict[str, list[dict]]:
    common = dict(gap_data_fetch_id=fetch_id, folder_timestamp=TS_A, updated_at=GENERATED_A)
    p1 = empty_product_row(
        **P1,
        title=P1_PARSED["title"],
        color_name="Navy 'Blue' 😀",
        category="Men's tees",
        current_price=Decimal("24.97"),
        regular_price=Decimal("49.95"),
        currency="USD",
        percent_off=50,
        price_type="P",
        listing_effective_price=Decimal("24.98"),
        listing_regular_price=Decimal("49.95"),
        available=True,
        inventory_status="In Stock",
        inventory_count=12,
        review_score=Decimal("4.6"),
        review_count=87,
        excluded_from_promotion=False,
        blocked=False,
        marketing_flags=[{"content": "Extra 50% off at checkout", "position": "1", "type": "promo"}],
        style_marketing_flags=[],
        badges=[{"type": "Dynamic", "id": "BEST_SELLER", "content": "Best seller 😀", "position": "6"}],
        details=P1_PARSED["details"],
        warnings=P1_PARSED["warnings"],
        description=P1_PARSED["description"],
        parsed_data=P1_PARSED,
        product_page_url="https://www.gap.com/browse/product.do?pid=500001002&vid=1",
        html_file="500001002.html",
        parse_schema=1,
        **common,
    )
    p2 = empty_product_row(
        **P2,
        title=P2["style_name"],
        color_name=P2["cc_name"],
        category="Men's tees",
        current_price=Decimal("44.00"),
        regular_price=Decimal("89.95"),
        percent_off=51,
        price_type="M",
        listing_effective_price=Decimal("44.00"),
        listing_regular_price=Decimal("89.95"),
        available=True,
        inventory_status="Very Low",
        excluded_from_promotion=True,
        marketing_flags=P2_DATA["marketing_flags"],
        style_marketing_flags=["Online exclusive"],
        badges=[],
        product_page_url="https://www.gap.com/browse/product.do?pid=500002001",
        page_error="HTTP 404: not found 'x' \\ y",
        **common,
    )
    p3 = empty_product_row(
        **P3,
        title="Partial 'tee'",
        color_name=P3["cc_name"],
        current_price=Decimal("20.00"),
        regular_price=Decimal("20.00"),
        price_type="R",
        listing_effective_price=Decimal("20.00"),
        listing_regular_price=Decimal("20.00"),
        marketing_flags=[],
        style_marketing_flags=[],
        badges=[],
        warnings=["price not found", "colour \"missing\""],
        parsed_data=P3_DATA["parsed_data"],
        parse_error="partial: no price 😀",
        parse_schema=1,
        **common,
    )
    c1, c2, c3 = P1["cc_id"], P2["cc_id"], P3["cc_id"]
    return {
        "gap_fetch": [
            dict(fetch_id=fetch_id, pages_group_id=group_id, group_title=GROUP_TITLE, folder_timestamp=TS_A,
                 # written at the last step (generating_output): the fetch completes as the file is generated
                 started_at=STARTED_A, completed_at=GENERATED_A, generated_at=GENERATED_A, product_count=3)
        ],
        "gap_product": [p1, p2, p3],
        "gap_product_size": [
            dict(cc_id=c1, position=0, label="XS", available=False),
            dict(cc_id=c1, position=1, label="S", available=True),
            dict(cc_id=c1, position=2, label="M", available=True),
            dict(cc_id=c3, position=0, label="S", available=True),
            dict(cc_id=c3, position=1, label="M", available=False),
        ],
        "gap_product_fit": [
            dict(cc_id=c1, position=0, label="Regular", available=True),
            dict(cc_id=c1, position=1, label="Tall", available=False),
        ],
        "gap_product_length": [
            dict(cc_id=c1, position=0, label="Short", available=True),
            dict(cc_id=c1, position=1, label="Long 'L'", available=False),
        ],
        "gap_product_variant": [
            dict(cc_id=c1, size="M", fit="Regular", length="Long 'L'", position=4, sku="9", available=False,
                 price=Decimal("19.99")),
            dict(cc_id=c1, size="M", fit="Regular", length="Short", position=3, sku="x'y\\z%", available=True,
                 price=Decimal("19.99")),
            dict(cc_id=c1, size="S", fit="Regular", length="", position=1, sku="5000010020002", available=True,
                 price=Decimal("24.97")),
            dict(cc_id=c1, size="S", fit="Tall", length="", position=2, sku=None, available=False, price=None),
            dict(cc_id=c1, size="XS", fit="Regular", length="", position=0, sku="5000010020001", available=False,
                 price=Decimal("24.97")),
            # P3 has sizes and no fits: one variant per size.
            dict(cc_id=c3, size="M", fit="", length="", position=1, sku=None, available=False, price=None),
            dict(cc_id=c3, size="S", fit="", length="", position=0, sku=None, available=True, price=None),
        ],
        "gap_product_color": [
            dict(cc_id=c1, position=0, swatch_cc_id="500001002", name="Navy 'Blue' 😀", available=True),
            dict(cc_id=c1, position=1, swatch_cc_id="500001003", name='Red \\ "Hot"', available=False),
        ],
        "gap_product_discount": [
            dict(cc_id=c1, position=0, text="Extra 50% off at checkout", percent=50, applies="checkout",
                 excluded=False, source="page"),
            dict(cc_id=c1, position=1, text="'); DROP TABLE gap_product; --", percent=None, applies=None,
                 excluded=True, source="page"),
            dict(cc_id=c1, position=2, text="10% off in the app 😀", percent=10, applies="app", excluded=False,
                 source="page"),
            # P2 has no parsed data: the listing's discount flags ("Final sale" is none).
            dict(cc_id=c2, position=0, text="50% off + extra 10% in the app", percent=50, applies="app",
                 excluded=True, source="listing"),
            dict(cc_id=c2, position=1, text="60% off: limited time", percent=60, applies="limited_time",
                 excluded=True, source="listing"),
        ],
        "gap_product_image": [
            # Downloaded files, relative to the fetch folder, their source URLs found in the listing.
            dict(cc_id=c1, position=0, url="https://www.gap.com/webcontent/0001/cn500001002.jpg",
                 local_path="500001002/images/01-cn500001002.jpg"),
            dict(cc_id=c1, position=1, url="/webcontent/0001/cn500001002_av1.jpg",
                 local_path="500001002/images/02-cn500001002_av1.jpg"),
            # Nothing downloaded, no page: one listing image per view (no swatch, no video).
            dict(cc_id=c2, position=0, url="https://www.gap.com/webcontent/0002/vli.jpg", local_path=None),
            dict(cc_id=c2, position=1, url="/webcontent/0002/av1z.jpg", local_path=None),
            # Nothing downloaded: the page's images.
            dict(cc_id=c3, position=0, url="https://img.example/x.jpg?a=1&b='2'", local_path=None),
            dict(cc_id=c3, position=1, url="https://img.example/y.jpg", local_path=None),
        ],
    }


def assert_tables_equal(actual: dict, expected: dict) -> None:
    assert sorted(actual) == sorted(expected)
    for table in expected:
        assert actual[table] == expected[table], table


# ------------------------------------------------------------------ tests without a database


def test_rendering_is_safe_without_a_database():
    fetch = FetchInfo(fetch_id=7, pages_group_id=3, group_title=GROUP_TITLE, folder_timestamp=TS_A,
                      generated_at=GENERATED_A)
    record = {**P1, **p1_data(3, TS_A)}
    counts: dict[str, int] = {}
    script = "".join(render_sql(fetch, [record], counts))
    assert counts == {"products": 1, "sizes": 3, "fits": 2, "lengths": 2, "variants": 5, "colors": 2, "discounts": 3,
                      "images": 2}
    lines = script.splitlines()
    # The header: comments only, the title's newline escaped, the counts, how to load.
    header = lines[: lines.index("BEGIN;")]
    assert all(line.startswith("--") or line.startswith("SET ") or line == "" for line in header)
    assert "SET client_encoding = 'UTF8';" in header and "SET standard_conforming_strings = on;" in header
    assert any("\\u000a-- DROP TABLE gap_product; --\\u000d\\u000a\\! echo pwned" in line for line in header)
    assert any("products=1, sizes=3, fits=2, lengths=2, variants=5, colors=2, discounts=3, images=2" in line for line in header)
    assert any("psql -v ON_ERROR_STOP=1 -f" in line for line in header)
    assert script.rstrip().endswith("COMMIT;")
    # Literals: quotes doubled, backslashes and percent signs as they are (standard_conforming_strings).
    assert "'Vintage ''Soft'' Tee \\ 100% \"cotton\" 😀™'" in script
    assert "%%" not in script
    assert "'x''y\\z%'" in script
    assert "CAST('[\"fit markup unconfirmed \\\\ ''guess''\"]' AS JSONB)" in script


def test_jsonb_literal_type_renders_with_the_library_quoting():
    table = sa.table("t", sa.column("j", JSONBLiteral()))
    from sqlalchemy.dialects import postgresql

    statement = postgresql.insert(table).values(j={"a": "b'c\\d", "e": [1, None, True]})
    sql = str(statement.compile(dialect=postgresql.dialect(paramstyle="named"),
                                compile_kwargs={"literal_binds": True}))
    assert sql.endswith("VALUES (CAST('{\"a\":\"b''c\\\\d\",\"e\":[1,null,true]}' AS JSONB))")


def test_invalid_values_become_null_and_paths_relative():
    fetch = FetchInfo(fetch_id=1, pages_group_id=4, folder_timestamp=TS_A, fetch_dir="/data/tmp/4/" + TS_A)
    record = {
        "cc_id": "1", "style_id": "1",
        "regular_price": "abc", "effective_price": "123456789.00", "percentage_off": "x",
        "inventory_status": "Out of Stock", "html_file_path": f"/data/tmp/4/{TS_A}/1.html",
        "image_paths": [{"url": "https://x/a.jpg", "path": f"4/{TS_A}/1/images/01-a.jpg"}, "/elsewhere/b.jpg"],
        "parsed_data": {
            "price": {"current": float("nan"), "regular": True, "percent_off": "50%"},
            "sizes": ["M", {"label": None}, {"label": "L", "available": "yes"}],
            "variants": [{"size": "L", "fit": None, "available": True, "price": "1e3"},
                         {"size": "L", "fit": "", "available": False}, {"fit": "Tall"}],
            "details": ["not", "a", "dict"],
            "warnings": "not a list",
            "discounts": [{"text": None, "percent": None}, {"percent": 5, "applies": "x" * 40}],
            "colors": "nope",
            "blocked": "maybe",
        },
    }
    rows = product_rows(record, fetch)
    product = rows.product
    assert product["current_price"] is None and product["regular_price"] is None
    assert product["listing_effective_price"] is None  # does not fit NUMERIC(10,2)
    assert product["percent_off"] is None
    assert product["available"] is False  # from "Out of Stock"
    assert product["details"] is None and product["warnings"] is None and product["blocked"] is None
    assert product["html_file"] == "1.html"
    assert rows.children["sizes"] == [{"cc_id": "1", "position": 0, "label": "L", "available": True}]
    assert rows.children["variants"] == [
        {"cc_id": "1", "size": "L", "fit": "", "length": "", "position": 0, "sku": None, "available": True,
         "price": Decimal("1000.00")}
    ]
    assert rows.children["discounts"] == [
        {"cc_id": "1", "position": 0, "text": None, "percent": 5, "applies": "x" * 32, "excluded": None,
         "source": "page"}
    ]
    assert rows.children["colors"] == []
    assert rows.children["images"] == [
        {"cc_id": "1", "position": 0, "url": "https://x/a.jpg", "local_path": "1/images/01-a.jpg"},
        {"cc_id": "1", "position": 1, "url": None, "local_path": "/elsewhere/b.jpg"},
    ]


# ------------------------------------------------------------------ round trips through psql


@pytest.fixture(params=["postgresql", "sqlite"])
def source_url(request):
    """The source database: PostgreSQL in production, SQLite in the demo."""
    return request.getfixturevalue("pg_url" if request.param == "postgresql" else "sqlite_url")


def test_round_trip_every_row_and_column(source_url, scratch, tmp_path):
    group_id, fetch_id = build_fetch_a(source_url)
    path = tmp_path / str(group_id) / TS_A / f"gap_data_{TS_A}.sql"
    with db.session_scope(source_url) as session:
        counts = write_sql_output(session, fetch_id, path, generated_at=GENERATED_A, batch_size=2)
    assert counts == {"products": 3, "sizes": 5, "fits": 2, "lengths": 2, "variants": 7, "colors": 2, "discounts": 5,
                      "images": 6}
    text = path.read_text(encoding="utf-8")
    assert text.count("INSERT INTO gap_product ") == 2  # two batches of at most 2 products
    assert not list(path.parent.glob(".*.part"))

    psql(scratch, path)
    expected = expected_a(group_id, fetch_id)
    assert_tables_equal(read_tables(scratch), expected)

    # Loading the same file again leaves the same rows, quietly (no "already exists" notices).
    assert psql(scratch, path).stderr == ""
    assert_tables_equal(read_tables(scratch), expected)


def test_second_fetch_replaces_facts_and_removes_stale_rows(pg_url, scratch, tmp_path):
    group_id, fetch_a = build_fetch_a(pg_url)
    path_a = tmp_path / f"gap_data_{TS_A}.sql"
    with db.session_scope(pg_url) as session:
        write_sql_output(session, fetch_a, path_a, generated_at=GENERATED_A)
        session.execute(sa.update(GapDataFetch).where(GapDataFetch.id == fetch_a).values(status=SUCCEEDED))

    # Fetch B sees P1 again with size XS gone, the Tall fit gone, one discount, one image, a new price;
    # P3 is now unparsed; P2 is not in B.
    parsed_b = {
        **P1_PARSED,
        "sizes": [{"label": "S", "available": False}, {"label": "M", "available": True}],
        "fits": [{"label": "Regular", "available": True}],
        "lengths": [],
        "variants": [
            {"size": "S", "fit": "Regular", "available": False, "sku": "5000010020002", "price": "19.99"},
            {"size": "M", "fit": "Regular", "available": True, "sku": "x'y\\z%", "price": "19.99"},
        ],
        "price": {"current": "19.99", "regular": "49.95", "currency": "USD", "percent_off": 60},
        "discounts": [{"text": "60% off: limited time", "percent": 60, "applies": "limited_time", "excluded": False}],
        "colors": [],
        "details": {},
        "warnings": [],
    }
    with db.session_scope(pg_url) as session:
        group = session.get(PagesGroup, group_id)
        fetch = add_fetch(session, group, TS_B)
        fetch_b = fetch.id
        data_b = {**p1_data(group_id, TS_B), "parsed_data": parsed_b, "effective_price": "19.99",
                  "image_paths": [f"{group_id}/{TS_B}/500001002/images/01-cn500001002.jpg"]}
        add_product(session, fetch, None, P1, data_b)
        add_product(session, fetch, None, P3, {**P3_DATA, "parsed_data": None, "parse_error": None})
    path_b = tmp_path / f"gap_data_{TS_B}.sql"
    with db.session_scope(pg_url) as session:
        counts = write_sql_output(session, fetch_b, path_b, generated_at=GENERATED_B)
    assert counts["products"] == 2

    psql(scratch, path_a)
    psql(scratch, path_b)
    tables = read_tables(scratch)
    c1, c2, c3 = P1["cc_id"], P2["cc_id"], P3["cc_id"]
    expected = expected_a(group_id, fetch_a)
    by_cc = {row["cc_id"]: row for row in tables["gap_product"]}
    p1 = expected["gap_product"][0]
    p1.update(current_price=Decimal("19.99"), percent_off=60, listing_effective_price=Decimal("19.99"),
              category=None, details={}, warnings=[], parsed_data=parsed_b, html_file="500001002.html",
              gap_data_fetch_id=fetch_b,
              folder_timestamp=TS_B, updated_at=GENERATED_B)
    assert by_cc[c1] == p1
    p3 = expected["gap_product"][2]
    p3.update(title=P3["style_name"], warnings=None, parsed_data=None, parse_error=None, parse_schema=None, category=None,
              gap_data_fetch_id=fetch_b, folder_timestamp=TS_B, updated_at=GENERATED_B)
    assert by_cc[c3] == p3
    assert by_cc[c2] == expected["gap_product"][1]  # not in B: keeps A's facts
    assert tables["gap_product_size"] == [
        dict(cc_id=c1, position=0, label="S", available=False),
        dict(cc_id=c1, position=1, label="M", available=True),
    ]
    assert tables["gap_product_fit"] == [dict(cc_id=c1, position=0, label="Regular", available=True)]
    assert tables["gap_product_length"] == []
    assert tables["gap_product_variant"] == [
        dict(cc_id=c1, size="M", fit="Regular", length="", position=1, sku="x'y\\z%", available=True,
             price=Decimal("19.99")),
        dict(cc_id=c1, size="S", fit="Regular", length="", position=0, sku="5000010020002", available=False,
             price=Decimal("19.99")),
    ]
    assert tables["gap_product_color"] == []
    assert tables["gap_product_discount"] == [
        dict(cc_id=c1, position=0, text="60% off: limited time", percent=60, applies="limited_time",
             excluded=False, source="page"),
    ] + [row for row in expected["gap_product_discount"] if row["cc_id"] == c2]
    assert tables["gap_product_image"] == [
        dict(cc_id=c1, position=0, url="https://www.gap.com/webcontent/0001/cn500001002.jpg",
             local_path="500001002/images/01-cn500001002.jpg"),
    ] + [row for row in expected["gap_product_image"] if row["cc_id"] == c2]
    assert [(f["fetch_id"], f["product_count"]) for f in tables["gap_fetch"]] == [(fetch_a, 3), (fetch_b, 2)]

    # B's file again: nothing changes.
    psql(scratch, path_b)
    assert read_tables(scratch) == tables


def test_product_without_parsed_data_keeps_its_listing_facts(pg_url, scratch, tmp_path):
    with db.session_scope(pg_url) as session:
        group = PagesGroup(title="plain")
        session.add(group)
        session.flush()
        fetch = add_fetch(session, group, TS_A)
        add_product(session, fetch, None, P2, P2_DATA)
        fetch_id = fetch.id
    path = tmp_path / "out.sql"
    with db.session_scope(pg_url) as session:
        counts = write_sql_output(session, fetch_id, path, generated_at=GENERATED_A)
    assert counts == {"products": 1, "sizes": 0, "fits": 0, "lengths": 0, "variants": 0, "colors": 0, "discounts": 2,
                      "images": 2}
    psql(scratch, path)
    (product,) = read_tables(scratch)["gap_product"]
    assert product["title"] == "Plain \"Crew\" 'Neck'" and product["color_name"] == "Black 😀\r\n\ttab"
    assert (product["current_price"], product["regular_price"], product["percent_off"]) == (
        Decimal("44.00"), Decimal("89.95"), 51)
    assert product["price_type"] == "M" and product["inventory_status"] == "Very Low"
    assert product["available"] is True and product["page_error"] == "HTTP 404: not found 'x' \\ y"


def test_zero_products_is_a_valid_file(pg_url, scratch, tmp_path):
    with db.session_scope(pg_url) as session:
        group = PagesGroup(title="empty 'group'\n")
        session.add(group)
        session.flush()
        fetch_id = add_fetch(session, group, TS_A).id
        group_id = group.id
    path = tmp_path / "empty.sql"
    with db.session_scope(pg_url) as session:
        counts = write_sql_output(session, fetch_id, path, generated_at=GENERATED_A)
    assert counts == {k: 0 for k in ("products", "sizes", "fits", "lengths", "variants", "colors", "discounts",
                                     "images")}
    psql(scratch, path)
    psql(scratch, path)
    tables = read_tables(scratch)
    assert sorted(tables) == sorted(TABLES)
    assert tables["gap_fetch"] == [
        dict(fetch_id=fetch_id, pages_group_id=group_id, group_title="empty 'group'\n", folder_timestamp=TS_A,
             started_at=None, completed_at=GENERATED_A, generated_at=GENERATED_A, product_count=0)
    ]
    assert all(rows == [] for name, rows in tables.items() if name != "gap_fetch")


def test_a_failing_statement_rolls_back_everything(pg_url, scratch, tmp_path):
    group_id, fetch_id = build_fetch_a(pg_url)
    path = tmp_path / "a.sql"
    with db.session_scope(pg_url) as session:
        write_sql_output(session, fetch_id, path, generated_at=GENERATED_A)
    text = path.read_text(encoding="utf-8")
    assert text.rstrip().endswith("COMMIT;")
    broken = tmp_path / "broken.sql"
    broken.write_text(text.rstrip()[: -len("COMMIT;")] + "SELECT 1 / 0;\nCOMMIT;\n", encoding="utf-8")

    # On an empty database: not even the tables are left behind.
    result = psql(scratch, broken, check=False)
    assert result.returncode != 0 and "division by zero" in result.stderr
    assert read_tables(scratch) == {}

    # Without ON_ERROR_STOP too: the COMMIT of the aborted transaction rolls back.
    subprocess.run(["psql", "-X", "-q", "-d", libpq_url(scratch), "-f", str(broken)], capture_output=True, check=False)
    assert read_tables(scratch) == {}

    # On a loaded database: the rows stay as they were.
    psql(scratch, path)
    before = read_tables(scratch)
    engine = sa.create_engine(scratch)
    with engine.begin() as conn:
        conn.execute(sa.text("UPDATE gap_product SET title = 'changed' WHERE cc_id = '500001002'"))
        conn.execute(sa.text("DELETE FROM gap_product_size WHERE cc_id = '500001002' AND position = 0"))
    engine.dispose()
    changed = read_tables(scratch)
    assert changed != before
    assert psql(scratch, broken, check=False).returncode != 0
    assert read_tables(scratch) == changed
    psql(scratch, path)
    assert read_tables(scratch) == before


def test_older_tables_gain_new_columns(pg_url, scratch, tmp_path):
    """A shop database loaded by an older version (fewer columns) takes the new file."""
    engine = sa.create_engine(scratch)
    with engine.begin() as conn:
        conn.execute(sa.text("CREATE TABLE gap_product (cc_id VARCHAR(32) PRIMARY KEY, style_id VARCHAR(32))"))
        conn.execute(sa.text("INSERT INTO gap_product VALUES ('999', '9')"))
    engine.dispose()
    group_id, fetch_id = build_fetch_a(pg_url)
    path = tmp_path / "a.sql"
    with db.session_scope(pg_url) as session:
        write_sql_output(session, fetch_id, path, generated_at=GENERATED_A)
    psql(scratch, path)
    tables = read_tables(scratch)
    expected = expected_a(group_id, fetch_id)
    assert tables["gap_product"][:3] == expected["gap_product"]
    assert tables["gap_product"][3] == empty_product_row(cc_id="999", style_id="9")
    assert tables["gap_product_variant"] == expected["gap_product_variant"]


def test_a_colour_listed_twice_is_written_once(pg_url, scratch, tmp_path):
    """Two Product rows with one ccId (different styles) in one fetch: the first is kept, the file loads."""
    with db.session_scope(pg_url) as session:
        group = PagesGroup(title="dupes")
        session.add(group)
        session.flush()
        fetch = add_fetch(session, group, TS_A)
        add_product(session, fetch, None, P3, P3_DATA)
        add_product(session, fetch, None, {**P3, "style_id": "777"}, {**P3_DATA, "position": 5})
        fetch_id = fetch.id
    path = tmp_path / "dupes.sql"
    with db.session_scope(pg_url) as session:
        counts = write_sql_output(session, fetch_id, path, generated_at=GENERATED_A)
    assert counts["products"] == 1 and counts["variants"] == 2
    psql(scratch, path)
    (product,) = read_tables(scratch)["gap_product"]
    assert product["style_id"] == P3["style_id"]


def test_unknown_fetch_is_an_error(pg_url, tmp_path):
    with db.session_scope(pg_url) as session, pytest.raises(LookupError):
        write_sql_output(session, 424242, tmp_path / "x.sql")
    assert not (tmp_path / "x.sql").exists()


def test_failed_fetch_status_does_not_matter(pg_url, scratch, tmp_path):
    """The post-crawl step may rerun output for any fetch; the file depends only on its data."""
    with db.session_scope(pg_url) as session:
        group = PagesGroup(title="failed one")
        session.add(group)
        session.flush()
        fetch = add_fetch(session, group, TS_A, status=FAILED)
        add_product(session, fetch, None, P3, P3_DATA)
        fetch_id = fetch.id
    path = tmp_path / "f.sql"
    with db.session_scope(pg_url) as session:
        assert write_sql_output(session, fetch_id, path)["products"] == 1
    psql(scratch, path)
    tables = read_tables(scratch)
    assert [p["cc_id"] for p in tables["gap_product"]] == [P3["cc_id"]]
    assert tables["gap_fetch"][0]["completed_at"] is None  # only the last step's file completes the fetch


def test_downloaded_image_with_an_escaped_name_keeps_its_source_url():
    """The images pipeline names a file after the request URL, which Scrapy percent-escapes ("a b ü.jpg" is
    fetched as "a%20b%20%C3%BC.jpg", saved as "...a_20b_20_C3_BC.jpg"): the file still leads back to its listing entry."""
    fetch = FetchInfo(fetch_id=1, pages_group_id=4, folder_timestamp=TS_A)
    record = {
        "cc_id": "1", "style_id": "1",
        "api_image_paths": [{"type": "VLI", "path": "/webcontent/space name \u00fc.jpg"}],
        "image_paths": [f"4/{TS_A}/1/images/01-space_20name_20_C3_BC.jpg"],
    }
    assert product_rows(record, fetch).children["images"] == [
        {"cc_id": "1", "position": 0, "url": "/webcontent/space name \u00fc.jpg",
         "local_path": "1/images/01-space_20name_20_C3_BC.jpg"},
    ]


def test_a_downloaded_image_keeps_the_url_it_was_fetched_from():
    """The listing's absoluteUrl may name another rendition or host: the row says what was actually fetched."""
    fetch = FetchInfo(fetch_id=1, pages_group_id=4, folder_timestamp=TS_A)
    record = {
        "cc_id": "1", "style_id": "1",
        "api_image_paths": [{"type": "VLI", "path": "/webcontent/a.jpg",
                             "absoluteUrl": "https://content.example/other.png?width=520"}],
        "image_paths": [f"4/{TS_A}/1/images/01-a.jpg"],
        "image_urls": ["https://www.gap.com/webcontent/a.jpg"],
    }
    assert product_rows(record, fetch).children["images"] == [
        {"cc_id": "1", "position": 0, "url": "https://www.gap.com/webcontent/a.jpg", "local_path": "1/images/01-a.jpg"},
    ]


def test_an_image_of_a_row_older_than_image_urls_is_not_given_the_url_of_another_file():
    """Rows written before image_urls (a database upgraded from migration 0001): the file was fetched from the
    listing's `path`; the entry's absoluteUrl is Gap's dynamic photo, another file (a real listing's entry below).
    The file must not be paired with it."""
    fetch = FetchInfo(fetch_id=1, pages_group_id=4, folder_timestamp=TS_A)
    record = {
        "cc_id": "796255962", "style_id": "796255",
        "product_page_url": "https://www.gap.com/browse/product.do?pid=796255962&vid=1&cid=5225",
        "api_image_paths": [
            {"type": "VLI", "path": "/webcontent/0062/670/768/cn62670768.jpg", "position": 1,
             "absoluteUrl": "https://content.gapinc.com/b/0062/670/789/cn62670789.png?width=520"},
            {"type": "Z", "path": "/webcontent/0061/814/824/cn61814824.jpg",
             "absoluteUrl": "https://www.gap.com/webcontent/0061/814/824/cn61814824.jpg"},
        ],
        "image_paths": [f"4/{TS_A}/796255962/images/01-cn62670768.jpg",
                        f"4/{TS_A}/796255962/images/02-cn61814824.jpg"],
        "image_urls": None,
    }
    assert product_rows(record, fetch).children["images"] == [
        {"cc_id": "796255962", "position": 0, "url": "/webcontent/0062/670/768/cn62670768.jpg",
         "local_path": "796255962/images/01-cn62670768.jpg"},
        {"cc_id": "796255962", "position": 1, "url": "https://www.gap.com/webcontent/0061/814/824/cn61814824.jpg",
         "local_path": "796255962/images/02-cn61814824.jpg"},
    ]
