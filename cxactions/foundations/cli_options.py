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


def write_report(text: str, rows: int, output: str | None) -> None:
    """Print a report, or write it to ``output`` and say so on stderr."""
    if output:
        with open(output, "w", encoding="utf-8", newline="") as handle:
            handle.write(text if text.endswith("\n") else text + "\n")
        click.echo(f"{rows} rows written to {output}", err=True)
    else:
        click.echo(text.rstrip("\n"))
