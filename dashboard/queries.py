"""Read-side queries shared by the pages and the JSON API."""

from __future__ import annotations

from typing import Any

from flask import abort
from sqlalchemy import func, select
from sqlalchemy.orm import Session, selectinload

from gapspider.db import active_fetch, find_group
from gapspider.models import GapDataFetch, GapPage, PagesGroup, ProductData


def group_or_404(session: Session, group_id: int | str) -> PagesGroup:
    group = find_group(session, group_id) if isinstance(group_id, str) else session.get(PagesGroup, group_id)
    if group is None:
        abort(404)
    return group


def page_or_404(session: Session, page_id: int) -> GapPage:
    page = session.get(GapPage, page_id)
    if page is None:
        abort(404)
    return page


def fetch_or_404(session: Session, fetch_id: int) -> GapDataFetch:
    fetch = session.get(GapDataFetch, fetch_id)
    if fetch is None:
        abort(404)
    return fetch


def group_summaries(session: Session) -> list[dict[str, Any]]:
    """Every group with its number of pages, its last fetch and whether one is active (3 queries)."""
    groups = list(session.scalars(select(PagesGroup).order_by(func.lower(PagesGroup.title))))
    counts = dict(
        session.execute(
            select(GapPage.pages_group_id, func.count(GapPage.id)).group_by(GapPage.pages_group_id)
        ).all()
    )
    last_ids = select(func.max(GapDataFetch.id)).group_by(GapDataFetch.pages_group_id)
    last = {
        f.pages_group_id: f
        for f in session.scalars(select(GapDataFetch).where(GapDataFetch.id.in_(last_ids)))
    }
    summaries = []
    for group in groups:
        fetch = last.get(group.id)
        summaries.append(
            {
                "group": group,
                "page_count": counts.get(group.id, 0),
                "last_fetch": fetch,
                "active": fetch is not None and fetch.is_active,
            }
        )
    return summaries


def group_active_fetch(session: Session, group_id: int) -> GapDataFetch | None:
    return active_fetch(session, group_id)


def recent_fetches(session: Session, group_id: int | None = None, limit: int = 50) -> list[GapDataFetch]:
    query = select(GapDataFetch).options(selectinload(GapDataFetch.pages_group)).order_by(GapDataFetch.id.desc())
    if group_id is not None:
        query = query.where(GapDataFetch.pages_group_id == group_id)
    return list(session.scalars(query.limit(limit)))


def product_data(session: Session, fetch_id: int) -> list[ProductData]:
    return list(
        session.scalars(
            select(ProductData)
            .where(ProductData.gap_data_fetch_id == fetch_id)
            .options(selectinload(ProductData.product))
            .order_by(ProductData.position, ProductData.id)
        )
    )


def product_count(session: Session, fetch_id: int) -> int:
    return session.scalar(
        select(func.count(ProductData.id)).where(ProductData.gap_data_fetch_id == fetch_id)
    ) or 0
