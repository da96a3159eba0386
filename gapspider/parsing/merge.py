"""Merge the facts of the sources (JSON-LD > embedded state > markup) and the listing into `parsed_data`."""

from __future__ import annotations

import html as html_lib
from decimal import Decimal
from urllib.parse import urlsplit

from .discounts import build_discounts
from .values import (
    amount, availability, clean, fold, id_text, percent_between, percent_number,
)

SCHEMA_VERSION = 1

LISTING_KEYS = ("style_id", "cc_id", "style_name", "cc_name", "regular_price", "effective_price", "price_type",
                "percentage_off", "marketing_flags", "excluded_from_promotion", "inventory_status")


def empty_result() -> dict:
    """Every documented key, with its "nothing known" value."""
    return {
        "schema": SCHEMA_VERSION,
        "cc_id": None,
        "style_id": None,
        "title": None,
        "url": None,
        "color": {"name": None, "cc_id": None},
        "colors": [],
        "sizes": [],
        "fits": [],
        "lengths": [],
        "dimensions": [],
        "variants": [],
        "price": {"current": None, "regular": None, "currency": None, "percent_off": None},
        "price_type": None,
        "discounts": [],
        "excluded_from_promotions": False,
        "available": False,
        "details": {},
        "description": None,
        "images": [],
        "sources": [],
        "warnings": [],
        "blocked": False,
        "failed": False,
    }


def _show(value) -> str:
    return repr(value) if not isinstance(value, list) else "[" + ", ".join(map(str, value)) + "]"


def _amount_key(value):
    try:
        return Decimal(value)
    except Exception:  # noqa: BLE001 - any non-number compares as text
        return value


class Merger:
    def __init__(self, sources: list[tuple[str, dict]], warnings: list[str]):
        self.sources = sources  # [(name, facts)], most trusted first
        self.warnings = warnings

    def scalar(self, field: str, label: str, key=fold):
        picked = None
        reported = set()
        for name, facts in self.sources:
            value = facts.get(field)
            if value is None or value == "":
                continue
            if picked is None:
                picked = (name, value)
            elif key(value) != key(picked[1]) and name not in reported:
                reported.add(name)
                self.warnings.append(f"{label}: {picked[0]} says {_show(picked[1])}, {name} says {_show(value)}; "
                                     f"kept {picked[0]}")
        return picked[1] if picked else None

    def options(self, field: str, label: str, usable) -> tuple[list[dict], str | None]:
        """The option list of the most trusted source that has one; page order from the markup when the markup
        lists the same labels; unknown stock completed from the other sources."""
        lists = [(name, facts[field]) for name, facts in self.sources if facts.get(field) and usable(name, facts)]
        if not lists:
            return [], None
        chosen_name, chosen = lists[0]
        chosen = [dict(o) for o in chosen]
        chosen_keys = [o["label"].casefold() for o in chosen]
        for name, other in lists[1:]:
            other_keys = [o["label"].casefold() for o in other]
            if set(chosen_keys) < set(other_keys):
                # The trusted source covers only some of the choices the page shows (JSON-LD offers often list
                # only what can be bought): the page's full list, the trusted stock where it has one.
                missing = [o["label"] for o in other if o["label"].casefold() not in set(chosen_keys)]
                self.warnings.append(f"{label}: {chosen_name} lists only {_show([o['label'] for o in chosen])}, "
                                     f"{name} also {_show(missing)}; kept all, {name}'s stock for those")
                mine = {o["label"].casefold(): o for o in chosen}
                chosen = []
                for theirs in other:
                    option = dict(mine.get(theirs["label"].casefold()) or theirs)
                    if option["available"] is None:
                        option["available"] = theirs["available"]
                    chosen.append(option)
                chosen_keys = [o["label"].casefold() for o in chosen]
                continue
            if set(other_keys) != set(chosen_keys):
                self.warnings.append(f"{label}: {chosen_name} lists {_show([o['label'] for o in chosen])}, {name} "
                                     f"lists {_show([o['label'] for o in other])}; kept {chosen_name}")
                continue
            if name == "markup" and other_keys != chosen_keys:
                order = {k: i for i, k in enumerate(other_keys)}
                chosen.sort(key=lambda o: order[o["label"].casefold()])
                chosen_keys = [o["label"].casefold() for o in chosen]
            by_key = {o["label"].casefold(): o for o in other}
            differ = []
            for option in chosen:
                theirs = by_key[option["label"].casefold()]["available"]
                if option["available"] is None:
                    option["available"] = theirs
                elif theirs is not None and theirs != option["available"]:
                    differ.append(option["label"])
            if differ:
                self.warnings.append(f"{label}: stock of {', '.join(differ)} differs between {chosen_name} and "
                                     f"{name}; kept {chosen_name}")
        return chosen, chosen_name


def _variant_key(variant: dict) -> tuple:
    return tuple((variant.get(k) or "").casefold() for k in ("size", "fit", "length"))


def merge_variants(sources, sizes, fits, lengths, warnings) -> tuple[list[dict], str]:
    complete = [(name, f["variants"]) for name, f in sources if f.get("variants") and f.get("variants_complete")]
    partial = [(name, f["variants"]) for name, f in sources if f.get("variants") and not f.get("variants_complete")]
    if complete:
        chosen_name, chosen = complete[0]
        chosen = [dict(v) for v in chosen]
        # drop exact duplicates (the same SKU row listed twice)
        unique, seen = [], set()
        for variant in chosen:
            key = _variant_key(variant) + ((variant.get("sku") or ""),)
            if key not in seen:
                seen.add(key)
                unique.append(variant)
        chosen = unique
        by_key = {_variant_key(v): v for v in chosen}
        by_sku = {v["sku"]: v for v in chosen if v.get("sku")}
        for name, others in complete[1:] + partial:
            differ = matched = 0
            for other in others:
                mine = by_sku.get(other.get("sku")) if other.get("sku") else None
                if mine is None and other.get("size"):
                    mine = by_key.get(_variant_key(other))
                if mine is None:
                    continue
                matched += 1
                for field in ("sku", "price"):
                    if mine.get(field) is None and other.get(field) is not None:
                        mine[field] = other[field]
                if mine.get("available") is None:
                    mine["available"] = other.get("available")
                elif other.get("available") is not None and other["available"] != mine["available"]:
                    differ += 1
            if differ:
                warnings.append(f"variants: stock of {differ} variant(s) differs between {chosen_name} and {name}; "
                                f"kept {chosen_name}")
            if matched < len(others) and (name, others) in partial:
                warnings.append(f"variants: {len(others) - matched} of {len(others)} {name} offer(s) match no "
                                f"size of the page")
        return chosen, chosen_name
    for name, others in partial:
        if len(others) == 1 and len(sizes) == 1 and not fits and not lengths:
            # one offer, one size ("One Size" accessories): the offer is that size
            offer = others[0]
            stated = sizes[0]["available"]
            return [{"size": sizes[0]["label"], "fit": None, "length": None, "sku": offer.get("sku"),
                     "price": offer.get("price"),
                     "available": stated if stated is not None else offer.get("available")}], name
        if len(others) > 1:
            warnings.append(f"variants: the {len(others)} {name} offers do not say which size they are; not used")
    return [], None


def complete_variants(variants: list[dict], sizes, fits, lengths, warnings: list[str] | None = None,
                      cut_off: bool = False) -> list[dict]:
    """Options the variant source does not mention at all (a size or a fit shown by another source only) get
    their cross-product rows, in page order; a missing combination of two options the source does list is left
    as the source says (it does not exist, or is not sold).

    A source whose rows name sizes only, on a page that shows a second dimension (offers per size of a page with
    fits), cannot say which fit a row is: the rows become the cross product of the page's options, each with the
    price its size's rows agree on and no SKU.

    `cut_off`: the variant source stops short (a truncated page ends inside it), so a missing combination is one
    it did not get to, not one that does not exist: it gets its cross-product row too."""
    if not variants or not sizes:
        return variants
    second, dim = (fits, "fit") if fits else (lengths, "length") if lengths else ([], None)
    if dim and not any(v.get(dim) for v in variants):
        out = cross_variants(sizes, fits, lengths)
        for row in out:
            key = row["size"].casefold()
            prices = {v.get("price") for v in variants if (v.get("size") or "").casefold() == key}
            if len(prices) == 1:
                row["price"] = prices.pop()
        if warnings is not None:
            warnings.append(f"variants: the variant rows give sizes but no {dim}; rows are the page's sizes x "
                            f"{dim}s, without SKU")
        return out
    listed_sizes = {(v.get("size") or "").casefold() for v in variants}
    listed_second = {(v.get(dim) or "").casefold() for v in variants} if dim else set()
    if not cut_off and all(s["label"].casefold() in listed_sizes for s in sizes) and all(
            o["label"].casefold() in listed_second for o in second):
        return variants
    out: list[dict] = []
    used: set[int] = set()
    filled = 0
    for size in sizes:
        size_key = size["label"].casefold()
        for option in second or [None]:
            option_key = option["label"].casefold() if option else None
            found = [i for i, v in enumerate(variants) if i not in used
                     and (v.get("size") or "").casefold() == size_key
                     and (option is None or (v.get(dim) or "").casefold() == option_key)]
            if found:
                used.update(found)
                out.extend(variants[i] for i in found)
            elif cut_off or size_key not in listed_sizes or (option is not None and option_key not in listed_second):
                out.extend(cross_variants([size], [option] if dim == "fit" and option else [],
                                          [option] if dim == "length" and option else []))
                filled += 1
    out.extend(v for i, v in enumerate(variants) if i not in used)
    if cut_off and filled and warnings is not None:
        warnings.append(f"variants: the variant rows stop short (truncated page); {filled} combination(s) filled "
                        f"from the page's options")
    return out


def cross_variants(sizes, fits, lengths) -> list[dict]:
    """No source lists variants: sizes x second dimension, available when both choices are."""
    second, dim = (fits, "fit") if fits else (lengths, "length") if lengths else ([], None)
    variants = []
    for size in sizes:
        for option in second or [None]:
            variant = {"size": size["label"], "fit": None, "length": None,
                       "available": bool(size["available"]) and (option is None or bool(option["available"])),
                       "sku": None, "price": None}
            if option is not None:
                variant[dim] = option["label"]
            variants.append(variant)
    return variants


def _path_key(url: str) -> str:
    try:
        parts = urlsplit(url)
        return parts.path + ("?" + parts.query if parts.query else "")
    except ValueError:
        return url


def merge_images(*lists) -> list[str]:
    out: list[str] = []
    seen: dict[str, int] = {}
    for urls in lists:
        for url in urls:
            url = clean(url)
            if not url:
                continue
            if url.startswith("//"):
                url = "https:" + url
            key = _path_key(url)
            if key in seen:
                index = seen[key]
                if not urlsplit(out[index]).netloc and urlsplit(url).netloc:
                    out[index] = url  # prefer the absolute form of the same image
                continue
            seen[key] = len(out)
            out.append(url)
    return out


def merge_details(sources, warnings) -> dict[str, list[str]]:
    details: dict[str, list[str]] = {}
    origin: dict[str, str] = {}
    for name, facts in sources:
        for title, bullets in (facts.get("details") or {}).items():
            existing_title = next((t for t in details if fold(t) == fold(title)), None)
            if existing_title is None:
                details[title] = list(bullets)
                origin[title] = name
            elif [fold(b) for b in bullets] != [fold(b) for b in details[existing_title]]:
                warnings.append(f"details: {origin[existing_title]} and {name} differ on {existing_title!r}; kept "
                                f"{origin[existing_title]}")
    return details


def merge_colors(sources, warnings) -> list[dict]:
    lists = [(name, f["colors"]) for name, f in sources if f.get("colors")]
    if not lists:
        return []
    chosen_name, chosen = lists[0]
    chosen = [dict(c) for c in chosen]
    for name, other in lists[1:]:
        mine_ids = {c["cc_id"] or fold(c["name"]) for c in chosen}
        their_ids = {c["cc_id"] or fold(c["name"]) for c in other}
        if mine_ids != their_ids:
            warnings.append(f"colors: {chosen_name} and {name} list different swatches "
                            f"({len(mine_ids)} vs {len(their_ids)}); kept {chosen_name}")
        differ = []
        for colour in chosen:
            match = next((c for c in other if colour["cc_id"] and c["cc_id"] == colour["cc_id"]), None)
            if match is None and not colour["cc_id"] or match is None and not any(c["cc_id"] for c in other):
                match = next((c for c in other if colour["name"] and c["name"]
                              and fold(c["name"]) == fold(colour["name"])), None)
            if match is None:
                continue
            for field in ("name", "cc_id"):
                if not colour.get(field) and match.get(field):
                    colour[field] = match[field]
            if colour["available"] is None:
                colour["available"] = match["available"]
            elif match["available"] is not None and match["available"] != colour["available"]:
                differ.append(colour["name"] or colour["cc_id"])
        if differ:
            warnings.append(f"colors: stock of {', '.join(map(str, differ))} differs between {chosen_name} and "
                            f"{name}; kept {chosen_name}")
    for colour in chosen:
        if colour["available"] is None:
            colour["available"] = True
    return [{"name": c["name"], "cc_id": c["cc_id"], "available": bool(c["available"])} for c in chosen]


# ---------------------------------------------------------------- listing

def clean_listing(listing, warnings: list[str]) -> dict:
    if listing is None:
        return {}
    if not isinstance(listing, dict):
        warnings.append(f"listing: ignored, expected a dict, got {type(listing).__name__}")
        return {}
    out = {}
    for key in LISTING_KEYS:
        value = listing.get(key)
        if key == "marketing_flags":
            flags = []
            for flag in value if isinstance(value, (list, tuple)) else [value] if value else []:
                if isinstance(flag, dict):
                    flag = flag.get("content") or flag.get("text")
                text = clean(flag)
                if text:
                    flags.append(text)
            out[key] = flags
        elif key == "excluded_from_promotion":
            out[key] = value if isinstance(value, bool) else bool(availability(value)) if value is not None else False
        elif key in ("style_id", "cc_id"):
            out[key] = id_text(value)
        elif key in ("style_name", "cc_name"):
            text = clean(value)
            out[key] = clean(html_lib.unescape(text)) if text else None
        else:
            out[key] = clean(value) if not isinstance(value, (dict, list)) else None
    return out


def apply_listing(result: dict, listing: dict, cc_id_arg: str | None, warnings: list[str],
                  page_markdown: bool) -> None:
    """Fill what the page lacks from the caller's ccId and the listing; warn where they disagree."""
    page_cc = result["cc_id"]
    expected_cc = cc_id_arg or listing.get("cc_id")
    if page_cc is None and expected_cc:
        result["cc_id"] = expected_cc
        source = "the caller's cc_id" if cc_id_arg else "the listing"
        warnings.append(f"cc_id: not on the page; taken from {source}")
    elif page_cc and expected_cc and page_cc != expected_cc:
        warnings.append(f"cc_id: the page says {page_cc!r}, expected {expected_cc!r}; kept the page's")
    _fill(result, "style_id", listing.get("style_id"), "style_id", warnings)
    _fill(result, "title", listing.get("style_name"), "title", warnings, compare=False)

    price = result["price"]
    effective = amount(listing.get("effective_price"))
    regular = amount(listing.get("regular_price"))
    if price["current"] is None and effective:
        price["current"] = effective
        warnings.append("price: current price not on the page; taken from the listing")
        if regular and price["regular"] is None:
            price["regular"] = regular
            warnings.append("price: regular price not on the page; taken from the listing")
    elif price["current"] and effective and Decimal(price["current"]) != Decimal(effective):
        warnings.append(f"price: the page says {price['current']}, the listing {effective}; kept the page's")
    if price["regular"] is None and regular and price["current"] is not None:
        if page_markdown:
            price["regular"] = regular
            warnings.append("price: regular price not on the page; taken from the listing")
    elif price["regular"] and regular and Decimal(price["regular"]) != Decimal(regular):
        warnings.append(f"price: regular price on the page is {price['regular']}, the listing says {regular}; "
                        f"kept the page's")
    if result["price_type"] is None and listing.get("price_type") in ("R", "P", "M"):
        result["price_type"] = listing["price_type"]


def _fill(result, field, value, label, warnings, compare=True):
    if not value:
        return
    if result[field] is None:
        result[field] = value
        warnings.append(f"{label}: not on the page; taken from the listing")
    elif compare and result[field] != value:
        warnings.append(f"{label}: the page says {result[field]!r}, the listing {value!r}; kept the page's")


def finish_price(result: dict, page_percent, listing: dict, page_markdown: bool, warnings: list[str]) -> None:
    """Regular price defaults to the current one on a page without markdown; percent off from the prices."""
    price = result["price"]
    if price["regular"] is None and price["current"] is not None:
        if not page_markdown:
            price["regular"] = price["current"]
        else:
            warnings.append("price: the page shows a markdown but no regular price")
    if price["regular"] and price["current"] and Decimal(price["current"]) > Decimal(price["regular"]):
        warnings.append(f"price: current {price['current']} is above regular {price['regular']}")
    computed = None
    if price["current"] and price["regular"] and price["current"] != price["regular"]:
        computed = percent_between(price["current"], price["regular"])
    listing_percent = percent_number(listing.get("percentage_off"))
    if computed is not None:
        for source, value in (("the page", page_percent), ("the listing", listing_percent)):
            if value is not None and abs(value - computed) > 1:
                warnings.append(f"price: {source} says {value}% off, the prices give {computed}%; kept {computed}%")
        price["percent_off"] = computed
    elif price["regular"] is not None and price["current"] == price["regular"]:
        price["percent_off"] = None
        if listing_percent and price["current"] is not None and not page_markdown:
            warnings.append(f"price: the listing says {listing_percent}% off, the page shows no markdown")
    elif page_percent is not None:
        price["percent_off"] = page_percent
    elif listing_percent is not None and price["current"] is not None and price["regular"] is None:
        price["percent_off"] = listing_percent
        warnings.append("price: percent off taken from the listing")


def combine_discounts(result: dict, page_messages: list[str], page_excluded, listing: dict) -> None:
    listing_messages = listing.get("marketing_flags") or []
    flags = [bool(page_excluded), bool(listing.get("excluded_from_promotion"))]
    result["discounts"] = build_discounts(page_messages, listing_messages, flags)
    result["excluded_from_promotions"] = any(d["excluded"] for d in result["discounts"])


def listing_available(listing: dict) -> bool | None:
    status = listing.get("inventory_status")
    return availability(status) if status else None
