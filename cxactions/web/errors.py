"""Error pages that help: say what went wrong and where to go next."""

from __future__ import annotations

from flask import Flask, current_app, jsonify, render_template, request
from werkzeug.exceptions import HTTPException

from cxactions.foundations.extensions import db


def _wants_json() -> bool:
    return request.path.startswith("/api/") or (request.accept_mimetypes.best == "application/json")


def register_error_handlers(app: Flask) -> None:
    @app.errorhandler(HTTPException)
    def handle_http_error(error: HTTPException):
        if _wants_json():
            return jsonify(error=error.name, message=error.description), error.code
        template = (
            f"errors/{error.code}.html" if error.code in (403, 404, 413) else "errors/http.html"
        )
        limit = current_app.config.get("MAX_CONTENT_LENGTH")
        return (
            render_template(
                template,
                error=error,
                max_upload_mb=round(limit / (1024 * 1024)) if limit else None,
            ),
            error.code,
        )

    @app.errorhandler(500)
    def handle_server_error(error):
        # A failed request must not leave a half-written transaction behind for the next one.
        db.session.rollback()
        if _wants_json():
            return jsonify(error="Internal Server Error", message="Something went wrong."), 500
        return render_template("errors/500.html"), 500
