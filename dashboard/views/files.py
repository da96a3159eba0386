"""Downloaded product images, served from the output root (images only, nothing outside the root)."""

from __future__ import annotations

from flask import Blueprint, abort, current_app, send_file

from dashboard.files_util import IMAGE_TYPES, resolve_under_root

bp = Blueprint("files", __name__)


@bp.get("/files/<path:relpath>")
def image(relpath: str):
    path = resolve_under_root(current_app.config["OUTPUT_ROOT"], relpath)
    if path is None or path.suffix.lower() not in IMAGE_TYPES or not path.is_file():
        abort(404)
    # Fetch folders never change once written: cache for a day.
    return send_file(path, mimetype=IMAGE_TYPES[path.suffix.lower()], max_age=86400, conditional=True)
