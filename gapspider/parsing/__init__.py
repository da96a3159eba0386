"""Gap product pages (PDP) -> `ProductData.parsed_data`: pure, forgiving, versioned.

`parse_product_page(html, *, cc_id=None, listing=None) -> dict` never raises: malformed, truncated, empty and
bot-block pages give a partial result with `warnings`. Sources, most trusted first: JSON-LD, embedded state
(Next.js flight chunks `self.__next_f.push`, `__NEXT_DATA__`, the older `window.__PRODUCT_PAGE_STATE__`), then the
markup. Where sources disagree the more trusted one wins and a warning says so. `listing` (this fetch's listing
facts) fills what the page lacks, with a warning naming the source. Full description with an example:
SCHEMA.md next to this file.

parsed_data, schema 1 (every key is always present):

    schema                    int, SCHEMA_VERSION (1)
    cc_id                     str | None   the colour (customer choice) id of the page, e.g. "796255962"
    style_id                  str | None   e.g. "796255"
    title                     str | None   entities decoded, e.g. "Vintage Soft T-Shirt™"
    url                       str | None   canonical URL as written on the page
    color                     {"name": str | None, "cc_id": str | None}   the page's colour
    colors                    [{"name", "cc_id", "available": bool}]      swatches, page order
    sizes                     [{"label": str, "available": bool}]         first dimension, page order
    fits                      [{"label", "available"}]   second dimension when its labels are fit words
                                                         (Regular/Tall/Petite/Short/Long/Plus/Maternity); else []
    lengths                   [{"label", "available"}]   second dimension that is not a fit (inseam "30", "32"...)
    dimensions                ["size"] + ["fit"] or ["length"] when present; [] without sizes
    variants                  [{"size", "fit", "available", "sku", "price"}] (+ "length" when `lengths` is not
                              empty); sku/price None where the page does not give them; without variant data on
                              the page: sizes x fits with available = size and fit available
    price                     {"current": "44.00" | None, "regular": "89.95" | None, "currency": "USD" | "CAD" |
                              None, "percent_off": int | None}  (percent_off None when not marked down)
    price_type                "R" | "P" | "M" | None  (from embedded state or the listing)
    discounts                 [{"text", "percent": int | float | None, "applies": "checkout" | "app" |
                              "limited_time" | None, "excluded": bool}]  one per promotional message
    excluded_from_promotions  bool
    available                 bool   something can be bought
    details                   {panel title: [bullet, ...]}  e.g. {"Fabric & care": ["100% cotton.", ...]}
    description               str | None
    images                    [url, ...]  as written on the page, de-duplicated
    sources                   names of the sources found: "jsonld", "flight", "next_data", "legacy_state",
                              "json_script", "markup"
    warnings                  [str]  what could not be read and why, disagreements, values taken from the listing
    blocked                   bool   a bot-protection page (Akamai "Access Denied" ...)
    failed                    bool   not a usable product page (blocked, empty, unreadable, no product found):
                              count it as a failed page
"""

from __future__ import annotations

import re
import zlib

from . import block, embedded, jsonld, markup, state
from .document import parse_html
from .facts import new_facts
from .merge import (
    SCHEMA_VERSION, Merger, apply_listing, clean_listing, combine_discounts, empty_result, finish_price,
    complete_variants, cross_variants, listing_available, merge_colors, merge_details, merge_images, merge_variants,
)
from .textio import decode_page, sanitize
from .values import id_text

__all__ = ["SCHEMA_VERSION", "parse_product_page", "empty_result", "failed_result", "RESULT_KEYS"]

RESULT_KEYS = tuple(empty_result())


def parse_product_page(html: str | bytes, *, cc_id: str | None = None, listing: dict | None = None) -> dict:
    """parsed_data for one product page (see the module docstring); never raises."""
    try:
        return _parse(html, cc_id, listing)
    except Exception as exc:  # noqa: BLE001 - the contract is "never raises"
        result = empty_result()
        result["cc_id"] = id_text(cc_id) if not isinstance(cc_id, (dict, list)) else None
        result["color"]["cc_id"] = result["cc_id"]
        result["warnings"].append(f"internal error while parsing: {type(exc).__name__}: {str(exc)[:200]}")
        result["failed"] = True
        return result


def failed_result(reason: str, *, cc_id: str | None = None, listing: dict | None = None) -> dict:
    """parsed_data for a page that could not be parsed at all (unreadable file...): failed, with `reason`."""
    result = empty_result()
    result["failed"] = True
    result["warnings"].append(reason)
    try:
        cc = id_text(cc_id) if isinstance(cc_id, (str, int)) and not isinstance(cc_id, bool) else None
        _identity_only(result, cc, clean_listing(listing, result["warnings"]), result["warnings"])
    except Exception:  # noqa: BLE001
        pass
    return result


def _text_of(html, warnings: list[str]) -> str:
    if isinstance(html, (bytes, bytearray, memoryview)):
        data = bytes(html)
        if data[:2] == b"\x1f\x8b":  # saved still gzip-compressed (Content-Encoding not undone)
            try:
                data = zlib.decompressobj(16 + zlib.MAX_WBITS).decompress(data, 50_000_000)
                warnings.append("input: the page was gzip-compressed; decompressed")
            except zlib.error as exc:
                warnings.append(f"input: gzip-compressed page could not be decompressed ({exc})")
        text, decode_warnings = decode_page(data)
        warnings.extend(decode_warnings)
        return text
    if isinstance(html, str):
        return html
    if html is not None:
        warnings.append(f"input: expected str or bytes, got {type(html).__name__}")
    return ""


def _run(name: str, func, warnings: list[str], *args, **kwargs):
    """Run one source extractor; a crash in one source costs that source only."""
    try:
        facts, source_warnings = func(*args, **kwargs)
        warnings.extend(source_warnings)
        return facts
    except Exception as exc:  # noqa: BLE001
        warnings.append(f"{name}: could not be read ({type(exc).__name__}: {str(exc)[:160]})")
        return new_facts()


def _embedded(doc, cc_id, warnings):
    """(source name, facts) of the first embedded-state generation that holds a product."""
    found = []
    for name, reader in (("flight", embedded.read_flight), ("legacy_state", embedded.read_legacy),
                         ("json_script", embedded.read_json_scripts)):
        try:
            read = reader(doc)
        except Exception as exc:  # noqa: BLE001
            warnings.append(f"{name}: could not be read ({type(exc).__name__}: {str(exc)[:160]})")
            continue
        if name == "flight":
            trees, rows, source_warnings = read
        else:
            (trees, source_warnings), rows = read, None
        warnings.extend(source_warnings)
        if not trees:
            continue
        cut_off = embedded.says_cut_off(source_warnings)
        if name == "json_script" and any(isinstance(t, dict) and "props" in t and (
                "page" in t or "buildId" in t or isinstance(t["props"], dict) and "pageProps" in t["props"])
                for t in trees):  # Next.js: {"props": {"pageProps": ...}, "page": ..., "buildId": ...}
            name = "next_data"
        try:
            facts = state.interpret(state.Trees(trees, rows), cc_id=cc_id)
        except Exception as exc:  # noqa: BLE001
            warnings.append(f"{name}: could not be interpreted ({type(exc).__name__}: {str(exc)[:160]})")
            continue
        facts["cut_off"] = cut_off
        found.append((name, facts))
        if facts.get("found"):
            return name, facts
    for name, facts in found:
        if facts.get("messages") or facts.get("details"):
            return name, facts
    return None, new_facts()


def _drop_cut_text(text: str, warnings: list[str]) -> str:
    """A truncated page's last text, cut mid-word or mid-number ("$59" of "$59.99", "Pet" of "Petite"), is not
    what the page says: it is dropped, with a warning. A cut inside a script (embedded state) is left to the state
    readers, which recover what was whole."""
    end = text.rstrip()
    cut_at = end.rfind(">") + 1
    rest = end[cut_at:]
    if not rest.strip():
        return text
    lower = end.lower()
    for raw in ("script", "style", "textarea"):
        if lower.rfind("<" + raw) > lower.rfind("</" + raw):
            return text
    if "<" not in rest:
        warnings.append(f"page: the text where the page stops ({rest.strip()[-40:]!r}) is cut off; not read")
    return text[:cut_at]


def _regular_price_sources(sources, current):
    """The sources that may give the regular price of the kept `current` one. A source without markdown (its
    regular price is its current one) whose current price lost says nothing about it: "20.00" (JSON-LD) with a
    state's "18.00"/"18.00" is no markdown, not a current price above a regular 18.00."""
    def outvoted_without_markdown(facts) -> bool:
        own_current, own_regular = facts.get("current"), facts.get("regular")
        return (current is not None and own_current is not None and own_regular is not None
                and str(own_regular) == str(own_current) and str(own_current) != str(current))
    return [(name, facts) for name, facts in sources if not outvoted_without_markdown(facts)]


def _parse(html, cc_id, listing) -> dict:
    result = empty_result()
    warnings = result["warnings"]
    cc_id = id_text(cc_id) if isinstance(cc_id, (str, int)) and not isinstance(cc_id, bool) else None
    listing = clean_listing(listing, warnings)
    text = sanitize(_text_of(html, warnings))
    truncated = bool(text and text.strip()) and not re.search(r"</(?:html|body)", text[-4096:], re.I)
    if truncated:
        warnings.append("page: no closing </html> tag, the page looks truncated; read what was there")
        text = _drop_cut_text(text, warnings)
    doc = parse_html(text)

    if doc is None:
        warnings.append("page: empty or not HTML; nothing to read")
        result["failed"] = True
        _identity_only(result, cc_id, listing, warnings)
        return result

    blocked = block.detect(doc, text)
    markup_facts = _run("markup", markup.extract, warnings, doc, text)
    cc_hint = cc_id or listing.get("cc_id") or markup_facts.get("cc_id")
    state_name, state_facts = _embedded(doc, cc_hint, warnings)
    known = {kind: {o["label"].casefold() for f in (markup_facts, state_facts) for o in f[kind]}
             for kind in ("sizes", "fits", "lengths")}
    jsonld_facts = _run("jsonld", jsonld.extract, warnings, doc, cc_id=cc_hint or state_facts.get("cc_id"),
                        known=known, color_hint=state_facts.get("color_name") or markup_facts.get("color_name"))

    product_like = bool(jsonld_facts.get("found") or state_facts.get("found")
                        or markup_facts.get("product_page"))
    if blocked and not product_like:
        result["blocked"] = True
        result["failed"] = True
        warnings.append(f"blocked: a bot-protection page ({blocked}), not a product page")
        _identity_only(result, cc_id, listing, warnings)
        return result

    sources = [("jsonld", jsonld_facts), (state_name or "state", state_facts), ("markup", markup_facts)]
    result["sources"] = [name for name, facts in sources if facts.get("found")]
    # A truncated page ending inside its embedded state: the lists read there may stop short (colours, sizes,
    # detail bullets), while the markup before the cut is whole. The cut-off state ranks after the markup.
    state_after_markup = bool(state_facts.get("cut_off") and markup_facts.get("found"))
    if state_after_markup:
        sources = [sources[0], sources[2], sources[1]]
        warnings.append(f"{state_name}: cut off by the truncation; the markup is trusted before it")
    merger = Merger(sources, warnings)

    result["title"] = merger.scalar("title", "title")
    if result["title"] is None and markup_facts.get("fallback_title") and product_like:
        result["title"] = markup_facts["fallback_title"]
        warnings.append("title: no product title element; taken from the page <title>")
    result["cc_id"] = merger.scalar("cc_id", "cc_id", key=str)
    result["style_id"] = merger.scalar("style_id", "style_id", key=str)
    result["url"] = next((f["url"] for _, f in reversed(sources) if f.get("url")), None)
    result["description"] = merger.scalar("description", "description", key=lambda v: 0)
    color_name = merger.scalar("color_name", "color")

    current = merger.scalar("current", "price", key=lambda v: str(v))
    regular = Merger(_regular_price_sources(sources, current), warnings).scalar(
        "regular", "regular price", key=lambda v: str(v))
    currency = merger.scalar("currency", "currency", key=str)
    page_markdown = bool(markup_facts.get("markdown") or (regular and current and regular != current)
                         or state_facts.get("price_type") in ("P", "M"))
    result["price"].update(current=current, regular=regular, currency=currency)
    result["price_type"] = state_facts.get("price_type")
    page_percent = state_facts.get("percent_off") if state_facts.get("percent_off") is not None else \
        markup_facts.get("percent_off")

    def jsonld_ok(name, facts):
        return name != "jsonld" or facts.get("variants_complete")

    sizes, _ = merger.options("sizes", "sizes", jsonld_ok)
    fits, _ = merger.options("fits", "fits", jsonld_ok)
    lengths, _ = merger.options("lengths", "lengths", jsonld_ok)
    variants, variant_source = merge_variants(sources, sizes, fits, lengths, warnings)
    _resolve_option_stock(sizes, fits, lengths, variants, warnings)
    if not variants:
        variants = cross_variants(sizes, fits, lengths)
    else:
        variants = complete_variants(variants, sizes, fits, lengths, warnings,
                                     cut_off=bool(state_facts.get("cut_off")) and variant_source == state_name)
    if not fits and not lengths and any(v.get("fit") for v in variants):
        fits = _options_from(variants, "fit")
    if not lengths and any(v.get("length") for v in variants):
        lengths = _options_from(variants, "length")
    if not sizes and variants:
        sizes = _options_from(variants, "size")
    result["sizes"], result["fits"], result["lengths"] = sizes, fits, lengths
    result["dimensions"] = (["size"] if sizes else []) + (["fit"] if fits else []) + (["length"] if lengths else [])
    result["variants"] = [_variant_out(v, bool(lengths)) for v in variants]

    result["colors"] = merge_colors(sources, warnings)
    detail_sources = [(state_name or "state", state_facts), ("jsonld", jsonld_facts), ("markup", markup_facts)]
    if state_after_markup:
        detail_sources = detail_sources[1:] + detail_sources[:1]
    result["details"] = merge_details(detail_sources, warnings)
    images = merge_images(jsonld_facts["images"], markup_facts["images"])
    result["images"] = images or merge_images(state_facts["images"])

    # Listing facts fill the gaps, then prices are completed and discounts combined.
    apply_listing(result, listing, cc_id, warnings, page_markdown)
    result["color"] = {"name": color_name, "cc_id": result["cc_id"]}
    if color_name is None and listing.get("cc_name"):
        result["color"]["name"] = listing["cc_name"]
        warnings.append("color: name not on the page; taken from the listing")
    if result["color"]["name"] is None and result["cc_id"]:
        match = next((c for c in result["colors"] if c["cc_id"] == result["cc_id"]), None)
        if match:
            result["color"]["name"] = match["name"]
    finish_price(result, page_percent, listing, page_markdown, warnings)
    page_messages = state_facts["messages"] + [m for m in markup_facts["messages"]]
    combine_discounts(result, page_messages, state_facts.get("excluded"), listing)

    result["available"] = _available(result, sources, markup_facts, listing)
    if not result["sources"] or not (result["title"] or current or sizes):
        result["failed"] = True
        warnings.append("page: no product data found on the page")
    if result["price"]["current"] is None and not result["failed"]:
        warnings.append("price: no price on the page")
    elif result["price"]["currency"] is None and not result["failed"]:
        warnings.append("price: the page does not say which currency")
    if not sizes and not result["failed"]:
        warnings.append("sizes: no size selector on the page")
    return result


def _identity_only(result: dict, cc_id, listing: dict, warnings: list[str]) -> None:
    """A page without product data keeps only who it was for (the caller's ccId, the listing's ids)."""
    if cc_id or listing.get("cc_id"):
        result["cc_id"] = cc_id or listing.get("cc_id")
        warnings.append("cc_id: not on the page; taken from " + ("the caller's cc_id" if cc_id else "the listing"))
    if listing.get("style_id"):
        result["style_id"] = listing["style_id"]
        warnings.append("style_id: not on the page; taken from the listing")
    result["color"]["cc_id"] = result["cc_id"]


def _options_from(variants, dim) -> list[dict]:
    out: list[dict] = []
    for variant in variants:
        label = variant.get(dim)
        if not label:
            continue
        existing = next((o for o in out if o["label"].casefold() == label.casefold()), None)
        if existing is None:
            out.append({"label": label, "available": bool(variant["available"])})
        elif variant["available"]:
            existing["available"] = True
    return out


def _resolve_option_stock(sizes, fits, lengths, variants, warnings) -> None:
    unknown = 0
    for options, dim in ((sizes, "size"), (fits, "fit"), (lengths, "length")):
        for option in options:
            if option["available"] is not None:
                continue
            states = [v["available"] for v in variants
                      if (v.get(dim) or "").casefold() == option["label"].casefold() and v["available"] is not None]
            if states:
                option["available"] = any(states)
            else:
                option["available"] = True
                unknown += 1
    for variant in variants:
        if variant.get("available") is None:
            size = next((o for o in sizes if o["label"].casefold() == (variant.get("size") or "").casefold()), None)
            variant["available"] = bool(size["available"]) if size else True
    if unknown:
        warnings.append(f"stock: the page does not say whether {unknown} option(s) are in stock; assumed in stock")


def _variant_out(variant: dict, with_length: bool) -> dict:
    out = {"size": variant.get("size"), "fit": variant.get("fit"), "available": bool(variant.get("available")),
           "sku": variant.get("sku"), "price": variant.get("price")}
    if with_length:
        out["length"] = variant.get("length")
    return out


def _available(result, sources, markup_facts, listing) -> bool:
    if result["variants"]:
        return any(v["available"] for v in result["variants"])
    if result["sizes"]:
        return any(s["available"] for s in result["sizes"]) and (
            not result["fits"] or any(f["available"] for f in result["fits"]))
    for _name, facts in sources:
        if facts.get("available") is not None:
            return bool(facts["available"])
    if markup_facts.get("buy_button") is not None:
        return bool(markup_facts["buy_button"])
    state = listing_available(listing)
    if state is not None:
        return state
    return bool(result["price"]["current"]) and not result["failed"]
