"""Commands of the plans feature: ``cxactions reminders`` (see the contract)."""

from __future__ import annotations

from datetime import date, datetime

import click
from flask import current_app
from flask.cli import with_appcontext
from sqlalchemy.orm import Session

from cxactions.crowd.digest import (
    build_notification_digests,
    render_notifications,
    send_notification_digests,
)
from cxactions.foundations.extensions import db
from cxactions.impact.presenters import adoption_story
from cxactions.impact.services import ImpactSettings, freshness
from cxactions.plans.models import Adoption
from cxactions.plans.reminders import (
    Measurement,
    Measurements,
    Outcome,
    build_digests,
    render,
    send_digests,
)

NO_SMTP = "No SMTP server is configured (set CXACTIONS_SMTP_HOST): no reminders sent."


def impact_measurements(session: Session, config) -> Measurements:
    """The "did it work here?" figures of the impact pages (``/units/<code>/adoptions/<solution>``),
    for the digests: the unit's observed-minus-expected over its effect periods, with the
    solution's company-wide estimate from the newest impact run."""
    settings = ImpactSettings.from_config(config)
    fresh = freshness(session)

    def measure(adoption: Adoption) -> Measurement | None:
        story = adoption_story(session, adoption, fresh, settings)
        if story.reason is not None or story.after_gap is None:
            return None
        pooled = story.evidence
        estimate = pooled.estimate if pooled.has_interval else None
        return Measurement(
            here=story.after_gap,
            periods=story.after_periods,
            period=story.period,
            pooled_effect=estimate.effect if estimate is not None else None,
            pooled_low=estimate.ci_low if estimate is not None else None,
            pooled_high=estimate.ci_high if estimate is not None else None,
            pooled_units=pooled.n_units,
        )

    return Measurements(
        finished_at=fresh.run.finished_at if fresh.run is not None else None,
        period=settings.period,
        window=settings.window,
        measure=measure,
    )


@click.command("reminders")
@click.option(
    "--dry-run",
    is_flag=True,
    help="Print each e-mail that would be sent; send nothing and record nothing.",
)
@click.option(
    "--today",
    type=click.DateTime(formats=["%Y-%m-%d"]),
    default=None,
    help="The day the digests are for, YYYY-MM-DD: what is overdue or due within 7 days [today].",
)
@with_appcontext
def reminders_command(dry_run: bool, today: datetime | None) -> None:
    """E-mail each manager a digest of the due and overdue plan items of their units, and of
    the effects measured since their last digest; and everyone who asked for it, their new
    notifications."""

    config = current_app.config
    if not config.get("MAIL_SERVER"):
        click.echo(NO_SMTP)
        if not dry_run:
            return
    digests = build_digests(
        db.session,
        today=today.date() if today is not None else date.today(),
        base_url=config["BASE_URL"],
        measurements=impact_measurements(db.session, config),
    )
    quiet = sum(1 for digest in digests if digest.is_empty)
    if dry_run:
        _print_dry_run(digests, quiet)
        return

    def report(outcome: Outcome) -> None:
        digest = outcome.digest
        if outcome.sent:
            click.echo(f"sent to {digest.email}: {digest.counts()}")
        else:
            click.echo(f"not sent to {digest.email}: {outcome.error}", err=True)

    outcomes = send_digests(db.session, digests, report=report)
    failed = [outcome for outcome in outcomes if not outcome.sent]
    click.echo(
        f"Reminders: {len(outcomes) - len(failed)} sent, {len(failed)} failed, "
        f"{quiet} {'manager' if quiet == 1 else 'managers'} with nothing to report."
    )
    failed_notes = _send_notification_digests(config)
    if failed:
        raise click.ClickException(
            f"{len(failed)} of {len(outcomes)} digests not sent: {failed[0].error}"
        )
    if failed_notes:
        raise click.ClickException(
            f"{len(failed_notes)} notification digests not sent: {failed_notes[0].error}"
        )


def _send_notification_digests(config) -> list:
    """The notifications digest of those who asked for it; returns the failed outcomes."""
    digests = build_notification_digests(db.session, config["BASE_URL"])

    def report(outcome) -> None:
        digest = outcome.digest
        if outcome.sent:
            click.echo(f"notifications sent to {digest.email}: {digest.total}")
        else:
            click.echo(f"notifications not sent to {digest.email}: {outcome.error}", err=True)

    outcomes = send_notification_digests(db.session, digests, report=report)
    failed = [outcome for outcome in outcomes if not outcome.sent]
    click.echo(f"Notifications: {len(outcomes) - len(failed)} sent, {len(failed)} failed.")
    return failed


def _print_dry_run(digests, quiet: int) -> None:
    notes = build_notification_digests(db.session, current_app.config["BASE_URL"])
    for digest in notes:
        message = render_notifications(digest)
        click.echo(f"would send notifications to {digest.email}: {digest.total}")
        click.echo(f"  Subject: {message.subject}")
        for line in message.body.splitlines():
            click.echo(f"  | {line}".rstrip())
    due = [digest for digest in digests if not digest.is_empty]
    for digest in due:
        message = render(digest)
        click.echo(f"would send to {digest.email}: {digest.counts()}")
        click.echo(f"  Subject: {message.subject}")
        for line in message.body.splitlines():
            click.echo(f"  | {line}".rstrip())
    click.echo(
        f"Reminders (dry run, nothing sent): {len(due)} would be sent, "
        f"{quiet} {'manager' if quiet == 1 else 'managers'} with nothing to report."
    )
