"""The JSON API for other systems: groups, fetches, fetch status, start and cancel a fetch.

Authentication: open when neither DASHBOARD_API_TOKEN nor DASHBOARD_PASSWORD is set; otherwise
`Authorization: Bearer <DASHBOARD_API_TOKEN>` or a logged-in dashboard session. Requests that change
something must send a JSON body (`Content-Type: application/json`, `{}` is fine): a cross-site HTML form
cannot, so the API needs no CSRF token.
"""

from __future__ import annotations

import hmac

from flask import Blueprint, current_app, jsonify, request, session, url_for

from gapspider.models import ACTIVE_STATUSES, STATUSES, GapDataFetch

from dashboard import paging, presenters, queries, services
from dashboard.database import check_fetches, fetch_checker, free_group_if_its_crawl_died, get_session, scrapyd_client
from dashboard.views.fetches import product_rows

bp = Blueprint("api", __name__, url_prefix="/api")


def _error(message: str, status: int, **extra):
    response = jsonify(error=message, **extra)
    response.status_code = status
    return response


@bp.before_request
def authenticate():
    token = current_app.config.get("DASHBOARD_API_TOKEN") or ""
    password = current_app.config.get("DASHBOARD_PASSWORD") or ""
    if token or password:
        header = request.headers.get("Authorization", "")
        bearer_ok = bool(token) and header.startswith("Bearer ") and hmac.compare_digest(
            header[7:].strip().encode(), token.encode()
        )
        session_ok = bool(password) and bool(session.get("logged_in"))
        if not (bearer_ok or session_ok):
            if token:
                message = "authentication required (Authorization: Bearer <DASHBOARD_API_TOKEN>, or a signed-in session)"
            else:  # no token to send: only a session works until the server sets DASHBOARD_API_TOKEN
                message = "authentication required: sign in to the dashboard (set DASHBOARD_API_TOKEN for bearer tokens)"
            response = _error(message, 401)
            response.headers["WWW-Authenticate"] = 'Bearer realm="gapspider"'
            return response
    if request.method not in ("GET", "HEAD", "OPTIONS") and not request.is_json:
        return _error("send a JSON body (Content-Type: application/json)", 415)
    return None


def fetch_payload(fetch: GapDataFetch) -> dict:
    urls = {
        "self": url_for("api.fetch_status", fetch_id=fetch.id, _external=True),
        "page": url_for("fetches.show", fetch_id=fetch.id, _external=True),
        "products": url_for("api.fetch_products", fetch_id=fetch.id, _external=True),
        "cancel": url_for("api.cancel_fetch", fetch_id=fetch.id, _external=True),
    }
    if fetch.output_path and fetch.status == "succeeded":
        urls["output"] = url_for("fetches.output", fetch_id=fetch.id, _external=True)
    data = presenters.fetch_json(fetch, urls)
    data.pop("steps", None)
    return data


def group_payload(summary: dict) -> dict:
    group = summary["group"]
    last = summary["last_fetch"]
    return {
        "id": group.id,
        "title": group.title,
        "page_count": summary["page_count"],
        "has_active_fetch": summary["active"],
        "last_fetch": fetch_payload(last) if last is not None else None,
        "created_at": presenters.iso(group.created_at),
        "urls": {
            "self": url_for("api.group", ref=group.id, _external=True),
            "fetches": url_for("api.group_fetches", ref=group.id, _external=True),
            "page": url_for("groups.show", group_id=group.id, _external=True),
        },
    }


@bp.get("/health")
def health():
    report = fetch_checker().run()
    return jsonify(
        database="ok",
        scrapyd="ok" if report.scrapyd_ok else "unreachable",
        scrapyd_error=report.scrapyd_error,
        active_fetches=report.active,
    ), (200 if report.scrapyd_ok else 503)


@bp.get("/groups")
def groups():
    check_fetches()
    session_ = get_session()
    return jsonify(groups=[group_payload(s) for s in queries.group_summaries(session_)])


@bp.get("/groups/<ref>")
def group(ref: str):
    check_fetches()
    session_ = get_session()
    group_ = queries.group_or_404(session_, ref)
    summary = next(s for s in queries.group_summaries(session_) if s["group"].id == group_.id)
    payload = group_payload(summary)
    payload["pages"] = [
        {
            "id": p.id,
            "title": p.title,
            "web_page_url": p.web_page_url,
            "api_url": p.api_url,
            "web_page_parameters": p.web_page_parameters,
        }
        for p in group_.pages
    ]
    return jsonify(payload)


def _page_url(number: int, per_page: int) -> str:
    """This request's URL (its filters kept) for page `number`."""
    args = {k: v for k, v in request.args.items() if k not in ("page", "per_page", "limit")}
    return url_for(request.endpoint, **(request.view_args or {}), **args, page=number, per_page=per_page, _external=True)


def _paged(key: str, items: list, page: paging.Paging, **extra):
    """The answer of a paged list: the items under `key`, `total`, `page`, `per_page`, `pages`, `next` and
    `previous` (URLs or null), `count` (items in this answer); the same links in a `Link` header (RFC 8288)."""
    next_url = _page_url(page.page + 1, page.per_page) if page.has_next else None
    # The page before this one, or the last page when asked beyond it.
    previous_url = _page_url(min(page.page - 1, max(1, page.pages)), page.per_page) if page.has_previous else None
    response = jsonify(
        **extra, total=page.total, page=page.page, per_page=page.per_page, pages=page.pages,
        next=next_url, previous=previous_url, count=len(items), **{key: items},
    )
    links = [f'<{url}>; rel="{rel}"' for url, rel in ((next_url, "next"), (previous_url, "prev")) if url]
    if links:
        response.headers["Link"] = ", ".join(links)
    return response


@bp.get("/groups/<ref>/fetches")
def group_fetches(ref: str):
    check_fetches()
    session_ = get_session()
    group_ = queries.group_or_404(session_, ref)
    try:
        number, per_page = paging.api_request(request.args)
    except paging.PagingError as exc:
        return _error(str(exc), 400)
    page, rows = queries.fetches_page(session_, queries.fetches_query(group_.id), number, per_page)
    return _paged("fetches", [fetch_payload(f) for f in rows], page)


@bp.post("/groups/<ref>/fetches")
def start_fetch(ref: str):
    """Start a fetch with the rules of the Fetch Data button: 201, or 409 (already running), 422, 502."""
    session_ = get_session()
    group_ = queries.group_or_404(session_, ref)
    free_group_if_its_crawl_died(session_, group_.id)
    try:
        fetch = services.start_fetch(session_, group_, scrapyd_client())
    except services.FetchStartError as exc:
        extra = {"fetch": fetch_payload(exc.fetch)} if exc.fetch is not None else {}
        return _error(exc.message, exc.http_status, **extra)
    response = jsonify(fetch_payload(fetch))
    response.status_code = 201
    response.headers["Location"] = url_for("api.fetch_status", fetch_id=fetch.id, _external=True)
    return response


@bp.get("/fetches")
def fetches():
    check_fetches()
    session_ = get_session()
    status = request.args.get("status", "")
    statuses = None
    if status == "active":
        statuses = ACTIVE_STATUSES
    elif status:
        if status not in STATUSES:
            return _error(f"unknown status {status!r} (expected active or one of {', '.join(STATUSES)})", 400)
        statuses = [status]
    group_ref = request.args.get("group")
    group_id = queries.group_or_404(session_, group_ref).id if group_ref else None
    try:
        # `limit` is the name this list first had for per_page (kept as a synonym).
        number, per_page = paging.api_request(request.args, per_page_aliases=("limit",))
    except paging.PagingError as exc:
        return _error(str(exc), 400)
    page, rows = queries.fetches_page(session_, queries.fetches_query(group_id, statuses), number, per_page)
    return _paged("fetches", [fetch_payload(f) for f in rows], page)


@bp.get("/fetches/<int:fetch_id>")
def fetch_status(fetch_id: int):
    check_fetches()
    session_ = get_session()
    return jsonify(fetch_payload(queries.fetch_or_404(session_, fetch_id)))


@bp.post("/fetches/<int:fetch_id>/cancel")
def cancel_fetch(fetch_id: int):
    session_ = get_session()
    fetch = queries.fetch_or_404(session_, fetch_id)
    result = services.cancel_fetch(session_, fetch, scrapyd_client())
    payload = {"cancelled": result.cancelled, "message": result.message, "warning": result.warning}
    payload["fetch"] = fetch_payload(fetch)
    return jsonify(payload), (200 if result.cancelled else 409)


@bp.get("/fetches/<int:fetch_id>/products")
def fetch_products(fetch_id: int):
    session_ = get_session()
    fetch = queries.fetch_or_404(session_, fetch_id)
    availability = request.args.get("availability", "")
    sort = request.args.get("sort", "position")
    # A typo ('in_stock') must not answer every product as if it had filtered them.
    availabilities = [value for value, _label in presenters.AVAILABILITY_FILTERS if value]
    if availability and availability not in availabilities:
        return _error(f"unknown availability {availability!r} (expected one of: {', '.join(availabilities)})", 400)
    if sort not in presenters.SORTS:
        return _error(f"unknown sort {sort!r} (expected one of: {', '.join(presenters.SORTS)})", 400)
    try:
        number, per_page = paging.api_request(request.args)
    except paging.PagingError as exc:
        return _error(str(exc), 400)
    rows = presenters.filter_rows(product_rows(session_, fetch.id), request.args.get("q", ""), availability, sort)
    page = paging.Paging(number, per_page, len(rows))
    shown = []
    for row in page.slice(rows):
        row = dict(row)  # the cached rows are shared: never change them
        row["thumbnail_url"] = (
            url_for("files.image", relpath=row["thumbnail"], _external=True) if row["thumbnail"] else None
        )
        shown.append(row)
    return _paged("products", shown, page, fetch_id=fetch.id, status=fetch.status)
