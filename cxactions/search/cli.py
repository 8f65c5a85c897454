"""``cxactions reindex`` and ``cxactions search``."""

from __future__ import annotations

import json

import click
from flask.cli import with_appcontext

from cxactions.foundations.extensions import db
from cxactions.library.models import SolutionKind
from cxactions.search.service import SearchUnavailable, rebuild_index, search


@click.command("reindex")
@with_appcontext
def reindex_command() -> None:
    """Rebuild the search index from the database."""

    count = rebuild_index()
    click.echo(f"Indexed {count} documents.")


@click.command("search")
@click.argument("query")
@click.option(
    "--kind",
    type=click.Choice([kind.value for kind in SolutionKind]),
    help="Only solutions of this kind.",
)
@click.option("--limit", type=click.IntRange(1, 1000), default=10, show_default=True)
@click.option(
    "--format",
    "output_format",
    type=click.Choice(["table", "json"]),
    default="table",
    show_default=True,
)
@with_appcontext
def search_command(query: str, kind: str | None, limit: int, output_format: str) -> None:
    """Search the library as the web page does."""

    try:
        result = search(db.session, query, kind=kind, limit=limit)
    except SearchUnavailable as error:
        raise click.ClickException(str(error)) from error
    if output_format == "json":
        click.echo(json.dumps(result.as_dict(), ensure_ascii=False))
        return
    if result.suggestion:
        click.echo(f"Did you mean: {result.suggestion}")
    if result.corrected:
        click.echo(f"Nothing matched {query!r}; showing results for {result.suggestion!r}.")
    elif result.relaxed:
        click.echo("No result has every word; these have some of them.")
    click.echo(f"{result.total} results for {query!r}")
    for hit in result.results:
        click.echo(f"{hit.score:8.3f}  {hit.type:<9} {hit.id:<24} {hit.title}")
