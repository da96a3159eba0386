"""Benchmark the product-page parser: single process vs the worker pool of the post-crawl step.

    .venv/bin/python benchmarks/bench_parsing.py [--pages 1000] [--workers 2] [--repeat 3]

Writes --pages saved pages to a temporary directory, built from the hand-written fixtures in
tests/fixtures/pages (varied: own ccIds, titles and prices, and the bulk a real Next.js product page carries — CSS,
navigation, script tags, flight rows of header/footer components — so a page weighs 100-250 KB like a real one),
then parses them with `parse_saved_pages(workers=1)` (in process) and with the pool (`workers=N`, forkserver),
--repeat times each, interleaved, and prints pages per second for both and the speed-up, for the best run (least
disturbed by other processes on the machine) and the median. Pool timings include starting the worker processes.
Not a test.
"""

from __future__ import annotations

import argparse
import json
import os
import random
import re
import statistics
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from gapspider.parsing.pool import parse_saved_pages  # noqa: E402

FIXTURES = ROOT / "tests" / "fixtures" / "pages"
# Mostly product pages, like a real crawl; a few block / broken pages.
WEIGHTS = {"09_bot_block_akamai.html": 0.2, "10_truncated.html": 0.3, "15_empty.html": 0.1, "16_not_found.html": 0.1}


def _bulk(rng: random.Random) -> tuple[str, str, str]:
    """(head CSS + scripts, navigation + footer markup, flight rows) a real page carries besides the product."""
    css = "\n".join(
        f".css-{rng.getrandbits(32):08x}{{display:flex;margin:{rng.randrange(32)}px;color:#{rng.getrandbits(24):06x}}}"
        for _ in range(rng.randrange(500, 900)))
    scripts = "\n".join(f'<script src="/_next/static/chunks/{rng.getrandbits(48):012x}.js" async></script>'
                        for _ in range(rng.randrange(20, 40)))
    links = "\n".join(
        f'<li class="nav-item"><a href="/browse/category.do?cid={rng.randrange(10**6, 10**7)}" '
        f'class="nav-link css-{rng.getrandbits(32):08x}">Category {i}</a></li>' for i in range(rng.randrange(300, 600)))
    nav = f'<header><nav class="meganav"><ul>{links}</ul></nav></header>'
    footer = f'<footer><ul>{links[: len(links) // 3]}</ul><p>&copy; Gap Inc.</p></footer>'
    rows = []
    for i in range(rng.randrange(40, 80)):
        rows.append(f'{i + 100:x}:["$","div",null,{{"className":"css-{rng.getrandbits(32):08x}","children":'
                    f'[["$","a",null,{{"href":"/browse/category.do?cid={rng.randrange(10**6)}","children":'
                    f'"Link {i}"}}],["$","span",null,{{"children":"Free shipping on $50+"}}]]}}]')
    flight = "\n".join(rows) + "\n"
    return f"<style>{css}</style>\n{scripts}", nav + footer, flight


def _vary(template: str, index: int, rng: random.Random) -> str:
    new_cc = f"{700000 + index:06d}{rng.randrange(100):02d}2"
    text = re.sub(r"\b\d{9}\b", lambda m: new_cc if m.group(0)[:6] == template_cc(template) else m.group(0),
                  template)
    cents = rng.randrange(0, 99)
    text = re.sub(r"\$(\d+)\.(\d\d)", lambda m: f"${int(m.group(1)) + index % 7}.{cents:02d}", text, count=1)
    return text.replace("</h1>", f" {index}</h1>", 1)


def template_cc(template: str) -> str:
    match = re.search(r"pid=(\d{9})", template) or re.search(r'"(?:productID|pid|ccId)"\s*:\s*"(\d{9})"', template)
    return match.group(1)[:6] if match else "------"


def write_pages(directory: Path, count: int, seed: int = 7) -> list[tuple]:
    rng = random.Random(seed)
    templates = {p.name: p.read_bytes() for p in sorted(FIXTURES.glob("*.html"))}
    names = list(templates)
    weights = [WEIGHTS.get(name, 1.0) for name in names]
    jobs = []
    for index in range(count):
        name = rng.choices(names, weights)[0]
        raw = templates[name]
        encoding = "cp1252" if name == "11_windows1252.html" else "utf-8"
        text = raw.decode(encoding)
        if name not in ("15_empty.html", "09_bot_block_akamai.html"):
            text = _vary(text, index, rng)
            head, chrome, flight = _bulk(rng)
            text = text.replace("</head>", head + "\n</head>", 1).replace("<body>", "<body>\n" + chrome, 1)
            push = json.dumps(flight).replace("<", "\\u003c")
            text = text.replace("</body>", f"<script>self.__next_f.push([1,{push}])</script>\n</body>", 1)
            if name == "10_truncated.html":
                text += chrome  # a truncated page has no closing tags
        path = directory / f"{index:05d}.html"
        path.write_bytes(text.encode(encoding, errors="xmlcharrefreplace"))
        jobs.append((index, str(path), None))
    return jobs


def timed(jobs, workers: int) -> tuple[float, list]:
    started = time.perf_counter()
    results = list(parse_saved_pages(jobs, workers=workers))
    return time.perf_counter() - started, results


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--pages", type=int, default=1000)
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--repeat", type=int, default=3, help="runs of each mode (best and median reported)")
    args = parser.parse_args(argv)

    with tempfile.TemporaryDirectory(prefix="bench_parsing_") as tmp:
        jobs = write_pages(Path(tmp), args.pages)
        total = sum(os.path.getsize(path) for _key, path, _listing in jobs)
        print(f"{len(jobs)} pages, {total / len(jobs) / 1024:.0f} KB on average, {os.cpu_count()} CPUs")
        single_times, pool_times = [], []
        reference = None
        for _ in range(args.repeat):
            seconds, results = timed(jobs, 1)
            single_times.append(seconds)
            reference = reference or results
            seconds, results = timed(jobs, args.workers)
            pool_times.append(seconds)
            assert results == reference, "the pool and the single process disagree"
        failed = sum(1 for _k, data in reference if data["failed"])
        print("runs (s)       : single " + ", ".join(f"{t:.2f}" for t in single_times) + " | pool "
              + ", ".join(f"{t:.2f}" for t in pool_times))
        print("load average   : " + ", ".join(f"{x:.2f}" for x in os.getloadavg())
              + "  (other processes on the machine skew the figures)")
        # Best of N is the figure least disturbed by other processes (timeit's advice); the median is shown too.
        for label, pick in (("best of runs", min), ("median", statistics.median)):
            single, pool = pick(single_times), pick(pool_times)
            print(f"{label}:")
            print(f"  single process : {len(jobs) / single:8.1f} pages/s  ({single:.2f} s)")
            print(f"  pool, {args.workers} workers: {len(jobs) / pool:8.1f} pages/s  ({pool:.2f} s, worker start-up "
                  f"included)")
            print(f"  speed-up       : {single / pool:8.2f}x")
        print(f"({failed} of {len(jobs)} pages are block/empty/not-found pages, counted as failed)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
