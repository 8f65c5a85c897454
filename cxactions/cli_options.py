"""Options shared by the commands that print reports (`impact`, `drivers`, `challenges`)."""

from __future__ import annotations

import click

# --format table|csv|json [table], as the contract names it.
format_option = click.option(
    "--format",
    "output_format",
    type=click.Choice(["table", "csv", "json"]),
    default="table",
    show_default=True,
)
# --output FILE: write the report there instead of stdout.
output_option = click.option(
    "--output", type=click.Path(dir_okay=False, writable=True), help="Write here."
)
