"""Stage 2 items: product pages saved as tmp/{group}/{ts}/{ccId}.html, or their failure recorded."""

from __future__ import annotations

import logging
import os

from sqlalchemy import select, update

from gapspider import config, db
from gapspider.items import ProductPageItem
from gapspider.models import Product, ProductData

logger = logging.getLogger(__name__)


def write_atomically(path, data: bytes) -> None:
    """Write via a temporary file and rename, so a crash never leaves half a page behind."""
    path.parent.mkdir(parents=True, exist_ok=True)
    temporary = path.with_name(f".{path.name}.part")
    with open(temporary, "wb") as handle:
        handle.write(data)
    os.replace(temporary, path)


def product_data_id(session, fetch_id: int, cc_id: str) -> int | None:
    """The fetch's row of a colour: its Product(s) by the cc_id index, then the (fetch, product) unique index.

    Written as a join, SQLite read every row of the fetch for each lookup (a cost per page and per product's
    images that grew with the fetch)."""
    return session.scalar(
        select(ProductData.id).where(
            ProductData.gap_data_fetch_id == fetch_id,
            ProductData.product_id.in_(select(Product.id).where(Product.cc_id == cc_id)),
        )
    )


class ProductPagesPipeline:
    def __init__(self, crawler):
        self.crawler = crawler

    @classmethod
    def from_crawler(cls, crawler):
        return cls(crawler)

    def process_item(self, item):
        if not isinstance(item, ProductPageItem):
            return item
        spider = self.crawler.spider
        try:
            values = {"page_http_status": item.http_status, "product_page_url": item.url}
            if item.error is None:
                relative = f"{spider.folder}/{item.cc_id}.html"
                write_atomically(config.output_root() / relative, item.body or b"")
                values.update(html_file_path=relative, page_error=None)
            else:
                values.update(page_error=item.error)
            with db.session_scope() as session:
                row_id = product_data_id(session, item.fetch_id, item.cc_id)
                session.execute(update(ProductData).where(ProductData.id == row_id).values(**values))
                db.increment(
                    session, item.fetch_id, processed_products=1, failed_products=int(item.error is not None)
                )
        except Exception as exc:
            logger.exception("could not store product page %s", item.cc_id)
            spider.abort(f"could not store the product page of {item.cc_id}: {exc}", "crashed")
        return item
