"""Configuration read from the environment, shared by the spider, the CLI and the dashboard.

Everything that points somewhere (database, output folder, Gap hosts) is a setting, so the same code
runs against the offline replica or the real sites.
"""

from __future__ import annotations

import os
from pathlib import Path

PROJECT_ROOT = Path(__file__).resolve().parent.parent


def output_root() -> Path:
    """Absolute root of the fetch folders (`tmp/` of the project unless GAPSPIDER_OUTPUT_DIR says otherwise).

    Resolved to an absolute path because scrapyd runs spiders in its own working directory.
    """
    configured = os.environ.get("GAPSPIDER_OUTPUT_DIR")
    root = Path(configured) if configured else PROJECT_ROOT / "tmp"
    return root.expanduser().resolve()


def database_url() -> str:
    """`DATABASE_URL`, or a SQLite file under the output root so the demo needs no server."""
    url = os.environ.get("DATABASE_URL", "").strip()
    if url:
        return normalise_database_url(url)
    root = output_root()
    root.mkdir(parents=True, exist_ok=True)
    return f"sqlite:///{root / 'gapspider.db'}"


def normalise_database_url(url: str) -> str:
    """A PostgreSQL URL without a driver gets the driver gapspider ships (psycopg2).

    SQLAlchemy 2.1 reads `postgresql://` as psycopg 3, which is not installed, and refuses the `postgres://`
    scheme that hosting services hand out; both are the usual way to write a PostgreSQL URL.
    """
    scheme, sep, rest = url.partition("://")
    if sep and scheme.lower() in ("postgresql", "postgres"):
        return f"postgresql+psycopg2://{rest}"
    return url


def database_url_for_display(url: str | None = None) -> str:
    """The database URL with its password masked, for messages and logs."""
    from sqlalchemy.engine import make_url

    url = url or database_url()
    try:
        return make_url(url).render_as_string(hide_password=True)
    except Exception:  # not a URL SQLAlchemy can read: say nothing of it rather than leak a secret
        return "(unreadable DATABASE_URL)"
