"""Running real crawls in tests: `python -m scrapy crawl gap` as a subprocess against the replica."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

from gapspider import db
from gapspider.groups import add_page, create_group

ROOT = Path(__file__).resolve().parent.parent

JEANS_URL = "https://www.gap.com/browse/women/jeans?cid=5664#department=136"
TSHIRTS_URL = "https://www.gap.com/browse/men/t-shirts?cid=5225#department=75"


def crawl_env(db_url: str, output_dir: Path, replica, *, api_host="127.0.0.1", web_host="127.0.0.1",
              image_host="127.0.0.1", **extra: str) -> dict[str, str]:
    """The environment of a crawl against the replica (hosts can differ to prove the one-slot rule)."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("GAP_")}
    env.update(
        DATABASE_URL=db_url,
        GAPSPIDER_OUTPUT_DIR=str(output_dir),
        GAP_API_BASE=replica.url_for(api_host),
        GAP_WEB_BASE=replica.url_for(web_host),
        GAP_IMAGE_BASE=replica.url_for(image_host),
        GAP_DOWNLOAD_DELAY="0",
        GAP_DOWNLOAD_DELAY_JITTER="0",
        GAP_RETRY_BACKOFF_BASE="0",
        GAP_PARSE_WORKERS="2",
    )
    env.update({k: str(v) for k, v in extra.items()})
    return env


def run_crawl(env: dict[str, str], *args: str, timeout: float = 300) -> subprocess.CompletedProcess:
    """`scrapy crawl gap ARGS` in the project folder; output captured for assertions and failures."""
    return subprocess.run(
        [sys.executable, "-m", "scrapy", "crawl", "gap", *args],
        cwd=ROOT, env=env, capture_output=True, text=True, timeout=timeout,
    )


def make_group(db_url: str, title: str, pages: list[tuple[str, str]]) -> int:
    with db.session_scope(db_url) as session:
        group = create_group(session, title)
        for page_title, url in pages:
            add_page(session, group, page_title, url)
        return group.id
