"""The data model on both databases: one active fetch per group, enforced by the database itself."""

from __future__ import annotations

import threading

import pytest
from sqlalchemy import select, text
from sqlalchemy.exc import IntegrityError

from gapspider import db
from gapspider.groups import GroupError, add_page, create_group, rename_group, update_page
from gapspider.models import GapDataFetch, PagesGroup
from gapspider.urls import InvalidGapUrl


def group(url, title="G"):
    with db.session_scope(url) as session:
        return create_group(session, title).id


def test_partial_unique_index_allows_one_active_fetch(db_url):
    gid = group(db_url)
    with db.session_scope(db_url) as session:
        session.add(GapDataFetch(pages_group_id=gid, status="fetching_product_page", folder_timestamp="20260101000000"))
    with pytest.raises(IntegrityError):  # the index itself, without the create_fetch fast path
        with db.session_scope(db_url) as session:
            session.add(GapDataFetch(pages_group_id=gid, status="pending", folder_timestamp="20260101000001"))
    with db.session_scope(db_url) as session:
        # finished fetches do not count
        session.execute(text("UPDATE gap_data_fetch SET status = 'succeeded'"))
        session.add(GapDataFetch(pages_group_id=gid, status="failed", folder_timestamp="20260101000002"))
        session.add(GapDataFetch(pages_group_id=gid, status="pending", folder_timestamp="20260101000003"))
    other = group(db_url, "Other")
    with db.session_scope(db_url) as session:  # another group has its own active fetch
        session.add(GapDataFetch(pages_group_id=other, status="pending", folder_timestamp="20260101000004"))


def test_create_fetch_refuses_a_second_active_one(db_url):
    gid = group(db_url)
    with db.session_scope(db_url) as session:
        first = db.create_fetch(session, gid)
        assert first.status == "pending" and len(first.folder_timestamp) == 14
        with pytest.raises(db.FetchAlreadyActive, match="a fetch is already running for this group"):
            db.create_fetch(session, gid)
        assert db.fail_fetch(session, first.id, "stopped")
        assert not db.fail_fetch(session, first.id, "again")  # a final fetch keeps its outcome
        second = db.create_fetch(session, gid)
        assert second.folder_timestamp != first.folder_timestamp


def test_two_concurrent_inserts_on_postgresql(pg_url):
    """Both transactions pass the fast check; the index makes the second wait, then fail."""
    gid = group(pg_url)
    factory = db.session_factory(pg_url)
    first, second = factory(), factory()
    try:
        assert db.active_fetch(first, gid) is None and db.active_fetch(second, gid) is None
        first.add(GapDataFetch(pages_group_id=gid, status="pending", folder_timestamp="20260101000000"))
        first.flush()  # holds the index entry, uncommitted
        outcome = {}

        def insert_second():
            try:
                second.add(GapDataFetch(pages_group_id=gid, status="pending", folder_timestamp="20260101000001"))
                second.commit()
                outcome["result"] = "inserted"
            except IntegrityError as exc:
                second.rollback()
                outcome["result"] = exc

        worker = threading.Thread(target=insert_second)
        worker.start()
        worker.join(timeout=1.0)
        assert worker.is_alive(), "the second insert must wait for the first transaction"
        first.commit()
        worker.join(timeout=10)
        assert isinstance(outcome["result"], IntegrityError)
        assert "uq_gap_data_fetch_one_active" in str(outcome["result"].orig)
    finally:
        first.close()
        second.close()


def test_concurrent_create_fetch_calls_report_already_running(pg_url):
    gid = group(pg_url)
    barrier = threading.Barrier(4)
    results = []

    def press():
        with db.session_factory(pg_url)() as session:
            barrier.wait()
            try:
                results.append(db.create_fetch(session, gid).id)
            except db.FetchAlreadyActive as exc:
                results.append(str(exc))
            except Exception as exc:  # kept, not lost with its thread: a raw IntegrityError is a failure
                results.append(exc)

    threads = [threading.Thread(target=press) for _ in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=30)
    assert len(results) == 4, results  # every press answered
    assert sum(isinstance(r, int) for r in results) == 1, results
    assert all(isinstance(r, str) and "already running" in r for r in results if not isinstance(r, int)), results


def test_groups_and_pages(db_url):
    with db.session_scope(db_url) as session:
        g = create_group(session, "Women's \"deals\"")
        page = add_page(session, g, "Deals", "https://www.gapfactory.com/browse/category.do?cid=1111149#department=136")
        assert page.web_page_parameters["cid"] == "1111149" and page.web_page_parameters["department"] == "136"
        assert "api.gapfactory.com" in page.api_url and "brand=gapfs" in page.api_url
        with pytest.raises(GroupError, match="already has a page titled"):
            add_page(session, g, "Deals", "https://www.gap.com/browse/x?cid=1")
        with pytest.raises(InvalidGapUrl):
            add_page(session, g, "Bad", "https://www.gap.com/browse/x")
        update_page(session, page, "Deals 2", "https://www.gap.com/browse/x?cid=5225")
        assert "cid=5225" in page.api_url and "brand=gap&" in page.api_url
        with pytest.raises(GroupError, match="already exists"):
            create_group(session, "Women's \"deals\"")
        with pytest.raises(GroupError, match="needs a title"):
            create_group(session, "  ")
        other = create_group(session, "Other")
        with pytest.raises(GroupError):
            rename_group(session, other, "Women's \"deals\"")
    with db.session_scope(db_url) as session:
        found = db.find_group(session, "Women's \"deals\"")
        assert found is not None and db.find_group(session, str(found.id)).id == found.id
        session.delete(found)  # pages and fetches go with their group
    with db.session_scope(db_url) as session:
        assert [g.title for g in session.scalars(select(PagesGroup))] == ["Other"]


def test_the_migrations_build_exactly_the_models(db_url):
    """A column added to a model without its migration (or the reverse) fails here, on both databases."""
    from alembic.autogenerate import compare_metadata
    from alembic.migration import MigrationContext

    from gapspider.models import Base

    with db.get_engine(db_url).connect() as connection:
        differences = compare_metadata(MigrationContext.configure(connection), Base.metadata)
    assert differences == []


def test_postgresql_urls_without_a_driver_use_psycopg2(monkeypatch):
    """`postgresql://` (SQLAlchemy 2.1 reads it as psycopg 3, not installed) and `postgres://` work as DATABASE_URL."""
    from gapspider import config
    from tests.conftest import create_pg_database, drop_pg_database

    assert config.normalise_database_url("postgresql://u@h:5432/d") == "postgresql+psycopg2://u@h:5432/d"
    assert config.normalise_database_url("postgres://u:p@h/d") == "postgresql+psycopg2://u:p@h/d"
    assert config.normalise_database_url("postgresql+psycopg2://u@h/d") == "postgresql+psycopg2://u@h/d"
    assert config.normalise_database_url("sqlite:///x.db") == "sqlite:///x.db"

    url = create_pg_database()
    try:
        plain = "postgresql://" + url.split("://", 1)[1]
        monkeypatch.setenv("DATABASE_URL", plain)
        assert config.database_url() == url
        db.upgrade_database()
        with db.session_scope() as session:
            create_group(session, "Plain URL")
        with db.session_scope(plain) as session:  # an explicit URL is normalised too
            assert session.scalar(select(PagesGroup.title)) == "Plain URL"
    finally:
        drop_pg_database(url)
