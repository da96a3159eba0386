"""Small pure helpers shared by every source: text, amounts, currencies, availability, option labels."""

from __future__ import annotations

import html
import re
from decimal import ROUND_HALF_UP, Decimal, InvalidOperation
from urllib.parse import parse_qs, urlsplit

_WS = re.compile(r"\s+")
_ENTITY = re.compile(r"&(?:#\d+|#[xX][0-9a-fA-F]+|[A-Za-z][A-Za-z0-9]{1,31});")


def clean(value) -> str | None:
    """Collapse whitespace (also no-break spaces); None for empty or non-text values."""
    if value is None or isinstance(value, (bool, dict, list, tuple)):
        return None
    text = _WS.sub(" ", str(value).replace("\xa0", " ")).strip()
    return text or None


def unescape(value) -> str | None:
    """Decode HTML entities left in structured data (JSON-LD and state are often HTML-escaped by templates)."""
    text = clean(value)
    if text and "&" in text and _ENTITY.search(text):
        text = clean(html.unescape(text))
    return text


_INLINE_TAGS = "b|i|u|em|strong|span|a|sup|sub|small|font|mark"
_BLOCK_TAGS = "br|p|div|ul|ol|li|h[1-6]|hr|table|tr|td|th|dl|dt|dd|section"
_HTML_TAG = re.compile(r"<(/?)(" + _INLINE_TAGS + "|" + _BLOCK_TAGS + r")\b(?:\s[^<>]*)?/?>", re.I)
_INLINE = re.compile(r"^(?:" + _INLINE_TAGS + ")$", re.I)


def plain_text(value) -> str | None:
    """Text of a structured-data string as shown: entities decoded, HTML markup of rich-text values dropped
    (`"Made with <b>love</b>"`, `"Soft.<br>Stretchy."` -> "Soft. Stretchy."); other `<` text (`"Sizes <5"`) stays."""
    return " ".join(plain_lines(value)) or None


def plain_lines(value) -> list[str]:
    """A rich-text paragraph of structured data as the lines a shopper sees: split where its HTML breaks a line
    (`<br>`, `<p>`, `<li>`...), each line as `plain_text` gives it; plain text is one line."""
    text = unescape(value)
    if not text:
        return []
    if "<" not in text or not _HTML_TAG.search(text):
        return [text]
    marked = _HTML_TAG.sub(lambda m: "" if _INLINE.match(m.group(2)) else "\ue000", text)
    return [line for line in (unescape(part) for part in marked.split("\ue000")) if line]


def fold(value) -> str:
    """A comparison key: whitespace collapsed, case folded, a few look-alike characters unified."""
    text = clean(value) or ""
    return text.replace("\u2019", "'").replace("\u2013", "-").casefold()


def id_text(value) -> str | None:
    """An identifier as a string ("796255962"); numbers become strings, floats like 796255.0 lose the .0."""
    if value is None or isinstance(value, bool):
        return None
    if isinstance(value, float):
        if value != value or value in (float("inf"), float("-inf")):
            return None
        value = int(value) if value.is_integer() else value
    text = clean(value)
    if not text or len(text) > 64:
        return None
    return text


# ---------------------------------------------------------------- amounts and currencies

_AMOUNT = re.compile(r"\d[\d,.' ]*")
_CENT = Decimal("0.01")

# Longest symbols first: "CA$" must win over "$".
CURRENCY_SYMBOLS = (
    ("CA$", "CAD"), ("C$", "CAD"), ("CAD$", "CAD"), ("US$", "USD"), ("USD$", "USD"), ("AU$", "AUD"),
    ("A$", "AUD"), ("MX$", "MXN"), ("€", "EUR"), ("£", "GBP"), ("¥", "JPY"), ("$", "USD"),
)
_ISO = re.compile(r"(?<![A-Za-z])(USD|CAD|EUR|GBP|JPY|AUD|MXN)(?![A-Za-z])")
# "CA$", also printed with a space ("CA $59.99")
_SYMBOL = re.compile(r"\b(?:(CAD|CA|USD|US|AU|MX)\s?|(C|A))\$|(€|£|¥|\$)")
_SYMBOL_CODES = dict(CURRENCY_SYMBOLS)


def decents(node: dict) -> dict:
    """`node` with amounts given in cents also under their plain name: `"currentPriceInCents": 2400` ->
    `"currentprice": 24.00`, `{"centAmount": 2400, "fractionDigits": 2}` -> `"amount"`; other nodes as they are."""
    if not any(isinstance(k, str) and "cent" in k.lower() for k in node):
        return node
    out = {str(k).lower(): v for k, v in node.items()}
    for key, value in list(out.items()):
        if not isinstance(value, (int, float, str)) or isinstance(value, bool):
            continue
        if key == "centamount":
            base, digits = "amount", out.get("fractiondigits", 2)
        elif key.endswith("cents") and key != "percents":
            base, digits = key[:-7] if key.endswith("incents") else key[:-5], 2
            base = base.rstrip("_") or "amount"
        else:
            continue
        try:
            number = Decimal(str(value).strip()) / (Decimal(10) ** int(digits))
        except (InvalidOperation, ValueError, TypeError):
            continue
        if base not in out and number.is_finite():
            out[base] = number
    return out


def amount(value) -> str | None:
    """A money amount as a two-decimal string ("44.00"); accepts 44, 44.0, "44.0", "$1,234.5", "CA$ 44,00";
    a dict by its amount key (cents keys such as `centAmount`, `priceInCents` count, see `decents`)."""
    if value is None or isinstance(value, bool):
        return None
    if isinstance(value, dict):
        keyed = {str(k).lower(): v for k, v in decents(value).items()}  # decents gives lowercase keys: compare so
        for key in ("amount", "value", "current", "currentprice", "effectiveprice", "saleprice", "price", "min",
                    "minprice", "raw", "regular", "regularprice"):
            if key in keyed:
                return amount(keyed[key])
        return None
    if isinstance(value, (int, float, Decimal)):
        try:
            number = Decimal(str(value))
        except InvalidOperation:
            return None
    else:
        text = str(value).replace("\xa0", " ")
        match = _AMOUNT.search(text)
        if not match:
            return None
        number = _decimal_from_text(match.group(0).strip(" ,.'"))
        if number is None:
            return None
    if not number.is_finite() or number < 0 or number > Decimal("10000000"):
        return None
    return str(number.quantize(_CENT, rounding=ROUND_HALF_UP))


def _decimal_from_text(text: str) -> Decimal | None:
    text = text.replace(" ", "").replace("'", "")
    if "," in text and "." in text:
        # the last separator is the decimal one: 1,234.50 or 1.234,50
        if text.rfind(",") > text.rfind("."):
            text = text.replace(".", "").replace(",", ".")
        else:
            text = text.replace(",", "")
    elif "," in text:
        head, _, tail = text.rpartition(",")
        text = text.replace(",", "") if len(tail) == 3 else head.replace(",", "") + "." + tail
    elif text.count(".") > 1:
        head, _, tail = text.rpartition(".")
        text = head.replace(".", "") + "." + tail
    try:
        return Decimal(text)
    except InvalidOperation:
        return None


def currency_of(text) -> str | None:
    """The ISO currency a price text shows: "CA$44.00" -> CAD, "$44.00" -> USD, "44.00 EUR" -> EUR."""
    if not isinstance(text, str) or not text:
        return None
    match = _SYMBOL.search(text)
    if match:
        prefix = match.group(1) or match.group(2)
        return _SYMBOL_CODES[prefix + "$" if prefix else match.group(3)]
    match = _ISO.search(text)
    return match.group(1) if match else None


def currency_code(value) -> str | None:
    """A currency given as a code or a symbol, normalised to the ISO code."""
    text = clean(value)
    if not text:
        return None
    if re.fullmatch(r"[A-Za-z]{3}", text):
        return text.upper()
    return currency_of(text)


def percent_between(current: str | None, regular: str | None) -> int | None:
    """Percent off the regular price, rounded half up like Gap's percentageOff; None without both prices."""
    if current is None or regular is None:
        return None
    cur, reg = Decimal(current), Decimal(regular)
    if reg <= 0 or cur > reg:
        return None
    return int(((reg - cur) * 100 / reg).quantize(Decimal(1), rounding=ROUND_HALF_UP))


def percent_number(value) -> int | float | None:
    """17, "17", "17%", "17.0" -> 17; "12.5" -> 12.5; "" -> None."""
    if value is None or isinstance(value, bool):
        return None
    match = re.search(r"\d+(?:\.\d+)?", str(value))
    if not match:
        return None
    number = Decimal(match.group(0))
    if number > 100:
        return None
    return int(number) if number == number.to_integral_value() else float(number)


# ---------------------------------------------------------------- availability

_IN = frozenset({
    "instock", "available", "true", "yes", "y", "1", "limitedavailability", "low", "verylow", "lowstock",
    "limitedstock", "limited", "onlineonly", "preorder", "presale", "backorder", "backordered", "buyable",
    "purchasable", "sellable", "orderable", "fewleft", "onlyafewleft", "almostgone", "lowinventory",
})
_OUT = frozenset({
    "outofstock", "soldout", "unavailable", "notavailable", "discontinued", "false", "no", "n", "0", "oos",
    "instoreonly", "none", "notinstock", "nostock", "notsellable", "notpurchasable",
})
_SEPARATORS = re.compile(r"[\s_\-]+")


def availability(value) -> bool | None:
    """True/False for the many ways data says "can be bought" (schema.org URLs, Gap statuses, flags, counts)."""
    if value is None:
        return None
    if isinstance(value, bool):
        return value
    if isinstance(value, (int, float)):
        return value > 0
    if not isinstance(value, str):
        return None
    text = value.strip().lower()
    if "schema.org/" in text:
        text = text.rsplit("/", 1)[-1]
    compact = _SEPARATORS.sub("", text)
    if compact in _IN:
        return True
    if compact in _OUT:
        return False
    if "outofstock" in compact or "soldout" in compact or "unavailable" in compact:
        return False
    if "instock" in compact:
        return True
    return None


# ---------------------------------------------------------------- option labels (sizes, fits, lengths)

FIT_CORE_WORDS = frozenset({
    "regular", "tall", "petite", "short", "long", "plus", "maternity", "standard", "curvy", "big",
})
_FIT_FILLER = frozenset({"extra", "and", "&", "+", "fit"})
_LENGTH = re.compile(r"""^(?:\d{2}(?:\.\d)?|\d{2}(?:\.\d)?\s*(?:"|”|in\.?|inch(?:es)?|l|cm))$""", re.I)


def is_fit_label(label) -> bool:
    """Regular, Tall, Petite, Short, Long, Plus, Maternity (and combinations such as "Petite Short")."""
    tokens = re.findall(r"[a-z]+|&|\+|\d+", (clean(label) or "").lower())
    return bool(tokens) and all(t in FIT_CORE_WORDS or t in _FIT_FILLER for t in tokens) and any(
        t in FIT_CORE_WORDS for t in tokens)


def all_fit_labels(labels) -> bool:
    labels = [label for label in labels if label]
    return bool(labels) and all(is_fit_label(label) for label in labels)


_SIZE_LIKE = re.compile(
    r"^(?:X{0,4}S|M|X{0,5}L|\d?X{1,2}[SL]|XXS|one\s*size|OS|O/S|\d{1,2}(?:\.5)?|\d{1,2}[WTMY]|\d{1,2}-\d{1,2}[MY]?|"
    r"\d{1,2}\s*x\s*\d{1,2}|\d{1,2}W\s*x?\s*\d{1,2}L|(?:X{0,3}S|M|X{0,3}L)\s*(?:\(\d{1,2}(?:-\d{1,2})?\)))$", re.I)


def is_size_label(label) -> bool:
    """Labels that are sizes in any product family: XS..XXL, 0-30, 2T, 6-12M, 30x32, One Size, S (4-5)."""
    return bool(_SIZE_LIKE.match(clean(label) or ""))


def is_length_label(label) -> bool:
    """An inseam-like label: "30", "32", '32"', "34L"."""
    return bool(_LENGTH.match(clean(label) or ""))


def query_param(url, *names) -> str | None:
    """The first of `names` in the query (or fragment) of `url`."""
    if not isinstance(url, str) or "=" not in url:
        return None
    try:
        parts = urlsplit(url.strip())
    except ValueError:
        return None
    for blob in (parts.query, parts.fragment):
        if not blob:
            continue
        params = {k.lower(): v for k, v in parse_qs(blob, keep_blank_values=False).items()}
        for name in names:
            values = params.get(name.lower())
            if values and values[0].strip():
                return values[0].strip()
    return None


def pid_of(url) -> str | None:
    """The ccId in a product URL (`product.do?pid=796255962`)."""
    pid = query_param(url, "pid")
    if pid and re.fullmatch(r"\d{4,20}", pid):
        return pid
    return None


def looks_like_cc_id(value) -> bool:
    """Gap ccIds are 8-10 digits (styleIds 6): a heuristic for ambiguous ids such as JSON-LD productID."""
    text = id_text(value)
    return bool(text and re.fullmatch(r"\d{8,10}", text))


def looks_like_style_id(value) -> bool:
    text = id_text(value)
    return bool(text and re.fullmatch(r"\d{4,7}", text))
