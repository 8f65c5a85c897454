"""``cxactions impact``: estimate and rank solution impact (see the contract)."""

from __future__ import annotations

import sys

import click
from flask import current_app
from flask.cli import with_appcontext

from cxactions.analytics.estimators import (
    CONTROLS,
    DEFAULT_ESTIMATOR,
    ESTIMATORS,
    GROUP_ESTIMATORS,
    ImpactOptions,
)
from cxactions.analytics.panel import PERIODS
from cxactions.analytics.ranking import MIN_UNITS
from cxactions.foundations.cli_options import (
    format_option,
    frame_report,
    output_option,
    write_report,
)
from cxactions.foundations.extensions import db
from cxactions.impact.services import DETAILS, ImpactSettings, compute_impact, refresh_impact


class _StepBar:
    """A progress bar over the estimator's named steps, on stderr when someone watches."""

    def __init__(self, steps: int):
        self.enabled = sys.stderr.isatty()
        self.bar = (
            click.progressbar(length=steps, label="Estimating", file=sys.stderr)
            if self.enabled
            else None
        )
        self.done = 0

    def __enter__(self):
        if self.bar:
            self.bar.__enter__()
        return self

    def __exit__(self, *exc):
        if self.bar:
            self.bar.update(max(self.bar.length - self.done, 0))
            self.bar.__exit__(*exc)

    def __call__(self, label: str) -> None:
        if self.bar and self.done < self.bar.length:
            self.bar.label = label[:60]
            self.bar.update(1)
            self.done += 1


@click.command("impact")
@click.option("--period", type=click.Choice(PERIODS), default="week", show_default=True)
@click.option(
    "--window",
    type=click.IntRange(min=0),
    default=12,
    show_default=True,
    help="Post-adoption periods that count towards the effect; 0 = all.",
)
@click.option(
    "--anticipation",
    type=click.IntRange(min=0),
    default=None,
    help="Periods before adoption left out of the baseline [estimator's own].",
)
@click.option("--control", type=click.Choice(CONTROLS), default="notyet", show_default=True)
@click.option(
    "--estimator", type=click.Choice(ESTIMATORS), default=DEFAULT_ESTIMATOR, show_default=True
)
@click.option("--detail", type=click.Choice(DETAILS), default="summary", show_default=True)
@format_option
@output_option
@click.option(
    "--min-units",
    type=click.IntRange(min=1),
    default=MIN_UNITS,
    show_default=True,
    help="Adopting units a solution needs before it is ranked.",
)
@click.option(
    "--by",
    "by",
    type=click.Choice(["region"]),
    default=None,
    help="Add one row per solution and region (a unit's top-level ancestor) after the "
    "company-wide rows: the effect among that region's adopting units (summary only).",
)
@with_appcontext
def impact_command(
    period: str,
    window: int,
    anticipation: int | None,
    control: str,
    estimator: str,
    detail: str,
    output_format: str,
    output: str | None,
    min_units: int,
    by: str | None,
) -> None:
    """Estimate and rank the impact of every adopted solution on satisfaction."""

    by_region = by == "region"
    if by_region and detail != "summary":
        raise click.UsageError("--by region needs --detail summary")
    if by_region and estimator not in GROUP_ESTIMATORS:
        raise click.UsageError(
            f"--by region needs --estimator {' or '.join(GROUP_ESTIMATORS)}, not {estimator}"
        )
    try:
        options = ImpactOptions(window=window, anticipation=anticipation, control=control)
        with _StepBar(steps=8) as progress:
            report = compute_impact(
                db.session,
                estimator=estimator,
                period=period,
                options=options,
                min_units=min_units,
                progress=progress,
                by_region=by_region,
            )
    except ValueError as error:
        raise click.ClickException(str(error)) from error
    frame = report.rows(detail, by_region=by_region)
    about = {
        "estimator": estimator,
        "period": period,
        "window": window,
        "anticipation": report.result.options.anticipation,
        "control": control,
        "detail": detail,
        "min_units": min_units,
        "by": by,
    }
    text = frame_report(frame, output_format, about=about, notes=report.notes)
    write_report(text, len(frame), output)


@click.command("refresh-impact")
@with_appcontext
def refresh_impact_command() -> None:
    """Recompute the impact estimates the pages show (IMPACT_* settings) and store them."""

    settings = ImpactSettings.from_config(current_app.config)
    try:
        with _StepBar(steps=8) as progress:
            run = refresh_impact(db.session, settings, trigger="cli", progress=progress)
    except ValueError as error:
        raise click.ClickException(str(error)) from error
    if run is None:
        raise click.ClickException("another refresh is under way; try again when it has finished")
    ranked = sum(1 for estimate in run.estimates if estimate.rank is not None)
    click.echo(
        f"Impact estimates refreshed: {len(run.estimates)} solutions, {ranked} ranked "
        f"({run.seconds:.1f} s, data version {run.data_version})."
    )
