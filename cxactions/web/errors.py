"""Error pages that help: say what went wrong and where to go next."""

from __future__ import annotations

from flask import Flask, current_app, g, jsonify, render_template, request
from flask_babel import lazy_gettext as _l
from werkzeug.exceptions import HTTPException

from cxactions.foundations.extensions import db

# The standard errors the generic page may show, in the page's language: each one's name and
# Werkzeug's own description (used when the code that raised it gave none of its own).
ERROR_TEXTS = {
    400: (
        _l("Bad Request"),
        _l("The browser (or proxy) sent a request that this server could not understand."),
    ),
    401: (
        _l("Unauthorized"),
        _l(
            "The server could not verify that you are authorized to access the URL requested. "
            "You either supplied the wrong credentials (e.g. a bad password), or your browser "
            "doesn't understand how to supply the credentials required."
        ),
    ),
    405: (_l("Method Not Allowed"), _l("The method is not allowed for the requested URL.")),
    406: (
        _l("Not Acceptable"),
        _l(
            "The resource identified by the request is only capable of generating response "
            "entities which have content characteristics not acceptable according to the accept "
            "headers sent in the request."
        ),
    ),
    409: (
        _l("Conflict"),
        _l(
            "A conflict happened while processing the request. The resource might have been "
            "modified while the request was being processed."
        ),
    ),
    410: (
        _l("Gone"),
        _l(
            "The requested URL is no longer available on this server and there is no forwarding "
            "address. If you followed a link from a foreign page, please contact the author of "
            "this page."
        ),
    ),
    415: (
        _l("Unsupported Media Type"),
        _l("The server does not support the media type transmitted in the request."),
    ),
    422: (
        _l("Unprocessable Entity"),
        _l("The request was well-formed but was unable to be followed due to semantic errors."),
    ),
    429: (
        _l("Too Many Requests"),
        _l("This user has exceeded an allotted request count. Try again later."),
    ),
    501: (
        _l("Not Implemented"),
        _l("The server does not support the action requested by the browser."),
    ),
    503: (
        _l("Service Unavailable"),
        _l(
            "The server is temporarily unable to service your request due to maintenance "
            "downtime or capacity problems. Please try again later."
        ),
    ),
}

# Flask-WTF's reasons for refusing a form (a CSRFError's description), in the page's language.
CSRF_REASONS = {
    "The CSRF token is missing.": _l("The CSRF token is missing."),
    "The CSRF session token is missing.": _l("The CSRF session token is missing."),
    "The CSRF token has expired.": _l("The CSRF token has expired."),
    "The CSRF token is invalid.": _l("The CSRF token is invalid."),
    "The CSRF tokens do not match.": _l("The CSRF tokens do not match."),
    "The referrer header is missing.": _l("The referrer header is missing."),
    "The referrer does not match the host.": _l("The referrer does not match the host."),
}


def _wants_json() -> bool:
    return request.path.startswith("/api/") or (request.accept_mimetypes.best == "application/json")


def _title(error: HTTPException) -> str:
    texts = ERROR_TEXTS.get(error.code or 0)
    return str(texts[0]) if texts else str(error.name)


def _description(error: HTTPException) -> str:
    """What the page says happened: the raiser's own words, or the standard ones translated."""
    description = error.description or ""
    if description in CSRF_REASONS:
        return str(CSRF_REASONS[description])
    texts = ERROR_TEXTS.get(error.code or 0)
    if texts and "description" not in vars(error):  # Werkzeug's default, in English
        return str(texts[1])
    return description


def register_error_handlers(app: Flask) -> None:
    @app.errorhandler(HTTPException)
    def handle_http_error(error: HTTPException):
        # The API answers in English: clients read codes, not prose.
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
                title=_title(error),
                description=_description(error),
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
        # No database while rendering (the failure may be the database): the page's language is
        # chosen without loading the user (foundations.i18n), the header without the user menu.
        g.minimal_chrome = True
        return render_template("errors/500.html"), 500
