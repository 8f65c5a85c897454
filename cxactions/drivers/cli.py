"""``cxactions drivers``: key-driver analysis of ``overall`` (see the contract)."""

from __future__ import annotations

import click
from flask.cli import with_appcontext

from cxactions.drivers.services import driver_importance
from cxactions.foundations.cli_options import (
    format_option,
    frame_report,
    output_option,
    write_report,
)
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
    about = {
        "outcome": "overall",
        "method": method,
        "region": region,
        "weeks": weeks,
        "r_squared": report.r_squared,
        "unit_weeks": report.n_unit_weeks,
        "responses": report.n_responses,
    }
    shown = frame[["driver", "importance", "rank", "label", "kind", "performance", "target",
                   "quadrant"]]  # fmt: skip
    summary = (
        f"R² = {report.r_squared:.3f} over {report.n_unit_weeks} unit-weeks "
        f"({report.n_responses} responses), method: {method}"
    )
    text = frame_report(
        frame, output_format, about=about, notes=report.notes, table=shown, summary=summary
    )
    write_report(text, len(frame), output)
