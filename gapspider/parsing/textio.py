"""Bytes to text (BOM, UTF-8, the page's meta charset), JavaScript string literals and forgiving JSON."""

from __future__ import annotations

import codecs
import json
import re

_META_CHARSET = re.compile(rb"""<meta[^>]{0,400}?charset\s*=\s*["']?\s*([A-Za-z0-9_.:\-]{1,40})""", re.I)
# What browsers do (WHATWG encoding standard): these labels all mean windows-1252.
_WINDOWS_1252_LABELS = {"iso-8859-1", "iso8859-1", "latin1", "latin-1", "l1", "ascii", "us-ascii", "cp819",
                        "iso_8859-1", "windows-1252", "cp1252", "x-cp1252", "ansi_x3.4-1968"}
_BAD_CHARS = re.compile("[\x00-\x08\x0b\x0e-\x1f\ufffe\uffff\ud800-\udfff]")


def declared_charset(data: bytes) -> str | None:
    match = _META_CHARSET.search(data[:16384])
    return match.group(1).decode("ascii", "replace").lower() if match else None


def decode_page(data: bytes) -> tuple[str, list[str]]:
    """Decode page bytes: a BOM wins, then strict UTF-8, then the page's <meta charset>, then windows-1252."""
    warnings: list[str] = []
    for bom, encoding in ((codecs.BOM_UTF8, "utf-8"), (codecs.BOM_UTF16_LE, "utf-16-le"),
                          (codecs.BOM_UTF16_BE, "utf-16-be")):
        if data.startswith(bom):
            return data[len(bom):].decode(encoding, errors="replace"), warnings
    try:
        return data.decode("utf-8"), warnings
    except UnicodeDecodeError:
        pass
    label = declared_charset(data)
    encoding = None
    if label:
        if label in _WINDOWS_1252_LABELS:
            encoding = "cp1252"
        elif label.replace("_", "-") in ("utf-8", "utf8"):
            warnings.append("charset: the page declares UTF-8 but is not valid UTF-8; bad bytes replaced")
            return data.decode("utf-8", errors="replace"), warnings
        else:
            try:
                encoding = codecs.lookup(label).name
            except LookupError:
                warnings.append(f"charset: unknown charset {label!r} declared; decoded as windows-1252")
    else:
        warnings.append("charset: the page is not UTF-8 and declares no charset; decoded as windows-1252")
    text = data.decode(encoding or "cp1252", errors="replace")
    if "\ufffd" in text:
        warnings.append(f"charset: bytes not valid in {encoding or 'cp1252'} were replaced")
    return text, warnings


def sanitize(text: str) -> str:
    """Drop characters lxml refuses (NUL, most C0 controls, lone surrogates, non-characters)."""
    return _BAD_CHARS.sub("", text)


# ---------------------------------------------------------------- JavaScript string literals

_JS_ESCAPES = {"n": "\n", "t": "\t", "r": "\r", "b": "\b", "f": "\f", "v": "\v", "0": "\0"}


_JSON_LITERAL = re.compile(r'"(?:[^"\\]|\\.)*"', re.S)
_SPECIAL = {q: re.compile("[" + re.escape(q) + r"\\]") for q in "\"'`"}


def read_js_string(text: str, start: int) -> tuple[str, int, bool]:
    """Decode the JS string literal whose opening quote is at `start`.

    Returns (value, index after the closing quote, terminated). An unterminated literal (a truncated page) gives
    what was read and terminated=False.
    """
    quote = text[start]
    if quote == '"':
        match = _JSON_LITERAL.match(text, start)
        if match:
            try:
                return json.loads(match.group(0)), match.end(), True
            except ValueError:
                pass  # JS-only escapes (\x26, \') or raw control characters: decode by hand
    special = _SPECIAL.get(quote) or re.compile("[" + re.escape(quote) + r"\\]")
    out: list[str] = []
    i, n = start + 1, len(text)
    # Fast path: scan runs without backslashes or quotes.
    while i < n:
        found = special.search(text, i)
        j = found.start() if found else n
        if j > i:
            out.append(text[i:j])
        if j >= n:
            return "".join(out), n, False
        ch = text[j]
        if ch == quote:
            return "".join(out), j + 1, True
        # backslash
        if j + 1 >= n:
            return "".join(out), n, False
        esc = text[j + 1]
        if esc == "u":
            if j + 2 < n and text[j + 2] == "{":
                end = text.find("}", j + 3)
                code = text[j + 3:end] if end != -1 else ""
                try:
                    out.append(chr(int(code, 16)))
                    i = end + 1
                    continue
                except (ValueError, OverflowError):
                    out.append("u")
                    i = j + 2
                    continue
            hexa = text[j + 2:j + 6]
            try:
                code = int(hexa, 16) if len(hexa) == 4 else None
            except ValueError:
                code = None
            if code is None:
                out.append("u")
                i = j + 2
                continue
            i = j + 6
            if 0xD800 <= code <= 0xDBFF and text[i:i + 2] == "\\u":
                try:
                    low = int(text[i + 2:i + 6], 16)
                except ValueError:
                    low = None
                if low is not None and 0xDC00 <= low <= 0xDFFF:
                    out.append(chr(0x10000 + ((code - 0xD800) << 10) + (low - 0xDC00)))
                    i += 6
                    continue
            out.append(chr(code))
            continue
        if esc == "x":
            try:
                out.append(chr(int(text[j + 2:j + 4], 16)))
                i = j + 4
            except ValueError:
                out.append("x")
                i = j + 2
            continue
        if esc == "\n":  # line continuation
            i = j + 2
            continue
        out.append(_JS_ESCAPES.get(esc, esc))
        i = j + 2
    return "".join(out), n, False


# ---------------------------------------------------------------- forgiving JSON

_DECODER = json.JSONDecoder(strict=False)
_TRAILING_COMMA = re.compile(r",(\s*[}\]])")
_STRING_OR_COMMENT = re.compile(r'"(?:[^"\\]|\\.)*"|//[^\n]*|/\*.*?\*/', re.S)


def loads(text: str):
    """json.loads that tolerates control characters in strings."""
    return _DECODER.decode(text)


def loads_lenient(text: str) -> tuple[object, str | None]:
    """Parse JSON; on failure repair what is cheap to repair (trailing commas, a truncated end).

    Returns (value, problem): problem is None when the text was valid, a short description when it was repaired,
    and value is None when nothing could be recovered.
    """
    text = text.strip()
    if not text:
        return None, "empty"
    try:
        return _DECODER.decode(text), None
    except (ValueError, RecursionError) as exc:
        first_error = _short_error(exc)
    try:
        value, end = _DECODER.raw_decode(text)
        return value, f"trailing data after JSON ({first_error})"
    except (ValueError, RecursionError):
        pass
    repairs = []
    fixed = text
    if "//" in text or "/*" in text:
        # hand-written JSON-LD with JavaScript comments: drop them, not the "//" of URLs inside strings
        uncommented = _STRING_OR_COMMENT.sub(lambda m: m.group(0) if m.group(0)[0] == '"' else "", text)
        if uncommented != text:
            fixed = uncommented
            repairs.append("comments")
    no_commas = _TRAILING_COMMA.sub(r"\1", fixed)
    if no_commas != fixed:
        fixed = no_commas
        repairs.append("trailing commas")
    if repairs:
        try:
            return _DECODER.decode(fixed), f"repaired {' and '.join(repairs)} ({first_error})"
        except (ValueError, RecursionError):
            text = fixed
    value = _recover_truncated(text)
    if value is not None:
        return value, f"truncated or malformed JSON, recovered the readable part ({first_error})"
    return None, first_error


def _short_error(exc: Exception) -> str:
    return str(exc).split("\n", 1)[0][:120]


def _recover_truncated(text: str, attempts: int = 40):
    """Cut a broken JSON text back to a boundary where the open brackets can be closed, then close them."""
    if not text or text[0] not in "{[":
        return None
    stack: list[str] = []
    cuts: list[tuple[int, str]] = []  # (cut index, closers needed)
    in_string = escape = False
    for i, ch in enumerate(text):
        if in_string:
            if escape:
                escape = False
            elif ch == "\\":
                escape = True
            elif ch == '"':
                in_string = False
            continue
        if ch == '"':
            in_string = True
        elif ch in "{[":
            stack.append("}" if ch == "{" else "]")
        elif ch in "}]":
            if not stack:
                break
            stack.pop()
            cuts.append((i + 1, "".join(reversed(stack))))
            if not stack:
                break
        elif ch == ",":
            cuts.append((i, "".join(reversed(stack))))
    for index, closers in reversed(cuts[-attempts:]):
        candidate = text[:index] + closers
        try:
            return _DECODER.decode(candidate)
        except (ValueError, RecursionError):
            continue
    return None
