"""``cxactions drivers``: key-driver analysis of ``overall`` (see the contract)."""

from __future__ import annotations

import json

import click
from flask.cli import with_appcontext

from cxactions.drivers.services import driver_importance
from cxactions.foundations.cli_options import (
    format_option,
    frame_records,
    frame_table,
    output_option,
    write_report,
)
from cxactions.foundations.csv_export import frame_csv_text
from cxactions.foundations.extensions import db

METHOD_CHOICES = {"relative-weights": "relative_weights", "shapley": "shapley"}


@click.command("drivers")
@click.option("--region", "region", metavar="UNIT_ID", help="Only this unit and those below it.")
@click.option(
    "--weeks",
    type=click.IntRange(min=1),
    default=None,
    help="Only the last N weeks with responses [all].",
)
@click.option(
    "--method",
    type=click.Choice(list(METHOD_CHOICES)),
    default="relative-weights",
    show_default=True,
    help="Johnson's relative weights, or the exact Shapley (LMG) decomposition of R².",
)
@format_option
@output_option
@with_appcontext
def drivers_command(
    region: str | None, weeks: int | None, method: str, output_format: str, output: str | None
) -> None:
    """Rank the drivers and operational inputs by their importance for overall satisfaction."""

    try:
        report = driver_importance(
            db.session, region_code=region, weeks=weeks, method=METHOD_CHOICES[method]
        )
    except ValueError as error:
        raise click.ClickException(str(error)) from error
    frame = report.rows
    if output_format == "csv":
        text = frame_csv_text(frame)
    elif output_format == "json":
        text = json.dumps(
            {
                "outcome": "overall",
                "method": method,
                "region": region,
                "weeks": weeks,
                "r_squared": report.r_squared,
                "unit_weeks": report.n_unit_weeks,
                "responses": report.n_responses,
                "results": frame_records(frame),
                "notes": report.notes,
            },
            ensure_ascii=False,
            indent=2,
        )
    else:
        shown = frame[["driver", "importance", "rank", "label", "kind", "performance", "target",
                       "quadrant"]]  # fmt: skip
        text = frame_table(shown)
        text += (
            f"\n\nR² = {report.r_squared:.3f} over {report.n_unit_weeks} unit-weeks "
            f"({report.n_responses} responses), method: {method}"
        )
        if report.notes:
            text += "\n" + "\n".join(f"note: {note}" for note in report.notes)
    write_report(text, len(frame), output)
