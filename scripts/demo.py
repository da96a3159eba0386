"""`make demo`: the whole fetch, offline, on defaults.

Starts the Gap replica on a free port, creates a sample pages group from one real category (Gap men's
T-shirts, cid 5225, served from the real listing-API capture), runs `scrapy crawl gap` on it against
the replica with the default SQLite database, and prints a summary.
"""

from __future__ import annotations

import os
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from gapspider import config, db  # noqa: E402
from gapspider.cli import print_summary  # noqa: E402
from gapspider.groups import add_page, create_group  # noqa: E402
from gapspider.models import GapDataFetch  # noqa: E402
from tests.replica import GapReplica  # noqa: E402

GROUP_TITLE = "Demo: Gap men's T-shirts"
PAGE_TITLE = "Men / T-Shirts"
PAGE_URL = "https://www.gap.com/browse/men/t-shirts?cid=5225#department=75"


def ensure_group() -> int:
    with db.session_scope() as session:
        group = db.find_group(session, GROUP_TITLE)
        if group is None:
            group = create_group(session, GROUP_TITLE)
            add_page(session, group, PAGE_TITLE, PAGE_URL)
        stale = db.active_fetch(session, group.id)
        if stale is not None:  # left active by an interrupted demo
            db.fail_fetch(session, stale.id, "interrupted: an earlier demo run did not finish")
        return group.id


def main() -> int:
    started = time.monotonic()
    db.upgrade_database()
    group_id = ensure_group()
    with GapReplica() as replica:
        env = {
            **os.environ,
            "GAP_API_BASE": replica.base_url,
            "GAP_WEB_BASE": replica.base_url,
            "GAP_IMAGE_BASE": replica.base_url,
            "GAP_DOWNLOAD_DELAY": os.environ.get("GAP_DOWNLOAD_DELAY", "0"),
            "GAP_DOWNLOAD_DELAY_JITTER": "0",
        }
        log_path = config.output_root() / "demo-crawl.log"
        print(f"Gap replica on {replica.base_url}; database {config.database_url_for_display()}")
        print(f"Crawling group {group_id} ({GROUP_TITLE!r}); crawl log: {log_path}")
        with open(log_path, "wb") as log:
            crawl = subprocess.Popen(
                [sys.executable, "-m", "scrapy", "crawl", "gap", "-a", f"group={group_id}"],
                cwd=ROOT, env=env, stdout=log, stderr=subprocess.STDOUT,
            )
            last = None
            while crawl.poll() is None:
                time.sleep(0.5)
                line = progress_line(group_id)
                if line and line != last:
                    print(f"  {line}", flush=True)
                    last = line
    with db.session_scope() as session:
        fetch = session.query(GapDataFetch).filter_by(pages_group_id=group_id).order_by(GapDataFetch.id.desc()).first()
        print(f"\nFetch finished in {time.monotonic() - started:.1f} s (crawler exit code {crawl.returncode}):")
        print_summary(fetch)
        ok = fetch.status == "succeeded"
    if not ok:
        print(f"\nThe fetch did not succeed; see {log_path}", file=sys.stderr)
    return 0 if ok else 1


def progress_line(group_id: int) -> str | None:
    with db.session_scope() as session:
        fetch = session.query(GapDataFetch).filter_by(pages_group_id=group_id).order_by(GapDataFetch.id.desc()).first()
        if fetch is None:
            return None
        return (
            f"{fetch.status:<24} listing {fetch.processed_pages}/{fetch.total_pages}  "
            f"pages {fetch.processed_products}/{fetch.total_products}  "
            f"images {fetch.processed_images}/{fetch.total_images}  parsed {fetch.parsed_products}"
        )


if __name__ == "__main__":
    sys.exit(main())
