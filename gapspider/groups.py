"""Creating and changing pages groups and their Gap pages: one place for the CLI, the dashboard and the API."""

from __future__ import annotations

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from gapspider.models import GapPage, PagesGroup
from gapspider.urls import build_listing_url, page_parameters


class GroupError(ValueError):
    """A group or page change that cannot be made, with a message meant for the user."""


def _clean_title(title: str, what: str) -> str:
    title = (title or "").strip()
    if not title:
        raise GroupError(f"The {what} needs a title.")
    if len(title) > 255:
        raise GroupError(f"The {what} title is too long (255 characters at most).")
    return title


def create_group(session: Session, title: str) -> PagesGroup:
    title = _clean_title(title, "group")
    if session.scalar(select(PagesGroup).where(PagesGroup.title == title)) is not None:
        raise GroupError(f"A group titled {title!r} already exists.")
    group = PagesGroup(title=title)
    session.add(group)
    session.flush()
    return group


def rename_group(session: Session, group: PagesGroup, title: str) -> PagesGroup:
    title = _clean_title(title, "group")
    clash = session.scalar(select(PagesGroup).where(PagesGroup.title == title, PagesGroup.id != group.id))
    if clash is not None:
        raise GroupError(f"A group titled {title!r} already exists.")
    group.title = title
    session.flush()
    return group


def derive_page_fields(web_url: str) -> dict:
    """The stored, derived fields of a page: parameters and the real listing-API URL (page 0).

    Raises InvalidGapUrl (a ValueError) with a message for the user.
    """
    web_url = web_url.strip()
    return {
        "web_page_url": web_url,
        "web_page_parameters": page_parameters(web_url),
        "api_url": build_listing_url(web_url),
    }


def add_page(session: Session, group: PagesGroup, title: str, web_url: str) -> GapPage:
    title = _clean_title(title, "page")
    fields = derive_page_fields(web_url)
    clash = session.scalar(
        select(GapPage).where(GapPage.pages_group_id == group.id, GapPage.title == title)
    )
    if clash is not None:
        raise GroupError(f"This group already has a page titled {title!r}.")
    page = GapPage(pages_group_id=group.id, title=title, **fields)
    session.add(page)
    session.flush()
    return page


def update_page(session: Session, page: GapPage, title: str, web_url: str) -> GapPage:
    title = _clean_title(title, "page")
    fields = derive_page_fields(web_url)
    clash = session.scalar(
        select(GapPage).where(
            GapPage.pages_group_id == page.pages_group_id, GapPage.title == title, GapPage.id != page.id
        )
    )
    if clash is not None:
        raise GroupError(f"This group already has a page titled {title!r}.")
    page.title = title
    for name, value in fields.items():
        setattr(page, name, value)
    session.flush()
    return page


def page_count(session: Session, group_id: int) -> int:
    return session.scalar(select(func.count(GapPage.id)).where(GapPage.pages_group_id == group_id)) or 0
