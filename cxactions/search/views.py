"""The search page and its JSON twin: the request's arguments in, the search service's answer out."""

from __future__ import annotations

from flask import Blueprint, jsonify, render_template, request
from flask_login import current_user

from cxactions.auth.models import Role
from cxactions.auth.permissions import is_curator, require_role
from cxactions.foundations.extensions import db
from cxactions.foundations.vocabulary import SolutionKind
from cxactions.search.engine import SORTS
from cxactions.search.presenters import (
    SORT_LABELS,
    STATUSES,
    TYPES,
    ResultPages,
    SearchRequest,
    categories,
    facet_labels,
    hit_url,
)
from cxactions.search.service import SearchUnavailable, search

bp = Blueprint("search", __name__)


@bp.get("/search")
@require_role(Role.STAFF)
def search_library():
    known_categories = categories(db.session)
    search_request = SearchRequest.from_args(
        request.args, curator=is_curator(current_user), known_categories=known_categories
    )
    result, unavailable = None, None
    try:
        result = search(
            db.session, search_request.query, search_request.options, facets=True, snippets=True
        )
    except SearchUnavailable as error:
        unavailable = str(error)
    return (
        render_template(
            "search/search.html",
            search=search_request,
            result=result,
            pages=ResultPages.of(result) if result else None,
            unavailable=unavailable,
            categories=known_categories,
            labels=facet_labels(known_categories),
            kinds=list(SolutionKind),
            types=TYPES,
            statuses=STATUSES,
            sorts={name: SORT_LABELS[name] for name in SORTS},
            hit_url=hit_url,
        ),
        503 if unavailable else 200,
    )


@bp.get("/search.json")
@require_role(Role.STAFF)
def search_json():
    """The contract's JSON (``cxactions search --format json``) plus the page's extras."""
    search_request = SearchRequest.from_args(
        request.args, curator=is_curator(current_user), known_categories=categories(db.session)
    )
    try:
        result = search(
            db.session, search_request.query, search_request.options, facets=True, snippets=True
        )
    except SearchUnavailable as error:
        return jsonify(error=str(error)), 503
    payload = result.as_dict()
    for item, hit in zip(payload["results"], result.results, strict=True):
        item.update(kind=hit.kind, status=hit.status, url=hit_url(hit), snippet=hit.snippet)
    payload.update(
        page=result.options.page,
        pages=result.pages,
        per_page=result.options.per_page,
        corrected=result.corrected,
        relaxed=result.relaxed,
        facets={
            name: [{"value": value.value, "count": value.count} for value in values]
            for name, values in result.facets.items()
        },
    )
    return jsonify(payload)
