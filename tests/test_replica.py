"""The Gap replica answers like Gap: real counts, string pagination, parseable product pages, valid images, faults."""

from __future__ import annotations

import http.client
import json
import math
import os
import re
import signal
import struct
import subprocess
import sys
import threading
import time
import urllib.error
import urllib.request
import zlib
from html.parser import HTMLParser
from pathlib import Path

import pytest

from tests.replica import CURRENT, LEGACY, Catalog, GapReplica, product_page_facts, render_product_page
from tests.replica.catalog import DATA_DIR
from tests.replica.fixtures import replica  # noqa: F401
from tests.replica.images import solid_jpeg, solid_png

ROOT = Path(__file__).resolve().parents[1]
TOP_CC_ID = "796255962"  # Adult Relaxed T-Shirt, Blue, markdown M (24.99 from 29.95), "Extra 50% off at checkout"
BOTTOM_CC_ID = "840333002"  # Low Rise Long & Lean Jeans (women, petite jeans)


# ---------------------------------------------------------------- helpers

def fetch(url: str, headers: dict | None = None, timeout: float = 10):
    """(status, headers, body) without raising on HTTP errors."""
    request = urllib.request.Request(url, headers=headers or {})
    try:
        with urllib.request.urlopen(request, timeout=timeout) as response:
            return response.status, response.headers, response.read()
    except urllib.error.HTTPError as error:
        with error:
            return error.code, error.headers, error.read()


def fetch_json(url: str):
    status, headers, body = fetch(url)
    assert status == 200, body[:300]
    assert headers["Content-Type"].startswith("application/json")
    return json.loads(body)


def page_colour_ids(response: dict) -> list[str]:
    return [colour["ccId"] for product in response["products"] for colour in product["styleColors"]]


class Node:
    def __init__(self, tag: str, attrs: dict, parent: "Node | None"):
        self.tag, self.attrs, self.parent, self.children, self.text_parts = tag, attrs, parent, [], []

    def text(self) -> str:
        return "".join(part if isinstance(part, str) else part.text() for part in self.text_parts)

    def iter(self):
        for child in self.children:
            yield child
            yield from child.iter()

    def find_all(self, tag: str | None = None, **attrs) -> list["Node"]:
        found = []
        for node in self.iter():
            if tag and node.tag != tag:
                continue
            if all(node.has(name.rstrip("_").replace("_", "-"), value) for name, value in attrs.items()):
                found.append(node)
        return found

    def has(self, name: str, value) -> bool:
        if name == "class":
            return value in (self.attrs.get("class") or "").split()
        if value is True:
            return name in self.attrs
        return self.attrs.get(name) == value

    def ancestors(self):
        node = self.parent
        while node is not None:
            yield node
            node = node.parent


class TreeBuilder(HTMLParser):
    """A small DOM from the stdlib parser, enough to read the markup the way a scraper would."""

    VOID = {"input", "img", "meta", "link", "br", "hr", "source"}

    def __init__(self):
        super().__init__(convert_charrefs=True)
        self.root = Node("#root", {}, None)
        self.current = self.root

    def handle_starttag(self, tag, attrs):
        node = Node(tag, {k: ("" if v is None else v) for k, v in attrs}, self.current)
        self.current.children.append(node)
        self.current.text_parts.append(node)
        if tag not in self.VOID:
            self.current = node

    def handle_endtag(self, tag):
        node = self.current
        while node is not self.root and node.tag != tag:
            node = node.parent
        if node is not self.root:
            self.current = node.parent

    def handle_data(self, data):
        self.current.text_parts.append(data)


def parse_html(text: str) -> Node:
    builder = TreeBuilder()
    builder.feed(text)
    builder.close()
    return builder.root


def out_of_stock(input_node: Node, label_node: Node) -> bool:
    """The gapdata README's rule: any one of the four signals marks a choice out of stock."""
    return (input_node.attrs.get("data-testid", "").endswith("outofstock")
            or input_node.attrs.get("aria-disabled") == "true"
            or "disabled" in input_node.attrs
            or "fds_selector__label--unavailable" in label_node.attrs.get("class", "").split())


def selector_choices(container: Node) -> list[dict]:
    inputs = [n for n in container.children if n.tag == "input"]
    labels = [n for n in container.children if n.tag == "label"]
    assert [n.tag for n in container.children] == ["input", "label"] * len(inputs)  # they alternate
    choices = []
    for input_node, label_node in zip(inputs, labels):
        assert label_node.attrs["for"] == input_node.attrs["id"]
        content = label_node.find_all("span", class_="fds_selector__content")[0].text()
        choices.append({"label": content, "available": not out_of_stock(input_node, label_node),
                        "id": input_node.attrs["id"], "name": input_node.attrs["name"]})
    return choices


def flight_payloads(page: str) -> list:
    pushes = re.findall(r"self\.__next_f\.push\(\[1,(\".*?\")\]\)</script>", page)
    return [json.loads(json.loads(raw)) for raw in pushes]


def json_ld(page: str) -> dict:
    raw = re.search(r'<script type="application/ld\+json">(.*?)</script>', page, re.S).group(1)
    return json.loads(raw)


# ---------------------------------------------------------------- catalog and listing API

def test_catalog_holds_the_real_files_byte_for_byte_and_counts():
    real = Path("/work/shared/gapdata/real")
    for path in DATA_DIR.glob("*.json"):
        if (real / path.name).exists():
            assert path.read_bytes() == (real / path.name).read_bytes()
    catalog = Catalog.default()
    counts = {key: (len(c.products), len(c.colours)) for key, c in catalog.categories.items()}
    assert counts == {(LEGACY, "5225"): (99, 188), (CURRENT, "5225"): (13, 105),
                      (LEGACY, "5664"): (4, 53), (CURRENT, "5664"): (4, 53)}
    product, colour, cid = catalog.find_colour(TOP_CC_ID)
    assert (product["styleName"], colour["effectivePrice"], colour["priceType"], cid) == (
        "Adult Relaxed T-Shirt", "24.99", "M", "5225")
    assert catalog.find_colour("123") is None
    assert catalog.colours(CURRENT, "999") == []


def test_current_endpoint_paginates_105_colours_in_pages_of_50(replica):
    seen = []
    for page_number, expected in enumerate([50, 50, 5]):
        response = fetch_json(replica.listing_url(CURRENT, 5225, pageSize=50, pageNumber=page_number,
                                                  department=75, brand="gap"))
        assert response["pagination"] == {"pageSize": "50", "currentPage": str(page_number), "pageNumberTotal": "3"}
        assert response["totalColors"] == "105"
        assert response["locale"] == "en_US"
        ids = page_colour_ids(response)
        assert len(ids) == expected
        category = response["categories"][0]
        assert (category["categoryId"], category["categoryName"]) == ("5225", "T-Shirts")
        cc_list = [entry["ccId"] for entry in category["ccList"]]
        assert cc_list and set(cc_list) <= set(ids) and len(cc_list) < len(ids)  # a subset, like the real endpoint
        assert isinstance(response["facets"], list)
        seen += ids
    assert len(seen) == 105 and len(set(seen)) == 105
    assert seen == [str(c["ccId"]) for _, c in Catalog.default().colours(CURRENT, "5225")]


def test_legacy_endpoint_serves_all_188_colours_with_real_dicts(replica):
    response = fetch_json(replica.listing_url(LEGACY, 5225, pageSize=200, pageNumber=0))
    assert response["pagination"] == {"pageSize": "200", "currentPage": "0", "pageNumberTotal": "1"}
    assert response["totalColors"] == "188"
    assert len(response["products"]) == 99
    assert len(page_colour_ids(response)) == 188
    assert len(response["categories"][0]["ccList"]) == 188
    real = json.loads((DATA_DIR / "20240210143119-men-tshirts__20240210143119-5965a1f8.json").read_text())
    assert response["products"] == real["products"]  # one page holds the whole category, unchanged
    assert response["sortByField"] == "default" and response["sortByDir"] == "asc"


def test_a_page_lists_only_its_colours_and_strings_stay_strings(replica):
    response = fetch_json(replica.listing_url(CURRENT, 5225, pageSize=7, pageNumber=1))
    assert response["pagination"] == {"pageSize": "7", "currentPage": "1", "pageNumberTotal": "15"}
    colours = [c for p in response["products"] for c in p["styleColors"]]
    assert len(colours) == 7
    first = colours[0]
    assert isinstance(first["effectivePrice"], str) and isinstance(first["percentageOff"], str)
    assert isinstance(response["products"][0]["excludedFromPromotion"], str)
    assert isinstance(response["products"][0]["reviewScore"], float)


def test_women_jeans_on_both_endpoints(replica):
    for endpoint in (LEGACY, CURRENT):
        response = fetch_json(replica.listing_url(endpoint, 5664, department=136, pageSize=200))
        assert response["totalColors"] == "53" and len(response["products"]) == 4
        assert response["categories"][0]["categoryName"] == "Jeans"


def test_page_size_is_capped_and_past_the_end_is_empty(replica):
    capped = fetch_json(replica.listing_url(LEGACY, 5225, pageSize=500))
    assert capped["pagination"]["pageSize"] == "200" and len(page_colour_ids(capped)) == 188
    past = fetch_json(replica.listing_url(CURRENT, 5225, pageSize=50, pageNumber=7))
    assert past["products"] == []
    assert past["pagination"] == {"pageSize": "50", "currentPage": "7", "pageNumberTotal": "3"}


def test_unknown_category_is_empty(replica):
    response = fetch_json(replica.listing_url(CURRENT, 1234567))
    assert response["products"] == [] and response["totalColors"] == "0"
    assert response["pagination"]["pageNumberTotal"] == "0"


def test_bad_queries_answer_400_json(replica):
    status, headers, body = fetch(replica.listing_url(CURRENT, 5225, locale="en-US"))
    assert status == 400 and headers["Content-Type"].startswith("application/json")
    assert "locale" in json.loads(body)["errors"][0]["message"]
    status, _, body = fetch(replica.base_url + "/commerce/search/products/v2/cc?pageSize=10")
    assert status == 400 and "cid" in json.loads(body)["errors"][0]["message"]
    status, _, _ = fetch(replica.listing_url(CURRENT, 5225, pageNumber=-1))
    assert status == 400


# ---------------------------------------------------------------- product pages

def test_top_product_page_markup_matches_its_facts(replica):
    facts = product_page_facts(Catalog.default(), TOP_CC_ID)
    assert facts["kind"] == "top" and facts["fits"] == []
    assert [s["label"] for s in facts["sizes"]] == ["XS", "S", "M", "L", "XL", "XXL"]
    assert facts["price"] == {"current": "24.99", "regular": "29.95", "currency": "USD", "percent_off": 17,
                              "type": "M"}
    assert facts["marketing_message"] == "Extra 50% off at checkout"

    status, headers, body = fetch(replica.product_url(TOP_CC_ID) + "&vid=1&cid=5225#pdp-page-content")
    assert status == 200 and headers["Content-Type"] == "text/html; charset=utf-8"
    page = body.decode("utf-8")
    assert '<meta charset="utf-8">' in page
    root = parse_html(page)

    titles = root.find_all("h1", class_="pdp-product-title")
    assert [t.text() for t in titles] == ["Adult Relaxed T-Shirt"] * 2
    assert any("hidden" in a.attrs or "display:none" in a.attrs.get("style", "") for a in titles[0].ancestors())

    markdown = root.find_all(data_testid="pdp-markdown-title-price")
    assert markdown and not root.find_all(data_testid="pdp-title-price-wrapper")
    assert markdown[0].find_all("span", class_="current-sale-price")[0].text() == "$24.99"
    assert markdown[0].find_all("span", class_="product-price__strike")[0].text() == "$29.95"

    containers = root.find_all("div", class_="pdp_size-selector-container__items")
    assert len(containers) == 1
    sizes = selector_choices(containers[0])
    assert [{"label": s["label"], "available": s["available"]} for s in sizes] == facts["sizes"]
    assert sizes[2]["id"] == "pdp_buybox_dimension_M" and sizes[2]["name"] == "buybox-sizeDimension1"

    assert root.find_all(data_testid="pdp-color-value")[0].text() == "Blue"
    swatches = root.find_all("div", class_="pdp-color-picker-swatch-container")
    assert [s.attrs["id"] for s in swatches] == [c["cc_id"] for c in facts["colors"]]
    for swatch, colour in zip(swatches, facts["colors"]):
        swatch_input = swatch.find_all("input")[0]
        assert swatch_input.attrs["aria-label"] == colour["name"]
        assert swatch_input.attrs["data-testid"] == (
            "pdp-color-swatch-instock" if colour["available"] else "pdp-color-swatch-outofstock")
    assert root.find_all("div", class_="pdp-marketing-message")[0].text() == "Extra 50% off at checkout"

    images = [n.find_all("img")[0] for n in root.find_all(data_testid="pdp-photo-brick-image")]
    assert [img.attrs["src"] for img in images] == facts["images"]
    assert all(src.startswith("/webcontent/") and not src.endswith(".mp4") for src in facts["images"])
    assert images[0].attrs["alt"].startswith(f"View large product image 1 of {len(images)}.")

    panels = {p.find_all(class_="fds_panel__title")[0].text(): [li.text() for li in p.find_all("li")]
              for p in root.find_all("div", class_="fds_panel")}
    assert panels == facts["details"]
    assert any("&" in b and '"' in b for b in facts["details"]["Fabric & care"])

    product = json_ld(page)
    assert (product["@type"], product["productID"], product["name"], product["color"]) == (
        "Product", TOP_CC_ID, "Adult Relaxed T-Shirt", "Blue")
    assert len(product["offers"]) == len(facts["variants"]) == 6
    for offer, variant in zip(product["offers"], facts["variants"]):
        assert offer["sku"] == variant["sku"] and offer["price"] == "24.99" and offer["priceCurrency"] == "USD"
        assert offer["availability"].endswith("InStock" if variant["available"] else "OutOfStock")

    assert r'\"label\":\"Fabric \u0026 care\",\"bullets\":[' in page
    state = [p for p in flight_payloads(page) if "productData" in p][0]["productData"]
    assert state["name"] == "Adult Relaxed T-Shirt" and state["selectedColor"]["ccId"] == TOP_CC_ID
    assert state["sizes"] == facts["sizes"]
    assert state["infoTabs"][0] == {"label": "Fabric & care", "bullets": facts["details"]["Fabric & care"]}


def test_bottom_product_page_has_waists_and_a_fit_dimension(replica):
    facts = product_page_facts(Catalog.default(), BOTTOM_CC_ID)
    assert facts["kind"] == "bottom" and facts["title"] == "Low Rise Long & Lean Jeans"
    assert [s["label"] for s in facts["sizes"]] == [str(w) for w in range(24, 36)]
    assert [f["label"] for f in facts["fits"]] == ["Regular", "Petite", "Tall"]
    assert len(facts["variants"]) == 12 * 3
    assert all(v["available"] == (s["available"] and f["available"])
               for v, (s, f) in zip(facts["variants"], [(s, f) for s in facts["sizes"] for f in facts["fits"]]))

    page = fetch(replica.product_url(BOTTOM_CC_ID))[2].decode("utf-8")
    root = parse_html(page)
    assert root.find_all("h1", class_="pdp-product-title")[1].text() == "Low Rise Long & Lean Jeans"
    assert "Low Rise Long &amp; Lean Jeans" in page
    size_box, fit_box = root.find_all("div", class_="pdp_size-selector-container__items")
    assert fit_box.attrs["data-dimension"] == "fit"
    fits = selector_choices(fit_box)
    assert [{"label": f["label"], "available": f["available"]} for f in fits] == facts["fits"]
    assert fits[0]["id"] == "pdp_buybox_dimension2_Regular" and fits[0]["name"] == "buybox-sizeDimension2"
    assert fit_box.parent.find_all(class_="pdp_size-selector__label")[0].text() == "Fit"
    sizes = selector_choices(size_box)
    assert [{"label": s["label"], "available": s["available"]} for s in sizes] == facts["sizes"]
    assert len(json_ld(page)["offers"]) == 36


def test_every_page_parses_back_to_its_facts():
    """For the whole catalog: markup, JSON-LD and flight state agree with the facts; all four signals are used."""
    catalog = Catalog.default()
    signals_seen = set()
    sold_out = 0
    for cc_id in catalog.cc_ids():
        facts = product_page_facts(catalog, cc_id)
        page = render_product_page(facts)
        root = parse_html(page)
        containers = root.find_all("div", class_="pdp_size-selector-container__items")
        assert len(containers) == (2 if facts["fits"] else 1)
        parsed = [{"label": c["label"], "available": c["available"]} for c in selector_choices(containers[0])]
        assert parsed == facts["sizes"], cc_id
        if facts["fits"]:
            assert [{"label": c["label"], "available": c["available"]}
                    for c in selector_choices(containers[1])] == facts["fits"]
        for node in root.find_all("input", class_="fds_selector__input"):
            if node.attrs["data-testid"].endswith("outofstock"):
                signals_seen.add("testid")
            if node.attrs["aria-disabled"] == "true":
                signals_seen.add("aria")
            if "disabled" in node.attrs:
                signals_seen.add("disabled")
        if "fds_selector__label--unavailable" in page:
            signals_seen.add("class")
        assert len(json_ld(page)["offers"]) == len(facts["variants"])
        assert json_ld(page)["name"] == facts["title"]
        assert [h.text() for h in root.find_all("h1", class_="pdp-product-title")] == [facts["title"]] * 2
        colour_index = [c["cc_id"] for c in facts["colors"]].index(cc_id)
        assert facts["colors"][colour_index]["available"] == facts["available"]  # swatch and page agree
        sold_out += not facts["available"]
    assert signals_seen == {"testid", "aria", "disabled", "class"}
    assert 0 < sold_out < len(catalog.cc_ids()) / 4


def test_product_pages_are_deterministic_and_unknown_pids_404(replica):
    first = fetch(replica.product_url(TOP_CC_ID))[2]
    second = fetch(replica.product_url(TOP_CC_ID))[2]
    assert first == second
    assert product_page_facts(Catalog(), BOTTOM_CC_ID) == product_page_facts(Catalog.default(), BOTTOM_CC_ID)
    status, headers, body = fetch(replica.product_url("999999999"))
    assert status == 404 and headers["Content-Type"].startswith("text/html")
    status, _, _ = fetch(replica.base_url + "/browse/product.do")
    assert status == 404


def test_names_with_entities_and_non_ascii_are_escaped():
    catalog = Catalog.default()
    barbie = next(cc for cc in catalog.cc_ids() if "Barbie&#153" in catalog.find_colour(cc)[0]["styleName"])
    facts = product_page_facts(catalog, barbie)
    assert facts["title"] == "Gap × Barbie™ Adult Arch Logo T-Shirt"
    page = render_product_page(facts)
    assert "<h1 class=\"pdp-product-title\">Gap × Barbie™ Adult Arch Logo T-Shirt</h1>" in page
    flare = next(cc for cc in catalog.cc_ids() if "'70s" in catalog.find_colour(cc)[0]["styleName"])
    page = render_product_page(product_page_facts(catalog, flare))
    assert "High Rise &#x27;70s Flare Jeans" in page and json_ld(page)["name"] == "High Rise '70s Flare Jeans"


# ---------------------------------------------------------------- images

def png_pixels_ok(data: bytes) -> tuple[int, int]:
    assert data[:8] == b"\x89PNG\r\n\x1a\n"
    offset, chunks, idat = 8, [], b""
    while offset < len(data):
        (length,) = struct.unpack(">I", data[offset:offset + 4])
        kind, body = data[offset + 4:offset + 8], data[offset + 8:offset + 8 + length]
        (crc,) = struct.unpack(">I", data[offset + 8 + length:offset + 12 + length])
        assert crc == zlib.crc32(kind + body) & 0xFFFFFFFF
        chunks.append(kind)
        if kind == b"IDAT":
            idat += body
        if kind == b"IHDR":
            width, height = struct.unpack(">II", body[:8])
        offset += 12 + length
    assert chunks[0] == b"IHDR" and chunks[-1] == b"IEND"
    assert len(zlib.decompress(idat)) == height * (1 + 3 * width)
    return width, height


def jpeg_segments_ok(data: bytes) -> list[int]:
    assert data[:3] == b"\xff\xd8\xff" and data[-2:] == b"\xff\xd9"
    offset, markers = 2, []
    while data[offset + 1] != 0xDA:  # walk the header segments up to the scan
        marker, (length,) = data[offset + 1], struct.unpack(">H", data[offset + 2:offset + 4])
        markers.append(marker)
        offset += 2 + length
    return markers


def test_images_are_valid_and_deterministic(replica):
    facts = product_page_facts(Catalog.default(), TOP_CC_ID)
    status, headers, jpeg = fetch(replica.base_url + facts["images"][0])
    assert status == 200 and headers["Content-Type"] == "image/jpeg"
    assert {0xE0, 0xDB, 0xC0, 0xC4} <= set(jpeg_segments_ok(jpeg))
    assert fetch(replica.base_url + facts["images"][0])[2] == jpeg
    assert fetch(replica.base_url + facts["images"][1])[2] != jpeg

    status, headers, png = fetch(replica.base_url + "/webcontent/0062/670/789/cn62670789.png")  # a *_PRST path
    assert status == 200 and headers["Content-Type"] == "image/png"
    assert png_pixels_ok(png) == (16, 16)
    assert png == fetch(replica.base_url + "/webcontent/0062/670/789/cn62670789.png")[2]
    assert fetch(replica.base_url + "/webcontent/0061/136/050/cn61136050.mp4")[0] == 404
    assert png_pixels_ok(solid_png((1, 2, 3), 8)) == (8, 8)
    assert jpeg_segments_ok(solid_jpeg((250, 5, 5), 8))


# ---------------------------------------------------------------- faults

def test_403_is_akamais_access_denied_page(replica):
    replica.add_fault(r"product\.do", status=403)
    status, headers, body = fetch(replica.product_url(TOP_CC_ID))
    text = body.decode()
    assert status == 403 and headers["Content-Type"].startswith("text/html")
    assert "<TITLE>Access Denied</TITLE>" in text and "You don't have permission to access" in text
    assert re.search(r"Reference #18\.[0-9a-f]{8}\.\d{10}\.[0-9a-f]{8}", text)
    assert fetch(replica.listing_url(CURRENT, 5225))[0] == 200  # the pattern decides what fails


def test_status_faults_429_404_500(replica):
    replica.add_fault(r"pageNumber=1\b", status=429, headers={"Retry-After": "2"})
    replica.add_fault(r"pid=796255112", status=404)
    replica.add_fault(r"/webcontent/", status=500)
    status, headers, _ = fetch(replica.listing_url(CURRENT, 5225, pageSize=50, pageNumber=1))
    assert status == 429 and headers["Retry-After"] == "2"
    assert fetch(replica.listing_url(CURRENT, 5225, pageSize=50, pageNumber=0))[0] == 200
    assert fetch(replica.product_url("796255112"))[0] == 404
    assert fetch(replica.base_url + "/webcontent/0062/670/782/cn62670782.jpg")[0] == 500
    replica.clear_faults()
    assert fetch(replica.base_url + "/webcontent/0062/670/782/cn62670782.jpg")[0] == 200


def test_times_limits_a_fault_so_retries_succeed(replica):
    fault = replica.add_fault(r"category_products", status=503, times=1)
    assert fetch(replica.listing_url(CURRENT, 5225))[0] == 503
    assert fetch(replica.listing_url(CURRENT, 5225))[0] == 200
    assert fault.hits == 1
    assert [entry["fault"] for entry in replica.log] == [True, False]


def test_malformed_json_and_wrong_content_type(replica):
    replica.add_fault(r"pageNumber=0", body="{not json", content_type="application/json", times=1)
    replica.add_fault(r"pageNumber=1", content_type="text/html", times=1)
    status, headers, body = fetch(replica.listing_url(CURRENT, 5225, pageNumber=0))
    assert status == 200 and headers["Content-Type"] == "application/json" and body == b"{not json"
    status, headers, body = fetch(replica.listing_url(CURRENT, 5225, pageSize=50, pageNumber=1))
    assert headers["Content-Type"] == "text/html" and json.loads(body)["pagination"]["currentPage"] == "1"


def test_delay_truncate_and_drop(replica):
    replica.add_fault(r"pid=796255112", delay=0.3)
    started = time.monotonic()
    assert fetch(replica.product_url("796255112"))[0] == 200
    assert time.monotonic() - started >= 0.3

    replica.add_fault(r"pid=796255412", truncate=100)
    with urllib.request.urlopen(replica.product_url("796255412"), timeout=10) as response:
        with pytest.raises(http.client.IncompleteRead) as raised:
            response.read()
    assert len(raised.value.partial) == 100

    replica.add_fault(r"pid=796255082", drop=True)
    with pytest.raises((urllib.error.URLError, ConnectionError, http.client.HTTPException)):
        urllib.request.urlopen(replica.product_url("796255082"), timeout=10).read()
    entries = {e["query"]: e for e in replica.log}
    assert entries["pid=796255412"]["error"] == "truncated" and entries["pid=796255412"]["bytes"] == 100
    assert entries["pid=796255082"]["error"] == "dropped" and entries["pid=796255082"]["status"] is None
    assert entries["pid=796255112"]["end"] - entries["pid=796255112"]["start"] >= 0.3


def test_faults_and_log_over_http(replica):
    control = replica.base_url + "/__replica__/"
    faults = json.dumps([{"pattern": "product\\.do", "status": 429, "headers": {"Retry-After": "1"}, "times": 2}])
    request = urllib.request.Request(control + "faults", data=faults.encode(), method="POST",
                                     headers={"Content-Type": "application/json"})
    assert json.loads(urllib.request.urlopen(request).read()) == {"added": 1}
    assert [fetch(replica.product_url(TOP_CC_ID))[0] for _ in range(3)] == [429, 429, 200]
    log = fetch_json(control + "log")
    assert [(e["path"], e["status"], e["fault"]) for e in log] == [("/browse/product.do", 429, True)] * 2 + [
        ("/browse/product.do", 200, False)]
    replica.add_fault("product", status=500)
    urllib.request.urlopen(urllib.request.Request(control + "faults", method="DELETE")).read()
    urllib.request.urlopen(urllib.request.Request(control + "log", method="DELETE")).read()
    assert fetch(replica.product_url(TOP_CC_ID))[0] == 200
    assert len(fetch_json(control + "log")) == 1
    bad = urllib.request.Request(control + "faults", data=b'[{"status": 500}]', method="POST")
    assert fetch_status(bad) == 400


def fetch_status(request) -> int:
    try:
        with urllib.request.urlopen(request) as response:
            return response.status
    except urllib.error.HTTPError as error:
        return error.code


# ---------------------------------------------------------------- request log and concurrency

def test_request_log_records_host_and_times(replica):
    fetch(replica.listing_url(CURRENT, 5225, pageSize=10))
    fetch(replica.url_for("localhost") + "/browse/product.do?pid=" + TOP_CC_ID, headers={"User-Agent": "probe/1"})
    first, second = replica.log
    assert first["host"] == f"127.0.0.1:{replica.port}" and second["host"] == f"localhost:{replica.port}"
    assert first["path"] == "/v2/catalog_search_products/v2/category_products" and "cid=5225" in first["query"]
    assert second["query"] == f"pid={TOP_CC_ID}" and second["user_agent"] == "probe/1"
    for entry in (first, second):
        assert entry["start"] <= entry["end"] and entry["start_wall"] <= entry["end_wall"]
        assert entry["status"] == 200 and entry["fault"] is False
    replica.log.clear()  # a copy: the replica keeps its own
    assert len(replica.log) == 2
    replica.clear_log()
    assert replica.log == []


def test_concurrent_requests_overlap_in_the_log(replica):
    replica.add_fault(r"/webcontent/", delay=0.5)
    paths = ["/webcontent/0001/a.jpg", "/webcontent/0002/b.jpg"]
    threads = [threading.Thread(target=fetch, args=(replica.base_url + p,)) for p in paths]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=30)
    a, b = replica.log
    assert a["start"] < b["end"] and b["start"] < a["end"]  # served in parallel, not one after the other


# ---------------------------------------------------------------- standalone server

def test_main_entry_point_serves_until_sigterm():
    process = subprocess.Popen([sys.executable, "-m", "tests.replica", "--port", "0"], cwd=ROOT,
                               stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
                               env={**os.environ, "PYTHONUNBUFFERED": "1"})
    try:
        line = process.stdout.readline()
        match = re.fullmatch(r"Gap replica listening on (http://127\.0\.0\.1:(\d+)) "
                             r"\(listing API, product pages, images\)\n", line)
        assert match, line + process.stderr.read()
        response = fetch_json(match.group(1) + "/v2/catalog_search_products/v2/category_products?cid=5664")
        assert response["totalColors"] == "53"
    finally:
        process.send_signal(signal.SIGTERM)
        assert process.wait(timeout=10) == 0
        process.stdout.close()
        process.stderr.close()


def test_replica_object_lifecycle():
    server = GapReplica()
    with pytest.raises(RuntimeError):
        server.base_url
    with server:
        assert server.base_url.startswith("http://127.0.0.1:") and server.running
        assert fetch(server.base_url + "/nope")[0] == 404
    assert not server.running


# ---------------------------------------------------------------- synthetic category (benchmarks)

def test_synthetic_category_copies_real_colours_with_distinct_ids_and_images():
    from tests.replica.catalog import SYNTHETIC_CID

    real = Catalog.default()
    real_ids = set(real.cc_ids())
    with GapReplica(synthetic_colours=len(real_ids) * 2 + 5) as server:
        count = len(real_ids) * 2 + 5
        seen, image_paths = [], set()
        for page in range(math.ceil(count / 200)):
            response = fetch_json(server.listing_url(CURRENT, SYNTHETIC_CID, pageSize=200, pageNumber=page))
            assert response["totalColors"] == str(count)
            assert response["pagination"]["pageNumberTotal"] == str(math.ceil(count / 200))
            for product in response["products"]:
                assert re.fullmatch(r"3\d{5}", product["styleId"])
                for colour in product["styleColors"]:
                    seen.append(colour["ccId"])
                    image_paths.update(image["path"] for image in colour["images"])
        assert len(seen) == len(set(seen)) == count
        assert all(re.fullmatch(r"3\d{8}", cc_id) for cc_id in seen) and not set(seen) & real_ids
        assert all("/synthetic" in path for path in image_paths)
        # the first copy of the first real colour: same facts as the real one, under its own ids and images
        first_real = real.find_colour(real.cc_ids()[0])
        product, colour, cid = server.catalog.find_colour(seen[0])
        assert cid == first_real[2] and colour["ccName"] == first_real[1]["ccName"]
        assert colour["regularPrice"] == first_real[1]["regularPrice"]
        facts = product_page_facts(server.catalog, seen[-1])
        assert facts["cc_id"] == seen[-1] and facts["images"]
        assert {c["cc_id"] for c in facts["colors"]} <= set(seen)  # swatches stay within the copy's style
        status, _, body = fetch(server.product_url(seen[-1]))
        assert status == 200 and seen[-1].encode() in body
        status, headers, _ = fetch(server.base_url + "/" + sorted(image_paths)[0].lstrip("/"))
        assert status == 200 and headers["Content-Type"].startswith("image/")
    # the default catalog is untouched: only the real categories
    assert (CURRENT, SYNTHETIC_CID) not in Catalog.default().categories
    with GapReplica() as plain:
        assert fetch_json(plain.listing_url(CURRENT, SYNTHETIC_CID))["totalColors"] == "0"
    with pytest.raises(ValueError):
        GapReplica(catalog=real, synthetic_colours=10)


def test_main_entry_point_serves_a_synthetic_category():
    from tests.replica.catalog import SYNTHETIC_CID

    process = subprocess.Popen([sys.executable, "-m", "tests.replica", "--port", "0", "--synthetic-colours", "1000"],
                               cwd=ROOT, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
                               env={**os.environ, "PYTHONUNBUFFERED": "1"})
    try:
        base = re.search(r"(http://127\.0\.0\.1:\d+)", process.stdout.readline()).group(1)
        response = fetch_json(f"{base}/commerce/search/products/v2/cc?cid={SYNTHETIC_CID}&pageSize=200")
        assert response["totalColors"] == "1000" and response["pagination"]["pageNumberTotal"] == "5"
    finally:
        process.send_signal(signal.SIGTERM)
        assert process.wait(timeout=10) == 0
        process.stdout.close()
        process.stderr.close()
