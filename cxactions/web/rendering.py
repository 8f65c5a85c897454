"""Turning user-written text into safe HTML, and the helpers every template can use."""

from __future__ import annotations

import functools
import threading
from datetime import datetime

import markdown as markdown_lib
import nh3
from flask import Flask, current_app, url_for
from markupsafe import Markup

from cxactions.auth.models import Role
from cxactions.auth.permissions import can
from cxactions.foundations import i18n, translation
from cxactions.foundations.db_types import utcnow
from cxactions.foundations.scales import describe_scale
from cxactions.foundations.vocabulary import label_of
from cxactions.library.services import language_name

# Tags a solution body may use once rendered from Markdown; everything else is stripped.
ALLOWED_TAGS = {
    "p", "br", "hr", "strong", "em", "b", "i", "code", "pre", "blockquote",
    "ul", "ol", "li", "h2", "h3", "h4", "h5", "a", "table", "thead", "tbody", "tr", "th", "td",
}  # fmt: skip
ALLOWED_ATTRIBUTES = {"a": {"href", "title"}}


# One Markdown converter per thread, reset between texts: building one per comment cost half of
# a long thread's page, and its garbage triggered full collections (bench/crowd.py).
_converters = threading.local()
# Rendered texts, by their Markdown: a page shows the same comments and bodies again and again.
RENDERED_CACHE = 4096


def _converter() -> markdown_lib.Markdown:
    converter = getattr(_converters, "markdown", None)
    if converter is None:
        converter = markdown_lib.Markdown(extensions=["sane_lists", "tables"], output_format="html")
        _converters.markdown = converter
    return converter


def render_markdown(text: str | None) -> Markup:
    """Markdown to HTML, sanitised: user-written text never carries script into a page."""
    if not text:
        return Markup("")
    return _render_markdown(text)


@functools.lru_cache(maxsize=RENDERED_CACHE)
def _render_markdown(text: str) -> Markup:
    html = _converter().reset().convert(text)
    clean = nh3.clean(
        html,
        tags=ALLOWED_TAGS,
        attributes=ALLOWED_ATTRIBUTES,
        url_schemes={"http", "https", "mailto"},
        link_rel="noopener noreferrer nofollow",
    )
    return Markup(clean)  # noqa: S704  (sanitised by nh3 just above)


def format_ago(value: datetime | None, now: datetime | None = None) -> str:
    """How long ago a naive UTC instant was, in the page's language."""
    return translation.format_ago(value, now or utcnow())


def feature_url(blueprint: str) -> str | None:
    """The landing page of a feature: its shortest GET route without arguments, if any.

    Lets the navigation link to a feature whose pages another team is still building without
    breaking when its endpoint names change.
    """
    candidates = [
        rule
        for rule in current_app.url_map.iter_rules()
        if rule.endpoint.startswith(f"{blueprint}.")
        and not rule.arguments
        and "GET" in (rule.methods or ())
    ]
    if not candidates:
        return None
    return url_for(min(candidates, key=lambda rule: (len(rule.rule), rule.rule)).endpoint)


def register_template_helpers(app: Flask) -> None:

    app.add_template_filter(render_markdown, "markdown")
    app.add_template_filter(translation.format_number, "number")
    app.add_template_filter(translation.format_score, "score")
    app.add_template_filter(translation.format_signed, "signed")
    app.add_template_filter(translation.format_percent, "percent")
    app.add_template_filter(translation.format_day, "day")
    app.add_template_filter(format_ago, "ago")
    app.add_template_filter(label_of, "humanize")
    app.add_template_filter(language_name, "language_name")
    app.add_template_filter(
        lambda metric: describe_scale(metric.scale_min, metric.scale_max), "scale"
    )
    app.add_template_global(i18n.current_language, "current_language")
    app.add_template_global(i18n.other_languages, "other_languages")
    app.add_template_global(translation.in_reader_language, "in_reader_language")
    app.add_template_global(can, "can")
    app.add_template_global(feature_url, "feature_url")
    app.add_template_global(Role, "Role")
