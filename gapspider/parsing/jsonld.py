"""Source 1 (most trusted): schema.org JSON-LD (`Product`, `ProductGroup`, offers)."""

from __future__ import annotations

import re

from . import textio
from .document import script_text, xpath
from .facts import add_option, add_unique, new_facts
from .values import (
    amount, availability, clean, currency_code, id_text, is_fit_label, is_length_label, is_size_label,
    looks_like_cc_id,
    looks_like_style_id, pid_of, plain_text, query_param, unescape,
)

# "<!-- ... -->", "<![CDATA[ ... ]]>", also behind JS comments ("//<![CDATA[ ... //]]>", "/*<![CDATA[*/ ... /*]]>*/")
_COMMENT_WRAP = re.compile(r"^\s*(?://\s*|/\*\s*)?(?:<!--|<!\[CDATA\[)(?:\s*\*/)?"
                           r"|(?://\s*|/\*\s*)?(?:-->|\]\]>)(?:\s*\*/)?\s*$")
_SEGMENT_SPLIT = re.compile(r"\s+[-–—|/]\s+|\s*[,/|]\s*|\s+-\s*")
_SIZE_PREFIX = re.compile(r"^(?:size|sz)\s*[:#]?\s*", re.I)
# Shoe and hat sizes with a fraction ("7 1/2", "6 7/8") and paired sizes of socks, hats and gloves ("S/M",
# "L/XL") are one label: their slash is not a separator.
_FRACTION = re.compile(r"(?<=\d\s)(\d)/(\d{1,2})\b")
_PAIRED = re.compile(r"(?<![A-Za-z0-9])(X{0,3}[SML]|\dX)/(X{0,3}[SML]|\dX)(?![A-Za-z0-9])", re.I)
_FRACTION_SLASH = "\ue000"  # a private-use character stands in for "/" while the name is split


def _types(node: dict) -> set[str]:
    value = node.get("@type")
    values = value if isinstance(value, list) else [value]
    return {str(v).rsplit("/", 1)[-1].rsplit(":", 1)[-1] for v in values if v}


def _walk(value, limit: int = 5000):
    """Every dict in a JSON-LD value, document order."""
    stack, seen = [value], 0
    while stack and seen < limit:
        node = stack.pop()
        if isinstance(node, dict):
            seen += 1
            yield node
            stack.extend(reversed(list(node.values())))
        elif isinstance(node, list):
            stack.extend(reversed(node))


def read_blocks(doc) -> tuple[list, list[str]]:
    """The decoded JSON-LD blocks of the page, with warnings for unreadable ones."""
    blocks, warnings = [], []
    nodes = xpath(doc, '//script[contains(translate(@type, "LDJSON", "ldjson"), "ld+json")]')
    for index, node in enumerate(nodes, start=1):
        text = _COMMENT_WRAP.sub("", script_text(node)).strip()
        if not text:
            warnings.append(f"jsonld: block {index} is empty")
            continue
        value, problem = textio.loads_lenient(text)
        if value is None:
            warnings.append(f"jsonld: block {index} is not valid JSON ({problem}); ignored")
            continue
        if problem:
            warnings.append(f"jsonld: block {index}: {problem}")
        blocks.append(value)
    return blocks, warnings


_PRODUCT_TYPES = {"Product", "ProductGroup", "IndividualProduct", "ProductModel"}
# Products under these keys are other products (recommendations, accessories) or the variants of a group.
_ASIDE_KEYS = {"itemlistelement", "item", "isrelatedto", "issimilarto", "isaccessoryorsparepartfor",
               "isconsumablefor", "hasvariant", "isvariantof"}


def _products(blocks) -> list[tuple[dict, bool]]:
    """(product node, aside) for every product in the blocks, document order; aside = nested under a
    recommendation list, a related product or a group's variants."""
    found: list[tuple[dict, bool]] = []
    stack = [(block, False) for block in reversed(blocks)]
    seen = 0
    while stack and seen < 5000:
        node, aside = stack.pop()
        if isinstance(node, list):
            stack.extend((item, aside) for item in reversed(node))
            continue
        if not isinstance(node, dict):
            continue
        seen += 1
        is_product = bool(_types(node) & _PRODUCT_TYPES)
        if is_product:
            found.append((node, aside))
        for key, value in reversed(list(node.items())):
            if isinstance(value, (dict, list)):
                stack.append((value, aside or str(key).lower() in _ASIDE_KEYS))
    return found


def _pick_product(blocks, cc_id: str | None):
    found = _products(blocks)
    if not found:
        return None, []
    products = [p for p, _aside in found]
    groups = [p for p in products if "ProductGroup" in _types(p)]
    if cc_id:
        for product, aside in sorted(found, key=lambda item: item[1]):
            url = product.get("url") if isinstance(product.get("url"), str) else None
            if cc_id in (id_text(product.get("productID")), id_text(product.get("sku")), pid_of(url)):
                if aside and any("ProductGroup" in _types(g) for g in groups):
                    break  # a variant of the group: the group is read, with this colour picked out
                return product, groups
    # The page's product is a top-level one (not a recommendation): a ProductGroup first, else the first product.
    main = [p for p, aside in found if not aside] or products
    main_groups = [p for p in main if "ProductGroup" in _types(p)]
    return (main_groups[0] if main_groups else main[0]), groups


def _as_list(value) -> list:
    if value is None:
        return []
    return value if isinstance(value, list) else [value]


def _image_urls(value) -> list[str]:
    urls: list[str] = []
    for item in _as_list(value):
        if isinstance(item, str):
            add_unique(urls, clean(item))
        elif isinstance(item, dict):
            add_unique(urls, clean(item.get("url") or item.get("contentUrl") or item.get("@id")))
    return urls


_INHERITED = ("priceCurrency", "priceSpecification", "seller", "itemCondition")


def _offers(product: dict) -> list[dict]:
    offers = []
    for offer in _as_list(product.get("offers")):
        if not isinstance(offer, dict):
            continue
        inner = offer.get("offers")
        if inner is not None and "AggregateOffer" in _types(offer):
            for item in _as_list(inner):
                if isinstance(item, dict):
                    # inner offers inherit what the aggregate states once (priceCurrency, availability...)
                    offers.append({**{k: v for k, v in offer.items() if k in _INHERITED}, **item})
            if not offers and (offer.get("lowPrice") is not None or offer.get("price") is not None):
                offers.append(offer)
        else:
            offers.append(offer)
    return offers


def _offer_price(offer: dict) -> tuple[str | None, str | None]:
    """(current, regular) of an offer, reading priceSpecification when present."""
    current = amount(offer.get("price"))
    if current is None:
        current = amount(offer.get("lowPrice"))
    regular = None
    for spec in _as_list(offer.get("priceSpecification")):
        if not isinstance(spec, dict):
            continue
        kind = str(spec.get("priceType") or "").rsplit("/", 1)[-1].lower()
        value = amount(spec.get("price"))
        if kind in ("strikethroughprice", "listprice", "msrp", "regularprice"):
            regular = regular or value
        elif kind in ("saleprice", "") and current is None:
            current = value
    return current, regular


def _named(node: dict, *keys):
    """The first text value under one of `keys` (lowercase; matched case-insensitively), also in
    schema.org additionalProperty name/value pairs."""
    if any(k != k.lower() for k in node if isinstance(k, str)):
        node = {k.lower() if isinstance(k, str) else k: v for k, v in node.items()}
    for key in keys:
        if key in node:
            value = node[key]
            if isinstance(value, dict):
                value = value.get("name") or value.get("value")
            text = unescape(value)
            if text:
                return text
    for prop in _as_list(node.get("additionalproperty")):
        if isinstance(prop, dict) and str(prop.get("name", "")).lower() in keys:
            text = unescape(prop.get("value"))
            if text:
                return text
    return None


def _split_name(name: str | None, title: str | None, known: dict[str, set[str]] | None = None) -> list[str]:
    """The parts of an offer name that can be option labels: "Relaxed Tee - M / Tall" -> ["M", "Tall"]."""
    if not name:
        return []
    text = name
    if title and text.casefold().startswith(title.casefold()):
        text = text[len(title):]
    text = _FRACTION.sub(r"\1" + _FRACTION_SLASH + r"\2", text)
    text = _PAIRED.sub(r"\1" + _FRACTION_SLASH + r"\2", text)
    for label in sorted({k for kind in (known or {}).values() for k in kind if "/" in k}, key=len, reverse=True):
        # labels the page shows that hold a slash ("0/2", "XS/S") stay whole
        text = re.sub(re.escape(label), lambda m: m.group(0).replace("/", _FRACTION_SLASH), text, flags=re.I)
    parts = [clean(p.replace(_FRACTION_SLASH, "/")) for p in _SEGMENT_SPLIT.split(text)]
    parts = [_SIZE_PREFIX.sub("", p) for p in parts if p]
    return [p for p in parts if p and len(p) <= 24]


_COMBINED = re.compile(r"^(.+?)\s*(?:\bx\b|×|/)\s*(.+)$", re.I)


def _split_combined(label: str | None, known: dict[str, set[str]]) -> tuple[str, str, str] | None:
    """A combined label such as "30W x 30L" where the other sources show the two choices apart ("30W" and
    "30L"): (size, second label, "fit" | "length")."""
    if not label or label.casefold() in known["sizes"]:
        return None
    match = _COMBINED.match(label)
    if not match:
        return None
    first, second = clean(match.group(1)), clean(match.group(2))
    if not first or not second or first.casefold() not in known["sizes"]:
        return None
    for kind in ("lengths", "fits"):
        if second.casefold() in known[kind]:
            return first, second, kind[:-1]
    return None


def _offer_options(offer: dict, title: str | None, known: dict[str, set[str]]) -> dict:
    """size / fit / length of an offer from explicit fields, its URL, or its name."""
    options = _offer_options_raw(offer, title, known)
    combined = _split_combined(options["size"], known)
    if combined and options["fit"] is None and options["length"] is None:
        options["size"], options[combined[2]] = combined[0], combined[1]
    return options


def _offer_options_raw(offer: dict, title: str | None, known: dict[str, set[str]]) -> dict:
    item = offer.get("itemOffered") if isinstance(offer.get("itemOffered"), dict) else {}
    size = _named(offer, "size", "sizedimension1", "dimension1") or _named(item, "size", "sizedimension1")
    fit = _named(offer, "fit", "sizedimension2", "dimension2", "variant") or _named(item, "fit", "sizedimension2")
    length = _named(offer, "length", "inseam") or _named(item, "length", "inseam")
    url = offer.get("url") if isinstance(offer.get("url"), str) else None
    if url:
        size = size or query_param(url, "size", "sizeDimension1", "dimension1")
        fit = fit or query_param(url, "fit", "sizeDimension2", "dimension2", "variant")
        length = length or query_param(url, "length", "inseam")
    if size is None:
        parts = _split_name(_named(offer, "name") or _named(item, "name"), title, known)
        leftovers = []
        split_parts = []
        for part in parts:
            combined = _split_combined(part, known)
            split_parts.extend(combined[:2] if combined else [part])
        for part in split_parts:
            key = part.casefold()
            if key in known["sizes"] and size is None:
                size = part
            elif key in known["fits"] and fit is None:
                fit = part
            elif key in known["lengths"] and length is None:
                length = part
            else:
                leftovers.append(part)
        if size is None and leftovers:
            # Labels the other sources do not show (or no other source): a part that looks like a size is the
            # size, a second number a length, a fit word a fit.
            fits = [p for p in leftovers if is_fit_label(p)]
            rest = [p for p in leftovers if not is_fit_label(p)]
            plausible = [p for p in rest if is_size_label(p)]
            if not plausible and not known["sizes"]:
                plausible = [p for p in rest if len(p) <= 12 and len(p.split()) <= 2]
            if plausible:
                if len(plausible) >= 2 and is_length_label(plausible[-1]) and is_length_label(plausible[-2]):
                    size, length = plausible[-2], length or plausible[-1]
                else:
                    size = plausible[-1]
            if fits and fit is None:
                fit = fits[0]
        if fit is None:
            # the size is known from another source, the fit is not (that source shows no fit selector)
            fit = next((p for p in leftovers if is_fit_label(p)), None)
    if fit and not is_fit_label(fit) and length is None and fit.casefold() not in known["fits"]:
        fit, length = None, fit
    return {"size": size, "fit": fit, "length": length}


def extract(doc, *, cc_id: str | None = None, known: dict[str, set[str]] | None = None,
            color_hint: str | None = None) -> tuple[dict, list[str]]:
    """Facts from the page's JSON-LD. `known` holds option labels seen in other sources, to decode offer names;
    `cc_id` / `color_hint` (the page's ccId and colour as other sources show them) pick the page's colour out of a
    ProductGroup."""
    facts = new_facts()
    blocks, warnings = read_blocks(doc)
    if not blocks:
        return facts, warnings
    product, _groups = _pick_product(blocks, cc_id)
    if product is None:
        return facts, warnings
    facts["found"] = True
    known = known or {"sizes": set(), "fits": set(), "lengths": set()}
    title = unescape(product.get("name"))
    facts["title"] = title
    facts["description"] = plain_text(product.get("description"))
    url = product.get("url") if isinstance(product.get("url"), str) else None
    facts["url"] = clean(url)

    # Identifiers: productID / sku are the ccId on Gap pages; a 6-digit one is a styleId.
    for key in ("productID", "sku", "mpn"):
        value = id_text(product.get(key))
        if not value:
            continue
        if looks_like_cc_id(value) or value == cc_id:
            facts["cc_id"] = facts["cc_id"] or value
        elif looks_like_style_id(value):
            facts["style_id"] = facts["style_id"] or value
    group = product.get("isVariantOf") if isinstance(product.get("isVariantOf"), dict) else {}
    for value in (product.get("productGroupID"), product.get("inProductGroupWithID"), group.get("productGroupID")):
        if id_text(value) and not facts["style_id"]:
            facts["style_id"] = id_text(value)
    facts["cc_id"] = facts["cc_id"] or pid_of(url)

    color = product.get("color")
    facts["color_name"] = unescape(color.get("name") if isinstance(color, dict) else color)
    if "ProductGroup" in _types(product) and not facts["color_name"]:
        facts["color_name"] = color_hint
    facts["images"] = _image_urls(product.get("image"))

    offers = _offers(product)
    variants_src: list[tuple[dict, dict]] = []  # (offer, options)
    if "ProductGroup" in _types(product) or product.get("hasVariant"):
        facts["style_id"] = facts["style_id"] or id_text(product.get("productGroupID"))
        _read_group_variants(product, facts, cc_id, known, variants_src, warnings)
        if "ProductGroup" in _types(product) and facts["cc_id"] and facts["colors"] and not any(
                c["cc_id"] == facts["cc_id"] for c in facts["colors"]):
            facts["cc_id"] = None  # a group id that looked like a ccId
    offers = _offers_of_colour(offers, facts["cc_id"] or cc_id, facts["color_name"] or color_hint)
    for offer in offers:
        variants_src.append((offer, _offer_options(offer, title, known)))

    currencies = set()
    prices, regulars = [], []
    complete = bool(variants_src)
    for offer, options in variants_src:
        current, regular = _offer_price(offer)
        code = currency_code(offer.get("priceCurrency")) or next(
            (currency_code(spec.get("priceCurrency")) for spec in _as_list(offer.get("priceSpecification"))
             if isinstance(spec, dict) and currency_code(spec.get("priceCurrency"))), None)
        if code:
            currencies.add(code)
        if current:
            prices.append(current)
        if regular:
            regulars.append(regular)
        available = availability(offer.get("availability"))
        if options["size"] is None:
            complete = False
        facts["variants"].append({
            "size": options["size"], "fit": options["fit"], "length": options["length"], "available": available,
            "sku": id_text(offer.get("sku")), "price": current,
        })
    facts["variants_complete"] = complete
    if complete:
        for variant in facts["variants"]:
            add_option(facts["sizes"], variant["size"], None)
            if variant["fit"]:
                add_option(facts["fits"], variant["fit"], None)
            if variant["length"]:
                add_option(facts["lengths"], variant["length"], None)
        # With one dimension an offer is a size, so its stock is the size's stock. With two, option stock is only
        # implied (a sold-out colour still shows its fits in stock): it stays unknown and must not outvote a page
        # that states it; the merge derives it from the variants if nothing states it.
        if not facts["fits"] and not facts["lengths"]:
            _stock_from_variants(facts["sizes"], facts["variants"], "size")
    if prices:
        facts["current"] = min(prices, key=lambda p: float(p))
        if len(set(prices)) > 1:
            warnings.append(f"jsonld: offers have several prices ({', '.join(sorted(set(prices), key=float))}); "
                            f"the lowest is the current price")
    if regulars:
        facts["regular"] = max(regulars, key=lambda p: float(p))
    if len(currencies) == 1:
        facts["currency"] = currencies.pop()
    elif currencies:
        warnings.append(f"jsonld: offers in several currencies {sorted(currencies)}")
    states = [v["available"] for v in facts["variants"] if v["available"] is not None]
    if states:
        facts["available"] = any(states)
    return facts, warnings


def _offer_colour(offer: dict) -> tuple[str | None, str | None]:
    """(colour name, ccId) an offer says it is for, if it says."""
    item = offer.get("itemOffered") if isinstance(offer.get("itemOffered"), dict) else {}
    name = _named(offer, "color", "colour") or _named(item, "color", "colour")
    url_pid = pid_of(offer.get("url"))
    cc = url_pid if url_pid and looks_like_cc_id(url_pid) and len(url_pid) <= 10 else None
    return name, cc


def _offers_of_colour(offers: list[dict], cc_id: str | None, colour: str | None) -> list[dict]:
    """Product-level offers sometimes cover every colour of the style: keep the page colour's offers when the
    offers say which colour they are (colour, URL pid, or a SKU starting with the ccId)."""
    if len(offers) < 2:
        return offers
    tagged = [(offer, *_offer_colour(offer)) for offer in offers]
    if cc_id and any(cc and cc != cc_id for _o, _n, cc in tagged):
        mine = [t for t in tagged if t[2] == cc_id]
        tagged = mine or tagged
    if colour and any(name and name.casefold() != colour.casefold() for _o, name, _cc in tagged):
        mine = [t for t in tagged if t[1] and t[1].casefold() == colour.casefold()]
        tagged = mine or tagged
    offers = [t[0] for t in tagged]
    if cc_id:
        skus = [(o, id_text(o.get("sku")) or "") for o in offers]
        mine = [o for o, sku in skus if sku.startswith(cc_id) and len(sku) > len(cc_id)]
        if mine and len(mine) < len(offers) and all(len(sku) > len(cc_id) for _o, sku in skus):
            return mine
    return offers


def _stock_from_variants(options: list[dict], variants: list[dict], dim: str) -> None:
    for option in options:
        states = [v["available"] for v in variants
                  if (v[dim] or "").casefold() == option["label"].casefold() and v["available"] is not None]
        option["available"] = any(states) if states else None


_VARIANT_FIELDS = ("name", "sku", "url", "size", "additionalProperty", "color", "priceCurrency")


def _read_group_variants(group: dict, facts: dict, cc_id, known, variants_src, warnings) -> None:
    """A ProductGroup: colours from its variants, and the offers of the page's colour."""
    selected_color = facts["color_name"]
    for variant in _as_list(group.get("hasVariant")):
        if not isinstance(variant, dict):
            continue
        color = unescape(variant.get("color"))
        url_pid = pid_of(variant.get("url"))
        variant_cc = (url_pid if looks_like_cc_id(url_pid) else None) or next(
            (id_text(variant.get(k)) for k in ("productID", "sku") if looks_like_cc_id(variant.get(k))), None)
        offers = _offers(variant)
        states = [availability(o.get("availability")) for o in offers]
        states = [s for s in states if s is not None]
        if color:
            existing = next((c for c in facts["colors"] if c["name"] == color and c["cc_id"] == variant_cc), None)
            if existing is None:
                facts["colors"].append({"name": color, "cc_id": variant_cc, "available": any(states) if states else None})
            elif states:
                existing["available"] = bool(existing["available"]) or any(states)
        mine = (cc_id and variant_cc == cc_id) or (not (cc_id and variant_cc) and selected_color and color
                                                      and color.casefold() == selected_color.casefold()) or not color
        if not mine:
            continue
        if color:
            facts["color_name"] = selected_color = color
        if variant_cc:
            facts["cc_id"] = variant_cc
        options = {
            "size": _named(variant, "size", "sizedimension1"),
            "fit": _named(variant, "fit", "sizedimension2"),
            "length": _named(variant, "length", "inseam"),
        }
        for offer in offers:
            # the variant's own fields (name "Jeans - Black - 26 / Petite", sku, url...) complete its offers
            merged = {**{k: v for k, v in variant.items() if k in _VARIANT_FIELDS}, **offer}
            merged.setdefault("sku", variant.get("sku"))
            opts = options if options["size"] else _offer_options(merged, facts["title"], known)
            variants_src.append((merged, opts))
    # Colours that differ only by duplicates collapse: keep the list as read.
