"""`gapspider`: manage pages groups and pages, list fetches, redo a fetch's post-crawl step.

    gapspider groups                          list groups
    gapspider group-create TITLE              create a group
    gapspider page-add GROUP TITLE URL        add a Gap category page (GROUP: id or title)
    gapspider pages GROUP                     list a group's pages
    gapspider fetches [--group GROUP]         list fetches
    gapspider fetch-show FETCH                one fetch in detail
    gapspider fetch-create GROUP              a pending fetch, for `scrapy crawl gap -a fetch=ID` or scrapyd
    gapspider postprocess FETCH               parse saved pages and write the SQL output again
    gapspider db-upgrade                      create or upgrade the database schema

The crawl itself: `scrapy crawl gap -a group=<id or title>` from the project folder.
"""

from __future__ import annotations

import argparse
import datetime as dt
import os
import sys
from typing import Sequence

from sqlalchemy import func, select
from sqlalchemy.exc import OperationalError

from gapspider import config, db
from gapspider.groups import GroupError, add_page, create_group
from gapspider.models import GapDataFetch, GapPage, PagesGroup
from gapspider.urls import InvalidGapUrl


class CliError(Exception):
    pass


POST_CRAWL_STATUSES = ("parsing_product_pages", "generating_output")


def _group(session, ref: str) -> PagesGroup:
    group = db.find_group(session, ref)
    if group is None:
        raise CliError(f"there is no pages group {ref!r} (list them with: gapspider groups)")
    return group


def _fetch_id(text: str) -> int:
    text = str(text).strip()
    if not (text.isascii() and text.isdigit()):
        raise CliError(f"a fetch id is a number (see: gapspider fetches), not {text!r}")
    return int(text)


def _fmt_time(value) -> str:
    """Times are stored in UTC (SQLite gives them back naive, PostgreSQL in its session's zone): say UTC."""
    if not value:
        return "-"
    if value.tzinfo is not None:
        value = value.astimezone(dt.timezone.utc)
    return value.strftime("%Y-%m-%d %H:%M:%S UTC")


def fetch_summary(fetch: GapDataFetch) -> list[tuple[str, str]]:
    """The facts of a fetch as (label, value) lines, for the CLI and the demo."""
    elapsed = "-"
    if fetch.started_at:
        end = fetch.completed_at or fetch.updated_at
        if end:
            elapsed = f"{(end - fetch.started_at).total_seconds():.1f} s"
    return [
        ("fetch", f"{fetch.id} (group {fetch.pages_group_id}, folder {fetch.folder_timestamp})"),
        ("status", fetch.status + (f" - {fetch.error_message}" if fetch.error_message else "")),
        ("listing pages", f"{fetch.processed_pages} of {fetch.total_pages}"),
        # processed_products counts the pages tried, failed ones included (like processed_images)
        ("products", f"{fetch.processed_products - fetch.failed_products} of {fetch.total_products} pages fetched, "
                     f"{fetch.failed_products} failed, {fetch.parsed_products} parsed"),
        ("images", f"{fetch.processed_images - fetch.failed_images} of {fetch.total_images} saved, {fetch.failed_images} failed"),
        ("output", fetch.output_path or "-"),
        ("started", _fmt_time(fetch.started_at)),
        ("completed", _fmt_time(fetch.completed_at)),
        ("elapsed", elapsed),
    ]


def print_summary(fetch: GapDataFetch, out=None) -> None:
    for label, value in fetch_summary(fetch):
        print(f"  {label:<14} {value}", file=out or sys.stdout)


def cmd_groups(args) -> None:
    with db.session_scope() as session:
        rows = session.execute(
            select(PagesGroup, func.count(GapPage.id))
            .outerjoin(GapPage, GapPage.pages_group_id == PagesGroup.id)
            .group_by(PagesGroup.id)
            .order_by(PagesGroup.id)
        ).all()
        if not rows:
            print("No pages groups yet. Create one: gapspider group-create TITLE")
        for group, pages in rows:
            last = group.fetches[0] if group.fetches else None
            state = f"last fetch {last.id}: {last.status}" if last else "never fetched"
            print(f"{group.id:>4}  {group.title}  ({pages} page{'s' if pages != 1 else ''}, {state})")


def cmd_group_create(args) -> None:
    with db.session_scope() as session:
        group = create_group(session, args.title)
        print(f"Created group {group.id}: {group.title}")


def cmd_page_add(args) -> None:
    with db.session_scope() as session:
        group = _group(session, args.group)
        page = add_page(session, group, args.title, args.url)
        print(f"Added page {page.id} to group {group.id}: {page.title}\n  listing API: {page.api_url}")


def cmd_pages(args) -> None:
    with db.session_scope() as session:
        group = _group(session, args.group)
        if not group.pages:
            print(f"Group {group.title!r} has no pages. Add one: gapspider page-add {group.id} TITLE URL")
        for page in group.pages:
            print(f"{page.id:>4}  {page.title}\n      web: {page.web_page_url}\n      api: {page.api_url}")


def cmd_fetch_create(args) -> None:
    """A pending fetch that a crawl started later takes over (`-a fetch=ID`); the one-active rule applies now."""
    with db.session_scope() as session:
        group = _group(session, args.group)
        if not group.pages:
            raise CliError(f"group {group.title!r} has no Gap pages to fetch (add one: gapspider page-add)")
        try:
            fetch = db.create_fetch(session, group.id)
        except db.FetchAlreadyActive:
            running = db.active_fetch(session, group.id)
            raise CliError(
                f"a fetch is already running for group {group.title!r} (fetch {running.id}, status {running.status})"
                if running else f"a fetch is already running for group {group.title!r}"
            ) from None
        print(f"Created pending fetch {fetch.id} of group {group.id} (folder {fetch.folder_timestamp}); run it with:")
        print(f"  scrapy crawl gap -a fetch={fetch.id}")


def cmd_fetches(args) -> None:
    with db.session_scope() as session:
        query = select(GapDataFetch).order_by(GapDataFetch.id.desc()).limit(args.limit)
        if args.group:
            query = query.where(GapDataFetch.pages_group_id == _group(session, args.group).id)
        fetches = session.scalars(query).all()
        if not fetches:
            print("No fetches yet. Start one: scrapy crawl gap -a group=GROUP")
        for f in fetches:
            print(
                f"{f.id:>4}  group {f.pages_group_id:<4} {f.status:<22} {f.folder_timestamp}  "
                f"products {f.processed_products}/{f.total_products}  images {f.processed_images}/{f.total_images}"
                + (f"  error: {f.error_message}" if f.error_message else "")
            )


def cmd_fetch_show(args) -> None:
    with db.session_scope() as session:
        fetch = session.get(GapDataFetch, _fetch_id(args.fetch))
        if fetch is None:
            raise CliError(f"there is no fetch {args.fetch}")
        print_summary(fetch)


def cmd_postprocess(args) -> None:
    from gapspider.postprocess import PostprocessRefused, run_postprocess

    fetch_id = _fetch_id(args.fetch)
    with db.session_scope() as session:
        fetch = session.get(GapDataFetch, fetch_id)
        if fetch is None:
            raise CliError(f"there is no fetch {fetch_id}")
        if fetch.is_active and fetch.status not in POST_CRAWL_STATUSES:
            raise CliError(f"fetch {fetch_id} is still crawling (status {fetch.status})")
        if fetch.is_active and db.crawler_is_alive(fetch):
            raise CliError(
                f"fetch {fetch_id} is in its post-crawl step: its crawl (process {fetch.crawler_pid}) is parsing its "
                "pages right now; wait for it to end (gapspider fetch-show)"
            )
        details = fetch.error_details if isinstance(fetch.error_details, dict) else {}
        if fetch.status == "failed" and details.get("cancelled_by"):
            raise CliError(f"fetch {fetch_id} was cancelled; a cancelled fetch stays cancelled: start a new fetch")
        if fetch.status == "failed" and not (
            (fetch.error_message or "").startswith(("post-crawl step", "cancelled during the post-crawl step"))
            # killed (kill -9, out of memory) once its crawl had finished: every page is saved
            or (fetch.error_message == db.CRAWLER_GONE and details.get("status_when_stopped") in POST_CRAWL_STATUSES)
        ):
            raise CliError(
                f"fetch {fetch_id} ended before its crawl finished ({fetch.error_message}); "
                "its pages are incomplete: start a new fetch"
            )
    try:
        run_postprocess(fetch_id, workers=args.workers, reopen=True)
    except PostprocessRefused as exc:
        raise CliError(str(exc)) from None
    with db.session_scope() as session:
        fetch = session.get(GapDataFetch, fetch_id)
        print_summary(fetch)
        return 0 if fetch.status == "succeeded" else 1  # e.g. cancelled while it ran


def cmd_db_upgrade(args) -> None:
    db.upgrade_database()
    print(f"Database is up to date: {config.database_url_for_display()}")


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="gapspider", description=__doc__.split("\n\n")[0])
    sub = parser.add_subparsers(dest="command", required=True)
    sub.add_parser("groups", help="list pages groups").set_defaults(func=cmd_groups)
    p = sub.add_parser("group-create", help="create a pages group")
    p.add_argument("title")
    p.set_defaults(func=cmd_group_create)
    p = sub.add_parser("page-add", help="add a Gap category page to a group")
    p.add_argument("group", help="group id or title")
    p.add_argument("title")
    p.add_argument("url", help="Gap category web URL, e.g. https://www.gapfactory.com/browse/category.do?cid=1111149")
    p.set_defaults(func=cmd_page_add)
    p = sub.add_parser("pages", help="list a group's pages")
    p.add_argument("group")
    p.set_defaults(func=cmd_pages)
    p = sub.add_parser("fetches", help="list fetches")
    p.add_argument("--group")
    p.add_argument("--limit", type=int, default=20)
    p.set_defaults(func=cmd_fetches)
    p = sub.add_parser("fetch-create", help="create a pending fetch for a crawl started later (-a fetch=ID)")
    p.add_argument("group", help="group id or title")
    p.set_defaults(func=cmd_fetch_create)
    p = sub.add_parser("fetch-show", help="show one fetch")
    p.add_argument("fetch")
    p.set_defaults(func=cmd_fetch_show)
    p = sub.add_parser("postprocess", help="parse saved pages and write the SQL output again")
    p.add_argument("fetch")
    p.add_argument("--workers", type=int, default=None)
    p.set_defaults(func=cmd_postprocess)
    sub.add_parser("db-upgrade", help="create or upgrade the database schema").set_defaults(func=cmd_db_upgrade)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    try:
        db.upgrade_database()
        with db.session_scope() as session:
            for fetch_id in db.fail_dead_crawls(session, checked_by="gapspider cli"):
                print(f"gapspider: fetch {fetch_id} was active but its crawl process is gone: marked failed", file=sys.stderr)
        status = args.func(args)
    except (CliError, GroupError, InvalidGapUrl) as exc:
        print(f"gapspider: {exc}", file=sys.stderr)
        return 2
    except OperationalError as exc:  # server down, wrong host, password or database name
        print(f"gapspider: {db.unreachable_message(exc)}", file=sys.stderr)
        return 2
    except BrokenPipeError:  # `gapspider fetches | head -1`: the reader has gone, which is fine
        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
        return 0
    return status or 0


if __name__ == "__main__":
    sys.exit(main())
