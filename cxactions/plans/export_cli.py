"""``cxactions plans export [--unit UNIT_ID] --output FILE``: every plan item in scope as CSV."""

from __future__ import annotations

import os

import click
from flask.cli import with_appcontext

from cxactions.foundations.csv_export import csv_chunks
from cxactions.foundations.extensions import db
from cxactions.plans import rollup
from cxactions.units.services import get_unit


@click.command("export")
@click.option(
    "--unit",
    "unit_code",
    metavar="UNIT_ID",
    help="Only this unit and every unit below it (default: every unit).",
)
@click.option(
    "--output",
    required=True,
    metavar="FILE",
    type=click.Path(dir_okay=False, writable=True, allow_dash=True),
    help="Write the CSV here ('-' for standard output).",
)
@with_appcontext
def export_command(unit_code: str | None, output: str) -> None:
    """Every plan item in scope as CSV, one row per item: unit_id, solution_id, challenge_id,
    status, owner, due_on, adopted_on, percent_complete, then names, due state, steps and dates.

    Cells that a spreadsheet would read as a formula are written as text.
    """

    roots = None
    if unit_code is not None:
        unit = get_unit(db.session, unit_code)
        if unit is None:
            raise click.ClickException(f"There is no unit with the unit_id {unit_code!r}.")
        roots = [unit.id]
    rows = 0

    def counted():
        nonlocal rows
        for row in rollup.export_rows(db.session, roots):
            rows += 1
            yield row

    pieces = csv_chunks(rollup.EXPORT_COLUMNS, counted())
    if output == "-":
        for piece in pieces:
            click.echo(piece, nl=False)
        return
    try:
        handle = open(output, "w", encoding="utf-8", newline="")  # noqa: SIM115  (closed below)
    except OSError as error:
        raise click.ClickException(f"cannot write {output}: {error.strerror or error}") from error
    try:
        with handle:
            for piece in pieces:
                handle.write(piece)
    except BaseException:
        # Half a file looks like a whole one in a spreadsheet: leave none.
        os.remove(output)
        raise
    click.echo(f"{rows} plan items written to {output}", err=True)


@click.group("plans")
def plans_group() -> None:
    """Action plans: ``cxactions plans export``."""


plans_group.add_command(export_command)
