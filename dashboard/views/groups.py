"""Pages groups: index, show, create, edit, delete, and Fetch Data."""

from __future__ import annotations

from flask import Blueprint, current_app, flash, redirect, render_template, request, url_for
from sqlalchemy.exc import IntegrityError

from gapspider.groups import GroupError, create_group, rename_group

from dashboard import paging, queries, services
from dashboard.database import check_fetches, free_group_if_its_crawl_died, get_session, scrapyd_client
from dashboard.forms import ActionForm, GroupForm, PageForm

bp = Blueprint("groups", __name__)


@bp.get("/")
def index():
    check_fetches()
    session = get_session()
    return render_template(
        "groups/index.html",
        summaries=queries.group_summaries(session),
        action_form=ActionForm(),
    )


@bp.route("/groups/new", methods=["GET", "POST"])
def new():
    form = GroupForm()
    if form.validate_on_submit():
        group = _save_title(form, lambda session: create_group(session, form.title.data))
        if group is not None:
            flash(f"Group “{group.title}” created. Now add its Gap category pages.", "success")
            return redirect(url_for("groups.show", group_id=group.id))
    return render_template("groups/form.html", form=form, group=None), 200 if request.method == "GET" else 422


def _save_title(form: GroupForm, change):
    """Run `change(session)` (create or rename) and commit; a refused title becomes a form error (None returned)."""
    session = get_session()
    try:
        group = change(session)
        session.commit()
        return group
    except GroupError as exc:
        session.rollback()
        form.title.errors.append(str(exc))
    except IntegrityError:
        session.rollback()
        form.title.errors.append("A group with this title already exists.")
    return None


@bp.get("/groups/<int:group_id>")
def show(group_id: int):
    check_fetches()
    session = get_session()
    group = queries.group_or_404(session, group_id)
    page, fetches = queries.fetches_page(
        session, queries.fetches_query(group.id), paging.html_request(request.args),
        int(current_app.config["FETCHES_PER_PAGE"]), clamp=True,
    )
    # Not looked for among the rows shown: on an older page of the history the running fetch is not one of them.
    active = queries.group_active_fetch(session, group.id)
    return render_template(
        "groups/show.html",
        group=group,
        pages=group.pages,
        fetches=fetches,
        paging=page,
        fetch_count=page.total,  # every fetch of the group (a COUNT), as the delete confirmation says
        active=active,
        page_form=PageForm(),
        action_form=ActionForm(),
    )


@bp.route("/groups/<int:group_id>/edit", methods=["GET", "POST"])
def edit(group_id: int):
    session = get_session()
    group = queries.group_or_404(session, group_id)
    form = GroupForm(obj=group)
    if form.validate_on_submit():
        renamed = _save_title(form, lambda session: rename_group(session, group, form.title.data))
        if renamed is not None:
            flash("Group renamed.", "success")
            return redirect(url_for("groups.show", group_id=group.id))
    return render_template("groups/form.html", form=form, group=group), 200 if request.method == "GET" else 422


@bp.post("/groups/<int:group_id>/delete")
def delete(group_id: int):
    session = get_session()
    group = queries.group_or_404(session, group_id)
    ActionForm().validate_on_submit()  # CSRFProtect has already checked the token
    if queries.group_active_fetch(session, group.id) is not None:
        flash("This group has a running fetch: cancel it before deleting the group.", "error")
        return redirect(url_for("groups.show", group_id=group.id))
    title = group.title
    session.delete(group)
    session.commit()
    flash(f"Group “{title}” deleted with its pages and fetch history (files on disk are kept).", "success")
    return redirect(url_for("groups.index"))


@bp.post("/groups/<int:group_id>/fetch")
def fetch_data(group_id: int):
    """Fetch Data: create the pending fetch and schedule its crawl (see services.start_fetch)."""
    session = get_session()
    group = queries.group_or_404(session, group_id)
    free_group_if_its_crawl_died(session, group.id)
    try:
        fetch = services.start_fetch(session, group, scrapyd_client())
    except services.SchedulingFailed as exc:
        flash(exc.message, "error")
        return redirect(url_for("fetches.show", fetch_id=exc.fetch.id)), 303
    except services.FetchStartError as exc:
        flash(exc.message, "error")
        return redirect(_back(url_for("groups.show", group_id=group.id))), 303
    flash(f"Fetch #{fetch.id} of “{group.title}” is scheduled.", "success")
    return redirect(url_for("fetches.show", fetch_id=fetch.id)), 303


def _back(default: str) -> str:
    target = request.form.get("next") or ""
    if target.startswith("/") and not target.startswith("//"):
        return target
    return default

