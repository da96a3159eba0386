"""Parse saved product pages in worker processes (the post-crawl step).

    for key, parsed_data in parse_saved_pages([(key, "/path/123.html", listing_or_None), ...], workers=2):
        ...

- Workers read the files themselves (bytes, so the page's charset is honoured) and never raise: a missing or
  unreadable file gives a parsed_data with `failed` true and a warning.
- Processes come from `multiprocessing.get_context("forkserver")` (spawn where forkserver does not exist), never
  fork: this runs inside Scrapy's reactor process and under scrapyd, where forking a threaded process is unsafe.
- `workers=1` parses in this process, without a pool. Default: `os.cpu_count()`.
- Order: results are yielded in the order of `jobs`, except after a worker process died (killed, out of memory):
  the pages that were in flight are parsed again one at a time and come later. Match results by key.
"""

from __future__ import annotations

import multiprocessing
import os
from collections import deque
from concurrent.futures import ProcessPoolExecutor
from concurrent.futures.process import BrokenProcessPool
from itertools import islice
from pathlib import Path

from . import failed_result, parse_product_page

DEFAULT_CHUNKSIZE = 16
MAX_FILE_BYTES = 64 * 1024 * 1024


def parse_file(key, html_path, listing=None):
    """(key, parsed_data) for one saved page; module level so worker processes can run it."""
    cc_id = None
    try:
        path = Path(html_path)
        if not (isinstance(listing, dict) and listing.get("cc_id")) and path.stem.isdigit():
            cc_id = path.stem  # pages are saved as {ccId}.html
        with open(path, "rb") as handle:
            data = handle.read(MAX_FILE_BYTES + 1)
    except (OSError, TypeError, ValueError) as exc:
        reason = exc.strerror if isinstance(exc, OSError) and exc.strerror else str(exc) or type(exc).__name__
        return key, failed_result(f"file: cannot read {html_path!s}: {reason}", cc_id=cc_id, listing=listing)
    if len(data) > MAX_FILE_BYTES:
        return key, failed_result(f"file: {html_path!s} is larger than {MAX_FILE_BYTES} bytes; not parsed",
                                  cc_id=cc_id, listing=listing)
    return key, parse_product_page(data, cc_id=cc_id, listing=listing)


def parse_chunk(jobs: list) -> list:
    return [parse_file(*job) for job in jobs]


def watch_owner(owner_pid: int, period: float = 1.0) -> None:
    """Worker initializer: end this worker when the process that owns the pool is gone (kill -9, out of memory).

    A forkserver worker is not the owner's child and keeps its own queue's pipe open, so it never sees the owner go:
    without this it would wait for work forever.
    """
    import threading
    import time

    def watch() -> None:
        while True:
            time.sleep(period)
            try:
                os.kill(owner_pid, 0)
            except ProcessLookupError:
                os._exit(1)
            except PermissionError:
                pass

    threading.Thread(target=watch, name="gapspider-owner-watch", daemon=True).start()


def _normalise(job):
    try:
        key, path, listing = job
        return key, path, listing
    except (TypeError, ValueError):
        return job, None, None


def _context():
    methods = multiprocessing.get_all_start_methods()
    if "forkserver" in methods:
        ctx = multiprocessing.get_context("forkserver")
        try:
            ctx.set_forkserver_preload(["gapspider.parsing", "gapspider.parsing.pool"])
        except (AttributeError, ValueError):
            pass
        return ctx
    return multiprocessing.get_context("spawn")


def parse_saved_pages(jobs, workers: int | None = None, chunksize: int | None = None):
    """Yield (key, parsed_data) for every (key, html_path, listing_or_None) job. See the module docstring."""
    workers = (os.cpu_count() or 1) if workers is None else max(1, int(workers))
    if workers == 1:
        for job in jobs:
            yield parse_file(*_normalise(job))
        return
    if chunksize is None:
        try:
            chunksize = max(1, min(DEFAULT_CHUNKSIZE, len(jobs) // (workers * 4)))
        except TypeError:
            chunksize = DEFAULT_CHUNKSIZE
    yield from _PoolRun(workers, max(1, int(chunksize))).run(_normalise(job) for job in jobs)


class _PoolRun:
    def __init__(self, workers: int, chunksize: int):
        self.workers = workers
        self.chunksize = chunksize
        self.ctx = _context()
        self.pool = None

    def _start(self):
        self.pool = ProcessPoolExecutor(
            max_workers=self.workers, mp_context=self.ctx, initializer=watch_owner, initargs=(os.getpid(),)
        )

    def _stop(self):
        if self.pool is not None:
            self.pool.shutdown(wait=True, cancel_futures=True)
            self.pool = None

    def run(self, jobs):
        self._start()
        try:
            yield from self._loop(iter(jobs))
        finally:
            self._stop()

    def _loop(self, jobs):
        pending: deque = deque()  # (chunk, future, isolated)
        retry: deque = deque()  # jobs in flight when a worker died, re-run one at a time
        exhausted = False
        while True:
            # Keep the workers busy, but run suspects alone so a crash names its page.
            limit = 1 if retry else self.workers * 3
            while len(pending) < limit:
                if retry:
                    chunk, isolated = [retry.popleft()], True
                elif not exhausted:
                    chunk, isolated = list(islice(jobs, self.chunksize)), False
                    if not chunk:
                        exhausted = True
                        break
                else:
                    break
                pending.append((chunk, self.pool.submit(parse_chunk, chunk), isolated))
            if not pending:
                return
            chunk, future, isolated = pending.popleft()
            try:
                results = future.result()
            except BrokenProcessPool:
                lost = [(chunk, isolated)] + [(c, i) for c, _f, i in pending]
                pending.clear()
                self._stop()
                self._start()
                for lost_chunk, lost_isolated in lost:
                    if lost_isolated and lost_chunk is chunk:
                        key, path, listing = lost_chunk[0]
                        yield key, failed_result(f"file: the worker process died while parsing {path!s}",
                                                 listing=listing)
                    else:
                        retry.extend(lost_chunk)
                continue
            except Exception:  # noqa: BLE001 - e.g. an unpicklable listing: parse here instead
                results = [parse_file(*job) for job in chunk]
            yield from results
