"""Paging shared by the pages (Previous/Next, Newer/Older) and the JSON API (`page`, `per_page`, `total`, `next`).

Pages are numbered from 1. The HTML pages are forgiving (a bad or too big page number shows the nearest page); the
API is strict (a bad value is a 400 naming what is accepted; a page past the last one is an empty page with
`next: null`, so a client looping over `next` stops).
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any, Mapping, Sequence

from sqlalchemy import Select, func, select
from sqlalchemy.orm import Session

API_DEFAULT_PER_PAGE = 100
API_MAX_PER_PAGE = 1000


class PagingError(ValueError):
    """A `page` or `per_page` value the API does not accept (the message names the accepted values)."""


@dataclass(frozen=True)
class Paging:
    page: int
    per_page: int
    total: int

    @property
    def pages(self) -> int:
        """How many pages there are (0 for an empty list)."""
        return math.ceil(self.total / self.per_page)

    @property
    def offset(self) -> int:
        return (self.page - 1) * self.per_page

    @property
    def has_previous(self) -> bool:
        return self.page > 1

    @property
    def has_next(self) -> bool:
        return self.page < self.pages

    @property
    def first_shown(self) -> int:
        """1-based number of the first item of this page (0 when the page is empty)."""
        return self.offset + 1 if self.offset < self.total else 0

    @property
    def last_shown(self) -> int:
        return min(self.total, self.page * self.per_page)

    def slice(self, items: Sequence[Any]) -> Sequence[Any]:
        return items[self.offset : self.offset + self.per_page]


def _positive_int(value: str | None, name: str, maximum: int | None) -> int:
    accepted = f"an integer from 1 to {maximum}" if maximum else "an integer from 1"
    try:
        number = int(value or "")
    except ValueError:
        raise PagingError(f"{name} must be {accepted}, not {value!r}") from None
    if number < 1 or (maximum is not None and number > maximum):
        raise PagingError(f"{name} must be {accepted}, not {value!r}")
    return number


def api_request(args: Mapping[str, str], *, default: int = API_DEFAULT_PER_PAGE, maximum: int = API_MAX_PER_PAGE,
                per_page_aliases: Sequence[str] = ()) -> tuple[int, int]:
    """`page` and `per_page` of an API request, checked: (page, per_page) or PagingError."""
    page = _positive_int(args["page"], "page", None) if "page" in args else 1
    per_page = default
    for name in ("per_page", *per_page_aliases):
        if name in args:
            per_page = _positive_int(args[name], name, maximum)
            break
    return page, per_page


def html_request(args: Mapping[str, str]) -> int:
    """The page number asked of an HTML page: anything unreadable is page 1 (clamp to the last page with `clamp`)."""
    try:
        return max(1, int(args.get("page", "1")))
    except ValueError:
        return 1


def clamp(page: int, per_page: int, total: int) -> Paging:
    """A page of an HTML list: never past the last page (an empty list has one, empty, page)."""
    return Paging(min(page, max(1, math.ceil(total / per_page))), per_page, total)


def count(session: Session, query: Select) -> int:
    return session.scalar(select(func.count()).select_from(query.order_by(None).subquery())) or 0


def rows(session: Session, query: Select, paging: Paging) -> list[Any]:
    return list(session.scalars(query.offset(paging.offset).limit(paging.per_page)))
