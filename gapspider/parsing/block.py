"""Bot-protection pages (Akamai "Access Denied" and friends): recognised so they count as failed pages."""

from __future__ import annotations

import re

from .document import all_text, xpath
from .values import clean

_TITLES = re.compile(
    r"^(?:access denied|pardon our interruption|access to this page has been denied\.?|attention required!?.*"
    r"cloudflare.*|just a moment\.\.\.|request rejected|forbidden|403 forbidden|robot or human\??|"
    r"are you a robot\??|please verify you are a human|request unsuccessful.*|blocked)$", re.I)
_AKAMAI_REFERENCE = re.compile(r"Reference\s*#\s*(\d{1,3}\.[0-9a-f]+\.\d+\.[0-9a-f]+)", re.I)
_MARKERS = (
    "errors.edgesuite.net", "errors&#46;edgesuite&#46;net", "you don't have permission to access",
    "you don&#39;t have permission to access", "incapsula incident id", "_incapsula_resource", "px-captcha",
    "perimeterx", "captcha-delivery", "datadome", "cf-chl-", "checking your browser", "press & hold",
    "press &amp; hold",
)


def detect(doc, text: str) -> str | None:
    """A short description of the block page, or None when the page is not a block page."""
    head = text[:20000]
    low = head.lower()
    title = None
    if doc is not None:
        titles = xpath(doc, "//title")
        title = all_text(titles[0]) if titles else None
        if not title:
            h1 = xpath(doc, "//h1")
            title = all_text(h1[0]) if h1 else None
    title = clean(title) or ""
    title_hit = bool(title and _TITLES.match(title))
    marker = next((m for m in _MARKERS if m in low), None)
    if not (title_hit or marker or "reference" in low):
        return None
    body_text = head
    if doc is not None and len(text) < 60000:  # block pages are small; entities decode in the text
        body_text = all_text(doc) or ""
    reference = _AKAMAI_REFERENCE.search(body_text[:20000]) or _AKAMAI_REFERENCE.search(head)
    if not marker and body_text is not head:
        body_low = body_text[:20000].lower()
        marker = next((m for m in _MARKERS if m in body_low), None)
    if not (title_hit or reference or marker):
        return None
    # A real product page that mentions one of these words somewhere is not a block page.
    if doc is not None and len(body_text) > 5000 and not title_hit:
        return None
    parts = [f"title {title!r}" if title_hit else None,
             f"Reference #{reference.group(1)}" if reference else None,
             f"marker {marker!r}" if marker and not reference else None]
    return ", ".join(p for p in parts if p)
