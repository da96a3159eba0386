"""Scrapy settings of the gap spider.

Gap-specific settings read the environment (GAP_*), so `make demo`, the dashboard, scrapyd and tests
can point the same code at the offline replica or at the real sites. Any of them can also be given
with `-s NAME=value` or scrapyd's `setting=NAME=value`.
"""

import os

from gapspider.config import output_root


def _env_float(name: str, default: float) -> float:
    value = os.environ.get(name)
    return float(value) if value not in (None, "") else default


def _env_int(name: str, default: int) -> int:
    value = os.environ.get(name)
    return int(value) if value not in (None, "") else default


BOT_NAME = "gapspider"
SPIDER_MODULES = ["gapspider.spiders"]
NEWSPIDER_MODULE = "gapspider.spiders"
# `scrapy crawl` exits 0 only when the fetch succeeded (1 failed, 2 refused): gapspider/commands/crawl.py
COMMANDS_MODULE = "gapspider.commands"

# --- Where Gap is. Empty means the real sites (the API host by brand, pages and images on the web host).
GAP_API_BASE = os.environ.get("GAP_API_BASE", "")
GAP_WEB_BASE = os.environ.get("GAP_WEB_BASE", "")
GAP_IMAGE_BASE = os.environ.get("GAP_IMAGE_BASE", "")
# Listing endpoint: "current" (since September 2026) or "legacy".
GAP_LISTING_ENDPOINT = os.environ.get("GAP_LISTING_ENDPOINT", "current")
GAP_PAGE_SIZE = _env_int("GAP_PAGE_SIZE", 200)
# Safety net against a listing that never ends.
GAP_MAX_LISTING_PAGES = _env_int("GAP_MAX_LISTING_PAGES", 100)

# --- Images: one rendition per view, the first of these the listing offers; swatches and videos skipped.
GAP_IMAGE_RENDITIONS = os.environ.get("GAP_IMAGE_RENDITIONS", "VLI,Z,P01,QL")
GAP_MAX_IMAGES_PER_PRODUCT = _env_int("GAP_MAX_IMAGES_PER_PRODUCT", 10)
GAP_DOWNLOAD_IMAGES = os.environ.get("GAP_DOWNLOAD_IMAGES", "1") not in ("0", "false", "no")

# --- When failures fail the whole fetch (see README "Failures").
# Consecutive bot blocks (403 Access Denied) on product pages or images: Gap has blocked us, stop.
GAP_MAX_CONSECUTIVE_BLOCKS = _env_int("GAP_MAX_CONSECUTIVE_BLOCKS", 3)
# Share of product pages that may fail before the fetch is failed (checked once at least 10 were tried).
GAP_MAX_PAGE_FAILURE_RATIO = _env_float("GAP_MAX_PAGE_FAILURE_RATIO", 0.5)

# --- Post-crawl step.
GAP_PARSE_WORKERS = _env_int("GAP_PARSE_WORKERS", 0)  # 0: one per CPU

# --- Politeness: strictly one request at a time (the spider enforces it, see GapSpider.update_settings).
CONCURRENT_REQUESTS = 1
CONCURRENT_REQUESTS_PER_DOMAIN = 1
CONCURRENT_ITEMS = 16
DOWNLOAD_DELAY = _env_float("GAP_DOWNLOAD_DELAY", 1.5)
DOWNLOAD_DELAY_JITTER = _env_float("GAP_DOWNLOAD_DELAY_JITTER", 0.5)
DOWNLOAD_TIMEOUT = _env_int("GAP_DOWNLOAD_TIMEOUT", 30)
ROBOTSTXT_OBEY = False
COOKIES_ENABLED = True
AUTOTHROTTLE_ENABLED = False

# --- Retries with exponential backoff and Retry-After (gapspider.middlewares.BackoffRetryMiddleware).
RETRY_ENABLED = True
RETRY_TIMES = _env_int("GAP_RETRY_TIMES", 3)
RETRY_HTTP_CODES = [500, 502, 503, 504, 522, 524, 408, 429]
GAP_RETRY_BACKOFF_BASE = _env_float("GAP_RETRY_BACKOFF_BASE", 2.0)
GAP_RETRY_BACKOFF_MAX = _env_float("GAP_RETRY_BACKOFF_MAX", 60.0)
GAP_RETRY_AFTER_MAX = _env_float("GAP_RETRY_AFTER_MAX", 120.0)
DOWNLOADER_MIDDLEWARES = {
    "scrapy.downloadermiddlewares.retry.RetryMiddleware": None,
    "gapspider.middlewares.BackoffRetryMiddleware": 550,
}

# --- Browser-like headers (a plain client is blocked by Akamai).
USER_AGENT = os.environ.get(
    "GAP_USER_AGENT",
    "Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like Gecko) "
    "Chrome/131.0.0.0 Safari/537.36",
)
DEFAULT_REQUEST_HEADERS = {
    "Accept": "text/html,application/xhtml+xml,application/xml;q=0.9,image/avif,image/webp,*/*;q=0.8",
    "Accept-Language": "en-US,en;q=0.9",
}

# --- Pipelines: listing rows, saved pages, images (FilesPipeline subclass).
ITEM_PIPELINES = {
    "pipelines.products.ProductsPipeline": 100,
    "pipelines.pages.ProductPagesPipeline": 200,
    "pipelines.images.ProductImagesPipeline": 300,
}
# FilesPipeline needs a store; the pipeline writes below each fetch's folder (see file_path).
FILES_STORE = str(output_root())
FILES_EXPIRES = 0
MEDIA_ALLOW_REDIRECTS = True

TWISTED_REACTOR = "twisted.internet.asyncioreactor.AsyncioSelectorReactor"
FEED_EXPORT_ENCODING = "utf-8"
LOG_LEVEL = os.environ.get("GAP_LOG_LEVEL", "INFO")
TELNETCONSOLE_ENABLED = False
