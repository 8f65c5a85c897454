"""Benchmark: ``cxactions import responses`` on 1,000,000 responses, against a floor.

Generates ~1,000 units and 1,000,000 survey responses (3 drivers, English and French
comments, some with commas, quotes and line breaks) in a temporary folder, then runs, each in a
subprocess with a fresh ``CXACTIONS_INSTANCE_PATH`` (SQLite):

    cxactions init
    cxactions import units units.csv
    cxactions import responses responses.csv      <- timed, peak RSS

The floor reads the same file with ``csv.reader`` and loads it with one ``sqlite3.executemany``
into a table with the same columns, a primary key and a (unit, date) index, in one transaction.

    python bench/import_responses.py                   # 1,000,000 rows, prints Markdown
    python bench/import_responses.py --size-mb 200     # also stream a ~200 MB file
    python bench/import_responses.py --size-mb 200 --write-results   # update bench/RESULTS.md

Nothing is written inside the repository except ``bench/RESULTS.md`` with ``--write-results``.
"""

from __future__ import annotations

import argparse
import csv
import datetime as dt
import os
import platform
import random
import resource
import shutil
import sqlite3
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from results_file import write_section  # noqa: E402  (bench/ is the script's folder)

HEADING = "## Import: 1,000,000 responses"
DRIVERS = ["wait_time_rating", "staff_rating", "cleanliness_rating"]
COMMENTS = [
    "Quick checkout, friendly staff.",
    "Long queue at the till, only one cashier.",
    'The "express" lane was closed again',
    "Could not find anyone to help me in the garden section.\nI left without buying.",
    "Store was clean and well organised",
    "File d'attente trop longue à la caisse.",
    "Personnel très aimable, merci !",
    "Rayon vide, produit en rupture depuis deux semaines",
    "Pas de vendeur disponible, j'ai attendu 10 minutes",
    "Propre, bien rangé ; rien à redire",
]


def generate(folder: Path, rows: int, units: int, seed: int = 7) -> tuple[Path, Path]:
    """units.csv and responses.csv with realistic, reproducible data."""
    rng = random.Random(seed)
    units_path = folder / "units.csv"
    regions = max(1, units // 100)
    with units_path.open("w", newline="", encoding="utf-8") as handle:
        writer = csv.writer(handle)
        writer.writerow(["unit_id", "name", "parent_id", "kind"])
        for store in range(units):  # stores first: their regions come further down
            writer.writerow(
                [f"ST-{store:04d}", f"Store {store}", f"RG-{store % regions:02d}", "store"]
            )
        for region in range(regions):
            writer.writerow([f"RG-{region:02d}", f"Region {region}", "", "region"])
    responses_path = folder / "responses.csv"
    start = dt.datetime(2023, 1, 2)
    span = 730 * 86400
    with responses_path.open("w", newline="", encoding="utf-8") as handle:
        writer = csv.writer(handle)
        writer.writerow(["response_id", "unit_id", "responded_at", "overall", "comment", *DRIVERS])
        for number in range(rows):
            when = start + dt.timedelta(seconds=rng.randrange(span))
            scores = ["" if rng.random() < 0.15 else str(rng.randint(1, 10)) for _ in DRIVERS]
            writer.writerow(
                [
                    f"RSP-{number:08d}",
                    f"ST-{rng.randrange(units):04d}",
                    when.isoformat(timespec="seconds"),
                    rng.choice(["6", "7", "8", "9", "10", "7.5", "4", "5", "8.5", "3"]),
                    rng.choice(COMMENTS) if rng.random() < 0.6 else "",
                    *scores,
                ]
            )
    return units_path, responses_path


def cxactions_command() -> list[str]:
    script = Path(sys.executable).with_name("cxactions")
    if script.exists():
        return [str(script)]
    return [sys.executable, "-m", "flask", "--app", "cxactions"]


def run_cli(arguments: list[str], instance: Path) -> tuple[float, str, float]:
    """Run one ``cxactions`` command; returns wall time, stdout and the child's peak RSS (MB)."""
    environment = dict(os.environ)
    environment.pop("DATABASE_URL", None)
    environment.update(
        CXACTIONS_INSTANCE_PATH=str(instance),
        SECRET_KEY="benchmark-" + "x" * 32,
        CXACTIONS_ENV="production",
    )
    with tempfile.TemporaryFile("w+") as out, tempfile.TemporaryFile("w+") as err:
        started = time.perf_counter()
        process = subprocess.Popen(
            cxactions_command() + arguments, env=environment, stdout=out, stderr=err
        )
        # wait4 gives this child's own resource usage (RUSAGE_CHILDREN would mix in the others).
        _, status, usage = os.wait4(process.pid, 0)
        elapsed = time.perf_counter() - started
        process.returncode = os.waitstatus_to_exitcode(status)
        out.seek(0)
        err.seek(0)
        stdout, stderr = out.read(), err.read()
    if process.returncode != 0:
        raise SystemExit(f"{' '.join(arguments)} failed:\n{stderr[-3000:]}")
    return elapsed, stdout.strip(), usage.ru_maxrss / 1024  # KiB on Linux


def refresh_seconds(instance: Path) -> float:
    """How long refresh_unit_weeks takes over every unit of the loaded database (rolled back)."""
    code = (
        "import time\n"
        "from cxactions import create_app\n"
        "from cxactions.foundations.extensions import db\n"
        "from cxactions.surveys.aggregates import refresh_unit_weeks\n"
        "from cxactions.units.models import Unit\n"
        "import sqlalchemy as sa\n"
        "app = create_app()\n"
        "with app.app_context():\n"
        "    ids = db.session.scalars(sa.select(Unit.id)).all()\n"
        "    started = time.perf_counter()\n"
        "    refresh_unit_weeks(db.session, ids)\n"
        "    print(time.perf_counter() - started)\n"
        "    db.session.rollback()\n"
    )
    environment = dict(os.environ)
    environment.pop("DATABASE_URL", None)
    environment.update(CXACTIONS_INSTANCE_PATH=str(instance), SECRET_KEY="benchmark-" + "x" * 32)
    out = subprocess.run(
        [sys.executable, "-c", code], env=environment, capture_output=True, text=True, check=True
    )
    return float(out.stdout.strip().splitlines()[-1])


def floor(responses: Path, folder: Path) -> float:
    """csv.reader + one executemany into an equivalent table, one transaction."""
    path = folder / "floor.sqlite3"
    started = time.perf_counter()
    connection = sqlite3.connect(path)
    connection.execute("PRAGMA journal_mode = WAL")  # the app's own settings
    connection.execute("PRAGMA synchronous = NORMAL")
    connection.execute(
        "CREATE TABLE responses (response_key TEXT PRIMARY KEY, unit_id TEXT, responded_at TEXT,"
        " overall TEXT, comment TEXT, wait_time_rating TEXT, staff_rating TEXT,"
        " cleanliness_rating TEXT)"
    )
    connection.execute("CREATE INDEX ix_floor_unit_date ON responses (unit_id, responded_at)")
    with responses.open(newline="", encoding="utf-8") as handle:
        reader = csv.reader(handle)
        next(reader)
        with connection:
            connection.executemany("INSERT INTO responses VALUES (?, ?, ?, ?, ?, ?, ?, ?)", reader)
    connection.close()
    return time.perf_counter() - started


def peak_children_rss_mb() -> float:
    return resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss / 1024  # KiB on Linux


def measure(rows: int, units: int, folder: Path) -> dict:
    started = time.perf_counter()
    units_path, responses_path = generate(folder, rows, units)
    generated = time.perf_counter() - started
    instance = folder / "instance"
    run_cli(["init"], instance)
    units_seconds, _, _ = run_cli(["import", "units", str(units_path)], instance)
    seconds, summary, peak = run_cli(["import", "responses", str(responses_path)], instance)
    again_seconds, again_summary, _ = run_cli(
        ["import", "responses", str(responses_path)], instance
    )
    refresh = refresh_seconds(instance)
    floor_seconds = floor(responses_path, folder)
    return {
        "children_mb": peak_children_rss_mb(),
        "rows": rows,
        "units": units,
        "bytes": responses_path.stat().st_size,
        "generated": generated,
        "units_seconds": units_seconds,
        "seconds": seconds,
        "summary": summary,
        "peak_mb": peak,
        "again_seconds": again_seconds,
        "again_summary": again_summary,
        "refresh": refresh,
        "floor": floor_seconds,
    }


def rows_for_size(size_mb: int, folder: Path) -> int:
    """Rows that make a responses file of about ``size_mb`` MB (from a small sample)."""
    sample = folder / "sample"
    sample.mkdir()
    _, path = generate(sample, 20_000, 1_000)
    per_row = path.stat().st_size / 20_000
    shutil.rmtree(sample)
    return int(size_mb * 1024 * 1024 / per_row)


def machine() -> str:
    sqlite_version = sqlite3.sqlite_version
    return (
        f"{os.cpu_count()} cores ({platform.machine()}, {platform.system()}), "
        f"Python {platform.python_version()}, SQLite {sqlite_version}"
    )


def markdown(main: dict, big: dict | None) -> str:
    ratio = main["seconds"] / main["floor"]
    lines = [
        HEADING,
        "",
        f"Measured {dt.date.today().isoformat()} on {machine()} by `bench/import_responses.py`.",
        "",
        f"Data: {main['rows']:,} responses ({main['bytes'] / 1e6:.0f} MB CSV: 3 driver columns "
        f"with 15% empty cells, English and French comments on 60% of rows, some with commas, "
        f"quotes and line breaks) over {main['units']:,} stores; SQLite in a fresh "
        "`CXACTIONS_INSTANCE_PATH`; `IMPORT_CHUNK_ROWS` at its default (50,000).",
        "",
        "| step | time | note |",
        "| --- | ---: | --- |",
        f"| `cxactions import responses` (whole command, first load) | {main['seconds']:.1f} s | "
        f"{ratio:.2f}× the floor; peak RSS {main['peak_mb']:.0f} MB; includes the company "
        "driver weights stored for the pages |",
        f"| floor: `csv.reader` + one `sqlite3.executemany` (PK + (unit, date) index) | "
        f"{main['floor']:.1f} s | raw strings, no validation, no aggregates |",
        f"| of the import: `refresh_unit_weeks` over every unit | {main['refresh']:.1f} s | "
        "weekly sums of `overall` + 3 drivers, same transaction |",
        f"| `cxactions import responses` again (same file) | {main['again_seconds']:.1f} s | "
        "every row unchanged: nothing rewritten |",
        f"| `cxactions import units` ({main['units']:,} units + regions) | "
        f"{main['units_seconds']:.1f} s | |",
        "",
        f"Import output: `{main['summary']}`",
        "",
        f"Re-import output: `{main['again_summary']}`",
        "",
        f"Target: within 3× the floor — **{'met' if ratio <= 3 else 'missed'}** ({ratio:.2f}×). "
        "Peak RSS is the `ru_maxrss` of the `import responses` process alone (from `os.wait4`; "
        f"`getrusage(RUSAGE_CHILDREN)` over every child so far: {main['children_mb']:.0f} MB).",
    ]
    if big:
        lines += [
            "",
            f"### Streaming a {big['bytes'] / 1e6:.0f} MB file",
            "",
            f"{big['rows']:,} responses over {big['units']:,} stores: "
            f"`cxactions import responses` took {big['seconds']:.1f} s "
            f"({big['seconds'] / big['floor']:.2f}× its floor of {big['floor']:.1f} s) with a "
            f"peak RSS of **{big['peak_mb']:.0f} MB** (target < 1 GB): memory follows the "
            "chunk size, not the file size.",
        ]
    return "\n".join(lines) + "\n"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", type=int, default=1_000_000)
    parser.add_argument("--units", type=int, default=1_000)
    parser.add_argument("--size-mb", type=int, help="also stream a responses file of this size")
    parser.add_argument("--write-results", action="store_true", help="update bench/RESULTS.md")
    arguments = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="cxactions-bench-") as root:
        folder = Path(root) / "main"
        folder.mkdir()
        print(f"generating {arguments.rows:,} responses in {folder} ...", file=sys.stderr)
        main_run = measure(arguments.rows, arguments.units, folder)
        shutil.rmtree(folder)
        big = None
        if arguments.size_mb:
            folder = Path(root) / "big"
            folder.mkdir()
            rows = rows_for_size(arguments.size_mb, folder)
            print(f"generating a {arguments.size_mb} MB file ({rows:,} rows) ...", file=sys.stderr)
            big = measure(rows, arguments.units, folder)
    section = markdown(main_run, big)
    print(section)
    if arguments.write_results:
        write_section(HEADING, section)


if __name__ == "__main__":
    main()
