"""Debug one saved product page: `python -m gapspider.parsing PAGE.html` prints its parsed_data as JSON.

Exit status: 0 when the page was parsed (also for block pages and broken pages: look at `warnings`, `blocked`,
`failed`), 2 when the file (or the --listing file) cannot be read or the arguments are wrong.
"""

from __future__ import annotations

import argparse
import json
import sys

from . import SCHEMA_VERSION, parse_product_page


def _read(path: str) -> bytes:
    if path == "-":
        return sys.stdin.buffer.read()
    with open(path, "rb") as handle:
        return handle.read()


def _reason(exc: Exception) -> str:
    if isinstance(exc, OSError) and exc.strerror:
        return exc.strerror
    return str(exc) or type(exc).__name__


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m gapspider.parsing",
        description=f"Print the parsed_data (schema {SCHEMA_VERSION}) of a saved Gap product page as JSON.")
    parser.add_argument("page", metavar="PAGE.html", help="a saved product page ('-' reads standard input)")
    parser.add_argument("--cc-id", help="the ccId the page was fetched for (checked against the page)")
    parser.add_argument("--listing", metavar="LISTING.json",
                        help="listing facts of the fetch as a JSON object (style_id, cc_id, regular_price, ...)")
    parser.add_argument("--compact", action="store_true", help="one line of JSON instead of indented output")
    args = parser.parse_args(argv)

    try:
        data = _read(args.page)
    except (OSError, ValueError) as exc:
        print(f"error: cannot read {args.page}: {_reason(exc)}", file=sys.stderr)
        return 2
    listing = None
    if args.listing:
        try:
            listing = json.loads(_read(args.listing).decode("utf-8"))
        except (OSError, ValueError) as exc:
            print(f"error: cannot read the listing {args.listing}: {_reason(exc)}", file=sys.stderr)
            return 2
        if not isinstance(listing, dict):
            print(f"error: the listing {args.listing} is not a JSON object", file=sys.stderr)
            return 2

    result = parse_product_page(data, cc_id=args.cc_id, listing=listing)
    text = json.dumps(result, ensure_ascii=False, indent=None if args.compact else 2)
    sys.stdout.buffer.write(text.encode("utf-8") + b"\n")
    sys.stdout.buffer.flush()
    return 0


if __name__ == "__main__":
    sys.exit(main())
