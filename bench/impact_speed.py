"""Benchmark: the default impact estimator end to end from the database, on SQLite and PostgreSQL.

For each size (small: 400 stores in 4 regions x 104 weeks x 30 solutions; large: 5,000 stores in
50 regions x 156 weeks x 300 solutions; about 12 responses per store-week) and each database:

1. ``cxactions init`` creates the schema (a fresh ``CXACTIONS_INSTANCE_PATH`` for SQLite, a
   throwaway PostgreSQL database for PostgreSQL);
2. units (regions, then stores), solutions, responses and adoptions (5-40 adopting stores per
   solution, up to 4 solutions per store, 90% implemented) are generated with numpy and
   bulk-loaded: ``sqlite3.executemany`` / PostgreSQL ``COPY``, in chunks. Not through the CSV
   import (``bench/import_responses.py`` measures that);
3. ``unit_week_scores`` is filled by the app's own ``refresh_unit_weeks`` in an app context, as
   every import keeps it up to date;
4. timed: ``cxactions impact --format csv --output FILE`` (the default estimator, weekly, window
   12) in a fresh process, process start included, ``--runs`` times (median wall time; peak RSS
   of each process from ``os.wait4``); ``cxactions refresh-impact`` once at the large size (the
   cached path the pages read); and, at the large size, one run split into steps (imports,
   reading, panel, estimator, ranking) with the process's RSS after each.

The ``cs`` on ``mpdta`` figure comes from ``bench/cs_mpdta_speed.py`` (run as it is).

    python bench/impact_speed.py                        # both sizes, SQLite and PostgreSQL
    python bench/impact_speed.py --sizes small          # quick
    python bench/impact_speed.py --databases sqlite     # no PostgreSQL
    python bench/impact_speed.py --write-results        # update bench/RESULTS.md

PostgreSQL: ``--postgres postgresql://postgres@127.0.0.1:5432/test`` (the default) is the
maintenance connection used to create and drop the throwaway databases ``cxbench_*``.
Temporary folders and databases are removed at the end; nothing is written in the repository
except the sections ``## Impact: speed`` and ``## Impact: cs on mpdta ...`` of
``bench/RESULTS.md`` with ``--write-results``.
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import os
import platform
import re
import shutil
import sqlite3
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import numpy as np
from results_file import write_section  # noqa: E402  (bench/ is the script's folder)

HEADING = "## Impact: speed"
CS_HEADING = "## Impact: cs on mpdta"
CS_SCRIPT = Path(__file__).with_name("cs_mpdta_speed.py")
START = np.datetime64("2023-01-02", "D")  # a Monday
STAMP = "2024-01-01 00:00:00.000000"
TARGETS = {"small": (2.0, None), "large": (10.0, 1024.0)}  # seconds, MB


@dataclass(frozen=True)
class Size:
    name: str
    units: int
    regions: int
    weeks: int
    solutions: int
    responses_per_week: float = 12.0
    chunk_units: int = 250  # stores generated and loaded at a time


SIZES = {
    "small": Size("small", units=400, regions=4, weeks=104, solutions=30),
    "large": Size("large", units=5_000, regions=50, weeks=156, solutions=300),
}


# --------------------------------------------------------------------------------------------
# Data.


@dataclass
class Data:
    size: Size
    units: list[tuple]
    solutions: list[tuple]
    adoptions: list[tuple]
    implemented: int
    level: np.ndarray  # per store
    season: np.ndarray  # regions x weeks
    effect: np.ndarray  # stores x weeks: the sum of the solutions in effect
    store_region: np.ndarray
    seed: int


def generate(size: Size, seed: int = 11) -> Data:
    """Units, solutions and adoptions as rows; what the responses are drawn from."""
    rng = np.random.default_rng(seed)
    regions = [
        (r + 1, f"RG-{r:02d}", f"Region {r}", "region", None, STAMP) for r in range(size.regions)
    ]
    store_region = np.arange(size.units) % size.regions
    stores = [
        (
            size.regions + s + 1,
            f"ST-{s:05d}",
            f"Store {s}",
            "store",
            int(store_region[s]) + 1,
            STAMP,
        )
        for s in range(size.units)
    ]
    solutions = [
        (k + 1, f"SOL-{k:03d}", "training", f"Solution {k}", "en", "approved", STAMP, STAMP)
        for k in range(size.solutions)
    ]
    # 5-40 adopters per solution among stores with fewer than 4 solutions; a quarter never adopt.
    taken = np.zeros(size.units, dtype=np.int64)
    candidates = rng.permutation(size.units)[: int(size.units * 0.75)]
    planted = rng.uniform(-0.3, 0.8, size.solutions)
    effect = np.zeros((size.units, size.weeks))
    adoptions = []
    implemented = 0
    statuses = np.array(["implemented", "planned", "in_progress", "abandoned"])
    for solution in range(size.solutions):
        free = candidates[taken[candidates] < 4]
        count = min(int(rng.integers(5, 41)), free.size)
        for store in rng.choice(free, size=count, replace=False):
            taken[store] += 1
            week = int(rng.integers(8, size.weeks))
            day = START + np.timedelta64(week * 7 + int(rng.integers(0, 7)), "D")
            status = str(statuses[rng.choice(4, p=[0.9, 0.04, 0.03, 0.03])])
            if status == "implemented":
                effect[store, week:] += planted[solution]
                implemented += 1
            adoptions.append(
                (
                    len(adoptions) + 1,
                    size.regions + int(store) + 1,
                    solution + 1,
                    status,
                    str(day),
                    STAMP,
                    STAMP,
                )
            )
    weeks = np.arange(size.weeks)
    season = (
        0.35 * np.sin(2 * np.pi * (weeks * 7 - 60) / 365.25)[None, :]
        + rng.normal(0, 0.1, (size.regions, size.weeks)).cumsum(axis=1) * 0.2
    )
    return Data(
        size=size,
        units=regions + stores,
        solutions=solutions,
        adoptions=adoptions,
        implemented=implemented,
        level=rng.normal(0, 0.3, size.units),
        season=season,
        effect=effect,
        store_region=store_region,
        seed=seed,
    )


def response_chunks(data: Data) -> Iterator[dict[str, np.ndarray]]:
    """Responses, a few hundred stores at a time, in store then week order."""
    size = data.size
    rng = np.random.default_rng(data.seed + 1)
    n_days = size.weeks * 7
    day_text = np.datetime_as_string(START + np.arange(n_days).astype("timedelta64[D]"))
    minutes = np.arange(8 * 60, 22 * 60)
    clock = np.array([f" {m // 60:02d}:{m % 60:02d}:00" for m in minutes])
    next_id = 1
    for first in range(0, size.units, size.chunk_units):
        stores = np.arange(first, min(first + size.chunk_units, size.units))
        counts = np.maximum(rng.poisson(size.responses_per_week, (stores.size, size.weeks)), 1)
        total = int(counts.sum())
        store = np.repeat(np.repeat(stores, size.weeks), counts.ravel())
        week = np.repeat(np.tile(np.arange(size.weeks), stores.size), counts.ravel())
        latent = (
            7.4
            + data.level[store]
            + data.season[data.store_region[store], week]
            + data.effect[store, week]
        )
        overall = np.clip(np.rint(latent + rng.normal(0, 1.8, total)), 0, 10)
        day = week * 7 + rng.integers(0, 7, total)
        minute = rng.integers(0, minutes.size, total)
        ids = np.arange(next_id, next_id + total)
        next_id += total
        yield {
            "id": ids,
            # Zero-padded: keys then sort as they are inserted, like real sequential ids.
            "response_key": np.strings.add("R", np.strings.zfill(ids.astype(str), 10)),
            "unit_id": store + size.regions + 1,
            "responded_on": day_text[day],
            "responded_at": np.strings.add(day_text[day], clock[minute]),
            "overall": overall,
        }


RESPONSE_COLUMNS = ["id", "response_key", "unit_id", "responded_on", "responded_at", "overall"]
UNIT_SQL = "INSERT INTO units (id, code, name, kind, parent_id, created_at) VALUES ({})"
SOLUTION_SQL = (
    "INSERT INTO solutions (id, code, kind, title, language, status, created_at, updated_at) "
    "VALUES ({})"
)
ADOPTION_SQL = (
    "INSERT INTO adoptions (id, unit_id, solution_id, status, effective_on, created_at, "
    "updated_at) VALUES ({})"
)


def load_sqlite(path: Path, data: Data) -> int:
    connection = sqlite3.connect(path)
    connection.execute("PRAGMA synchronous = OFF")  # this loading connection only
    connection.execute("PRAGMA cache_size = -400000")  # 400 MB for the index pages
    rows = 0
    with connection:
        connection.executemany(UNIT_SQL.format(",".join("?" * 6)), data.units)
        connection.executemany(SOLUTION_SQL.format(",".join("?" * 8)), data.solutions)
        connection.executemany(ADOPTION_SQL.format(",".join("?" * 7)), data.adoptions)
    insert = f"INSERT INTO responses ({', '.join(RESPONSE_COLUMNS)}) VALUES (?, ?, ?, ?, ?, ?)"
    for chunk in response_chunks(data):
        with connection:
            connection.executemany(
                insert, zip(*(chunk[column].tolist() for column in RESPONSE_COLUMNS), strict=True)
            )
        rows += chunk["id"].size
    connection.close()
    return rows


def load_postgres(url: str, data: Data) -> int:
    """COPY the responses with their unique, foreign-key and secondary indexes set aside, then
    put the very same definitions back (one pass each instead of one check per row)."""
    import psycopg

    rows = 0
    with psycopg.connect(url) as connection:
        with connection.cursor() as cursor:
            cursor.execute("SET synchronous_commit = off")
            cursor.executemany(UNIT_SQL.format(",".join(["%s"] * 6)), data.units)
            cursor.executemany(SOLUTION_SQL.format(",".join(["%s"] * 8)), data.solutions)
            cursor.executemany(ADOPTION_SQL.format(",".join(["%s"] * 7)), data.adoptions)
            constraints = cursor.execute(
                "SELECT conname, pg_get_constraintdef(oid) FROM pg_constraint "
                "WHERE conrelid = 'responses'::regclass AND contype IN ('u', 'f')"
            ).fetchall()
            indexes = cursor.execute(
                "SELECT indexname, indexdef FROM pg_indexes WHERE tablename = 'responses' "
                "AND indexname NOT IN (SELECT conname FROM pg_constraint "
                "WHERE conrelid = 'responses'::regclass)"
            ).fetchall()
            for name, _ in constraints:
                cursor.execute(f'ALTER TABLE responses DROP CONSTRAINT "{name}"')
            for name, _ in indexes:
                cursor.execute(f'DROP INDEX "{name}"')
            copy_sql = f"COPY responses ({', '.join(RESPONSE_COLUMNS)}) FROM STDIN"
            for chunk in response_chunks(data):
                text = chunk["id"].astype(str)
                for column in RESPONSE_COLUMNS[1:]:
                    values = chunk[column]
                    if values.dtype.kind != "U":
                        values = values.astype(np.int64 if column == "unit_id" else float)
                        values = values.astype(str)
                    text = np.strings.add(np.strings.add(text, "\t"), values)
                with cursor.copy(copy_sql) as copy:
                    copy.write("\n".join(text.tolist()) + "\n")
                rows += chunk["id"].size
            cursor.execute("SET maintenance_work_mem = '512MB'")
            for name, definition in constraints:
                cursor.execute(f'ALTER TABLE responses ADD CONSTRAINT "{name}" {definition}')
            for _, definition in indexes:
                cursor.execute(definition)
            for table in ("units", "solutions", "adoptions", "responses"):
                cursor.execute(
                    f"SELECT setval(pg_get_serial_sequence('{table}', 'id'), "
                    f"(SELECT max(id) FROM {table}))"
                )
        connection.commit()
    return rows


# --------------------------------------------------------------------------------------------
# Processes.


def cxactions_command() -> list[str]:
    script = Path(sys.executable).with_name("cxactions")
    if script.exists():
        return [str(script)]
    return [sys.executable, "-m", "flask", "--app", "cxactions"]


@dataclass
class Target:
    """Where the app's data lives: a SQLite instance folder or a PostgreSQL database."""

    database: str  # sqlite | postgresql
    instance: Path
    url: str | None = None  # SQLAlchemy URL for the app
    direct: str | None = None  # plain libpq URL for psycopg

    def environment(self) -> dict[str, str]:
        environment = dict(os.environ)
        environment.pop("DATABASE_URL", None)
        environment.update(
            CXACTIONS_INSTANCE_PATH=str(self.instance),
            SECRET_KEY="benchmark-" + "x" * 32,
            CXACTIONS_ENV="production",
        )
        if self.url:
            environment["DATABASE_URL"] = self.url
        return environment


# Timed commands start from this small launcher, not from the benchmark itself: on Linux a
# child's ru_maxrss counts the memory of the process it was forked from until it execs (measured:
# /bin/true spawned by a process holding 800 MB reports 789 MB), so a big parent would inflate it.
LAUNCHER = """
import json, os, subprocess, sys, time
command, output = json.loads(sys.argv[1]), sys.argv[2]
with open(output, "w") as out:
    started = time.perf_counter()
    process = subprocess.Popen(command, stdout=out, stderr=subprocess.STDOUT)
    _, status, usage = os.wait4(process.pid, 0)
    elapsed = time.perf_counter() - started
cpu = usage.ru_utime + usage.ru_stime
print(json.dumps([elapsed, os.waitstatus_to_exitcode(status), usage.ru_maxrss, cpu]))
"""


def busy_cpu_seconds() -> float:
    """CPU time every process on the machine has used so far (from /proc/stat), in seconds."""
    with open("/proc/stat", encoding="ascii") as handle:
        fields = [int(value) for value in handle.readline().split()[1:]]
    idle = fields[3] + (fields[4] if len(fields) > 4 else 0)  # idle + iowait
    return (sum(fields[:8]) - idle) / os.sysconf("SC_CLK_TCK")


def wait_for_quiet(limit: float = 90.0, threshold: float = 0.15) -> float:
    """Wait (up to ``limit`` s) until other processes use under ``threshold`` of a core over a
    second; returns the share of a core they used in the last second sampled."""
    deadline = time.monotonic() + limit
    while True:
        before = busy_cpu_seconds()
        time.sleep(1.0)
        share = busy_cpu_seconds() - before
        if share < threshold or time.monotonic() > deadline:
            return share


def run(command: list[str], target: Target, usage: dict | None = None) -> tuple[float, str, float]:
    """Run a command; returns wall time, stdout + stderr and the child's own peak RSS (MB).

    ``usage`` (if given) receives the child's CPU seconds and the CPU seconds every other process
    on the machine used meanwhile (``other_cpu``): how busy the machine was during the timing.
    """
    with tempfile.NamedTemporaryFile("r", suffix=".log") as log:
        busy_before = busy_cpu_seconds()
        launched = subprocess.run(
            [sys.executable, "-S", "-c", LAUNCHER, json.dumps(command), log.name],
            env=target.environment(),
            cwd=target.instance.parent,  # not the checkout: ``python -c`` imports from the cwd
            capture_output=True,
            text=True,
            check=True,
        )
        busy = busy_cpu_seconds() - busy_before
        elapsed, code, peak, cpu = json.loads(launched.stdout)
        text = log.read()
    if usage is not None:
        usage["cpu"] = cpu
        usage["other_cpu"] = max(busy - cpu - 0.03, 0.0)  # ~0.03 s: the launcher itself
    if code != 0:
        raise SystemExit(f"{' '.join(command)} failed:\n{text[-3000:]}")
    return elapsed, text.strip(), peak / 1024  # KiB on Linux


REFRESH_CODE = """
import time
from cxactions import create_app
from cxactions.foundations.extensions import db
from cxactions.surveys.aggregates import refresh_unit_weeks
app = create_app()
with app.app_context():
    started = time.perf_counter()
    refresh_unit_weeks(db.session)
    db.session.commit()
    print(time.perf_counter() - started)
"""

# One run of the impact command's work, step by step, with the process's RSS after each.
STEPS_CODE = """
import json, resource, time
started = time.perf_counter()
steps = []
def rss():
    with open("/proc/self/status") as handle:
        for line in handle:
            if line.startswith("VmRSS:"):
                return int(line.split()[1]) / 1024
def mark(name):
    global started
    now = time.perf_counter()
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    steps.append([name, now - started, rss(), peak])
    started = now
from cxactions import create_app
from cxactions.foundations.extensions import db
from cxactions.analytics import data, impact, panel, ranking
mark("imports (Flask, SQLAlchemy, pandas, scipy, cxactions)")
app = create_app()
mark("create_app")
with app.app_context():
    regions = data.unit_regions(db.session)
    adoptions = data.implemented_adoptions(db.session)
    mark("read units and adoptions")
    cells = data.panel_cells(db.session, "week")
    mark(f"read unit_week_scores ({len(cells):,} rows)")
    built = panel.build_panel(cells, regions, adoptions, "week")
    del cells
    mark("build_panel")
    result = impact.estimate(built, "imputation", impact.ImpactOptions(window=12))
    mark("estimate (imputation)")
    ranked, prior = ranking.rank_on_evidence(result.summary, shrink=True)
    mark("rank_on_evidence")
print(json.dumps(steps))
"""


def postgres_admin(url: str, statement: str) -> None:
    import psycopg

    with psycopg.connect(url, autocommit=True) as connection:
        connection.execute(statement)


def server_version(url: str) -> str:
    import psycopg

    with psycopg.connect(url) as connection:
        return str(connection.execute("SHOW server_version").fetchone()[0]).split()[0]


# --------------------------------------------------------------------------------------------
# One size on one database.


def measure(size: Size, database: str, root: Path, admin: str, runs: int, data: Data) -> dict:
    folder = root / f"{size.name}-{database}"
    folder.mkdir()
    target = Target(database, folder / "instance")
    name = None
    if database == "postgresql":
        name = f"cxbench_{size.name}_{os.getpid()}"
        postgres_admin(admin, f"DROP DATABASE IF EXISTS {name}")
        postgres_admin(admin, f"CREATE DATABASE {name}")
        target.direct = admin.rsplit("/", 1)[0] + "/" + name
        target.url = target.direct.replace("postgresql://", "postgresql+psycopg://", 1)
    try:
        return _measure(size, target, folder, runs, data)
    finally:
        if name:
            postgres_admin(admin, f"DROP DATABASE IF EXISTS {name} WITH (FORCE)")
        shutil.rmtree(folder, ignore_errors=True)


def _measure(size: Size, target: Target, folder: Path, runs: int, data: Data) -> dict:
    result: dict = {"size": size.name, "database": target.database}
    print(f"[{size.name}/{target.database}] init", file=sys.stderr)
    run(cxactions_command() + ["init"], target)
    started = time.perf_counter()
    if target.database == "sqlite":
        rows = load_sqlite(target.instance / "cxactions.sqlite3", data)
    else:
        rows = load_postgres(target.direct, data)
    result["load_seconds"] = time.perf_counter() - started
    result["responses"] = rows
    print(
        f"[{size.name}/{target.database}] {rows:,} responses loaded in "
        f"{result['load_seconds']:.0f} s; refresh_unit_weeks ...",
        file=sys.stderr,
    )
    seconds, text, peak = run([sys.executable, "-c", REFRESH_CODE], target)
    result["refresh_seconds"] = float(text.splitlines()[-1])
    result["refresh_peak_mb"] = peak
    if target.database == "postgresql":
        postgres_admin(target.direct, "VACUUM ANALYZE")
        postgres_admin(target.direct, "CHECKPOINT")  # no background flush during the timings
    result["database_mb"] = database_size(target)
    output = folder / "impact.csv"
    command = cxactions_command() + ["impact", "--format", "csv", "--output", str(output)]
    walls, peaks, others = [], [], []
    for number in range(runs):
        before = wait_for_quiet()
        usage: dict = {}
        wall, _, peak = run(command, target, usage)
        walls.append(wall)
        peaks.append(peak)
        others.append(usage["other_cpu"])
        print(
            f"[{size.name}/{target.database}] impact run {number + 1}: {wall:.2f} s, "
            f"{peak:.0f} MB (others: {before:.2f} core before, {usage['other_cpu']:.2f} CPU-s "
            "during)",
            file=sys.stderr,
        )
    result["walls"], result["peaks"], result["others"] = walls, peaks, others
    with output.open(encoding="utf-8") as handle:
        result["csv_rows"] = sum(1 for _ in handle) - 1
    if size.name == "large":
        wall, text, peak = run(cxactions_command() + ["refresh-impact"], target)
        result["refresh_impact"] = (wall, peak, text.splitlines()[-1])
        print(f"[{size.name}/{target.database}] refresh-impact {wall:.2f} s", file=sys.stderr)
        wall, text, peak = run([sys.executable, "-c", STEPS_CODE], target)
        steps = json.loads(text.splitlines()[-1])
        inside = sum(step[1] for step in steps)
        result["steps"] = [["interpreter start", wall - inside, None, None], *steps]
        result["steps_wall"] = wall
    return result


def database_size(target: Target) -> float:
    if target.database == "sqlite":
        files = target.instance.glob("cxactions.sqlite3*")
        return sum(path.stat().st_size for path in files) / 1e6
    import psycopg

    with psycopg.connect(target.direct) as connection:
        return connection.execute("SELECT pg_database_size(current_database())").fetchone()[0] / 1e6


# --------------------------------------------------------------------------------------------
# Markdown.


def machine(admin: str | None) -> str:
    text = (
        f"{os.cpu_count()} cores ({platform.machine()}, {platform.system()}), "
        f"Python {platform.python_version()}, numpy {np.__version__}, "
        f"SQLite {sqlite3.sqlite_version}"
    )
    if admin:
        text += f", PostgreSQL {server_version(admin)}"
    return text


def markdown(results: list[dict], sizes: list[Size], settings: dict) -> str:
    lines = [
        HEADING,
        "",
        f"Measured {dt.date.today().isoformat()} on {machine(settings['admin'])} by "
        f"`bench/impact_speed.py` ({settings['seconds']:.0f} s in all; load average "
        f"{settings['load'][0]:.1f} at the start, {settings['load'][1]:.1f} at the end).",
        "",
    ]
    for size in sizes:
        first = next(r for r in results if r["size"] == size.name)
        lines.append(
            f"- **{size.name}**: {size.units:,} stores in {size.regions} regions × "
            f"{size.weeks} weeks × {size.solutions} solutions; {first['responses']:,} "
            f"responses (~{first['responses'] / size.units / size.weeks:.1f} a store-week, "
            f"scores NULL, no comments), {size.units * size.weeks:,} store-weeks in "
            f"`unit_week_scores`, {first['adoptions']:,} adoptions ({first['implemented']:,} "
            "implemented; 5–40 stores per solution, up to 4 solutions per store)."
        )
    lines += [
        "",
        "Each database is built by `cxactions init`, a bulk load (`executemany` / `COPY`) and the "
        "app's `refresh_unit_weeks`; then `cxactions impact --format csv --output FILE` "
        "(default estimator: imputation + shrinkage, weekly, window 12) runs in a fresh "
        f"process {settings['runs']} times. Wall time includes the interpreter start and every "
        "import; peak RSS is that process's own `ru_maxrss` (`os.wait4`).",
        "",
        "| size | database | `cxactions impact` median (runs) | peak RSS (max) | rows out "
        "| database size | load + `refresh_unit_weeks` (setup) |",
        "| --- | --- | ---: | ---: | ---: | ---: | ---: |",
    ]
    for r in results:
        walls = ", ".join(f"{w:.2f}" for w in r["walls"])
        lines.append(
            f"| {r['size']} | {r['database']} | **{statistics.median(r['walls']):.2f} s** "
            f"({walls}) | {max(r['peaks']):.0f} MB | {r['csv_rows']} | "
            f"{r['database_mb']:,.0f} MB | {r['load_seconds']:.0f} s + "
            f"{r['refresh_seconds']:.0f} s |"
        )
    refreshes = [r for r in results if "refresh_impact" in r]
    if refreshes:
        lines += ["", "`cxactions refresh-impact` (the cached path the pages read), once:", ""]
        for r in refreshes:
            wall, peak, message = r["refresh_impact"]
            lines.append(
                f"- large, {r['database']}: {wall:.2f} s, peak RSS {peak:.0f} MB — `{message}`"
            )
    stepped = [r for r in results if "steps" in r]
    if stepped:
        header = " | ".join(f"{r['database']}: s / RSS after / peak" for r in stepped)
        lines += [
            "",
            "Where the time and memory go at the large size (one run of the same work, step by "
            "step, in a fresh process; RSS in MB):",
            "",
            f"| step | {header} |",
            "| --- |" + " ---: |" * len(stepped),
        ]
        names = [step[0] for step in stepped[0]["steps"]]
        for index, step_name in enumerate(names):
            cells = []
            for r in stepped:
                _, seconds, current, peak = r["steps"][index]
                if current is None:
                    cells.append(f"{seconds:.2f}")
                else:
                    cells.append(f"{seconds:.2f} / {current:.0f} / {peak:.0f}")
            label = re.sub(r"\(\d[\d,]* rows\)", "", step_name).strip()
            lines.append(f"| {label} | " + " | ".join(cells) + " |")
        totals = " | ".join(f"{r['steps_wall']:.2f}" for r in stepped)
        lines.append(f"| whole process | {totals} |")
    lines += ["", "Targets:", ""]
    for size in ("small", "large"):
        seconds_target, memory_target = TARGETS[size]
        measured = [r for r in results if r["size"] == size]
        if not measured:
            lines.append(f"- {size}: not measured in this run (`--sizes`).")
            continue
        for r in measured:
            median = statistics.median(r["walls"])
            peak = max(r["peaks"])
            ok = median <= seconds_target and (memory_target is None or peak <= memory_target)
            limit = f"≤ {seconds_target:g} s" + (
                f" with ≤ {memory_target / 1024:g} GB" if memory_target else ""
            )
            lines.append(
                f"- {SIZES[size].units:,} × {SIZES[size].weeks} × {SIZES[size].solutions} on "
                f"{r['database']} {limit}: **{'met' if ok else 'missed'}** "
                f"({median:.2f} s, {peak:.0f} MB)."
            )
    if settings.get("cs_ratio"):
        ratio = settings["cs_ratio"]
        lines.append(
            f"- `cs` on `mpdta` faster than the PyPI reference (`differences`): "
            f"**{'met' if ratio > 1 else 'missed'}** ({ratio:.1f}× faster; next section)."
        )
    runs = [(o, w) for r in results for o, w in zip(r["others"], r["walls"], strict=True)]
    busy = [(o, w) for o, w in runs if o > 0.1 * w]
    total_other = sum(o for o, _ in runs)
    lines += [
        "",
        "Machine load: each timed run waits (up to 90 s) for a quiet second first; during the "
        f"{len(runs)} timed runs other processes used {total_other:.1f} CPU-seconds in all "
        "(from `/proc/stat`, minus the timed process's own CPU time; on PostgreSQL this "
        "includes the server's own work for the query, about 0.5 CPU-s at the large size)"
        + (
            f"; {len(busy)} runs shared the machine with more than 10% of a core of other "
            f"work (up to {max(o / w for o, w in busy):.0%}): their times may be high."
            if busy
            else ": the timings are clean."
        ),
    ]
    return "\n".join(lines) + "\n"


def cs_section() -> tuple[str, float | None]:
    out = subprocess.run(
        [sys.executable, str(CS_SCRIPT)], capture_output=True, text=True, check=True
    ).stdout
    found = re.search(r"cxactions is ([\d.]+)x faster", out)
    return out.strip() + "\n", float(found.group(1)) if found else None


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", default="small,large", help="small, large or both [both]")
    parser.add_argument("--databases", default="sqlite,postgresql", help="[sqlite,postgresql]")
    parser.add_argument("--runs", type=int, default=3, help="timed runs per case [3]")
    parser.add_argument(
        "--postgres",
        default=os.environ.get("BENCH_POSTGRES", "postgresql://postgres@127.0.0.1:5432/test"),
        help="maintenance connection that creates and drops the throwaway databases",
    )
    parser.add_argument("--skip-cs", action="store_true", help="leave out the cs/mpdta figure")
    parser.add_argument("--write-results", action="store_true", help="update bench/RESULTS.md")
    arguments = parser.parse_args()
    sizes = [SIZES[name.strip()] for name in arguments.sizes.split(",") if name.strip()]
    databases = [name.strip() for name in arguments.databases.split(",") if name.strip()]
    admin = arguments.postgres if "postgresql" in databases else None
    load_start = os.getloadavg()[0]
    started = time.perf_counter()
    results = []
    with tempfile.TemporaryDirectory(prefix="cxactions-impact-bench-") as root:
        for size in sizes:
            data = generate(size)
            for database in databases:
                result = measure(size, database, Path(root), admin or "", arguments.runs, data)
                result["adoptions"], result["implemented"] = len(data.adoptions), data.implemented
                results.append(result)
    cs_text, cs_ratio = (None, None) if arguments.skip_cs else cs_section()
    settings = {
        "admin": admin,
        "runs": arguments.runs,
        "seconds": time.perf_counter() - started,
        "load": (load_start, os.getloadavg()[0]),
        "cs_ratio": cs_ratio,
    }
    section = markdown(results, sizes, settings)
    print(section)
    if cs_text:
        print(cs_text)
    if arguments.write_results:
        write_section(HEADING, section)
        if cs_text:
            write_section(CS_HEADING, cs_text)


if __name__ == "__main__":
    main()
