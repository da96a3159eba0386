"""Dashboard configuration, read from the environment (see README "Dashboard").

| variable                     | meaning                                                              | default                      |
|------------------------------|----------------------------------------------------------------------|------------------------------|
| DATABASE_URL                 | the gapspider database (shared with the spider)                      | SQLite under the output root |
| GAPSPIDER_OUTPUT_DIR         | root of the fetch folders (images, SQL files)                        | tmp/ of the project          |
| DASHBOARD_SECRET_KEY         | Flask secret key (sessions, CSRF tokens)                             | random per process (warning) |
| DASHBOARD_PASSWORD           | enables the login page; empty means no login                         | (none)                       |
| DASHBOARD_API_TOKEN          | bearer token accepted by the JSON API                                | (none)                       |
| SCRAPYD_URL                  | where scrapyd listens                                                | http://127.0.0.1:6800        |
| SCRAPYD_USERNAME/PASSWORD    | scrapyd basic auth, kept on the server                               | (none)                       |
| SCRAPYD_PROJECT              | scrapyd project name                                                 | gapspider                    |
| SCRAPYD_SPIDER               | spider name                                                          | gap                          |
| SCRAPYD_TIMEOUT              | seconds to wait for scrapyd                                          | 15                           |
| SCRAPYD_JOB_SETTINGS         | Scrapy settings for every scheduled crawl, `K=V` separated by spaces | (none)                       |
| DASHBOARD_CHECK_INTERVAL     | seconds between two checks of active fetches against scrapyd        | 5                            |
| DASHBOARD_BACKGROUND_CHECK   | 1: a background thread runs the check periodically                   | 0 (`make dashboard` sets 1)  |
| DASHBOARD_SCHEDULE_GRACE     | seconds a just-created fetch may be unknown to scrapyd               | 60                           |
"""

from __future__ import annotations

import os
import secrets
from typing import Any

from gapspider import config as gapconfig


def _env(name: str, default: str = "") -> str:
    value = os.environ.get(name)
    return value if value not in (None, "") else default


def _env_float(name: str, default: float) -> float:
    value = os.environ.get(name)
    return float(value) if value not in (None, "") else default


def _env_bool(name: str, default: bool = False) -> bool:
    value = os.environ.get(name)
    if value in (None, ""):
        return default
    return value.strip().lower() in ("1", "true", "yes", "on")


def parse_job_settings(text: str) -> dict[str, str]:
    """`GAP_DOWNLOAD_DELAY=2 GAP_IMAGE_RENDITIONS=VLI,Z` -> {"GAP_DOWNLOAD_DELAY": "2", ...}."""
    result: dict[str, str] = {}
    for item in (text or "").split():
        name, sep, value = item.partition("=")
        if not sep or not name:
            raise ValueError(f"SCRAPYD_JOB_SETTINGS: {item!r} is not NAME=value")
        result[name] = value
    return result


def from_environment() -> dict[str, Any]:
    secret = _env("DASHBOARD_SECRET_KEY") or _env("SECRET_KEY")
    return {
        "SECRET_KEY": secret or secrets.token_hex(32),
        "SECRET_KEY_GENERATED": not secret,
        "DATABASE_URL": gapconfig.database_url(),
        "OUTPUT_ROOT": str(gapconfig.output_root()),
        "DASHBOARD_PASSWORD": _env("DASHBOARD_PASSWORD"),
        "DASHBOARD_API_TOKEN": _env("DASHBOARD_API_TOKEN"),
        "SCRAPYD_URL": _env("SCRAPYD_URL", "http://127.0.0.1:6800").rstrip("/"),
        "SCRAPYD_USERNAME": _env("SCRAPYD_USERNAME"),
        "SCRAPYD_PASSWORD": _env("SCRAPYD_PASSWORD"),
        "SCRAPYD_PROJECT": _env("SCRAPYD_PROJECT", "gapspider"),
        "SCRAPYD_SPIDER": _env("SCRAPYD_SPIDER", "gap"),
        "SCRAPYD_TIMEOUT": _env_float("SCRAPYD_TIMEOUT", 15.0),
        "SCRAPYD_JOB_SETTINGS": parse_job_settings(_env("SCRAPYD_JOB_SETTINGS")),
        "DASHBOARD_CHECK_INTERVAL": _env_float("DASHBOARD_CHECK_INTERVAL", 5.0),
        "DASHBOARD_BACKGROUND_CHECK": _env_bool("DASHBOARD_BACKGROUND_CHECK", False),
        "DASHBOARD_SCHEDULE_GRACE": _env_float("DASHBOARD_SCHEDULE_GRACE", 60.0),
        "PRODUCTS_PER_PAGE": int(_env_float("DASHBOARD_PRODUCTS_PER_PAGE", 60)),
        "FETCHES_PER_PAGE": int(_env_float("DASHBOARD_FETCHES_PER_PAGE", 50)),
        # Cookies: HttpOnly always; SameSite=Lax keeps them off cross-site POSTs.
        "SESSION_COOKIE_HTTPONLY": True,
        "SESSION_COOKIE_SAMESITE": "Lax",
        "SESSION_COOKIE_SECURE": _env_bool("DASHBOARD_SECURE_COOKIES", False),
        "WTF_CSRF_TIME_LIMIT": None,  # tokens live as long as the session: a tab left open still works
    }
