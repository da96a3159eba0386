"""Database access: engines, sessions, migrations and the few writes that must be atomic.

Counters are updated in SQL (`SET n = n + 1`), never read-modify-write, because the spider, the
post-crawl step and the dashboard all touch the same fetch row.
"""

from __future__ import annotations

import datetime as dt
import os
import socket
import threading
from contextlib import contextmanager
from pathlib import Path
from typing import Any, Iterator

from sqlalchemy import create_engine, event, select, update
from sqlalchemy.engine import Engine
from sqlalchemy.exc import IntegrityError, OperationalError
from sqlalchemy.orm import Session, sessionmaker

from gapspider import config
from gapspider.models import (
    ACTIVE_STATUSES,
    FAILED,
    PENDING,
    GapDataFetch,
    PagesGroup,
    utcnow,
)

MIGRATIONS_DIR = Path(__file__).resolve().parent / "migrations"

_engines: dict[str, Engine] = {}
_engines_lock = threading.Lock()


class FetchAlreadyActive(Exception):
    """Raised when a group already has an active fetch (the partial unique index said no)."""

    def __init__(self, group_id: int):
        super().__init__(f"a fetch is already running for this group (group {group_id})")
        self.group_id = group_id


def _sqlite_pragmas(dbapi_connection: Any, _record: Any) -> None:
    cursor = dbapi_connection.cursor()
    cursor.execute("PRAGMA foreign_keys=ON")
    cursor.execute("PRAGMA journal_mode=WAL")
    cursor.execute("PRAGMA busy_timeout=30000")
    cursor.close()


def get_engine(url: str | None = None) -> Engine:
    """One engine per URL and process (SQLite gets foreign keys, WAL and a busy timeout)."""
    url = config.normalise_database_url(url) if url else config.database_url()
    with _engines_lock:
        engine = _engines.get(url)
        if engine is None:
            if url.startswith("sqlite"):
                engine = create_engine(url, connect_args={"timeout": 30})
                event.listen(engine, "connect", _sqlite_pragmas)
            else:
                engine = create_engine(url, pool_pre_ping=True)
            _engines[url] = engine
        return engine


def dispose_engines() -> None:
    with _engines_lock:
        for engine in _engines.values():
            engine.dispose()
        _engines.clear()


def session_factory(url: str | None = None) -> sessionmaker[Session]:
    return sessionmaker(bind=get_engine(url), expire_on_commit=False)


@contextmanager
def session_scope(url: str | None = None) -> Iterator[Session]:
    """A session that commits on success and rolls back on error."""
    session = session_factory(url)()
    try:
        yield session
        session.commit()
    except BaseException:
        session.rollback()
        raise
    finally:
        session.close()


_extracted_migrations: Path | None = None


def migrations_dir() -> Path:
    """The Alembic scripts as a real folder: the package's own, or a copy when it runs from a zipped egg."""
    global _extracted_migrations
    if MIGRATIONS_DIR.is_dir():
        return MIGRATIONS_DIR
    if _extracted_migrations is None:
        import atexit
        import shutil
        import tempfile
        from importlib import resources

        target = Path(tempfile.mkdtemp(prefix="gapspider-migrations-"))
        atexit.register(shutil.rmtree, target, True)

        def copy(node, into: Path) -> None:
            for child in node.iterdir():
                if child.is_dir():
                    if child.name != "__pycache__":
                        (into / child.name).mkdir()
                        copy(child, into / child.name)
                elif child.name.endswith((".py", ".mako")):
                    (into / child.name).write_bytes(child.read_bytes())

        copy(resources.files("gapspider") / "migrations", target)
        _extracted_migrations = target
    return _extracted_migrations


def alembic_config(url: str):
    from alembic.config import Config

    cfg = Config()
    cfg.set_main_option("script_location", str(migrations_dir()))
    cfg.set_main_option("sqlalchemy.url", url.replace("%", "%%"))
    cfg.attributes["configure_logger"] = False
    return cfg


def upgrade_database(url: str | None = None) -> None:
    """Bring the schema to the newest migration (creates it on an empty database)."""
    from alembic import command

    url = url or config.database_url()
    cfg = alembic_config(url)
    with get_engine(url).begin() as connection:
        cfg.attributes["connection"] = connection
        command.upgrade(cfg, "head")


# ---------------------------------------------------------------- groups


def unreachable_message(exc: OperationalError) -> str:
    """One line for a database that cannot be used (server down, wrong host, password or name), password masked."""
    text = str(exc.orig or exc).strip()
    reason = text.splitlines()[0] if text else type(exc).__name__
    return f"cannot use the database {config.database_url_for_display()}: {reason}"


def find_group(session: Session, ref: str | int) -> PagesGroup | None:
    """A group by id or by exact title (ids win when the reference is all digits)."""
    ref_text = str(ref).strip()
    if ref_text.isascii() and ref_text.isdigit():
        group = session.get(PagesGroup, int(ref_text))
        if group is not None:
            return group
    return session.scalar(select(PagesGroup).where(PagesGroup.title == ref_text))


# ---------------------------------------------------------------- fetches


def new_folder_timestamp(now: dt.datetime | None = None) -> str:
    return (now or dt.datetime.now()).strftime("%Y%m%d%H%M%S")


def unused_folder_timestamp(session: Session, group_id: int) -> str:
    """Now as YYYYMMDDHHMMSS, moved on by seconds if a fetch of the group already has it (own folder each)."""
    now = dt.datetime.now()
    taken = set(
        session.scalars(select(GapDataFetch.folder_timestamp).where(GapDataFetch.pages_group_id == group_id))
    )
    while (stamp := new_folder_timestamp(now)) in taken:
        now += dt.timedelta(seconds=1)
    return stamp


def active_fetch(session: Session, group_id: int) -> GapDataFetch | None:
    return session.scalar(
        select(GapDataFetch).where(
            GapDataFetch.pages_group_id == group_id, GapDataFetch.status.in_(ACTIVE_STATUSES)
        )
    )


def create_fetch(session: Session, group_id: int, **values: Any) -> GapDataFetch:
    """Insert a pending fetch; the database refuses a second active one (`FetchAlreadyActive`).

    On PostgreSQL a concurrent second insert waits for the first transaction, then fails on the
    partial unique index; the check here is only a fast path, the index is the rule.
    """
    if active_fetch(session, group_id) is not None:
        raise FetchAlreadyActive(group_id)
    folder_timestamp = values.pop("folder_timestamp", None) or unused_folder_timestamp(session, group_id)
    fetch = GapDataFetch(pages_group_id=group_id, status=PENDING, folder_timestamp=folder_timestamp, **values)
    session.add(fetch)
    try:
        session.commit()
    except IntegrityError as exc:
        session.rollback()
        if "uq_gap_data_fetch_one_active" in str(exc.orig) or "pages_group_id" in str(exc.orig):
            raise FetchAlreadyActive(group_id) from exc
        raise
    return fetch


def increment(session: Session, fetch_id: int, **deltas: int) -> None:
    """Atomically add to counters: `increment(s, 3, processed_pages=1)`."""
    values = {name: getattr(GapDataFetch, name) + delta for name, delta in deltas.items()}
    values["updated_at"] = utcnow()
    session.execute(update(GapDataFetch).where(GapDataFetch.id == fetch_id).values(**values))


def set_fetch(session: Session, fetch_id: int, *, active_only: bool = False, **values: Any) -> bool:
    """Set columns of a fetch in one UPDATE (status, current_step, totals...); True when a row changed.

    `active_only` is how a crawl moves its fetch on: a fetch that was cancelled (failed) meanwhile must
    not be brought back to life by the next stage, so the update only applies while it is active.
    """
    values["updated_at"] = utcnow()
    statement = update(GapDataFetch).where(GapDataFetch.id == fetch_id)
    if active_only:
        statement = statement.where(GapDataFetch.status.in_(ACTIVE_STATUSES))
    return bool(session.execute(statement.values(**values)).rowcount)


def fail_fetch(
    session: Session, fetch_id: int, message: str, details: dict[str, Any] | None = None
) -> bool:
    """Mark an active fetch failed (a finished one keeps its outcome). True when it changed."""
    result = session.execute(
        update(GapDataFetch)
        .where(GapDataFetch.id == fetch_id, GapDataFetch.status.in_(ACTIVE_STATUSES))
        .values(
            status=FAILED,
            error_message=message,
            error_details=details,
            completed_at=utcnow(),
            updated_at=utcnow(),
        )
    )
    return bool(result.rowcount)


# ---------------------------------------------------------------- crawls that died

CRAWLER_GONE = "crawler stopped unexpectedly"


def this_crawler() -> dict[str, Any]:
    """What a crawl records on the fetch it claims: where it runs."""
    return {"crawler_host": socket.gethostname(), "crawler_pid": os.getpid()}


def process_is_a_crawler(pid: int) -> bool:
    """Whether `pid` is alive on this host and still a crawl or a `gapspider postprocess` redo (not a new process
    that reused the number)."""
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True  # alive, someone else's
    try:
        cmdline = Path(f"/proc/{pid}/cmdline").read_bytes()
    except OSError:
        return True  # no /proc here: alive is all we know
    args = cmdline.split(b"\0")
    # `scrapy crawl gap`, scrapyd's `python -m scrapyd.runner crawl gap`, `gapspider postprocess ID`
    return b"crawl" in args or b"postprocess" in args


def crawler_is_gone(fetch: GapDataFetch) -> bool:
    """An active fetch whose crawl ran on this host and whose process no longer exists (kill -9, OOM, reboot)."""
    return (
        fetch.status in ACTIVE_STATUSES
        and bool(fetch.crawler_pid)
        and fetch.crawler_host == socket.gethostname()
        and not process_is_a_crawler(fetch.crawler_pid)
    )


def crawler_is_alive(fetch: GapDataFetch) -> bool:
    """Whether the fetch's crawl (or post-crawl redo) runs on this host right now: whatever a scrapyd says."""
    return (
        bool(fetch.crawler_pid)
        and fetch.crawler_host == socket.gethostname()
        and process_is_a_crawler(fetch.crawler_pid)
    )


def fail_dead_crawls(session: Session, group_id: int | None = None, checked_by: str = "gapspider") -> list[int]:
    """Mark failed the active fetches of this host whose crawl process is gone; their ids.

    Without this a killed `scrapy crawl` would leave its fetch active forever, and the one-active-fetch rule
    would then refuse every later fetch of the group.
    """
    query = select(GapDataFetch).where(
        GapDataFetch.status.in_(ACTIVE_STATUSES), GapDataFetch.crawler_pid.is_not(None)
    )
    if group_id is not None:
        query = query.where(GapDataFetch.pages_group_id == group_id)
    failed = []
    for fetch in session.scalars(query).all():
        if crawler_is_gone(fetch):
            details = {
                "checked_by": checked_by,
                "crawler_host": fetch.crawler_host,
                "crawler_pid": fetch.crawler_pid,
                "status_when_stopped": fetch.status,
            }
            if fail_fetch(session, fetch.id, CRAWLER_GONE, details):
                failed.append(fetch.id)
    return failed
