"""Promotional messages -> discount entries, and the listing facts they are combined with.

A message gives one entry {"text", "percent", "applies", "excluded"}:
- "Extra 50% off at checkout"        -> percent 50, applies "checkout"
- "50% off + extra 10% in the app"   -> percent 10 (the extra offer; the 50% is already in the price), "app"
- "60% off: limited time"            -> percent 60, applies "limited_time"
- "Excluded from promotions"         -> percent None, applies None, excluded True
- "Final sale"                       -> percent None, applies None, excluded False
"""

from __future__ import annotations

import re

from .values import clean, fold, percent_number, unescape

_PCT = r"\s*(?:%|percent\b|pct\b)"
_PERCENT = re.compile(r"(\d{1,3}(?:[.,]\d+)?)" + _PCT, re.I)  # "12,5 %" on French pages
_EXTRA = re.compile(r"(?:extra|additional|another|plus|\+)\s+(?:an?\s+)?(?:extra\s+)?(\d{1,3}(?:\.\d+)?)" + _PCT
                    # French Canadian: "rabais supplémentaire de 20 %", "20 % de rabais supplémentaire"
                    + r"|suppl[ée]mentaires?\s+de\s+(\d{1,3}(?:[.,]\d+)?)" + _PCT
                    + r"|(\d{1,3}(?:[.,]\d+)?)" + _PCT + r"\s+(?:de\s+(?:rabais|r[ée]duction)\s+)?"
                    r"(?:suppl[ée]mentaires?|de\s+plus)\b", re.I)
_TAG = re.compile(r"</?[A-Za-z][A-Za-z0-9]*(?:\s[^<>]*)?/?>")
_EXCLUDED = re.compile(
    r"excl(?:u\w*|\.)?\s+from\s+(?:all\s+|any\s+|the\s+)?(?:promo|discount|offer|coupon|sale|sitewide)"
    r"|not\s+eligible\s+for\s+(?:any\s+|additional\s+)?(?:promo|discount|offer|coupon)"
    r"|ineligible\s+for\s+(?:promo|discount|offer)"
    r"|no\s+(?:promo(?:tion)?s?|discounts?|coupons?|promo\s+codes?)\s+(?:apply|applies|allowed|accepted)"
    r"|(?:promo(?:tion)?s?|discounts?|coupons?|promo\s+codes?)\s+(?:do(?:es)?\s+not|don'?t|cannot|can'?t)\s+(?:apply"
    r"|be\s+applied)"
    r"|promo(?:tion)?s?\s+excluded"
    # French Canadian: "Exclu des promotions", "Non admissible aux rabais"
    r"|(?:exclue?s?|non\s+admissibles?|inadmissibles?)\s+(?:des|aux|de\s+toutes?\s+les|à\s+toute)\s+"
    r"(?:promo|rabais|offre|r[ée]duction|solde)", re.I)
_APP = re.compile(r"\bapps?\b|\bin-app\b|\bappli(?:cation)?\b", re.I)  # "in the app", "app exclusive", "dans
# l'appli"; not "apply"
_CHECKOUT = re.compile(r"\bat\s+check[-\s]?out\b|\bin\s+(?:your\s+|the\s+)?(?:cart|bag)\b|\bapplied\s+at\s+"
                       r"check[-\s]?out|\bat\s+(?:the\s+)?register\b|\bcheckout\b"
                       # a promo code is entered at checkout ("Extra 40% off with code SAVE")
                       r"|\b(?:with|use|using|enter)\s+(?:promo\s+|the\s+|your\s+)?code\b|\bpromo\s+code\b"
                       r"|(?:à|a)\s+la\s+caisse\b|\bdans\s+(?:le|votre)\s+panier\b|\bavec\s+le\s+code\b",
                       re.I)
_LIMITED = re.compile(r"\blimited[-\s]+time\b|\btoday\s+only\b|\bends\s+(?:today|tonight|soon)\b|\bflash\s+sale\b"
                      r"|\b\d+\s+hours?\s+only\b|\bthis\s+weekend\s+only\b|\bfor\s+a\s+limited\b"
                      r"|dur[ée]e\s+limit[ée]e|temps\s+limit[ée]|aujourd'?\s*hui\s+seulement", re.I)


def parse_message(text: str) -> dict:
    """One discount entry for one promotional message."""
    text = message_text(text) or ""
    excluded = bool(_EXCLUDED.search(text))
    percent = None
    applies = None
    if not excluded:
        extra = _EXTRA.search(text)
        if extra:
            percent = percent_number(next(g for g in extra.groups() if g).replace(",", "."))
        else:
            match = _PERCENT.search(text)
            if match:
                percent = percent_number(match.group(1).replace(",", "."))
        if _APP.search(text):
            applies = "app"
        elif _CHECKOUT.search(text):
            applies = "checkout"
        elif _LIMITED.search(text):
            applies = "limited_time"
    return {"text": text, "percent": percent, "applies": applies, "excluded": excluded}


def message_text(text) -> str | None:
    """A message as shown: entities decoded ("50%&nbsp;off"), markup of rich-text messages dropped."""
    text = unescape(text)
    if text and "<" in text and _TAG.search(text):
        text = clean(_TAG.sub(" ", text))
    return text


def message_key(text: str) -> str:
    return re.sub(r"[\s.!:;,]+$", "", fold(text))


def build_discounts(page_messages: list[str], listing_messages: list[str], excluded_flags: list[bool]) -> list[dict]:
    """Entries for the page's messages, then for listing messages the page did not show (same text = same
    message). An exclusion flag without any exclusion message adds a synthetic "Excluded from promotions"."""
    entries: list[dict] = []
    seen: set[str] = set()
    for text in list(page_messages) + list(listing_messages):
        cleaned = message_text(text)
        if not cleaned:
            continue
        key = message_key(cleaned)
        if key in seen:
            continue
        seen.add(key)
        entries.append(parse_message(cleaned))
    if any(excluded_flags) and not any(e["excluded"] for e in entries):
        entries.append({"text": "Excluded from promotions", "percent": None, "applies": None, "excluded": True})
    return entries
