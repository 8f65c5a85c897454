"""Options and table/JSON helpers shared by the commands that print reports (`impact`,
`drivers`, `challenges`)."""

from __future__ import annotations

import json
import math
from collections.abc import Iterable

import click
import pandas as pd

from cxactions.foundations.csv_export import frame_csv_text

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


def _cell(value) -> str:
    if value is None or value is pd.NA or (isinstance(value, float) and math.isnan(value)):
        return ""
    if isinstance(value, float):
        return f"{value:.4f}"
    return str(value)


def frame_table(frame) -> str:
    """A data frame as a plain-text table (columns at most 48 characters wide)."""
    headers = list(frame.columns)
    rows = [[_cell(value) for value in row] for row in frame.itertuples(index=False)]
    widths = [max([len(h)] + [len(r[i]) for r in rows]) for i, h in enumerate(headers)]
    widths = [min(width, 48) for width in widths]
    lines = ["  ".join(h.ljust(w) for h, w in zip(headers, widths, strict=True))]
    lines.append("  ".join("-" * w for w in widths))
    for row in rows:
        lines.append("  ".join(c[:w].ljust(w) for c, w in zip(row, widths, strict=True)))
    return "\n".join(lines)


def frame_records(frame) -> list[dict]:
    """A data frame as JSON-ready records: numpy scalars as Python numbers, NaN/NA as None."""
    records = []
    for record in frame.to_dict(orient="records"):
        clean = {}
        for key, value in record.items():
            if hasattr(value, "item"):
                value = value.item()
            if value is pd.NA or (isinstance(value, float) and math.isnan(value)):
                value = None
            clean[key] = value
        records.append(clean)
    return records


def frame_report(
    frame,
    output_format: str,
    *,
    about: dict,
    notes: Iterable[str] = (),
    table=None,
    summary: str = "",
) -> str:
    """A report in the contract's formats: the frame as CSV; as JSON, ``about`` with the rows as
    ``results`` and the notes; as a table, ``table`` (the frame unless given), then after a
    blank line the ``summary`` and one line per note."""
    notes = list(notes)
    if output_format == "csv":
        return frame_csv_text(frame)
    if output_format == "json":
        payload = {**about, "results": frame_records(frame), "notes": notes}
        return json.dumps(payload, ensure_ascii=False, indent=2)
    footer = ([summary] if summary else []) + [f"note: {note}" for note in notes]
    text = frame_table(frame if table is None else table)
    return text + "\n\n" + "\n".join(footer) if footer else text
