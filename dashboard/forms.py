"""Forms (Flask-WTF: every form carries a CSRF token)."""

from __future__ import annotations

from flask_wtf import FlaskForm
from wtforms import PasswordField, StringField
from wtforms.validators import DataRequired, Length, Optional


class GroupForm(FlaskForm):
    title = StringField(
        "Title",
        validators=[DataRequired(message="The group needs a title."), Length(max=255)],
        render_kw={"placeholder": "e.g. Women's denim", "autocomplete": "off"},
    )


class PageForm(FlaskForm):
    web_page_url = StringField(
        "Gap category URL",
        validators=[DataRequired(message="Enter the URL of a Gap category page.")],
        render_kw={
            "placeholder": "https://www.gap.com/browse/women/jeans?cid=5664#department=136",
            "autocomplete": "off",
            "spellcheck": "false",
        },
    )
    title = StringField(
        "Title",
        validators=[Optional(), Length(max=255)],
        render_kw={"placeholder": "derived from the URL when left empty", "autocomplete": "off"},
    )


class ActionForm(FlaskForm):
    """A button-only form (delete, cancel, Fetch Data): just the CSRF token."""


class LoginForm(FlaskForm):
    password = PasswordField("Password", validators=[DataRequired()])
