"""Stage 3: product images, FilesPipeline-style, into tmp/{group}/{ts}/{ccId}/images/{file}.

Every image request carries the spider's download slot and takes its turn (one image request is
sent only when the previous one has been answered), so images are fetched one at a time like
everything else, and nothing more is sent once the fetch stops: blocked, cancelled (Ctrl-C,
scrapyd's cancel) or failed. A file is kept only when its bytes are an image; failures are recorded on
the product's ProductData (URL, HTTP status, reason) and counted, and the fetch goes on.
"""

from __future__ import annotations

import logging
from typing import Any

from itemadapter import ItemAdapter
from scrapy.exceptions import IgnoreRequest
from scrapy.http import Request
from scrapy.pipelines.files import FilesPipeline
from scrapy.pipelines.media import FileException
from scrapy.http.request import NO_CALLBACK
from scrapy.utils.defer import maybe_deferred_to_future
from sqlalchemy import update
from twisted.internet.defer import DeferredLock

from gapspider import db
from gapspider.items import ProductImagesItem
from gapspider.listing import safe_filename
from gapspider.models import ProductData
from gapspider.spiders.gap import DOWNLOAD_SLOT, describe_failure, is_block_page
from pipelines.pages import product_data_id

logger = logging.getLogger(__name__)

TURN_META = "_gap_image_turn"


try:  # a filtered media request: no error log, no media_failed (Scrapy 2.19 names it privately)
    from scrapy.pipelines.media import _MediaRequestFiltered as _Filtered
except ImportError:  # pragma: no cover - other Scrapy versions
    _Filtered = FileException


class FetchStopping(_Filtered):
    """An image that was not requested because the fetch is stopping."""

IMAGE_SIGNATURES = {
    b"\xff\xd8\xff": ".jpg",
    b"\x89PNG\r\n\x1a\n": ".png",
    b"GIF87a": ".gif",
    b"GIF89a": ".gif",
}


def sniff_image_extension(body: bytes) -> str | None:
    """The extension the bytes really are (JPEG, PNG, GIF, WebP, AVIF), or None when not an image."""
    for signature, extension in IMAGE_SIGNATURES.items():
        if body.startswith(signature):
            return extension
    if body[:4] == b"RIFF" and body[8:12] == b"WEBP":
        return ".webp"
    if body[4:8] == b"ftyp" and body[8:12] in (b"avif", b"avis"):
        return ".avif"
    return None


class ProductImagesPipeline(FilesPipeline):
    def __init__(self, store_uri, *, crawler=None):
        super().__init__(store_uri, crawler=crawler)
        self.failures: dict[str, dict[str, Any]] = {}
        self.consecutive_blocks = 0
        # One image request at a time, in order: taken before a request goes to the downloader,
        # given back when its answer (or its failure) is in.
        self.turn = DeferredLock()

    def stopping(self) -> bool:
        """True once the fetch is ending: aborted (blocked, failed) or the crawl is shutting down."""
        spider = self.crawler.spider
        engine = self.crawler.engine
        return bool(getattr(spider, "stopping", False)) or (engine is not None and not engine.running)

    def get_media_requests(self, item, info):
        if not isinstance(item, ProductImagesItem):
            return []
        return [
            Request(url, callback=NO_CALLBACK, meta={"download_slot": DOWNLOAD_SLOT, "image_index": index})
            for index, url in enumerate(item.file_urls)
        ]

    async def process_item(self, item):
        if not isinstance(item, ProductImagesItem):
            return item
        if self.stopping():
            return item  # the fetch is ending: these images are not requested, nothing is recorded
        return await super().process_item(item)

    def file_path(self, request, response=None, info=None, *, item=None):
        index = request.meta.get("image_index", 0)
        sniffed = sniff_image_extension(response.body) if response is not None else None
        name = safe_filename(request.url.split("?", 1)[0], default_ext=sniffed or ".jpg")
        return f"{item.folder}/{item.cc_id}/images/{index + 1:02d}-{name}"

    # -- one request at a time, none once the fetch stops

    async def media_to_download(self, request, info, *, item=None):
        await maybe_deferred_to_future(self.turn.acquire())
        if self.stopping():
            self.turn.release()
            raise FetchStopping("not requested: the fetch is stopping")
        request.meta[TURN_META] = True
        try:
            result = await maybe_deferred_to_future(super().media_to_download(request, info, item=item))
        except BaseException:
            self._end_turn(request)
            raise
        if result:  # already on disk: no request
            self._end_turn(request)
        return result

    def _end_turn(self, request) -> None:
        if request.meta.pop(TURN_META, False):
            self.turn.release()

    async def media_downloaded(self, response, request, info, *, item=None):
        try:
            if response.status != 200:
                blocked = response.status == 403
                self._record(request, f"HTTP {response.status}" + (" (blocked)" if blocked else ""), response.status, blocked)
            elif is_block_page(response):
                self._record(request, "blocked by bot protection (Access Denied page)", response.status, True)
                raise FileException("blocked")
            elif sniff_image_extension(response.body) is None:
                content_type = response.headers.get(b"Content-Type", b"").decode("latin-1") or "no content type"
                self._record(request, f"not an image ({content_type}, {len(response.body)} bytes)", response.status)
                raise FileException("not-an-image")
            else:
                self._count_block(False, request.url)
        finally:
            self._end_turn(request)  # the answer is in: the next request may go
        return await super().media_downloaded(response, request, info, item=item)

    def media_failed(self, failure, request, info):
        self._end_turn(request)
        if request.url not in self.failures and not isinstance(failure.value, IgnoreRequest):
            if getattr(failure, "request", None) is None:
                failure.request = request  # describe_failure reads the retries from it
            self._record(request, describe_failure(failure)[0][:300], None)
        return super().media_failed(failure, request, info)

    def _record(self, request, reason: str, status: int | None, blocked: bool = False) -> None:
        self.failures[request.url] = {"url": request.url, "reason": reason, "http_status": status, "blocked": blocked}
        self._count_block(blocked, request.url)

    def _count_block(self, blocked: bool, url: str) -> None:
        """Blocked answers in a row, counted as they come: the limit stops the very next request."""
        self.consecutive_blocks = self.consecutive_blocks + 1 if blocked else 0
        limit = self.crawler.settings.getint("GAP_MAX_CONSECUTIVE_BLOCKS", 3)
        if blocked and limit and self.consecutive_blocks >= limit and not self.stopping():
            self.crawler.spider.abort(
                f"blocked by Gap's bot protection: {self.consecutive_blocks} images in a row answered "
                f"'Access Denied' (last: {url})",
                "blocked",
            )

    def item_completed(self, results, item, info):
        adapter = ItemAdapter(item)
        stored, sources, errors, attempted = [], [], [], 0
        for (ok, value), url in zip(results, item.file_urls):
            if ok:
                stored.append(value["path"])
                sources.append(value.get("url") or url)
                attempted += 1
            elif isinstance(getattr(value, "value", None), FetchStopping):
                continue  # never requested: the fetch was stopping
            else:
                errors.append(self.failures.pop(url, None) or {"url": url, "reason": "download failed", "http_status": None})
                attempted += 1
        adapter["files"] = [{"path": p} for p in stored]
        spider = self.crawler.spider
        for error in errors:
            logger.warning("Image %s of %s failed: %s", error["url"], item.cc_id, error["reason"])
        if not attempted:
            return item
        try:
            with db.session_scope() as session:
                row_id = product_data_id(session, item.fetch_id, item.cc_id)
                session.execute(
                    update(ProductData).where(ProductData.id == row_id).values(
                        image_paths=stored, image_urls=sources, image_errors=errors
                    )
                )
                db.increment(session, item.fetch_id, processed_images=attempted, failed_images=len(errors))
        except Exception as exc:
            logger.exception("could not store images of %s", item.cc_id)
            spider.abort(f"could not store the images of {item.cc_id}: {exc}", "crashed")
        return item
