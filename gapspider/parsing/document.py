"""The parsed HTML document (lxml) and helpers on elements: visibility, visible text, classes."""

from __future__ import annotations

import re

import lxml.html
from lxml import etree

from .values import clean

_PARSER = lxml.html.HTMLParser(encoding="utf-8", remove_comments=True, remove_pis=True, huge_tree=True,
                               no_network=True)

HIDDEN_CLASSES = frozenset({
    "hidden", "is-hidden", "u-hidden", "sr-only", "visually-hidden", "visuallyhidden", "screen-reader-only",
    "d-none", "hide", "a11y-hidden", "offscreen",
})
_HIDDEN_STYLE = re.compile(r"display\s*:\s*none|visibility\s*:\s*hidden", re.I)


def parse_html(text: str):
    """An lxml document for `text`, or None when there is nothing to parse."""
    if not text or not text.strip():
        return None
    try:
        root = lxml.html.document_fromstring(text.encode("utf-8", errors="replace"), parser=_PARSER)
    except (etree.ParserError, ValueError, TypeError):
        return None
    return root


def classes(el) -> list[str]:
    value = el.get("class")
    return value.split() if value else []


def has_class(el, name: str) -> bool:
    return name in classes(el)


def hidden_self(el) -> bool:
    """Whether this element itself hides its content (hidden, aria-hidden, display:none, an sr-only class)."""
    if not isinstance(el.tag, str):
        return True
    if el.get("hidden") is not None:
        return True
    if el.get("aria-hidden", "").strip().lower() == "true":
        return True
    style = el.get("style")
    if style and _HIDDEN_STYLE.search(style):
        return True
    cls = el.get("class")
    if cls and not HIDDEN_CLASSES.isdisjoint(cls.lower().split()):
        return True
    if el.tag in ("template", "noscript", "script", "style"):
        return True
    return False


def is_hidden(el) -> bool:
    """Whether this element or an ancestor is hidden."""
    node = el
    while node is not None:
        if hidden_self(node):
            return True
        node = node.getparent()
    return False


def visible_text(el, skip_tags: tuple = ()) -> str | None:
    """The text of `el` without its hidden descendants (sr-only hints, hidden duplicates), whitespace collapsed;
    descendants with a tag in `skip_tags` are left out too."""
    parts: list[str] = []
    hidden_depth = 0
    try:
        for event, node in etree.iterwalk(el, events=("start", "end")):
            if not isinstance(node.tag, str):
                continue
            if event == "start":
                if hidden_depth or (node is not el and (hidden_self(node) or node.tag in skip_tags)):
                    hidden_depth += 1
                    continue
                if node.tag in ("br", "p", "li", "div"):
                    parts.append(" ")
                if node.text:
                    parts.append(node.text)
            else:
                if hidden_depth:
                    hidden_depth -= 1
                    if hidden_depth:
                        continue
                    # the hidden element's tail belongs to a visible parent
                if node is not el and node.tail:
                    parts.append(node.tail)
    except (ValueError, TypeError):
        return clean(el.text_content())
    return clean("".join(parts))


def all_text(el) -> str | None:
    """All text of `el`, hidden parts included."""
    try:
        return clean(el.text_content())
    except (ValueError, TypeError):
        return None


def first_visible(elements):
    """The first visible element, else the first one, else None."""
    elements = list(elements)
    for el in elements:
        if not is_hidden(el):
            return el
    return elements[0] if elements else None


def xpath(node, expr: str, **kwargs) -> list:
    try:
        return node.xpath(expr, **kwargs)
    except (etree.XPathError, ValueError, TypeError):
        return []


def class_xpath(name: str) -> str:
    """An XPath predicate matching a whole class token."""
    return f'contains(concat(" ", normalize-space(@class), " "), " {name} ")'


def scripts(doc) -> list:
    return xpath(doc, "//script")


def script_text(el) -> str:
    return el.text or ""
