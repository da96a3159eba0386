"""A fetch: live progress, the crawl log, Cancel, the SQL file and the products."""

from __future__ import annotations

from pathlib import Path

from flask import (
    Blueprint,
    Response,
    abort,
    current_app,
    flash,
    jsonify,
    redirect,
    render_template,
    request,
    send_file,
    url_for,
)

from dashboard import paging, presenters, queries, services
from dashboard.database import check_fetches, get_session, scrapyd_client
from dashboard.files_util import resolve_under_root
from dashboard.forms import ActionForm
from dashboard.scrapyd import ScrapydError

bp = Blueprint("fetches", __name__)


def fetch_urls(fetch) -> dict[str, str]:
    return {
        "page": url_for("fetches.show", fetch_id=fetch.id),
        "status": url_for("fetches.status", fetch_id=fetch.id),
        "log": url_for("fetches.log", fetch_id=fetch.id),
        "output": url_for("fetches.output", fetch_id=fetch.id),
        "group": url_for("groups.show", group_id=fetch.pages_group_id),
    }


def product_rows(session, fetch_id: int) -> list[dict]:
    """Every product row of the fetch (shared, read-only), from the app's cache while the fetch's rows are unchanged."""
    return current_app.extensions["product_rows"].rows(session, fetch_id, presenters.product_row)


@bp.get("/fetches")
def index():
    check_fetches()
    session = get_session()
    page, fetches = queries.fetches_page(
        session, queries.fetches_query(), paging.html_request(request.args), int(current_app.config["FETCHES_PER_PAGE"]),
        clamp=True,
    )
    return render_template("fetches/index.html", fetches=fetches, paging=page)


@bp.get("/fetches/<int:fetch_id>")
def show(fetch_id: int):
    check_fetches()
    session = get_session()
    fetch = queries.fetch_or_404(session, fetch_id)
    group = fetch.pages_group
    q = request.args.get("q", "")
    availability = request.args.get("availability", "")
    sort = request.args.get("sort", "position")
    all_rows = product_rows(session, fetch.id)
    rows = presenters.filter_rows(all_rows, q, availability, sort)
    page = paging.clamp(paging.html_request(request.args), int(current_app.config["PRODUCTS_PER_PAGE"]), len(rows))
    shown = page.slice(rows)
    summary = presenters.products_summary(all_rows)
    active_other = queries.group_active_fetch(session, fetch.pages_group_id)
    return render_template(
        "fetches/show.html",
        fetch=fetch,
        group=group,
        state=presenters.fetch_json(fetch, fetch_urls(fetch)),
        rows=shown,
        matched=len(rows),
        summary=summary,
        q=q,
        availability=availability,
        sort=sort,
        sorts=presenters.SORTS,
        availability_filters=presenters.AVAILABILITY_FILTERS,
        paging=page,
        group_busy=active_other is not None,
        has_pages=bool(group.pages),
        output_file=_output_file(fetch),
        action_form=ActionForm(),
    )


@bp.get("/fetches/<int:fetch_id>/log")
def log(fetch_id: int):
    """The end of the crawl log, read from scrapyd by the server (its credentials never reach the browser)."""
    session = get_session()
    fetch = queries.fetch_or_404(session, fetch_id)
    headers = {"Cache-Control": "no-store"}
    if not fetch.scrapyd_job_id:
        return Response("This fetch did not run through scrapyd: no log here.\n", mimetype="text/plain", headers=headers)
    if (fetch.error_details or {}).get("stage") == "schedule":
        return Response("The crawl was never scheduled, so there is no log.\n", mimetype="text/plain", headers=headers)
    try:
        tail = scrapyd_client().log_tail(fetch.scrapyd_job_id, max_bytes=int(request.args.get("bytes", 96 * 1024)))
    except (ScrapydError, ValueError) as exc:
        return Response(f"The log is not available: {exc}\n", status=502, mimetype="text/plain", headers=headers)
    if tail is None:
        text = "No log yet: the crawl has not started.\n" if fetch.is_active else "scrapyd has no log for this job (it keeps the last logs only).\n"
        return Response(text, mimetype="text/plain", headers=headers)
    text, truncated = tail
    if truncated:
        text = "… (earlier lines omitted)\n" + text
    return Response(text, mimetype="text/plain", headers=headers)


@bp.post("/fetches/<int:fetch_id>/cancel")
def cancel(fetch_id: int):
    session = get_session()
    fetch = queries.fetch_or_404(session, fetch_id)
    ActionForm().validate_on_submit()
    result = services.cancel_fetch(session, fetch, scrapyd_client())
    flash(result.message, "success" if result.cancelled else "info")
    if result.warning:
        flash(result.warning, "warning")
    return redirect(url_for("fetches.show", fetch_id=fetch.id)), 303


def _output_file(fetch) -> Path | None:
    if not fetch.output_path or fetch.status != "succeeded":
        return None
    path = resolve_under_root(current_app.config["OUTPUT_ROOT"], fetch.output_path)
    if path is None or not path.is_file():
        return None
    return path


@bp.get("/fetches/<int:fetch_id>/output.sql")
def output(fetch_id: int):
    session = get_session()
    fetch = queries.fetch_or_404(session, fetch_id)
    path = _output_file(fetch)
    if path is None:
        abort(404)
    name = f"gapspider-{_slug(fetch.pages_group.title)}-{fetch.folder_timestamp}.sql"
    return send_file(path, mimetype="application/sql", as_attachment=True, download_name=name, max_age=0)


def _slug(text: str) -> str:
    slug = "".join(c.lower() if c.isalnum() else "-" for c in text).strip("-")
    while "--" in slug:
        slug = slug.replace("--", "-")
    return slug[:40] or "group"


@bp.get("/fetches/<int:fetch_id>/status.json")
def status(fetch_id: int):
    """What the fetch page polls (same session/login as the page)."""
    report = check_fetches()
    session = get_session()
    fetch = queries.fetch_or_404(session, fetch_id)
    state = presenters.fetch_json(fetch, fetch_urls(fetch))
    # The page's banner and header follow scrapyd's reachability while it is open.
    state["scrapyd"] = {
        "ok": bool(report.scrapyd_ok) if report is not None else None,
        "error": report.scrapyd_error if report is not None else None,
    }
    response = jsonify(state)
    response.headers["Cache-Control"] = "no-store"
    return response
