"""Benchmark: the plan roll-ups and marking a plan item implemented, at 2,000 stores x 104 weeks
with about 10 plan items per store (issue 14).

Targets: the region roll-up page <= 300 ms p95 and the company roll-up <= 1 s p95, on SQLite and
PostgreSQL; marking an item implemented <= 100 ms (the impact recomputation runs in the
background, never in the request).

The survey data is ``bench/priorities.py``'s (2,000 stores in 4 regions and 20 districts, 104
weeks, 20 responses per store-week, the seed challenges with 8 signals), built in SQLite with
plain inserts; then 200 library solutions (each listed for one or two challenges), about 10 plan
items per store (planned, in progress, implemented, abandoned; most for a challenge) with 3-6
checklist steps each, and a CX lead. The file is copied to a fresh PostgreSQL database with COPY
(``--postgres``, an admin URL; skipped with ``--postgres ''``). Each database is measured in its
own fresh process, through the Flask test client signed in as the CX lead:

- the company roll-up ``/plans`` and a region's ``/units/R0/plans`` (500 stores), first load of
  the process, then ``--repeat`` loads each (median / p95 / max); a district's (100 stores) too;
- the CSV download of every item (``/plans.csv``);
- marking an item implemented: ``POST /units/<code>/plan/<id>/implement`` (the lead's route:
  ``workflow.implement`` and its data-version bumps, then the redirect), ``--repeat`` items;
- the company roll-up right after an item was implemented (the versions it bumps must not make
  the roll-up recompute its cached figures).

Writes the "Plans: roll-ups" section of bench/RESULTS.md.

    python bench/plans.py [--stores 2000] [--weeks 104] [--items 10] [--postgres URL] [--no-write]
"""

from __future__ import annotations

import argparse
import os
import platform
import random
import resource
import shutil
import sqlite3
import statistics
import sys
import tempfile
import time
from datetime import date, datetime, timedelta
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "bench"))

import priorities as survey_bench  # noqa: E402  (bench/priorities.py builds the survey data)
from results_file import write_section  # noqa: E402

HEADING = "## Plans: roll-ups"
SOLUTIONS = 200
LEAD_EMAIL = "lead@bench.example"
PASSWORD = "bench password"
STATUSES = (  # status, share of plan items
    ("planned", 0.30),
    ("in_progress", 0.25),
    ("implemented", 0.35),
    ("abandoned", 0.10),
)
PLAN_TABLES = ("users", "solutions", "solution_challenges", "adoptions", "plan_steps")


def add_plans(path: str, items_per_store: int, seed: int) -> dict:
    """Solutions, plan items with their steps and a CX lead in the survey bench's SQLite file."""
    from werkzeug.security import generate_password_hash

    rng = random.Random(seed)
    con = sqlite3.connect(path)
    today = date.today()
    now = datetime.now().replace(microsecond=0)
    stamp = now.isoformat(sep=" ")
    con.execute(
        "insert into users(id, email, name, password_hash, role, active, created_at) "
        "values (1, ?, 'Bench lead', ?, 'cx_lead', 1, ?)",
        (LEAD_EMAIL, generate_password_hash(PASSWORD, method="pbkdf2:sha256:1"), stamp),
    )
    challenges = [row[0] for row in con.execute("select id from challenges order by id")]
    signalled = [
        row[0] for row in con.execute("select distinct challenge_id from challenge_signals")
    ]
    kinds = ("training", "sop", "asset", "other")
    solutions, links, listed = [], [], {}
    for number in range(1, SOLUTIONS + 1):
        solutions.append(
            (number, f"SOL-{number:03d}", kinds[number % 4], f"Bench solution {number:03d}",
             "en", "approved", stamp, stamp)
        )  # fmt: skip
        # Half the library answers the challenges the signals raise, as a curated library would.
        pool = signalled if number % 2 else challenges
        mapped = rng.sample(pool, rng.choice((1, 2)) if len(pool) > 1 else 1)
        listed[number] = mapped
        links += [(number, challenge) for challenge in mapped]
    con.executemany(
        "insert into solutions(id, code, kind, title, language, status, created_at, updated_at) "
        "values (?, ?, ?, ?, ?, ?, ?, ?)",
        solutions,
    )
    con.executemany(
        "insert into solution_challenges(solution_id, challenge_id) values (?, ?)", links
    )
    stores = [row[0] for row in con.execute("select id from units where kind = 'store'")]
    # Popular solutions are adopted far more often (a Zipf-like weight).
    weights = [1 / rank**0.8 for rank in range(1, SOLUTIONS + 1)]
    adoptions, steps = [], []
    adoption_id = step_id = 0
    statuses, shares = zip(*STATUSES, strict=True)
    for store in stores:
        chosen: set[int] = set()
        while len(chosen) < items_per_store:
            chosen.add(rng.choices(range(1, SOLUTIONS + 1), weights)[0])
        for solution in sorted(chosen):
            adoption_id += 1
            status = rng.choices(statuses, shares)[0]
            created = now - timedelta(days=rng.randint(5, 170))
            due = today + timedelta(days=rng.randint(-40, 90))
            effective = None
            if status == "implemented":
                effective = (created + timedelta(days=rng.randint(0, 4))).date()
            elif rng.random() < 0.5:
                effective = today + timedelta(days=rng.randint(0, 30))  # a planned start
            challenge = rng.choice(listed[solution]) if rng.random() < 0.7 else None
            adoptions.append(
                (adoption_id, store, solution, challenge, status, f"Owner {store % 97}",
                 due.isoformat(), effective.isoformat() if effective else None,
                 created.isoformat(sep=" "), created.isoformat(sep=" "),
                 "Not for us" if status == "abandoned" else None,
                 created.isoformat(sep=" "))
            )  # fmt: skip
            count = rng.randint(3, 6)
            done = {
                "implemented": count,
                "in_progress": rng.randint(0, count),
                "planned": 0,
                "abandoned": rng.randint(0, count),
            }[status]
            for position in range(1, count + 1):
                step_id += 1
                steps.append(
                    (step_id, adoption_id, position, f"Step {position}",
                     stamp if position <= done else None, stamp)
                )  # fmt: skip
    con.executemany(
        "insert into adoptions(id, unit_id, solution_id, challenge_id, status, owner, due_on, "
        "effective_on, created_at, updated_at, status_reason, status_changed_at, version) "
        "values (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, 1)",
        adoptions,
    )
    con.executemany(
        "insert into plan_steps(id, adoption_id, position, text, done_at, created_at) "
        "values (?, ?, ?, ?, ?, ?)",
        steps,
    )
    con.commit()
    con.execute("analyze")
    con.close()
    return {"solutions": SOLUTIONS, "items": adoption_id, "steps": step_id}


def _config(path: str, url: str | None = None) -> dict:
    return {
        **survey_bench._config(path, url),
        "SECRET_KEY": "bench-" + "x" * 32,
        "WTF_CSRF_ENABLED": False,
        "SESSION_COOKIE_SECURE": False,
        "REMEMBER_COOKIE_SECURE": False,
    }


def _p95(values: list[float]) -> float:
    ordered = sorted(values)
    return ordered[max(int(len(ordered) * 0.95) - 1, 0)]


def measure(path: str, repeat: int, seed: int, url: str | None = None) -> dict:
    import sqlalchemy as sa

    from cxactions import create_app
    from cxactions.foundations.extensions import db
    from cxactions.plans.models import Adoption
    from cxactions.units.models import Unit
    from cxactions.units.services import subtree_select

    app = create_app(_config(path, url))
    client = app.test_client()
    response = client.post("/login", data={"email": LEAD_EMAIL, "password": PASSWORD})
    assert response.status_code == 302, response.status_code
    figures: dict = {}

    def timed(path: str) -> tuple[float, int]:
        began = time.perf_counter()
        response = client.get(path)
        body = response.get_data()
        elapsed = time.perf_counter() - began
        assert response.status_code == 200, (path, response.status_code)
        return elapsed * 1000, len(body)

    with app.app_context():
        district = db.session.scalar(
            sa.select(Unit.code).where(Unit.kind == "district").order_by(Unit.code)
        )
        for name, code in (("region", "R0"), ("district", district)):
            root = db.session.scalar(sa.select(Unit.id).where(Unit.code == code))
            figures[f"{name}_stores"] = db.session.scalar(
                sa.select(sa.func.count())
                .select_from(Unit)
                .where(Unit.kind == "store", Unit.id.in_(subtree_select([root])))
            )
    pages = {
        "company": "/plans",
        "region": "/units/R0/plans",
        "district": f"/units/{district}/plans",
    }
    for name, page in pages.items():
        figures[f"{name}_first_ms"], figures[f"{name}_bytes"] = timed(page)
    for name, page in pages.items():
        figures[f"{name}_ms"] = [timed(page)[0] for _ in range(repeat)]
    began = time.perf_counter()
    response = client.get("/plans.csv")
    body = response.get_data()
    figures["csv_ms"] = (time.perf_counter() - began) * 1000
    figures["csv_rows"] = body.count(b"\n") - 1
    figures["csv_mb"] = len(body) / 1e6

    with app.app_context():
        rows = db.session.execute(
            sa.select(Adoption.id, Adoption.version, Unit.code)
            .join(Unit, Unit.id == Adoption.unit_id)
            .where(Adoption.status.in_(["planned", "in_progress"]))
            .order_by(Adoption.id)
        ).all()
    chosen = random.Random(seed).sample(rows, repeat)
    marks = []
    today = date.today().isoformat()
    for item_id, version, code in chosen:
        began = time.perf_counter()
        response = client.post(
            f"/units/{code}/plan/{item_id}/implement",
            data={"effective_on": today, "version": str(version)},
        )
        marks.append((time.perf_counter() - began) * 1000)
        assert response.status_code == 302, (response.status_code, response.get_data()[:300])
    figures["implement_ms"] = marks
    figures["company_after_implement_ms"] = timed("/plans")[0]
    with app.app_context():
        figures["implemented_now"] = db.session.scalar(
            sa.select(sa.func.count()).select_from(Adoption).where(Adoption.status == "implemented")
        )
        db.engine.dispose()
    figures["peak_mb"] = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    return figures


def measure_apart(path: str, repeat: int, seed: int, url: str | None = None) -> dict:
    """``measure`` in a child process: each database starts cold, with its own peak RSS."""
    import multiprocessing

    context = multiprocessing.get_context("fork")
    with context.Pool(1) as pool:
        return pool.apply(measure, (path, repeat, seed, url))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--stores", type=int, default=2000)
    parser.add_argument("--weeks", type=int, default=104)
    parser.add_argument("--items", type=int, default=10, help="plan items per store")
    parser.add_argument("--repeat", type=int, default=40)
    parser.add_argument("--seed", type=int, default=14)
    parser.add_argument(
        "--postgres",
        default=os.environ.get("CXACTIONS_BENCH_POSTGRES", "postgresql://postgres@127.0.0.1/test"),
        help="admin URL of a PostgreSQL server ('' to skip)",
    )
    parser.add_argument("--no-write", action="store_true")
    arguments = parser.parse_args()
    folder = tempfile.mkdtemp(prefix="cxactions-plans-bench-")
    path = os.path.join(folder, "bench.sqlite3")
    began = time.perf_counter()
    counts = survey_bench.build(path, arguments.stores, arguments.weeks, arguments.seed)
    counts.update(add_plans(path, arguments.items, arguments.seed))
    build_s = time.perf_counter() - began
    print(f"built {counts} in {build_s:.0f} s", file=sys.stderr)
    results: dict[str, dict] = {}
    databases = {"SQLite": f"SQLite {sqlite3.sqlite_version}"}
    name = f"cxbench_plans_{os.getpid()}"
    load = [os.getloadavg()[0]]
    try:
        results["SQLite"] = measure_apart(path, arguments.repeat, arguments.seed)
        print(f"SQLite: {summary(results['SQLite'])}", file=sys.stderr)
        if arguments.postgres:
            # The survey bench copies its own tables; the plan tables go along.
            survey_bench.COPIED_TABLES = (*survey_bench.COPIED_TABLES, *PLAN_TABLES)
            began = time.perf_counter()
            url = survey_bench.copy_to_postgres(path, arguments.postgres, name)
            print(f"copied to PostgreSQL in {time.perf_counter() - began:.0f} s", file=sys.stderr)
            databases["PostgreSQL"] = (
                f"PostgreSQL {survey_bench.postgres_version(arguments.postgres)}"
            )
            # The SQLite run marked items implemented in the file: PostgreSQL got the same state.
            results["PostgreSQL"] = measure_apart(path, arguments.repeat, arguments.seed + 1, url)
            print(f"PostgreSQL: {summary(results['PostgreSQL'])}", file=sys.stderr)
    finally:
        if arguments.postgres:
            survey_bench.drop_postgres(arguments.postgres, name)
        shutil.rmtree(folder, ignore_errors=True)
    load.append(os.getloadavg()[0])
    section = markdown(counts, build_s, results, databases, arguments, load)
    print(section)
    if not arguments.no_write:
        write_section(HEADING, section)


def summary(figures: dict) -> dict:
    return {
        key: (round(_p95(value), 1) if isinstance(value, list) else value)
        for key, value in figures.items()
    }


def markdown(
    counts: dict, build_s: float, results: dict, databases: dict, arguments, load: list
) -> str:
    names = list(results)

    def cells(render) -> str:
        return " | ".join(render(results[name]) for name in names)

    def spread(key: str):
        def render(figures: dict) -> str:
            values = figures[key]
            return (
                f"{statistics.median(values):.0f} / **{_p95(values):.0f}** / {max(values):.0f} ms"
            )

        return render

    def verdict(key: str, limit: float) -> str:
        ok = all(_p95(figures[key]) <= limit for figures in results.values())
        return "met" if ok else "**missed**"

    repeat = arguments.repeat
    first = results[names[0]]
    return "\n".join(
        [
            f"{HEADING} at {counts['stores']:,} stores x {counts['weeks']} weeks",
            "",
            f"Measured {date.today():%Y-%m-%d} on {os.cpu_count()} cores ({platform.machine()}, "
            f"{platform.system()}), Python {platform.python_version()}, "
            f"{', '.join(databases.values())} by `bench/plans.py` (seed {arguments.seed}; load "
            f"average {load[0]:.1f} at the start, {load[-1]:.1f} at the end).",
            "",
            f"Data: `bench/priorities.py`'s survey data ({counts['stores']:,} stores in 4 regions "
            f"and 20 districts, {counts['weeks']} weeks, {counts['responses']:,} responses, the "
            f"52 seed challenges with 8 signals), {counts['solutions']} library solutions, "
            f"{counts['items']:,} plan items ({arguments.items} per store: 30% planned, 25% in "
            f"progress, 35% implemented, 10% abandoned; 70% for a challenge) with "
            f"{counts['steps']:,} checklist steps; built in SQLite in {build_s:.0f} s, then copied "
            "to PostgreSQL with COPY.",
            "",
            f"| figure | {' | '.join(names)} | target |",
            f"| --- | {' | '.join('---:' for _ in names)} | --- |",
            f"| company roll-up `/plans`, median / p95 / max of {repeat} | "
            f"{cells(spread('company_ms'))} | ≤ 1 s p95: {verdict('company_ms', 1000)} |",
            f"| region roll-up `/units/R0/plans` ({first['region_stores']:,} stores), median / p95 "
            f"/ max of {repeat} | "
            f"{cells(spread('region_ms'))} | ≤ 300 ms p95: {verdict('region_ms', 300)} |",
            f"| district roll-up ({first['district_stores']:,} stores), median / p95 / max of "
            f"{repeat} | "
            f"{cells(spread('district_ms'))} | — |",
            "| mark an item implemented (`POST …/implement`, whole request), median / p95 / max "
            f"of {repeat} | {cells(spread('implement_ms'))} | ≤ 100 ms p95: "
            f"{verdict('implement_ms', 100)} |",
            "| the process's first company page (every region's survey window read, active "
            "challenges decided and cached) | "
            + cells(lambda f: f"{f['company_first_ms']:.0f} ms")
            + " | — |",
            "| the first region page, after the company's | "
            + cells(lambda f: f"{f['region_first_ms']:.0f} ms")
            + " | — |",
            "| company page right after items were implemented | "
            + cells(lambda f: f"{f['company_after_implement_ms']:.0f} ms")
            + " | — |",
            "| CSV of every item (`/plans.csv`) | "
            + cells(
                lambda f: f"{f['csv_ms']:.0f} ms ({f['csv_rows']:,} rows, {f['csv_mb']:.1f} MB)"
            )
            + " | — |",
            "| company page size | "
            + cells(lambda f: f"{f['company_bytes'] / 1000:.0f} kB")
            + " | — |",
            "| peak RSS of the measuring process | "
            + cells(lambda f: f"{f['peak_mb']:.0f} MB")
            + " | — |",
            "",
            "Each database is measured in its own fresh process (the PostgreSQL copy is taken "
            "after the SQLite run, so it starts with the items SQLite marked implemented). Each "
            "page load is a whole request through the Flask test client, signed in as a CX lead "
            "(session read, queries, template, response body). A roll-up reads the unit tree, "
            "every plan item of the scope with its step counts (one GROUP BY over `plan_steps`), "
            "the solutions' titles and library links; the active challenges of the stores "
            "(coverage of challenges) come from the signals over each region's survey window, "
            "decided for all its stores at once and cached in the process until the survey data, "
            "the tree, the metrics or the signals change (not when a plan item changes). "
            "Implementing an item bumps the impact data version: the estimates are recomputed "
            "later, by the pages' background refresh, not in the request.",
            "",
        ]
    )


if __name__ == "__main__":
    main()
