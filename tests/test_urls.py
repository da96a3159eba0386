"""URL building on real Gap URLs."""

from urllib.parse import parse_qs, urlsplit

import pytest

from gapspider.urls import (
    InvalidGapUrl,
    build_image_url,
    build_listing_url,
    build_product_url,
    page_parameters,
    parse_web_url,
    with_page_number,
)

FACTORY = "https://www.gapfactory.com/browse/category.do?cid=1111149&nav=meganav%3AWomen%3ADeals%3AAll%20Deals#department=136"
GAP_TEES = "https://www.gap.com/browse/men/t-shirts?cid=5225"
OLD_NAVY = "https://oldnavy.gap.com/browse/category.do?cid=72091#pageId=0&department=75"


def query(url):
    return {k: v[0] for k, v in parse_qs(urlsplit(url).query).items()}


def test_gap_factory_category_with_department_in_fragment():
    url = build_listing_url(FACTORY)
    assert url.startswith("https://api.gapfactory.com/v2/catalog_search_products/v2/category_products?")
    assert query(url) == {
        "cid": "1111149", "pageSize": "200", "pageNumber": "0", "vendor": "constructorio", "client_id": "0",
        "session_id": "0", "ignoreInventory": "false", "includeMarketingFlagsDetails": "true",
        "enableDynamicPhoto": "true", "brand": "gapfs", "locale": "en_US", "market": "us", "department": "136",
    }


def test_brand_from_host_and_no_department():
    q = query(build_listing_url(GAP_TEES))
    assert q["brand"] == "gap" and q["cid"] == "5225" and "department" not in q
    assert query(build_listing_url(OLD_NAVY))["brand"] == "on"
    assert query(build_listing_url(OLD_NAVY))["department"] == "75"
    assert build_listing_url(GAP_TEES).startswith("https://api.gap.com/")


def test_cid_in_fragment_and_legacy_endpoint_and_replica_base():
    url = build_listing_url("https://www.gap.com/browse/x#cid=5664&department=136", endpoint="legacy",
                            api_base="http://127.0.0.1:9999/", page_size=50, page_number=2)
    assert url.startswith("http://127.0.0.1:9999/commerce/search/products/v2/cc?")
    q = query(url)
    assert (q["cid"], q["department"], q["pageSize"], q["pageNumber"]) == ("5664", "136", "50", "2")


def test_page_size_is_capped_and_pages_change():
    url = build_listing_url(GAP_TEES, page_size=1000)
    assert query(url)["pageSize"] == "200"
    assert query(with_page_number(url, 4))["pageNumber"] == "4"
    assert query(with_page_number(url, 4))["cid"] == "5225"


@pytest.mark.parametrize("url, message", [
    ("", "Enter the URL"),
    ("ftp://www.gap.com/x?cid=1", "not a web URL"),
    ("https://www.example.com/browse/category.do?cid=1", "www.example.com is not a Gap site"),
    ("https://www.gap.com/browse/category.do?nav=x", "has no cid"),
    ("https://www.gap.com/browse/category.do?cid=abc", "is not a number"),
    ("https://www.gap.com/browse/product.do?pid=796255962", "is a product page"),
    # Unicode digits pass str.isdigit() but are no cid Gap knows
    ("https://www.gap.com/browse/category.do?cid=\uff15\uff12\uff12\uff15", "is not a number"),
    ("https://www.gap.com/browse/category.do?cid=\u00b2", "is not a number"),
    ("https://www.gap.com:99999/browse/category.do?cid=5225", "port"),
    ("https://user:secret@www.gap.com/browse/category.do?cid=5225", "user name or password"),
    ("https://www.gap.com/browse/category.do?cid=5225&cid=5664", r"names 2 categories \(cid=5225, cid=5664\)"),
    ("https://www.gap.com/browse/category.do#cid=5225&cid=5664", "names 2 categories"),
])
def test_bad_urls_get_clear_errors(url, message):
    with pytest.raises(InvalidGapUrl, match=message):
        parse_web_url(url)


def test_the_same_cid_twice_is_one_category():
    assert parse_web_url("https://www.gap.com/browse/category.do?cid=5225&cid=5225")["cid"] == "5225"


def test_product_url_carries_category_context():
    url = build_product_url("796255962", web_base="https://www.gapfactory.com", page_parameters=page_parameters(FACTORY))
    assert url.startswith("https://www.gapfactory.com/browse/product.do?")
    assert query(url) == {"pid": "796255962", "vid": "1", "cid": "1111149", "nav": "meganav:Women:Deals:All Deals"}
    assert build_product_url("1", web_base="http://h/") == "http://h/browse/product.do?pid=1"
    with pytest.raises(ValueError):
        build_product_url("../etc", web_base="http://h")


def test_image_urls_with_and_without_leading_slash():
    assert build_image_url("/webcontent/0063/126/376/cn63126376.jpg", image_base="https://www.gap.com") == \
        "https://www.gap.com/webcontent/0063/126/376/cn63126376.jpg"
    assert build_image_url("webcontent/0062/670/789/cn62670789.png", image_base="http://127.0.0.1:1/") == \
        "http://127.0.0.1:1/webcontent/0062/670/789/cn62670789.png"
