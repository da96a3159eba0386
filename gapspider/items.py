"""Items the gap spider yields; each stage has its own, handled by its own pipeline."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Optional


@dataclass
class ProductItem:
    """Stage 1: one product colour from a listing page (upserted as Product, stored as ProductData)."""

    fetch_id: int
    gap_page_id: int
    position: int
    style_id: str
    cc_id: str
    style_name: str
    cc_name: str
    cc_short_description: Optional[str] = None
    web_product_type: Optional[str] = None
    regular_price: Optional[str] = None
    effective_price: Optional[str] = None
    price_type: Optional[str] = None
    percentage_off: Optional[str] = None
    inventory_status: Optional[str] = None
    inventory_count: Optional[int] = None
    review_score: Optional[str] = None
    review_count: Optional[int] = None
    excluded_from_promotion: Optional[bool] = None
    marketing_flags: list[Any] = field(default_factory=list)
    style_marketing_flags: list[Any] = field(default_factory=list)
    badges: list[Any] = field(default_factory=list)
    api_image_paths: list[Any] = field(default_factory=list)
    product_page_url: Optional[str] = None
    listing_data: dict[str, Any] = field(default_factory=dict)


@dataclass
class ProductPageItem:
    """Stage 2: a product page, fetched (`body`) or failed (`error`)."""

    fetch_id: int
    cc_id: str
    url: str
    body: Optional[bytes] = None
    http_status: Optional[int] = None
    error: Optional[str] = None


@dataclass
class ProductImagesItem:
    """Stage 3: the images of one product; FilesPipeline fills `files` and the pipeline records them."""

    fetch_id: int
    cc_id: str
    folder: str  # "{group}/{folder_timestamp}", relative to the output root
    file_urls: list[str] = field(default_factory=list)
    files: list[dict[str, Any]] = field(default_factory=list)
