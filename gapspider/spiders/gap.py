"""The gap spider: one fetch of a pages group, in strict stages, strictly one request at a time.

    scrapy crawl gap -a group=<id or title> [-a fetch=<pending fetch id>]

Stage 1 fetches every listing page of every GapPage (pagination followed), stage 2 every product page,
stage 3 the images (through pipelines.images). Each request is yielded only when the previous one has
finished (errbacks continue the chain), and every request carries the same download slot, whose
concurrency the spider forces to 1 whatever settings say. When the crawl finished normally the
post-crawl step (parsing, SQL output) runs; any other end marks the fetch failed with the reason.
"""

from __future__ import annotations

import logging
from typing import Any, Iterator

import scrapy
from scrapy import signals
from scrapy.exceptions import CloseSpider
from scrapy.http import Request, Response
from scrapy.spidermiddlewares.httperror import HttpError
from sqlalchemy import select, update
from sqlalchemy.exc import OperationalError
from twisted.python.failure import Failure

from gapspider import config, db
from gapspider.items import ProductImagesItem, ProductItem, ProductPageItem
from gapspider.listing import ListingError, parse_listing_response, select_image_paths
from gapspider.models import (
    FETCHING_PRODUCT_IMAGE,
    FETCHING_PRODUCT_LIST,
    FETCHING_PRODUCT_PAGE,
    PENDING,
    SUCCEEDED,
    GapDataFetch,
    GapPage,
    utcnow,
)
from gapspider.urls import (
    LISTING_HEADERS,
    build_image_url,
    build_listing_url,
    build_product_url,
    is_number,
    web_base_for,
    with_page_number,
)

logger = logging.getLogger(__name__)

DOWNLOAD_SLOT = "gap"
# Above scrapyd's setting= and -s (priority 40): one request at a time is not negotiable.
FORCED_PRIORITY = 100
MIN_DOWNLOAD_DELAY = 0.001
# The environment names of Scrapy settings (gapspider/settings.py reads GAP_DOWNLOAD_DELAY into DOWNLOAD_DELAY...).
# Given for one run (`-s GAP_DOWNLOAD_DELAY=2`, scrapyd `setting=GAP_DOWNLOAD_DELAY=2`), they set the Scrapy setting:
# before, they were stored under their own name and nothing read them.
SETTING_ALIASES = {
    "GAP_DOWNLOAD_DELAY": "DOWNLOAD_DELAY",
    "GAP_DOWNLOAD_DELAY_JITTER": "DOWNLOAD_DELAY_JITTER",
    "GAP_DOWNLOAD_TIMEOUT": "DOWNLOAD_TIMEOUT",
    "GAP_RETRY_TIMES": "RETRY_TIMES",
    "GAP_USER_AGENT": "USER_AGENT",
}

CLOSE_REASON_MESSAGES = {
    "shutdown": "cancelled: the crawl was stopped before it finished (shutdown)",
    "cancelled": "cancelled",
    "listing_failed": "a listing page failed",
    "blocked": "blocked by Gap's bot protection",
    "too_many_failures": "too many product pages failed",
    "crashed": "the crawler stopped before finishing its stages (an error in the crawler; see the crawl log)",
    "closespider_timeout": "the crawl took longer than CLOSESPIDER_TIMEOUT",
    "memusage_exceeded": "the crawler used more memory than MEMUSAGE_LIMIT_MB",
}
FORCED_STOP_MESSAGE = (
    "cancelled: the crawl was forced to stop before it finished (a second Ctrl-C, or the process was ended)"
)


def describe_failure(failure: Failure) -> tuple[str, int | None]:
    """A short cause for the user ("HTTP 404", "blocked: HTTP 403 Access Denied") and the HTTP status."""
    exc = failure.value
    if isinstance(exc, HttpError):
        response = exc.response
        status = response.status
        if status == 403 and is_block_page(response):
            return "blocked by bot protection (HTTP 403 Access Denied)", status
        retried = response.request.meta.get("retry_times", 0) if response.request else 0
        suffix = f" after {retried} retries" if retried else ""
        return f"HTTP {status}{suffix}", status
    retried = failure.request.meta.get("retry_times", 0) if getattr(failure, "request", None) else 0
    suffix = f", after {retried} retries" if retried else ""
    plain = NETWORK_FAILURES.get(type(exc).__name__)
    if plain:
        return f"{plain}{suffix}", None
    name = type(exc).__name__
    text = str(exc).strip()
    return (f"{name}: {text}" if text else name)[:480] + suffix, None


# Network failures in words (Scrapy's exception names, by name so a renamed one only loses its wording).
NETWORK_FAILURES = {
    "DownloadFailedError": "the connection was closed before an answer came",
    "ResponseDataLossError": "the answer was cut off before its end",
    "DownloadTimeoutError": "no answer within the download timeout",
    "TimeoutError": "no answer within the download timeout",
    "DownloadConnectionRefusedError": "the connection was refused",
    "ConnectionRefusedError": "the connection was refused",
    "CannotResolveHostError": "the host name could not be resolved",
    "DNSLookupError": "the host name could not be resolved",
}


def is_block_page(response: Response) -> bool:
    """Akamai's block page: 403, or a 200 whose HTML says Access Denied."""
    head = response.body[:4000].decode("utf-8", "replace")
    return "Access Denied" in head and ("Reference #" in head or "<title>Access Denied" in head)


class GapSpider(scrapy.Spider):
    name = "gap"

    def __init__(self, group: str | None = None, fetch: str | None = None, _job: str | None = None, **kwargs):
        super().__init__(**kwargs)
        self.group_ref = group
        self.fetch_ref = fetch
        self.job_id = _job
        self.fetch_id: int | None = None
        self.refused: str | None = None
        self.group_id: int | None = None
        self.folder: str | None = None
        self.pages: list[dict[str, Any]] = []
        self.products: dict[str, dict[str, Any]] = {}
        self.page_queue: list[str] = []
        self.pages_tried = 0
        self.pages_failed = 0
        self.consecutive_blocks = 0
        # Set when the last stage has been handed out: a crawl that "finished" without it died of an error.
        self.all_stages_done = False
        # Set when the fetch has been failed (blocked, too many failures...): nothing more is requested.
        self.stopping = False
        # Fires when the post-crawl step (run in a thread) is over; the reactor's shutdown waits for it.
        self._post_crawl_done = None
        # What `scrapy crawl` exits with (gapspider.commands.crawl): 0 succeeded, 1 failed, 2 refused.
        self.exit_status = 1

    # ------------------------------------------------------------ wiring

    @classmethod
    def update_settings(cls, settings):
        super().update_settings(settings)
        for alias, name in SETTING_ALIASES.items():
            priority = settings.getpriority(alias)
            if priority is not None and priority >= (settings.getpriority(name) or 0):
                settings.set(name, settings.get(alias), priority=priority)
        settings.set("CONCURRENT_REQUESTS", 1, priority=FORCED_PRIORITY)
        settings.set("CONCURRENT_REQUESTS_PER_DOMAIN", 1, priority=FORCED_PRIORITY)
        settings.set("CONCURRENT_REQUESTS_PER_IP", 0, priority=FORCED_PRIORITY)
        # Scrapy's downloader starts queued downloads as tasks; with no delay at all its loop can hand out a
        # second queued request (FilesPipeline queues a product's images together) before the first one
        # counts as transferring. Any delay makes it hand out one request per turn, so a millisecond is the floor.
        delay = max(settings.getfloat("DOWNLOAD_DELAY"), MIN_DOWNLOAD_DELAY)
        settings.set("DOWNLOAD_DELAY", delay, priority=max(settings.getpriority("DOWNLOAD_DELAY") or 0, FORCED_PRIORITY))
        slots = dict(settings.getdict("DOWNLOAD_SLOTS"))
        slot = {**slots.get(DOWNLOAD_SLOT, {}), "concurrency": 1}
        slot["delay"] = max(float(slot.get("delay", delay)), MIN_DOWNLOAD_DELAY)
        slots[DOWNLOAD_SLOT] = slot
        settings.set("DOWNLOAD_SLOTS", slots, priority=FORCED_PRIORITY)

    @classmethod
    def from_crawler(cls, crawler, *args, **kwargs):
        spider = super().from_crawler(crawler, *args, **kwargs)
        crawler.signals.connect(spider.on_spider_closed, signal=signals.spider_closed)
        return spider

    def request(self, url: str, callback, errback, **meta: Any) -> Request:
        """Every request goes through the one shared download slot."""
        headers = meta.pop("headers", None)
        return Request(
            url,
            callback=callback,
            errback=errback,
            headers=headers,
            meta={"download_slot": DOWNLOAD_SLOT, **meta},
            dont_filter=True,
        )

    # ------------------------------------------------------------ start

    async def start(self):
        for request in self.start_requests():
            yield request

    def start_requests(self) -> Iterator[Request]:
        try:
            try:
                db.upgrade_database()
                self._claim_fetch()
            except OperationalError as exc:  # server down, wrong host, password or database name
                raise RefuseFetch(db.unreachable_message(exc)) from None
        except RefuseFetch as refusal:
            self.refused = str(refusal)
            self.exit_status = 2
            logger.error("gap spider refused: %s", refusal)
            if refusal.fail_fetch_id is not None:
                with db.session_scope() as session:
                    db.fail_fetch(session, refusal.fail_fetch_id, str(refusal))
            return
        self._guard_forced_stop()
        logger.info(
            "Fetch %s of group %s: %d page(s), output in %s",
            self.fetch_id, self.group_id, len(self.pages), config.output_root() / self.folder,
        )
        yield self._listing_request(0, 0)

    def _guard_forced_stop(self) -> None:
        """A forced stop (the second Ctrl-C stops the reactor at once) never runs spider_closed: fail the
        fetch on the way out instead, so it does not stay active and block its group."""
        import atexit

        from twisted.internet import reactor

        reactor.addSystemEventTrigger("before", "shutdown", self._on_reactor_shutdown)
        atexit.register(self._fail_if_still_active)

    def _on_reactor_shutdown(self):
        # Ctrl-C during the post-crawl step stops the reactor while the step runs in its thread; the step
        # sees the engine stopped and ends the fetch itself (cancelled, pages kept): wait for it first.
        done = self._post_crawl_done
        if done is not None and not done.called:
            return done.addCallback(lambda _: self._fail_if_still_active())
        self._fail_if_still_active()
        return None

    def _fail_if_still_active(self) -> None:
        if self.fetch_id is None:
            return
        try:
            with db.session_scope() as session:
                if db.fail_fetch(session, self.fetch_id, FORCED_STOP_MESSAGE, {"close_reason": "forced"}):
                    logger.error("Fetch %s failed: %s", self.fetch_id, FORCED_STOP_MESSAGE)
        except Exception:  # the process is going down; say so, never hide the original exit
            logger.exception("could not mark fetch %s failed on the way out", self.fetch_id)

    def _claim_fetch(self) -> None:
        """Find the group and take (or create) its fetch; refuse with a one-line reason, before any HTTP."""
        if not self.group_ref and not self.fetch_ref:
            raise RefuseFetch("say which group to fetch: scrapy crawl gap -a group=<id or title>")
        with db.session_scope() as session:
            given = None
            if self.fetch_ref:
                ref = str(self.fetch_ref).strip()
                if not is_number(ref) or (given := session.get(GapDataFetch, int(ref))) is None:
                    raise RefuseFetch(f"there is no fetch {self.fetch_ref!r}")
            group = db.find_group(session, self.group_ref) if self.group_ref else given.pages_group
            if group is None:
                raise RefuseFetch(
                    f"there is no pages group {self.group_ref!r} (list them with: gapspider groups)",
                    fail_fetch_id=given.id if given is not None else None,
                )
            if given is not None and given.pages_group_id != group.id:
                raise RefuseFetch(f"fetch {given.id} belongs to group {given.pages_group_id}, not {group.id}")
            pages = session.scalars(select(GapPage).where(GapPage.pages_group_id == group.id).order_by(GapPage.id)).all()
            if given is None:
                db.fail_dead_crawls(session, group.id)  # a killed earlier crawl must not block this one
                try:
                    given = db.create_fetch(session, group.id, scrapyd_job_id=self.job_id)
                except db.FetchAlreadyActive:
                    running = db.active_fetch(session, group.id)
                    raise RefuseFetch(
                        f"a fetch is already running for group {group.title!r} "
                        f"(fetch {running.id if running else '?'}, status {running.status if running else '?'})"
                    ) from None
            if not pages:
                raise RefuseFetch(f"group {group.title!r} has no Gap pages to fetch", fail_fetch_id=given.id)
            claimed = session.execute(
                update(GapDataFetch)
                .where(GapDataFetch.id == given.id, GapDataFetch.status == PENDING)
                .values(
                    status=FETCHING_PRODUCT_LIST,
                    current_step="Fetching product lists",
                    started_at=utcnow(),
                    updated_at=utcnow(),
                    total_pages=len(pages),
                    scrapyd_job_id=given.scrapyd_job_id or self.job_id,
                    **db.this_crawler(),
                )
            )
            if not claimed.rowcount:
                session.refresh(given)
                raise RefuseFetch(f"fetch {given.id} is not pending (status {given.status}); start a new one")
            self.fetch_id = given.id
            self.group_id = group.id
            self.folder = f"{group.id}/{given.folder_timestamp}"
            self.pages = [
                {"id": p.id, "title": p.title, "web_page_url": p.web_page_url, "parameters": p.web_page_parameters or {}}
                for p in pages
            ]

    # ------------------------------------------------------------ stage 1: listing

    def _listing_url(self, page: dict[str, Any], page_number: int) -> str:
        settings = self.settings
        url = build_listing_url(
            page["web_page_url"],
            page_size=settings.getint("GAP_PAGE_SIZE", 200),
            api_base=settings.get("GAP_API_BASE") or None,
            endpoint=settings.get("GAP_LISTING_ENDPOINT", "current"),
        )
        return with_page_number(url, page_number)

    def _listing_request(self, page_index: int, page_number: int) -> Request:
        page = self.pages[page_index]
        return self.request(
            self._listing_url(page, page_number),
            self.parse_listing,
            self.listing_failed,
            headers={**LISTING_HEADERS, "Accept": "application/json"},
            page_index=page_index,
            page_number=page_number,
        )

    def _listing_label(self, response_or_request) -> str:
        meta = response_or_request.meta
        page = self.pages[meta["page_index"]]
        return f"listing page {meta['page_number'] + 1} of {page['title']!r}"

    def parse_listing(self, response: Response):
        meta = response.meta
        page = self.pages[meta["page_index"]]
        try:
            listing = parse_listing_response(response.text if hasattr(response, "text") else response.body.decode("utf-8", "replace"))
        except ListingError as exc:
            self._fail_and_close(
                f"{self._listing_label(response)} failed: {exc}",
                "listing_failed",
                {"url": response.url, "http_status": response.status, "gap_page_id": page["id"]},
            )
        for message in listing.skipped:
            logger.warning("%s: skipped %s", self._listing_label(response), message)
        new = 0
        for colour in listing.colours:
            if colour.cc_id in self.products:
                continue
            position = len(self.products)
            product_url = build_product_url(
                colour.cc_id,
                web_base=self.settings.get("GAP_WEB_BASE") or web_base_for(page["web_page_url"]),
                page_parameters=page["parameters"],
            )
            # Only what the later stages need: the product page URL and the chosen image URLs (a few strings), not
            # the listing's image entries (22-56 dicts a colour, ~18 kB), kept for the whole crawl by every product.
            self.products[colour.cc_id] = {
                "url": product_url,
                "image_urls": self._image_urls(colour.images, page),
            }
            new += 1
            yield ProductItem(
                fetch_id=self.fetch_id,
                gap_page_id=page["id"],
                position=position,
                style_id=colour.style_id,
                cc_id=colour.cc_id,
                style_name=colour.style_name,
                cc_name=colour.cc_name,
                api_image_paths=colour.images,
                product_page_url=product_url,
                **colour.facts,
            )
        page_number = meta["page_number"]
        more_pages = (
            page_number + 1 < listing.page_count
            and listing.colours
            and page_number + 1 < self.settings.getint("GAP_MAX_LISTING_PAGES", 100)
        )
        extra_pages = max(0, listing.page_count - 1) if page_number == 0 else 0
        with db.session_scope() as session:
            db.increment(session, self.fetch_id, processed_pages=1, total_products=new, total_pages=extra_pages)
        if not listing.colours and page_number == 0:
            logger.warning("%s: the category has no products (is the cid right?)", self._listing_label(response))
        logger.info(
            "%s: %d colours, %d new (page %d of %d)",
            self._listing_label(response), len(listing.colours), new, page_number + 1, listing.page_count,
        )
        if more_pages:
            yield self._listing_request(meta["page_index"], page_number + 1)
        elif meta["page_index"] + 1 < len(self.pages):
            yield self._listing_request(meta["page_index"] + 1, 0)
        else:
            yield from self._start_product_pages()

    def _image_urls(self, images: list[dict[str, Any]], page: dict[str, Any]) -> list[str]:
        """The URLs stage 3 fetches for a colour: one rendition per view (GAP_IMAGE_RENDITIONS), at most
        GAP_MAX_IMAGES_PER_PRODUCT, on GAP_IMAGE_BASE, else GAP_WEB_BASE, else the page's host."""
        renditions = self.settings.getlist("GAP_IMAGE_RENDITIONS") or ["VLI"]
        limit = self.settings.getint("GAP_MAX_IMAGES_PER_PRODUCT", 10)
        image_base = (self.settings.get("GAP_IMAGE_BASE") or self.settings.get("GAP_WEB_BASE")
                      or web_base_for(page["web_page_url"]))
        return [build_image_url(c["path"], image_base=image_base)
                for c in select_image_paths(images, renditions, limit)]

    def listing_failed(self, failure: Failure):
        request = failure.request
        cause, status = describe_failure(failure)
        self._fail_and_close(
            f"{self._listing_label(request)} failed: {cause}",
            "blocked" if status == 403 else "listing_failed",
            {"url": request.url, "http_status": status, "gap_page_id": self.pages[request.meta["page_index"]]["id"]},
        )

    # ------------------------------------------------------------ stage 2: product pages

    def _start_product_pages(self):
        if not self.products:
            titles = ", ".join(repr(p["title"]) for p in self.pages)
            self._fail_and_close(
                f"the listing found no products on any page ({titles}): check the category URLs (cid, department)",
                "listing_failed",
                {"gap_page_ids": [p["id"] for p in self.pages]},
            )
        self.page_queue = list(self.products)
        self._set_stage(FETCHING_PRODUCT_PAGE, f"Fetching {len(self.page_queue)} product pages")
        yield from self._next_product_page()

    def _next_product_page(self):
        if self.page_queue:
            cc_id = self.page_queue.pop(0)
            yield self.request(self.products[cc_id]["url"], self.parse_product_page, self.product_page_failed, cc_id=cc_id)
        else:
            yield from self._start_images()

    def parse_product_page(self, response: Response):
        cc_id = response.meta["cc_id"]
        if is_block_page(response):
            yield from self._product_page_error(cc_id, response.url, "blocked by bot protection (Access Denied page)", response.status, blocked=True)
            return
        self.consecutive_blocks = 0
        self.pages_tried += 1
        yield ProductPageItem(
            fetch_id=self.fetch_id, cc_id=cc_id, url=response.url, body=response.body, http_status=response.status
        )
        yield from self._next_product_page()

    def product_page_failed(self, failure: Failure):
        cause, status = describe_failure(failure)
        request = failure.request
        blocked = status == 403
        yield from self._product_page_error(request.meta["cc_id"], request.url, cause, status, blocked=blocked)

    def _product_page_error(self, cc_id: str, url: str, cause: str, status: int | None, *, blocked: bool):
        logger.warning("Product page %s failed: %s", url, cause)
        self.pages_tried += 1
        self.pages_failed += 1
        self.consecutive_blocks = self.consecutive_blocks + 1 if blocked else 0
        yield ProductPageItem(fetch_id=self.fetch_id, cc_id=cc_id, url=url, http_status=status, error=cause)
        max_blocks = self.settings.getint("GAP_MAX_CONSECUTIVE_BLOCKS", 3)
        if blocked and max_blocks and self.consecutive_blocks >= max_blocks:
            self._fail_and_close(
                f"blocked by Gap's bot protection: {self.consecutive_blocks} product pages in a row answered "
                f"'Access Denied' (last: {url})",
                "blocked",
                {"url": url, "http_status": status},
            )
        ratio = self.settings.getfloat("GAP_MAX_PAGE_FAILURE_RATIO", 0.5)
        if self.pages_tried >= 10 and self.pages_failed > ratio * self.pages_tried:
            self._fail_and_close(
                f"too many product pages failed: {self.pages_failed} of {self.pages_tried} "
                f"(limit {ratio:.0%}; last: {url}: {cause})",
                "too_many_failures",
                {"url": url, "http_status": status},
            )
        yield from self._next_product_page()

    # ------------------------------------------------------------ stage 3: images

    def _start_images(self):
        if not self.settings.getbool("GAP_DOWNLOAD_IMAGES", True):
            self.all_stages_done = True
            return
        items = [
            ProductImagesItem(fetch_id=self.fetch_id, cc_id=cc_id, folder=self.folder, file_urls=product["image_urls"])
            for cc_id, product in self.products.items()
            if product["image_urls"]
        ]
        total = sum(len(i.file_urls) for i in items)
        self._set_stage(FETCHING_PRODUCT_IMAGE, f"Fetching {total} images", total_images=total)
        self.all_stages_done = True
        # Stage 3 starts only now, after the last product page. The images pipeline sends one image
        # request at a time (through the one download slot) and none once the fetch stops.
        for item in items:
            if self.stopping:
                return
            yield item

    # ------------------------------------------------------------ status and the end

    def _set_stage(self, status: str, step: str, **values: Any) -> None:
        """Move the fetch to its next stage; a fetch that is no longer active was cancelled: stop here."""
        with db.session_scope() as session:
            moved = db.set_fetch(session, self.fetch_id, active_only=True, status=status, current_step=step, **values)
        if not moved:
            logger.warning("Fetch %s is no longer active (cancelled); stopping before: %s", self.fetch_id, step)
            raise CloseSpider("cancelled")
        logger.info("Fetch %s: %s", self.fetch_id, step)

    def abort(self, message: str, reason: str, details: dict[str, Any] | None = None) -> None:
        """Fail the fetch now and close the spider (used by pipelines too)."""
        self.stopping = True
        with db.session_scope() as session:
            db.fail_fetch(session, self.fetch_id, message, details)
        logger.error("Fetch %s failed: %s", self.fetch_id, message)
        from scrapy.utils.defer import deferred_from_coro

        deferred_from_coro(self.crawler.engine.close_spider_async(reason=reason))

    def _fail_and_close(self, message: str, reason: str, details: dict[str, Any] | None = None):
        self.stopping = True
        with db.session_scope() as session:
            db.fail_fetch(session, self.fetch_id, message, details)
        logger.error("Fetch %s failed: %s", self.fetch_id, message)
        raise CloseSpider(reason)

    async def on_spider_closed(self, spider, reason: str):
        if spider is not self or self.refused or self.fetch_id is None:
            return
        try:
            await self._end_fetch(reason)
        finally:
            from gapspider.postprocess import fetch_status

            self.exit_status = 0 if fetch_status(self.fetch_id) == SUCCEEDED else 1

    async def _end_fetch(self, reason: str) -> None:
        from gapspider.postprocess import fetch_is_active, run_postprocess

        if reason == "finished" and not self.all_stages_done:
            reason = "crashed"
        if reason == "finished" and fetch_is_active(self.fetch_id):
            from twisted.internet.threads import deferToThread
            from scrapy.utils.defer import maybe_deferred_to_future

            workers = self.settings.getint("GAP_PARSE_WORKERS", 0) or None
            engine = self.crawler.engine

            def shutting_down() -> bool:  # Ctrl-C / scrapyd's cancel during the post-crawl step stop the engine
                return not engine.running

            from twisted.internet.defer import Deferred

            self._post_crawl_done = Deferred()
            try:
                await maybe_deferred_to_future(
                    deferToThread(run_postprocess, self.fetch_id, workers=workers, should_stop=shutting_down)
                )
            except Exception as exc:  # run_postprocess fails the fetch itself; this is the last guard
                logger.exception("post-crawl step crashed")
                with db.session_scope() as session:
                    db.fail_fetch(session, self.fetch_id, f"post-crawl step crashed: {exc}")
            finally:
                self._post_crawl_done.callback(None)
            return
        message = CLOSE_REASON_MESSAGES.get(reason, f"the crawl ended early ({reason})")
        with db.session_scope() as session:
            if db.fail_fetch(session, self.fetch_id, message, {"close_reason": reason}):
                logger.error("Fetch %s failed: %s", self.fetch_id, message)


class RefuseFetch(Exception):
    """The spider will not run this fetch; the message is the one line the user sees."""

    def __init__(self, message: str, *, fail_fetch_id: int | None = None):
        super().__init__(message)
        self.fail_fetch_id = fail_fetch_id
