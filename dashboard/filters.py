"""Jinja filters and globals."""

from __future__ import annotations

import datetime as dt

from flask import Flask, current_app, g

from dashboard import presenters


def _aware(value: dt.datetime | None) -> dt.datetime | None:
    if value is not None and value.tzinfo is None:
        return value.replace(tzinfo=dt.timezone.utc)
    return value


def datetime_text(value: dt.datetime | None) -> str:
    """UTC, said so (the browser rewrites it in the reader's zone, with the zone's name)."""
    value = _aware(value)
    if value is None:
        return "–"
    return value.astimezone(dt.timezone.utc).strftime("%Y-%m-%d %H:%M:%S UTC")


def relative(value: dt.datetime | None) -> str:
    value = _aware(value)
    if value is None:
        return "never"
    seconds = (dt.datetime.now(dt.timezone.utc) - value).total_seconds()
    if seconds < 45:
        return "just now"
    if seconds < 90 * 60:
        return f"{int(round(seconds / 60)) or 1} min ago"
    if seconds < 36 * 3600:
        return f"{int(round(seconds / 3600))} h ago"
    return f"{int(round(seconds / 86400))} days ago"


def count(value) -> str:
    """1234 -> '1,234', as the live updates print counters (toLocaleString), so a number does not change its look."""
    return f"{value:,}" if isinstance(value, int) and not isinstance(value, bool) else ("" if value is None else str(value))


def counted(value: int, one: str, many: str) -> str:
    """3, 'page', 'pages' -> '3 pages'; 1 -> '1 page'."""
    return f"{count(value)} {one if value == 1 else many}"


def register(app: Flask) -> None:
    app.jinja_env.filters["count"] = count
    app.jinja_env.filters["counted"] = counted
    app.jinja_env.filters["dt"] = datetime_text
    app.jinja_env.filters["iso"] = presenters.iso
    app.jinja_env.filters["ago"] = relative
    app.jinja_env.filters["duration"] = presenters.format_duration
    app.jinja_env.filters["status_label"] = presenters.status_label
    app.jinja_env.filters["tone"] = presenters.status_tone
    app.jinja_env.globals["fetch_label"] = presenters.fetch_label
    app.jinja_env.globals["elapsed_seconds"] = presenters.elapsed_seconds
    app.jinja_env.globals["fetch_progress"] = presenters.fetch_progress
    app.jinja_env.globals["failure_help"] = presenters.failure_help
    app.jinja_env.trim_blocks = True
    app.jinja_env.lstrip_blocks = True

    @app.context_processor
    def globals_():
        return {
            "login_enabled": bool(current_app.config.get("DASHBOARD_PASSWORD")),
            # The last honest-state check, also on pages that do not run one (forms).
            "health": g.get("health") or current_app.extensions["fetch_checker"].last,
            "scrapyd_url": current_app.config["SCRAPYD_URL"],
        }
