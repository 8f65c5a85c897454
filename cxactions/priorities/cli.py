"""``cxactions challenges --unit UNIT_ID``: the unit's active challenges with their evidence."""

from __future__ import annotations

import json

import click
from flask.cli import with_appcontext

from cxactions.foundations.cli_options import format_option
from cxactions.foundations.csv_export import csv_text
from cxactions.foundations.extensions import db
from cxactions.priorities.services import unit_priorities
from cxactions.units.services import get_unit

CSV_COLUMNS = [
    "unit_id",
    "challenge_id",
    "name",
    "priority",
    "rank",
    "evidence",
    "kind",
    "solutions",
]


@click.command("challenges")
@click.option("--unit", "unit_code", required=True, help="The unit_id of the unit.")
@click.option(
    "--weeks",
    type=click.IntRange(1, 520),
    default=8,
    show_default=True,
    help="Weeks of data up to the latest one.",
)
@format_option
@with_appcontext
def challenges_command(unit_code: str, weeks: int, output_format: str) -> None:
    """The unit's active challenges, highest priority first, with their evidence.

    Without signals configured (or none hit), the unit's weakest drivers against its peers.
    """

    unit = get_unit(db.session, unit_code)
    if unit is None:
        raise click.ClickException(f"There is no unit with the unit_id {unit_code!r}.")
    priorities = unit_priorities(db.session, unit, weeks=weeks)
    if output_format == "json":
        click.echo(json.dumps(priorities.as_dict(), ensure_ascii=False))
    elif output_format == "csv":
        click.echo(priorities_csv(priorities), nl=False)
    else:
        click.echo(priorities_table(priorities))


def priorities_csv(priorities) -> str:
    """Challenges by rank, then (when they stand in) the weakest drivers, unranked."""
    code = priorities.unit.code
    rows = [
        [
            code,
            item.code,
            item.name,
            f"{item.priority:.4f}",
            rank,
            " | ".join(evidence.sentence for evidence in item.evidence),
            "challenge",
            ";".join(entry.solution.code for entry in item.solutions),
        ]
        for rank, item in enumerate(priorities.challenges, start=1)
    ]
    if priorities.show_weakest:
        rows += [
            [code, "", item.metric.label, f"{item.score:.4f}", "", item.sentence, "driver", ""]
            for item in priorities.weakest
        ]
    return csv_text(CSV_COLUMNS, rows)


def priorities_table(priorities) -> str:
    lines = [f"{priorities.unit.name} ({priorities.unit.code})"]
    if priorities.as_of is None:
        lines.append("No survey or operational data yet.")
        return "\n".join(lines)
    lines.append(
        f"Weeks of {priorities.window_start:%Y-%m-%d} to {priorities.window_end:%Y-%m-%d}, "
        f"against {priorities.peers - 1} other {priorities.unit_word} in {priorities.peer_label}"
        f"; {priorities.comments} comments read."
    )
    if priorities.weights_from == "equal":
        lines.append("Every metric weighs the same (no driver analysis yet).")
    if not priorities.challenges:
        lines.append(
            "No active challenge."
            if priorities.signals_configured
            else "No challenge signals are configured."
        )
    for rank, item in enumerate(priorities.challenges, start=1):
        lines.append("")
        lines.append(f"{rank:>2}. {item.name} [{item.code}]  priority {item.priority:.2f}")
        for evidence in item.evidence:
            lines.append(f"    - {evidence.sentence}")
            for example in evidence.examples:
                lines.append(f"        “{example}”")
        if item.solutions:
            lines.append("    Solutions, best evidence first:")
            for entry in item.solutions[:5]:
                lines.append(f"      {entry.solution.code:<24} {entry.solution.title}")
    if priorities.show_weakest:
        lines.append("")
        lines.append("Weakest drivers against peers (not linked to a challenge):")
        for item in priorities.weakest:
            lines.append(f"    - {item.sentence}")
    return "\n".join(lines)
