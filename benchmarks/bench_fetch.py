"""Benchmark a whole fetch, as users run it: `scrapy crawl gap -a group=...` against the Gap replica.

    .venv/bin/python benchmarks/bench_fetch.py [--products N] [--postgres] [--workers W] [--page-size S]

Starts the replica on a free port, creates a pages group on a fresh SQLite database in a temporary directory (with
--postgres also on a scratch PostgreSQL database at 127.0.0.1:5432, user postgres, created and dropped here), runs
the crawl subprocess with zero delays and prints, per run:

- per stage (listing, product pages, images): requests, elapsed from the first request's start to the last one's end,
  requests per second, the mean time the replica spent answering and the mean gap between two requests (the
  crawler's own per-request overhead), both also for the first and the last tenth of the stage (a gap that grows
  over the stage is per-request work that grows with the fetch);
- the largest number of requests in flight at once in the replica's request log (the one-at-a-time rule: must be 1);
- parse time, SQL output time and size (from the crawl log, millisecond timestamps);
- memory: the crawl process's peak RSS (VmHWM), its RSS at the end of each stage, the peak of its parsing
  workers, and the peak sum over the process tree (polled from /proc every 50 ms).

Without --products the group is the biggest real captures: men's T-shirts (188 colours on the legacy endpoint,
the 2024 capture) and women's jeans (53), 241 products. `--products N` fetches the replica's synthetic category
instead (N colours copied from the real ones, each with its own ccId, styleId and images: see tests/replica/catalog.py),
e.g. --products 1000. Not a test: it prints figures and fails only when the fetch fails or requests overlap.
"""

from __future__ import annotations

import argparse
import os
import re
import resource
import shutil
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from gapspider import db  # noqa: E402
from gapspider.models import GapDataFetch  # noqa: E402
from tests.conftest import create_pg_database, drop_pg_database  # noqa: E402
from tests.crawl import JEANS_URL, TSHIRTS_URL, crawl_env, make_group  # noqa: E402
from tests.replica import GapReplica  # noqa: E402
from tests.replica.catalog import LISTING_PATHS, SYNTHETIC_CID  # noqa: E402

REAL_PAGES = [("Men / T-Shirts", TSHIRTS_URL), ("Women / Jeans", JEANS_URL)]
SYNTHETIC_PAGE = ("Synthetic", f"https://www.gap.com/browse/men/synthetic?cid={SYNTHETIC_CID}#department=75")
LOG_FORMAT = "%(asctime)s.%(msecs)03d [%(name)s] %(levelname)s: %(message)s"
LOG_TIME = re.compile(r"^(\d{4}-\d\d-\d\d \d\d:\d\d:\d\d\.\d{3}) ")


# ---------------------------------------------------------------- memory of the crawl process tree

def _status_kb(pid: int, field: str) -> int | None:
    try:
        with open(f"/proc/{pid}/status") as handle:
            for line in handle:
                if line.startswith(field + ":"):
                    return int(line.split()[1])
    except (OSError, ValueError):
        return None
    return None


def _children(pid: int) -> list[int]:
    found = []
    try:
        for task in os.listdir(f"/proc/{pid}/task"):
            with open(f"/proc/{pid}/task/{task}/children") as handle:
                found.extend(int(child) for child in handle.read().split())
    except OSError:
        pass
    return found


class TreeMemory(threading.Thread):
    """Polls the crawl process and its descendants: peak RSS per process, peak tree sum, a timeline of the main RSS."""

    def __init__(self, pid: int, interval: float = 0.05):
        super().__init__(daemon=True)
        self.pid, self.interval = pid, interval
        self.main_hwm = 0
        self.children_hwm: dict[int, int] = {}
        self.tree_peak = 0
        self.timeline: list[tuple[float, int]] = []  # (time.monotonic(), main VmRSS kB)
        self.stop = threading.Event()

    def run(self):
        while not self.stop.is_set():
            rss = _status_kb(self.pid, "VmRSS")
            if rss is None:
                break
            self.main_hwm = max(self.main_hwm, _status_kb(self.pid, "VmHWM") or 0)
            self.timeline.append((time.monotonic(), rss))
            total, todo = rss, _children(self.pid)
            while todo:
                child = todo.pop()
                child_rss = _status_kb(child, "VmRSS")
                if child_rss is None:
                    continue
                total += child_rss
                self.children_hwm[child] = max(self.children_hwm.get(child, 0), _status_kb(child, "VmHWM") or 0)
                todo.extend(_children(child))
            self.tree_peak = max(self.tree_peak, total)
            self.stop.wait(self.interval)

    def rss_at(self, moment: float) -> int | None:
        before = [rss for t, rss in self.timeline if t <= moment]
        return before[-1] if before else None


# ---------------------------------------------------------------- the replica's request log

def stage_of(entry: dict) -> str:
    if entry["path"] in LISTING_PATHS.values():
        return "listing"
    if entry["path"] == "/browse/product.do":
        return "pages"
    return "images"


def max_in_flight(log: list[dict]) -> int:
    events = sorted([(e["start"], 1) for e in log] + [(e["end"], -1) for e in log], key=lambda ev: (ev[0], ev[1]))
    current = peak = 0
    for _, delta in events:
        current += delta
        peak = max(peak, current)
    return peak


def stage_figures(entries: list[dict]) -> dict:
    entries = sorted(entries, key=lambda e: e["start"])
    count = len(entries)
    elapsed = entries[-1]["end"] - entries[0]["start"]
    serve = [e["end"] - e["start"] for e in entries]
    gaps = [b["start"] - a["end"] for a, b in zip(entries, entries[1:])]
    tenth = max(1, len(gaps) // 10)

    def mean(values):
        return sum(values) / len(values) if values else 0.0

    return {
        "count": count, "elapsed": elapsed, "rate": count / elapsed if elapsed > 0 else float("inf"),
        "serve_ms": 1000 * mean(serve), "gap_ms": 1000 * mean(gaps),
        "gap_first_ms": 1000 * mean(gaps[:tenth]), "gap_last_ms": 1000 * mean(gaps[-tenth:]),
        "bytes": sum(e["bytes"] for e in entries), "start": entries[0]["start"], "end": entries[-1]["end"],
        "errors": sum(1 for e in entries if e["status"] != 200),
    }


# ---------------------------------------------------------------- the crawl log

def log_times(log_text: str) -> dict[str, float]:
    """Wall-clock times (epoch seconds) of the post-crawl milestones, from the crawl log's millisecond stamps."""
    import datetime as dt

    marks = {
        "closing": "Closing spider (finished)",
        "parsed": "parsed ",
        "succeeded": " succeeded: ",
    }
    found: dict[str, float] = {}
    for line in log_text.splitlines():
        match = LOG_TIME.match(line)
        if not match:
            continue
        for key, needle in marks.items():
            if key not in found and needle in line and (key != "parsed" or "pages (" in line):
                found[key] = dt.datetime.strptime(match.group(1), "%Y-%m-%d %H:%M:%S.%f").timestamp()
    parse = re.search(r"parsed (\d+) pages \((\d+) block pages\) in ([\d.]+) s", log_text)
    if parse:
        found["parse_seconds_logged"] = float(parse.group(3))
    return found


# ---------------------------------------------------------------- one run

def run_fetch(label: str, db_url: str, workdir: Path, args) -> dict:
    output_dir = workdir / f"out-{label}"
    db.upgrade_database(db_url)
    pages = [SYNTHETIC_PAGE] if args.products else REAL_PAGES
    group_id = make_group(db_url, f"Bench {label}", pages)
    with GapReplica(synthetic_colours=args.products) as replica:
        env = crawl_env(db_url, output_dir, replica, GAP_LISTING_ENDPOINT=args.endpoint,
                        GAP_PAGE_SIZE=str(args.page_size),
                        GAP_PARSE_WORKERS=str(args.workers or os.cpu_count() or 1))
        log_path = workdir / f"crawl-{label}.log"
        started_wall, started = time.time(), time.monotonic()
        with open(log_path, "wb") as log:
            profile = ["-m", "cProfile", "-o", str(args.profile)] if args.profile else []
            crawl = subprocess.Popen(
                [sys.executable, *profile, "-m", "scrapy", "crawl", "gap", "-a", f"group={group_id}",
                 "-s", f"LOG_FORMAT={LOG_FORMAT}"],
                cwd=ROOT, env=env, stdout=log, stderr=subprocess.STDOUT,
            )
            memory = TreeMemory(crawl.pid)
            memory.start()
            code = crawl.wait()
            ended = time.monotonic()
            memory.stop.set()
            memory.join()
        requests = replica.log
    children_maxrss = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss  # kB on Linux
    log_text = log_path.read_text(errors="replace")
    with db.session_scope(db_url) as session:
        fetch = session.query(GapDataFetch).filter_by(pages_group_id=group_id).one()
        result = {
            "status": fetch.status, "error": fetch.error_message, "products": fetch.total_products,
            "pages_fetched": fetch.processed_products, "pages_failed": fetch.failed_products,
            "parsed": fetch.parsed_products, "images": fetch.processed_images, "images_failed": fetch.failed_images,
            "output": fetch.output_path,
        }
    result.update(label=label, code=code, wall=ended - started, log=str(log_path), memory=memory,
                  children_maxrss=children_maxrss, requests=requests, started=started, started_wall=started_wall,
                  log_times=log_times(log_text))
    return result


def report(result: dict) -> bool:
    mb = 1 / 1024
    requests, memory, times = result["requests"], result["memory"], result["log_times"]
    print(f"\n== {result['label']}: fetch {result['status']} (exit {result['code']}) in {result['wall']:.1f} s wall ==")
    if result["error"]:
        print(f"  error: {result['error']}")
    print(f"  products {result['products']}, pages {result['pages_fetched']} ({result['pages_failed']} failed), "
          f"parsed {result['parsed']}, images {result['images']} ({result['images_failed']} failed)")
    by_stage: dict[str, list[dict]] = {}
    for entry in requests:
        by_stage.setdefault(stage_of(entry), []).append(entry)
    first = min(e["start"] for e in requests) if requests else result["started"]
    print(f"  start-up (process start to first request): {first - result['started']:.2f} s")
    print(f"  {'stage':<9}{'requests':>9}{'elapsed s':>11}{'req/s':>8}{'serve ms':>10}{'gap ms':>8}"
          f"{'gap first/last 10% ms':>23}{'MB sent':>9}{'RSS at end MB':>15}")
    for stage in ("listing", "pages", "images"):
        if stage not in by_stage:
            continue
        f = stage_figures(by_stage[stage])
        rss = memory.rss_at(f["end"])
        print(f"  {stage:<9}{f['count']:>9}{f['elapsed']:>11.2f}{f['rate']:>8.1f}{f['serve_ms']:>10.2f}{f['gap_ms']:>8.2f}"
              f"{f['gap_first_ms']:>12.2f} /{f['gap_last_ms']:>8.2f}{f['bytes'] / 1e6:>9.1f}"
              f"{(rss or 0) * mb:>15.1f}")
    overlap = max_in_flight(requests)
    print(f"  requests in flight at once, at most: {overlap} (of {len(requests)} requests)")
    post_start = times.get("closing")
    if "parsed" in times and post_start:
        print(f"  parse: {times['parsed'] - post_start:.2f} s from the crawl's close "
              f"(logged by the post-crawl step: {times.get('parse_seconds_logged', float('nan')):.2f} s)")
    if "succeeded" in times and "parsed" in times:
        size = Path(result["output"]).stat().st_size if result["output"] and Path(result["output"]).exists() else 0
        print(f"  SQL output: {times['succeeded'] - times['parsed']:.2f} s, {size / 1e6:.2f} MB "
              f"({size / max(1, result['products']) / 1024:.1f} kB per product)")
    if requests and post_start:
        last_end = max(e["end_wall"] for e in requests)
        print(f"  after the last request: spider closed +{post_start - last_end:.2f} s, "
              f"process exited +{result['started_wall'] + result['wall'] - last_end:.2f} s")
    def rss_at_wall(moment: float | None) -> str:
        rss = memory.rss_at(result["started"] + moment - result["started_wall"]) if moment else None
        return f"{rss * mb:.1f}" if rss else "?"

    print(f"  crawl process RSS MB: at the spider's close {rss_at_wall(times.get('closing'))}, after parsing "
          f"{rss_at_wall(times.get('parsed'))}, after the SQL output {rss_at_wall(times.get('succeeded'))}; "
          f"peak during parsing {peak_between(memory, result, times.get('closing'), times.get('parsed'))}, "
          f"during the SQL output {peak_between(memory, result, times.get('parsed'), times.get('succeeded'))}")
    workers = sorted(memory.children_hwm.values(), reverse=True)
    print(f"  peak RSS: crawl process {memory.main_hwm * mb:.1f} MB; children (parse workers, forkserver) "
          f"{', '.join(f'{w * mb:.0f}' for w in workers[:6]) or '-'} MB; tree sum at most {memory.tree_peak * mb:.1f} MB; "
          f"getrusage(RUSAGE_CHILDREN) max {result['children_maxrss'] * mb:.1f} MB")
    return result["status"] == "succeeded" and overlap <= 1


def peak_between(memory: TreeMemory, result: dict, start_wall: float | None, end_wall: float | None) -> str:
    if not start_wall or not end_wall:
        return "?"
    offset = result["started"] - result["started_wall"]
    values = [rss for t, rss in memory.timeline if start_wall + offset <= t <= end_wall + offset]
    return f"{max(values) / 1024:.1f}" if values else "?"


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--products", type=int, default=0, metavar="N",
                        help="fetch the replica's synthetic category of N products (default: the real captures, 241)")
    parser.add_argument("--endpoint", choices=("legacy", "current"), default="legacy",
                        help="listing endpoint (legacy holds the biggest real capture, 188 T-shirt colours)")
    parser.add_argument("--page-size", type=int, default=200, help="listing page size (smaller: more listing pages)")
    parser.add_argument("--workers", type=int, default=0, help="GAP_PARSE_WORKERS (default: one per CPU)")
    parser.add_argument("--postgres", action="store_true", help="also run on a scratch PostgreSQL database")
    parser.add_argument("--profile", type=Path, metavar="FILE",
                        help="run the crawl under cProfile into FILE (slower; the figures then include its overhead)")
    parser.add_argument("--keep", action="store_true", help="keep the temporary directory (logs, pages, SQL files)")
    args = parser.parse_args(argv)

    workdir = Path(tempfile.mkdtemp(prefix="gapspider-bench-fetch-"))
    what = f"synthetic category, {args.products} products" if args.products else "real captures (T-shirts + jeans)"
    print(f"Whole fetch against the replica: {what}, {args.endpoint} endpoint, page size {args.page_size}, "
          f"{args.workers or os.cpu_count()} parse workers, {os.cpu_count()} CPUs; work dir {workdir}")
    ok = True
    try:
        ok &= report(run_fetch("sqlite", f"sqlite:///{workdir / 'bench.db'}", workdir, args))
        if args.postgres:
            url = create_pg_database("gapspider_bench")
            try:
                ok &= report(run_fetch("postgresql", url, workdir, args))
            finally:
                drop_pg_database(url)
    finally:
        db.dispose_engines()
        if args.keep:
            print(f"\nkept {workdir}")
        else:
            shutil.rmtree(workdir, ignore_errors=True)
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
