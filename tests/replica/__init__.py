"""The offline Gap replica: listing API, product pages and image host built from real listing responses."""

from .catalog import CURRENT, LEGACY, LISTING_PATHS, Catalog
from .pages import product_page_facts, render_product_page
from .server import GapReplica

__all__ = ["CURRENT", "LEGACY", "LISTING_PATHS", "Catalog", "GapReplica", "product_page_facts",
           "render_product_page"]
