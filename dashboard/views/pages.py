"""Gap pages of a group: create from a Gap web URL, edit, delete, and a live preview of the derived API URL."""

from __future__ import annotations

from urllib.parse import unquote, urlsplit

from flask import Blueprint, flash, jsonify, redirect, render_template, request, url_for
from sqlalchemy.exc import IntegrityError

from gapspider.groups import GroupError, add_page, derive_page_fields, update_page
from gapspider.models import GapPage, PagesGroup
from gapspider.urls import InvalidGapUrl

from dashboard import queries
from dashboard.database import get_session
from dashboard.forms import ActionForm, PageForm

bp = Blueprint("pages", __name__)

LOCKED = "A fetch is running for this group: its pages can change once it has finished (or been cancelled)."


def _words(segment: str) -> str:
    """"new-arrivals" -> "New Arrivals", "t-shirts" -> "T-Shirts" (a one-letter word keeps its hyphen)."""
    words = [w for w in segment.replace("_", "-").split("-") if w]
    out = ""
    for index, word in enumerate(words):
        if index:
            out += "-" if len(words[index - 1]) == 1 else " "
        out += word[:1].upper() + word[1:]
    return out


def default_title(web_url: str, cid: str) -> str:
    """A readable title from the URL path (…/browse/women/jeans?cid=… → "Women / Jeans"), else "Category <cid>"."""
    segments = [
        unquote(s).strip()
        for s in urlsplit(web_url.strip()).path.split("/")
        if s and s.lower() != "browse" and "." not in s
    ]
    segments = [s for s in segments if s and not s.isdigit()]
    if segments:
        return " / ".join(_words(s) for s in segments[-3:])
    return f"Category {cid}"


def _save(session, group: PagesGroup, form: PageForm, page: GapPage | None) -> GapPage | None:
    """Validate and save; form errors are attached to the fields. Returns the page or None."""
    url = (form.web_page_url.data or "").strip()
    try:
        fields = derive_page_fields(url)
    except InvalidGapUrl as exc:
        form.web_page_url.errors.append(str(exc))
        return None
    params = fields["web_page_parameters"]

    def same_category(other: GapPage) -> bool:
        theirs = other.web_page_parameters or {}
        return other.api_url == fields["api_url"] or (
            str(theirs.get("cid")) == str(params["cid"]) and theirs.get("brand") == params.get("brand")
        )

    twin = next((p for p in group.pages if same_category(p) and (page is None or p.id != page.id)), None)
    if twin is not None:
        # The same listing twice would be crawled twice for nothing (its colours count once anyway).
        form.web_page_url.errors.append(
            f"This group already has this category: “{twin.title}” (cid {fields['web_page_parameters']['cid']})."
        )
        return None
    title = (form.title.data or "").strip() or default_title(url, fields["web_page_parameters"]["cid"])
    try:
        if page is None:
            page = add_page(session, group, title, url)
        else:
            page = update_page(session, page, title, url)
        session.commit()
    except InvalidGapUrl as exc:
        session.rollback()
        form.web_page_url.errors.append(str(exc))
        return None
    except GroupError as exc:
        session.rollback()
        form.title.errors.append(str(exc))
        return None
    except IntegrityError:
        session.rollback()
        form.title.errors.append("This group already has a page with this title.")
        return None
    return page


@bp.route("/groups/<int:group_id>/pages/new", methods=["GET", "POST"])
def new(group_id: int):
    session = get_session()
    group = queries.group_or_404(session, group_id)
    return _form_view(session, group, None, PageForm())


@bp.route("/pages/<int:page_id>/edit", methods=["GET", "POST"])
def edit(page_id: int):
    session = get_session()
    page = queries.page_or_404(session, page_id)
    return _form_view(session, page.pages_group, page, PageForm(obj=page))


def _form_view(session, group, page, form: PageForm):
    """The page form, new (page None) or edit: shown, or saved unless a fetch of the group is running."""
    locked = queries.group_active_fetch(session, group.id) is not None
    if request.method == "POST":
        if locked:
            flash(LOCKED, "error")
            return redirect(url_for("groups.show", group_id=group.id)), 303
        if form.validate_on_submit():
            saved = _save(session, group, form, page)
            if saved is not None:
                flash(f"Page “{saved.title}” {'added' if page is None else 'saved'}.", "success")
                return redirect(url_for("groups.show", group_id=group.id, _anchor="pages")), 303
        return render_template("pages/form.html", form=form, group=group, page=page), 422
    return render_template("pages/form.html", form=form, group=group, page=page, locked=locked)


@bp.post("/pages/<int:page_id>/delete")
def delete(page_id: int):
    session = get_session()
    page = queries.page_or_404(session, page_id)
    group_id = page.pages_group_id
    ActionForm().validate_on_submit()
    if queries.group_active_fetch(session, group_id) is not None:
        flash(LOCKED, "error")
        return redirect(url_for("groups.show", group_id=group_id)), 303
    title = page.title
    session.delete(page)
    session.commit()
    flash(f"Page “{title}” deleted.", "success")
    return redirect(url_for("groups.show", group_id=group_id, _anchor="pages")), 303


@bp.get("/pages/derive")
def derive():
    """Live preview for the page form: the listing-API URL a web URL gives, or the error the form will show."""
    url = request.args.get("url", "")
    try:
        fields = derive_page_fields(url)
    except InvalidGapUrl as exc:
        return jsonify(ok=False, error=str(exc))
    params = fields["web_page_parameters"]
    return jsonify(
        ok=True,
        api_url=fields["api_url"],
        cid=params["cid"],
        department=params["department"],
        brand=params["brand"],
        title=default_title(url, params["cid"]),
    )
