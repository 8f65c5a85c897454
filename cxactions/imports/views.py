"""The import page: CX leads upload a CSV file and get it loaded, or the list of bad rows."""

from __future__ import annotations

import os
import shutil
import tempfile

from flask import Blueprint, Flask, Request, current_app, render_template, request
from flask_login import current_user

from cxactions.auth.models import Role
from cxactions.auth.permissions import require_role
from cxactions.foundations.extensions import db
from cxactions.imports import services
from cxactions.imports.formats import FORMATS
from cxactions.imports.forms import ImportForm

bp = Blueprint("imports", __name__)

SPOOL_IN_MEMORY_BYTES = 500 * 1024


def upload_directory(app: Flask) -> str:
    """Where uploads are spooled: inside the instance folder, like all local state."""
    path = os.path.join(app.instance_path, "uploads")
    os.makedirs(path, exist_ok=True)
    return path


class InstanceUploadRequest(Request):
    """A request whose uploaded files stream to the instance folder, not the system temp dir.

    Werkzeug spools uploads above 500 KB to ``tempfile``'s default folder; the contract says
    nothing is written outside the instance folder at run time.
    """

    def _get_file_stream(
        self, total_content_length, content_type, filename=None, content_length=None
    ):
        # Small files stay in memory, as with Werkzeug's default; bigger ones roll over to disk.
        return tempfile.SpooledTemporaryFile(  # noqa: SIM115
            max_size=SPOOL_IN_MEMORY_BYTES, mode="rb+", dir=upload_directory(current_app)
        )


@bp.record_once
def _spool_uploads_in_instance(state) -> None:
    # The form body is parsed by CSRF protection before any view of this blueprint runs, so
    # the request class has to be the app's own; only replace Flask's default one.
    if state.app.request_class is Request:
        state.app.request_class = InstanceUploadRequest


def _max_upload_mb() -> int | None:
    limit = current_app.config.get("MAX_CONTENT_LENGTH")
    return round(limit / (1024 * 1024)) if limit else None


@bp.route("/imports", methods=["GET", "POST"])
@require_role(Role.CX_LEAD)
def upload():
    form = ImportForm()
    result = None
    status = 200
    if form.validate_on_submit():
        result = _import_upload(form)
        status = 200 if result.ok else 422
    elif request.method == "POST":
        status = 400
    return (
        render_template(
            "imports/upload.html",
            form=form,
            result=result,
            runs=services.recent_runs(db.session),
            formats=FORMATS,
            max_upload_mb=_max_upload_mb(),
        ),
        status,
    )


def _import_upload(form: ImportForm) -> services.ImportResult:
    """Copy the upload to a named file in the instance folder and run the same import as the CLI."""
    upload = form.file.data
    name = os.path.basename((upload.filename or "upload.csv").replace("\\", "/"))
    handle = tempfile.NamedTemporaryFile(  # noqa: SIM115  (closed before the import reads it)
        dir=upload_directory(current_app), suffix=".csv", delete=False
    )
    try:
        with handle:
            shutil.copyfileobj(upload.stream, handle, length=1024 * 1024)
        return services.run_import(
            db.session,
            form.kind.data,
            handle.name,
            dry_run=form.dry_run.data,
            actor=current_user.email,
            user=current_user,
            chunk_rows=current_app.config.get("IMPORT_CHUNK_ROWS", 50_000),
            filename=name,
        )
    finally:
        os.remove(handle.name)
