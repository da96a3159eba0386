"""Source 3 (least trusted): the visible markup of the page.

Selectors follow what scrapers of Gap rely on (see gapdata/README.md) and fall back to looser, still specific
patterns, because the markup changes often. Hidden duplicates (a hidden copy of the title, a second size selector
for small screens) never duplicate anything: options, swatches, images, panels and bullets are de-duplicated.
"""

from __future__ import annotations

import re
from copy import deepcopy

from lxml import etree

from .document import (
    all_text, class_xpath, classes, first_visible, is_hidden, visible_text, xpath,
)
from .facts import add_option, add_unique, new_facts
from .values import (
    all_fit_labels, amount, clean, currency_of, fold, id_text, is_length_label, percent_number, pid_of,
)

# "$44.00", "CA$44.00", "CA $44.00"; or, as French Canadian pages print them, the symbol after the amount:
# "44,00 $", "1 044,50 $", "44,00 $ CA" (groups 3-5 then hold amount, symbol and country)
_PRICE_TEXT = re.compile(
    r"((?:\b(?:CAD|CA|USD|US|AU|MX)\s?|\b[CA])?\$|€|£|¥)\s?(\d{1,3}(?:,\d{3})+(?:\.\d{1,2})?|\d+(?:[.,]\d{1,2})?)"
    r"|(?<![\d.,])(\d{1,3}(?:[ .]\d{3})+(?:,\d{1,2})?|\d+(?:[.,]\d{1,2})?)\s?(\$|€|£)(?:\s?(CAD|CA|USD|US)\b)?")
# "$39.99 - $49.99": one price that varies by size, not a sale price and its regular price
_PRICE_RANGE_HIGH = re.compile(r"(?<=[\d$€£A-Z])(\s*(?:-|–|—|to|à)\s*)(?:" + _PRICE_TEXT.pattern + ")")
_PERCENT_OFF = re.compile(r"(\d{1,3})\s*%\s*(?:off|de\s+rabais|de\s+r[ée]duction)", re.I)  # also French
_OOS_WORDS = re.compile(r"out[\s-]*of[\s-]*stock|sold[\s-]*out|unavailable|not\s+available", re.I)
_OOS_TOKENS = ("outofstock", "out-of-stock", "out_of_stock", "unavailable", "soldout", "sold-out", "disabled",
               "notavailable")
# what a label says besides the option: stock hints, also low-stock notes ("M" + "Only 2 left" -> "M")
_LABEL_NOISE = re.compile(
    r"\s*[,(\-–—:]?\s*(?:out[\s-]*of[\s-]*stock|sold[\s-]*out|unavailable|not\s+available|selected"
    r"|(?:only\s+)?\d{1,3}\s+left(?:\s+in\s+stock)?|low\s+(?:in\s+)?stock|(?:only\s+(?:a\s+)?)?few\s+left"
    r"|almost\s+gone|last\s+(?:one|few)(?:\s+left)?|selling\s+fast)\s*!?\s*\)?\s*$",
    re.I)
_TOKEN_SPLIT = re.compile(r"[^a-z0-9]+")
_CAMEL = re.compile(r"(?<=[a-z0-9])(?=[A-Z])")
_PROMO = re.compile(
    r"\d{1,3}\s*%|\boff\b|\bexclu(?!sive)|final\s+sale|promo|limited[\s-]+time|\bsave\b|\bdeal\b|\bcode\b|clearance"
    r"|\bbogo\b|buy\s+\d|\bfree\b", re.I)
_PROMO_STRONG = re.compile(
    r"extra\s+\d{1,3}\s*%|\d{1,3}\s*%\s*off|exclu\w*\s+from\s+(?:all\s+|any\s+)?promo|not\s+eligible\s+for\s+"
    r"(?:promo|discount)|final\s+sale"
    r"|suppl[ée]mentaire|\d{1,3}\s*%\s*de\s+(?:rabais|r[ée]duction)|exclue?s?\s+des\s+promo|vente\s+finale", re.I)
_STYLE_TEXT = re.compile(r"\bstyle\s*(?:#|no\.?|number|id)\s*:?\s*(\d{5,8})\b", re.I)
_STYLE_TEXT_LOWER = re.compile(r"style\s*(?:#|no\.?|number|id)\s*:?\s*\d{5,8}")  # on lowercased text: fast
_BARE_PERCENT = re.compile(r"^[(\-–\s]*(?:save\s+|[ée]conomisez\s+)?\d{1,3}\s*%\s*(?:off|de\s+rabais|de\s+"
                           r"r[ée]duction)?[)\s]*$", re.I)  # the markdown label
_PROMO_HINTS = ("% off", "%off", "exclu", "final sale", "eligible", "% de r", "vente finale", "admissible")
_TITLE_SUFFIX = re.compile(r"\s*[|\-–—]\s*(?:Gap|Gap Factory|GapFactory|Old Navy|Banana Republic|Athleta)\b.*$",
                           re.I)
_COLOR_PREFIX = re.compile(r"^(?:colou?r|selected colou?r)\s*:\s*", re.I)
_PROMO_WORDS = ("marketing", "promo", "discount", "exclu", "flag", "badge", "offer")
_FIT_WORDS = ("fit", "variant", "length", "inseam", "dimension2")
_OUTSIDE_PRODUCT = ("ancestor::header or ancestor::footer or ancestor::nav or ancestor::*[@role='banner' "
                    "or @role='navigation' or @role='contentinfo']")


def _tokens(el) -> set[str]:
    text = " ".join(filter(None, (el.get("data-testid"), el.get("id"), el.get("class"), el.get("name"),
                                  el.get("data-dimension"))))
    return set(_TOKEN_SPLIT.split(_CAMEL.sub("-", text).lower())) - {""}


def _attrs_say_unavailable(el) -> bool:
    if el is None:
        return False
    if el.get("disabled") is not None:
        return True
    if (el.get("aria-disabled") or "").strip().lower() == "true":
        return True
    for attr in ("data-available", "data-in-stock", "data-instock", "data-is-available"):
        if (el.get(attr) or "").strip().lower() == "false":
            return True
    if (el.get("data-oos") or el.get("data-out-of-stock") or "").strip().lower() == "true":
        return True
    blob = " ".join(filter(None, (el.get("data-testid"), el.get("class")))).lower()
    if any(token in blob for token in _OOS_TOKENS):
        return True
    label = el.get("aria-label") or el.get("title") or ""
    return bool(label and _OOS_WORDS.search(label))


def _option_available(control, label) -> bool:
    """Out of stock when any signal says so: the outofstock test id, aria-disabled, disabled, an unavailable
    class (on the input or its label), or an "out of stock" text/aria-label."""
    if _attrs_say_unavailable(control) or _attrs_say_unavailable(label):
        return False
    for el in (label, control):
        if el is not None and el.tag != "input":
            text = all_text(el) or ""
            if _OOS_WORDS.search(text):
                return False
    return True


def _label_text(control, label) -> str | None:
    text = None
    if label is not None:
        content = xpath(label, f'.//*[{class_xpath("fds_selector__content")}]')
        text = visible_text(content[0]) if content else visible_text(label)
    elif control is not None and control.tag != "input":
        text = visible_text(control)
    if not text and control is not None:
        text = clean(control.get("value")) or clean(control.get("aria-label")) or clean(control.get("data-value"))
        if not text and control.get("id") and "_" in control.get("id"):
            text = clean(control.get("id").rsplit("_", 1)[-1])
    if text:
        text = _LABEL_NOISE.sub("", text).strip() or None
    return text


class _Labels:
    """<label for=...> lookup for one document."""

    def __init__(self, index: "Index"):
        self.by_for: dict[str, object] = {}
        for label in index.tags["label"]:
            if label.get("for"):
                self.by_for.setdefault(label.get("for"), label)

    def of(self, control):
        ident = control.get("id")
        if ident and ident in self.by_for:
            return self.by_for[ident]
        sibling = control.getnext()
        if sibling is not None and sibling.tag == "label" and not sibling.get("for"):
            return sibling
        parent = control.getparent()
        while parent is not None and parent.tag not in ("body", "html"):
            if parent.tag == "label":
                return parent
            parent = parent.getparent() if parent.tag in ("span", "div") and len(parent) <= 3 else None
        return None


# ---------------------------------------------------------------- option groups (sizes, fits, lengths)

def _classify(hint: str, labels: list[str]) -> str | None:
    hint = hint.lower()
    if re.search(r"colou?r|swatch", hint):
        return None
    fit_words = all_fit_labels(labels)
    numeric = bool(labels) and all(is_length_label(x) for x in labels)
    if re.search(r"dimension[-_ ]?2|variant|\bfits?\b|fit[-_]|[-_]fit", hint):
        if fit_words:
            return "fit"
        if re.search(r"\bfits?\b|fit[-_]|[-_]fit", hint) and not numeric:
            return "fit"
        return "length"
    if re.search(r"length|inseam", hint):
        return "fit" if fit_words else "length"
    if re.search(r"dimension[-_ ]?1|dimension(?!\d)|size|waist|width", hint):
        return "size"
    if fit_words:
        return "fit"
    return None


def _group_hint(container, controls) -> str:
    parts = [container.get("data-dimension"), container.get("data-testid"), container.get("aria-label"),
             container.get("id")]
    for control in controls[:1]:
        parts.append(control.get("name"))
        ident = control.get("id") or ""
        parts.append(ident.rsplit("_", 1)[0] if "_" in ident else ident)
    parent = container.getparent()
    for _ in range(2):
        if parent is None:
            break
        parts.append(parent.get("data-testid"))
        legend = xpath(parent, "./legend | ./*[contains(@class, 'label')][1]")
        if legend:
            parts.append(all_text(legend[0]))
        parent = parent.getparent()
    return " ".join(p for p in parts if p)


_DIM2_TOKENS = frozenset({"fit", "fits", "variant", "variants", "length", "lengths", "inseam", "dimension2"})


def _name_tokens(index: "Index", container) -> set[str]:
    """Words of a group's accessible name: aria-label, aria-labelledby, its legend or a heading just before it."""
    parts = [container.get("aria-label")]
    for ident in (container.get("aria-labelledby") or "").split()[:3]:
        target = index.ids.get(ident)
        if target is not None:
            parts.append(all_text(target))
    legend = xpath(container, "./legend[1]")
    if legend:
        parts.append(all_text(legend[0]))
    previous = container.getprevious()
    if previous is not None and isinstance(previous.tag, str) and len(all_text(previous) or "") <= 40:
        parts.append(all_text(previous))
    text = " ".join(p for p in parts if p)
    return set(_TOKEN_SPLIT.split(_CAMEL.sub("-", text).lower())) - {""}


def _read_group(controls, labels: _Labels) -> list[dict]:
    options: list[dict] = []
    for control in controls:
        label = labels.of(control) if control.tag == "input" else None
        add_option(options, _label_text(control, label), _option_available(control, label))
    return options


def _option_groups(index: "Index", labels: _Labels) -> list[tuple[str, list[dict]]]:
    """(kind, options) for every size/fit/length selector on the page, page order."""
    groups: list[tuple[str, list[dict]]] = []
    used: set = set()
    containers = list(index.cls("pdp_size-selector-container__items"))
    containers.sort(key=lambda c: is_hidden(c))  # visible copies first; sort is stable
    for container in containers:
        controls = xpath(container, ".//input[not(@type) or @type='radio' or @type='checkbox']")
        if not controls:
            controls = xpath(container, ".//button | .//*[@role='radio' or @role='option']")
        if not controls:
            continue
        used.update(controls)
        options = _read_group(controls, labels)
        kind = _classify(_group_hint(container, controls), [o["label"] for o in options]) or "size"
        groups.append((kind, options))

    # Radio groups elsewhere (other generations): buybox-variant, *Dimension2*, fit words...
    by_name: dict[str, list] = {}
    for control in index.tags["input"]:
        if (control.get("type") or "").lower() != "radio":
            continue
        if control in used:
            continue
        name = control.get("name") or ""
        if re.search(r"colou?r|swatch", name + " " + (control.get("data-testid") or ""), re.I):
            continue
        if xpath(control, "ancestor::*[contains(@class, 'color') or contains(@class, 'colour') or "
                          "contains(@data-testid, 'color')]"):
            continue
        by_name.setdefault(name or f"#{id(control.getparent())}", []).append(control)
    for name, controls in by_name.items():
        used.update(controls)
        options = _read_group(controls, labels)
        parent = controls[0].getparent()
        hint = " ".join(filter(None, [name, (controls[0].get("id") or "").rsplit("_", 1)[0],
                                      parent.get("data-testid") if parent is not None else None]))
        kind = _classify(hint, [o["label"] for o in options])
        if kind:
            groups.append((kind, options))

    # Drop-down menus (<select>) named like a dimension.
    for select in index.tags["select"]:
        hint = " ".join(filter(None, (select.get("name"), select.get("id"), select.get("data-testid"),
                                      select.get("aria-label"), all_text(labels.by_for[select.get("id")])
                                      if select.get("id") in labels.by_for else None)))
        if not hint or re.search(r"colou?r|swatch|quantity|\bqty\b|sort", hint, re.I):
            continue
        options = []
        for option in xpath(select, ".//option"):
            value = (option.get("value") or "").strip()
            text = _LABEL_NOISE.sub("", all_text(option) or "").strip() or None
            if not value and (not text or re.match(r"(?:select|choose)\b", text, re.I)):
                continue  # the placeholder
            add_option(options, text or value, _option_available(option, None))
        kind = _classify(hint, [o["label"] for o in options]) if options else None
        if kind and not (kind == "size" and any(k == "size" for k, _o in groups)):
            groups.append((kind, options))

    # Button / link groups in containers whose test id, class or accessible name says fit / variant / length,
    # and radio groups (role=radiogroup, fieldsets) whose labels are all fit words.
    group_set = set(index.groups)
    for container in index._ordered(index.fitish + index.groups):
        tokens = _tokens(container)
        if container in group_set:
            tokens |= _name_tokens(index, container)
        elif not tokens & _DIM2_TOKENS:
            continue
        if tokens & {"color", "colour", "swatch", "swatches"}:
            continue
        controls = xpath(container, "./button | ./a | ./li | ./*[@role='radio' or @role='option'] | "
                                    "./ul/li | ./*/button")
        if not controls or any(c in used for c in controls) or xpath(container, ".//input[@type='radio']"):
            continue
        options: list[dict] = []
        for control in controls:
            inner = xpath(control, "./button | ./a")
            target = inner[0] if inner else control
            add_option(options, _label_text(target, None), _option_available(target, None)
                       and _option_available(control, None))
        labels_ = [o["label"] for o in options]
        hint = " ".join(sorted(tokens))
        kind = _classify(hint, labels_)
        if kind in ("fit", "length") and len(options) <= 12:
            used.update(controls)
            groups.append((kind, options))
    return groups


# ---------------------------------------------------------------- title, price, colours

def _title(index: "Index") -> str | None:
    candidates = [h for h in index.tags["h1"]
                  if "pdp-product-title" in classes(h) or h.get("data-testid") == "product-title"]
    if not candidates:
        candidates = index._ordered(index.testid("product-title", "pdp-product-title") + [
            h for h in index.tags["h1"] if re.search(r"product-(?:title|name)", h.get("class") or "")])
    element = first_visible(candidates)
    if element is not None:
        return visible_text(element) or all_text(element)
    return None


def _fallback_title(index: "Index") -> str | None:
    values = [m.get("content") for m in index.tags["meta"] if m.get("property") == "og:title"]
    values += [t.text for t in index.tags["title"]]
    for value in values:
        text = clean(_TITLE_SUFFIX.sub("", value or ""))
        if text:
            return text
    return None


def _page_urls(index: "Index") -> list[str]:
    urls = [el.get("href") for el in index.tags["link"] if (el.get("rel") or "").lower() == "canonical"]
    urls += [el.get("content") for el in index.tags["meta"] if el.get("property") == "og:url"]
    return [u for u in urls if u]


def _canadian(index: "Index") -> bool:
    lang = " ".join(xpath(index.doc, "/html/@lang")).lower()
    urls = " ".join(_page_urls(index)).lower()
    return lang.endswith("-ca") or ".ca/" in urls or urls.endswith(".ca")


def _money(match) -> tuple[str | None, str | None]:
    """(amount, currency) of a _PRICE_TEXT match, either form."""
    if match.group(2) is not None:
        return amount(match.group(2)), currency_of(match.group(1))
    country = match.group(5)
    return amount(match.group(3)), currency_of(f"{country}{match.group(4)}" if country else match.group(4))


def _amount_of(el) -> tuple[str | None, str | None]:
    text = visible_text(el) or all_text(el) or ""
    match = _PRICE_TEXT.search(text)
    if match:
        return _money(match)
    return amount(text) if re.search(r"\d", text) else None, None


_CURRENT_CLASSES = ("current-sale-price", "current-black-promo-price", "product-price__highlight",
                    "current-price", "sale-price", "promo-price", "price--current", "now-price", "price-current")
_REGULAR_XPATH = (".//*[contains(@class, 'strike') or contains(@class, 'regular') or "
                  "contains(@class, 'original-price') or contains(@class, 'was-price') or "
                  "contains(@class, 'price--regular') or contains(@class, 'list-price') or "
                  "contains(@data-testid, 'regular') or contains(@data-testid, 'strike') or "
                  "contains(@aria-label, 'egular price') or self::s or self::del or self::strike]")


def _prices_in(container, current_hint: str | None = None) -> tuple[str | None, str | None, str | None]:
    """(current, regular, currency) inside one price container: classes first, then amounts (the lowest is
    current, a higher one the regular price)."""
    cur_el = [e for e in container.iter(etree.Element) if any(c in classes(e) for c in _CURRENT_CLASSES)]
    cur_set = set(cur_el)
    reg_el = [e for e in xpath(container, _REGULAR_XPATH)
              if e not in cur_set and not any(d in cur_set for d in e.iterdescendants())]
    current = current_hint
    regular = currency = None
    if cur_el and current is None:
        current, currency = _amount_of(first_visible(cur_el))
    if reg_el:
        regular, reg_currency = _amount_of(first_visible(reg_el))
        currency = currency or reg_currency
    if current is None or regular is None:
        text = _PRICE_RANGE_HIGH.sub(" ", visible_text(container) or "")
        amounts = [_money(m) for m in _PRICE_TEXT.finditer(text)]
        amounts = [a for a in amounts if a[0]]
        if amounts:
            values = sorted({a[0] for a in amounts}, key=float)
            currency = currency or amounts[0][1]
            if current is None:
                current = values[0]
            higher = [v for v in values if float(v) > float(current)]
            if regular is None and higher and len(values) <= 3:
                regular = higher[-1]
    if current_hint is not None and regular == current_hint:
        regular = None
    return (None if current_hint is not None else current), regular, currency


def _price(index: "Index", facts: dict) -> None:
    doc = index.doc
    wrappers = index.testid("pdp-markdown-title-price", "pdp-title-price-wrapper")
    markdown = any(w.get("data-testid") == "pdp-markdown-title-price" for w in wrappers)
    if not wrappers:
        wrappers = xpath(doc, "//*[contains(@class, 'pdp-pricing') or contains(@class, 'product-price') or "
                              "contains(@data-testid, 'price')][not(" + _OUTSIDE_PRODUCT + ")]")
        # keep outermost containers only, not those of recommended products
        wrappers = [w for w in wrappers if not any(a in wrappers for a in w.iterancestors())
                    and not _outside_product(w)]
    wrappers.sort(key=lambda w: is_hidden(w))
    current = regular = currency = None
    percent = None
    for wrapper in wrappers:
        current, regular, currency = _prices_in(wrapper)
        text = visible_text(wrapper) or ""
        match = _PERCENT_OFF.search(text)
        if match and percent is None:
            percent = percent_number(match.group(1))
        if current is not None:
            if regular is None and wrapper.getparent() is not None and (
                    markdown or wrapper.get("data-testid") is None):
                # "the struck-through regular price in a separate span": next to the wrapper
                _cur, regular, reg_currency = _prices_in(wrapper.getparent(), current_hint=current)
                currency = currency or reg_currency
            break
    if regular is None:
        strikes = [el for el in index.cls("product-price__strike") if not _outside_product(el)]
        if strikes:
            regular, reg_currency = _amount_of(first_visible(strikes))
            currency = currency or reg_currency
    if currency == "USD" and _canadian(index):
        currency = "CAD"
    facts["current"], facts["regular"], facts["currency"] = current, regular, currency
    facts["percent_off"] = percent
    facts["markdown"] = markdown or (regular is not None and current is not None and regular != current)


def _swatch_cc(swatch) -> str | None:
    for container in swatch.iterancestors():
        if "pdp-color-picker-swatch-container" in classes(container) or "swatch" in (container.get("class") or ""):
            ident = container.get("id") or ""
            match = re.search(r"\d{6,}", ident)
            if match:
                return match.group(0)
            if "pdp-color-picker-swatch-container" in classes(container):
                break
    for attr in ("data-cc-id", "data-ccid", "data-pid", "data-cc", "value", "id"):
        value = swatch.get(attr) or ""
        match = re.fullmatch(r"\D{0,20}?(\d{6,12})", value)
        if match:
            return match.group(1)
    links = xpath(swatch, "ancestor-or-self::a[1]/@href | ../a/@href | ./a/@href")
    return pid_of(links[0]) if links else None


def _colors(index: "Index", facts: dict, labels: _Labels) -> None:
    tagged = index.testid_prefix("pdp-color-swatch")
    tagged_set = set(tagged)
    swatches = [el for el in tagged if el.tag == "input" or not any(
        d in tagged_set for d in el.iterdescendants("input"))]
    if not swatches:
        swatches = index._ordered(
            [i for c in index.cls("pdp-color-picker-swatch-container") for i in c.iterdescendants("input")]
            + [i for i in index.tags["input"] if (i.get("type") or "").lower() == "radio"
               and re.search(r"colou?r", i.get("name") or "")])
    selected_name = None
    seen = set()
    for swatch in swatches:
        label = labels.of(swatch) if swatch.tag == "input" else None
        # the accessible name: aria-label, else the label's text (a screen-reader-only span counts), title...
        name = clean(swatch.get("aria-label")) or (
            (visible_text(label) or all_text(label)) if label is not None else None) \
            or clean(swatch.get("title")) or clean(swatch.get("data-color-name"))
        if not name:
            imgs = xpath(swatch, ".//img/@alt | ../img/@alt") + (xpath(label, ".//img/@alt") if label is not None
                                                                 else [])
            name = next((clean(alt) for alt in imgs if clean(alt)), None)
        if name:
            name = _COLOR_PREFIX.sub("", _LABEL_NOISE.sub("", name).strip() or name) or name
        cc = _swatch_cc(swatch)
        if not name and not cc:
            continue
        key = cc or (name or "").casefold()
        if key in seen:
            continue
        seen.add(key)
        available = _option_available(swatch, label)
        facts["colors"].append({"name": name, "cc_id": cc, "available": available})
        blob = " ".join(filter(None, (swatch.get("class"), swatch.get("aria-checked"),
                                      swatch.get("aria-pressed"), swatch.get("aria-selected"))))
        if swatch.get("checked") is not None or re.search(r"\btrue\b|selected|active|checked", blob):
            facts["selected_cc"] = facts.get("selected_cc") or cc
            selected_name = selected_name or name
    values = index.testid("pdp-color-value")
    if not values:
        values = xpath(index.doc, "//*[contains(@class, 'color-picker__value') or "
                                  "contains(@class, 'swatch-label__value')"
                            " or contains(@class, 'selected-color')]")
    element = first_visible(values)
    name = visible_text(element) if element is not None else None
    facts["color_name"] = _COLOR_PREFIX.sub("", name) if name else selected_name
    if not facts.get("selected_cc") and facts["color_name"]:
        # no swatch marked selected: the swatch named like the shown colour is the page's colour
        wanted = fold(facts["color_name"])
        matches = {c["cc_id"] for c in facts["colors"] if c["cc_id"] and fold(c["name"]) == wanted}
        if len(matches) == 1:
            facts["selected_cc"] = matches.pop()


# ---------------------------------------------------------------- messages, details, images, ids

# Containers of other products on a product page: recommendation carousels, product cards, recently viewed...
_OTHER_PRODUCTS = re.compile(
    r"recommend|product[-_]?(?:card|tile)|also[-_]?(?:like|bought|viewed)|certona|(?:complete|shop)[-_]?the[-_]?look"
    r"|recently[-_]?viewed|similar[-_]?(?:items|products|styles)|sponsored|cross[-_]?sell|upsell|(?:^|[-_\s])recs?"
    r"(?:$|[-_\s])"
    # site-wide messaging outside the header: offers for every product or for signing up, not this product's
    r"|site[-_]?wide|global[-_]?(?:promo|banner|message)|(?:email|newsletter)[-_]?(?:sign[-_]?up|capture|modal)"
    r"|(?:^|[-_\s])edfs(?:$|[-_\s])", re.I)


def _foreign_container(el) -> bool:
    if el.tag in ("header", "footer", "nav"):
        return True
    get = el.get
    if get("role") in ("banner", "navigation", "contentinfo"):
        return True
    blob = " ".join(filter(None, (get("class"), get("data-testid"), get("id"))))
    return bool(blob and _OTHER_PRODUCTS.search(blob))


def _outside_product(el, cache: dict | None = None) -> bool:
    """Inside the site header, footer or navigation (banners there are not about this product), or inside a
    recommendation carousel / product card (those messages, prices and images belong to other products).
    `cache` (element -> answer for its descendants) keeps this linear on pages with thousands of cards."""
    path = []
    answer = False
    for ancestor in el.iterancestors():
        if cache is not None and ancestor in cache:
            answer = cache[ancestor]
            break
        path.append(ancestor)
        if _foreign_container(ancestor):
            answer = True
            break
    if cache is not None:
        # every ancestor walked below the deciding one shares its answer for its own descendants
        for ancestor in path:
            cache[ancestor] = answer
    return answer


def _in_price(el) -> bool:
    node = el
    while node is not None:
        if "price" in (node.get("data-testid") or "") or "pricing" in (node.get("class") or ""):
            return True
        node = node.getparent()
    return False


class Index:
    """One pass over the document: elements by class token, test id and tag, plus the candidates for messages
    and fit groups. Lookups are dict hits instead of XPath scans of a 200 KB page."""

    TAGS = ("label", "input", "h1", "button", "img", "link", "meta", "title", "select")

    def __init__(self, doc):
        self.doc = doc
        self.by_class: dict[str, list] = {}
        self.by_testid: dict[str, list] = {}
        self.tags: dict[str, list] = {tag: [] for tag in self.TAGS}
        self.with_ids: list = []  # elements with data-pid / data-cc-id / data-style-id
        self.promoish: list = []
        self.fitish: list = []
        self.groups: list = []  # role=radiogroup / listbox / group, fieldsets: option groups of any markup
        self.ids: dict = {}
        self.order: dict = {}
        # <template> content is never rendered, <noscript> content only without JavaScript (a size selector or
        # title there is a copy, or a stale one): neither is the page a shopper sees. A <noscript> image still
        # counts (lazy-loading pages put the real src there).
        inert = {d for t in doc.iter("template", "noscript") for d in t.iterdescendants()}
        for n, el in enumerate(doc.iter(etree.Element)):
            tag = el.tag
            if tag in ("script", "style"):
                continue
            if inert and el in inert:
                if tag == "img" and not any(a.tag == "template" for a in el.iterancestors()):
                    self.tags["img"].append(el)
                continue
            if tag in self.tags:
                self.tags[tag].append(el)
            get = el.get
            cls, testid, ident = get("class"), get("data-testid"), get("id")
            if tag == "fieldset" or get("role") in ("radiogroup", "listbox", "group"):
                self.groups.append(el)
                self.order[el] = n
            if not (cls or testid or ident):
                continue
            self.order[el] = n
            if ident:
                self.ids.setdefault(ident, el)
            if cls:
                for token in cls.split():
                    self.by_class.setdefault(token, []).append(el)
            if testid:
                self.by_testid.setdefault(testid, []).append(el)
            if get("data-pid") or get("data-cc-id") or get("data-style-id"):
                self.with_ids.append(el)
            blob = f"{cls or ''} {testid or ''}".lower()
            for word in _PROMO_WORDS:
                if word in blob:
                    self.promoish.append(el)
                    break
            if ident:
                blob = f"{blob} {ident.lower()}"
            for word in _FIT_WORDS:
                if word in blob:
                    self.fitish.append(el)
                    break

    def cls(self, *names) -> list:
        found = [el for name in names for el in self.by_class.get(name, ())]
        return self._ordered(found) if len(names) > 1 else found

    def testid(self, *values) -> list:
        found = [el for value in values for el in self.by_testid.get(value, ())]
        return self._ordered(found) if len(values) > 1 else found

    def testid_prefix(self, prefix: str) -> list:
        return self._ordered([el for value, els in self.by_testid.items() if value.startswith(prefix) for el in els])

    def _ordered(self, elements: list) -> list:
        unique = list(dict.fromkeys(elements))
        unique.sort(key=lambda el: self.order.get(el, 0))
        return unique


def _messages(index: "Index", text: str | None) -> list[str]:
    doc = index.doc
    cache: dict = {}
    candidates = [el for el in index.promoish if not _foreign_container(el) and not _outside_product(el, cache)]
    found: list[str] = []
    hidden: list[str] = []
    texts = []
    for el in candidates:
        value = visible_text(el, skip_tags=("a", "button")) or visible_text(el)  # not the "Details" link
        hidden_text = is_hidden(el)  # a closed modal, a hidden duplicate: only when nothing visible says it
        if not value:
            value, hidden_text = all_text(el), True
        ok = bool(value and len(value) <= 200 and _PROMO.search(value) and not _BARE_PERCENT.match(value))
        if ok and _in_price(el) and not _PROMO_STRONG.search(value):
            ok = False  # price labels ("Save $22"); a real offer message inside the price block still counts
        texts.append((el, value, hidden_text, ok))
    carriers = {el for el, _v, _h, ok in texts if ok}
    for el, value, hidden_text, ok in texts:
        if not ok or any(d in carriers for d in el.iterdescendants()):
            continue  # the innermost element that carries a message (not its "Details" link) wins
        add_unique(hidden if hidden_text else found, value)
    if not found and not hidden and (text is None or any(hint in text for hint in _PROMO_HINTS)):
        for node in xpath(doc, "//body//text()[contains(., '%') or contains(., 'xclu') or contains(., 'XCLU') or "
                               "contains(., 'inal sale') or contains(., 'inal Sale') or contains(., 'INAL SALE') or "
                               "contains(., 'ligible')][not(ancestor::script or ancestor::style)]"):
            if not _PROMO_STRONG.search(str(node)):
                continue
            parent = node.getparent()
            if parent is None or is_hidden(parent) or _outside_product(parent) or _in_price(parent):
                continue
            if any("banner" in (a.get("class") or "") for a in parent.iterancestors()):
                continue
            value = visible_text(parent, skip_tags=("a", "button")) or visible_text(parent)
            if value and len(value) <= 200 and not _BARE_PERCENT.match(value):
                add_unique(found, value)
    return found or hidden


def _details(index: "Index") -> dict[str, list[str]]:
    details: dict[str, list[str]] = {}

    def add(title, items):
        title = clean(title)
        if not title or len(title) > 80:
            return
        bullets = details.setdefault(title, [])
        for item in items:
            add_unique(bullets, item)
        if not bullets:
            del details[title]

    panels = index.cls("fds_panel")
    panel_set = set(panels)
    panels = [p for p in panels if not any(d in panel_set for d in p.iterdescendants())]
    panels.sort(key=lambda p: is_hidden(p))
    for panel in panels:
        title_el = (xpath(panel, ".//*[contains(@class, 'fds_panel__title')]")
                    or xpath(panel, ".//h2 | .//h3 | .//h4 | .//h5 | .//summary")
                    or xpath(panel, ".//button")
                    or xpath(panel, ".//*[contains(@class, 'title') or contains(@class, 'heading') or "
                                    "contains(@class, 'header')]"))
        title = (visible_text(title_el[0]) or all_text(title_el[0])) if title_el else None
        title = re.sub(r"\s*[+\-−]\s*$", "", title or "") or None
        items = xpath(panel, ".//ul[contains(@class, 'product-information-item__list')]/li") or _top_items(panel)
        if not items:
            add(title, [line for p in xpath(panel, ".//p") if p not in title_el for line in _lines(p)])
            continue
        add(title, [bullet for li in items for bullet in _bullets(li)])
    if not details:
        for ul in [el for el in index.cls("product-information-item__list") if el.tag == "ul"]:
            heading = xpath(ul, "preceding-sibling::*[self::h2 or self::h3 or self::h4 or self::h5][1] | "
                                "../preceding-sibling::*[self::h2 or self::h3 or self::h4 or self::h5][1]")
            title = (visible_text(heading[-1]) or all_text(heading[-1])) if heading else "Product details"
            add(title, [bullet for li in xpath(ul, "./li") for bullet in _bullets(li)])
    return details


_LINE_BREAK = "\ue000"  # a private-use character: no page text holds it, and it is not whitespace


def _lines(p) -> list[str]:
    """A paragraph's text; one bullet per line when <br> breaks it into lines ("Soft.<br>Ribbed trim.")."""
    if next(p.iter("br"), None) is None:
        return [visible_text(p) or all_text(p) or ""]
    copy = deepcopy(p)
    for br in list(copy.iter("br")):
        br.tail = _LINE_BREAK + (br.tail or "")
    text = visible_text(copy) or all_text(copy) or ""
    return [line for line in (clean(part) for part in text.split(_LINE_BREAK)) if line]


def _top_items(container) -> list:
    """The list items of `container` that are not inside another list item of it."""
    out = []
    for li in container.iterdescendants("li"):
        node = li.getparent()
        while node is not None and node is not container and node.tag != "li":
            node = node.getparent()
        if node is None or node is container:
            out.append(li)
    return out


def _bullets(li) -> list[str]:
    """A bullet and, when it holds a nested list, each nested item as a bullet of its own ("Shell:",
    "64% polyester", ...), instead of one run-together line."""
    nested = xpath(li, "./ul/li | ./ol/li | ./div/ul/li | ./div/ol/li")
    if not nested:
        return [visible_text(li) or all_text(li) or ""]
    own = visible_text(li, skip_tags=("ul", "ol"))
    return ([own] if own else []) + [bullet for item in nested for bullet in _bullets(item)]


def _image_src(img) -> str | None:
    for attr in ("src", "data-src", "data-original", "data-lazy-src"):
        value = clean(img.get(attr))
        if value and not value.startswith("data:"):
            return value
    srcset = clean(img.get("srcset") or img.get("data-srcset"))
    if srcset:
        return srcset.split(",")[0].strip().split(" ")[0] or None
    return None


def _images(index: "Index") -> list[str]:
    urls: list[str] = []
    imgs = index.tags["img"]
    groups = (
        [i for el in index.testid("pdp-photo-brick-image") for i in ([el] if el.tag == "img" else
                                                                    el.iterdescendants("img"))],
        [i for i in imgs if re.search(r"View large product image|image number", i.get("alt") or "")
         and not _outside_product(i)],
        [i for i in imgs if re.search(r"/webcontent/|content\.gapinc\.com",
                                      f"{i.get('src') or ''} {i.get('data-src') or ''}")
         and not _outside_product(i)],
    )
    for group in groups:
        for img in group:
            src = _image_src(img)
            if src and not src.lower().endswith((".mp4", ".webm")):
                add_unique(urls, src)
        if urls:
            break
    return urls


def _ids(index: "Index", facts: dict, text: str | None = None) -> None:
    doc = index.doc
    urls = _page_urls(index)
    for url in urls:
        pid = pid_of(str(url))
        if pid:
            facts["cc_id"] = pid
            break
    if urls:
        facts["url"] = clean(str(urls[0]))
    if facts["cc_id"] is None:
        values = [i.get("value") for i in index.tags["input"] if i.get("name") == "pid"]
        values += [el.get("data-pid") or el.get("data-cc-id") for el in index.with_ids if not _outside_product(el)]
        values = [v for v in values if v]
        for value in values:
            if re.fullmatch(r"\d{6,12}", str(value).strip()):
                facts["cc_id"] = str(value).strip()
                break
    if facts["cc_id"] is None and facts.get("selected_cc"):
        facts["cc_id"] = facts["selected_cc"]
    values = [el.get("data-style-id") for el in index.with_ids if el.get("data-style-id") and not _outside_product(el)]
    if values and id_text(values[0]):
        facts["style_id"] = id_text(values[0])
    elif text is None or _STYLE_TEXT_LOWER.search(text):
        for node in xpath(doc, "//body//text()[contains(translate(., 'STYLE', 'style'), 'style')]"
                               "[not(ancestor::script or ancestor::style)]"):
            match = _STYLE_TEXT.search(str(node))
            if match:
                facts["style_id"] = match.group(1)
                break


def _buy_button_available(index: "Index") -> bool | None:
    buttons = [b for b in index.tags["button"] if re.search(
        r"add-to-bag|addtobag|add_to_bag", f"{b.get('class')} {b.get('data-testid')} {b.get('id')}".lower())]
    button = first_visible(buttons)
    if button is None:
        return None
    if _attrs_say_unavailable(button) or _OOS_WORDS.search(all_text(button) or ""):
        return False
    return True


def extract(doc, text: str | None = None) -> tuple[dict, list[str]]:
    """Facts from the markup; `text` (the page source) lets cheap checks skip full-text scans."""
    text = text.lower() if text else None
    facts = new_facts()
    warnings: list[str] = []
    index = Index(doc)
    labels = _Labels(index)
    facts["title"] = _title(index)
    facts["fallback_title"] = _fallback_title(index)
    _price(index, facts)
    _colors(index, facts, labels)
    for kind, options in _option_groups(index, labels):
        key = {"size": "sizes", "fit": "fits", "length": "lengths"}[kind]
        for option in options:
            add_option(facts[key], option["label"], option["available"])
    facts["messages"] = _messages(index, text)
    facts["details"] = _details(index)
    facts["images"] = _images(index)
    _ids(index, facts, text)
    facts["buy_button"] = _buy_button_available(index)
    description = [m.get("content") for m in index.tags["meta"] if m.get("name") == "description"]
    facts["description"] = clean(description[0]) if description else None
    facts["product_page"] = bool(
        [h for h in index.tags["h1"] if "pdp-product-title" in classes(h)] or index.testid("product-title")
        or index.cls("pdp_size-selector-container__items")
        or index.testid("pdp-title-price-wrapper", "pdp-markdown-title-price"))
    facts["found"] = bool(facts["title"] or facts["current"] or facts["sizes"] or facts["product_page"])
    return facts, warnings
