"""What one source (JSON-LD, embedded state, markup) says about the page, before merging.

Every source extractor returns a `Facts`: a plain dict with the keys below, None/empty where the source is silent.
Options (`sizes`, `fits`, `lengths`) are lists of {"label", "available"} where available may be None (unknown);
variants are {"size", "fit", "length", "available", "sku", "price"}; `variants_complete` says whether each
variant's size is known (offers whose names do not encode the size are only good for sku/price lookups).
"""

from __future__ import annotations

FACT_KEYS = (
    "title", "cc_id", "style_id", "color_name", "colors", "sizes", "fits", "lengths", "variants",
    "variants_complete", "current", "regular", "currency", "percent_off", "price_type", "markdown", "messages",
    "excluded", "details", "images", "available", "url", "description",
)


def new_facts() -> dict:
    facts = dict.fromkeys(FACT_KEYS)
    for key in ("colors", "sizes", "fits", "lengths", "variants", "messages", "images"):
        facts[key] = []
    facts["details"] = {}
    facts["variants_complete"] = False
    return facts


def add_option(options: list[dict], label, available) -> None:
    """Append {"label", "available"} unless the label is already there (hidden duplicates); an unknown
    availability is completed by a later duplicate."""
    if not label:
        return
    key = label.casefold()
    for option in options:
        if option["label"].casefold() == key:
            if option["available"] is None and available is not None:
                option["available"] = available
            return
    options.append({"label": label, "available": available})


def add_unique(items: list, value) -> None:
    if value and value not in items:
        items.append(value)
