"""The SQL output of a fetch: one self-contained PostgreSQL script for the merchandising team's shop database.

`write_sql_output(session, fetch_id, path)` writes `tmp/{group}/{ts}/gap_data_{ts}.sql` (the caller passes the
path) and returns the counts written. `render_sql(fetch, records)` is the pure part (no database): it yields the
script in chunks from a `FetchInfo` and an iterable of product records (mappings with the columns of `Product`
and `ProductData`, see `SOURCE_COLUMNS`), so it can be tested and reused without a session.

Load the file with `psql -v ON_ERROR_STOP=1 -f gap_data_{ts}.sql DBNAME`. It is plain SQL (no psql
meta-commands), so any client that runs a multi-statement script can load it too.

What the script does, in one transaction (`BEGIN` ... `COMMIT`; any failing statement leaves the database as it
was, also without ON_ERROR_STOP, because PostgreSQL turns the final COMMIT of an aborted transaction into a
ROLLBACK):

1. `SET client_encoding = 'UTF8'` and `SET standard_conforming_strings = on` (the file is UTF-8; backslashes in
   string literals are plain characters, which is how the literals are rendered).
2. `CREATE TABLE IF NOT EXISTS` for every table below (from the SQLAlchemy `Table` objects of `METADATA`), then
   `ALTER TABLE ... ADD COLUMN IF NOT EXISTS` for every non-key column, so a database loaded by an older version
   of gapspider gains the columns added since (all non-key columns are nullable for that reason). Column type
   changes are not migrated.
   `SET LOCAL client_min_messages = warning` keeps their "already exists, skipping" notices quiet.
3. `LOCK TABLE ... IN SHARE ROW EXCLUSIVE MODE` on the gap_ tables: two loads at once run one after the other,
   readers are not blocked.
4. Per batch of products: delete the child rows (sizes, fits, lengths, variants, colours, discounts, images) of
   the batch's products, upsert the products (`INSERT ... ON CONFLICT (cc_id) DO UPDATE` of every column),
   insert the child rows again. So a size that disappeared since the last load is gone, loading the same file
   twice leaves the same rows, and loading fetch A then fetch B leaves B's facts for every product B saw.
   Products that B did not see keep the rows of their last load (the shop database accumulates the catalogue);
   `gap_product.gap_data_fetch_id` and `folder_timestamp` tell which fetch they come from. The last file loaded
   wins: nothing stops loading an older file after a newer one.
5. The fetch itself is upserted into `gap_fetch` (with its product count).

Tables (prefix `gap_`; `cc_id` is Gap's colour id, one sellable product):
- `gap_fetch` (fetch_id PK, pages_group_id, group_title, folder_timestamp, started_at, completed_at,
  generated_at, product_count). The file is the fetch's last step, so `completed_at` is `generated_at` (the fetch's
  own `completed_at` is set to that instant); a file regenerated for another fetch keeps that fetch's value.
- `gap_product` (cc_id PK): ids and names (style_id, style_name, cc_name, cc_short_description, title,
  color_name, web_product_type, category = title of the Gap page that listed it), prices (current_price,
  regular_price NUMERIC(10,2), currency, percent_off, price_type, and the listing's own
  listing_effective_price / listing_regular_price), available, inventory_status, inventory_count, review_score,
  review_count, excluded_from_promotion, blocked, JSONB marketing_flags / style_marketing_flags / badges /
  details / warnings, description, parsed_data (the parser's whole dict as JSONB, so fields added to it later
  reach the shop database before they get columns of their own), product_page_url, html_file (relative to the
  fetch folder), page_error, parse_error, parse_schema, gap_data_fetch_id, folder_timestamp, updated_at (when
  the file was generated: identical on every reload of the file).
- `gap_product_size` (cc_id, position PK; label, available), `gap_product_fit` and `gap_product_length` (same
  shape; lengths such as Short/Long on jeans, when the parser reports them).
- `gap_product_variant` (cc_id, size, fit, length PK, fit and length '' when the product has none; position,
  sku, available, price).
- `gap_product_color` (cc_id, position PK; swatch_cc_id, name, available): the colour swatches of the page.
- `gap_product_discount` (cc_id, position PK; text, percent, applies, excluded, source 'page' or 'listing').
- `gap_product_image` (cc_id, position PK; url = source URL, local_path = relative to the fetch folder).
Every child table has a foreign key to `gap_product(cc_id)` with `ON DELETE CASCADE`.

Where the facts come from: `ProductData.parsed_data` (the page parser's dict, schema 1) first; missing or
invalid keys, or no parsed data at all, fall back to the listing facts of `ProductData` and `Product`:
- title -> style_name; colour name -> cc_name; current/regular price -> effective_price/regular_price;
  percent_off -> percentage_off; currency is only known from the page (NULL otherwise);
- available -> derived from inventory_status ("out of stock"/"sold out" false, any other status true);
- discounts -> the listing's marketing flags that name a discount (a "%" or the word "off"; percent and
  `applies` guessed from the text, `source` = 'listing'; "Final sale" is no discount);
- variants -> one per size when the page has sizes but no variants, fits or lengths;
- images -> the downloaded files (`image_paths`), else the page's image URLs, else one listing image per view
  (`listing.select_image_paths`). A downloaded file's source URL is the URL it was fetched from (`image_urls`,
  same order as `image_paths`); for rows older than that column it is found from its file name among the
  listing's images (the entry's `path`, which is what was fetched; its absoluteUrl only when it names the same
  file); entries {url, path} are taken as they are.
Invalid values become NULL rather than failing the file; duplicate keys (a colour listed twice in one fetch, a
variant listed twice) keep the first.

Rendering: every statement is a SQLAlchemy construct (`insert(...).on_conflict_do_update`, `delete`, DDL
constructs) compiled with the PostgreSQL dialect and `literal_binds`; string literals are quoted by SQLAlchemy's
literal processors (no hand-made quoting). The dialect uses the `named` paramstyle so `%` is not doubled, and does
not escape backslashes (matching `standard_conforming_strings = on`; `_check_dialect` verifies both). JSONB values
go through `JSONBLiteral`, a type whose literal renderer is SQLAlchemy's string literal of `json.dumps(...)` cast
to JSONB. NUMERIC values are `Decimal`s quantized to the column's scale, so the file holds exactly what the
database stores. Strings lose NUL characters (PostgreSQL text cannot hold them) and lone surrogates. Comments
(the header) print only printable characters: a group title with a newline cannot end a `--` comment.

Streaming: `write_sql_output` reads `ProductData` joined with `Product` (and the listing's `GapPage`) in
batches (`yield_per`); `render_sql` spools the body (memory up to 8 MB, then a temporary file) because the header
carries the counts, then yields header and body in chunks; the file is written as `.{name}.part` and renamed over
`path`, so a reader never sees half a file and no giant string is built.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import json
import logging
import math
import os
import re
import tempfile
from decimal import ROUND_HALF_UP, Decimal, InvalidOperation
from pathlib import Path, PurePosixPath
from typing import Any, Iterable, Iterator, Mapping, Optional

import sqlalchemy as sa
from sqlalchemy.dialects import postgresql
from sqlalchemy.dialects.postgresql import JSONB
from sqlalchemy.orm import Session
from sqlalchemy.schema import CreateColumn, CreateIndex, CreateTable

from gapspider.models import GapDataFetch, GapPage, PagesGroup, Product, ProductData

logger = logging.getLogger(__name__)

BATCH_SIZE = 200
INT32_MAX = 2**31 - 1
# Renditions picked from the listing when no image was downloaded (the spider's default GAP_IMAGE_RENDITIONS).
LISTING_RENDITIONS = ("VLI", "Z", "P01", "QL")
COUNT_KEYS = ("products", "sizes", "fits", "lengths", "variants", "colors", "discounts", "images")


# ------------------------------------------------------------------ the dialect and a JSONB type with literals


def _make_dialect() -> postgresql.dialect:
    # "named": the compiler does not double "%" in literals (pyformat/format paramstyles would).
    return postgresql.dialect(paramstyle="named")


DIALECT = _make_dialect()


class JSONBLiteral(sa.types.TypeDecorator):
    """JSONB that can be rendered as a literal: `CAST('<json text>' AS JSONB)`.

    The JSON text is quoted by SQLAlchemy's own string literal processor of the same dialect; with a real
    connection the type behaves like JSONB.
    """

    impl = JSONB
    cache_ok = True

    def process_literal_param(self, value: Any, dialect: Any) -> str:
        if value is None:
            return "NULL"
        quote = sa.types.Text().literal_processor(dialect)
        return f"CAST({quote(_json_text(value))} AS JSONB)"


def _json_text(value: Any) -> str:
    return json.dumps(_clean_json(value), ensure_ascii=False, allow_nan=False, separators=(",", ":"))


def _clean_json(value: Any) -> Any:
    """JSON-safe copy: NUL-free strings, finite numbers, string keys."""
    if isinstance(value, str):
        return _clean_text(value)
    if isinstance(value, bool) or value is None or isinstance(value, int):
        return value
    if isinstance(value, float):
        return value if math.isfinite(value) else None
    if isinstance(value, Decimal):
        return str(value) if value.is_finite() else None
    if isinstance(value, Mapping):
        return {_clean_text(str(k)): _clean_json(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [_clean_json(v) for v in value]
    return _clean_text(str(value))


def _check_dialect() -> None:
    """The literal rendering this module relies on (checked once at import)."""
    quote = sa.types.Text().literal_processor(DIALECT)
    rendered = quote("a'b\\c%d")
    if rendered != "'a''b\\c%d'":  # pragma: no cover - only on an incompatible SQLAlchemy
        raise RuntimeError(f"unexpected PostgreSQL literal rendering {rendered!r}: the SQL output would be wrong")


_check_dialect()


# ------------------------------------------------------------------ the tables of the shop database

METADATA = sa.MetaData()


def _cc_fk() -> sa.ForeignKey:
    return sa.ForeignKey("gap_product.cc_id", ondelete="CASCADE")


def _money() -> sa.Numeric:
    return sa.Numeric(10, 2, asdecimal=True)


gap_fetch = sa.Table(
    "gap_fetch",
    METADATA,
    sa.Column("fetch_id", sa.Integer, primary_key=True, autoincrement=False),
    sa.Column("pages_group_id", sa.Integer),
    sa.Column("group_title", sa.Text),
    sa.Column("folder_timestamp", sa.String(14)),
    sa.Column("started_at", sa.DateTime(timezone=True)),
    sa.Column("completed_at", sa.DateTime(timezone=True)),
    sa.Column("generated_at", sa.DateTime(timezone=True)),
    sa.Column("product_count", sa.Integer),
)

gap_product = sa.Table(
    "gap_product",
    METADATA,
    sa.Column("cc_id", sa.String(32), primary_key=True),
    sa.Column("style_id", sa.String(32)),
    sa.Column("style_name", sa.Text),
    sa.Column("cc_name", sa.Text),
    sa.Column("cc_short_description", sa.Text),
    sa.Column("title", sa.Text),
    sa.Column("color_name", sa.Text),
    sa.Column("web_product_type", sa.Text),
    sa.Column("category", sa.Text),
    sa.Column("current_price", _money()),
    sa.Column("regular_price", _money()),
    sa.Column("currency", sa.String(8)),
    sa.Column("percent_off", sa.Integer),
    sa.Column("price_type", sa.String(8)),
    sa.Column("listing_effective_price", _money()),
    sa.Column("listing_regular_price", _money()),
    sa.Column("available", sa.Boolean),
    sa.Column("inventory_status", sa.Text),
    sa.Column("inventory_count", sa.Integer),
    sa.Column("review_score", sa.Numeric(asdecimal=True)),
    sa.Column("review_count", sa.Integer),
    sa.Column("excluded_from_promotion", sa.Boolean),
    sa.Column("blocked", sa.Boolean),
    sa.Column("marketing_flags", JSONBLiteral),
    sa.Column("style_marketing_flags", JSONBLiteral),
    sa.Column("badges", JSONBLiteral),
    sa.Column("details", JSONBLiteral),
    sa.Column("warnings", JSONBLiteral),
    sa.Column("description", sa.Text),
    sa.Column("parsed_data", JSONBLiteral),
    sa.Column("product_page_url", sa.Text),
    sa.Column("html_file", sa.Text),
    sa.Column("page_error", sa.Text),
    sa.Column("parse_error", sa.Text),
    sa.Column("parse_schema", sa.Integer),
    sa.Column("gap_data_fetch_id", sa.Integer),
    sa.Column("folder_timestamp", sa.String(14)),
    sa.Column("updated_at", sa.DateTime(timezone=True)),
)
sa.Index("ix_gap_product_style_id", gap_product.c.style_id)

def _dimension_table(dimension: str) -> sa.Table:
    """Sizes, fits and lengths share one shape: the labels of one dimension in page order."""
    return sa.Table(
        f"gap_product_{dimension}",
        METADATA,
        sa.Column("cc_id", sa.String(32), _cc_fk(), primary_key=True),
        sa.Column("position", sa.Integer, primary_key=True, autoincrement=False),
        sa.Column("label", sa.Text),
        sa.Column("available", sa.Boolean),
    )


gap_product_size = _dimension_table("size")
gap_product_fit = _dimension_table("fit")
gap_product_length = _dimension_table("length")

gap_product_variant = sa.Table(
    "gap_product_variant",
    METADATA,
    sa.Column("cc_id", sa.String(32), _cc_fk(), primary_key=True),
    sa.Column("size", sa.Text, primary_key=True),
    sa.Column("fit", sa.Text, primary_key=True),  # '' when the product has no fit dimension
    sa.Column("length", sa.Text, primary_key=True),  # '' when the product has no length dimension
    sa.Column("position", sa.Integer),
    sa.Column("sku", sa.Text),
    sa.Column("available", sa.Boolean),
    sa.Column("price", _money()),
)

gap_product_color = sa.Table(
    "gap_product_color",
    METADATA,
    sa.Column("cc_id", sa.String(32), _cc_fk(), primary_key=True),
    sa.Column("position", sa.Integer, primary_key=True, autoincrement=False),
    sa.Column("swatch_cc_id", sa.Text),
    sa.Column("name", sa.Text),
    sa.Column("available", sa.Boolean),
)

gap_product_discount = sa.Table(
    "gap_product_discount",
    METADATA,
    sa.Column("cc_id", sa.String(32), _cc_fk(), primary_key=True),
    sa.Column("position", sa.Integer, primary_key=True, autoincrement=False),
    sa.Column("text", sa.Text),
    sa.Column("percent", sa.Integer),
    sa.Column("applies", sa.String(32)),
    sa.Column("excluded", sa.Boolean),
    sa.Column("source", sa.String(16)),
)

gap_product_image = sa.Table(
    "gap_product_image",
    METADATA,
    sa.Column("cc_id", sa.String(32), _cc_fk(), primary_key=True),
    sa.Column("position", sa.Integer, primary_key=True, autoincrement=False),
    sa.Column("url", sa.Text),
    sa.Column("local_path", sa.Text),
)

# Child tables and the key of `ProductRows` that feeds them.
CHILD_TABLES: dict[str, sa.Table] = {
    "sizes": gap_product_size,
    "fits": gap_product_fit,
    "lengths": gap_product_length,
    "variants": gap_product_variant,
    "colors": gap_product_color,
    "discounts": gap_product_discount,
    "images": gap_product_image,
}


# ------------------------------------------------------------------ source data


@dataclasses.dataclass(frozen=True)
class FetchInfo:
    """The fetch a file is about."""

    fetch_id: int
    pages_group_id: Optional[int] = None
    group_title: Optional[str] = None
    folder_timestamp: Optional[str] = None
    started_at: Optional[dt.datetime] = None
    completed_at: Optional[dt.datetime] = None
    generated_at: Optional[dt.datetime] = None
    # Absolute fetch folder, to make absolute file paths relative (optional).
    fetch_dir: Optional[str] = None


# The columns a product record may carry (missing keys count as None).
SOURCE_COLUMNS = (
    # Product
    "style_id", "cc_id", "style_name", "cc_name", "cc_short_description", "web_product_type",
    # GapPage
    "gap_page_title",
    # ProductData
    "position", "regular_price", "effective_price", "price_type", "percentage_off", "inventory_status",
    "inventory_count", "review_score", "review_count", "excluded_from_promotion", "marketing_flags",
    "style_marketing_flags", "badges", "api_image_paths", "product_page_url", "html_file_path", "page_error",
    "page_http_status", "image_paths", "image_urls", "image_errors", "parsed_data", "parse_error", "folder_timestamp",
)


@dataclasses.dataclass
class ProductRows:
    """The rows of one product: its `gap_product` row and the rows of each child table."""

    product: dict[str, Any]
    children: dict[str, list[dict[str, Any]]]


# ------------------------------------------------------------------ value coercion (invalid -> None)


def _clean_text(value: str) -> str:
    value = value.replace("\x00", "")
    try:
        value.encode("utf-8")
    except UnicodeEncodeError:  # lone surrogates
        value = value.encode("utf-8", "replace").decode("utf-8")
    return value


def _text(value: Any) -> Optional[str]:
    if value is None or isinstance(value, bool):
        return None
    if isinstance(value, str):
        return _clean_text(value)
    if isinstance(value, (int, Decimal)) or (isinstance(value, float) and math.isfinite(value)):
        return str(value)
    return None


def _short(value: Any, length: int) -> Optional[str]:
    """Text for a VARCHAR(length) column: None when empty, cut to the length."""
    text = _text(value)
    return text[:length] if text else None


def _aware(value: Any) -> Optional[dt.datetime]:
    """A timezone-aware datetime (SQLite gives naive ones, stored in UTC)."""
    if not isinstance(value, dt.datetime):
        return None
    return value if value.tzinfo is not None else value.replace(tzinfo=dt.timezone.utc)


def _bool(value: Any) -> Optional[bool]:
    if isinstance(value, bool):
        return value
    if isinstance(value, str):
        lowered = value.strip().lower()
        if lowered in ("true", "yes", "1"):
            return True
        if lowered in ("false", "no", "0"):
            return False
    if isinstance(value, int) and value in (0, 1):
        return bool(value)
    return None


def _int(value: Any) -> Optional[int]:
    if isinstance(value, bool) or value is None:
        return None
    if isinstance(value, int):
        number = value
    elif isinstance(value, float) and math.isfinite(value) and value.is_integer():
        number = int(value)
    elif isinstance(value, str) and re.fullmatch(r"\s*[+-]?\d{1,12}\s*", value):
        number = int(value)
    else:
        return None
    return number if -INT32_MAX <= number <= INT32_MAX else None


def _decimal(value: Any, scale: Optional[int] = 2, max_digits: Optional[int] = 10) -> Optional[Decimal]:
    """A Decimal rounded to `scale` places that fits NUMERIC(max_digits, scale); None when not a number."""
    if value is None or isinstance(value, bool):
        return None
    if isinstance(value, str):
        value = value.strip().replace(",", "").lstrip("$").strip()
        value = re.sub(r"^(?:CA\$|US\$|C\$)", "", value)
        if not value:
            return None
    try:
        number = Decimal(str(value)) if isinstance(value, float) else Decimal(value)
    except (InvalidOperation, TypeError, ValueError):
        return None
    if not number.is_finite():
        return None
    if scale is not None:
        number = number.quantize(Decimal(1).scaleb(-scale), rounding=ROUND_HALF_UP)
    if max_digits is not None and scale is not None and abs(number) >= Decimal(10) ** (max_digits - scale):
        return None
    if max_digits is None and scale is None and len(number.as_tuple().digits) > 100:
        return None
    return number


def _list(value: Any) -> list[Any]:
    return list(value) if isinstance(value, (list, tuple)) else []


def _dict(value: Any) -> dict[str, Any]:
    return value if isinstance(value, Mapping) else {}


def _json_or_none(value: Any) -> Any:
    return None if value is None else _clean_json(value)


def _comment(value: Any) -> str:
    """Text that is safe inside a `--` comment: every non-printable character (newlines too) is escaped."""
    text = "" if value is None else str(value)
    return "".join(ch if ch.isprintable() else f"\\u{ord(ch):04x}" for ch in text)


# ------------------------------------------------------------------ one product's rows


_DISCOUNT_RE = re.compile(r"%|\boff\b", re.IGNORECASE)
_PERCENT_RE = re.compile(r"(\d{1,3})\s*%")
_OUT_OF_STOCK_RE = re.compile(r"out[\s_-]*of[\s_-]*stock|sold[\s_-]*out|unavailable", re.IGNORECASE)


def _listing_discounts(flags: Any, excluded: Optional[bool]) -> list[dict[str, Any]]:
    discounts = []
    for flag in _list(flags):
        content = _text(flag.get("content")) if isinstance(flag, Mapping) else _text(flag)
        if not content or not _DISCOUNT_RE.search(content):
            continue
        match = _PERCENT_RE.search(content)
        lowered = content.lower()
        applies = None
        if "checkout" in lowered:
            applies = "checkout"
        elif re.search(r"\bapp\b", lowered):
            applies = "app"
        elif "limited time" in lowered:
            applies = "limited_time"
        discounts.append(
            {
                "text": content,
                "percent": int(match.group(1)) if match else None,
                "applies": applies,
                "excluded": bool(excluded),
                "source": "listing",
            }
        )
    return discounts


def _availability_from_status(status: Optional[str]) -> Optional[bool]:
    if not status or not status.strip():
        return None
    return not _OUT_OF_STOCK_RE.search(status)


def _local_path(value: Any, fetch: FetchInfo) -> Optional[str]:
    """A file path relative to the fetch folder when it can be made so, else as given (POSIX separators)."""
    text = _text(value)
    if not text:
        return None
    text = text.replace("\\", "/")
    path = PurePosixPath(text)
    if path.is_absolute():
        if fetch.fetch_dir:
            try:
                return path.relative_to(PurePosixPath(str(fetch.fetch_dir).replace("\\", "/"))).as_posix()
            except ValueError:
                pass
    parts = path.parts
    if fetch.pages_group_id is not None and fetch.folder_timestamp:
        marker = (str(fetch.pages_group_id), str(fetch.folder_timestamp))
        for i in range(len(parts) - 2):
            if parts[i : i + 2] == marker:
                return PurePosixPath(*parts[i + 2 :]).as_posix()
    return path.as_posix()


def _listing_image_urls(api_images: Any) -> dict[str, str]:
    """Saved file name -> source URL of the listing's images (the images pipeline names a file
    `NN-{safe_filename(url)}` and stores only its path, so the name leads back to the listing entry)."""
    by_path: dict[str, str] = {}
    by_absolute: dict[str, str] = {}
    for image in _list(api_images):
        if not isinstance(image, Mapping):
            continue
        path = _text(image.get("path"))
        if not path:
            continue
        absolute = _text(image.get("absoluteUrl"))
        try:
            # The file is named after the URL as requested, which Scrapy percent-escapes (spaces, non-ASCII).
            path_names = _file_names(path)
            absolute_names = _file_names(absolute) if absolute else set()
        except Exception:  # a malformed entry must not fail the file
            continue
        # The spider fetches `path`; absoluteUrl is often another file (Gap's dynamic photo): it is the source
        # only when it names the same file.
        source = absolute if absolute and path_names & absolute_names else path
        for name in sorted(path_names):
            by_path.setdefault(name, source)
        for name in sorted(absolute_names):
            by_absolute.setdefault(name, absolute)
    return {**by_absolute, **by_path}


def _file_names(url: str) -> set[str]:
    from w3lib.url import safe_url_string

    from gapspider.listing import safe_filename

    return {safe_filename(url.split("?", 1)[0]), safe_filename(safe_url_string(url).split("?", 1)[0])}


def _images(record: Mapping[str, Any], parsed: Mapping[str, Any], fetch: FetchInfo) -> list[tuple[Any, Any]]:
    """(url, local_path) pairs: downloaded files, else the page's images, else one listing image per view."""
    pairs: list[tuple[Optional[str], Optional[str]]] = []
    downloaded = _list(record.get("image_paths"))
    fetched_from = _list(record.get("image_urls"))
    if len(fetched_from) != len(downloaded):
        fetched_from = []  # rows written before image_urls existed: recover the URL from the file name
    listing_urls = _listing_image_urls(record.get("api_image_paths")) if downloaded and not fetched_from else {}
    for index, entry in enumerate(downloaded):
        if isinstance(entry, Mapping):
            url = _text(entry.get("url"))
            local = _local_path(entry.get("path") or entry.get("local_path") or entry.get("file"), fetch)
        else:
            url, local = (_text(fetched_from[index]) if fetched_from else None), _local_path(entry, fetch)
        if url is None and local:
            name = PurePosixPath(local).name
            match = re.match(r"^\d+-(.+)$", name)
            url = listing_urls.get(match.group(1) if match else name)
        if url or local:
            pairs.append((url, local))
    if not pairs:
        pairs = [(u, None) for u in (_text(x) for x in _list(parsed.get("images"))) if u]
    if not pairs:
        listing_images = [i for i in _list(record.get("api_image_paths")) if isinstance(i, Mapping)]
        if listing_images:
            from gapspider.listing import select_image_paths

            absolute: dict[str, str] = {}
            for image in listing_images:
                path, url = _text(image.get("path")), _text(image.get("absoluteUrl"))
                if path and url:
                    absolute.setdefault(path, url)
            try:
                chosen = select_image_paths(listing_images, list(LISTING_RENDITIONS), 10)
            except Exception:  # a malformed listing entry must not fail the file
                chosen = []
            pairs = [(absolute.get(c["path"], c["path"]), None) for c in chosen if c.get("path")]
    seen: set[tuple[Any, Any]] = set()
    unique = []
    for pair in pairs:
        if pair not in seen:
            seen.add(pair)
            unique.append(pair)
    return unique


def product_rows(record: Mapping[str, Any], fetch: FetchInfo) -> ProductRows:
    """The `gap_product` row and child rows of one source record (parsed data first, listing facts as fallback)."""
    parsed = _dict(record.get("parsed_data"))
    cc_id = _text(record.get("cc_id"))
    price = _dict(parsed.get("price"))
    color = _dict(parsed.get("color"))

    def pick(value: Any, fallback: Any) -> Any:
        return fallback if value is None else value

    available = _bool(parsed.get("available"))
    if available is None:
        available = _availability_from_status(_text(record.get("inventory_status")))
    product = {
        "cc_id": cc_id,
        "style_id": _text(record.get("style_id")),
        "style_name": _text(record.get("style_name")),
        "cc_name": _text(record.get("cc_name")),
        "cc_short_description": _text(record.get("cc_short_description")),
        "title": pick(_text(parsed.get("title")), _text(record.get("style_name"))),
        "color_name": pick(_text(color.get("name")), _text(record.get("cc_name"))),
        "web_product_type": _text(record.get("web_product_type")),
        "category": _text(record.get("gap_page_title")),
        "current_price": pick(_decimal(price.get("current")), _decimal(record.get("effective_price"))),
        "regular_price": pick(_decimal(price.get("regular")), _decimal(record.get("regular_price"))),
        "currency": _short(price.get("currency"), 8),
        "percent_off": pick(_int(price.get("percent_off")), _int(record.get("percentage_off"))),
        "price_type": _short(record.get("price_type"), 8),
        "listing_effective_price": _decimal(record.get("effective_price")),
        "listing_regular_price": _decimal(record.get("regular_price")),
        "available": available,
        "inventory_status": _text(record.get("inventory_status")),
        "inventory_count": _int(record.get("inventory_count")),
        "review_score": _decimal(record.get("review_score"), scale=None, max_digits=None),
        "review_count": _int(record.get("review_count")),
        "excluded_from_promotion": _bool(record.get("excluded_from_promotion")),
        "blocked": _bool(parsed.get("blocked")),
        "marketing_flags": _json_or_none(record.get("marketing_flags")),
        "style_marketing_flags": _json_or_none(record.get("style_marketing_flags")),
        "badges": _json_or_none(record.get("badges")),
        "details": _json_or_none(parsed.get("details")) if isinstance(parsed.get("details"), Mapping) else None,
        "warnings": _json_or_none(parsed.get("warnings")) if isinstance(parsed.get("warnings"), list) else None,
        "description": _text(parsed.get("description")),
        "parsed_data": _json_or_none(record.get("parsed_data")) if parsed else None,
        "product_page_url": _text(record.get("product_page_url")),
        "html_file": _local_path(record.get("html_file_path"), fetch),
        "page_error": _text(record.get("page_error")),
        "parse_error": _text(record.get("parse_error")),
        "parse_schema": _int(parsed.get("schema")),
        "gap_data_fetch_id": fetch.fetch_id,
        "folder_timestamp": _text(record.get("folder_timestamp")) or fetch.folder_timestamp,
        "updated_at": fetch.generated_at,
    }

    def labelled(entries: Any) -> list[dict[str, Any]]:
        rows = []
        for entry in _list(entries):
            if isinstance(entry, Mapping) and _text(entry.get("label")):
                rows.append(
                    {"cc_id": cc_id, "position": len(rows), "label": _text(entry.get("label")),
                     "available": _bool(entry.get("available"))}
                )
        return rows

    sizes = labelled(parsed.get("sizes"))
    fits = labelled(parsed.get("fits"))
    lengths = labelled(parsed.get("lengths"))

    variants: list[dict[str, Any]] = []
    seen_variants: set[tuple[Any, ...]] = set()
    for entry in _list(parsed.get("variants")):
        if not isinstance(entry, Mapping) or not _text(entry.get("size")):
            continue
        key = (_text(entry.get("size")), _text(entry.get("fit")) or "", _text(entry.get("length")) or "")
        if key in seen_variants:
            logger.warning("product %s: variant %r listed twice, keeping the first", cc_id, key)
            continue
        seen_variants.add(key)
        variants.append(
            {"cc_id": cc_id, "size": key[0], "fit": key[1], "length": key[2], "position": len(variants),
             "sku": _text(entry.get("sku")), "available": _bool(entry.get("available")),
             "price": _decimal(entry.get("price"))}
        )
    if not variants and not fits and not lengths:
        for size in sizes:
            if (size["label"], "", "") in seen_variants:
                continue
            seen_variants.add((size["label"], "", ""))
            variants.append(
                {"cc_id": cc_id, "size": size["label"], "fit": "", "length": "", "position": len(variants),
                 "sku": None, "available": size["available"], "price": None}
            )

    colors = []
    for entry in _list(parsed.get("colors")):
        if isinstance(entry, Mapping) and (_text(entry.get("name")) or _text(entry.get("cc_id"))):
            colors.append(
                {"cc_id": cc_id, "position": len(colors), "swatch_cc_id": _text(entry.get("cc_id")),
                 "name": _text(entry.get("name")), "available": _bool(entry.get("available"))}
            )

    if isinstance(parsed.get("discounts"), list):
        source_discounts = []
        for entry in parsed["discounts"]:
            if isinstance(entry, Mapping) and (_text(entry.get("text")) or _int(entry.get("percent")) is not None):
                source_discounts.append(
                    {"text": _text(entry.get("text")), "percent": _int(entry.get("percent")),
                     "applies": _short(entry.get("applies"), 32), "excluded": _bool(entry.get("excluded")),
                     "source": "page"}
                )
    else:
        source_discounts = _listing_discounts(
            record.get("marketing_flags"), _bool(record.get("excluded_from_promotion"))
        )
    discounts = [{"cc_id": cc_id, "position": i, **d} for i, d in enumerate(source_discounts)]

    images = [
        {"cc_id": cc_id, "position": i, "url": url, "local_path": local}
        for i, (url, local) in enumerate(_images(record, parsed, fetch))
    ]
    return ProductRows(
        product=product,
        children={"sizes": sizes, "fits": fits, "lengths": lengths, "variants": variants, "colors": colors,
                  "discounts": discounts, "images": images},
    )


# ------------------------------------------------------------------ rendering


def _sql(statement: Any) -> str:
    return str(statement.compile(dialect=DIALECT, compile_kwargs={"literal_binds": True})).strip() + ";\n"


def _upsert(table: sa.Table, rows: list[dict[str, Any]]) -> str:
    statement = postgresql.insert(table).values(rows)
    key = [c.name for c in table.primary_key.columns]
    statement = statement.on_conflict_do_update(
        index_elements=key,
        set_={c.name: statement.excluded[c.name] for c in table.columns if c.name not in key},
    )
    return _sql(statement)


def render_schema() -> Iterator[str]:
    """The DDL: tables and indexes if missing, columns added since older versions, the lock."""
    preparer = DIALECT.identifier_preparer
    for table in METADATA.sorted_tables:
        yield _sql(CreateTable(table, if_not_exists=True))
        for column in table.columns:
            if not column.primary_key:
                definition = str(CreateColumn(column).compile(dialect=DIALECT)).strip()
                yield f"ALTER TABLE {preparer.format_table(table)} ADD COLUMN IF NOT EXISTS {definition};\n"
        for index in sorted(table.indexes, key=lambda i: i.name):
            yield _sql(CreateIndex(index, if_not_exists=True))
    names = ", ".join(preparer.format_table(t) for t in METADATA.sorted_tables)
    yield f"LOCK TABLE {names} IN SHARE ROW EXCLUSIVE MODE;\n"


def _render_batch(batch: list[ProductRows]) -> Iterator[str]:
    cc_ids = [rows.product["cc_id"] for rows in batch]
    yield f"\n-- products {_comment(cc_ids[0])} .. {_comment(cc_ids[-1])} ({len(batch)})\n"
    for table in reversed(list(CHILD_TABLES.values())):
        yield _sql(sa.delete(table).where(table.c.cc_id.in_(cc_ids)))
    yield _upsert(gap_product, [rows.product for rows in batch])
    for name, table in CHILD_TABLES.items():
        child_rows = [row for rows in batch for row in rows.children[name]]
        for start in range(0, len(child_rows), 1000):
            yield _upsert(table, child_rows[start : start + 1000])


def render_body(
    fetch: FetchInfo, records: Iterable[Mapping[str, Any]], counts: dict[str, int], batch_size: int = BATCH_SIZE
) -> Iterator[str]:
    """`BEGIN;` ... `COMMIT;`: the DDL, the products in batches, the fetch row. Fills `counts` as it goes."""
    for key in COUNT_KEYS:
        counts.setdefault(key, 0)
    yield "BEGIN;\n"
    # The IF NOT EXISTS statements would print a NOTICE per existing table and column on every load.
    yield "SET LOCAL client_min_messages = warning;\n\n"
    yield from render_schema()
    seen: set[str] = set()
    batch: list[ProductRows] = []
    for record in records:
        rows = product_rows(record, fetch)
        cc_id = rows.product["cc_id"]
        if not cc_id:
            logger.warning("fetch %s: a product without a ccId skipped", fetch.fetch_id)
            continue
        if cc_id in seen:
            logger.warning("fetch %s: ccId %s listed twice, keeping the first", fetch.fetch_id, cc_id)
            continue
        seen.add(cc_id)
        batch.append(rows)
        counts["products"] += 1
        for name in CHILD_TABLES:
            counts[name] += len(rows.children[name])
        if len(batch) >= batch_size:
            yield from _render_batch(batch)
            batch = []
    if batch:
        yield from _render_batch(batch)
    yield "\n"
    yield _upsert(
        gap_fetch,
        [
            {
                "fetch_id": fetch.fetch_id,
                "pages_group_id": fetch.pages_group_id,
                "group_title": _text(fetch.group_title),
                "folder_timestamp": _text(fetch.folder_timestamp),
                "started_at": fetch.started_at,
                "completed_at": fetch.completed_at,
                "generated_at": fetch.generated_at,
                "product_count": counts["products"],
            }
        ],
    )
    yield "\nCOMMIT;\n"


def render_header(fetch: FetchInfo, counts: Mapping[str, int], file_name: str = "FILE") -> str:
    """The comment and session settings at the top of the file."""
    generated = fetch.generated_at.isoformat() if fetch.generated_at else "unknown time"
    counted = ", ".join(f"{key}={counts.get(key, 0)}" for key in COUNT_KEYS)
    lines = [
        "-- gapspider SQL output for PostgreSQL (UTF-8)",
        "SET client_encoding = 'UTF8';",
        "SET standard_conforming_strings = on;",
        "--",
        f"-- Generated by gapspider at {_comment(generated)}",
        f"-- Fetch {_comment(fetch.fetch_id)} of pages group {_comment(fetch.pages_group_id)} "
        f"\"{_comment(fetch.group_title)}\", folder timestamp {_comment(fetch.folder_timestamp)}",
        f"-- Counts: {counted}",
        f"-- Load with: psql -v ON_ERROR_STOP=1 -f {_comment(file_name)} DBNAME",
        "-- One transaction: tables are created if missing, products upserted, their sizes, fits, lengths, variants,",
        "-- colours, discounts and images replaced. Loading the file again leaves the same rows.",
        "",
    ]
    return "\n".join(lines) + "\n"


def render_sql(
    fetch: FetchInfo, records: Iterable[Mapping[str, Any]], counts: Optional[dict[str, int]] = None,
    *, batch_size: int = BATCH_SIZE, file_name: str = "FILE",
) -> Iterator[str]:
    """The whole script in chunks. The body is spooled (memory, then a temporary file) because the header
    carries the counts; pass `counts` to receive them."""
    counts = {} if counts is None else counts
    spool = tempfile.SpooledTemporaryFile(max_size=8 * 1024 * 1024, mode="w+", encoding="utf-8", newline="\n")
    with spool as body:
        for chunk in render_body(fetch, records, counts, batch_size):
            body.write(chunk)
        yield render_header(fetch, counts, file_name)
        body.seek(0)
        while True:
            chunk = body.read(1024 * 1024)
            if not chunk:
                break
            yield chunk


# ------------------------------------------------------------------ from the database to the file


def fetch_info(session: Session, fetch_id: int, *, generated_at: Optional[dt.datetime] = None,
               fetch_dir: Optional[Path] = None) -> FetchInfo:
    fetch = session.get(GapDataFetch, fetch_id)
    if fetch is None:
        raise LookupError(f"no fetch {fetch_id}")
    group = session.get(PagesGroup, fetch.pages_group_id)
    generated = _aware(generated_at or dt.datetime.now(dt.timezone.utc))
    completed = _aware(fetch.completed_at)
    if completed is None and fetch.status == "generating_output":
        # The file is the fetch's last step: the post-crawl step completes the fetch at this same instant.
        completed = generated
    return FetchInfo(
        fetch_id=fetch.id,
        pages_group_id=fetch.pages_group_id,
        group_title=group.title if group is not None else None,
        folder_timestamp=fetch.folder_timestamp,
        started_at=_aware(fetch.started_at),
        completed_at=completed,
        generated_at=generated,
        fetch_dir=str(fetch_dir) if fetch_dir is not None else None,
    )


def iter_records(session: Session, fetch_id: int, batch_size: int = 500) -> Iterator[dict[str, Any]]:
    """The fetch's products as plain dicts (`SOURCE_COLUMNS`), read in batches, in listing order."""
    columns = [
        Product.style_id, Product.cc_id, Product.style_name, Product.cc_name, Product.cc_short_description,
        Product.web_product_type, GapPage.title.label("gap_page_title"),
    ] + [
        getattr(ProductData, name) for name in SOURCE_COLUMNS
        if name not in ("style_id", "cc_id", "style_name", "cc_name", "cc_short_description", "web_product_type",
                        "gap_page_title")
    ]
    statement = (
        sa.select(*columns)
        .join(Product, Product.id == ProductData.product_id)
        .outerjoin(GapPage, GapPage.id == ProductData.gap_page_id)
        .where(ProductData.gap_data_fetch_id == fetch_id)
        .order_by(ProductData.position, ProductData.id)
        .execution_options(yield_per=batch_size)
    )
    for row in session.execute(statement):
        yield dict(row._mapping)


def write_sql_output(
    session: Session, fetch_id: int, path: Path, *, generated_at: Optional[dt.datetime] = None,
    batch_size: int = BATCH_SIZE,
) -> dict[str, int]:
    """Write the SQL file of a fetch (atomically) and return the counts written."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    fetch = fetch_info(session, fetch_id, generated_at=generated_at, fetch_dir=path.parent.resolve())
    counts: dict[str, int] = {}
    partial = path.with_name(f".{path.name}.part")
    try:
        with open(partial, "w", encoding="utf-8", newline="\n") as handle:
            for chunk in render_sql(fetch, iter_records(session, fetch_id), counts,
                                    batch_size=batch_size, file_name=path.name):
                handle.write(chunk)
        os.replace(partial, path)
    except BaseException:
        partial.unlink(missing_ok=True)
        raise
    logger.info("fetch %s: SQL output %s (%s)", fetch_id, path, counts)
    return counts


__all__ = [
    "CHILD_TABLES",
    "FetchInfo",
    "METADATA",
    "ProductRows",
    "fetch_info",
    "iter_records",
    "product_rows",
    "render_body",
    "render_header",
    "render_schema",
    "render_sql",
    "write_sql_output",
]
