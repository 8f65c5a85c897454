"""The interface's languages: which one a request is served in, and words formatted for it.

The language comes from the signed-in user's saved choice, else the ``cxactions_lang`` cookie
(set by the switch in the header, so it also serves the sign-in page), else the browser's
``Accept-Language``, else English. Flask-Babel translates with the catalogues under
``cxactions/translations`` (the ``.po`` files are committed; ``make`` compiles the ``.mo``).
"""

from __future__ import annotations

from flask import Flask, g, has_request_context, request
from flask_babel import Babel, get_locale, gettext, ngettext, refresh
from flask_login import current_user
from sqlalchemy.exc import SQLAlchemyError

from cxactions.foundations import translation

# The interface's languages, each named in itself (the switch shows the name a reader knows).
LANGUAGES = {"en": "English", "fr": "Français"}
DEFAULT_LANGUAGE = "en"
LANGUAGE_COOKIE = "cxactions_lang"
LANGUAGE_COOKIE_AGE = 365 * 24 * 3600

babel = Babel()


def init_app(app: Flask) -> None:
    """Flask-Babel with this module's locale selector, and the pure modules' seam behind it."""
    babel.init_app(app, locale_selector=select_locale)
    # Flask-Babel keeps the chosen locale on ``g``: choose afresh for every request, even when
    # requests share an application context (a test client, a script calling the app).
    app.before_request(refresh)
    # {% trans %} blocks are extracted and looked up with their whitespace collapsed.
    app.jinja_env.policies["ext.i18n.trimmed"] = True
    install_translation()


def install_translation() -> None:
    """Serve the pure modules' messages (``foundations.translation``) through Flask-Babel."""
    translation.install(gettext, ngettext, current_language)


def supported(language: str | None) -> str | None:
    """``language`` if the interface speaks it, else None."""
    return language if language in LANGUAGES else None


def select_locale() -> str:
    """The language of this request (Flask-Babel's locale selector)."""
    if not has_request_context():
        return DEFAULT_LANGUAGE
    saved = _saved_choice()
    return (
        saved
        or supported(request.cookies.get(LANGUAGE_COOKIE))
        or request.accept_languages.best_match(LANGUAGES)
        or DEFAULT_LANGUAGE
    )


def _saved_choice() -> str | None:
    # A failing page (500) may not reach the database: the user is read only when it can be.
    if g.get("minimal_chrome"):
        user = g.get("_login_user")
    else:
        try:
            user = current_user._get_current_object()
        except SQLAlchemyError:
            return None
    if user is None or not getattr(user, "is_authenticated", False):
        return None
    return supported(getattr(user, "locale", None))


def current_language() -> str:
    """The two-letter code of the page's language (``<html lang>``)."""
    locale = get_locale() if has_request_context() else None
    return locale.language if locale is not None else DEFAULT_LANGUAGE


def other_languages() -> list[tuple[str, str]]:
    """The languages the switch offers: every one but the page's, as (code, own name)."""
    here = current_language()
    return [(code, name) for code, name in LANGUAGES.items() if code != here]
