"""Optional login: one shared password from DASHBOARD_PASSWORD; no password set means no login."""

from __future__ import annotations

import hmac

from flask import Blueprint, current_app, flash, redirect, render_template, request, session, url_for

from dashboard.forms import ActionForm, LoginForm

bp = Blueprint("auth", __name__)


def password_matches(candidate: str) -> bool:
    expected = current_app.config.get("DASHBOARD_PASSWORD") or ""
    return bool(expected) and hmac.compare_digest(candidate.encode(), expected.encode())


def _next_url() -> str:
    target = request.args.get("next") or ""
    if target.startswith("/") and not target.startswith("//") and "\\" not in target:
        return target
    return url_for("groups.index")


@bp.route("/login", methods=["GET", "POST"])
def login():
    if not current_app.config.get("DASHBOARD_PASSWORD"):
        return redirect(url_for("groups.index"))
    form = LoginForm()
    if form.validate_on_submit():
        if password_matches(form.password.data or ""):
            session.clear()
            session["logged_in"] = True
            session.permanent = True
            return redirect(_next_url()), 303
        form.password.errors.append("Wrong password.")
    return render_template("login.html", form=form), 200 if request.method == "GET" else 401


@bp.post("/logout")
def logout():
    ActionForm().validate_on_submit()
    session.clear()
    flash("Signed out.", "info")
    return redirect(url_for("auth.login") if current_app.config.get("DASHBOARD_PASSWORD") else url_for("groups.index")), 303
