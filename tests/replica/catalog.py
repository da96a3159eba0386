"""The replica's catalog: Gap's real listing-API responses, keyed by (endpoint, cid).

The replica answers only from these real files so that the spider is exercised against Gap's true data shapes
(strings where Gap has strings, entity-laden names, duplicated image entries...). Dicts are kept exactly as loaded;
callers must copy before changing them.
"""

from __future__ import annotations

import functools
import json
from dataclasses import dataclass, field
from pathlib import Path

DATA_DIR = Path(__file__).resolve().parent / "data"

LEGACY = "legacy"
CURRENT = "current"
ENDPOINTS = (CURRENT, LEGACY)

# Request paths of the two listing endpoints (same response shape).
LISTING_PATHS = {
    LEGACY: "/commerce/search/products/v2/cc",
    CURRENT: "/v2/catalog_search_products/v2/category_products",
}

DEPARTMENT_MEN = "75"
DEPARTMENT_WOMEN = "136"

MEN_TSHIRTS_2024 = "20240210143119-men-tshirts__20240210143119-5965a1f8.json"
MEN_TSHIRTS_2026 = "20260925T222234770749Z-men-tshirts__products-page-1.json"
WOMEN_JEANS_2026 = "20260926T192615578458Z-women-jeans__products-page-2.json"

# (endpoint, cid, department, file). Order matters: find_colour prefers earlier entries, so the newest data wins.
SOURCES = (
    (CURRENT, "5225", DEPARTMENT_MEN, MEN_TSHIRTS_2026),
    (CURRENT, "5664", DEPARTMENT_WOMEN, WOMEN_JEANS_2026),
    (LEGACY, "5664", DEPARTMENT_WOMEN, WOMEN_JEANS_2026),
    (LEGACY, "5225", DEPARTMENT_MEN, MEN_TSHIRTS_2024),
)

# Top-level keys the listing response rebuilds per page; every other top-level key is echoed from the real file.
PAGED_KEYS = ("pagination", "totalColors", "categories", "products", "facets")


@dataclass(frozen=True)
class Category:
    """One category as one endpoint serves it; `colours` is the deduplicated list that gets paginated."""

    endpoint: str
    cid: str
    name: str
    department: str
    source: str
    products: tuple = ()
    colours: tuple = ()  # ((product_dict, colour_dict), ...) in listing order, unique by ccId
    facets: list = field(default_factory=list)
    extra: dict = field(default_factory=dict)  # other top-level keys of the real response, in file order


def _dedupe_colours(products: list) -> tuple:
    """First occurrence of each ccId wins, so pagination never shows a colour twice."""
    seen: set[str] = set()
    colours = []
    for product in products:
        for colour in product.get("styleColors", []):
            cc_id = str(colour["ccId"])
            if cc_id in seen:
                continue
            seen.add(cc_id)
            colours.append((product, colour))
    return tuple(colours)


def _category_from_response(endpoint: str, cid: str, department: str, source: str, response: dict) -> Category:
    category_meta = (response.get("categories") or [{}])[0]
    return Category(
        endpoint=endpoint,
        cid=cid,
        name=category_meta.get("categoryName", ""),
        department=department,
        source=source,
        products=tuple(response.get("products", [])),
        colours=_dedupe_colours(response.get("products", [])),
        facets=response.get("facets", []),
        extra={k: v for k, v in response.items() if k not in PAGED_KEYS},
    )


class Catalog:
    """Categories by (endpoint, cid) plus lookups by ccId and styleId across all of them."""

    def __init__(self, data_dir: Path | str = DATA_DIR, sources=SOURCES):
        self.data_dir = Path(data_dir)
        loaded: dict[str, dict] = {}
        self.categories: dict[tuple[str, str], Category] = {}
        for endpoint, cid, department, filename in sources:
            if filename not in loaded:
                loaded[filename] = json.loads((self.data_dir / filename).read_text(encoding="utf-8"))
            self.categories[(endpoint, cid)] = _category_from_response(
                endpoint, cid, department, filename, loaded[filename]
            )
        self._by_cc_id: dict[str, tuple[dict, dict, str]] = {}
        self._by_style: dict[str, list[tuple[dict, dict]]] = {}
        for category in self.categories.values():
            for product, colour in category.colours:
                cc_id = str(colour["ccId"])
                self._by_cc_id.setdefault(cc_id, (product, colour, category.cid))
                style_colours = self._by_style.setdefault(str(product["styleId"]), [])
                if all(str(c["ccId"]) != cc_id for _, c in style_colours):
                    style_colours.append((product, colour))

    @classmethod
    @functools.lru_cache(maxsize=1)
    def default(cls) -> "Catalog":
        """The catalog of the bundled real files, loaded once per process (the files are 1.6 MB)."""
        return cls()

    def category(self, endpoint: str, cid) -> Category | None:
        return self.categories.get((endpoint, str(cid)))

    def colours(self, endpoint: str, cid) -> list[tuple[dict, dict]]:
        """The category's paginated colour list; empty for an unknown category."""
        category = self.category(endpoint, cid)
        return list(category.colours) if category else []

    def find_colour(self, cc_id) -> tuple[dict, dict, str] | None:
        """(product, colour, cid) for a ccId; the newest file wins when a colour is in several."""
        return self._by_cc_id.get(str(cc_id))

    def style_colours(self, style_id) -> list[tuple[dict, dict]]:
        """Every colour of a style known to any category, unique by ccId, newest file first."""
        return list(self._by_style.get(str(style_id), []))

    def department(self, cid) -> str | None:
        for (_, category_cid), category in self.categories.items():
            if category_cid == str(cid):
                return category.department
        return None

    def cc_ids(self) -> list[str]:
        """Every known ccId, in catalog order (useful to pick product pages in tests and benchmarks)."""
        return list(self._by_cc_id)
