"""Stage 1 items to rows: a Product upserted per colour, a ProductData row per colour and fetch."""

from __future__ import annotations

import logging

from sqlalchemy import select
from sqlalchemy.dialects import postgresql, sqlite

from gapspider import db
from gapspider.items import ProductItem
from gapspider.models import Product, ProductData, utcnow

logger = logging.getLogger(__name__)

PRODUCT_FIELDS = ("style_name", "cc_name", "cc_short_description", "web_product_type")
LISTING_FIELDS = (
    "gap_page_id", "position", "regular_price", "effective_price", "price_type", "percentage_off",
    "inventory_status", "inventory_count", "review_score", "review_count", "excluded_from_promotion",
    "marketing_flags", "style_marketing_flags", "badges", "api_image_paths", "product_page_url",
)


def upsert_product(session, values: dict) -> int:
    """Insert or update the Product of (style_id, cc_id) in one statement; its id."""
    dialect = session.get_bind().dialect.name
    insert = postgresql.insert if dialect == "postgresql" else sqlite.insert
    stmt = insert(Product).values(**values, created_at=utcnow(), updated_at=utcnow())
    stmt = stmt.on_conflict_do_update(
        index_elements=["style_id", "cc_id"],
        set_={**{name: stmt.excluded[name] for name in PRODUCT_FIELDS}, "updated_at": stmt.excluded.updated_at},
    )
    session.execute(stmt)
    return session.scalar(
        select(Product.id).where(Product.style_id == values["style_id"], Product.cc_id == values["cc_id"])
    )


class ProductsPipeline:
    """Writes listing colours; the spider has already skipped colours seen twice in this fetch."""

    def __init__(self, crawler):
        self.crawler = crawler

    @classmethod
    def from_crawler(cls, crawler):
        return cls(crawler)

    def process_item(self, item):
        if not isinstance(item, ProductItem):
            return item
        spider = self.crawler.spider
        try:
            with db.session_scope() as session:
                product_id = upsert_product(
                    session,
                    {"style_id": item.style_id, "cc_id": item.cc_id, **{f: getattr(item, f) for f in PRODUCT_FIELDS}},
                )
                fetch_timestamp = spider.folder.rsplit("/", 1)[-1]
                session.add(
                    ProductData(
                        product_id=product_id,
                        gap_data_fetch_id=item.fetch_id,
                        folder_timestamp=fetch_timestamp,
                        listing_data=item.listing_data,
                        **{f: getattr(item, f) for f in LISTING_FIELDS},
                    )
                )
        except Exception as exc:
            logger.exception("could not store product %s", item.cc_id)
            spider.abort(f"database error while storing product {item.cc_id}: {exc}", "crashed")
        return item
