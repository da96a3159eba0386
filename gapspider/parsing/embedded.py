"""Source 2: embedded state, read from the scripts of the page into plain JSON trees.

Generations handled:
- Next.js app router flight data: `self.__next_f.push([1, "..."])` chunks (JS string literals, escaped JSON with
  `\\u0026` and friends), concatenated in page order (a JSON row may be split over several pushes), then split into
  RSC rows (`5:{...}`, `6:["$","div",...]`, `7:T1a,<text>`, `I[...]`, `HL[...]`) or read as plain JSON.
- Next.js pages router: `<script id="__NEXT_DATA__" type="application/json">`.
- Gap's pages of 2023 and before: `window.__PRODUCT_PAGE_STATE__ = JSON.parse("...")` (also a bare object literal
  and other `window.__X_STATE__` assignments).
- Any other `<script type="application/json">` block.

`read_states` only decodes; `state.interpret` finds the product in the trees.
"""

from __future__ import annotations

import re

from . import textio
from .document import script_text, xpath

_FLIGHT_PUSH = re.compile(r"self\.__next_f\.push\(\s*\[\s*(\d+)\s*(?:,\s*)?")
_ROW_HEAD = re.compile(r"([0-9a-zA-Z]{1,8}):")
_STATE_ASSIGN = re.compile(
    r"window\.(__[A-Z0-9_]*(?:STATE|DATA|PROPS)[A-Z0-9_]*__|__PRODUCT_PAGE_STATE__)\s*=\s*", re.I)
_JSON_PARSE = re.compile(r"JSON\.parse\(\s*")


def says_cut_off(warnings: list[str]) -> bool:
    """Whether a reader's warnings say its data stops short: every reader here words a cut (a chunk, row or string
    cut off, JSON recovered from a truncated end) with "truncated"."""
    return any("truncated" in w for w in warnings)


def read_flight(doc) -> tuple[list, dict, list[str]]:
    """(trees, rows by id, warnings) from Next.js flight chunks."""
    warnings: list[str] = []
    chunks: list[str] = []
    truncated = False
    for node in xpath(doc, '//script[contains(., "__next_f")]'):
        text = script_text(node)
        for match in _FLIGHT_PUSH.finditer(text):
            kind = match.group(1)
            pos = match.end()
            if kind != "1":
                continue
            if pos >= len(text) or text[pos] not in "\"'`":
                continue
            value, _end, terminated = textio.read_js_string(text, pos)
            if not terminated:
                truncated = True
            chunks.append(value)
    if not chunks:
        return [], {}, warnings
    if truncated:
        warnings.append("flight: a data chunk is cut off (truncated page); read what was there")
    payload = "".join(chunks)
    trees, rows, bad, cut = _rows(payload)
    if cut and not truncated:
        warnings.append("flight: a data row is cut off (truncated page); read what was there")
    if bad:
        warnings.append(f"flight: {bad} data row(s) could not be read")
    return trees, rows, warnings


def _rows(payload: str) -> tuple[list, dict, int, bool]:
    """Split an RSC payload into rows; each JSON row becomes a tree, `T` rows become strings. The last value
    tells whether a row was recovered from a truncated end (the page stops between two pushes)."""
    trees: list = []
    rows: dict = {}
    bad = 0
    cut = False
    i, n = 0, len(payload)
    while i < n:
        if payload[i] in "\r\n":
            i += 1
            continue
        head = _ROW_HEAD.match(payload, i)
        row_id = None
        if head and not payload.startswith(("http:", "https:"), i):
            row_id = head.group(1)
            i = head.end()
            if i < n and payload[i] == "T":
                comma = payload.find(",", i)
                try:
                    size = int(payload[i + 1:comma], 16) if comma != -1 else -1
                except ValueError:
                    size = -1
                if size >= 0:
                    # the length counts UTF-8 bytes
                    raw = payload[comma + 1:].encode("utf-8")[:size].decode("utf-8", errors="ignore")
                    rows[row_id] = raw
                    trees.append(raw)
                    i = comma + 1 + len(raw)
                    continue
        end = payload.find("\n", i)
        if end == -1:
            end = n
        line = payload[i:end]
        i = end + 1
        body = line.lstrip()
        tag = re.match(r"[A-Z]{1,2}(?=[\[{\"])", body)
        if tag:
            body = body[tag.end():]
        if not body or body[0] not in '{["' and not body[0].isdigit() and body not in ("null", "true", "false"):
            continue
        value, problem = textio.loads_lenient(body)
        if value is None:
            bad += 1
            continue
        if problem and problem.startswith("truncated"):
            cut = True
        if row_id is not None:
            rows[row_id] = value
        trees.append(value)
    return trees, rows, bad, cut


def read_legacy(doc) -> tuple[list, list[str]]:
    """Trees from `window.__PRODUCT_PAGE_STATE__ = JSON.parse("...")` and similar assignments."""
    trees, warnings = [], []
    for node in xpath(doc, '//script[contains(., "window.__")]'):
        text = script_text(node)
        for match in _STATE_ASSIGN.finditer(text):
            name = match.group(1)
            pos = match.end()
            parse = _JSON_PARSE.match(text, pos)
            if parse:
                pos = parse.end()
                if pos >= len(text) or text[pos] not in "\"'`":
                    warnings.append(f"legacy state: {name} = JSON.parse(...) without a string literal")
                    continue
                literal, _end, terminated = textio.read_js_string(text, pos)
                if not terminated:
                    warnings.append(f"legacy state: the {name} string is cut off (truncated page)")
                value, problem = textio.loads_lenient(literal)
            else:
                value, problem = _object_literal(text, pos)
            if value is None:
                warnings.append(f"legacy state: {name} could not be read ({problem})")
                continue
            if problem:
                warnings.append(f"legacy state: {name}: {problem}")
            trees.append(value)
    return trees, warnings


def _object_literal(text: str, pos: int):
    if pos >= len(text) or text[pos] not in "{[":
        return None, "not a JSON object"
    try:
        value, _ = textio._DECODER.raw_decode(text, pos)
        return value, None
    except (ValueError, RecursionError):
        pass
    end = text.rfind(";")
    body = text[pos:end] if end > pos else text[pos:]
    return textio.loads_lenient(body)


def read_json_scripts(doc) -> tuple[list, list[str]]:
    """Trees from `<script type="application/json">` blocks (`__NEXT_DATA__` and others)."""
    trees, warnings = [], []
    for node in xpath(doc, '//script[contains(@type, "json") and not(contains(@type, "ld+json")) '
                           'and not(contains(@type, "importmap"))]'):
        text = script_text(node).strip()
        if not text:
            continue
        value, problem = textio.loads_lenient(text)
        label = node.get("id") or "application/json"
        if value is None:
            warnings.append(f"json script {label}: not valid JSON ({problem})")
            continue
        if problem:
            warnings.append(f"json script {label}: {problem}")
        trees.append(value)
    return trees, warnings
