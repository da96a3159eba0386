"""Reading listing-API responses and choosing images: pure functions, data in, data out."""

from __future__ import annotations

import json
import re
from dataclasses import dataclass, field
from typing import Any, Iterable

CC_ID_RE = re.compile(r"^\d{1,20}$")
IMAGE_EXTENSIONS = (".jpg", ".jpeg", ".png", ".webp", ".gif", ".avif")
VIDEO_MARKERS = ("_VD", ".mp4", ".mov", ".webm")
SWATCH_TYPES = {"S"}


class ListingError(ValueError):
    """The listing response cannot be used; the message says why, for the fetch's error_message."""


@dataclass
class ListingColour:
    """One product colour (a ccId) as a listing page shows it."""

    style_id: str
    cc_id: str
    style_name: str
    cc_name: str
    facts: dict[str, Any]
    images: list[dict[str, Any]] = field(default_factory=list)


@dataclass
class ListingPage:
    colours: list[ListingColour]
    current_page: int
    page_count: int
    total_colours: int | None
    skipped: list[str] = field(default_factory=list)


def _text(value: Any) -> str:
    return "" if value is None else str(value).strip()


def _int(value: Any, default: int | None = None) -> int | None:
    try:
        return int(str(value).strip())
    except (TypeError, ValueError):
        return default


def _flag(value: Any) -> bool | None:
    if isinstance(value, bool):
        return value
    text = _text(value).lower()
    if text in ("true", "1", "yes"):
        return True
    if text in ("false", "0", "no"):
        return False
    return None


def _describe_body(body: str) -> str:
    start = re.sub(r"\s+", " ", body[:80]).strip()
    if re.search(r"<title>\s*Access Denied", body[:2000], re.I):
        return "an 'Access Denied' bot-block page instead of JSON"
    if not start:
        return "an empty body"
    return f"not JSON (starts with {start!r})"


def parse_listing_response(body: str) -> ListingPage:
    """The colours of one listing-API page, in page order, and its pagination.

    Raises ListingError on anything that is not a listing response (malformed JSON, a block page,
    a JSON error object), so the fetch fails with a clear reason instead of finding no products.
    """
    try:
        data = json.loads(body)
    except ValueError as exc:
        raise ListingError(f"malformed JSON: {_describe_body(body)} ({exc.msg} at char {exc.pos})") from None
    if not isinstance(data, dict):
        raise ListingError(f"unexpected JSON: a {type(data).__name__}, not an object")
    products = data.get("products")
    if products is None:
        keys = ", ".join(sorted(map(str, data))[:8]) or "none"
        raise ListingError(f"unexpected JSON: no 'products' list (keys: {keys})")
    if not isinstance(products, list):
        raise ListingError("unexpected JSON: 'products' is not a list")
    pagination = data.get("pagination") if isinstance(data.get("pagination"), dict) else {}
    current = _int(pagination.get("currentPage"), 0) or 0
    page_count = _int(pagination.get("pageNumberTotal"), None)
    colours: list[ListingColour] = []
    skipped: list[str] = []
    for product in products:
        if not isinstance(product, dict):
            skipped.append("a product entry that is not an object")
            continue
        style_id = _text(product.get("styleId"))
        for colour in product.get("styleColors") or []:
            if not isinstance(colour, dict):
                skipped.append(f"a colour of style {style_id} that is not an object")
                continue
            cc_id = _text(colour.get("ccId"))
            if not CC_ID_RE.match(cc_id) or not style_id:
                skipped.append(f"colour with invalid ids (styleId {style_id!r}, ccId {cc_id!r})")
                continue
            colours.append(_colour(product, colour, style_id, cc_id))
    return ListingPage(
        colours=colours,
        current_page=current,
        page_count=page_count if page_count is not None else current + 1,
        total_colours=_int(data.get("totalColors")),
        skipped=skipped,
    )


def _colour(product: dict, colour: dict, style_id: str, cc_id: str) -> ListingColour:
    images = [i for i in colour.get("images") or [] if isinstance(i, dict)]
    style_flags = product.get("styleMarketingFlagsDetails") or product.get("styleMarketingFlags") or []
    facts = {
        "cc_short_description": _text(colour.get("ccShortDescription")) or None,
        "web_product_type": _text(product.get("webProductType")) or None,
        "regular_price": _text(colour.get("regularPrice")) or None,
        "effective_price": _text(colour.get("effectivePrice")) or None,
        "price_type": _text(colour.get("priceType")) or None,
        "percentage_off": _text(colour.get("percentageOff")),
        "inventory_status": _text(colour.get("inventoryStatus")) or None,
        "inventory_count": _int(colour.get("inventoryCount")),
        "review_score": _text(product.get("reviewScore")) or None,
        "review_count": _int(product.get("reviewCount")),
        "excluded_from_promotion": _flag(product.get("excludedFromPromotion")),
        "marketing_flags": [f for f in colour.get("ccLevelMarketingFlags") or [] if isinstance(f, dict)],
        "style_marketing_flags": [f for f in style_flags if isinstance(f, (dict, str))],
        "badges": list(colour.get("ccLevelBadges") or []),
        # Everything else the listing says of this colour and its style, as Gap sent it (images are kept in
        # api_image_paths, the style's other colours in their own rows): fields with no column of their own stay.
        "listing_data": {
            "style": {k: v for k, v in product.items() if k != "styleColors"},
            "colour": {k: v for k, v in colour.items() if k != "images"},
        },
    }
    return ListingColour(
        style_id=style_id,
        cc_id=cc_id,
        style_name=_text(product.get("styleName")),
        cc_name=_text(colour.get("ccName")),
        facts=facts,
        images=images,
    )


def image_view_and_rendition(image_type: str) -> tuple[str, str]:
    """Split a listing image type into (view, rendition): "AV2_Z" -> ("AV2", "Z"), "VLI" -> ("main", "VLI").

    "AV1" alone is the alternate view's standard shot, like "P01" of the main view.
    """
    image_type = _text(image_type).upper()
    match = re.match(r"^(AV\d+)(?:_(.+))?$", image_type)
    if match:
        return match.group(1), match.group(2) or "P01"
    return "main", image_type or "P01"


def select_image_paths(images: Iterable[dict[str, Any]], renditions: list[str], limit: int = 10) -> list[dict[str, str]]:
    """One rendition per view (the first of `renditions` the listing has), no videos or swatches, no repeats.

    Returns [{"view", "rendition", "path"}] in view order (main first, then AV1, AV2...).
    """
    wanted = [r.strip().upper() for r in renditions if r.strip()]
    by_view: dict[str, dict[str, str]] = {}
    for image in images:
        path = _text(image.get("path"))
        image_type = _text(image.get("type"))
        if not path or any(m in path or m in image_type for m in VIDEO_MARKERS):
            continue
        view, rendition = image_view_and_rendition(image_type)
        if rendition in SWATCH_TYPES:
            continue
        by_view.setdefault(view, {}).setdefault(rendition, path)
    chosen: list[dict[str, str]] = []
    seen: set[str] = set()

    def view_order(view: str) -> tuple[int, int]:
        return (0, 0) if view == "main" else (1, int(view[2:]))

    for view in sorted(by_view, key=view_order):
        offered = by_view[view]
        rendition = next((r for r in wanted if r in offered), None)
        if rendition is None:
            continue
        path = offered[rendition]
        if path in seen:
            continue
        seen.add(path)
        chosen.append({"view": view, "rendition": rendition, "path": path})
        if len(chosen) >= limit:
            break
    return chosen


_SAFE_CHARS = re.compile(r"[^A-Za-z0-9._-]+")


def safe_filename(name: str, *, default_ext: str = ".jpg", max_length: int = 100) -> str:
    """A file name that is safe on disk whatever the network sent: no separators, no dot tricks, bounded."""
    name = _text(name).replace("\\", "/").rsplit("/", 1)[-1]
    name = _SAFE_CHARS.sub("_", name).strip("._-")
    stem, dot, ext = name.rpartition(".")
    if not dot:
        stem, ext = name, ""
    ext = f".{ext.lower()}" if ext else ""
    if ext not in IMAGE_EXTENSIONS:
        stem = f"{stem}_{ext[1:]}" if ext and stem else (stem or ext[1:])
        ext = default_ext if default_ext in IMAGE_EXTENSIONS else ".jpg"
    stem = stem.strip("._-")[: max_length - len(ext)] or "image"
    return f"{stem}{ext}"
