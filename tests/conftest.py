"""Shared fixtures: real databases (a scratch PostgreSQL database per session, SQLite files) and the replica."""

from __future__ import annotations

import os
import uuid

import pytest
from sqlalchemy import create_engine, text

from gapspider import db
from gapspider.models import Base
from tests.replica.fixtures import replica, replica_session  # noqa: F401

PG_ADMIN_URL = os.environ.get("TEST_PG_ADMIN_URL", "postgresql+psycopg2://postgres@127.0.0.1:5432/postgres")


def pytest_configure(config):
    config.addinivalue_line("markers", "browser: drives the dashboard in headless Chromium (Playwright)")


def _pg_url(name: str) -> str:
    return PG_ADMIN_URL.rsplit("/", 1)[0] + "/" + name


def create_pg_database(prefix: str = "gapspider_test") -> str:
    """Create an empty PostgreSQL database and return its URL (the caller drops it)."""
    name = f"{prefix}_{uuid.uuid4().hex[:10]}"
    admin = create_engine(PG_ADMIN_URL, isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.execute(text(f'CREATE DATABASE "{name}"'))
    admin.dispose()
    return _pg_url(name)


def drop_pg_database(url: str) -> None:
    db.dispose_engines()
    name = url.rsplit("/", 1)[1]
    admin = create_engine(PG_ADMIN_URL, isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
    admin.dispose()


def truncate_all(url: str) -> None:
    engine = db.get_engine(url)
    tables = ", ".join(f'"{t.name}"' for t in Base.metadata.sorted_tables)
    with engine.begin() as conn:
        if engine.dialect.name == "postgresql":
            conn.execute(text(f"TRUNCATE {tables} RESTART IDENTITY CASCADE"))
        else:
            for table in reversed(Base.metadata.sorted_tables):
                conn.execute(table.delete())


@pytest.fixture(scope="session")
def pg_session_url():
    """A scratch PostgreSQL database with the migrated schema, for the whole session."""
    url = create_pg_database()
    db.upgrade_database(url)
    yield url
    drop_pg_database(url)


@pytest.fixture
def pg_url(pg_session_url):
    """The session's PostgreSQL database, emptied before each test."""
    truncate_all(pg_session_url)
    return pg_session_url


@pytest.fixture
def sqlite_url(tmp_path):
    """A fresh, migrated SQLite database file."""
    url = f"sqlite:///{tmp_path / 'test.db'}"
    db.upgrade_database(url)
    yield url
    db.get_engine(url).dispose()


@pytest.fixture(params=["postgresql", "sqlite"])
def db_url(request):
    """Runs a test on both databases."""
    return request.getfixturevalue("pg_url" if request.param == "postgresql" else "sqlite_url")
