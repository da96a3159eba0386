"""The product-page parser: exact values for every fixture generation, robustness, the CLI and the pool."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from gapspider.parsing import RESULT_KEYS, SCHEMA_VERSION, empty_result, parse_product_page
from gapspider.parsing.discounts import parse_message
from gapspider.parsing.pool import parse_saved_pages
from gapspider.parsing.values import amount

ROOT = Path(__file__).resolve().parent.parent
PAGES = ROOT / "tests" / "fixtures" / "pages"
FIXTURE_NAMES = sorted(p.name for p in PAGES.glob("*.html"))


def page(name: str) -> bytes:
    return (PAGES / name).read_bytes()


def parse(name: str, **kwargs) -> dict:
    return parse_product_page(page(name), **kwargs)


def opts(*pairs) -> list[dict]:
    """opts("S", True, "M", False) -> [{"label": "S", "available": True}, ...]"""
    return [{"label": label, "available": ok} for label, ok in zip(pairs[::2], pairs[1::2])]


def variant(size, fit=None, available=True, sku=None, price=None, **extra) -> dict:
    return {"size": size, "fit": fit, "available": available, "sku": sku, "price": price, **extra}


def cross(sizes: list[dict], fits: list[dict]) -> list[dict]:
    """The documented fallback: sizes x fits, available when both are."""
    return [variant(s["label"], f["label"] if f else None, s["available"] and (f is None or f["available"]))
            for s in sizes for f in (fits or [None])]


def expected(**values) -> dict:
    result = empty_result()
    unknown = set(values) - set(result)
    assert not unknown, unknown
    result.update(values)
    return result


def assert_shape(result: dict) -> None:
    """The documented keys and types, whatever the input."""
    assert tuple(result) == RESULT_KEYS
    assert result["schema"] == SCHEMA_VERSION
    for key in ("cc_id", "style_id", "title", "url", "description", "price_type"):
        assert result[key] is None or isinstance(result[key], str), key
    assert set(result["color"]) == {"name", "cc_id"}
    for colour in result["colors"]:
        assert set(colour) == {"name", "cc_id", "available"} and isinstance(colour["available"], bool)
    for key in ("sizes", "fits", "lengths"):
        for option in result[key]:
            assert set(option) == {"label", "available"}
            assert isinstance(option["label"], str) and isinstance(option["available"], bool)
    for item in result["variants"]:
        assert {"size", "fit", "available", "sku", "price"} <= set(item) <= {"size", "fit", "available", "sku",
                                                                            "price", "length"}
        assert isinstance(item["available"], bool)
    assert set(result["price"]) == {"current", "regular", "currency", "percent_off"}
    for key in ("current", "regular"):
        value = result["price"][key]
        assert value is None or (isinstance(value, str) and value.count(".") == 1 and len(value.split(".")[1]) == 2)
    assert result["price"]["percent_off"] is None or isinstance(result["price"]["percent_off"], int)
    for entry in result["discounts"]:
        assert set(entry) == {"text", "percent", "applies", "excluded"}
        assert entry["applies"] in (None, "checkout", "app", "limited_time")
        assert isinstance(entry["excluded"], bool)
    assert isinstance(result["details"], dict)
    assert all(isinstance(k, str) and all(isinstance(b, str) for b in v) for k, v in result["details"].items())
    assert all(isinstance(u, str) for u in result["images"])
    assert all(isinstance(w, str) for w in result["warnings"])
    for key in ("available", "blocked", "failed", "excluded_from_promotions"):
        assert isinstance(result[key], bool), key
    json.dumps(result)  # JSON-serialisable


# ---------------------------------------------------------------- fixtures, one generation each

def test_fixture_set_covers_every_generation():
    assert len(FIXTURE_NAMES) >= 12


def test_01_flight_jsonld_sale():
    """Next.js page: JSON-LD offers named by size, flight rows split over four pushes with \\u0026 escapes and a
    $4 reference, markup with a hidden duplicate title, &#8482;, the four out-of-stock signals, a site banner that
    is not a product message."""
    sizes = opts("XS", False, "S", True, "M", True, "L", False, "XL", False, "XXL", False)
    assert parse("01_flight_jsonld_sale.html") == expected(
        cc_id="871234002", style_id="871234", title="Vintage Soft Crewneck T-Shirt™",
        url="https://www.gap.com/browse/product.do?pid=871234002",
        color={"name": "Navy Uniform", "cc_id": "871234002"},
        colors=[{"name": "Navy Uniform", "cc_id": "871234002", "available": True},
                {"name": "Black & White Stripe", "cc_id": "871234012", "available": True},
                {"name": "Heather Grey", "cc_id": "871234022", "available": True}],
        sizes=sizes, dimensions=["size"],
        variants=[variant(s["label"], None, s["available"], f"871234002{i:03d}", "22.00")
                  for i, s in enumerate(sizes, start=1)],
        price={"current": "22.00", "regular": "44.00", "currency": "USD", "percent_off": 50},
        price_type="P",
        discounts=[{"text": "Extra 50% off at checkout", "percent": 50, "applies": "checkout", "excluded": False}],
        available=True,
        details={"Fabric & care": ["100% cotton.", "Machine wash cold & tumble dry low."],
                 "Fit & sizing": ["Relaxed fit.", "Hits at the hip."]},
        images=["https://www.gap.com/webcontent/0056/123/456/cn56123456.jpg",
                "https://www.gap.com/webcontent/0056/123/457/cn56123457.jpg",
                "/webcontent/0056/123/458/cn56123458.jpg"],
        sources=["jsonld", "flight", "markup"],
    )


def test_02_jsonld_clearance_with_fit():
    """@graph JSON-LD with an AggregateOffer whose offer URLs carry size and fit; clearance price with
    .current-black-promo-price and a <s> regular price; fit as the replica's second selector (data-dimension=fit)."""
    sizes = opts("24", False, "25", True, "26", True, "27", False, "28", True)
    fits = opts("Regular", True, "Petite", True, "Tall", False)
    variants = []
    for s in sizes:
        for f in fits:
            variants.append(variant(s["label"], f["label"], s["available"] and f["available"],
                                    f"540123012{len(variants) + 1:04d}", "23.97"))
    assert parse("02_jsonld_clearance_fit.html") == expected(
        cc_id="540123012", title="High Rise Cheeky Straight Jeans",
        url="https://www.gap.com/browse/product.do?pid=540123012",
        color={"name": "Medium Wash", "cc_id": "540123012"},
        colors=[{"name": "Medium Wash", "cc_id": "540123012", "available": True},
                {"name": "Dark Rinse", "cc_id": "540123002", "available": True}],
        sizes=sizes, fits=fits, dimensions=["size", "fit"], variants=variants,
        price={"current": "23.97", "regular": "79.95", "currency": "USD", "percent_off": 70},
        discounts=[{"text": "60% off: limited time", "percent": 60, "applies": "limited_time", "excluded": False}],
        available=True,
        details={"Fabric & care": ["99% cotton, 1% elastane.", "Machine wash."]},
        description="Our high rise cheeky straight jeans in stretch denim.",
        images=["https://www.gap.com/webcontent/0054/012/301/cn54012301.jpg",
                "/webcontent/0054/012/302/cn54012302.jpg"],
        sources=["jsonld", "markup"],
    )


def test_03_all_sizes_out_of_stock():
    sizes = opts("S", False, "M", False, "L", False, "XL", False)
    assert parse("03_all_sizes_out_of_stock.html") == expected(
        cc_id="702211002", style_id="702211", title="Arch Logo Hoodie", url="/browse/product.do?pid=702211002",
        color={"name": "Charcoal Heather", "cc_id": "702211002"},
        colors=[{"name": "Charcoal Heather", "cc_id": "702211002", "available": False}],
        sizes=sizes, dimensions=["size"], variants=cross(sizes, []),
        price={"current": "49.95", "regular": "49.95", "currency": "USD", "percent_off": None},
        price_type="R", available=False,
        details={"Fabric & care": ["Soft fleece."]},
        images=["/webcontent/0070/221/100/cn70221100.jpg"],
        sources=["jsonld", "flight", "markup"],
        warnings=["variants: the 4 jsonld offers do not say which size they are; not used"],
    )


def test_04_several_colours_one_sold_out():
    """Four swatches, one out of stock, plus a hidden sticky copy of the picker that must not duplicate them."""
    sizes = opts("XS", True, "S", True, "M", False, "L", True)
    assert parse("04_colours_one_sold_out.html") == expected(
        cc_id="455667012", title="Cropped Utility Jacket",
        url="https://www.gapfactory.com/browse/product.do?pid=455667012&vid=1",
        color={"name": "Khaki Tan", "cc_id": "455667012"},
        colors=[{"name": "Khaki Tan", "cc_id": "455667012", "available": True},
                {"name": "True Black", "cc_id": "455667002", "available": True},
                {"name": "Olive Green", "cc_id": "455667022", "available": False},
                {"name": "Stone White", "cc_id": "455667032", "available": True}],
        sizes=sizes, dimensions=["size"], variants=cross(sizes, []),
        price={"current": "29.97", "regular": "59.95", "currency": "USD", "percent_off": 50},
        discounts=[{"text": "50% off + extra 10% in the app", "percent": 10, "applies": "app", "excluded": False}],
        available=True,
        images=["https://content.gapinc.com/webcontent/0045/566/701/cn45566701.jpg"],
        sources=["jsonld", "markup"],
    )


def test_05_canada_prices_in_cad():
    """CA$ in the markup; the flight state (RSC rows) has prices but no currency; SKU rows with inventory statuses."""
    assert parse("05_canada_cad.html") == expected(
        cc_id="610987002", style_id="610987", title="Organic Cotton Pocket T-Shirt",
        url="https://www.gapcanada.ca/browse/product.do?pid=610987002",
        color={"name": "Optic White", "cc_id": "610987002"},
        sizes=opts("S", True, "M", True, "L", False), dimensions=["size"],
        variants=[variant("S", None, True, "6109870020001", "54.99"),
                  variant("M", None, True, "6109870020002", "54.99"),
                  variant("L", None, False, "6109870020003", "54.99")],
        price={"current": "54.99", "regular": "54.99", "currency": "CAD", "percent_off": None},
        available=True,
        details={"Materials & care": ["100% organic cotton.", "Machine wash."]},
        sources=["flight", "markup"],
    )


def test_06_no_jsonld_fit_as_variant_radios():
    """No JSON-LD; a flight row split in two pushes; the fit as radios named buybox-variant in a
    data-testid="pdp-variant-selector" group; an exclusion message both in state and markup (one entry)."""
    sizes = opts("30", True, "32", True, "34", False, "36", True)
    fits = opts("Regular", True, "Tall", False)
    assert parse("06_no_jsonld_variant_radios.html") == expected(
        cc_id="633001042", style_id="633001", title="Modern Khakis in Slim Fit with GapFlex",
        url="https://www.gap.com/browse/product.do?pid=633001042&cid=1234",
        color={"name": "Palm Green", "cc_id": "633001042"},
        sizes=sizes, fits=fits, dimensions=["size", "fit"], variants=cross(sizes, fits),
        price={"current": "69.95", "regular": "69.95", "currency": "USD", "percent_off": None},
        discounts=[{"text": "Excluded from promotions", "percent": None, "applies": None, "excluded": True}],
        excluded_from_promotions=True, available=True,
        sources=["flight", "markup"],
    )


def test_07_legacy_2023_state_only():
    """Only `window.__PRODUCT_PAGE_STATE__ = JSON.parse("...")` (Gap's 2023 shape: per-fit variants holding
    productStyleColors with sizes); the markup is an empty client-side shell."""
    sizes = opts("30", True, "32", True, "34", False, "36", True)
    regular = [True, True, False, True]
    tall = [False, True, False, False]
    variants = [variant(w, "Regular", ok, f"512345032R{w}", "39.99") for w, ok in zip(("30", "32", "34", "36"),
                                                                                   regular)]
    variants += [variant(w, "Tall", ok, f"512345032T{w}", "39.99") for w, ok in zip(("30", "32", "34", "36"), tall)]
    assert parse("07_legacy_2023_state_only.html") == expected(
        cc_id="512345032", style_id="512345", title="Slim Taper GapFlex Khakis",
        color={"name": "New British Khaki", "cc_id": "512345032"},
        colors=[{"name": "New British Khaki", "cc_id": "512345032", "available": True},
                {"name": "True Black", "cc_id": "512345002", "available": True},
                {"name": "Navy", "cc_id": "512345012", "available": False}],
        sizes=sizes, fits=opts("Regular", True, "Tall", True), dimensions=["size", "fit"], variants=variants,
        price={"current": "39.99", "regular": "69.95", "currency": None, "percent_off": 43},
        discounts=[{"text": "Extra 10% off in the app", "percent": 10, "applies": "app", "excluded": False}],
        available=True,
        details={"Overview": ["Slim taper fit.", "Zip fly."],
                 "Fabric & Care": ["98% cotton, 2% spandex.", "Machine wash."]},
        images=["/webcontent/0051/234/503/cn51234503.jpg"],
        sources=["legacy_state"],
        warnings=["price: the page does not say which currency"],
    )


def test_08_markup_only_older_generation():
    """No scripts at all: span.product-price__highlight / __strike, .swatch-label__value, a loose bullet list,
    a visually-hidden duplicate title with &amp;."""
    sizes = opts("S", True, "M", True, "L", False, "XL", True)
    assert parse("08_markup_only_older.html") == expected(
        cc_id="398811002", title="Gap & Disney Mickey Mouse Graphic T-Shirt",
        url="https://www.gap.com/browse/product.do?pid=398811002",
        color={"name": "Snow White", "cc_id": "398811002"},
        sizes=sizes, dimensions=["size"], variants=cross(sizes, []),
        price={"current": "29.99", "regular": "39.95", "currency": "USD", "percent_off": 25},
        discounts=[{"text": "Excluded from promotions", "percent": None, "applies": None, "excluded": True}],
        excluded_from_promotions=True, available=True,
        details={"Product details": ["100% cotton.", "Crewneck, short sleeves."]},
        images=["/webcontent/0039/881/100/cn39881100.jpg", "/webcontent/0039/881/101/cn39881101.jpg"],
        sources=["markup"],
    )


def test_09_akamai_block_page_is_blocked_and_failed():
    assert parse("09_bot_block_akamai.html") == expected(
        blocked=True, failed=True, available=False,
        warnings=["blocked: a bot-protection page (title 'Access Denied', Reference #18.9c1b2017.1764791234.5a3e2f1), "
                  "not a product page"],
    )


def test_09_block_page_keeps_who_it_was_for():
    result = parse("09_bot_block_akamai.html", cc_id="871234002", listing={"style_id": "871234",
                                                                           "effective_price": "22.00"})
    assert result["blocked"] and result["failed"]
    assert (result["cc_id"], result["style_id"], result["color"]) == ("871234002", "871234",
                                                                     {"name": None, "cc_id": "871234002"})
    assert result["price"]["current"] is None and result["sizes"] == [] and result["available"] is False
    assert result["warnings"][1:] == ["cc_id: not on the page; taken from the caller's cc_id",
                                      "style_id: not on the page; taken from the listing"]


def test_10_truncated_page():
    """Cut inside the size selector: JSON-LD (complete, offers named "Size XS") keeps all five sizes."""
    sizes = opts("XS", True, "S", True, "M", False, "L", True, "XL", True)
    assert parse("10_truncated.html") == expected(
        cc_id="790011032", title="Linen-Cotton Shirt",
        color={"name": "Sky Blue", "cc_id": "790011032"},
        sizes=sizes, dimensions=["size"],
        variants=[variant(s["label"], None, s["available"], f"790011032{i:03d}", "49.95")
                  for i, s in enumerate(sizes, start=1)],
        price={"current": "49.95", "regular": "49.95", "currency": "USD", "percent_off": None},
        available=True, sources=["jsonld", "markup"],
        warnings=["page: no closing </html> tag, the page looks truncated; read what was there",
                  "sizes: jsonld lists [XS, S, M, L, XL], markup lists [XS, S, M]; kept jsonld"],
    )


def test_11_windows_1252_page_with_meta_charset():
    assert b"\x99" in page("11_windows1252.html")  # ™ in windows-1252, not valid UTF-8
    sizes = opts("S", True, "M", True)
    assert parse("11_windows1252.html") == expected(
        cc_id="221100002", title="Gap Logo Fleece Hoodie™",
        color={"name": "Café Latte", "cc_id": "221100002"},
        sizes=sizes, dimensions=["size"], variants=cross(sizes, []),
        price={"current": "54.95", "regular": "54.95", "currency": "USD", "percent_off": None},
        available=True,
        details={"Fabric & care": ["It’s our softest fleece – 77% cotton, 23% polyester.", "Machine wash."]},
        sources=["jsonld", "markup"],
    )


def test_12_width_by_length_keeps_the_length_dimension():
    """Men's 30x32: dimension 2 labels are numbers, not fit words -> `lengths`, variants carry `length`."""
    widths = opts("30", True, "32", True, "34", False)
    lengths = opts("30", True, "32", True, "34", False)
    variants = [variant(w["label"], None, w["available"] and x["available"], f"660022002{w['label']}{x['label']}",
                        "79.95", length=x["label"]) for w in widths for x in lengths]
    assert parse("12_width_by_length.html") == expected(
        cc_id="660022002", title="Slim Jeans", color={"name": "Dark Indigo", "cc_id": "660022002"},
        sizes=widths, lengths=lengths, dimensions=["size", "length"], variants=variants,
        price={"current": "79.95", "regular": "79.95", "currency": "USD", "percent_off": None},
        available=True, sources=["jsonld", "markup"],
    )


def test_13_next_data_and_fit_buttons():
    """Pages-router `__NEXT_DATA__` (other key names: title, customerChoice, swatches, priceInfo) and the fit as
    a group of buttons in a data-testid="pdp-fit-buttons" container."""
    sizes = opts("XS", True, "S", True, "M", True)
    fits = opts("Regular", True, "Petite", True, "Tall", False)
    assert parse("13_next_data_fit_buttons.html") == expected(
        cc_id="300456012", style_id="300456", title="Wide-Leg Pull-On Pants",
        color={"name": "Black", "cc_id": "300456012"},
        colors=[{"name": "Black", "cc_id": "300456012", "available": True},
                {"name": "Oatmeal", "cc_id": "300456002", "available": False}],
        sizes=sizes, fits=fits, dimensions=["size", "fit"], variants=cross(sizes, fits),
        price={"current": "35.97", "regular": "59.95", "currency": "USD", "percent_off": 40},
        price_type="P",
        discounts=[{"text": "Extra 50% off at checkout", "percent": 50, "applies": "checkout", "excluded": False}],
        available=True, details={"Product details": ["Elastic waist.", "Wide leg."]},
        sources=["next_data", "markup"],
    )


def test_14_sources_disagree_structured_wins_with_warnings():
    assert parse("14_sources_disagree.html") == expected(
        cc_id="880033002", title="CloudSoft Joggers", color={"name": "Heather Grey", "cc_id": "880033002"},
        sizes=opts("S", True, "M", False), dimensions=["size"],
        variants=[variant("S", None, True, "880033002001", "34.99"), variant("M", None, False, "880033002002",
                                                                             "34.99")],
        price={"current": "34.99", "regular": "34.99", "currency": "USD", "percent_off": None},
        available=True, sources=["jsonld", "markup"],
        warnings=[
            "jsonld: block 2: repaired trailing commas (Expecting property name enclosed in double quotes: line 1 "
            "column 75 (char 74))",
            "title: jsonld says 'CloudSoft Joggers', markup says 'Cloudsoft Jogger'; kept jsonld",
            "price: jsonld says '34.99', markup says '39.99'; kept jsonld",
            "sizes: stock of M differs between jsonld and markup; kept jsonld",
        ],
    )


def test_15_empty_page():
    assert parse("15_empty.html") == expected(failed=True, warnings=["page: empty or not HTML; nothing to read"])


def test_16_not_a_product_page():
    assert parse("16_not_found.html") == expected(failed=True, warnings=["page: no product data found on the page"])


def test_17_bom_crlf_wrappers_and_a_message_with_its_details_link():
    """UTF-8 BOM, CRLF line endings, single-quoted attributes, http-equiv charset; BreadcrumbList before the
    Product; an AggregateOffer without offers; labels spread over lines inside wrapper divs; a marketing flag whose
    "Details" link is itself flag-classed (the message is the text without the link)."""
    assert page("17_bom_crlf_details_link.html").startswith(b"\xef\xbb\xbf")
    sizes = opts("XS", True, "S", True, "M", False, "L", True, "XL", False)
    assert parse("17_bom_crlf_details_link.html") == expected(
        cc_id="793302011", title="Relaxed Gap Logo Zip Hoodie",
        url="https://www.gapfactory.com/browse/product.do?pid=793302011&vid=1",
        color={"name": "Light Heather Grey", "cc_id": "793302011"},
        colors=[{"name": "Light Heather Grey", "cc_id": "793302011", "available": True},
                {"name": "Navy Blazer", "cc_id": "793302021", "available": True},
                {"name": "Moonless Night", "cc_id": "793302031", "available": False}],
        sizes=sizes, dimensions=["size"], variants=cross(sizes, []),
        price={"current": "27.99", "regular": "27.99", "currency": "USD", "percent_off": None},
        discounts=[{"text": "EXTRA 20% OFF AT CHECKOUT", "percent": 20, "applies": "checkout", "excluded": False}],
        available=True,
        details={"Fabric & Care": ["77% cotton, 23% recycled polyester.", "Machine wash."]},
        description="Soft fleece zip hoodie with Gap arch logo.",
        images=["https://www.gapfactory.com/webcontent/0055/210/977/cn55210977.jpg",
                "/webcontent/0055/210/978/cn55210978.jpg"],
        sources=["jsonld", "markup"],
    )


def test_18_fit_as_a_button_radiogroup_and_offers_named_size_slash_fit():
    """The fit is a <ul role="radiogroup" aria-label="Fit"> of buttons (no fit/variant class or test id); JSON-LD
    offers are named "Title - 24 / Regular": the size is known from the markup, the fit word must still be read."""
    oos = {("24", "Tall"), ("25", "Petite"), ("26", "Tall")}
    variants = [variant(s, f, (s, f) not in oos, f"7007700120{n:03d}", "39.99")
                for n, (s, f) in enumerate(((s, f) for s in ("24", "25", "26") for f in ("Regular", "Petite", "Tall")),
                                           start=1)]
    assert parse("18_fit_radiogroup_offer_names.html") == expected(
        cc_id="700770012", title="High Rise Vintage Slim Jeans",
        url="https://www.gap.com/browse/product.do?pid=700770012",
        color={"name": "Dark Indigo", "cc_id": "700770012"},
        sizes=opts("24", True, "25", True, "26", True), fits=opts("Regular", True, "Petite", True, "Tall", True),
        dimensions=["size", "fit"], variants=variants,
        price={"current": "39.99", "regular": "39.99", "currency": "USD", "percent_off": None},
        available=True, sources=["jsonld", "markup"],
    )


def test_19_flight_size_dimension_groups():
    """Flight state split over seven pushes (cut mid-token, \\u003c escapes, escaped quotes in bullets) with
    `sizeDimensions` as a list of groups (Waist, Length); the markup has no selectors (client-rendered)."""
    sizes = opts("24", True, "25", False, "26", True, "27", True)
    fits = opts("Short", True, "Regular", True, "Long", False)
    assert parse("19_flight_size_dimensions.html") == expected(
        cc_id="570044022", style_id="570044", title="Mid Rise '90s Loose Jeans",
        url="https://www.gap.com/browse/product.do?pid=570044022",
        color={"name": "Light Wash", "cc_id": "570044022"},
        colors=[{"name": "Light Wash", "cc_id": "570044022", "available": True},
                {"name": 'Black "Rinse"', "cc_id": "570044032", "available": False}],
        sizes=sizes, fits=fits, dimensions=["size", "fit"], variants=cross(sizes, fits),
        price={"current": "47.97", "regular": "79.95", "currency": "USD", "percent_off": 40},
        price_type="P",
        discounts=[{"text": "40% off: limited time", "percent": 40, "applies": "limited_time", "excluded": False}],
        available=True,
        details={"Fit & sizing": ["Mid rise.", 'Inseam: 28" (Short), 30" (Regular), 32" (Long).'],
                 "Fabric & care": ["100% cotton <non-stretch>.", "Machine wash."]},
        sources=["flight", "markup"],
    )


def test_20_swatch_names_from_screen_reader_text_and_image_alt():
    """Swatch inputs without aria-label: the name is the label's sr-only text or its image's alt. Also: the title
    h1 by test id only with a nested span, an aria-hidden sticky header copy, sr-only price prefixes, an
    ", out of stock" hint, srcset and lazy data-src images."""
    sizes = opts("XS (4-5)", True, "S (6-7)", True, "M (8)", False, "L (10)", True)
    assert parse("20_swatch_names_sr_only.html") == expected(
        cc_id="778899002", title="Kids Gap Logo Hoodie", url="https://www.gap.com/browse/product.do?pid=778899002",
        color={"name": "Light Heather Grey", "cc_id": "778899002"},
        colors=[{"name": "Light Heather Grey", "cc_id": "778899002", "available": True},
                {"name": "Pink Standard", "cc_id": "778899012", "available": False}],
        sizes=sizes, dimensions=["size"], variants=cross(sizes, []),
        price={"current": "19.99", "regular": "39.95", "currency": "USD", "percent_off": 50},
        available=True,
        details={"Fit & sizing": ["Relaxed fit.", "Hits at the hip."],
                 "Fabric & care": ["80% cotton, 20% polyester.", "Machine wash.", "Imported."]},
        description="Kids' soft fleece hoodie with Gap logo.",
        images=["https://www.gap.com/webcontent/0077/889/900/cn77889900.jpg",
                "https://www.gap.com/webcontent/0077/889/902/cn77889902.jpg"],
        sources=["markup"],
    )


def test_21_jsonld_recommendations_are_not_the_product():
    """An ItemList of recommended products comes first; the page's product is the top-level Product (its offers
    carry the size in itemOffered)."""
    sizes = opts("S", True, "M", True, "L", False, "XL", True)
    assert parse("21_jsonld_recommendations_first.html") == expected(
        cc_id="845566022", title="Vintage Soft Joggers",
        url="https://www.gapfactory.com/browse/product.do?pid=845566022",
        color={"name": "Charcoal Grey", "cc_id": "845566022"},
        sizes=sizes, dimensions=["size"],
        variants=[variant(s["label"], None, s["available"], f"84556602200{i}", "19.99")
                  for i, s in enumerate(sizes, start=1)],
        price={"current": "19.99", "regular": "19.99", "currency": "USD", "percent_off": None},
        available=True, images=["https://www.gapfactory.com/webcontent/0084/556/602/cn84556602.jpg"],
        sources=["jsonld"],
    )


def test_22_size_buttons_and_a_fit_drop_down():
    """Sizes as buttons (unavailable class, aria-disabled, an aria-label "sold out"), the fit as a <select> named
    buybox-sizeDimension2 with a disabled "Tall - Out of stock" option; a title over several lines."""
    sizes = opts("0", True, "2", True, "4", False, "6", False, "8", False, "10", True)
    fits = opts("Regular", True, "Petite", True, "Tall", False)
    assert parse("22_size_buttons_fit_select.html") == expected(
        cc_id="456123042", title="Mid Rise Pull-On Chinos",
        url="https://www.gapfactory.com/browse/product.do?pid=456123042&cid=1045337#pdp-page-content",
        color={"name": "New Khaki", "cc_id": "456123042"},
        sizes=sizes, fits=fits, dimensions=["size", "fit"], variants=cross(sizes, fits),
        price={"current": "34.99", "regular": "34.99", "currency": "USD", "percent_off": None},
        available=True, sources=["markup"],
    )


def test_23_price_range_and_kids_sizes():
    """A price range ("$29.97 - $34.97", struck "$59.95 - $69.95"), kids sizes "XS (4-5)", JSON-LD as a top-level
    array (BreadcrumbList + Product) with an AggregateOffer holding the offers."""
    labels = ["XS (4-5)", "S (6-7)", "M (8)", "L (10-11)", "XL (12-13)"]
    stock = [True, True, False, True, True]
    prices = ["29.97", "29.97", "29.97", "34.97", "34.97"]
    assert parse("23_price_range_kids_sizes.html") == expected(
        cc_id="884412002", title="Kids Recycled Puffer Jacket",
        url="https://www.gapfactory.com/browse/product.do?pid=884412002",
        color={"name": "Navy Uniform", "cc_id": "884412002"},
        sizes=[{"label": x, "available": ok} for x, ok in zip(labels, stock)], dimensions=["size"],
        variants=[variant(x, None, ok, f"884412002000{i}", pr)
                  for i, (x, ok, pr) in enumerate(zip(labels, stock, prices), start=1)],
        price={"current": "29.97", "regular": "59.95", "currency": "USD", "percent_off": 50},
        available=True, sources=["jsonld", "markup"],
        warnings=["jsonld: offers have several prices (29.97, 34.97); the lowest is the current price"],
    )


def test_24_flight_sizes_in_the_selected_colour_entry():
    """Flight state with `selectedCcId` and sizes only inside each colour's entry: the page colour's sizes (not
    the first colour's, not none)."""
    sizes = opts("S", False, "M", True, "L", False, "XL", True)
    assert parse("24_flight_sizes_per_colour.html") == expected(
        cc_id="733001012", style_id="733001", title="Cotton Boxer Briefs (3-Pack)",
        color={"name": "Heather Grey Multi", "cc_id": "733001012"},
        colors=[{"name": "Multi Stripe", "cc_id": "733001002", "available": True},
                {"name": "Heather Grey Multi", "cc_id": "733001012", "available": True}],
        sizes=sizes, dimensions=["size"], variants=cross(sizes, []),
        price={"current": "17.47", "regular": "34.95", "currency": None, "percent_off": 50},
        available=True, sources=["flight"], warnings=["price: the page does not say which currency"],
    )


def test_25_product_group_variants_named_colour_size_fit():
    """@graph ProductGroup whose variants carry size and fit only in their names ("... - Medium Indigo - 26 /
    Petite") and offers without names; bare "InStock" availability; the page colour from the group's url."""
    assert parse("25_group_variant_names_size_fit.html") == expected(
        cc_id="512277012", style_id="512277", title="Mid Rise Wide-Leg Jeans",
        url="https://www.gap.com/browse/product.do?pid=512277012",
        color={"name": "Medium Indigo", "cc_id": "512277012"},
        colors=[{"name": "Black", "cc_id": "512277002", "available": True},
                {"name": "Medium Indigo", "cc_id": "512277012", "available": True}],
        sizes=opts("26", True, "27", True), fits=opts("Regular", True, "Petite", True), dimensions=["size", "fit"],
        variants=[variant("26", "Regular", True, "5122770120005", "59.99"),
                  variant("26", "Petite", True, "5122770120006", "59.99"),
                  variant("27", "Regular", True, "5122770120007", "59.99"),
                  variant("27", "Petite", False, "5122770120008", "59.99")],
        price={"current": "59.99", "regular": "59.99", "currency": "USD", "percent_off": None},
        available=True, sources=["jsonld", "markup"],
    )


def test_26_one_size_and_a_single_offer_without_size():
    """An accessory: one "One Size" choice, one JSON-LD Offer (a dict, price "44", CAD) that names no size: the
    offer is that size, so its SKU and price belong to the variant."""
    assert parse("26_one_size_single_offer_cad.html") == expected(
        cc_id="660011002", title="Gap Logo Canvas Tote Bag",
        url="https://www.gapcanada.ca/browse/product.do?pid=660011002",
        color={"name": "Natural", "cc_id": "660011002"},
        sizes=opts("One Size", True), dimensions=["size"],
        variants=[variant("One Size", None, True, "6600110020001", "44.00")],
        price={"current": "44.00", "regular": "44.00", "currency": "CAD", "percent_off": None},
        discounts=[{"text": "Extra 10% Off In The App", "percent": 10, "applies": "app", "excluded": False}],
        available=True, sources=["jsonld", "markup"],
    )


def test_27_offers_named_waist_x_length_with_separate_selectors():
    """Offers named "... - 30W x 30L" while the page shows waist and length apart (30W / 32W, 30L / 32L): the
    combined label is split into the two choices instead of replacing the sizes. A 10-digit ccId."""
    assert parse("27_offers_named_waist_x_length.html") == expected(
        cc_id="5012330020", title="Straight Fit GapFlex Jeans",
        url="https://www.gapfactory.com/browse/product.do?pid=5012330020",
        color={"name": "Medium Indigo", "cc_id": "5012330020"},
        sizes=opts("30W", True, "32W", True), lengths=opts("30L", True, "32L", True), dimensions=["size", "length"],
        variants=[variant("30W", None, True, "50123300200001", "29.99", length="30L"),
                  variant("30W", None, False, "50123300200002", "29.99", length="32L"),
                  variant("32W", None, True, "50123300200003", "29.99", length="30L"),
                  variant("32W", None, True, "50123300200004", "29.99", length="32L")],
        price={"current": "29.99", "regular": "69.95", "currency": "USD", "percent_off": 57},
        discounts=[{"text": "40% OFF + EXTRA 20% AT CHECKOUT", "percent": 20, "applies": "checkout",
                    "excluded": False}],
        available=True, sources=["jsonld", "markup"],
    )


def test_28_shoe_sizes_with_fractions():
    """Shoe sizes "6 1/2": the slash of a fraction in an offer name is not a separator (it gave size "2")."""
    labels = ["6", "6 1/2", "7", "7 1/2", "8", "8 1/2"]
    stock = [True, True, False, True, True, False]
    assert parse("28_shoe_sizes_with_fractions.html") == expected(
        cc_id="700111002", title="Canvas Lace-Up Sneakers",
        url="https://www.gap.com/browse/product.do?pid=700111002",
        color={"name": "Optic White", "cc_id": "700111002"},
        colors=[{"name": "Optic White", "cc_id": "700111002", "available": True},
                {"name": "Black", "cc_id": "700111012", "available": True}],
        sizes=[{"label": x, "available": ok} for x, ok in zip(labels, stock)], dimensions=["size"],
        variants=[variant(x, None, ok, f"7001110020{i:03d}", "39.99")
                  for i, (x, ok) in enumerate(zip(labels, stock), start=1)],
        price={"current": "39.99", "regular": "39.99", "currency": "USD", "percent_off": None},
        available=True, sources=["jsonld", "markup"],
    )


def test_29_jsonld_offers_only_for_sizes_in_stock():
    """JSON-LD offers only the sizes that can be bought (S, M); the selector shows XS..XL. The page's sizes are
    all kept (the sold-out ones were dropped), the missing ones with the markup's stock and no SKU."""
    assert parse("29_jsonld_offers_only_in_stock_sizes.html") == expected(
        cc_id="602201002", title="Linen-Blend Shirt", url="https://www.gap.com/browse/product.do?pid=602201002",
        color={"name": "White", "cc_id": "602201002"},
        sizes=opts("XS", False, "S", True, "M", True, "L", False, "XL", False), dimensions=["size"],
        variants=[variant("XS", None, False), variant("S", None, True, "6022010020002", "49.95"),
                  variant("M", None, True, "6022010020003", "49.95"), variant("L", None, False),
                  variant("XL", None, False)],
        price={"current": "49.95", "regular": "49.95", "currency": "USD", "percent_off": None},
        available=True, sources=["jsonld", "markup"],
        warnings=["sizes: jsonld lists only [S, M], markup also [XS, L, XL]; kept all, markup's stock for those"],
    )


def test_30_detail_bullets_with_nested_lists():
    """A bullet holding a nested list ("Shell:" + "64% polyester"...): each item is a bullet of its own, not one
    run-together line ("Shell: 64% polyester 34% rayon 2% spandex"). Banana Republic Factory, markup only."""
    sizes = opts("0", True, "2", True, "4", False)
    assert parse("30_details_nested_lists.html") == expected(
        cc_id="602233002", title="Wide-Leg Trousers",
        url="https://bananarepublicfactory.gapfactory.com/browse/product.do?pid=602233002",
        color={"name": None, "cc_id": "602233002"}, sizes=sizes, dimensions=["size"], variants=cross(sizes, []),
        price={"current": "79.95", "regular": "79.95", "currency": "USD", "percent_off": None},
        details={"Fit & sizing": ["High rise.", "Wide leg.", 'Inseam: 30"', 'Leg opening: 22"', "Model is 5'10\"."],
                 "Fabric & care": ["Shell:", "64% polyester", "34% rayon", "2% spandex", "Machine wash."],
                 "Sustainability": ["Made with recycled polyester."]},
        available=True, sources=["markup"],
    )


def test_31_badges_are_not_discounts():
    """A percent badge next to the prices ("55% Off") and an "Online Exclusive" badge are not promotional
    messages ("Exclusive" is not "excluded"); the app message is. Prices without cents ("$44")."""
    sizes = opts("XS", True, "S", True)
    assert parse("31_badges_are_not_discounts.html") == expected(
        cc_id="300200002", title="Denim Jacket", url="https://www.gap.com/browse/product.do?pid=300200002",
        color={"name": None, "cc_id": "300200002"}, sizes=sizes, dimensions=["size"], variants=cross(sizes, []),
        price={"current": "44.00", "regular": "98.00", "currency": "USD", "percent_off": 55},
        discounts=[{"text": "Extra 10% off in the app.", "percent": 10, "applies": "app", "excluded": False}],
        available=True, sources=["markup"],
    )


def test_32_recommendation_cards_are_other_products():
    """A "You may also like" carousel of product cards, each with a struck price, a marketing flag and a
    /webcontent/ image: none of it is this product's (the card's $19.99 was taken as the regular price, its
    flags as discounts, its pictures as images)."""
    sizes = opts("XS", True, "S", True, "M", False, "L", True)
    assert parse("32_recommendation_cards.html") == expected(
        cc_id="796255962", title="Vintage Soft Pocket Tee", url="https://www.gap.com/browse/product.do?pid=796255962",
        color={"name": "Navy Blue", "cc_id": "796255962"}, sizes=sizes, dimensions=["size"], variants=cross(sizes, []),
        price={"current": "24.99", "regular": "24.99", "currency": "USD", "percent_off": None},
        images=["/webcontent/0079/625/596/cn79625596.jpg"], available=True, sources=["markup"],
    )


def test_33_paired_sizes_in_offer_names():
    """Socks sized "S/M" and "L/XL", offers named "... - Heather Multi - S/M": the slash of a paired size is not a
    separator (sizes came out as "M" and "XL"). Stock from `disabled` only."""
    assert parse("33_paired_sizes_in_offer_names.html") == expected(
        cc_id="590011002", title="Cozy Socks (3-Pack) for Women",
        url="https://oldnavy.gap.com/browse/product.do?pid=590011002",
        color={"name": "Heather Multi", "cc_id": "590011002"},
        sizes=opts("S/M", True, "L/XL", False), dimensions=["size"],
        variants=[variant("S/M", None, True, "5900110020001", "9.99"),
                  variant("L/XL", None, False, "5900110020002", "9.99")],
        price={"current": "9.99", "regular": "14.99", "currency": "USD", "percent_off": 33},
        available=True, sources=["jsonld", "markup"],
    )


def test_34_jsonld_offers_by_size_only_on_a_page_with_fits():
    """JSON-LD offers name a size but no fit ("S", "M", "L") while the page offers Regular and Tall in a
    `<select>`: the variants are the page's sizes x fits (no SKU: an offer cannot be told to be Regular or Tall),
    not a mix of size x fit rows without SKU and fit-less offer rows. `@graph`, an AggregateOffer, prices "$1,299.00"."""
    ok = [True, True, False, False, True, True]
    assert parse("34_jsonld_size_offers_with_fit_select.html") == expected(
        cc_id="599000002", title="Leather Car Coat", color={"name": "Cognac", "cc_id": "599000002"},
        sizes=opts("S", True, "M", False, "L", True), fits=opts("Regular", True, "Tall", True),
        dimensions=["size", "fit"],
        variants=[variant(s, f, a, None, "1299.00")
                  for (s, f), a in zip([(s, f) for s in ("S", "M", "L") for f in ("Regular", "Tall")], ok)],
        price={"current": "1299.00", "regular": "1299.00", "currency": "USD", "percent_off": None},
        discounts=[{"text": "This item is excluded from promotions", "percent": None, "applies": None,
                    "excluded": True}],
        excluded_from_promotions=True, available=True, sources=["jsonld", "markup"],
        warnings=["variants: the variant rows give sizes but no fit; rows are the page's sizes x fits, without SKU"],
    )


def test_35_flight_selected_customer_choice_id():
    """Flight state naming the page's colour `selectedCustomerChoiceId` (no `ccId`), split over three pushes with
    `\\u0026` / `\\u2122` escapes: the page's ccId and colour come from it (they were null)."""
    assert parse("35_flight_selected_customer_choice.html") == expected(
        cc_id="744020032", style_id="744020", title="CloudLight™ Joggers & More",
        color={"name": "Moonless Night", "cc_id": "744020032"},
        colors=[{"name": "Moonless Night", "cc_id": "744020032", "available": True},
                {"name": "Café Brown", "cc_id": "744020042", "available": False}],
        sizes=opts("XS", True, "S", False, "M", True, "L", True), dimensions=["size"],
        variants=[variant("XS", None, True, "7440200320001", "34.99"),
                  variant("S", None, False, "7440200320002", "34.99"),
                  variant("M", None, True, "7440200320003", "34.99"),
                  variant("L", None, True, "7440200320004", "34.99")],
        price={"current": "34.99", "regular": "49.95", "currency": "USD", "percent_off": 30},
        available=True, details={"Fabric & care": ["88% polyester, 12% spandex", "Machine wash"]},
        sources=["flight", "markup"],
    )


def test_36_rich_text_in_state_bullets_and_jsonld_description():
    """Detail bullets of the flight state holding HTML (`40% <b>recycled</b>`, `wash.<br>Tumble`) and a JSON-LD
    description that is escaped HTML (`&lt;p&gt;... &amp;amp; ...`): text as shown, tags dropped, the HTML's
    own entities decoded; a `<` that is no tag ("Sizes <5 ft") stays."""
    assert parse("36_rich_text_in_state_and_jsonld.html") == expected(
        cc_id="733105002", style_id="733105", title="Ultrasoft Joggers",
        color={"name": None, "cc_id": "733105002"},
        sizes=opts("S", True, "M", True), dimensions=["size"],
        variants=[variant("S", None, True, "7331050020001", "39.99"),
                  variant("M", None, True, "7331050020002", "39.99")],
        price={"current": "39.99", "regular": "39.99", "currency": "USD", "percent_off": None},
        available=True,
        details={"Fabric & care": ["60% cotton, 40% recycled polyester", "Machine wash. Tumble dry low."],
                 "Fit & sizing": ["Relaxed fit", "Sizes <5 ft: see Petite"]},
        description="Our softest joggers & more. Elastic waist",
        sources=["jsonld", "flight", "markup"],
    )


def test_37_jsonld_cdata_behind_js_comments():
    """`//<![CDATA[ ... //]]>` around the JSON-LD (and a raw newline in a string): the block was ignored as not
    JSON, leaving a failed page."""
    assert parse("37_jsonld_cdata_behind_js_comments.html") == expected(
        cc_id="640000002", title="Waffle Henley", color={"name": None, "cc_id": "640000002"},
        sizes=opts("S", True, "M", False), dimensions=["size"],
        variants=[variant("S", None, True, "1", "24.99"), variant("M", None, False, "2", "24.99")],
        price={"current": "24.99", "regular": "24.99", "currency": "USD", "percent_off": None},
        available=True, description="Soft waffle knit. Easy fit.", sources=["jsonld"],
        warnings=["jsonld: block 2: repaired trailing commas (Expecting property name enclosed in double quotes: "
                  "line 1 column 87 (char 86))"],
    )


def test_38_jsonld_currency_in_price_specification():
    """Offers whose price and `priceCurrency` are only in `priceSpecification`: the currency is CAD (it was
    null, "the page does not say which currency")."""
    assert parse("38_jsonld_price_specification_currency.html") == expected(
        cc_id="744880002", title="Quilted Puffer Vest", color={"name": None, "cc_id": "744880002"},
        sizes=opts("S", True, "M", False), dimensions=["size"],
        variants=[variant("S", None, True, "7448800020001", "59.99"),
                  variant("M", None, False, "7448800020002", "59.99")],
        price={"current": "59.99", "regular": "89.99", "currency": "CAD", "percent_off": 33},
        available=True, sources=["jsonld", "markup"],
    )


def test_39_price_range_is_not_a_markdown():
    """"$29.99 - $34.99" (the price varies by size) in the current-price span: current is the low end; the high
    end is not a regular price (it was: regular 34.99, 14% off)."""
    assert parse("39_price_range.html") == expected(
        cc_id="755120002", title="Stretch Denim Shorts",
        url="https://www.gapfactory.com/browse/product.do?pid=755120002",
        color={"name": None, "cc_id": "755120002"},
        sizes=opts("12", True, "20W", True), dimensions=["size"],
        variants=[variant("12"), variant("20W")],
        price={"current": "29.99", "regular": "29.99", "currency": "USD", "percent_off": None},
        available=True, sources=["markup"],
    )


def test_40_canadian_dollar_printed_with_a_space():
    """"CA $35.99" (a space between CA and $) on a page that says nothing else about Canada: CAD, not USD."""
    assert parse("40_ca_dollar_with_space.html") == expected(
        title="Vintage Soft Crewneck Sweatshirt",
        sizes=opts("S", True, "M", False), dimensions=["size"],
        variants=[variant("S"), variant("M", available=False)],
        price={"current": "35.99", "regular": "59.99", "currency": "CAD", "percent_off": 40},
        available=True, sources=["markup"],
    )


def test_41_french_canadian_prices_with_the_symbol_after_the_amount():
    """gapcanada.ca in French prints "522,00 $" and "1 044,00 $" (symbol after the amount, space as thousands
    separator): CAD like "CA$" (the currency was null, with a warning)."""
    assert parse("41_french_canadian_prices.html") == expected(
        cc_id="788412002", title="Manteau long en laine recyclée",
        url="https://www.gapcanada.ca/browse/product.do?pid=788412002&locale=fr_CA",
        color={"name": "Bleu marine", "cc_id": "788412002"},
        sizes=opts("TP", True, "P", True, "M", False), dimensions=["size"],
        variants=[variant("TP"), variant("P"), variant("M", available=False)],
        price={"current": "522.00", "regular": "1044.00", "currency": "CAD", "percent_off": 50},
        available=True, sources=["markup"],
    )


def test_41_symbol_after_the_amount_in_a_price_text():
    html = ("<html lang='fr-CA'><body><h1 class='pdp-product-title'>Chandail</h1><div data-testid="
            "'pdp-markdown-title-price'>29,99 $ CA <s>59,99 $ CA</s></div></body></html>")
    result = parse_product_page(html)
    assert result["price"] == {"current": "29.99", "regular": "59.99", "currency": "CAD", "percent_off": 50}
    ranged = html.replace("pdp-markdown-title-price", "pdp-title-price-wrapper").replace(
        "29,99 $ CA <s>59,99 $ CA</s>", "29,99 $ - 34,99 $")
    assert parse_product_page(ranged)["price"] == {
        "current": "29.99", "regular": "29.99", "currency": "CAD", "percent_off": None}


def test_42_low_stock_note_inside_a_size_label():
    """"Only 2 left" inside the size's label content is a note, not part of the size (it gave "SOnly 2 left",
    and the hidden mobile copy's "S" was added as a fifth size); size and fit are both
    pdp_size-selector-container__items groups (sizeDimension1 / sizeDimension2)."""
    sizes = opts("XS", True, "S", True, "M", True, "L", False)
    fits = opts("Regular", True, "Petite", True, "Tall", False)
    assert parse("42_low_stock_note_in_size_label.html") == expected(
        cc_id="411223032", title="Powervita Joggers", url="https://athleta.gap.com/browse/product.do?pid=411223032",
        color={"name": None, "cc_id": "411223032"},
        sizes=sizes, fits=fits, dimensions=["size", "fit"], variants=cross(sizes, fits),
        price={"current": "89.00", "regular": "89.00", "currency": "USD", "percent_off": None},
        available=True, sources=["markup"],
    )


def test_43_template_and_noscript_copies_are_not_options():
    """A size selector inside <template> (never rendered) or <noscript> (only without JavaScript) added XXL and
    L to the sizes the page shows; the <noscript> image still counts (the visible one is a placeholder)."""
    assert parse("43_template_noscript_copies.html") == expected(
        cc_id="300444012", title="Icon Denim Jacket", url="https://www.gap.com/browse/product.do?pid=300444012",
        color={"name": None, "cc_id": "300444012"},
        sizes=opts("S", True, "M", False), dimensions=["size"],
        variants=[variant("S"), variant("M", available=False)],
        price={"current": "89.95", "regular": "89.95", "currency": "USD", "percent_off": None},
        available=True, images=["https://www.gap.com/webcontent/0030/044/401/cn30044401.jpg"], sources=["markup"],
    )


def test_44_jsonld_with_comments_and_trailing_commas():
    """Hand-written JSON-LD with // comments and trailing commas was ignored (SKUs and offer prices lost); the
    comments are dropped, not the // of URLs inside strings."""
    assert parse("44_jsonld_with_comments.html") == expected(
        cc_id="455123002", title="Wide-Leg Trousers",
        url="https://bananarepublicfactory.gapfactory.com/browse/product.do?pid=455123002",
        color={"name": "Black", "cc_id": "455123002"},
        sizes=opts("2", True, "4", False), dimensions=["size"],
        variants=[variant("2", sku="4551230020001", price="59.99"),
                  variant("4", available=False, sku="4551230020002", price="59.99")],
        price={"current": "59.99", "regular": "59.99", "currency": "USD", "percent_off": None},
        available=True, sources=["jsonld", "markup"],
        warnings=["jsonld: block 1: repaired comments and trailing commas (Expecting property name enclosed in "
                  "double quotes: line 2 column 3 (char 4))"],
    )
    block = '{"@type": "Product", /* c */ "name": "A // B", "url": "https://x.test/p?pid=1"}'
    result = parse_product_page(f"<script type='application/ld+json'>{block}</script></html>")
    assert result["title"] == "A // B" and result["url"] == "https://x.test/p?pid=1"


def test_45_details_paragraph_lines_split_at_br():
    """A panel (<details><summary>) whose text is one <p> broken into lines by <br>: one bullet per line (it was
    one run-together bullet)."""
    assert parse("45_details_paragraph_lines.html") == expected(
        cc_id="510555002", title="Merino Crewneck Sweater",
        url="https://bananarepublic.gap.com/browse/product.do?pid=510555002",
        color={"name": None, "cc_id": "510555002"},
        sizes=opts("M", True), dimensions=["size"], variants=[variant("M")],
        price={"current": "110.00", "regular": "110.00", "currency": "USD", "percent_off": None},
        available=True, sources=["markup"],
        details={"Overview": ["Soft merino wool.", "Ribbed trim.", "Relaxed fit."],
                 "Fabric & Care": ["100% merino wool.", "Hand wash cold."]},
    )


def test_46_sitewide_banner_and_hidden_offers_are_not_discounts():
    """A site-wide banner outside the header ("Up to 60% off sitewide", "Free shipping on $50+"), a closed
    (display:none) modal and a hidden e-mail sign-up offer are not this product's discounts; they were."""
    assert parse("46_sitewide_and_hidden_offers.html") == expected(
        cc_id="720111002", title="Cloud Soft Hoodie", url="https://www.gap.com/browse/product.do?pid=720111002",
        color={"name": None, "cc_id": "720111002"},
        sizes=opts("M", True), dimensions=["size"], variants=[variant("M")],
        price={"current": "40.00", "regular": "69.95", "currency": "USD", "percent_off": 43},
        discounts=[{"text": "Extra 40% off with code SAVE", "percent": 40, "applies": "checkout",
                    "excluded": False},
                   {"text": "Buy 1 get 1 50% off", "percent": 50, "applies": None, "excluded": False}],
        available=True, sources=["markup"],
    )


def test_47_state_panel_paragraph_split_into_lines():
    """A state panel whose body is one rich-text string (`"Soft rib knit.<br>Scoop neck."`, `"<p>..</p><p>..</p>"`
    under `content`) is a paragraph: one bullet per line, as a markup `<p>` broken by `<br>` (it was one bullet, or
    nothing for `content`); an item of a bullet list stays one bullet, as a markup `<li>` does."""
    assert parse("47_state_panel_paragraph_lines.html") == expected(
        cc_id="604411002", style_id="604411", title="Ribbed Tank",
        url="https://www.gap.com/browse/product.do?pid=604411002", color={"name": None, "cc_id": "604411002"},
        sizes=opts("S", True), dimensions=["size"], variants=[variant("S")],
        price={"current": "19.95", "regular": "19.95", "currency": "USD", "percent_off": None},
        available=True, sources=["flight", "markup"],
        details={"Overview": ["Soft rib knit.", "Scoop neck.", "Fitted."],
                 "Fabric & care": ["95% cotton, 5% spandex.", "Machine wash."],
                 "Fit & sizing": ["Fitted. Hits at the hip.", "Model is 5'10\""]},
    )


def test_48_french_messages_and_promo_codes():
    """French Canadian messages ("supplémentaire", "à la caisse", "dans l'appli", "durée limitée", "Exclu des
    promotions") and a promo code ("with code GAPSAVE", entered at checkout) were read without `applies` or
    exclusion."""
    assert parse("48_french_and_promo_code_messages.html") == expected(
        cc_id="612345002", title="Jean droit taille haute",
        url="https://www.gapcanada.ca/fr/browse/product.do?pid=612345002",
        color={"name": None, "cc_id": "612345002"},
        sizes=opts("28", True), dimensions=["size"], variants=[variant("28")],
        price={"current": "29.99", "regular": "59.99", "currency": "CAD", "percent_off": 50},
        discounts=[
            {"text": "Rabais supplémentaire de 20 % à la caisse", "percent": 20, "applies": "checkout",
             "excluded": False},
            {"text": "Offre d'une durée limitée : 15 % de rabais dans l'appli", "percent": 15, "applies": "app",
             "excluded": False},
            {"text": "Extra 10% off with code GAPSAVE", "percent": 10, "applies": "checkout", "excluded": False},
            {"text": "Exclu des promotions", "percent": None, "applies": None, "excluded": True}],
        excluded_from_promotions=True, available=True, sources=["markup"],
    )
    assert parse_message("50 % de rabais + 20 % de rabais supplémentaire")["percent"] == 20
    assert parse_message("12,5 % de rabais : durée limitée") == {
        "text": "12,5 % de rabais : durée limitée", "percent": 12.5, "applies": "limited_time", "excluded": False}


def test_49_markup_only_page_colour_by_shown_name():
    """Only the README's markup, no canonical link and no swatch marked selected: the page's colour is the swatch
    named like `pdp-color-value` ("Navy Uniform" -> its container id); cc_id was null."""
    assert parse("49_markup_only_colour_by_shown_name.html") == expected(
        cc_id="812345002", title="Vintage Soft Crewneck T-Shirt",
        color={"name": "Navy Uniform", "cc_id": "812345002"},
        colors=[{"name": "Navy Uniform", "cc_id": "812345002", "available": True},
                {"name": "Optic White", "cc_id": "812345012", "available": False},
                {"name": "Heather Grey", "cc_id": "812345022", "available": True}],
        sizes=opts("XS", False, "S", True, "M", True, "L", True), dimensions=["size"],
        variants=[variant("XS", None, False), variant("S"), variant("M"), variant("L")],
        price={"current": "14.99", "regular": "14.99", "currency": "USD", "percent_off": None},
        available=True,
        details={"Fabric & care": ["100% cotton.", "Machine wash."], "Fit & sizing": ["Easy fit."]},
        images=["https://content.gapinc.com/webcontent/0055/111/222/cn55111222.jpg",
                "/webcontent/0055/111/223/cn55111223.jpg"],
        sources=["markup"],
    )


def test_50_legacy_fit_variants_prices_in_the_colour_entry():
    """A 2023 `__PRODUCT_PAGE_STATE__` alone, whose prices and price type sit in the page colour's entry of each
    fit's `productStyleColors` (not on the product or its SKUs): they were not read ("no price on the page")."""
    assert parse("50_legacy_fit_variants_colour_prices.html") == expected(
        cc_id="411122002", style_id="411122", title="Mid Rise Universal Legging Jeans",
        color={"name": "Dark Indigo", "cc_id": "411122002"},
        colors=[{"name": "Dark Indigo", "cc_id": "411122002", "available": True},
                {"name": "Black", "cc_id": "411122012", "available": True}],
        sizes=opts("26", True, "27", False), fits=opts("Regular", True, "Petite", False),
        dimensions=["size", "fit"],
        variants=[variant("26", "Regular", True, "4111220020026", "34.99"),
                  variant("27", "Regular", False, "4111220020027", "34.99"),
                  variant("26", "Petite", False, "4111220020126", "34.99"),
                  variant("27", "Petite", False, "4111220020127", "34.99")],
        price={"current": "34.99", "regular": "69.95", "currency": None, "percent_off": 50}, price_type="M",
        available=True, details={"Fabric & care": ["98% cotton, 2% spandex", "Machine wash"]},
        sources=["legacy_state"], warnings=["price: the page does not say which currency"],
    )


def test_51_next_data_fit_sizes_skus_in_cents():
    """`__NEXT_DATA__` (without a `page` key) whose one fit holds its sizes, each size its SKUs (`variants` ->
    `sizes` -> `skus`), stock as `inventoryCount` 0, prices in cents (`centAmount`, `currentPriceInCents`) and the
    currency as an object: no sizes, SKUs or prices were read, and the source was named `json_script`."""
    assert parse("51_next_data_fit_sizes_skus_in_cents.html") == expected(
        cc_id="500600012", style_id="500600", title="Organic Cotton Pocket Tee",
        url="https://www.gap.com/browse/product.do?pid=500600012",
        color={"name": "Sage Green", "cc_id": "500600012"},
        colors=[{"name": "Sage Green", "cc_id": "500600012", "available": True},
                {"name": "Rust", "cc_id": "500600022", "available": True}],
        sizes=opts("S", False, "M", True, "L", True), dimensions=["size"],
        variants=[variant("S", None, False, "5006000120001", "19.99"),
                  variant("M", None, True, "5006000120002", "19.99"),
                  variant("L", None, True, "5006000120003", "19.99")],
        price={"current": "19.99", "regular": "24.00", "currency": "USD", "percent_off": 17},
        available=True, sources=["next_data"],
    )


def test_52_state_stock_counts_as_strings():
    """SKU stock as a count written as a string (`"inventoryCount": "0"`) was not read, and the size showed in
    stock; a float count `0.0` too is out of stock. Also percent_off rounds half up (50.00 -> 24.75 is 50.5%)."""
    assert parse("52_state_stock_counts_as_strings.html") == expected(
        cc_id="620900002", style_id="620900", title="Sherpa Jacket",
        color={"name": "Oatmeal", "cc_id": "620900002"},
        sizes=opts("S", False, "M", True, "L", False), dimensions=["size"],
        variants=[variant("S", None, False, "1", "24.75"), variant("M", None, True, "2", "24.75"),
                  variant("L", None, False, "3", "24.75")],
        price={"current": "24.75", "regular": "50.00", "currency": "USD", "percent_off": 51},
        available=True, sources=["flight"],
    )


def test_46_a_hidden_message_still_counts_when_no_visible_one_says_anything():
    html = ("<html><body><h1 class='pdp-product-title'>Tee</h1><div class='pdp-promo-message' hidden>"
            "Excluded from promotions</div></body></html>")
    assert [d["text"] for d in parse_product_page(html)["discounts"]] == ["Excluded from promotions"]


def test_paired_sizes_in_offer_names_without_a_size_selector():
    """The same offers on a page whose markup shows no sizes: still "S/M" and "L/XL"."""
    html = page("33_paired_sizes_in_offer_names.html").decode().split("<body>")[0] + "<body></body></html>"
    result = parse_product_page(html)
    assert result["sizes"] == opts("S/M", True, "L/XL", False)
    assert [v["sku"] for v in result["variants"]] == ["5900110020001", "5900110020002"]


def test_jsonld_offers_missing_a_size_and_a_fit_keep_the_page_choices():
    """Offers only for what can be bought (26/27, Regular/Petite) while the page shows 28 and Tall too: every
    choice is kept; rows for the missing size and fit come from the page's stock; a combination of two listed
    choices that has no offer (26 Petite) stays absent."""
    offers = [{"@type": "Offer", "sku": f"S{i}", "size": s, "fit": f, "price": "50", "priceCurrency": "USD",
               "availability": "InStock"} for i, (s, f) in enumerate([("26", "Regular"), ("27", "Regular"),
                                                                       ("27", "Petite")])]
    ld = json.dumps({"@type": "Product", "productID": "512900032", "name": "Jeans", "offers": offers})

    def group(name, labels):
        return ('<div class="pdp_size-selector-container__items">' + "".join(
            f'<input type="radio" name="{name}" id="{name}_{x}" aria-disabled="{str(not ok).lower()}">'
            f'<label for="{name}_{x}"><span class="fds_selector__content">{x}</span></label>'
            for x, ok in labels) + "</div>")
    html = (f'<html><head><script type="application/ld+json">{ld}</script></head><body>'
            '<h1 class="pdp-product-title">Jeans</h1>'
            + group("buybox-sizeDimension1", [("26", True), ("27", True), ("28", False)])
            + group("buybox-sizeDimension2", [("Regular", True), ("Petite", True), ("Tall", False)])
            + "</body></html>")
    result = parse_product_page(html)
    assert result["sizes"] == opts("26", True, "27", True, "28", False)
    assert result["fits"] == opts("Regular", True, "Petite", True, "Tall", False)
    assert result["variants"] == [
        variant("26", "Regular", True, "S0", "50.00"), variant("26", "Tall", False),
        variant("27", "Regular", True, "S1", "50.00"), variant("27", "Petite", True, "S2", "50.00"),
        variant("27", "Tall", False),
        variant("28", "Regular", False), variant("28", "Petite", False), variant("28", "Tall", False)]


def test_offer_message_inside_the_price_block_counts_but_price_labels_do_not():
    html = ('<h1 class="pdp-product-title">Leather Jacket</h1><div data-testid="pdp-markdown-title-price">'
            '<span class="current-sale-price">$1,299.00</span><span class="product-price__strike">$2,599.00</span> '
            '<span class="pdp-pricing__percent-off">50% off</span> <span class="pdp-pricing__discount">Save '
            '$1,300.00</span><div class="pdp-marketing-flag">Extra 50% off at checkout</div></div></html>')
    result = parse_product_page(html)
    assert result["price"] == {"current": "1299.00", "regular": "2599.00", "currency": "USD", "percent_off": 50}
    assert result["discounts"] == [{"text": "Extra 50% off at checkout", "percent": 50, "applies": "checkout",
                                    "excluded": False}]


def test_gzip_compressed_page_is_decompressed():
    import gzip
    result = parse_product_page(gzip.compress(page("17_bom_crlf_details_link.html")))
    assert result == dict(parse("17_bom_crlf_details_link.html"),
                          warnings=["input: the page was gzip-compressed; decompressed"])


def test_aggregate_offer_currency_applies_to_its_offers():
    product = {"@type": "Product", "productID": "884412002", "name": "Puffer",
               "offers": {"@type": "AggregateOffer", "lowPrice": "29.97", "priceCurrency": "CAD",
                          "offers": [{"@type": "Offer", "name": "S", "price": "29.97"},
                                     {"@type": "Offer", "name": "M", "price": "29.97"}]}}
    result = parse_product_page(f'<script type="application/ld+json">{json.dumps(product)}</script></html>')
    assert result["price"] == {"current": "29.97", "regular": "29.97", "currency": "CAD", "percent_off": None}
    assert [v["size"] for v in result["variants"]] == ["S", "M"]


@pytest.mark.parametrize("name", FIXTURE_NAMES)
def test_every_fixture_has_the_documented_shape(name):
    assert_shape(parse(name))
    assert_shape(parse_product_page(page(name).decode("utf-8", errors="replace")))


def test_schema_md_example_is_what_the_parser_returns():
    doc = (ROOT / "gapspider" / "parsing" / "SCHEMA.md").read_text(encoding="utf-8")
    example = json.loads(doc.split("```json\n", 1)[1].split("```", 1)[0])
    listing = {"style_id": "540123", "cc_id": "540123012", "regular_price": "79.95", "effective_price": "23.97",
               "price_type": "M", "percentage_off": "70", "marketing_flags": ["60% off: limited time"],
               "excluded_from_promotion": False, "inventory_status": "In Stock"}
    result = parse("02_jsonld_clearance_fit.html", listing=listing)
    assert list(result) == list(example)
    assert all(v in result["variants"] for v in example["variants"])  # the example lists a few
    assert {k: v for k, v in result.items() if k != "variants"} == {k: v for k, v in example.items()
                                                                   if k != "variants"}


# ---------------------------------------------------------------- inputs, charsets, listing

def test_str_and_bytes_give_the_same_result():
    assert parse_product_page(page("01_flight_jsonld_sale.html").decode("utf-8")) == parse(
        "01_flight_jsonld_sale.html")


def test_latin1_label_means_windows_1252_and_no_charset_warns():
    body = "<html><head><meta charset='iso-8859-1'><title>x</title></head><body>" \
           "<h1 class='pdp-product-title'>Caf\u00e9 Tee\u2122</h1></body></html>"
    assert parse_product_page(body.encode("cp1252"))["title"] == "Café Tee™"
    no_meta = body.replace("<meta charset='iso-8859-1'>", "").encode("cp1252")
    result = parse_product_page(no_meta)
    assert result["title"] == "Café Tee™"
    assert result["warnings"][0] == "charset: the page is not UTF-8 and declares no charset; decoded as windows-1252"


def test_utf8_bytes_win_over_a_wrong_meta_charset():
    body = "<meta charset='windows-1252'><h1 class='pdp-product-title'>Caf\u00e9</h1></html>"
    assert parse_product_page(body.encode("utf-8"))["title"] == "Café"


@pytest.mark.parametrize("value", [None, 42, 3.5, ["<html>"], {"a": 1}, b"", b"\x00\x01\xff", "   ", "<", "<html"])
def test_odd_inputs_never_raise(value):
    result = parse_product_page(value)
    assert_shape(result)
    assert result["failed"] is True


LISTING = {
    "style_id": "871234", "cc_id": "871234002", "style_name": "Vintage Soft Crewneck T-Shirt&#8482;",
    "cc_name": "Navy Uniform", "regular_price": "44.0", "effective_price": "22.0", "price_type": "P",
    "percentage_off": "50", "marketing_flags": ["Extra 50% off at checkout", "Extra 10% off in the app"],
    "excluded_from_promotion": False, "inventory_status": "In Stock",
}


def test_listing_that_agrees_adds_only_new_messages():
    result = parse("01_flight_jsonld_sale.html", cc_id="871234002", listing=LISTING)
    assert result["warnings"] == []
    assert result["discounts"] == [
        {"text": "Extra 50% off at checkout", "percent": 50, "applies": "checkout", "excluded": False},
        {"text": "Extra 10% off in the app", "percent": 10, "applies": "app", "excluded": False},
    ]
    assert result["price_type"] == "P"


def test_listing_fills_what_the_page_lacks():
    listing = dict(LISTING, style_id="398811", cc_id="398811002", excluded_from_promotion=True,
                   marketing_flags=[])
    result = parse("08_markup_only_older.html", listing=listing)
    assert result["style_id"] == "398811"
    assert "style_id: not on the page; taken from the listing" in result["warnings"]
    assert "price: the page says 29.99, the listing 22.00; kept the page's" in result["warnings"]
    assert result["price"] == {"current": "29.99", "regular": "39.95", "currency": "USD", "percent_off": 25}
    # the page already says it is excluded: no synthetic second entry
    assert [d["text"] for d in result["discounts"]] == ["Excluded from promotions"]


def test_listing_fills_price_and_title_of_a_page_without_them():
    html = ("<html><head><link rel='canonical' href='https://www.gap.com/browse/product.do?pid=871234002'></head>"
            "<body><div class='pdp_size-selector-container__items'><input type='radio' name='buybox-sizeDimension1'"
            " id='pdp_buybox_dimension_M'><label for='pdp_buybox_dimension_M'>M</label></div></body></html>")
    result = parse_product_page(html, listing=LISTING)
    assert result["title"] == "Vintage Soft Crewneck T-Shirt™"
    assert result["color"] == {"name": "Navy Uniform", "cc_id": "871234002"}
    assert result["price"] == {"current": "22.00", "regular": "44.00", "currency": None, "percent_off": 50}
    assert result["warnings"] == [
        "style_id: not on the page; taken from the listing",
        "title: not on the page; taken from the listing",
        "price: current price not on the page; taken from the listing",
        "price: regular price not on the page; taken from the listing",
        "color: name not on the page; taken from the listing",
        "price: the page does not say which currency",
    ]
    assert result["sizes"] == opts("M", True) and result["available"] is True


def test_listing_exclusion_flag_adds_an_exclusion_entry():
    result = parse("03_all_sizes_out_of_stock.html",
                   listing={"excluded_from_promotion": True, "marketing_flags": ["Final sale"]})
    assert result["discounts"] == [
        {"text": "Final sale", "percent": None, "applies": None, "excluded": False},
        {"text": "Excluded from promotions", "percent": None, "applies": None, "excluded": True},
    ]
    assert result["excluded_from_promotions"] is True


def test_page_for_another_colour_keeps_the_page_cc_id_and_warns():
    result = parse("04_colours_one_sold_out.html", cc_id="455667022")
    assert result["cc_id"] == "455667012"
    assert result["warnings"] == ["cc_id: the page says '455667012', expected '455667022'; kept the page's"]


def test_listing_of_the_wrong_type_is_ignored_with_a_warning():
    result = parse("04_colours_one_sold_out.html", listing=["not", "a", "dict"])
    assert result["warnings"] == ["listing: ignored, expected a dict, got list"]
    assert result["title"] == "Cropped Utility Jacket"


# ---------------------------------------------------------------- other forms of the family, inline

def test_legacy_state_in_single_quotes_and_object_literal():
    state = '{"productData":{"name":"Tee \\u0026 Co","styleId":"123456","selectedColor":{"ccId":"123456002",' \
            '"colorName":"Red"},"sizes":[{"label":"S","inStock":true},{"label":"M","inStock":false}]}}'
    quoted = f"<script>window.__PRODUCT_PAGE_STATE__ = JSON.parse('{state}');</script></html>"
    literal = "<script>window.__PRODUCT_PAGE_STATE__ = " + state.replace("\\u0026", "&") + ";</script></html>"
    for html in (quoted, literal):
        result = parse_product_page(html)
        assert (result["title"], result["style_id"], result["cc_id"]) == ("Tee & Co", "123456", "123456002")
        assert result["sizes"] == opts("S", True, "M", False)
        assert result["sources"] == ["legacy_state"]


def test_flight_rows_with_text_rows_and_references():
    rows = ('0:["$","$L1",null,{"product":"$2"}]\n'
            '1:I[9,["chunks/a.js"],"Pdp"]\n'
            '3:T1b,Fabric & care: 100% linen.\n'
            '2:{"ccId":"654321012","styleId":"654321","name":"Linen Shirt","sizes":"$4",'
            '"price":{"currentPrice":"39.99","regularPrice":"59.99"}}\n'
            '4:[{"label":"M","available":true},{"label":"L","available":false}]\n')
    push = json.dumps(rows)
    html = f"<html><body><script>self.__next_f.push([1,{push}])</script></body></html>"
    result = parse_product_page(html)
    assert (result["title"], result["cc_id"], result["style_id"]) == ("Linen Shirt", "654321012", "654321")
    assert result["sizes"] == opts("M", True, "L", False)
    assert result["price"] == {"current": "39.99", "regular": "59.99", "currency": None, "percent_off": 33}
    assert result["sources"] == ["flight"]


def test_jsonld_product_group_picks_the_page_colour():
    group = {"@context": "https://schema.org", "@type": "ProductGroup", "productGroupID": "777888",
             "name": "Canvas Tote", "hasVariant": [
                 {"@type": "Product", "sku": "7778880020001", "color": "Natural", "size": "One Size",
                  "url": "https://www.gap.com/browse/product.do?pid=777888002",
                  "offers": {"@type": "Offer", "price": "24.95", "priceCurrency": "USD",
                             "availability": "https://schema.org/InStock"}},
                 {"@type": "Product", "sku": "7778880120001", "color": "Black", "size": "One Size",
                  "url": "https://www.gap.com/browse/product.do?pid=777888012",
                  "offers": {"@type": "Offer", "price": "24.95", "priceCurrency": "USD",
                             "availability": "https://schema.org/OutOfStock"}}]}
    html = (f'<html><head><script type="application/ld+json">{json.dumps(group)}</script>'
            '<link rel="canonical" href="https://www.gap.com/browse/product.do?pid=777888012"></head></html>')
    result = parse_product_page(html)
    assert (result["cc_id"], result["style_id"], result["title"]) == ("777888012", "777888", "Canvas Tote")
    assert result["color"] == {"name": "Black", "cc_id": "777888012"}
    assert result["colors"] == [{"name": "Natural", "cc_id": "777888002", "available": True},
                                {"name": "Black", "cc_id": "777888012", "available": False}]
    assert result["variants"] == [variant("One Size", None, False, "7778880120001", "24.95")]
    assert result["available"] is False


def test_jsonld_offers_of_other_colours_are_left_out():
    offers = [{"@type": "Offer", "sku": f"{cc}{i}", "name": f"Tee - {colour} - {size}", "price": "10.00",
               "itemOffered": {"color": colour}, "availability": "https://schema.org/InStock"}
              for cc, colour in (("111222002", "Navy"), ("111222012", "Red")) for i, size in enumerate("SM")]
    product = {"@type": "Product", "productID": "111222012", "name": "Tee", "color": "Red", "offers": offers}
    result = parse_product_page(f'<script type="application/ld+json">{json.dumps(product)}</script>')
    assert result["variants"] == [variant("S", None, True, "1112220120", "10.00"),
                                  variant("M", None, True, "1112220121", "10.00")]


def test_regular_price_next_to_the_markdown_wrapper_and_unknown_classes():
    html = ('<h1 class="pdp-product-title">T</h1><div class="row"><div data-testid="pdp-markdown-title-price">'
            '<span class="current-sale-price">$22.00</span></div><span class="pdp-was">$44.00</span></div>')
    assert parse_product_page(html)["price"] == {"current": "22.00", "regular": "44.00", "currency": "USD",
                                                 "percent_off": 50}


def test_fit_group_recognised_by_its_labels_only():
    html = ('<h1 class="pdp-product-title">Pants</h1>'
            '<div class="pdp_size-selector-container__items"><input type="radio" name="buybox-sizeDimension1" '
            'id="pdp_buybox_dimension_2"><label for="pdp_buybox_dimension_2">2</label></div>'
            '<fieldset><label><input type="radio" name="opt" value="Petite"> Petite</label>'
            '<label><input type="radio" name="opt" value="Tall" disabled> Tall</label></fieldset>')
    result = parse_product_page(html)
    assert result["fits"] == opts("Petite", True, "Tall", False)
    assert result["variants"] == [variant("2", "Petite", True), variant("2", "Tall", False)]


# ---------------------------------------------------------------- discounts

@pytest.mark.parametrize("text, percent, applies, excluded", [
    ("Extra 50% off at checkout", 50, "checkout", False),
    ("50% off + extra 10% in the app", 10, "app", False),
    ("60% off: limited time", 60, "limited_time", False),
    ("Extra 10% off in the app", 10, "app", False),
    ("Excluded from promotions", None, None, True),
    ("Excl. from promotions", None, None, True),
    ("EXCLUDED FROM PROMOTIONS", None, None, True),
    ("EXTRA 50% OFF AT CHECKOUT", 50, "checkout", False),
    ("50% OFF + EXTRA 10% IN THE APP", 10, "app", False),
    ("This item is excluded from all promotions.", None, None, True),
    ("Not eligible for promo codes", None, None, True),
    ("Final sale", None, None, False),
    ("Limited time: extra 30% off at checkout", 30, "checkout", False),
    ("Extra 12.5% off  in-app", 12.5, "app", False),
    ("Buy more, save more", None, None, False),
    ("Extra 50% Off At Checkout*", 50, "checkout", False),
    ("60% Off - Limited Time!", 60, "limited_time", False),
    ("LIMITED TIME: 60% OFF", 60, "limited_time", False),
    ("50% Off + Extra 10% In-App", 10, "app", False),
    ("Extra 50 percent off at checkout", 50, "checkout", False),
    ("EXCLUDED FROM PROMOTIONS*", None, None, True),
])
def test_discount_messages(text, percent, applies, excluded):
    assert parse_message(text) == {"text": " ".join(text.split()), "percent": percent, "applies": applies,
                                   "excluded": excluded}


@pytest.mark.parametrize("raw, text", [
    ("Extra 50%&nbsp;off at checkout", "Extra 50% off at checkout"),
    ("<strong>Extra 50% off</strong> at checkout", "Extra 50% off at checkout"),
    ("Extra&#160;50% off <span class=\"promo\">at checkout</span>", "Extra 50% off at checkout"),
])
def test_discount_messages_from_state_with_entities_or_markup(raw, text):
    """Marketing flags in embedded state or the listing can be HTML-escaped or rich text: shown decoded."""
    assert parse_message(raw) == {"text": text, "percent": 50, "applies": "checkout", "excluded": False}
    html = ('<h1 class="pdp-product-title">Tee</h1><script>self.__next_f.push([1,' + json.dumps(
        '1:' + json.dumps({"pid": "871234002", "name": "Tee", "marketingFlags": [{"content": raw}]}) + "\n")
        + '])</script></html>')
    assert [d["text"] for d in parse_product_page(html)["discounts"]] == [text]


@pytest.mark.parametrize("value, expected", [
    ({"currentPrice": 24}, "24.00"),
    ({"currentPriceInCents": 2400}, "24.00"),  # a cents key under a name amount() knows in its plain form
    ({"regularPriceInCents": "4400"}, "44.00"),
    ({"priceInCents": 2400}, "24.00"),
    ({"centAmount": 2400, "fractionDigits": 2}, "24.00"),
    ({"SalePrice": "$1,299.00"}, "1299.00"),
    ({"currency": "USD"}, None),
])
def test_amount_of_a_price_object(value, expected):
    assert amount(value) == expected


# ---------------------------------------------------------------- robustness (property test)

_FIXTURE_BYTES = [page(name) for name in FIXTURE_NAMES]


def _mutate(data: bytes, mutations) -> bytes:
    out = bytearray(data)
    for kind, a, b, junk in mutations:
        if not out:
            out.extend(junk)
            continue
        i = a % len(out)
        if kind == "truncate":
            del out[i:]
        elif kind == "drop_tag":
            start = out.find(b"<", i)
            end = out.find(b">", start) if start != -1 else -1
            if end != -1:
                del out[start:end + 1]
        elif kind == "garbage":
            out[i:i] = junk
        elif kind == "delete":
            del out[i:i + 1 + b % 400]
        elif kind == "duplicate":
            out[i:i] = out[b % len(out):b % len(out) + 600]
    return bytes(out)


_mutation = st.tuples(
    st.sampled_from(["truncate", "drop_tag", "garbage", "delete", "duplicate"]),
    st.integers(min_value=0, max_value=10**6), st.integers(min_value=0, max_value=10**6),
    st.binary(min_size=1, max_size=40),
)


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(source=st.sampled_from(_FIXTURE_BYTES), mutations=st.lists(_mutation, min_size=1, max_size=6),
       as_text=st.booleans())
def test_mutated_pages_never_raise_and_keep_the_shape(source, mutations, as_text):
    data = _mutate(source, mutations)
    html = data.decode("utf-8", errors="replace") if as_text else data
    result = parse_product_page(html, cc_id="871234002")
    assert_shape(result)
    assert not any(w.startswith("internal error") for w in result["warnings"]), result["warnings"]


@settings(max_examples=60, deadline=None)
@given(st.one_of(st.text(max_size=400), st.binary(max_size=400)))
def test_arbitrary_input_never_raises(value):
    assert_shape(parse_product_page(value))


# ---------------------------------------------------------------- command line

def run_cli(*args):
    return subprocess.run([sys.executable, "-m", "gapspider.parsing", *args], cwd=ROOT, capture_output=True,
                          timeout=60)


def test_cli_prints_parsed_data_as_json():
    done = run_cli(str(PAGES / "02_jsonld_clearance_fit.html"))
    assert done.returncode == 0, done.stderr
    assert json.loads(done.stdout.decode("utf-8")) == parse("02_jsonld_clearance_fit.html")


def test_cli_with_cc_id_and_listing(tmp_path):
    listing = tmp_path / "listing.json"
    listing.write_text(json.dumps(LISTING), encoding="utf-8")
    done = run_cli(str(PAGES / "01_flight_jsonld_sale.html"), "--cc-id", "871234002", "--listing", str(listing),
                   "--compact")
    assert done.returncode == 0, done.stderr
    assert done.stdout.count(b"\n") == 1
    assert json.loads(done.stdout) == parse("01_flight_jsonld_sale.html", cc_id="871234002", listing=LISTING)


def test_cli_block_page_exits_0_and_says_blocked():
    done = run_cli(str(PAGES / "09_bot_block_akamai.html"))
    assert done.returncode == 0
    assert json.loads(done.stdout)["blocked"] is True


@pytest.mark.parametrize("target", ["missing.html", "."])
def test_cli_unreadable_file_exits_2_with_a_message(tmp_path, target):
    path = tmp_path / target if target != "." else tmp_path
    done = run_cli(str(path))
    assert done.returncode == 2
    assert done.stdout == b""
    assert done.stderr.decode().startswith(f"error: cannot read {path}: ")


def test_cli_unreadable_listing_exits_2(tmp_path):
    done = run_cli(str(PAGES / "01_flight_jsonld_sale.html"), "--listing", str(tmp_path / "nope.json"))
    assert done.returncode == 2 and b"cannot read the listing" in done.stderr


# ---------------------------------------------------------------- worker pool

def _jobs(tmp_path):
    jobs = []
    for i, name in enumerate(FIXTURE_NAMES * 3):
        listing = {"cc_id": "871234002", "style_id": "871234"} if i % 5 == 0 else None
        jobs.append((f"{i}:{name}", str(PAGES / name), listing))
    jobs.append(("missing", str(tmp_path / "871234002.html"), None))
    jobs.append(("directory", str(tmp_path), {"cc_id": "123456789"}))
    return jobs


def test_pool_with_two_workers_matches_in_process(tmp_path):
    jobs = _jobs(tmp_path)
    single = list(parse_saved_pages(jobs, workers=1))
    pooled = list(parse_saved_pages(iter(jobs), workers=2, chunksize=4))
    assert [k for k, _ in single] == [job[0] for job in jobs]
    assert pooled == single  # same results, input order
    expected_direct = parse_product_page(page(FIXTURE_NAMES[1]))
    assert dict(single)[f"1:{FIXTURE_NAMES[1]}"] == expected_direct


def test_pool_missing_and_unreadable_files_give_failed_results(tmp_path):
    results = dict(parse_saved_pages(_jobs(tmp_path)[-2:], workers=1))
    missing = results["missing"]
    assert missing["failed"] is True and missing["cc_id"] == "871234002"  # ccId from the file name
    assert missing["warnings"][0] == f"file: cannot read {tmp_path / '871234002.html'}: No such file or directory"
    directory = results["directory"]
    assert directory["failed"] is True and directory["cc_id"] == "123456789"
    assert directory["warnings"][0].startswith(f"file: cannot read {tmp_path}: ")
    assert_shape(missing)
    assert_shape(directory)


def test_pool_reads_bytes_so_the_charset_applies(tmp_path):
    results = dict(parse_saved_pages([("w", str(PAGES / "11_windows1252.html"), None)], workers=2))
    assert results["w"]["title"] == "Gap Logo Fleece Hoodie™"


def test_pool_workers_do_not_outlive_a_killed_owner(tmp_path):
    """kill -9 (out of memory) of the crawl or `gapspider postprocess` while its pool parses: the workers must
    not stay behind forever (they held their own queue's pipe open and never noticed)."""
    import os
    import signal

    from dashboard.testing import wait_for

    fifo = tmp_path / "stuck.html"
    os.mkfifo(fifo)
    owner = subprocess.Popen([sys.executable, "-c", (
        "import sys\n"
        "from gapspider.parsing.pool import parse_saved_pages\n"
        "for _ in parse_saved_pages([(1, sys.argv[1], None), (2, sys.argv[1], None)], workers=2, chunksize=1):\n"
        "    pass\n"
    ), str(fifo)])
    writer = os.open(fifo, os.O_WRONLY)  # a worker has opened the page and waits for its bytes

    def readers() -> list[int]:
        found = []
        for pid in filter(str.isdigit, os.listdir("/proc")):
            try:
                if any(os.readlink(f"/proc/{pid}/fd/{fd}") == str(fifo) for fd in os.listdir(f"/proc/{pid}/fd")):
                    found.append(int(pid))
            except OSError:
                continue
        return [pid for pid in found if pid != os.getpid()]

    try:
        workers = wait_for(readers, timeout=60, what="a worker reading the page")
        os.kill(owner.pid, signal.SIGKILL)
        owner.wait()
        wait_for(lambda: not readers(), timeout=60, what=f"the workers {workers} to end after their owner was killed")
    finally:
        os.close(writer)
        for pid in readers():
            os.kill(pid, signal.SIGKILL)


def test_53_truncated_inside_flight_details_cut_off():
    """A page cut off inside its flight state (generated held-out pass 6): the last detail panel's bullets were
    read from the cut-off state ("Fabric & care": 1 of 3 bullets) and outvoted the whole markup panel. A cut-off
    state now ranks after the markup."""
    result = parse("53_truncated_flight_details_cut_off.html")
    assert result["details"] == {
        "Product details": ["Ribbed crewneck & cuffs.", "Imported.", "100% cotton."],
        "Sustainability": ["Machine wash cold & tumble dry low.", "Straight leg <3 friendly.",
                           "Model is 5'10\" and wears size S."],
        "Fabric & care": ["Hits at the hip.", "Made with 20% recycled polyester.", "Imported."],
    }
    assert result["colors"] == [
        {"name": "Black & White Stripe", "cc_id": "200481330", "available": True},
        {"name": "Medium Wash", "cc_id": "200481623", "available": True},
        {"name": "Café Latte", "cc_id": "200481474", "available": False},
        {"name": "Blue \"Sky\"", "cc_id": "200481757", "available": True},
        {"name": "Heather Grey", "cc_id": "200481270", "available": True},
    ]
    assert result["sizes"] == opts("24", True, "25", False, "26", True, "27", True, "28", True, "29", True,
                                   "30", False, "31", True)
    assert (result["title"], result["cc_id"], result["color"]) == (
        "Vintage Soft Hoodie", "200481270", {"name": "Heather Grey", "cc_id": "200481270"})
    assert result["price"] == {"current": "34.97", "regular": "69.95", "currency": "CAD", "percent_off": 50}
    assert result["sources"] == ["flight", "markup"] and result["available"] is True
    assert "flight: cut off by the truncation; the markup is trusted before it" in result["warnings"]


def test_54_truncated_between_flight_pushes():
    """A page cut off after a complete `self.__next_f.push(...)` script: every chunk is terminated, but the row
    they build stops mid-object; the readable part of the colour list (2 of 3) outvoted the markup's swatches.
    A row recovered from a truncated end marks the state as cut off too."""
    result = parse("54_truncated_between_flight_pushes.html")
    assert result["colors"] == [
        {"name": "Sunset Red", "cc_id": "569457636", "available": True},
        {"name": "Stone", "cc_id": "569457570", "available": True},
        {"name": "Khaki", "cc_id": "569457170", "available": False},
    ]
    assert result["title"] == "Pure™ Puffer Jacket — Limited Edition"
    assert result["sizes"] == opts("XS", True, "S", True, "M", True, "L", True, "XL", True, "XXL", True)
    assert result["details"] == {"Fabric & care": ["Hits at the hip.", "Our \"softest\" jersey."],
                                 "Sustainability": ["Made with 20% recycled polyester."]}
    assert result["discounts"] == [{"text": "Extra 50% off at checkout", "percent": 50, "applies": "checkout",
                                    "excluded": False}]
    assert result["sources"] == ["jsonld", "flight", "markup"]
    assert "flight: a data row is cut off (truncated page); read what was there" in result["warnings"]


def test_55_truncated_flight_fit_variants_cut_off():
    """A page cut off inside the flight state's per-fit size rows: the combinations past the cut (Long x 7.5, 8,
    9) were dropped as if they did not exist. They now get their cross-product rows from the page's options."""
    result = parse("55_truncated_flight_fit_variants_cut_off.html")
    assert result["sizes"] == opts("6", True, "6.5", True, "7", True, "7.5", True, "8", False, "9", True)
    assert result["fits"] == opts("Short", True, "Long", True)
    assert result["variants"] == [
        variant("6", "Short", True, "836611465001"), variant("6", "Long", True, "836611465002"),
        variant("6.5", "Short", True, "836611465003"), variant("6.5", "Long", False, "836611465004"),
        variant("7", "Short", False, "836611465005"), variant("7", "Long", True, "836611465006"),
        variant("7.5", "Short", True, "836611465007"), variant("7.5", "Long", True),
        variant("8", "Short", False, "836611465009"), variant("8", "Long", False),
        variant("9", "Short", True, "836611465011"), variant("9", "Long", True),
    ]
    assert result["dimensions"] == ["size", "fit"] and result["available"] is True
    assert "variants: the variant rows stop short (truncated page); 3 combination(s) filled from the page's " \
           "options" in result["warnings"]


def test_56_state_min_max_price_keys():
    """Legacy state with Gap's range price keys (`currentMinPrice`, `regularMaxPrice`): the regular price was
    not read, so a sale page showed no regular price and no percent off."""
    result = parse("56_state_min_max_price_keys.html")
    assert result["price"] == {"current": "22.99", "regular": "44.99", "currency": "USD", "percent_off": 49}
    assert result["price_type"] == "P"
    assert result["variants"] == [variant("S", None, True, "3889900030001", "22.99"),
                                  variant("M", None, False, "3889900030002", "22.99")]
    assert result["sources"] == ["legacy_state"] and result["warnings"] == []


def test_57_truncated_inside_struck_price():
    """A page cut off inside the struck regular price ("$59" of "$59.99") read it as 59.00 and computed a
    percent off from it. The text where a truncated page stops is cut off and is not read."""
    result = parse("57_truncated_inside_struck_price.html")
    assert result["price"] == {"current": "17.99", "regular": None, "currency": "USD", "percent_off": None}
    assert result["sizes"] == opts("S", True, "M", False, "L", True)
    assert result["variants"][0] == variant("S", None, True, "6123450020001", "17.99")
    assert result["warnings"][:2] == [
        "page: no closing </html> tag, the page looks truncated; read what was there",
        "page: the text where the page stops ('$59') is cut off; not read"]


def test_58_truncated_inside_fit_label():
    """A page cut off inside a fit label ("Pet" of "Petite"): "Pet" is no fit word, so the second dimension
    became a length. The cut text is dropped; the fit keeps the name its input's id gives."""
    result = parse("58_truncated_inside_fit_label.html")
    assert result["fits"] == opts("Regular", True, "Petite", True)
    assert result["lengths"] == [] and result["dimensions"] == ["size", "fit"]
    assert result["sizes"] == opts("26", True, "27", True, "28", False)
    assert result["variants"][:2] == [variant("26", "Regular"), variant("26", "Petite")]
    assert result["title"] == "Mid Rise Vintage Slim Jeans"


TEE_SIZES = opts("XS", False, "S", True, "M", True, "L", True)
TEE_URL = "https://www.gap.com/browse/product.do?pid=111222003"


def test_59_legacy_selected_colour_holding_the_cc_id_is_not_the_product():
    # The page's ccId (canonical URL) is on the selected colour's entry; the product holding it has the title
    # and style id, and disagrees with the markup's title.
    assert parse("59_legacy_selected_colour_holds_cc_id.html") == expected(
        cc_id="111222003", style_id="111222", title="Relaxed Crew Pocket Tee", url=TEE_URL,
        color={"name": "Navy Blazer", "cc_id": "111222003"}, sizes=TEE_SIZES, dimensions=["size"],
        variants=[variant("XS", available=False, sku="111222003XS"), variant("S", sku="111222003S"),
                  variant("M", sku="111222003M"), variant("L", sku="111222003L")],
        price={"current": "24.99", "regular": "24.99", "currency": "USD", "percent_off": None},
        available=True, sources=["legacy_state", "markup"],
        warnings=["title: legacy_state says 'Relaxed Crew Pocket Tee', markup says 'Relaxed Pocket Tee'; "
                  "kept legacy_state"])


def test_60_outvoted_current_price_of_a_source_without_markdown_is_no_regular_price():
    # JSON-LD 24.99 wins over the state's 19.99 / 19.99; the state's "regular" 19.99 is only its current price.
    assert parse("60_outvoted_current_price_without_markdown.html") == expected(
        cc_id="111222003", style_id="111222", title="Relaxed Crew Pocket Tee", url=TEE_URL,
        color={"name": "Navy Blazer", "cc_id": "111222003"},
        colors=[{"name": "Navy Blazer", "cc_id": "111222003", "available": True}],
        sizes=TEE_SIZES, dimensions=["size"],
        variants=[variant("XS", available=False, sku="111222003XS", price="24.99"),
                  variant("S", sku="111222003S", price="24.99"), variant("M", sku="111222003M", price="24.99"),
                  variant("L", sku="111222003L", price="24.99")],
        price={"current": "24.99", "regular": "24.99", "currency": "USD", "percent_off": None},
        available=True, sources=["jsonld", "flight", "markup"],
        warnings=["price: jsonld says '24.99', flight says '19.99'; kept jsonld"])
