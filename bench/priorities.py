"""Benchmark: one unit's scorecard and priorities, and the company-wide driver analysis, at
2,000 stores x 104 weeks x 20 responses per store-week (about 4.2 million responses).

Targets (issue 6): scorecard + priorities of one unit <= 200 ms; company-wide driver analysis
<= 10 s. The database is SQLite (the embedded default), filled with plain inserts: survey
responses (with EN/FR comments), their weekly aggregates, daily-ish operational values, the seed
challenges with signals. Writes the "Priorities" section of bench/RESULTS.md.

    python bench/priorities.py [--stores 2000] [--weeks 104] [--no-write]
"""

from __future__ import annotations

import argparse
import csv
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
from datetime import date, timedelta
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "bench"))

from results_file import write_section  # noqa: E402

RESPONSES_PER_WEEK = 20
METRICS = [  # id, code, kind, higher is better, target
    (1, "overall", "outcome", 1, 8.0),
    (2, "staff_rating", "driver", 1, 8.0),
    (3, "wait_time_rating", "driver", 1, 7.5),
    (4, "cleanliness_rating", "driver", 1, 8.0),
    (5, "product_availability_rating", "driver", 1, 7.5),
    (6, "wait_minutes", "operational", 0, 5.0),
    (7, "staff_coverage_pct", "operational", 1, 100.0),
    (8, "cleaning_compliance_pct", "operational", 1, 95.0),
    (9, "stock_availability_pct", "operational", 1, 97.0),
]
SIGNALS = [  # challenge, metric id, direction
    ("SPEED-QUEUE", 3, "below"),
    ("SPEED-QUEUE", 6, "above"),
    ("ST-GREET", 2, "below"),
    ("ST-FIND", 7, "below"),
    ("EN-CLEAN", 4, "below"),
    ("EN-CLEAN", 8, "below"),
    ("PA-STOCK", 5, "below"),
    ("PA-STOCK", 9, "below"),
]
COMMENTS = [
    "The queue was far too long",
    "Les files d'attente sont interminables",
    "Staff were lovely",
    "Personne à l'accueil",
    "Store was dirty",
    "Great",
    "Rupture de stock sur le lait",
    None,
    None,
    None,
]


def build(path: str, stores_wanted: int, weeks_wanted: int, seed: int) -> dict:
    """Fill a fresh SQLite database; returns its counts."""
    from cxactions import create_app
    from cxactions.extensions import db

    app = create_app(_config(path))
    with app.app_context():
        db.create_all()
    con = sqlite3.connect(path)
    rng = random.Random(seed)
    units, stores, next_id = [], [], 0
    regions = 4
    districts = 5
    per_district = -(-stores_wanted // (regions * districts))
    for r in range(regions):
        next_id += 1
        region = next_id
        units.append((region, f"R{r}", f"Region {r}", "region", None))
        for d in range(districts):
            next_id += 1
            district = next_id
            units.append((district, f"D{r}{d}", f"District {r}{d}", "district", region))
            for s in range(per_district):
                if len(stores) == stores_wanted:
                    break
                next_id += 1
                units.append((next_id, f"S{r}{d}{s:03d}", f"Store {r}{d}{s}", "store", district))
                stores.append(next_id)
    con.executemany(
        "insert into units(id, code, name, kind, parent_id, created_at) "
        "values (?, ?, ?, ?, ?, '2024-01-01')",
        units,
    )
    con.executemany(
        "insert into metrics(id, code, label, kind, higher_is_better, target) "
        "values (?, ?, ?, ?, ?, ?)",
        [
            (i, code, code.replace("_", " ").capitalize(), kind, h, t)
            for i, code, kind, h, t in METRICS
        ],
    )
    start = date(2023, 1, 2)
    weeks = [start + timedelta(weeks=k) for k in range(weeks_wanted)]
    levels = {store: [rng.gauss(7.5, 0.5) for _ in range(5)] for store in stores}
    scores, operations, responses = [], [], []
    response_id = 0
    n = RESPONSES_PER_WEEK
    for store in stores:
        for week in weeks:
            for metric in range(5):
                mean = levels[store][metric] + rng.gauss(0, 0.3)
                scores.append(
                    (metric + 1, store, week.isoformat(), n, mean * n, mean * mean * n + n)
                )
            for metric, centre in ((6, 5), (7, 98), (8, 93), (9, 96)):
                operations.append((store, week.isoformat(), metric, centre + rng.gauss(0, 1)))
            for k in range(n):
                response_id += 1
                day = (week + timedelta(days=k % 7)).isoformat()
                responses.append(
                    (response_id, f"r{response_id}", store, day, 7.0, COMMENTS[rng.randrange(10)])
                )
        if len(responses) > 200_000:
            _flush(con, scores, operations, responses)
    _flush(con, scores, operations, responses)
    with open(ROOT / "seed" / "challenges.csv", encoding="utf-8") as handle:
        for number, row in enumerate(csv.DictReader(handle), start=1):
            keywords = "\n".join(
                word.strip() for word in (row["keywords"] or "").split(";") if word.strip()
            )
            con.execute(
                "insert into challenges(id, code, name, status, keywords, position, created_at, "
                "updated_at) values (?, ?, ?, 'active', ?, 0, '2024-01-01', '2024-01-01')",
                (number, row["challenge_id"], row["name"], keywords or None),
            )
    codes = dict(con.execute("select code, id from challenges"))
    con.executemany(
        "insert into challenge_signals(challenge_id, metric_id, direction, threshold_kind, "
        "threshold) values (?, ?, ?, 'peer_sd', 0.5)",
        [(codes[code], metric, direction) for code, metric, direction in SIGNALS],
    )
    con.commit()
    con.execute("analyze")
    con.close()
    return {"stores": len(stores), "weeks": len(weeks), "responses": response_id}


def _flush(con, scores, operations, responses) -> None:
    con.executemany("insert into unit_week_scores values (?, ?, ?, ?, ?, ?)", scores)
    con.executemany(
        "insert into operation_values(unit_id, on_date, metric_id, value) values (?, ?, ?, ?)",
        operations,
    )
    con.executemany(
        "insert into responses(id, response_key, unit_id, responded_on, overall, comment) "
        "values (?, ?, ?, ?, ?, ?)",
        responses,
    )
    scores.clear()
    operations.clear()
    responses.clear()


def _config(path: str) -> dict:
    folder = os.path.dirname(path)
    return {
        "SECRET_KEY": "bench",
        "SQLALCHEMY_DATABASE_URI": f"sqlite:///{path}",
        "INSTANCE_PATH": folder,
        "SEARCH_INDEX_PATH": os.path.join(folder, "search-index"),
        "IMPACT_BACKGROUND_REFRESH": False,
    }


def measure(path: str, seed: int) -> dict:
    import sqlalchemy as sa

    from cxactions import create_app
    from cxactions.analytics.driver_services import driver_importance
    from cxactions.extensions import db
    from cxactions.units.models import Unit
    from cxactions.units.priorities import unit_priorities
    from cxactions.units.services import ancestors, unit_scorecard

    app = create_app(_config(path))
    figures: dict = {}
    with app.app_context():
        started = time.perf_counter()
        report = driver_importance(db.session)
        figures["drivers_s"] = time.perf_counter() - started
        figures["drivers_rows"] = report.n_unit_weeks
        figures["top_driver"] = report.rows.iloc[0]["driver"]
        codes = list(db.session.scalars(sa.select(Unit.code).where(Unit.kind == "store")))
        sample = random.Random(seed).sample(codes, 30)

        def one(code: str) -> tuple[float, int]:
            db.session.expunge_all()
            began = time.perf_counter()
            unit = db.session.scalar(sa.select(Unit).where(Unit.code == code))
            unit_scorecard(unit, ancestors(unit))
            found = unit_priorities(db.session, unit)
            return time.perf_counter() - began, len(found.challenges)

        first, _ = one(sample[0])  # the process's first page: driver importance computed
        figures["first_s"] = first
        # The first page of each other region fills that region's cached figures.
        regions = {code[:2] for code in codes} - {sample[0][:2]}
        firsts = [
            one(next(c for c in codes if c.startswith(region)))[0] for region in sorted(regions)
        ]
        figures["region_first_ms"] = max(firsts) * 1000 if firsts else 0.0
        timings = [one(code) for code in sample[1:]]
        figures["page_ms"] = sorted(seconds * 1000 for seconds, _ in timings)
        figures["active_mean"] = statistics.fmean(active for _, active in timings)
    figures["peak_mb"] = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    return figures


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--stores", type=int, default=2000)
    parser.add_argument("--weeks", type=int, default=104)
    parser.add_argument("--seed", type=int, default=7)
    parser.add_argument("--no-write", action="store_true")
    arguments = parser.parse_args()
    folder = tempfile.mkdtemp(prefix="cxactions-priorities-bench-")
    path = os.path.join(folder, "bench.sqlite3")
    began = time.perf_counter()
    counts = build(path, arguments.stores, arguments.weeks, arguments.seed)
    build_s = time.perf_counter() - began
    print(f"built {counts} in {build_s:.0f} s", file=sys.stderr)
    try:
        figures = measure(path, arguments.seed)
    finally:
        shutil.rmtree(folder, ignore_errors=True)
    pages = figures["page_ms"]
    median, p95, worst = statistics.median(pages), pages[int(len(pages) * 0.95) - 1], pages[-1]
    ok_page = p95 <= 200
    ok_drivers = figures["drivers_s"] <= 10
    section = "\n".join(
        [
            f"## Priorities: {counts['stores']:,} stores x {counts['weeks']} weeks",
            "",
            f"Measured {date.today():%Y-%m-%d} on {os.cpu_count()} cores ({platform.machine()}, "
            f"{platform.system()}), Python {platform.python_version()}, SQLite "
            f"{sqlite3.sqlite_version} by `bench/priorities.py` (seed {arguments.seed}).",
            "",
            f"Data: {counts['stores']:,} stores in 4 regions and 20 districts, {counts['weeks']} "
            f"weeks, {RESPONSES_PER_WEEK} responses per store-week ({counts['responses']:,} "
            "responses with EN/FR comments), 4 survey drivers and 4 operational inputs with "
            "targets, the 52 seed challenges with 8 signals; built with plain inserts in "
            f"{build_s:.0f} s.",
            "",
            "| figure | value | target |",
            "| --- | ---: | --- |",
            f"| one store's scorecard + priorities, median / p95 / max of 29 stores | "
            f"{median:.0f} / **{p95:.0f}** / {worst:.0f} ms | ≤ 200 ms: "
            f"{'met' if ok_page else '**missed**'} |",
            f"| the process's first store page (driver importance computed and cached) | "
            f"{figures['first_s'] * 1000:.0f} ms | — |",
            f"| the first page of each other region (its figures computed and cached), worst | "
            f"{figures['region_first_ms']:.0f} ms | — |",
            f"| company-wide driver analysis (`driver_importance`, {figures['drivers_rows']:,} "
            f"unit-weeks) | **{figures['drivers_s']:.1f} s** | ≤ 10 s: "
            f"{'met' if ok_drivers else '**missed**'} |",
            f"| active challenges per store (mean) | {figures['active_mean']:.1f} | — |",
            f"| peak RSS of the measuring process | {figures['peak_mb']:.0f} MB | — |",
            "",
            "Each store page is timed from a fresh ORM session: the unit's own window sums, its "
            "comments of the last 8 weeks (tagged with the search analysers) and its signals are "
            "read every time; region and company figures and the driver importance are cached "
            "per process until an import or the data version changes.",
            "",
        ]
    )
    print(section)
    if not arguments.no_write:
        write_section("## Priorities:", section)


if __name__ == "__main__":
    main()
