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
    url = os.environ.get("DATABASE_URL")
    if url:
        return url
    root = output_root()
    root.mkdir(parents=True, exist_ok=True)
    return f"sqlite:///{root / 'gapspider.db'}"
