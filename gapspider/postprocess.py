"""The post-crawl step: parse every saved product page in worker processes, then write the SQL output.

Runs from the spider when a crawl finished normally, and standalone (`gapspider postprocess FETCH`)
to redo parsing and output for a finished crawl. Status moves parsing_product_pages ->
generating_output -> succeeded; any error marks the fetch failed with the reason.
"""

from __future__ import annotations

import logging
import time
from typing import Any, Callable

from sqlalchemy import select, update
from sqlalchemy.exc import IntegrityError

from gapspider import config, db
from gapspider.models import (
    ACTIVE_STATUSES,
    GENERATING_OUTPUT,
    PARSING_PRODUCT_PAGES,
    SUCCEEDED,
    LISTING_FACT_COLUMNS,
    LISTING_FACT_PRODUCT_COLUMNS,
    GapDataFetch,
    Product,
    ProductData,
    listing_facts_from,
    utcnow,
)

logger = logging.getLogger(__name__)

BATCH = 200


def fetch_status(fetch_id: int) -> str | None:
    with db.session_scope() as session:
        return session.scalar(select(GapDataFetch.status).where(GapDataFetch.id == fetch_id))


def fetch_is_active(fetch_id: int) -> bool:
    return fetch_status(fetch_id) in ACTIVE_STATUSES


def output_file_name(folder_timestamp: str) -> str:
    return f"gap_data_{folder_timestamp}.sql"


def _parse_jobs(session, fetch_id: int) -> list[tuple[int, str, dict[str, Any]]]:
    """(row id, saved page, listing facts) of every saved page. Only the columns the jobs need are read: whole rows
    (listing_data, api_image_paths... as ORM objects, ~45 kB a product) made the peak memory grow with the fetch."""
    rows = session.execute(
        select(
            ProductData.id, ProductData.html_file_path,
            *(getattr(Product, name) for name in LISTING_FACT_PRODUCT_COLUMNS),
            *(getattr(ProductData, name) for name in LISTING_FACT_COLUMNS),
        )
        .join(Product, Product.id == ProductData.product_id)
        .where(ProductData.gap_data_fetch_id == fetch_id, ProductData.html_file_path.is_not(None))
        .order_by(ProductData.id)
    )
    root = config.output_root()
    return [(row.id, str(root / row.html_file_path), listing_facts_from(row._mapping)) for row in rows]


def parse_pages(fetch_id: int, workers: int | None = None, should_stop: Callable[[], bool] | None = None) -> int:
    """Parse every saved page of a fetch into ProductData.parsed_data; the number parsed.

    `should_stop` is asked after every page; when it says yes the pool is shut down and `FetchCancelled` raised.
    """
    from gapspider.parsing.pool import parse_saved_pages

    with db.session_scope() as session:
        jobs = _parse_jobs(session, fetch_id)
        db.set_fetch(session, fetch_id, parsed_products=0)
    parsed = 0
    pending: list[tuple[int, dict[str, Any]]] = []

    def flush() -> None:
        nonlocal parsed
        with db.session_scope() as session:
            for row_id, data in pending:
                blocked = bool(data.get("blocked"))
                session.execute(
                    update(ProductData)
                    .where(ProductData.id == row_id)
                    .values(
                        parsed_data=data,
                        parse_error="bot-block page (Access Denied), not a product page" if blocked else None,
                    )
                )
            db.increment(session, fetch_id, parsed_products=len(pending))
        parsed += len(pending)
        pending.clear()

    results = parse_saved_pages(jobs, workers=workers)
    try:
        for row_id, data in results:
            pending.append((row_id, data))
            if len(pending) >= BATCH:
                flush()
            if should_stop is not None and should_stop():
                raise FetchCancelled("while parsing the saved pages")
    finally:
        results.close()  # shuts the worker processes down, also when stopped early
        if pending:
            flush()  # what was parsed is kept
    return parsed


def count_blocked_pages(fetch_id: int) -> int:
    """Pages that were saved but turned out to be block pages count as failed products."""
    with db.session_scope() as session:
        rows = session.scalars(
            select(ProductData).where(
                ProductData.gap_data_fetch_id == fetch_id, ProductData.parse_error.is_not(None)
            )
        ).all()
        blocked = [r for r in rows if r.page_error is None and (r.parsed_data or {}).get("blocked")]
        for row in blocked:
            row.page_error = "blocked by bot protection (Access Denied page)"
        if blocked:
            db.increment(session, fetch_id, failed_products=len(blocked))
    return len(blocked)


class FetchCancelled(Exception):
    """The crawl process was asked to stop (Ctrl-C, scrapyd's cancel) during the post-crawl step."""


def cancelled_message(fetch_id: int, where: str) -> str:
    return (
        f"cancelled during the post-crawl step ({where}): the crawl had finished and its pages are saved; "
        f"`gapspider postprocess {fetch_id}` parses them and writes the SQL file"
    )


class FetchNotActive(Exception):
    """The fetch stopped being active while the post-crawl step ran (cancelled): leave its outcome alone."""


def _advance(fetch_id: int, **values: Any) -> None:
    with db.session_scope() as session:
        if not db.set_fetch(session, fetch_id, active_only=True, **values):
            raise FetchNotActive(f"fetch {fetch_id} is no longer active (cancelled?)")


def _reopen(fetch_id: int) -> None:
    """Standalone redo of a finished fetch: make it active again (the one-active-fetch index still holds).

    This process becomes the fetch's crawler: the crawl's process is long gone, and the dead-crawl checks of the
    CLI and the dashboard would otherwise fail the redo while it runs.
    """
    try:
        with db.session_scope() as session:
            db.set_fetch(
                session, fetch_id, status=PARSING_PRODUCT_PAGES, current_step="Parsing product pages",
                completed_at=None, error_message=None, error_details=None, **db.this_crawler(),
            )
    except IntegrityError:
        raise PostprocessRefused(
            f"another fetch of this group is active; run the post-crawl step of fetch {fetch_id} when it has ended"
        ) from None


class PostprocessRefused(Exception):
    """The post-crawl step cannot run now; the fetch is left as it was."""


def run_postprocess(
    fetch_id: int, *, workers: int | None = None, reopen: bool = False, should_stop: Callable[[], bool] | None = None
) -> None:
    """Parse, write the SQL file, mark the fetch succeeded; on any error mark it failed and re-raise.

    From the spider (`reopen=False`) each step only applies while the fetch is active, so a fetch cancelled
    meanwhile stays cancelled. `reopen=True` is the standalone redo of a finished fetch. `should_stop` (the
    spider passes "the crawl process is shutting down") is asked between steps and pages: when it says yes
    the fetch ends failed as cancelled, with the pages parsed so far kept, and no SQL file.
    """
    stop = should_stop or (lambda: False)

    def checkpoint(where: str) -> None:
        if stop():
            raise FetchCancelled(where)

    from gapspider.sqlout import write_sql_output

    started = time.monotonic()
    with db.session_scope() as session:
        fetch = session.get(GapDataFetch, fetch_id)
        if fetch is None:
            raise LookupError(f"there is no fetch {fetch_id}")
        folder = config.output_root() / str(fetch.pages_group_id) / fetch.folder_timestamp
    if reopen:
        _reopen(fetch_id)
    try:
        checkpoint("before parsing")
        if not reopen:
            _advance(fetch_id, status=PARSING_PRODUCT_PAGES, current_step="Parsing product pages")
        parsed = parse_pages(fetch_id, workers=workers, should_stop=stop)
        blocked = count_blocked_pages(fetch_id)
        logger.info("Fetch %s: parsed %d pages (%d block pages) in %.1f s", fetch_id, parsed, blocked, time.monotonic() - started)
        checkpoint("after parsing, before the SQL output")
        _advance(fetch_id, status=GENERATING_OUTPUT, current_step="Writing the SQL output")
        path = folder / output_file_name(folder.name)
        folder.mkdir(parents=True, exist_ok=True)
        finished = utcnow()  # the file's generated_at and completed_at, and the fetch's completed_at: one instant
        with db.session_scope() as session:
            counts = write_sql_output(session, fetch_id, path, generated_at=finished)
        try:
            _advance(fetch_id, status=SUCCEEDED, current_step="Done", completed_at=finished, output_path=str(path))
        except FetchNotActive:
            path.unlink(missing_ok=True)  # cancelled while it was written: no loadable file of a cancelled fetch
            raise
        logger.info("Fetch %s succeeded: %s (%s)", fetch_id, path, counts)
    except FetchNotActive as exc:
        logger.warning("post-crawl step of fetch %s stopped: %s", fetch_id, exc)
    except FetchCancelled as exc:
        message = cancelled_message(fetch_id, str(exc))
        with db.session_scope() as session:
            db.fail_fetch(session, fetch_id, message, {"close_reason": "shutdown", "post_crawl": True})
        logger.error("Fetch %s failed: %s", fetch_id, message)
    except Exception as exc:
        if stop():  # e.g. Ctrl-C in a terminal also interrupts the parsing workers
            message = cancelled_message(fetch_id, f"{type(exc).__name__}: {exc}"[:200])
            with db.session_scope() as session:
                db.fail_fetch(session, fetch_id, message, {"close_reason": "shutdown", "post_crawl": True})
            logger.error("Fetch %s failed: %s", fetch_id, message)
            return
        logger.exception("post-crawl step of fetch %s failed", fetch_id)
        with db.session_scope() as session:
            db.fail_fetch(session, fetch_id, f"post-crawl step failed: {exc}")
        raise
