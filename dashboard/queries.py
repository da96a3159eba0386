"""Read-side queries shared by the pages and the JSON API."""

from __future__ import annotations

import threading
from collections import OrderedDict
from types import SimpleNamespace
from typing import Any, Callable, Sequence

from flask import abort
from sqlalchemy import Select, func, select
from sqlalchemy.orm import Session, selectinload

from gapspider.db import active_fetch, find_group
from gapspider.models import GapDataFetch, GapPage, PagesGroup, Product, ProductData

from dashboard import paging


def group_or_404(session: Session, group_id: int | str) -> PagesGroup:
    group = find_group(session, group_id) if isinstance(group_id, str) else session.get(PagesGroup, group_id)
    if group is None:
        abort(404)
    return group


def page_or_404(session: Session, page_id: int) -> GapPage:
    page = session.get(GapPage, page_id)
    if page is None:
        abort(404)
    return page


def fetch_or_404(session: Session, fetch_id: int) -> GapDataFetch:
    fetch = session.get(GapDataFetch, fetch_id)
    if fetch is None:
        abort(404)
    return fetch


def group_summaries(session: Session) -> list[dict[str, Any]]:
    """Every group with its number of pages, its last fetch and whether one is active (3 queries)."""
    groups = list(session.scalars(select(PagesGroup).order_by(func.lower(PagesGroup.title))))
    counts = dict(
        session.execute(
            select(GapPage.pages_group_id, func.count(GapPage.id)).group_by(GapPage.pages_group_id)
        ).all()
    )
    last_ids = select(func.max(GapDataFetch.id)).group_by(GapDataFetch.pages_group_id)
    last = {
        f.pages_group_id: f
        for f in session.scalars(select(GapDataFetch).where(GapDataFetch.id.in_(last_ids)))
    }
    summaries = []
    for group in groups:
        fetch = last.get(group.id)
        summaries.append(
            {
                "group": group,
                "page_count": counts.get(group.id, 0),
                "last_fetch": fetch,
                "active": fetch is not None and fetch.is_active,
            }
        )
    return summaries


def group_active_fetch(session: Session, group_id: int) -> GapDataFetch | None:
    return active_fetch(session, group_id)


def fetches_query(group_id: int | None = None, statuses: Sequence[str] | None = None) -> Select:
    """Fetches, newest first (id descending: a stable order for paging), of one group and/or some statuses."""
    query = select(GapDataFetch).order_by(GapDataFetch.id.desc())
    if group_id is not None:
        query = query.where(GapDataFetch.pages_group_id == group_id)
    if statuses is not None:
        query = query.where(GapDataFetch.status.in_(list(statuses)))
    return query


def fetches_page(session: Session, query: Select, page: int, per_page: int, *, clamp: bool = False
                 ) -> tuple[paging.Paging, list[GapDataFetch]]:
    """One page of `query` (from fetches_query) and its Paging: a COUNT and one page of rows (with their groups).
    `clamp`: a page past the last one shows the last one (HTML pages) instead of an empty page (the API)."""
    total = paging.count(session, query)
    page_ = paging.clamp(page, per_page, total) if clamp else paging.Paging(page, per_page, total)
    if page_.offset >= total:
        return page_, []
    return page_, paging.rows(session, query.options(selectinload(GapDataFetch.pages_group)), page_)


# What presenters.product_row reads of a fetch's row and of its Product. The products table is built from these columns
# only: not from the listing's JSON (listing_data, api_image_paths, image_urls, badges: ~8 kB a product, most of what a
# fetch stores), which a page of the table never shows.
PRODUCT_ROW_COLUMNS = (
    "id", "position", "effective_price", "regular_price", "percentage_off", "price_type", "inventory_status",
    "marketing_flags", "image_paths", "image_errors", "page_error", "parse_error", "parsed_data", "product_page_url",
)
PRODUCT_COLUMNS = ("cc_id", "style_id", "style_name", "cc_name", "cc_short_description")


def product_row_sources(session: Session, fetch_id: int) -> list[SimpleNamespace]:
    """The fetch's products in listing order, as light objects with the attributes product_row reads (`.product`
    included): one query of plain columns, no ORM objects, no listing JSON."""
    columns = [getattr(ProductData, name) for name in PRODUCT_ROW_COLUMNS]
    product_columns = [getattr(Product, name).label(f"product_{name}") for name in PRODUCT_COLUMNS]
    result = session.execute(
        select(*columns, Product.id.label("product_id"), *product_columns)
        .outerjoin(Product, Product.id == ProductData.product_id)
        .where(ProductData.gap_data_fetch_id == fetch_id)
        .order_by(ProductData.position, ProductData.id)
    )
    sources = []
    for row in result:
        values = row._mapping
        source = SimpleNamespace(**{name: values[name] for name in PRODUCT_ROW_COLUMNS})
        source.product = (
            SimpleNamespace(**{name: values[f"product_{name}"] for name in PRODUCT_COLUMNS})
            if values["product_id"] is not None else None
        )
        sources.append(source)
    return sources


def product_rows_fingerprint(session: Session, fetch_id: int) -> tuple:
    """Changes whenever a row of the fetch or one of its Products is added, updated or removed (every write sets
    updated_at): the number of rows and the latest updated_at of each table (one indexed aggregate query)."""
    return tuple(
        session.execute(
            select(func.count(ProductData.id), func.max(ProductData.updated_at), func.max(Product.updated_at))
            .outerjoin(Product, Product.id == ProductData.product_id)
            .where(ProductData.gap_data_fetch_id == fetch_id)
        ).one()
    )


class ProductRowsCache:
    """The products table rows of the last few fetches shown, so that paging, searching and filtering a big fetch
    (thousands of products) does not read and convert every row again on each click. An entry is used only while the
    fetch's fingerprint (product_rows_fingerprint) is unchanged, so a running fetch and a `postprocess` redo are shown
    as they are. The rows are shared between requests: read them, never change them."""

    def __init__(self, size: int = 4):
        self.size = size
        self._lock = threading.Lock()
        self._entries: OrderedDict[int, tuple[tuple, list[dict[str, Any]]]] = OrderedDict()

    def rows(self, session: Session, fetch_id: int, build: Callable[[Any], dict[str, Any]]) -> list[dict[str, Any]]:
        key = product_rows_fingerprint(session, fetch_id)
        with self._lock:
            entry = self._entries.get(fetch_id)
            if entry is not None and entry[0] == key:
                self._entries.move_to_end(fetch_id)
                return entry[1]
        rows = [build(source) for source in product_row_sources(session, fetch_id)]
        if key != product_rows_fingerprint(session, fetch_id):
            return rows  # written to meanwhile: right for this request, not worth keeping
        with self._lock:
            self._entries[fetch_id] = (key, rows)
            self._entries.move_to_end(fetch_id)
            while len(self._entries) > self.size:
                self._entries.popitem(last=False)
        return rows
