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

# The synthetic category (`Catalog(synthetic_colours=N)`, `python -m tests.replica --synthetic-colours N`): N colours
# copied from every real colour in turn, each copy with its own ccId, styleId and image paths, for benchmarks at a
# scale no real capture has. Men's department; each colour's page keeps the facts of its real origin.
SYNTHETIC_CID = "999999"
SYNTHETIC_NAME = "Synthetic (copies of the real captures)"
# Copy k (1..) numbers its colours "3{k-1}" + 7 digits (9-digit ccIds) and its styles "3{k-1}" + 4 digits (6-digit
# styleIds), in real catalog order (no real id starts with 3), and puts its image paths under /webcontent/synthetic{k}/.
SYNTHETIC_ID_PREFIX = "3"
MAX_SYNTHETIC_COPIES = 10

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


def _synthetic_id(number: int, copy: int, digits: int) -> str:
    return f"{SYNTHETIC_ID_PREFIX}{copy - 1}{number:0{digits}d}"


def _synthetic_image_path(path: str, copy: int) -> str:
    marker = "webcontent/"
    at = path.find(marker)
    if at < 0:
        return path
    at += len(marker)
    return f"{path[:at]}synthetic{copy}/{path[at:]}"


def synthetic_colours(real: list[tuple[dict, dict, str]], count: int) -> list[tuple[dict, dict, str]]:
    """`count` (product, colour, origin cid) copies of the real colours, in turn; ids and image paths distinct."""
    if not real:
        return []
    copies = -(-count // len(real))
    if copies > MAX_SYNTHETIC_COPIES:
        raise ValueError(f"at most {MAX_SYNTHETIC_COPIES * len(real)} synthetic colours (asked for {count})")
    style_numbers: dict[str, int] = {}
    for product, _, _ in real:
        style_numbers.setdefault(str(product["styleId"]), len(style_numbers))
    out: list[tuple[dict, dict, str]] = []
    products: dict[tuple[int, int], dict] = {}
    for index in range(count):
        copy, (product, colour, cid) = index // len(real) + 1, real[index % len(real)]
        new_product = products.get((copy, id(product)))
        if new_product is None:
            new_product = {k: ([] if k == "styleColors" else v) for k, v in product.items()}
            new_product["styleId"] = _synthetic_id(style_numbers[str(product["styleId"])], copy, 4)
            products[(copy, id(product))] = new_product
        new_colour = dict(colour, ccId=_synthetic_id(index % len(real), copy, 7))
        new_colour["images"] = [
            {k: (_synthetic_image_path(v, copy) if k in ("path", "absoluteUrl") and isinstance(v, str) else v)
             for k, v in image.items()}
            for image in colour.get("images") or []
        ]
        new_product["styleColors"].append(new_colour)
        out.append((new_product, new_colour, cid))
    return out


class Catalog:
    """Categories by (endpoint, cid) plus lookups by ccId and styleId across all of them.

    `synthetic_colours=N` adds the category SYNTHETIC_CID (both endpoints) with N colours copied from the real ones
    (see SYNTHETIC_CID); without it the catalog is exactly the real captures.
    """

    def __init__(self, data_dir: Path | str = DATA_DIR, sources=SOURCES, synthetic_colours: int = 0):
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
        if synthetic_colours:
            self._add_synthetic(synthetic_colours)

    def _add_synthetic(self, count: int) -> None:
        made = synthetic_colours(list(self._by_cc_id.values()), count)
        for product, colour, cid in made:
            cc_id = str(colour["ccId"])
            if cc_id in self._by_cc_id:
                raise ValueError(f"synthetic ccId {cc_id} collides with a real one")
            self._by_cc_id[cc_id] = (product, colour, cid)
            self._by_style.setdefault(str(product["styleId"]), []).append((product, colour))
        pairs = tuple((product, colour) for product, colour, _ in made)
        products = tuple({id(p): p for p, _ in pairs}.values())
        for endpoint in ENDPOINTS:
            self.categories[(endpoint, SYNTHETIC_CID)] = Category(
                endpoint=endpoint, cid=SYNTHETIC_CID, name=SYNTHETIC_NAME, department=DEPARTMENT_MEN,
                source="synthetic", products=products, colours=pairs,
            )

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
