"""Product pages (PDPs) of the replica: the facts a page shows, and their HTML, as pure functions.

Gap's real PDPs could not be captured, so the page is generated from the listing data with the markup other scrapers
rely on (see gapdata/README.md). Everything random is seeded by the ccId, so tests can compute the exact facts a
parser must recover from the page: `product_page_facts` is the answer key, `render_product_page` the exam.
"""

from __future__ import annotations

import html
import json
import random
import re
from decimal import Decimal

from .catalog import DEPARTMENT_WOMEN, Catalog

TOP_SIZES = ("XS", "S", "M", "L", "XL", "XXL")
WOMEN_WAISTS = tuple(str(w) for w in range(24, 36))  # "24".."35"
MEN_WAISTS = tuple(str(w) for w in range(28, 41, 2))  # "28".."40", even
WOMEN_FITS = ("Regular", "Petite", "Tall")
MEN_FITS = ("Regular", "Tall")

SOLD_OUT_COLOUR_RATE = 1 / 8  # a sold-out colour: swatch out of stock, and every size out of stock on its page
SIZE_OUT_OF_STOCK_RATE = 0.25
FIT_OUT_OF_STOCK_RATE = 0.3  # chance that one fit (of a bottom) is unavailable
MARKDOWN_PRICE_TYPES = ("P", "M")

# "short" must not catch "short-sleeved tees"; "jean" must not catch "Jean-Michel Basquiat".
BOTTOM_WORDS = re.compile(r"\b(?:jean|pant|short|chino|jogger|legging|skirt)s?\b(?![-'’]|[ -]?sleeve)", re.I)

SCHEMA_IN_STOCK = "https://schema.org/InStock"
SCHEMA_OUT_OF_STOCK = "https://schema.org/OutOfStock"

# One bullet that must survive HTML, JSON-LD and flight-data escaping: an ampersand and a double quote.
CARE_BULLET = 'Machine wash cold & tumble dry low; see the "Care" label.'
TOP_FABRIC = (
    "100% cotton.",
    "Soft cotton jersey knit.",
    "Made with 60% organically grown cotton & 40% recycled polyester.",
    "Midweight cotton, garment-dyed for a lived-in feel.",
    "Heavyweight cotton with a structured drape.",
)
BOTTOM_FABRIC = (
    "99% cotton, 1% elastane.",
    "Stretch denim that holds its shape all day.",
    "Made with recycled cotton & TENCEL™ lyocell.",
    "Rigid 100% cotton denim that softens with wear.",
    "Washwell™ wash, made with 20% less water.",
)
TOP_FIT = (
    "Relaxed fit, easy through the body.",
    "Classic fit.",
    "Hits at the hip.",
    "Crewneck.",
    "Dropped shoulders.",
    "Model is 6'1\" / 185 cm and wears size M.",
)
BOTTOM_FIT = (
    "Sits at the waist.",
    "Slim through the hip & thigh.",
    "Inseam: 30\" (Regular), 28\" (Petite), 33\" (Tall).",
    "Five-pocket styling.",
    "Zip fly with button closure.",
    "Model is 5'10\" / 178 cm and wears size 27 Regular.",
)


def is_out_of_stock_status(status) -> bool:
    return "out of stock" in str(status or "").strip().lower()


def colour_sold_out(colour: dict) -> bool:
    """Whether a colour is sold out: by its listing status, else ~1 in 8 seeded by its ccId.

    The draw is the first one of the colour's own page, so a swatch and the page it leads to always agree.
    """
    draw = random.Random(int(colour["ccId"])).random()
    return is_out_of_stock_status(colour.get("inventoryStatus")) or draw < SOLD_OUT_COLOUR_RATE


def is_bottom(product: dict) -> bool:
    text = f"{product.get('webProductType', '')} {product.get('styleName', '')}"
    return bool(BOTTOM_WORDS.search(text))


def money(amount) -> str:
    """Gap's price strings ("44.0", "89.95") as two-decimal strings ("44.00")."""
    return str(Decimal(str(amount)).quantize(Decimal("0.01")))


def price_facts(colour: dict) -> dict:
    current = money(colour.get("effectivePrice") or colour.get("regularPrice"))
    regular = money(colour.get("regularPrice") or colour.get("effectivePrice"))
    price_type = colour.get("priceType") or "R"
    percent_off = None
    if price_type != "R":
        raw = str(colour.get("percentageOff") or "").strip()
        if raw:
            percent_off = int(Decimal(raw))
        elif Decimal(regular) > 0:
            percent_off = int((100 * (1 - Decimal(current) / Decimal(regular))).quantize(Decimal("1")))
        else:
            percent_off = 0
    return {"current": current, "regular": regular, "currency": "USD", "percent_off": percent_off,
            "type": price_type}


def marketing_message(colour: dict) -> str | None:
    for key in ("ccLevelMarketingFlags", "ccMarketingFlagsDetails"):
        for flag in colour.get(key) or []:
            if isinstance(flag, dict) and flag.get("content"):
                return flag["content"]
    return None


_VIEW_TYPE = re.compile(r"^(AV\d+)(?:_(.*))?$")
_SKIPPED_TYPES = {"S", "VIDEO"}  # S is the fabric swatch, not a view of the product
# Renditions of one photo, best first: Z is the largest.
_RENDITION_PREFERENCE = ("Z", "VLI", "", "P01", "VI", "QL", "VI_ONESITE", "T", "OVI2", "OVI1", "SI")


def page_images(colour: dict) -> list[str]:
    """One image path per view (main, AV1, AV2...), largest rendition, no videos, always under /webcontent/."""
    views: dict[str, list[tuple[str, str]]] = {}
    for image in colour.get("images") or []:
        image_type, path = str(image.get("type", "")), str(image.get("path", ""))
        if not path or path.endswith(".mp4") or image_type.endswith("_VD") or image_type in _SKIPPED_TYPES:
            continue
        match = _VIEW_TYPE.match(image_type)
        view, rendition = (match.group(1), match.group(2) or "") if match else ("main", image_type)
        views.setdefault(view, []).append((rendition, "/" + path.lstrip("/")))

    def view_order(view: str) -> int:
        return 0 if view == "main" else int(view[2:])

    def rank(rendition: str) -> int:
        return _RENDITION_PREFERENCE.index(rendition) if rendition in _RENDITION_PREFERENCE else len(
            _RENDITION_PREFERENCE)

    chosen = []
    for view in sorted(views, key=view_order):
        path = min(views[view], key=lambda entry: rank(entry[0]))[1]
        if path not in chosen:
            chosen.append(path)
    return chosen


def product_page_facts(catalog: Catalog, cc_id) -> dict:
    """Everything the product page of `cc_id` shows, seeded by random.Random(int(ccId)). KeyError if unknown."""
    found = catalog.find_colour(cc_id)
    if found is None:
        raise KeyError(f"unknown ccId {cc_id!r}")
    product, colour, cid = found
    cc_id = str(colour["ccId"])
    rng = random.Random(int(cc_id))
    sold_out = rng.random() < SOLD_OUT_COLOUR_RATE or is_out_of_stock_status(colour.get("inventoryStatus"))
    women = catalog.department(cid) == DEPARTMENT_WOMEN
    bottom = is_bottom(product)

    size_labels = (WOMEN_WAISTS if women else MEN_WAISTS) if bottom else TOP_SIZES
    size_draws = [rng.random() >= SIZE_OUT_OF_STOCK_RATE for _ in size_labels]
    rescue = rng.randrange(len(size_labels))
    if not sold_out and not any(size_draws):
        size_draws[rescue] = True  # an in-stock colour keeps at least one size
    sizes = [{"label": label, "available": ok and not sold_out} for label, ok in zip(size_labels, size_draws)]

    fits = []
    if bottom:
        fit_labels = WOMEN_FITS if women else MEN_FITS
        fit_draw, fit_index = rng.random(), rng.randrange(len(fit_labels))
        unavailable_fit = fit_index if fit_draw < FIT_OUT_OF_STOCK_RATE else None
        fits = [{"label": label, "available": i != unavailable_fit} for i, label in enumerate(fit_labels)]

    price = price_facts(colour)
    variants = []
    for size in sizes:
        for fit in fits or [None]:
            variants.append({
                "size": size["label"],
                "fit": fit["label"] if fit else None,
                "sku": f"{cc_id}{len(variants) + 1:03d}",
                "available": size["available"] and (fit is None or fit["available"]),
                "price": price["current"],
            })

    fabric_pool, fit_pool = (BOTTOM_FABRIC, BOTTOM_FIT) if bottom else (TOP_FABRIC, TOP_FIT)
    details = {
        "Fabric & care": rng.sample(fabric_pool, 2) + [CARE_BULLET, "Imported."],
        "Fit & sizing": rng.sample(fit_pool, 3),
    }

    colours = [
        {"name": sibling["ccName"], "cc_id": str(sibling["ccId"]),
         "available": not colour_sold_out(sibling)}
        for _, sibling in catalog.style_colours(product["styleId"])
    ]

    return {
        "cc_id": cc_id,
        "style_id": str(product["styleId"]),
        "cid": cid,
        "kind": "bottom" if bottom else "top",
        # the listing's styleName as a browser shows it: the 2024 data has entities such as "&#215" (×)
        "title": html.unescape(product["styleName"]),
        "color": {"name": colour["ccName"], "cc_id": cc_id},
        "colors": colours,
        "sizes": sizes,
        "fits": fits,
        "variants": variants,
        "price": price,
        "marketing_message": marketing_message(colour),
        "details": details,
        "images": page_images(colour),
        "available": any(v["available"] for v in variants),
    }


# ---------------------------------------------------------------- rendering

def product_url(cc_id: str) -> str:
    return f"/browse/product.do?pid={cc_id}"


def _e(text) -> str:
    return html.escape(str(text), quote=True)


def _script_json(value) -> str:
    """JSON safe inside <script>: <, > and & escaped as \\u003c, \\u003e, \\u0026 the way Next.js does."""
    text = json.dumps(value, ensure_ascii=False, separators=(",", ":"))
    return (text.replace("<", "\\u003c").replace(">", "\\u003e").replace("&", "\\u0026")
            .replace("\u2028", "\\u2028").replace("\u2029", "\\u2029"))


def json_ld(facts: dict) -> dict:
    return {
        "@context": "https://schema.org",
        "@type": "Product",
        "productID": facts["cc_id"],
        "sku": facts["cc_id"],
        "name": facts["title"],
        "color": facts["color"]["name"],
        "brand": {"@type": "Brand", "name": "Gap"},
        "image": facts["images"],
        "offers": [
            {
                "@type": "Offer",
                "sku": variant["sku"],
                "price": variant["price"],
                "priceCurrency": facts["price"]["currency"],
                "availability": SCHEMA_IN_STOCK if variant["available"] else SCHEMA_OUT_OF_STOCK,
                "url": product_url(facts["cc_id"]),
            }
            for variant in facts["variants"]
        ],
    }


def flight_state(facts: dict) -> dict:
    """The product state a Next.js page streams in self.__next_f (camelCase, like the real app)."""
    price = facts["price"]
    return {
        "productData": {
            "pid": facts["cc_id"],
            "styleId": facts["style_id"],
            "name": facts["title"],
            "brand": "Gap",
            "selectedColor": {"ccId": facts["color"]["cc_id"], "name": facts["color"]["name"]},
            "colors": [{"ccId": c["cc_id"], "name": c["name"], "available": c["available"]} for c in facts["colors"]],
            "sizes": [{"label": s["label"], "available": s["available"]} for s in facts["sizes"]],
            "fits": [{"label": f["label"], "available": f["available"]} for f in facts["fits"]],
            "variants": [
                {"sku": v["sku"], "size": v["size"], "fit": v["fit"], "available": v["available"],
                 "price": v["price"]}
                for v in facts["variants"]
            ],
            "price": {"current": price["current"], "regular": price["regular"], "currency": price["currency"],
                      "percentOff": price["percent_off"], "priceType": price["type"]},
            "marketingMessage": facts["marketing_message"],
            "infoTabs": [{"label": label, "bullets": bullets} for label, bullets in facts["details"].items()],
            "images": facts["images"],
            "inStock": facts["available"],
        }
    }


# How an out-of-stock choice is marked: real pages vary, so a parser must honour every signal.
OUT_OF_STOCK_SIGNALS = ("testid", "aria+class", "disabled", "class", "aria", "all")


def _selector_item(name: str, input_id: str, label: str, available: bool, signal: str) -> str:
    testid_oos = not available and signal in ("testid", "all")
    aria_oos = not available and signal in ("aria+class", "aria", "all")
    disabled = not available and signal in ("disabled", "all")
    class_oos = not available and signal in ("aria+class", "class", "all")
    label_class = "fds_selector__label" + (" fds_selector__label--unavailable" if class_oos else "")
    return (
        f'<input type="radio" name="{name}" class="fds_selector__input" id="{_e(input_id)}" value="{_e(label)}"'
        f' data-testid="pdp-dimension-{"outofstock" if testid_oos else "instock"}"'
        f' aria-disabled="{"true" if aria_oos else "false"}"{" disabled" if disabled else ""}>'
        f'<label for="{_e(input_id)}" class="{label_class}"><span class="fds_selector__content">{_e(label)}</span>'
        f"</label>"
    )


def _size_selector(facts: dict, rng: random.Random) -> str:
    items = "\n".join(
        _selector_item("buybox-sizeDimension1", f"pdp_buybox_dimension_{size['label']}", size["label"],
                       size["available"], rng.choice(OUT_OF_STOCK_SIGNALS))
        for size in facts["sizes"]
    )
    return (
        '<fieldset class="pdp_size-selector" data-testid="pdp-size-selector">\n'
        '<legend class="pdp_size-selector__label">Size</legend>\n'
        f'<div class="pdp_size-selector-container__items" data-dimension="size">\n{items}\n</div>\n'
        "</fieldset>"
    )


def _fit_selector(facts: dict, rng: random.Random) -> str:
    if not facts["fits"]:
        return ""
    heading = ('<legend class="pdp_size-selector__label">Fit</legend>' if rng.random() < 0.5
               else '<span class="pdp_size-selector__label">Fit</span>')
    items = "\n".join(
        _selector_item("buybox-sizeDimension2", f"pdp_buybox_dimension2_{fit['label']}", fit["label"],
                       fit["available"], rng.choice(OUT_OF_STOCK_SIGNALS))
        for fit in facts["fits"]
    )
    return (
        '<fieldset class="pdp_size-selector" data-testid="pdp-fit-selector">\n'
        f"{heading}\n"
        f'<div class="pdp_size-selector-container__items" data-dimension="fit">\n{items}\n</div>\n'
        "</fieldset>"
    )


def _price_block(facts: dict) -> str:
    price = facts["price"]
    if price["type"] in MARKDOWN_PRICE_TYPES:
        percent = (f' <span class="pdp-pricing__percent-off">{price["percent_off"]}% off</span>'
                   if price["percent_off"] is not None else "")
        return (
            '<div class="pdp-pricing pdp-pricing--markdown" data-testid="pdp-markdown-title-price">'
            f'<span class="current-sale-price">${price["current"]}</span> '
            f'<span class="product-price__strike" aria-label="Regular price">${price["regular"]}</span>{percent}'
            "</div>"
        )
    return (
        '<div class="pdp-pricing" data-testid="pdp-title-price-wrapper">'
        f'<span class="current-sale-price">${price["current"]}</span></div>'
    )


def _colour_picker(facts: dict) -> str:
    swatches = "\n".join(
        f'<div class="pdp-color-picker-swatch-container" id="{_e(c["cc_id"])}">'
        f'<input type="radio" name="pdp-color-swatch" class="pdp-color-swatch__input" value="{_e(c["cc_id"])}"'
        f' data-testid="pdp-color-swatch-{"instock" if c["available"] else "outofstock"}"'
        f' aria-label="{_e(c["name"])}"{" checked" if c["cc_id"] == facts["cc_id"] else ""}></div>'
        for c in facts["colors"]
    )
    return (
        '<div class="pdp-color-picker">\n'
        '<span class="pdp-color-picker__label">Color: </span>'
        f'<span class="pdp-color-picker__value" data-testid="pdp-color-value">{_e(facts["color"]["name"])}</span>\n'
        f'<div class="pdp-color-picker__swatches">\n{swatches}\n</div>\n'
        "</div>"
    )


def _photos(facts: dict) -> str:
    count = len(facts["images"])
    return "\n".join(
        f'<div class="pdp-photo-brick" data-testid="pdp-photo-brick-image">'
        f'<img src="{_e(path)}" alt="View large product image {i} of {count}. {_e(facts["title"])}"'
        f' loading="lazy"></div>'
        for i, path in enumerate(facts["images"], start=1)
    )


def _detail_panels(facts: dict) -> str:
    panels = []
    for title, bullets in facts["details"].items():
        items = "".join(f"<li>{_e(b)}</li>" for b in bullets)
        panels.append(
            '<div class="fds_panel">'
            f'<button class="fds_panel__header" type="button"><h2 class="fds_panel__title">{_e(title)}</h2></button>'
            f'<div class="fds_panel__content"><ul class="product-information-item__list">{items}</ul></div>'
            "</div>"
        )
    return "\n".join(panels)


def render_product_page(facts: dict) -> str:
    """The HTML of a product page showing exactly `facts`; markup variations are seeded by the ccId."""
    rng = random.Random(f"markup:{facts['cc_id']}")
    title = _e(facts["title"])
    hidden_wrapper = '<div hidden>' if rng.random() < 0.5 else '<div style="display:none" aria-hidden="true">'
    marketing = (f'<div class="pdp-marketing-message">{_e(facts["marketing_message"])}</div>\n'
                 if facts["marketing_message"] else "")
    add_to_bag = ('<button type="button" class="pdp-add-to-bag">Add to Bag</button>' if facts["available"]
                  else '<button type="button" class="pdp-add-to-bag" disabled>Out of Stock</button>')
    flight = _script_json(json.dumps(flight_state(facts), ensure_ascii=False, separators=(",", ":")))
    return f"""<!DOCTYPE html>
<html lang="en-US">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>{title} | Gap</title>
<link rel="canonical" href="{_e(product_url(facts["cc_id"]))}">
<script type="application/ld+json">{_script_json(json_ld(facts))}</script>
</head>
<body>
<div id="__next">
{hidden_wrapper}<h1 class="pdp-product-title">{title}</h1></div>
<main id="pdp-page-content" class="pdp-page">
<section class="pdp-photo-bricks">
{_photos(facts)}
</section>
<section class="pdp-buy-box" data-testid="pdp-buy-box">
<h1 class="pdp-product-title" data-testid="product-title">{title}</h1>
{_price_block(facts)}
{marketing}{_colour_picker(facts)}
{_size_selector(facts, rng)}
{_fit_selector(facts, rng)}
{add_to_bag}
</section>
<section class="pdp-details">
{_detail_panels(facts)}
</section>
</main>
</div>
<script>(self.__next_f=self.__next_f||[]).push([0])</script>
<script>self.__next_f.push([1,{flight}])</script>
</body>
</html>
"""


def render_not_found(pid) -> str:
    return f"""<!DOCTYPE html>
<html lang="en-US">
<head><meta charset="utf-8"><title>Page Not Found | Gap</title></head>
<body><main><h1>Sorry, we couldn't find that page.</h1><p>Product {_e(pid)} is not available.</p></main></body>
</html>
"""
