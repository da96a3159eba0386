"""The data model: pages groups, their Gap pages, fetches, products and per-fetch product data.

SQLAlchemy 2.x typed declarative models. The schema itself is created and upgraded by the Alembic
migrations in `gapspider/migrations` (see `gapspider.db.upgrade_database`), never by `create_all`
in production code, so a PostgreSQL database in use can be upgraded.
"""

from __future__ import annotations

import datetime as dt
from typing import Any, Optional

from sqlalchemy import (
    JSON,
    DateTime,
    ForeignKey,
    Index,
    Integer,
    MetaData,
    String,
    Text,
    UniqueConstraint,
    func,
    text,
)
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column, relationship

# Status values of a fetch, in the order a successful fetch goes through them.
PENDING = "pending"
FETCHING_PRODUCT_LIST = "fetching_product_list"
FETCHING_PRODUCT_PAGE = "fetching_product_page"
FETCHING_PRODUCT_IMAGE = "fetching_product_image"
PARSING_PRODUCT_PAGES = "parsing_product_pages"
GENERATING_OUTPUT = "generating_output"
SUCCEEDED = "succeeded"
FAILED = "failed"

STATUSES = (
    PENDING,
    FETCHING_PRODUCT_LIST,
    FETCHING_PRODUCT_PAGE,
    FETCHING_PRODUCT_IMAGE,
    PARSING_PRODUCT_PAGES,
    GENERATING_OUTPUT,
    SUCCEEDED,
    FAILED,
)
FINAL_STATUSES = (SUCCEEDED, FAILED)
ACTIVE_STATUSES = tuple(s for s in STATUSES if s not in FINAL_STATUSES)

# The predicate of the partial unique index: at most one active fetch per group, enforced by the database.
ACTIVE = text("status NOT IN ('failed', 'succeeded')")

# Stable constraint names, so migrations behave the same on PostgreSQL and SQLite.
NAMING_CONVENTION = {
    "ix": "ix_%(table_name)s_%(column_0_name)s",
    "uq": "uq_%(table_name)s_%(column_0_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}


def utcnow() -> dt.datetime:
    return dt.datetime.now(dt.timezone.utc)


class Base(DeclarativeBase):
    metadata = MetaData(naming_convention=NAMING_CONVENTION)


class TimestampMixin:
    created_at: Mapped[dt.datetime] = mapped_column(DateTime(timezone=True), default=utcnow)
    updated_at: Mapped[dt.datetime] = mapped_column(
        DateTime(timezone=True), default=utcnow, onupdate=utcnow
    )


class PagesGroup(TimestampMixin, Base):
    """A named set of Gap category pages, fetched together."""

    __tablename__ = "pages_group"

    id: Mapped[int] = mapped_column(primary_key=True)
    title: Mapped[str] = mapped_column(String(255), unique=True)

    pages: Mapped[list[GapPage]] = relationship(
        back_populates="pages_group", cascade="all, delete-orphan", order_by="GapPage.id"
    )
    fetches: Mapped[list[GapDataFetch]] = relationship(
        back_populates="pages_group",
        cascade="all, delete-orphan",
        order_by="GapDataFetch.id.desc()",
    )

    def __repr__(self) -> str:
        return f"<PagesGroup {self.id} {self.title!r}>"


class GapPage(TimestampMixin, Base):
    """One Gap category web page of a group, with its derived listing-API URL."""

    __tablename__ = "gap_page"
    __table_args__ = (UniqueConstraint("pages_group_id", "title", name="uq_gap_page_group_title"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    pages_group_id: Mapped[int] = mapped_column(
        ForeignKey("pages_group.id", ondelete="CASCADE"), index=True
    )
    title: Mapped[str] = mapped_column(String(255))
    web_page_url: Mapped[str] = mapped_column(Text)
    web_page_parameters: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    api_url: Mapped[str] = mapped_column(Text)

    pages_group: Mapped[PagesGroup] = relationship(back_populates="pages")


class GapDataFetch(TimestampMixin, Base):
    """One run of Fetch Data on a group: its stage, counters, outcome and output folder."""

    __tablename__ = "gap_data_fetch"
    __table_args__ = (
        Index(
            "uq_gap_data_fetch_one_active",
            "pages_group_id",
            unique=True,
            postgresql_where=ACTIVE,
            sqlite_where=ACTIVE,
        ),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    pages_group_id: Mapped[int] = mapped_column(
        ForeignKey("pages_group.id", ondelete="CASCADE"), index=True
    )
    status: Mapped[str] = mapped_column(String(32), default=PENDING)
    current_step: Mapped[Optional[str]] = mapped_column(String(255))
    total_pages: Mapped[int] = mapped_column(Integer, default=0, server_default="0")
    processed_pages: Mapped[int] = mapped_column(Integer, default=0, server_default="0")
    total_products: Mapped[int] = mapped_column(Integer, default=0, server_default="0")
    processed_products: Mapped[int] = mapped_column(Integer, default=0, server_default="0")
    failed_products: Mapped[int] = mapped_column(Integer, default=0, server_default="0")
    total_images: Mapped[int] = mapped_column(Integer, default=0, server_default="0")
    processed_images: Mapped[int] = mapped_column(Integer, default=0, server_default="0")
    failed_images: Mapped[int] = mapped_column(Integer, default=0, server_default="0")
    parsed_products: Mapped[int] = mapped_column(Integer, default=0, server_default="0")
    error_message: Mapped[Optional[str]] = mapped_column(Text)
    error_details: Mapped[Optional[dict[str, Any]]] = mapped_column(JSON)
    started_at: Mapped[Optional[dt.datetime]] = mapped_column(DateTime(timezone=True))
    completed_at: Mapped[Optional[dt.datetime]] = mapped_column(DateTime(timezone=True))
    folder_timestamp: Mapped[str] = mapped_column(String(14))
    output_path: Mapped[Optional[str]] = mapped_column(Text)
    scrapyd_job_id: Mapped[Optional[str]] = mapped_column(String(64))
    # The crawl process that claimed the fetch, so a killed crawl (kill -9, OOM, reboot) can be noticed.
    crawler_host: Mapped[Optional[str]] = mapped_column(String(255))
    crawler_pid: Mapped[Optional[int]] = mapped_column(Integer)

    pages_group: Mapped[PagesGroup] = relationship(back_populates="fetches")
    product_data: Mapped[list[ProductData]] = relationship(
        back_populates="fetch", cascade="all, delete-orphan", order_by="ProductData.id"
    )

    @property
    def is_active(self) -> bool:
        return self.status not in FINAL_STATUSES

    def __repr__(self) -> str:
        return f"<GapDataFetch {self.id} group={self.pages_group_id} {self.status}>"


class Product(TimestampMixin, Base):
    """One sellable Gap product colour (style + ccId), shared by every fetch that sees it."""

    __tablename__ = "product"
    __table_args__ = (UniqueConstraint("style_id", "cc_id", name="uq_product_style_cc"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    style_id: Mapped[str] = mapped_column(String(32))
    cc_id: Mapped[str] = mapped_column(String(32), index=True)
    style_name: Mapped[str] = mapped_column(Text, default="")
    cc_name: Mapped[str] = mapped_column(Text, default="")
    cc_short_description: Mapped[Optional[str]] = mapped_column(Text)
    web_product_type: Mapped[Optional[str]] = mapped_column(Text)

    data: Mapped[list[ProductData]] = relationship(back_populates="product")


class ProductData(TimestampMixin, Base):
    """What one fetch learned about one product: listing facts, saved page, images, parsed data, errors."""

    __tablename__ = "product_data"
    __table_args__ = (
        UniqueConstraint("gap_data_fetch_id", "product_id", name="uq_product_data_fetch_product"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    product_id: Mapped[int] = mapped_column(ForeignKey("product.id", ondelete="CASCADE"), index=True)
    gap_data_fetch_id: Mapped[int] = mapped_column(
        ForeignKey("gap_data_fetch.id", ondelete="CASCADE"), index=True
    )
    gap_page_id: Mapped[Optional[int]] = mapped_column(
        ForeignKey("gap_page.id", ondelete="SET NULL"), index=True
    )
    folder_timestamp: Mapped[str] = mapped_column(String(14))
    position: Mapped[int] = mapped_column(Integer, default=0)
    # Listing facts of this fetch: what the listing API says now.
    regular_price: Mapped[Optional[str]] = mapped_column(String(32))
    effective_price: Mapped[Optional[str]] = mapped_column(String(32))
    price_type: Mapped[Optional[str]] = mapped_column(String(8))
    percentage_off: Mapped[Optional[str]] = mapped_column(String(8))
    inventory_status: Mapped[Optional[str]] = mapped_column(String(64))
    inventory_count: Mapped[Optional[int]] = mapped_column(Integer)
    review_score: Mapped[Optional[str]] = mapped_column(String(16))
    review_count: Mapped[Optional[int]] = mapped_column(Integer)
    excluded_from_promotion: Mapped[Optional[bool]]
    marketing_flags: Mapped[list[Any]] = mapped_column(JSON, default=list)
    style_marketing_flags: Mapped[list[Any]] = mapped_column(JSON, default=list)
    badges: Mapped[list[Any]] = mapped_column(JSON, default=list)
    listing_data: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    api_image_paths: Mapped[list[Any]] = mapped_column(JSON, default=list)
    # Product page.
    product_page_url: Mapped[Optional[str]] = mapped_column(Text)
    html_file_path: Mapped[Optional[str]] = mapped_column(Text)
    page_error: Mapped[Optional[str]] = mapped_column(Text)
    page_http_status: Mapped[Optional[int]] = mapped_column(Integer)
    # Images.
    image_paths: Mapped[list[Any]] = mapped_column(JSON, default=list)
    # The URL each file of image_paths was downloaded from, in the same order.
    image_urls: Mapped[Optional[list[Any]]] = mapped_column(JSON, default=list)
    image_errors: Mapped[list[Any]] = mapped_column(JSON, default=list)
    # Parsing.
    parsed_data: Mapped[Optional[dict[str, Any]]] = mapped_column(JSON)
    parse_error: Mapped[Optional[str]] = mapped_column(Text)

    product: Mapped[Product] = relationship(back_populates="data")
    fetch: Mapped[GapDataFetch] = relationship(back_populates="product_data")

    def listing_facts(self) -> dict[str, Any]:
        """The listing facts in the shape the page parser takes (`parse_product_page(listing=...)`)."""
        product = self.product
        return listing_facts_from({
            **{name: getattr(product, name) for name in LISTING_FACT_PRODUCT_COLUMNS},
            **{name: getattr(self, name) for name in LISTING_FACT_COLUMNS},
        })


# The columns `listing_facts` reads, so that a query can select just these (not the whole row with its JSON).
LISTING_FACT_PRODUCT_COLUMNS = ("style_id", "cc_id", "style_name", "cc_name")
LISTING_FACT_COLUMNS = ("regular_price", "effective_price", "price_type", "percentage_off", "marketing_flags",
                        "excluded_from_promotion", "inventory_status")


def listing_facts_from(values) -> dict[str, Any]:
    """`ProductData.listing_facts` from a mapping holding the LISTING_FACT_*_COLUMNS (e.g. a result row's _mapping)."""
    return {
        "style_id": values["style_id"],
        "cc_id": values["cc_id"],
        "style_name": values["style_name"],
        "cc_name": values["cc_name"],
        "regular_price": values["regular_price"],
        "effective_price": values["effective_price"],
        "price_type": values["price_type"],
        "percentage_off": values["percentage_off"] or "",
        "marketing_flags": [
            f.get("content") for f in (values["marketing_flags"] or []) if isinstance(f, dict) and f.get("content")
        ],
        "excluded_from_promotion": bool(values["excluded_from_promotion"]),
        "inventory_status": values["inventory_status"],
    }


__all__ = [
    "ACTIVE",
    "ACTIVE_STATUSES",
    "Base",
    "GapDataFetch",
    "GapPage",
    "PagesGroup",
    "Product",
    "ProductData",
    "STATUSES",
    "func",
]
