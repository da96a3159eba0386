"""Listing-API responses of the replica, as pure functions of the catalog and the query.

Gap pages a category by colour, not by style: page N holds colours [N*size:(N+1)*size], grouped back into their
products. Pagination values and totalColors are strings, as in the real responses.
"""

from __future__ import annotations

import math
import random
import re

from .catalog import CURRENT, LEGACY, Catalog

MAX_PAGE_SIZE = 200
DEFAULT_PAGE_SIZE = 200
DEFAULT_LOCALE = "en_US"
LOCALE_PATTERN = re.compile(r"^[a-z]{2}_[A-Z]{2}$")


class ListingError(ValueError):
    """A query Gap would refuse with 400."""


def _single(query: dict, name: str) -> str | None:
    values = query.get(name)
    if values is None:
        return None
    if isinstance(values, (list, tuple)):
        return values[0] if values else None
    return values


def _int_param(query: dict, name: str, default: int, minimum: int) -> int:
    raw = _single(query, name)
    if raw is None or raw == "":
        return default
    try:
        value = int(raw)
    except ValueError:
        raise ListingError(f"{name} must be an integer, got {raw!r}") from None
    if value < minimum:
        raise ListingError(f"{name} must be at least {minimum}, got {value}")
    return value


def parse_listing_query(query: dict) -> dict:
    """Validate a parsed query string (values as lists, like urllib.parse.parse_qs) the way Gap does.

    Returns {cid, page_size, page_number, locale}; raises ListingError for what Gap answers 400.
    """
    cid = _single(query, "cid")
    if not cid:
        raise ListingError("cid is required")
    locale = _single(query, "locale") or DEFAULT_LOCALE
    if not LOCALE_PATTERN.match(locale):
        raise ListingError(f"Invalid locale {locale!r}")
    page_size = min(_int_param(query, "pageSize", DEFAULT_PAGE_SIZE, 1), MAX_PAGE_SIZE)
    page_number = _int_param(query, "pageNumber", 0, 0)
    return {"cid": cid, "page_size": page_size, "page_number": page_number, "locale": locale}


def _page_products(page_colours: list[tuple[dict, dict]]) -> list[dict]:
    """Group a page's colours back into products, first-seen order, each product listing only its colours here."""
    products: list[dict] = []
    by_style: dict[int, dict] = {}
    for product, colour in page_colours:
        copy = by_style.get(id(product))
        if copy is None:
            # a shallow copy keeps the real key order; only styleColors is replaced
            copy = {k: ([] if k == "styleColors" else v) for k, v in product.items()}
            copy.setdefault("styleColors", [])
            by_style[id(product)] = copy
            products.append(copy)
        copy["styleColors"].append(colour)
    return products


def _cc_list(endpoint: str, cid: str, page_number: int, page_colours: list[tuple[dict, dict]]) -> list[dict]:
    """Gap's ccList: legacy lists every colour of the page, current only a subset; both in their own order."""
    entries = [{"ccId": colour["ccId"], "styleId": product["styleId"]} for product, colour in page_colours]
    rng = random.Random(f"ccList:{endpoint}:{cid}:{page_number}")
    if endpoint == CURRENT and entries:
        keep = max(1, round(len(entries) * 0.55))
        entries = rng.sample(entries, keep)
    else:
        rng.shuffle(entries)
    return entries


def listing_response(catalog: Catalog, endpoint: str, cid: str, page_size: int, page_number: int,
                     locale: str = DEFAULT_LOCALE) -> dict:
    """The JSON body Gap's listing endpoint would answer for one page of a category."""
    if endpoint not in (LEGACY, CURRENT):
        raise ValueError(f"unknown endpoint {endpoint!r}")
    page_size = max(1, min(int(page_size), MAX_PAGE_SIZE))
    category = catalog.category(endpoint, cid)
    colours = list(category.colours) if category else []
    total = len(colours)
    page_colours = colours[page_number * page_size:(page_number + 1) * page_size]
    extra = dict(category.extra) if category else {}
    extra["locale"] = locale
    pagination = {
        "pageSize": str(page_size),
        "currentPage": str(page_number),
        "pageNumberTotal": str(math.ceil(total / page_size)),
    }
    categories = []
    if category:
        categories = [{
            "categoryId": category.cid,
            "categoryName": category.name,
            "ccList": _cc_list(endpoint, category.cid, page_number, page_colours),
        }]
    body = {"pagination": pagination}
    # Real key order: pagination, personalizedSortRecommenderInfo, totalColors, locale, sort..., categories, products,
    # facets, metadata.
    for key in ("personalizedSortRecommenderInfo",):
        if key in extra:
            body[key] = extra.pop(key)
    body["totalColors"] = str(total)
    body["locale"] = extra.pop("locale")
    metadata = extra.pop("metadata", None)
    body.update(extra)
    body["categories"] = categories
    body["products"] = _page_products(page_colours)
    body["facets"] = list(category.facets) if category else []
    if metadata is not None:
        body["metadata"] = metadata
    return body


def listing_error_body(message: str) -> dict:
    """The JSON Gap answers with its 400s (shape approximated; only the status is known for sure)."""
    return {"errors": [{"status": "400", "code": "BAD_REQUEST", "message": message}]}
