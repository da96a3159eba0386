"""Turning rows into what pages and JSON show: fetch progress, product rows. Pure functions, no Flask."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal, InvalidOperation
from typing import Any

from gapspider.models import (
    FAILED,
    FETCHING_PRODUCT_IMAGE,
    FETCHING_PRODUCT_LIST,
    FETCHING_PRODUCT_PAGE,
    GENERATING_OUTPUT,
    PARSING_PRODUCT_PAGES,
    PENDING,
    SUCCEEDED,
    GapDataFetch,
    ProductData,
    utcnow,
)

STAGES = [
    (PENDING, "Queued"),
    (FETCHING_PRODUCT_LIST, "Product list"),
    (FETCHING_PRODUCT_PAGE, "Product pages"),
    (FETCHING_PRODUCT_IMAGE, "Images"),
    (PARSING_PRODUCT_PAGES, "Parsing"),
    (GENERATING_OUTPUT, "Output"),
    (SUCCEEDED, "Done"),
]
STATUS_LABELS = {
    PENDING: "Queued",
    FETCHING_PRODUCT_LIST: "Fetching product list",
    FETCHING_PRODUCT_PAGE: "Fetching product pages",
    FETCHING_PRODUCT_IMAGE: "Fetching images",
    PARSING_PRODUCT_PAGES: "Parsing product pages",
    GENERATING_OUTPUT: "Generating output",
    SUCCEEDED: "Succeeded",
    FAILED: "Failed",
}
STAGE_INDEX = {status: index for index, (status, _label) in enumerate(STAGES)}


def status_label(status: str | None) -> str:
    return STATUS_LABELS.get(status or "", (status or "unknown").replace("_", " ").capitalize())


def fetch_label(fetch: GapDataFetch) -> str:
    """The badge text: "Cancelled" for a fetch failed by Cancel, else the status label."""
    if fetch.status == FAILED:
        message = fetch.error_message or ""
        if message == "cancelled" or (fetch.error_details or {}).get("cancelled_by"):
            return "Cancelled"  # someone pressed Cancel
        if message.startswith("cancelled"):
            return "Stopped"  # a signal (shutdown, scrapyd gone), not a person
    return status_label(fetch.status)


FAILURE_HELP = {
    "crawler stopped unexpectedly": (
        "The crawl process ended without reporting back: it was killed, crashed, or scrapyd was restarted. "
        "What was fetched so far is kept below; press Fetch again to start a complete fetch."
    ),
    "the crawl was never started (no crawler picked this fetch up)": (
        "No crawler took this fetch for 15 minutes. Is scrapyd running with the gapspider project?"
    ),
}


def failure_help(fetch: GapDataFetch) -> str | None:
    """One sentence for the user under a failure message the dashboard itself wrote."""
    message = fetch.error_message or ""
    if message.startswith("cancelled") and message != "cancelled" and "shutdown" in message:
        return ("Nobody pressed Cancel: the crawl was interrupted because scrapyd or the dashboard was stopped, "
                "or scrapyd was restarted after a crash. Press Fetch again to start a complete fetch.")
    if message.startswith("could not schedule the crawl"):
        return "scrapyd did not take the crawl, so nothing was fetched. Check that scrapyd runs, then press Fetch again."
    return FAILURE_HELP.get(message)


def status_tone(status: str | None) -> str:
    if status == SUCCEEDED:
        return "ok"
    if status == FAILED:
        return "bad"
    if status == PENDING:
        return "wait"
    return "run"


def _aware(value: dt.datetime | None) -> dt.datetime | None:
    if value is not None and value.tzinfo is None:
        return value.replace(tzinfo=dt.timezone.utc)
    return value


def iso(value: dt.datetime | None) -> str | None:
    value = _aware(value)
    return value.isoformat() if value else None


def elapsed_seconds(fetch: GapDataFetch, now: dt.datetime | None = None) -> float | None:
    """Seconds since the crawl started (to its end once finished); None while it is queued: the clock starts
    with the crawl, so it never jumps back when the start time arrives."""
    if fetch.started_at is None and fetch.is_active:
        return None
    start = _aware(fetch.started_at) or _aware(fetch.created_at)
    if start is None:
        return None
    end = _aware(fetch.completed_at) or (None if not fetch.is_active else (now or utcnow()))
    if end is None:
        end = _aware(fetch.updated_at) or start
    return max(0.0, (end - start).total_seconds())


def format_duration(seconds: float | None) -> str:
    if seconds is None:
        return "–"
    seconds = int(round(seconds))
    hours, rest = divmod(seconds, 3600)
    minutes, secs = divmod(rest, 60)
    if hours:
        return f"{hours}h {minutes:02d}m"
    if minutes:
        return f"{minutes}m {secs:02d}s"
    return f"{secs}s"


def _counter(done: int, total: int, failed: int = 0) -> dict[str, Any]:
    done, total, failed = int(done or 0), int(total or 0), int(failed or 0)
    finished = done + failed
    percent = 0.0 if total <= 0 else min(100.0, 100.0 * finished / total)
    return {"done": done, "failed": failed, "total": total, "percent": round(percent, 1)}


def fetch_progress(fetch: GapDataFetch) -> dict[str, Any]:
    """Counters with percentages, and an overall estimate for the index page's bar."""
    pages = _counter(fetch.processed_pages, fetch.total_pages)
    products = _counter(fetch.processed_products, fetch.total_products, fetch.failed_products)
    images = _counter(fetch.processed_images, fetch.total_images, fetch.failed_images)
    parsed = _counter(fetch.parsed_products, fetch.total_products)
    # Overall: stage weights (list 10 %, pages 40 %, images 30 %, parsing 15 %, output 5 %).
    status = fetch.status
    if status == SUCCEEDED:
        overall = 100.0
    elif status == PENDING:
        overall = 0.0
    else:
        weights = [
            (FETCHING_PRODUCT_LIST, 10, pages["percent"]),
            (FETCHING_PRODUCT_PAGE, 40, products["percent"]),
            (FETCHING_PRODUCT_IMAGE, 30, images["percent"]),
            (PARSING_PRODUCT_PAGES, 15, parsed["percent"]),
            (GENERATING_OUTPUT, 5, 0.0),
        ]
        reached = STAGE_INDEX.get(status, 0) if status != FAILED else _failed_stage_index(fetch)
        overall = 0.0
        for stage, weight, percent in weights:
            index = STAGE_INDEX[stage]
            if index < reached:
                overall += weight
            elif index == reached:
                overall += weight * percent / 100.0
        overall = min(99.0, overall)
    for counter in (pages, products, images, parsed):
        if fetch.is_active:
            counter["tone"] = "run"
        elif counter["percent"] >= 100 and not counter["failed"]:
            counter["tone"] = "ok"
        else:
            counter["tone"] = "bad" if status == FAILED or counter["failed"] else "ok"
    return {
        "pages": pages,
        "products": products,
        "images": images,
        "parsed": parsed,
        "overall": round(overall, 1),
    }


# A failed fetch keeps the current_step of the stage it was in ("Fetching 53 product pages", "Parsing product pages").
STEP_WORDS = [
    (("pars",), PARSING_PRODUCT_PAGES),
    (("sql", "output", "writing"), GENERATING_OUTPUT),
    (("image",), FETCHING_PRODUCT_IMAGE),
    (("product page",), FETCHING_PRODUCT_PAGE),
    (("product list", "listing"), FETCHING_PRODUCT_LIST),
]


def _failed_stage_index(fetch: GapDataFetch) -> int:
    details = fetch.error_details or {}
    stage = details.get("status_when_stopped") or details.get("stage_status") or details.get("status")
    if stage in STAGE_INDEX:
        return STAGE_INDEX[stage]
    step = (fetch.current_step or "").lower()
    for words, status in STEP_WORDS:
        if any(word in step for word in words):
            return STAGE_INDEX[status]
    if fetch.parsed_products:
        return STAGE_INDEX[PARSING_PRODUCT_PAGES]
    if fetch.processed_images or fetch.failed_images:
        return STAGE_INDEX[FETCHING_PRODUCT_IMAGE]
    if fetch.processed_products or fetch.failed_products:
        return STAGE_INDEX[FETCHING_PRODUCT_PAGE]
    if fetch.processed_pages:
        return STAGE_INDEX[FETCHING_PRODUCT_LIST]
    return STAGE_INDEX[PENDING]


def stage_steps(fetch: GapDataFetch) -> list[dict[str, Any]]:
    """The stepper: each stage done, current, failed or todo."""
    failed = fetch.status == FAILED
    current = _failed_stage_index(fetch) if failed else STAGE_INDEX.get(fetch.status, 0)
    steps = []
    for index, (status, label) in enumerate(STAGES):
        if fetch.status == SUCCEEDED or index < current:
            state = "done"
        elif index == current:
            state = "failed" if failed else "current"
        else:
            state = "todo"
        steps.append({"status": status, "label": label, "state": state})
    return steps


def fetch_json(fetch: GapDataFetch, urls: dict[str, str] | None = None) -> dict[str, Any]:
    group = fetch.pages_group
    return {
        "id": fetch.id,
        "group": {"id": fetch.pages_group_id, "title": group.title if group is not None else None},
        "status": fetch.status,
        "status_label": fetch_label(fetch),
        "tone": status_tone(fetch.status),
        "is_active": fetch.is_active,
        "current_step": fetch.current_step,
        "steps": stage_steps(fetch),
        "progress": fetch_progress(fetch),
        "counters": {
            "total_pages": fetch.total_pages,
            "processed_pages": fetch.processed_pages,
            "total_products": fetch.total_products,
            "processed_products": fetch.processed_products,
            "failed_products": fetch.failed_products,
            "total_images": fetch.total_images,
            "processed_images": fetch.processed_images,
            "failed_images": fetch.failed_images,
            "parsed_products": fetch.parsed_products,
        },
        "error_message": fetch.error_message,
        "error_details": fetch.error_details,
        "created_at": iso(fetch.created_at),
        "started_at": iso(fetch.started_at),
        "completed_at": iso(fetch.completed_at),
        "updated_at": iso(fetch.updated_at),
        "elapsed_seconds": elapsed_seconds(fetch),
        "elapsed": format_duration(elapsed_seconds(fetch)),
        "folder_timestamp": fetch.folder_timestamp,
        "scrapyd_job_id": fetch.scrapyd_job_id,
        "has_output": bool(fetch.output_path) and fetch.status == SUCCEEDED,
        "urls": urls or {},
    }


# ---------------------------------------------------------------- products


def _dict(value: Any) -> dict[str, Any]:
    return value if isinstance(value, dict) else {}


def _list(value: Any) -> list[Any]:
    return value if isinstance(value, list) else []


def to_decimal(value: Any) -> Decimal | None:
    if value is None or isinstance(value, bool):
        return None
    text = str(value).strip().replace("$", "").replace(",", "")
    if not text:
        return None
    try:
        return Decimal(text)
    except InvalidOperation:
        return None


def format_price(value: Any, currency: str | None = None) -> str | None:
    amount = to_decimal(value)
    if amount is None:
        return None
    symbol = {"USD": "$", "CAD": "CA$", "EUR": "€", "GBP": "£"}.get((currency or "USD").upper(), "")
    text = f"{amount:,.2f}"
    return f"{symbol}{text}" if symbol else f"{text} {currency}"


def _percent(value: Any) -> int | None:
    amount = to_decimal(str(value).rstrip("%")) if value not in (None, "") else None
    if amount is None or amount <= 0:
        return None
    return int(round(amount))


AVAILABILITY_FILTERS = [
    ("", "Any availability"),
    ("instock", "Available (any size)"),
    ("available", "Every size in stock"),
    ("partial", "Some sizes sold out"),
    ("soldout", "Sold out"),
]
AVAILABILITY_LABELS = {
    "available": "In stock",
    "partial": "Some sizes sold out",
    "soldout": "Sold out",
    # Not parsed (yet): only the listing's word, which says nothing about sizes.
    "listed": "Listed in stock",
    "unknown": "Unknown",
}
# Rows a customer can buy in some size: "Available (any size)".
BUYABLE = ("available", "partial", "listed")


def product_row(pd: ProductData) -> dict[str, Any]:
    """One row of the products table, from the parsed page when there is one, else from the listing facts."""
    parsed = _dict(pd.parsed_data)
    product = pd.product
    color = _dict(parsed.get("color"))
    price = _dict(parsed.get("price"))
    currency = price.get("currency") or "USD"

    name = parsed.get("title") or (product.style_name if product else "") or ""
    colour = color.get("name") or (product.cc_name if product else "") or ""
    current = price.get("current") if price.get("current") not in (None, "") else pd.effective_price
    regular = price.get("regular") if price.get("regular") not in (None, "") else pd.regular_price
    percent_off = _percent(price.get("percent_off")) or _percent(pd.percentage_off)
    current_d, regular_d = to_decimal(current), to_decimal(regular)
    if percent_off is None and current_d and regular_d and regular_d > current_d:
        percent_off = int(round(100 * (1 - current_d / regular_d)))

    discounts = []
    for item in _list(parsed.get("discounts")):
        item = _dict(item)
        if item.get("text"):
            discounts.append(
                {
                    "text": str(item.get("text")),
                    "percent": _percent(item.get("percent")),
                    "applies": item.get("applies"),
                    "excluded": bool(item.get("excluded")),
                }
            )

    sizes = []
    for size in _list(parsed.get("sizes")):
        size = _dict(size)
        if size.get("label") not in (None, ""):
            sizes.append({"label": str(size["label"]), "available": bool(size.get("available"))})

    available = parsed.get("available")
    if sizes:
        in_stock = sum(1 for s in sizes if s["available"])
        if in_stock == 0 or available is False:
            availability = "soldout"
        elif in_stock < len(sizes):
            availability = "partial"
        else:
            availability = "available"
    elif available is True:
        availability = "available"
    elif available is False:
        availability = "soldout"
    else:
        status = (pd.inventory_status or "").upper()
        if "OUT" in status:
            availability = "soldout"
        elif status:
            availability = "listed"
        else:
            availability = "unknown"

    fits = []
    for fit in _list(parsed.get("fits")):
        fit = _dict(fit)
        if fit.get("label") not in (None, ""):
            fits.append({"label": str(fit["label"]), "available": bool(fit.get("available"))})
    colour_detail = (product.cc_short_description if product else None) or ""
    if colour_detail.strip().lower() == str(colour).strip().lower():
        colour_detail = ""

    images = [str(p) for p in _list(pd.image_paths) if isinstance(p, str) and p]
    problems = []
    if pd.page_error:
        problems.append(f"Page: {pd.page_error}")
    for error in _list(pd.image_errors):
        problems.append(f"Image: {error.get('error') if isinstance(error, dict) else error}")
    if pd.parse_error:
        problems.append(f"Parsing: {pd.parse_error}")
    if parsed.get("blocked"):
        problems.append("Page was blocked")
    warnings = [str(w) for w in _list(parsed.get("warnings"))]
    discount_texts = {d["text"].strip().lower() for d in discounts}
    flags = [
        str(f.get("content"))
        for f in _list(pd.marketing_flags)
        if isinstance(f, dict) and f.get("content") and str(f.get("content")).strip().lower() not in discount_texts
    ]

    return {
        "id": pd.id,
        "position": pd.position,
        "cc_id": product.cc_id if product else None,
        "style_id": product.style_id if product else None,
        "name": str(name),
        "colour": str(colour),
        "colour_detail": str(colour_detail),
        "fits": fits,
        "price": format_price(current, currency),
        "regular_price": format_price(regular, currency) if regular_d and current_d and regular_d > current_d else None,
        "price_value": float(current_d) if current_d is not None else None,
        "price_type": pd.price_type,
        "percent_off": percent_off,
        "discounts": discounts,
        "sizes": sizes,
        "availability": availability,
        "availability_label": AVAILABILITY_LABELS[availability],
        "thumbnail": images[0] if images else None,
        "image_count": len(images),
        "images": images,
        "flags": flags,
        "problems": problems,
        "warnings": warnings,
        "parsed": bool(parsed),
        "product_page_url": pd.product_page_url,
    }


SORTS = {
    "position": ("Listing order", lambda r: (r["position"] or 0, r["id"])),
    "name": ("Name", lambda r: (r["name"].lower(), r["colour"].lower())),
    "price": ("Price, low to high", lambda r: (r["price_value"] is None, r["price_value"] or 0)),
    "discount": ("Discount, highest first", lambda r: (-(r["percent_off"] or 0), r["name"].lower())),
}


def filter_rows(rows: list[dict[str, Any]], q: str = "", availability: str = "", sort: str = "position") -> list[dict[str, Any]]:
    q = (q or "").strip().lower()
    result = rows
    if q:
        terms = q.split()

        def matches(row: dict[str, Any]) -> bool:
            haystack = " ".join(
                str(v)
                for v in (row["name"], row["colour"], row["colour_detail"], row["cc_id"], row["style_id"], *row["flags"])
                if v
            ).lower()
            return all(term in haystack for term in terms)

        result = [r for r in result if matches(r)]
    if availability == "instock":
        result = [r for r in result if r["availability"] in BUYABLE]
    elif availability in AVAILABILITY_LABELS:
        result = [r for r in result if r["availability"] == availability]
    key = SORTS.get(sort, SORTS["position"])[1]
    return sorted(result, key=key)


def products_summary(rows: list[dict[str, Any]]) -> dict[str, int]:
    """The chips above the products table; in stock + some sizes sold out + sold out + not parsed = total."""
    return {
        "total": len(rows),
        "available": sum(1 for r in rows if r["availability"] == "available"),
        "partial": sum(1 for r in rows if r["availability"] == "partial"),
        "soldout": sum(1 for r in rows if r["availability"] == "soldout"),
        "not_parsed": sum(1 for r in rows if r["availability"] in ("listed", "unknown")),
        "discounted": sum(1 for r in rows if r["percent_off"]),
        "with_problems": sum(1 for r in rows if r["problems"]),
    }
