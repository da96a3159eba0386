"""URL building, as pure functions: a Gap category web URL to its listing-API URL, a ccId to its page.

Bases are arguments (fed from settings), so the same code points at the offline replica or at Gap.
"""

from __future__ import annotations

from typing import Any, Mapping
from urllib.parse import parse_qsl, urlencode, urlsplit, urlunsplit

# Brand code by web host (www. is optional).
BRAND_BY_HOST = {
    "gap.com": "gap",
    "gapfactory.com": "gapfs",
    "oldnavy.gap.com": "on",
    "bananarepublic.gap.com": "br",
    "bananarepublicfactory.gapfactory.com": "brfs",
    "athleta.gap.com": "at",
}
# Listing API host by brand: Gap Factory brands live on their own API host.
API_BASE_BY_BRAND = {
    "gap": "https://api.gap.com",
    "on": "https://api.gap.com",
    "br": "https://api.gap.com",
    "at": "https://api.gap.com",
    "gapfs": "https://api.gapfactory.com",
    "brfs": "https://api.gapfactory.com",
}
LISTING_PATHS = {
    "current": "/v2/catalog_search_products/v2/category_products",
    "legacy": "/commerce/search/products/v2/cc",
}
# Headers the current endpoint expects (the legacy one ignores them).
LISTING_HEADERS = {
    "x-client-application-name": "Browse",
    "X-Customer-Segment": "non-cardholder",
}
DEFAULT_PAGE_SIZE = 200
MAX_PAGE_SIZE = 200


class InvalidGapUrl(ValueError):
    """The URL is not a Gap category page we can build a listing-API URL for."""


def is_number(text) -> bool:
    """All ASCII digits: str.isdigit() also says yes to "²" and "５", which int() or Gap do not take."""
    return isinstance(text, str) and text.isascii() and text.isdigit()


def brand_for_host(host: str) -> str | None:
    host = (host or "").lower().rstrip(".")
    if host.startswith("www."):
        host = host[4:]
    return BRAND_BY_HOST.get(host)


def _pairs(text: str) -> dict[str, str]:
    """Query-string style pairs (also used for `#department=136&pageId=0` fragments); first wins."""
    result: dict[str, str] = {}
    for key, value in parse_qsl(text, keep_blank_values=True):
        result.setdefault(key, value)
    return result


def parse_web_url(url: str) -> dict[str, Any]:
    """The parts of a Gap category web URL that matter: host, brand, cid, department, query, fragment.

    Raises InvalidGapUrl with a message meant for the person who typed the URL.
    """
    if not isinstance(url, str) or not url.strip():
        raise InvalidGapUrl("Enter the URL of a Gap category page.")
    parts = urlsplit(url.strip())
    if parts.scheme not in ("http", "https") or not parts.hostname:
        raise InvalidGapUrl("This is not a web URL (it must start with https://).")
    try:
        parts.port
    except ValueError:
        raise InvalidGapUrl(f"The port in {parts.netloc!r} is not a valid port.") from None
    if parts.username is not None or parts.password is not None:
        # A user name or password would travel on to every product page and image URL built from this one.
        raise InvalidGapUrl("The URL carries a user name or password (user@…); enter the address without them.")
    brand = brand_for_host(parts.hostname)
    if brand is None:
        known = ", ".join(f"www.{h}" if h.count(".") == 1 else h for h in BRAND_BY_HOST)
        raise InvalidGapUrl(f"{parts.hostname} is not a Gap site (expected one of: {known}).")
    if "/browse/product.do" in parts.path:
        raise InvalidGapUrl("This is a product page; enter a category page (…/browse/category.do?cid=…).")
    query = _pairs(parts.query)
    fragment = _pairs(parts.fragment)
    for part in (parts.query, parts.fragment):
        cids = list(dict.fromkeys(v for k, v in parse_qsl(part, keep_blank_values=True) if k == "cid" and v))
        if len(cids) > 1:
            # Which category was meant cannot be told; taking the first would fetch a category nobody checked.
            raise InvalidGapUrl(f"The URL names {len(cids)} categories (cid={', cid='.join(cids)}); keep only one.")
    cid = query.get("cid") or fragment.get("cid")
    if not cid:
        raise InvalidGapUrl("The URL has no cid (category id), e.g. …/browse/category.do?cid=1111149.")
    if not is_number(cid):
        raise InvalidGapUrl(f"The cid {cid!r} is not a number.")
    department = fragment.get("department") or query.get("department")
    if department is not None and not is_number(department):
        department = None
    return {
        "host": parts.hostname.lower(),
        "brand": brand,
        "cid": cid,
        "department": department,
        "query": query,
        "fragment": fragment,
    }


def build_listing_url(
    web_url: str,
    *,
    page_number: int = 0,
    page_size: int = DEFAULT_PAGE_SIZE,
    api_base: str | None = None,
    endpoint: str = "current",
    locale: str = "en_US",
    market: str = "us",
) -> str:
    """The listing-API URL of one page (from 0) of the category a web URL shows."""
    params = parse_web_url(web_url)
    if endpoint not in LISTING_PATHS:
        raise ValueError(f"unknown listing endpoint {endpoint!r} (expected current or legacy)")
    page_size = max(1, min(int(page_size), MAX_PAGE_SIZE))
    base = (api_base or API_BASE_BY_BRAND[params["brand"]]).rstrip("/")
    query: list[tuple[str, str]] = [
        ("cid", params["cid"]),
        ("pageSize", str(page_size)),
        ("pageNumber", str(int(page_number))),
        ("vendor", "constructorio"),
        ("client_id", "0"),
        ("session_id", "0"),
        ("ignoreInventory", "false"),
        ("includeMarketingFlagsDetails", "true"),
        ("enableDynamicPhoto", "true"),
        ("brand", params["brand"]),
        ("locale", locale),
        ("market", market),
    ]
    if params["department"]:
        query.append(("department", params["department"]))
    return f"{base}{LISTING_PATHS[endpoint]}?{urlencode(query)}"


def with_page_number(api_url: str, page_number: int) -> str:
    """The same listing-API URL asking for another page."""
    parts = urlsplit(api_url)
    query = [(k, str(page_number) if k == "pageNumber" else v) for k, v in parse_qsl(parts.query, keep_blank_values=True)]
    if not any(k == "pageNumber" for k, _ in query):
        query.append(("pageNumber", str(page_number)))
    return urlunsplit(parts._replace(query=urlencode(query)))


def web_base_for(web_url: str) -> str:
    """scheme://host of a web URL: where its product pages live."""
    parts = urlsplit(web_url)
    return f"{parts.scheme}://{parts.netloc}"


def build_product_url(
    cc_id: str,
    *,
    web_base: str,
    page_parameters: Mapping[str, Any] | None = None,
) -> str:
    """The product page of a ccId; the category's cid/pcid/nav/vid are carried over when known."""
    cc_id = str(cc_id).strip()
    if not is_number(cc_id):
        raise ValueError(f"ccId must be digits, got {cc_id!r}")
    query: list[tuple[str, str]] = [("pid", cc_id)]
    source = dict((page_parameters or {}).get("query") or {})
    if "cid" not in source and page_parameters and page_parameters.get("cid"):
        source["cid"] = page_parameters["cid"]
    vid = source.get("vid") or ("1" if source else None)
    if vid:
        query.append(("vid", str(vid)))
    if source.get("pcid"):
        query.append(("pcid", str(source["pcid"])))
    if source.get("cid"):
        query.append(("cid", str(source["cid"])))
    if source.get("nav"):
        query.append(("nav", str(source["nav"])))
    return f"{web_base.rstrip('/')}/browse/product.do?{urlencode(query)}"


def build_image_url(path: str, *, image_base: str) -> str:
    """An image URL from a listing `path` (with or without its leading slash)."""
    path = str(path).strip()
    if path.startswith(("http://", "https://")):
        return path
    return f"{image_base.rstrip('/')}/{path.lstrip('/')}"


def page_parameters(web_url: str) -> dict[str, Any]:
    """What GapPage.web_page_parameters stores: the query and fragment of the web URL, plus cid/department/brand."""
    params = parse_web_url(web_url)
    return {
        "cid": params["cid"],
        "department": params["department"],
        "brand": params["brand"],
        "query": params["query"],
        "fragment": params["fragment"],
    }
