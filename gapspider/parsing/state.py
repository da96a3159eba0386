"""Interpret embedded-state JSON trees (flight, __NEXT_DATA__, __PRODUCT_PAGE_STATE__) as product facts.

The trees have no published schema and their key names changed between generations (`pid` / `ccId` /
`businessCatalogItemId`, `inStock` / `available` / `inventoryStatus`, `sizes` / `skus` / `sizeDimension1`...), so
the reader is driven by alias tables instead of fixed paths:

1. the product node is the dict that looks most like a product (ids, a name, sizes, colours, prices, details);
2. the selected colour is the product's `selectedColor`-like dict, or the colour whose id is the page's ccId;
3. each fact is looked up by alias, nearest first (selected colour, product, then the whole tree for facts that
   Next.js streams in separate rows, such as detail panels and marketing messages).
"""

from __future__ import annotations

import re

from .facts import add_option, add_unique, new_facts
from .values import (
    all_fit_labels, amount, availability, clean, currency_code, id_text, is_fit_label, is_length_label,
    decents, looks_like_cc_id, percent_number, plain_lines, plain_text, unescape,
)

MAX_NODES = 200_000

TITLE_KEYS = ("productname", "name", "title", "stylename", "producttitle", "displayname")
STYLE_KEYS = ("styleid", "style_id", "productstyleid", "stylenumber", "productgroupid", "parentproductid")
CC_KEYS = ("ccid", "cc_id", "selectedccid", "currentccid", "businesscatalogitemid", "customerchoiceid", "pid",
           "selectedcustomerchoiceid", "selectedbusinesscatalogitemid", "currentcustomerchoiceid",
           "selectedpid")
SELECTED_COLOR_KEYS = ("selectedcolor", "selectedcolour", "selectedcc", "currentcolor", "selectedstylecolor",
                       "selectedcustomerchoice", "activecolor", "selectedswatch", "customerchoice", "color", "colour")
COLOR_NAME_KEYS = ("colorname", "ccname", "colourname", "selectedcolorname", "name", "label", "colordescription",
                   "color", "colour")
COLOR_ID_KEYS = ("ccid", "cc_id", "businesscatalogitemid", "customerchoiceid", "pid", "colorid", "id")
COLORS_KEYS = ("colors", "colours", "stylecolors", "swatches", "colorswatches", "productstylecolors",
               "customerchoices", "ccs", "coloroptions", "cclist", "colorvariants")
SIZES_KEYS = ("sizes", "sizeoptions", "dimension1", "sizedimension1", "availablesizes", "sizelist")
FITS_KEYS = ("fits", "fitoptions", "dimension2", "sizedimension2", "fitvariants", "lengths", "lengthoptions",
             "inseams", "inseamoptions")
SKU_LIST_KEYS = ("variants", "skus", "skulist", "productskus", "items", "sizeskus", "variantlist")
OPTION_LABEL_KEYS = ("label", "name", "size", "sizename", "sizelabel", "displayname", "sizedimension1",
                     "dimension1", "value", "title", "text")
SIZE_KEYS = ("size", "sizedimension1", "dimension1", "sizelabel", "sizename")
DIM2_KEYS = ("fit", "sizedimension2", "dimension2", "fitname", "variant", "length", "inseam")
SKU_KEYS = ("sku", "skuid", "skunumber", "sku_id", "skucode")
AVAIL_TRUE_KEYS = ("available", "isavailable", "instock", "isinstock", "in_stock", "purchasable", "sellable",
                   "buyable", "orderable")
AVAIL_FALSE_KEYS = ("outofstock", "isoutofstock", "soldout", "issoldout", "unavailable", "disabled", "isdisabled")
AVAIL_STATUS_KEYS = ("inventorystatus", "stockstatus", "availability", "stocklevel", "status")
AVAIL_COUNT_KEYS = ("inventorycount", "availablequantity", "quantity", "stockcount", "qty")
PRICE_DICT_KEYS = ("price", "prices", "pricing", "priceinfo", "productprice", "pricedetails")
CURRENT_KEYS = ("current", "currentprice", "effectiveprice", "saleprice", "rawcurrentprice", "nowprice",
                "finalprice", "sellingprice", "currentminprice", "currentmaxprice", "promoprice", "markdownprice",
                "sale", "now")
CURRENT_IN_PRICE_KEYS = CURRENT_KEYS + ("amount", "value", "min", "minprice")
REGULAR_KEYS = ("regular", "regularprice", "rawregularprice", "originalprice", "listprice", "wasprice",
                "baseprice", "regularminprice", "regularmaxprice", "fullprice", "compareatprice", "msrp", "strikeprice",
                "was", "original", "list")
PERCENT_KEYS = ("percentoff", "percentageoff", "discountpercent", "discountpercentage", "pctoff",
                "percentdiscount")
CURRENCY_KEYS = ("currency", "currencycode", "pricecurrency", "currencyiso")
MESSAGE_KEYS = ("marketingmessage", "marketingmessages", "marketingflags", "marketingflag", "cclevelmarketingflags",
                "stylemarketingflags", "ccmarketingflagsdetails", "stylemarketingflagsdetails",
                "marketingflagsdetails", "promomessage", "promomessages", "promotionmessage", "promotionmessages",
                "promotionalmessages", "promotions", "promos", "promotionalmessage")
MESSAGE_TEXT_KEYS = ("content", "text", "message", "label", "title", "name", "displaytext", "value")
EXCLUDED_KEYS = ("excludedfrompromotion", "excludedfrompromotions", "isexcludedfrompromotion", "promoexcluded",
                 "excludefrompromotions", "promotionexcluded", "excludedfrompromo")
DETAILS_PARENT_KEYS = ("infotabs", "details", "productdetails", "detailpanels", "panels", "accordions", "tabs",
                       "sections", "productinformation", "information", "detailsections", "producttabs")
DETAIL_TITLE_KEYS = ("label", "title", "name", "heading", "header", "tabname", "displayname")
DETAIL_LIST_KEYS = ("bullets", "bulletattributes", "bulletpoints", "items", "list", "lines", "points", "values",
                    "content", "attributes", "copy", "text")
IMAGE_KEYS = ("images", "photos", "media", "imageurls", "gallery", "productimages", "zoomimages", "mainimages",
              "currentcolormainimage", "mainimage", "primaryimage", "imageurl", "image", "imagepath")
IMAGE_URL_KEYS = ("url", "src", "absoluteurl", "path", "href", "uri", "contenturl")
PRODUCT_PARENTS = ("product", "productdata", "pdp", "productinfo", "productstate", "productdetail")
DESCRIPTION_KEYS = ("description", "longdescription", "productdescription", "overview")
URL_KEYS = ("canonicalurl", "producturl", "url")
_REF = re.compile(r"^\$[L@]?([0-9a-fA-F]{1,8})$")


class Trees:
    """The state trees of one source, with Next.js row references (`"$5"`, `"$L5"`) resolved on access."""

    def __init__(self, trees: list, rows: dict | None = None):
        self.trees = trees
        self.rows = rows or {}
        self._all: list | None = None  # every (dict, parent key): walked once, read by several steps

    def deref(self, value, depth: int = 0):
        while isinstance(value, str) and depth < 8 and self.rows:
            match = _REF.match(value)
            if not match or match.group(1) not in self.rows:
                return value
            value = self.rows[match.group(1)]
            depth += 1
        return value

    def dicts(self, roots=None):
        """(dict, parent key) for every dict under `roots` (default: all trees), document order."""
        if roots is not None:
            return self._walk(roots)
        if self._all is None:
            self._all = list(self._walk(self.trees))
        return iter(self._all)

    def _walk(self, roots):
        stack = [(tree, None) for tree in reversed(roots)]
        seen_rows: set[int] = set()
        count = 0
        while stack and count < MAX_NODES:
            node, parent = stack.pop()
            count += 1
            if isinstance(node, str):
                target = self.deref(node) if node.startswith("$") else node
                if target is not node and id(target) not in seen_rows:
                    seen_rows.add(id(target))
                    stack.append((target, parent))
                continue
            if isinstance(node, dict):
                yield node, parent
                for key, value in reversed(list(node.items())):
                    if isinstance(value, (dict, list)) or (isinstance(value, str) and value.startswith("$")):
                        stack.append((value, key))
            elif isinstance(node, list):
                for value in reversed(node):
                    if isinstance(value, (dict, list)) or (isinstance(value, str) and value.startswith("$")):
                        stack.append((value, parent))


def lower_keys(node: dict) -> dict:
    return {str(k).lower(): v for k, v in node.items()}


def pick(node: dict | None, keys, trees: Trees | None = None, kind=None):
    """The first value under one of `keys` (lowercase) in `node`; `kind` filters by type (str, dict, list)."""
    if not isinstance(node, dict):
        return None
    lk = node if all(isinstance(k, str) and k == k.lower() for k in node) else lower_keys(node)
    for key in keys:
        if key in lk:
            value = lk[key]
            if trees is not None:
                value = trees.deref(value)
            if value is None or value == "" or value == []:
                continue
            if kind is None:
                return value
            if kind is str and isinstance(value, (str, int, float)) and not isinstance(value, bool):
                return value
            if kind is not str and isinstance(value, kind):
                return value
    return None


def _avail(node: dict, trees: Trees | None = None) -> bool | None:
    lk = lower_keys(node)
    for key in AVAIL_TRUE_KEYS:
        if key in lk:
            state = availability(lk[key])
            if state is not None:
                return state
    for key in AVAIL_FALSE_KEYS:
        if key in lk:
            state = availability(lk[key])
            if state is not None:
                return not state
    for key in AVAIL_STATUS_KEYS:
        if key in lk and isinstance(lk[key], (str, bool)):
            state = availability(lk[key])
            if state is not None:
                return state
    for key in AVAIL_COUNT_KEYS:
        value = lk.get(key)
        if isinstance(value, (int, float)) and not isinstance(value, bool):
            return value > 0
        if isinstance(value, str) and re.fullmatch(r"\s*-?\d+(?:\.\d+)?\s*", value):  # "0", "12": as numbers
            return float(value) > 0
    return None


_STYLE_SET = frozenset(STYLE_KEYS)
_CC_SET = frozenset(CC_KEYS)
_TITLE_SET = frozenset(TITLE_KEYS)
_SIZES_SET = frozenset(SIZES_KEYS + SKU_LIST_KEYS)
_COLORS_SET = frozenset(COLORS_KEYS)
_PRICE_SET = frozenset(PRICE_DICT_KEYS + CURRENT_KEYS + REGULAR_KEYS)
_DETAILS_SET = frozenset(DETAILS_PARENT_KEYS)
_IMAGES_SET = frozenset(IMAGE_KEYS)
_SELECTED_SET = frozenset(SELECTED_COLOR_KEYS[:-2])
_ANY_PRODUCT_KEY = _STYLE_SET | _CC_SET | _TITLE_SET


def _score(node: dict, parent) -> int:
    if len(node) < 2:
        return 0
    lk = {k.lower() if isinstance(k, str) else k: v for k, v in node.items()}
    keys = lk.keys()
    if _ANY_PRODUCT_KEY.isdisjoint(keys):
        return 0
    score = 0
    if any(isinstance(lk[k], (str, int)) for k in _STYLE_SET.intersection(keys)):
        score += 3
    if any(isinstance(lk[k], (str, int)) for k in _CC_SET.intersection(keys)):
        score += 3
    has_title = any(isinstance(lk[k], str) for k in _TITLE_SET.intersection(keys))
    if has_title:
        score += 2
    if not _SIZES_SET.isdisjoint(keys):
        score += 2
    if not _COLORS_SET.isdisjoint(keys):
        score += 2
    if not _PRICE_SET.isdisjoint(keys):
        score += 2
    if not _DETAILS_SET.isdisjoint(keys):
        score += 1
    if not _IMAGES_SET.isdisjoint(keys):
        score += 1
    if not _SELECTED_SET.isdisjoint(keys):
        score += 2
    if isinstance(parent, str) and parent.lower() in PRODUCT_PARENTS:
        score += 2
    if not has_title and score < 6:
        return 0
    return score


def find_product(trees: Trees, cc_hint: str | None = None) -> dict | None:
    best, best_score = None, 3
    holders: dict[int, dict] = {}  # id(selected colour entry) -> the product node holding it
    for node, parent in trees.dicts():
        if "@type" in node or "@context" in node:
            continue
        score = _score(node, parent)
        if score and cc_hint and id_text(pick(node, CC_KEYS, kind=str)) == cc_hint:
            score += 4
        if score:
            selected = pick(node, SELECTED_COLOR_KEYS, trees, kind=dict)
            if selected is not None and selected is not node:
                holders.setdefault(id(selected), node)
        if score > best_score:
            best, best_score = node, score
    # The page colour's entry (it carries the ccId) is not the product: the node holding it as its selected
    # colour is, with the title and style id the entry lacks.
    seen = set()
    while best is not None and id(best) in holders and id(best) not in seen:
        seen.add(id(best))
        best = holders[id(best)]
    return best


# ---------------------------------------------------------------- option lists

def _flatten(items: list, trees: Trees) -> list:
    out = []
    for item in items:
        item = trees.deref(item)
        if isinstance(item, list):
            out.extend(trees.deref(i) for i in item)
        else:
            out.append(item)
    return out


def _option_label(item) -> str | None:
    if isinstance(item, (str, int, float)) and not isinstance(item, bool):
        return unescape(item)
    if isinstance(item, dict):
        value = pick(item, OPTION_LABEL_KEYS, kind=str)
        return unescape(value)
    return None


def _dimension_list(node: dict, keys, trees: Trees) -> tuple[list | None, str | None]:
    """The first list under `keys` in `node`, looking into {"dimensions": [...]}-style wrappers."""
    lk = lower_keys(node)
    for key in keys:
        if key not in lk:
            continue
        value = trees.deref(lk[key])
        if isinstance(value, dict):
            inner = pick(value, ("dimensions", "values", "options", "sizes", "items", "list"), trees, kind=list)
            if inner:
                return inner, key
            if value and all(isinstance(v, (dict, bool)) for v in value.values()) and len(value) <= 60:
                # keyed by label: {"S": {"inStock": true}, "M": false}
                return [dict(v, label=k) if isinstance(v, dict) else {"label": k, "available": v}
                        for k, v in value.items()], key
        elif isinstance(value, list) and value:
            return value, key
    return None, None


def _is_sku_row(item) -> bool:
    if not isinstance(item, dict):
        return False
    lk = lower_keys(item)
    if any(k in lk for k in SKU_KEYS):
        return True
    return any(clean(lk.get(k)) for k in DIM2_KEYS if isinstance(lk.get(k), (str, int)))


def _variant_from(item: dict, trees: Trees, fit_hint: str | None = None) -> dict | None:
    lk = lower_keys(item)
    size = unescape(pick(lk, SIZE_KEYS, trees, kind=str))
    if size is None:
        size = unescape(pick(lk, ("label", "name", "value"), trees, kind=str))
    if size is None:
        return None
    dim2 = unescape(pick(lk, DIM2_KEYS, trees, kind=str)) or fit_hint
    fit = length = None
    if dim2:
        if is_fit_label(dim2) or ("fit" in lk and not is_length_label(dim2)):
            fit = dim2
        else:
            length = dim2
    price = amount(pick(decents(lk), CURRENT_KEYS + ("price",), trees))
    sku, state = id_text(pick(lk, SKU_KEYS, trees, kind=str)), _avail(item)
    if sku is None and state is None and price is None:
        # a size that holds its SKUs: {"label": "S", "skus": [{"skuId": ..., "inventoryCount": 0, "price": ...}]}
        rows = [trees.deref(r) for r in pick(lk, SKU_LIST_KEYS, trees, kind=list) or []]
        rows = [r for r in rows if isinstance(r, dict)]
        if rows:
            states = [s for s in (_avail(r) for r in rows) if s is not None]
            prices = {p for p in (_current_price(r, trees) for r in rows) if p}
            state = any(states) if states else None
            price = prices.pop() if len(prices) == 1 else None
            if len(rows) == 1:
                sku = id_text(pick(rows[0], SKU_KEYS, trees, kind=str))
    return {"size": size, "fit": fit, "length": length, "available": state, "sku": sku, "price": price}


def _read_sizes(nodes, trees: Trees, facts: dict) -> None:
    for node in nodes:
        items, _key = _dimension_list(node, SIZES_KEYS, trees)
        if not items:
            continue
        items = _flatten(items, trees)
        if any(_is_sku_row(i) for i in items):
            if facts["variants"]:
                continue
            for item in items:
                if isinstance(item, dict):
                    variant = _variant_from(item, trees)
                    if variant:
                        facts["variants"].append(variant)
            if facts["variants"]:
                facts["variants_complete"] = True
            return
        for item in items:
            add_option(facts["sizes"], _option_label(item), _avail(item) if isinstance(item, dict) else None)
        if facts["sizes"]:
            return


def _read_second_dimension(nodes, trees: Trees, facts: dict) -> None:
    for node in nodes:
        items, key = _dimension_list(node, FITS_KEYS, trees)
        if not items:
            continue
        options: list[dict] = []
        for item in _flatten(items, trees):
            add_option(options, _option_label(item), _avail(item) if isinstance(item, dict) else None)
        labels = [o["label"] for o in options]
        if all_fit_labels(labels) or (key in ("fits", "fitoptions", "fitvariants")
                                      and not all(is_length_label(x) for x in labels)):
            facts["fits"] = options
        else:
            facts["lengths"] = options
        return


DIMENSION_GROUP_KEYS = ("sizedimensions", "dimensions", "dimensiongroups", "sizedimensiongroups",
                        "variantdimensions", "selectors", "optiongroups")
_GROUP_LIST_KEYS = ("dimensions", "values", "options", "items", "sizes", "list")
_GROUP_NAME_KEYS = ("dimensiongroupid", "dimensionid", "dimensionname", "id", "key", "name", "label", "title",
                    "displayname", "type")


def _dimension_groups(value, trees: Trees) -> list[tuple[str, list]]:
    """[(hint, options)] of a `sizeDimensions`-like structure: a list of groups, or a dict keyed by
    sizeDimension1 / sizeDimension2, each group holding its options under dimensions / values / options."""
    value = trees.deref(value)
    if isinstance(value, dict):
        entries = [(str(k), trees.deref(v)) for k, v in value.items()]
    elif isinstance(value, list):
        entries = [("", trees.deref(v)) for v in value]
    else:
        return []
    groups = []
    for key, group in entries:
        if isinstance(group, list):
            options = group
            hint = key
        elif isinstance(group, dict):
            options = pick(group, _GROUP_LIST_KEYS, trees, kind=list)
            hint = " ".join([key] + [str(trees.deref(group[k])) for k in group if isinstance(k, str)
                                     and k.lower() in _GROUP_NAME_KEYS
                                     and isinstance(trees.deref(group[k]), (str, int))])
        else:
            return []
        if not options:
            continue
        options = _flatten(options, trees)
        if not all(isinstance(o, (str, int, float, dict)) and not isinstance(o, bool) for o in options):
            return []
        if any(isinstance(o, dict) and any(isinstance(v, (list, dict)) for v in o.values()) and
               pick(o, _GROUP_LIST_KEYS, trees, kind=list) for o in options):
            return []  # nested groups: not option lists
        groups.append((hint, options))
    return groups


def _read_dimension_groups(nodes, trees: Trees, facts: dict) -> None:
    """Sizes and the second dimension from `sizeDimensions`-like groups (first group: size; second: fit or
    length, by its labels and name)."""
    for node in nodes:
        if not isinstance(node, dict):
            continue
        lk = lower_keys(node)
        for key in DIMENSION_GROUP_KEYS:
            if key not in lk:
                continue
            groups = [(hint, opts) for hint, opts in _dimension_groups(lk[key], trees)
                      if not re.search(r"colou?r|swatch", hint, re.I)]
            parsed = []
            for hint, items in groups:
                options: list[dict] = []
                for item in items:
                    add_option(options, _option_label(item), _avail(item) if isinstance(item, dict) else None)
                if options:
                    parsed.append((hint, options))
            if not parsed:
                continue
            first_hint, first = parsed[0]
            if not facts["sizes"]:
                facts["sizes"] = first
            if len(parsed) > 1 and not facts["fits"] and not facts["lengths"]:
                hint, second = parsed[1]
                labels = [o["label"] for o in second]
                if all_fit_labels(labels) or (re.search(r"\bfits?\b", hint, re.I)
                                              and not all(is_length_label(x) for x in labels)):
                    facts["fits"] = second
                else:
                    facts["lengths"] = second
            return


def _read_sku_lists(nodes, trees: Trees, facts: dict, cc_id: str | None) -> None:
    """Variants from lists of SKU rows (`variants`, `skus`), and Gap's per-fit `variants[].productStyleColors`."""
    for node in nodes:
        lk = lower_keys(node)
        for key in SKU_LIST_KEYS:
            items = trees.deref(lk.get(key))
            if not isinstance(items, list) or not items:
                continue
            items = _flatten(items, trees)
            rows = [i for i in items if isinstance(i, dict)]
            if not rows:
                continue
            if all(_option_label(r) and is_fit_label(_option_label(r)) and not pick(r, SIZE_KEYS) for r in rows):
                _read_fit_variants(rows, trees, facts, cc_id)
                return
            variants = [v for v in (_variant_from(r, trees) for r in rows if pick(r, SIZE_KEYS + SKU_KEYS))
                        if v]
            if variants:
                facts["variants"] = variants
                facts["variants_complete"] = True
                return


def _current_price(node: dict, trees: Trees) -> str | None:
    """The current price of a node: under its `price`-like dict, else its own current-price keys."""
    for key in PRICE_DICT_KEYS:
        value = pick(node, (key,), trees)
        if isinstance(value, dict):
            found = amount(pick(decents(value), CURRENT_IN_PRICE_KEYS, trees))
            if found:
                return found
    return amount(pick(decents(node), CURRENT_KEYS + ("price",), trees))


def _read_fit_variants(rows: list[dict], trees: Trees, facts: dict, cc_id: str | None) -> None:
    """Gap 2023: `variants` = [{"name": "Regular", "productStyleColors": [[colour...]]}, ...]; also fits that
    hold their sizes themselves (`variants` -> `sizes` -> `skus`)."""
    fits: list[dict] = []
    variants: list[dict] = []
    for row in rows:
        fit = _option_label(row)
        colours = pick(row, ("productstylecolors", "colors", "colours", "stylecolors"), trees, kind=list) or []
        colours = [c for c in _flatten(colours, trees) if isinstance(c, dict)]
        mine = next((c for c in colours if cc_id and id_text(pick(c, COLOR_ID_KEYS, kind=str)) == cc_id), None)
        if mine is None and not colours:
            mine = row  # the fit's own sizes: {"name": "Regular", "sizes": [{"label": "S", "skus": [...]}]}
        elif mine is not None:
            facts.setdefault("fit_colour_entries", []).append(mine)  # the page colour's entry: its prices too
        sizes = pick(mine, ("sizes", "skus"), trees, kind=list) if mine else None
        state = _avail(row)
        if sizes:
            row_variants = [v for v in (_variant_from(s, trees, fit_hint=fit) for s in _flatten(sizes, trees)
                                        if isinstance(s, dict)) if v]
            colour_price = _current_price(mine, trees) if mine is not row else None
            for variant in row_variants:
                variant["fit"], variant["length"] = fit, None
                variant["price"] = variant["price"] or colour_price
            variants.extend(row_variants)
        # A fit's own stock only when the row states it: derived from SKUs it would outvote the page.
        add_option(fits, fit, state)
    if len(rows) == 1:
        # One "variant" (usually "Regular") is no choice: tops have it too. No fit dimension then.
        fits = []
        for variant in variants:
            variant["fit"] = None
    facts["fits"] = fits
    if variants:
        facts["variants"] = variants
        facts["variants_complete"] = True


def _read_colors(nodes, trees: Trees, facts: dict) -> None:
    for node in nodes:
        for root, _parent in trees.dicts([node]):
            items, _key = _dimension_list(root, COLORS_KEYS, trees)
            if not items:
                continue
            colours = []
            items_read: list[dict] = []
            seen = set()
            for item in _flatten(items, trees):
                if not isinstance(item, dict):
                    continue
                name = unescape(pick(item, COLOR_NAME_KEYS, trees, kind=str))
                cc = id_text(pick(item, COLOR_ID_KEYS, trees, kind=str))
                if not name:
                    continue
                key = (cc or "", name)
                if key in seen:
                    continue
                seen.add(key)
                if facts.get("selected_cc") is None and any(
                        item.get(k) is True for k in ("selected", "isSelected", "active", "isActive", "current")):
                    facts["selected_cc"], facts["selected_name"] = cc, name
                state = _avail(item)
                if state is None:
                    sizes = pick(item, ("sizes", "skus"), trees, kind=list)
                    states = [_avail(s) for s in sizes or [] if isinstance(s, dict)]
                    states = [s for s in states if s is not None]
                    state = any(states) if states else None
                colours.append({"name": name, "cc_id": cc, "available": state})
                items_read.append(item)
            if colours:
                facts["colors"] = colours
                facts["color_items"] = items_read
                return
            break


# ---------------------------------------------------------------- prices, messages, details, images

def _read_price(nodes, trees: Trees, facts: dict) -> None:
    for node in nodes:
        if not isinstance(node, dict):
            continue
        scopes = []
        for key in PRICE_DICT_KEYS:
            value = pick(node, (key,), trees)
            if isinstance(value, dict):
                scopes.append((value, CURRENT_IN_PRICE_KEYS))
        scopes.append((node, CURRENT_KEYS + ("price",)))
        for scope, current_keys in scopes:
            scope = decents(scope)
            if facts["current"] is None:
                value = pick(scope, current_keys, trees)
                facts["current"] = amount(value) if not isinstance(value, list) else None
                if facts["currency"] is None and isinstance(value, str):
                    facts["currency"] = currency_code(value) if re.search(r"[^\d.,\s]", value) else None
            if facts["regular"] is None:
                facts["regular"] = amount(pick(scope, REGULAR_KEYS, trees))
            if facts["currency"] is None:
                value = pick(scope, CURRENCY_KEYS, trees)
                if isinstance(value, dict):  # {"code": "USD", "symbol": "$"}
                    value = pick(value, ("code", "isocode", "currencycode", "iso", "id", "symbol"), trees,
                                 kind=str)
                facts["currency"] = currency_code(value) if isinstance(value, str) else None
            if facts["percent_off"] is None:
                facts["percent_off"] = percent_number(pick(scope, PERCENT_KEYS, trees, kind=str))
            if facts["price_type"] is None:
                facts["price_type"] = _price_type(pick(scope, ("pricetype",), trees, kind=str))


def _price_type(value) -> str | None:
    text = (clean(value) or "").lower()
    if text in ("r", "regular", "full", "fullprice"):
        return "R"
    if text in ("p", "sale", "promo", "promotion", "promotional"):
        return "P"
    if text in ("m", "clearance", "markdown"):
        return "M"
    return None


def _message_texts(value, trees: Trees) -> list[str]:
    value = trees.deref(value)
    out: list[str] = []
    if isinstance(value, str):
        add_unique(out, plain_text(value))
    elif isinstance(value, dict):
        text = pick(value, MESSAGE_TEXT_KEYS, trees, kind=str)
        if text is None:
            text = next((v for k, v in value.items() if isinstance(v, str) and re.search(
                r"content|text|message|name|label|title", str(k), re.I)), None)
        add_unique(out, unescape(text))
    elif isinstance(value, list):
        for item in value[:50]:
            for text in _message_texts(item, trees):
                add_unique(out, text)
    return [t for t in out if t and len(t) <= 300]


def _read_messages(nodes, trees: Trees, facts: dict) -> None:
    for node in nodes:
        lk = lower_keys(node)
        for key in MESSAGE_KEYS:
            if key in lk:
                for text in _message_texts(lk[key], trees):
                    add_unique(facts["messages"], text)
        if facts["excluded"] is None:
            for key in EXCLUDED_KEYS:
                if key in lk:
                    state = availability(lk[key]) if not isinstance(lk[key], bool) else lk[key]
                    if state is not None:
                        facts["excluded"] = state
                        break


def _bullets(value, trees: Trees) -> list[str]:
    """A panel's bullets: a list gives one bullet per item (a `<br>` inside an item is a line of that bullet,
    as in a markup `<li>`); a single rich-text string is a paragraph, one bullet per line as in the markup."""
    value = trees.deref(value)
    out: list[str] = []
    if isinstance(value, str):
        for line in plain_lines(value):
            add_unique(out, line)
    elif isinstance(value, list):
        for item in value[:200]:
            item = trees.deref(item)
            if isinstance(item, dict):
                text = pick(item, ("text", "value", "content", "name", "label", "title", "bullet"), trees, kind=str)
                add_unique(out, plain_text(text))
            elif isinstance(item, (str, int, float)) and not isinstance(item, bool):
                add_unique(out, plain_text(item))
    return out


def _panel(item: dict, trees: Trees, fallback_title=None) -> tuple[str | None, list[str]]:
    title = unescape(pick(item, DETAIL_TITLE_KEYS, trees, kind=str)) or fallback_title
    lk = lower_keys(item)
    for key in DETAIL_LIST_KEYS:
        if key in lk:
            bullets = _bullets(lk[key], trees)
            if bullets and (isinstance(trees.deref(lk[key]), list) or title) or key in ("bullets",
                                                                                         "bulletattributes"):
                return title, bullets
    return title, []


def _read_details_from(node: dict, lk: dict, trees: Trees, add, keys=DETAILS_PARENT_KEYS) -> None:
    for key in keys:
        value = trees.deref(lk.get(key))
        if isinstance(value, list):
            for item in value:
                item = trees.deref(item)
                if isinstance(item, dict):
                    add(*_panel(item, trees))
        elif isinstance(value, dict):
            if pick(value, ("bullets", "bulletattributes", "bulletpoints"), trees):
                add(*_panel(value, trees))
                continue
            for name, item in value.items():
                item = trees.deref(item)
                if isinstance(item, dict):
                    add(*_panel(item, trees, fallback_title=str(name)))
                elif isinstance(item, list):
                    add(str(name), _bullets(item, trees))


def _read_details(nodes, trees: Trees, facts: dict) -> None:
    details: dict[str, list[str]] = {}

    def add(title, bullets):
        title = clean(title)
        if not title or not bullets or len(title) > 80:
            return
        existing = details.setdefault(title, [])
        for bullet in bullets:
            add_unique(existing, bullet)

    for node in nodes:
        _read_details_from(node, lower_keys(node), trees, add)
        if details:
            break
    if not details:
        for node, _parent in trees.dicts():
            lk = lower_keys(node)
            if any(k in lk for k in ("bullets", "bulletattributes", "bulletpoints")):
                add(*_panel(node, trees))
            elif any(k in lk for k in ("infotabs", "productdetails", "detailpanels", "productinformation")):
                _read_details_from(node, lk, trees, add,
                                   ("infotabs", "productdetails", "detailpanels", "productinformation"))
    facts["details"] = details


def _image_list(value, trees: Trees) -> list[str]:
    value = trees.deref(value)
    urls: list[str] = []
    items = value if isinstance(value, list) else [value]
    for item in items[:200]:
        item = trees.deref(item)
        if isinstance(item, dict):
            kind = str(item.get("type") or "")
            item = pick(item, IMAGE_URL_KEYS, trees, kind=str)
            if kind.endswith("_VD"):
                continue
        text = clean(item) if isinstance(item, str) else None
        if text and not text.lower().endswith((".mp4", ".webm", ".mov")) and (
                "/" in text or text.lower().endswith((".jpg", ".jpeg", ".png", ".webp", ".gif", ".avif"))):
            add_unique(urls, text)
    return urls


# ---------------------------------------------------------------- entry point

def interpret(trees: Trees, *, cc_id: str | None = None) -> dict:
    """Facts from state trees; facts["found"] says whether a product node was found."""
    facts = new_facts()
    product = find_product(trees, cc_id)
    facts["found"] = product is not None
    if product is None:
        _read_messages([n for n, _ in trees.dicts()], trees, facts)
        _read_details([], trees, facts)
        return facts

    facts["title"] = unescape(pick(product, TITLE_KEYS, trees, kind=str))
    facts["style_id"] = id_text(pick(product, STYLE_KEYS, trees, kind=str))
    page_cc = id_text(pick(product, CC_KEYS, trees, kind=str))
    if page_cc is None:
        candidate = id_text(pick(product, ("productid", "id"), trees, kind=str))
        page_cc = candidate if looks_like_cc_id(candidate) else None

    selected = pick(product, SELECTED_COLOR_KEYS, trees, kind=dict)
    nodes_colour_first = [n for n in (selected, product) if isinstance(n, dict)]
    _read_colors([product], trees, facts)
    if selected is None and facts.get("selected_cc") and page_cc is None:
        page_cc = facts["selected_cc"]
    if selected is None and facts["colors"]:
        target = page_cc or cc_id
        index = next((i for i, c in enumerate(facts["colors"]) if target and c["cc_id"] == target), None)
        if index is not None:
            facts["color_name"] = facts["colors"][index]["name"]
            # the colour's own entry holds its sizes / SKUs / prices when the product does not
            selected = facts["color_items"][index]
            nodes_colour_first = [selected, product]
    if selected is not None:
        facts["color_name"] = unescape(pick(selected, COLOR_NAME_KEYS, trees, kind=str))
        page_cc = page_cc or id_text(pick(selected, COLOR_ID_KEYS, trees, kind=str))
    if facts["color_name"] is None:
        value = pick(product, ("colorname", "ccname", "selectedcolorname", "color", "colour"), trees, kind=str)
        facts["color_name"] = unescape(value)
    facts["cc_id"] = page_cc

    if facts["style_id"] is None:
        for node, _parent in trees.dicts():
            value = id_text(pick(node, ("styleid", "style_id"), trees, kind=str))
            if value:
                facts["style_id"] = value
                break

    _read_sku_lists([product] + ([selected] if selected else []), trees, facts, page_cc or cc_id)
    _read_sizes(nodes_colour_first, trees, facts)
    if not facts["fits"] and not facts["lengths"]:
        _read_second_dimension([product] + ([selected] if selected else []), trees, facts)
    if not facts["sizes"] and not facts["variants"] or (facts["sizes"] and not facts["fits"]
                                                          and not facts["lengths"] and not facts["variants"]):
        _read_dimension_groups(nodes_colour_first, trees, facts)
    _fill_options_from_variants(facts)

    _read_price(nodes_colour_first + facts.get("fit_colour_entries", []), trees, facts)
    _read_messages(nodes_colour_first, trees, facts)
    if not facts["messages"]:
        _read_messages([n for n, _ in trees.dicts()], trees, facts)
    _read_details([product], trees, facts)

    for node in nodes_colour_first:
        images = _image_list(pick(node, IMAGE_KEYS, trees), trees)
        if images:
            facts["images"] = images
            break
    state = None
    for node in nodes_colour_first:
        state = _avail(node)
        if state is not None:
            break
    facts["available"] = state
    facts["description"] = plain_text(pick(product, DESCRIPTION_KEYS, trees, kind=str))
    url = pick(product, URL_KEYS, trees, kind=str)
    facts["url"] = clean(url) if isinstance(url, str) and "/" in url else None
    return facts


def _fill_options_from_variants(facts: dict) -> None:
    """Options seen only in SKU rows become option lists; an option is available when one of its SKUs is."""
    if not facts["variants"]:
        return
    for kind, dim in (("sizes", "size"), ("fits", "fit"), ("lengths", "length")):
        derived: list[dict] = []
        for variant in facts["variants"]:
            if variant[dim]:
                add_option(derived, variant[dim], None)
        if not facts[kind]:
            facts[kind] = derived
            if kind == "sizes" and not any(v["fit"] or v["length"] for v in facts["variants"]):
                for option in derived:  # one dimension: a SKU is a size, its stock is the size's stock
                    states = [v["available"] for v in facts["variants"] if v["available"] is not None
                              and (v["size"] or "").casefold() == option["label"].casefold()]
                    option["available"] = any(states) if states else None
