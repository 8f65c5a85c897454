"""Benchmark: the crowd pages at 20,000 solutions, 200,000 votes and 100,000 comments (issue 15).

Targets, on SQLite and PostgreSQL: a solution page <= 100 ms p95, the moderation desk <= 200 ms
p95, a vote <= 50 ms p95.

Data (seeded, generated once, then loaded into each database with SQLAlchemy core inserts):

- the 52 seed challenges and ``bench/search.py``'s generated solutions (English and French CX
  text, 1-3 challenges each); statuses: ~500 pending proposals (authors, some anonymous, some
  improving a library solution), a few drafts, retired and rejected, the rest approved;
- 4 regions, 20 districts, 240 stores; 2,000 people (1 admin, 10 CX leads, 100 managers, the
  rest staff), each attached to a store (managers to a district);
- votes skewed like real ones (Zipf over the open solutions, at most 90% of the people on one
  solution): the top solutions have thousands; comments skewed the same way (the most-voted is
  the most-commented), a fifth of them "we tried it" reports with an outcome, a store and a
  date; a few hidden, deleted, edited; ~300 comments with open reports and more closed reports;
  follows; notifications (one staff member with many); plan items (adoptions) and a finished
  impact run with estimates, so the page's evidence card has something to show.

Then, in a fresh process per database: the schema (``create_all``), the load, ``ANALYZE``, and
the search index the desk's duplicate lookup reads, built once with
``cxactions.search.service.rebuild_index()`` (timed, on SQLite; PostgreSQL holds the same rows
and ids and gets a copy). Every request goes through the Flask test client, signed in (a staff
member; a CX lead for the desk), CSRF off:

- ``GET /solutions/<code>``: 200 different solutions (the 10 heaviest and 190 drawn at random
  among the open ones), then the heaviest one again 20 times as staff and 20 times as a CX lead
  (who gets the moderation forms on every comment and every unit in the "we tried it" form);
- ``GET /desk``: 50 requests, page 1 and a later page alternately (10 proposals each, each
  searching for its likely duplicates), plus the reported comments;
- ``POST /solutions/<code>/vote``: 200 requests, ``vote=on`` then ``vote=off`` on 100 solutions
  (the heaviest among them); the redirect is not followed;
- extras: the ideas board ``GET /proposals`` (most voted first, and newest) and
  ``GET /notifications``, 20 each.

Each request records its wall time, this process's CPU time, its SQL statements and their time
(SQLAlchemy's cursor events), the time in the templates' ``markdown`` filter and in the desk's
duplicate lookups (both wrapped), and each pass the CPU other processes used meanwhile
(``/proc/stat``): on a shared machine the wall times are high and the CPU times say what the
request itself costs. ``--explain`` also prints the slowest statements of the heaviest page, the
desk and the board, and the query plans of the pages' main queries.

Writes the "Crowd" section of bench/RESULTS.md.

    python bench/crowd.py                      # full size, both databases (~5 min)
    python bench/crowd.py --small --no-write   # 2,000 solutions, quick check
    python bench/crowd.py --postgres ''        # SQLite only
"""

from __future__ import annotations

import argparse
import gc
import multiprocessing
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
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "bench"))

import search as corpus_bench  # noqa: E402  (bench/search.py generates the solutions' text)
from results_file import write_section  # noqa: E402

HEADING = "## Crowd: solution pages, desk and votes"
PASSWORD = "bench password"
STAFF_EMAIL = "staff@bench.example"
LEAD_EMAIL = "lead@bench.example"
NOW = datetime(2026, 12, 1, 12, 0, 0)
TARGETS = {"page": 100.0, "desk": 200.0, "vote": 50.0}  # ms, p95
FULL = {"solutions": 20_000, "votes": 200_000, "comments": 100_000, "users": 2_000}
SMALL = {"solutions": 2_000, "votes": 20_000, "comments": 10_000, "users": 500}
PENDING = 500  # pending proposals at full size
VOTE_CAP = 0.9  # at most this share of the people vote for one solution
CHUNK = 5_000

EN_COMMENTS = (
    "We ran this at our store for three weeks and the queue at the tills got shorter.",
    "The checklist is clear, but the second step takes longer than it says.",
    "Our team liked it; the night shift needed a short briefing first.",
    "Customers noticed the change within days, especially at the weekend.",
    "It works if the manager checks it every morning, otherwise it slips.",
    "We adapted the script for the phone line and it helped there too.",
    "Not sure it fits small stores: we have one person on the floor at opening.",
    "The poster in the training pack is out of date; the new prices are missing.",
    "Could we get the French version of the handout?",
    "Tried the shorter version: same effect, less work.",
)
FR_COMMENTS = (
    "Nous l'avons essayé pendant un mois : l'attente en caisse a nettement baissé.",
    "La fiche est claire, mais la deuxième étape demande plus de temps que prévu.",
    "L'équipe du soir a eu besoin d'une courte formation avant de s'y mettre.",
    "Les clients l'ont remarqué, surtout le samedi.",
    "Ça marche si le responsable vérifie chaque matin, sinon on oublie.",
    "Nous avons adapté le script pour le téléphone, avec le même effet.",
    "Difficile dans les petits magasins : une seule personne à l'ouverture.",
    "Pourrait-on avoir l'affiche en anglais aussi ?",
)
REPORT_REASONS = (None, "Off topic", "Rude to a colleague", "Names a customer", "Spam")


# --- Data ------------------------------------------------------------------------------------


@dataclass
class Data:
    """The rows of every table, in insertion order, and what the timings need to know."""

    tables: list[tuple[str, list[dict]]] = field(default_factory=list)
    counts: dict = field(default_factory=dict)
    ranked: list[int] = field(default_factory=list)  # open solution ids, most voted first
    codes: dict[int, str] = field(default_factory=dict)
    open_ids: list[int] = field(default_factory=list)
    votes_of: dict[int, int] = field(default_factory=dict)
    comments_of: dict[int, int] = field(default_factory=dict)
    staff_id: int = 0
    staff_voted: set[int] = field(default_factory=set)


def _zipf_counts(total: int, items: int, exponent: float, cap: int | None) -> list[int]:
    """``total`` spread over ``items`` ranks as 1/rank**exponent, none above ``cap``."""
    weights = [1 / rank**exponent for rank in range(1, items + 1)]
    counts = [0.0] * items
    free = list(range(items))
    left = float(total)
    while left > 0.5 and free:
        scale = left / sum(weights[i] for i in free)
        still = []
        for i in free:
            counts[i] += weights[i] * scale
            if cap is not None and counts[i] > cap:
                counts[i] = cap
            else:
                still.append(i)
        left = total - sum(counts)
        if len(still) == len(free):
            break
        free = still
    whole = [int(value) for value in counts]
    short = total - sum(whole)
    order = sorted(range(items), key=lambda i: whole[i] - counts[i])
    for i in order[:short]:
        whole[i] += 1
    return whole


def _details(kind: str, rng: random.Random) -> dict | None:
    """What ``crowd.services`` stores with each kind of notification."""
    if kind in ("approved", "rejected"):
        return {"note": "Thanks, well explained."} if rng.random() < 0.5 else None
    if kind == "merged":
        return {"merged": "GEN-000001", "title": "An earlier proposal"}
    if kind == "measured":
        effect = round(rng.gauss(0.15, 0.2), 3)
        return {"effect": effect, "ci_low": effect - 0.16, "ci_high": effect + 0.16,
                "n_units": rng.randint(5, 40)}  # fmt: skip
    return None


def generate(sizes: dict, seed: int) -> Data:
    """Every table's rows, deterministic for ``seed``."""
    from werkzeug.security import generate_password_hash

    rng = random.Random(seed)
    data = Data()
    corpus = corpus_bench.generate(sizes["solutions"], seed)
    stamp = NOW - timedelta(days=400)

    # Units: 4 regions, 20 districts, 240 stores.
    units, stores, districts = [], [], []
    unit_id = 0
    for region in range(4):
        unit_id += 1
        region_id = unit_id
        units.append({"id": region_id, "code": f"R{region}", "name": f"Region {region}",
                      "kind": "region", "parent_id": None, "created_at": stamp})  # fmt: skip
        for district in range(5):
            unit_id += 1
            district_id = unit_id
            districts.append(district_id)
            units.append({"id": district_id, "code": f"D{region}{district}",
                          "name": f"District {region}{district}", "kind": "district",
                          "parent_id": region_id, "created_at": stamp})  # fmt: skip
            for store in range(12):
                unit_id += 1
                stores.append(unit_id)
                units.append({"id": unit_id, "code": f"S{region}{district}{store:02d}",
                              "name": f"Store {region}{district}{store:02d}", "kind": "store",
                              "parent_id": district_id, "created_at": stamp})  # fmt: skip

    # People: 1 admin, 10 CX leads, 100 managers, the rest staff; one store (district) each.
    hashed = generate_password_hash(PASSWORD, method="pbkdf2:sha256:1")
    n_users = sizes["users"]
    users, memberships, home = [], [], {}
    leads = list(range(2, 12))
    data.staff_id = 200 if n_users > 200 else n_users
    for user_id in range(1, n_users + 1):
        role = (
            "admin" if user_id == 1 else "cx_lead" if user_id < 12
            else "manager" if user_id < 112 else "staff"
        )  # fmt: skip
        email = {2: LEAD_EMAIL, data.staff_id: STAFF_EMAIL}.get(
            user_id, f"person{user_id}@bench.example"
        )
        users.append({"id": user_id, "email": email, "name": f"Person {user_id}",
                      "password_hash": hashed, "role": role, "active": True,
                      "must_change_password": False, "email_notifications": False,
                      "created_at": stamp})  # fmt: skip
        unit = rng.choice(districts) if role == "manager" else rng.choice(stores)
        home[user_id] = rng.choice(stores) if role == "manager" else unit
        memberships.append({"user_id": user_id, "unit_id": unit})
    staff_pool = list(range(12, n_users + 1))

    # Solutions: the corpus's text; statuses and proposals' authors decided here.
    solutions = corpus.solutions
    ids = [row["id"] for row in solutions]
    shuffled = ids[:]
    rng.shuffle(shuffled)
    scale = sizes["solutions"] / FULL["solutions"]
    n_pending = max(int(PENDING * scale), 30)
    n_other = {"draft": int(200 * scale), "retired": int(150 * scale), "rejected": int(50 * scale)}
    pending = set(shuffled[:n_pending])
    status = {solution_id: "approved" for solution_id in ids}
    for solution_id in pending:
        status[solution_id] = "pending"
    at = n_pending
    for name, count in n_other.items():
        for solution_id in shuffled[at : at + count]:
            status[solution_id] = name
        at += count
    approved = [solution_id for solution_id in ids if status[solution_id] == "approved"]
    for row in solutions:
        solution_id = row["id"]
        proposed = status[solution_id] in ("pending", "rejected") or rng.random() < 0.05
        author = rng.choice(staff_pool) if proposed else None
        created = stamp + timedelta(minutes=rng.randint(0, 390 * 24 * 60))
        if status[solution_id] == "pending":
            created = NOW - timedelta(minutes=rng.randint(60, 60 * 24 * 60))
        row.update(
            status=status[solution_id],
            author_id=author,
            anonymous=bool(author) and rng.random() < 0.15,
            origin_unit_id=home[author] if author else None,
            improves_id=(
                rng.choice(approved)
                if status[solution_id] == "pending" and rng.random() < 0.1
                else None
            ),
            created_at=created,
            updated_at=created,
        )
        data.codes[solution_id] = row["code"]

    # Votes: Zipf over the open solutions in a random order (pending ones too, fewer).
    open_ids = [
        solution_id for solution_id in ids if status[solution_id] in ("approved", "pending")
    ]
    rng.shuffle(open_ids)
    # Proposals are new: they go to the back half of the popularity order.
    open_ids.sort(key=lambda solution_id: status[solution_id] == "pending" and rng.random() < 0.8)
    data.ranked = open_ids
    data.open_ids = sorted(open_ids)
    cap = int(n_users * VOTE_CAP)
    vote_counts = _zipf_counts(sizes["votes"], len(open_ids), 1.0, cap)
    comment_counts = _zipf_counts(sizes["comments"], len(open_ids), 0.9, None)
    votes = []
    voters = list(range(1, n_users + 1))
    for solution_id, count in zip(open_ids, vote_counts, strict=True):
        data.votes_of[solution_id] = count
        for user_id in rng.sample(voters, count):
            votes.append({"user_id": user_id, "solution_id": solution_id, "value": 1,
                          "created_at": NOW - timedelta(minutes=rng.randint(1, 300 * 24 * 60))})  # fmt: skip
            if user_id == data.staff_id:
                data.staff_voted.add(solution_id)

    # Comments: some people write far more than others.
    activity = [1 / (rank + 5) for rank in range(n_users)]
    writers = list(range(1, n_users + 1))
    rng.shuffle(writers)
    comments = []
    comment_id = 0
    language = {row["id"]: row["language"] for row in solutions}
    outcomes = ("worked", "mixed", "did_not_work")
    for solution_id, count in zip(open_ids, comment_counts, strict=True):
        data.comments_of[solution_id] = count
        authors = rng.choices(writers, activity, k=count)
        texts = EN_COMMENTS if language[solution_id] == "en" else FR_COMMENTS
        for user_id in authors:
            comment_id += 1
            created = NOW - timedelta(minutes=rng.randint(1, 360 * 24 * 60))
            tried = rng.random() < 0.2
            body = " ".join(rng.sample(texts, rng.randint(1, 3)))
            if rng.random() < 0.1:
                body += "\n\n- " + "\n- ".join(rng.sample(texts, 2))
            elif rng.random() < 0.1:
                body = "**" + body.replace(". ", ".** ", 1)
            hidden = rng.random() < 0.01
            deleted = not hidden and rng.random() < 0.005
            comments.append({
                "id": comment_id, "solution_id": solution_id, "user_id": user_id,
                "kind": "tried_it" if tried else "comment",
                "body": "" if deleted else body,
                "outcome": rng.choices(outcomes, (0.55, 0.30, 0.15))[0] if tried else None,
                "unit_id": home[user_id] if tried else None,
                "tried_on": (created - timedelta(days=rng.randint(7, 120))).date() if tried else None,
                "hidden": hidden, "hidden_by_id": rng.choice(leads) if hidden else None,
                "hidden_at": created + timedelta(days=1) if hidden else None,
                "hidden_reason": "Off topic" if hidden else None,
                "created_at": created,
                "edited_at": created + timedelta(hours=2) if rng.random() < 0.05 else None,
                "deleted_at": created + timedelta(days=2) if deleted else None,
            })  # fmt: skip

    # Reports: ~300 comments with open reports (1-3 each), ~700 with closed ones.
    reports = []
    report_id = 0
    flagged = rng.sample(comments, min(int(1_000 * scale) or 50, len(comments)))
    n_open = max(int(300 * scale), 20)
    for index, comment in enumerate(flagged):
        reporters = rng.sample([u for u in staff_pool if u != comment["user_id"]][:400],
                               rng.randint(1, 3))  # fmt: skip
        for user_id in reporters:
            report_id += 1
            created = comment["created_at"] + timedelta(hours=rng.randint(1, 72))
            closed = index >= n_open
            reports.append({
                "id": report_id, "comment_id": comment["id"], "user_id": user_id,
                "reason": rng.choice(REPORT_REASONS), "created_at": created,
                "resolved_at": created + timedelta(days=1) if closed else None,
                "resolved_by_id": rng.choice(leads) if closed else None,
            })  # fmt: skip

    # Follows: authors follow their proposals; others follow popular solutions more.
    follow_pairs = {(row["author_id"], row["id"]) for row in solutions if row["author_id"]}
    follow_weights = [1 / (rank + 1) for rank in range(len(open_ids))]
    wanted = len(follow_pairs) + int(30_000 * scale)
    while len(follow_pairs) < wanted:
        follow_pairs.add((rng.randint(1, n_users), rng.choices(open_ids, follow_weights)[0]))
    follows = [
        {"user_id": user_id, "solution_id": solution_id, "created_at": stamp}
        for user_id, solution_id in sorted(follow_pairs)
    ]

    # Notifications: 60,000 (one staff member gets ~600 of them), most read.
    notifications = []
    kinds = ("comment", "comment", "comment", "tried", "measured", "approved", "rejected", "merged")
    n_notes = int(60_000 * scale)
    recipients = rng.choices(writers, activity, k=n_notes)
    for number, user_id in enumerate(recipients, start=1):
        if number % 100 == 0:
            user_id = data.staff_id
        comment = comments[rng.randrange(len(comments))]
        kind = rng.choice(kinds)
        created = NOW - timedelta(minutes=rng.randint(1, 200 * 24 * 60))
        notifications.append({
            "id": number, "user_id": user_id, "kind": kind,
            "solution_id": comment["solution_id"],
            "comment_id": comment["id"] if kind in ("comment", "tried") else None,
            "actor_id": comment["user_id"] if kind in ("comment", "tried") else rng.choice(leads),
            "details": _details(kind, rng),
            "created_at": created,
            "read_at": created + timedelta(hours=5) if rng.random() < 0.7 else None,
            "emailed_at": None,
        })  # fmt: skip

    # Plan items and a finished impact run: the evidence card and "adopted by N units".
    adoption_pairs: set[tuple[int, int]] = set()
    adopted_weights = [1 / (rank + 3) for rank in range(len(approved))]
    popular = sorted(approved, key=lambda solution_id: -data.votes_of.get(solution_id, 0))
    while len(adoption_pairs) < int(6_000 * scale):
        adoption_pairs.add((rng.choice(stores), rng.choices(popular, adopted_weights)[0]))
    adoptions = []
    for number, (unit, solution_id) in enumerate(sorted(adoption_pairs), start=1):
        created = stamp + timedelta(days=rng.randint(0, 300))
        adoptions.append({
            "id": number, "unit_id": unit, "solution_id": solution_id, "status": "implemented",
            "effective_on": created.date(), "created_at": created, "updated_at": created,
            "status_changed_at": created, "version": 1,
        })  # fmt: skip
    adopters: dict[int, int] = {}
    for _unit, solution_id in adoption_pairs:
        adopters[solution_id] = adopters.get(solution_id, 0) + 1
    run = {"id": 1, "estimator": "imputation", "period": "week", "window": 12,
           "control": "notyet", "min_units": 5, "status": "done", "trigger": "cli",
           "data_version": 0, "started_at": NOW - timedelta(days=1),
           "finished_at": NOW - timedelta(days=1), "seconds": 4.0, "units": len(stores),
           "periods": 104}  # fmt: skip
    estimates = []
    measured = sorted(adopters.items(), key=lambda item: -item[1])
    for rank, (solution_id, n_units) in enumerate(measured, start=1):
        effect = rng.gauss(0.15, 0.2)
        enough = n_units >= 5
        estimates.append({
            "run_id": 1, "solution_id": solution_id, "effect": effect, "se": 0.08,
            "ci_low": effect - 0.16, "ci_high": effect + 0.16, "raw_effect": effect,
            "raw_se": 0.09, "n_units": n_units, "n_cells": n_units * 12,
            "rank": rank if enough else None, "placebo": 0.01, "placebo_se": 0.05,
            "placebo_warning": False, "enough_evidence": enough,
        })  # fmt: skip

    data.tables = [
        ("units", units),
        ("users", users),
        ("user_units", memberships),
        ("challenges", corpus.challenges),
        ("solutions", solutions),
        ("solution_challenges", corpus.links),
        ("votes", votes),
        ("comments", comments),
        ("comment_reports", reports),
        ("follows", follows),
        ("notifications", notifications),
        ("adoptions", adoptions),
        ("impact_runs", [run]),
        ("impact_estimates", estimates),
    ]
    data.counts = {name: len(rows) for name, rows in data.tables}
    data.counts.update(
        pending=n_pending,
        approved=len(approved),
        tried=sum(1 for row in comments if row["kind"] == "tried_it"),
        open_reports=n_open,
        staff_notifications=sum(1 for row in notifications if row["user_id"] == data.staff_id),
    )
    return data


def load(data: Data) -> float:
    """Every table, in order, with core inserts in chunks; returns the seconds taken."""
    import sqlalchemy as sa

    from cxactions.foundations.extensions import db

    began = time.perf_counter()
    for name, rows in data.tables:
        table = db.metadata.tables[name]
        # Solutions point at solutions (improvements): those links go in afterwards.
        later = [row for row in rows if row.get("improves_id")] if name == "solutions" else []
        for start in range(0, len(rows), CHUNK):
            chunk = rows[start : start + CHUNK]
            if later:
                chunk = [{**row, "improves_id": None} for row in chunk]
            db.session.execute(sa.insert(table), chunk)
        if later:
            db.session.execute(
                sa.update(table).where(table.c.id == sa.bindparam("b_id")),
                [{"b_id": row["id"], "improves_id": row["improves_id"]} for row in later],
            )
        db.session.commit()
    if db.engine.dialect.name == "postgresql":
        with db.engine.connect() as connection:
            for name, rows in data.tables:
                if "id" in db.metadata.tables[name].c and rows:
                    connection.execute(
                        sa.text(
                            f"SELECT setval(pg_get_serial_sequence('{name}', 'id'), "
                            f"(SELECT max(id) FROM {name}))"
                        )
                    )
            connection.commit()
        with db.engine.connect().execution_options(isolation_level="AUTOCOMMIT") as connection:
            connection.execute(sa.text("ANALYZE"))
    else:
        with db.engine.connect() as connection:
            connection.execute(sa.text("ANALYZE"))
            connection.commit()
    return time.perf_counter() - began


# --- Measuring -------------------------------------------------------------------------------


def _config(folder: str, url: str | None) -> dict:
    return {
        "SECRET_KEY": "bench-" + "x" * 32,
        "SQLALCHEMY_DATABASE_URI": url or f"sqlite:///{os.path.join(folder, 'bench.sqlite3')}",
        "INSTANCE_PATH": folder,
        "SEARCH_INDEX_PATH": os.path.join(folder, "search-index"),
        "IMPACT_BACKGROUND_REFRESH": False,
        "WTF_CSRF_ENABLED": False,
        "SESSION_COOKIE_SECURE": False,
        "REMEMBER_COOKIE_SECURE": False,
    }


@dataclass
class Timed:
    """One request: wall time, this process's CPU time, SQL and Markdown spent in it."""

    ms: float
    cpu_ms: float
    queries: int
    sql_ms: float
    markdown_ms: float
    markdown_calls: int
    search_ms: float  # the desk's duplicate lookups (``similar_solutions``)
    search_calls: int
    gc_passes: int  # Python's cyclic collector, any generation
    gc_full: int  # of which full (generation 2) passes
    gc_ms: float
    size: int


def _p95(values: list[float]) -> float:
    ordered = sorted(values)
    return ordered[max(int(len(ordered) * 0.95 + 0.5) - 1, 0)]


def _machine_cpu() -> float:
    return corpus_bench.busy_cpu_seconds()


def _own_cpu() -> float:
    """CPU seconds of this process and of its children that ended (the index writer's)."""
    return sum(
        usage.ru_utime + usage.ru_stime
        for usage in (
            resource.getrusage(resource.RUSAGE_SELF),
            resource.getrusage(resource.RUSAGE_CHILDREN),
        )
    )


def measure(data: Data, folder: str, url: str | None, arguments, index_from: str | None) -> dict:
    """Load the database, build the index (or copy ``index_from``, built from the same rows)
    and time every request; in a fresh process."""
    import sqlalchemy as sa

    import cxactions.models  # noqa: F401  (every table known before create_all)
    from cxactions import create_app
    from cxactions.foundations.extensions import db
    from cxactions.search.service import rebuild_index

    os.makedirs(folder, exist_ok=True)
    config = _config(folder, url)
    app = create_app(config)
    figures: dict = {"backend": "sqlite" if url is None else "postgresql"}
    with app.app_context():
        db.create_all()
        figures["load_s"] = load(data)
        if index_from is None:
            # The index writer works in processes of its own: their CPU is the rebuild's too.
            began, machine, own = time.perf_counter(), _machine_cpu(), _own_cpu()
            figures["index_docs"] = rebuild_index()
            figures["index_s"] = time.perf_counter() - began
            figures["index_cpu"] = _own_cpu() - own
            others = _machine_cpu() - machine - figures["index_cpu"]
            figures["index_other"] = max(others, 0.0) / figures["index_s"]
        else:
            shutil.copytree(index_from, config["SEARCH_INDEX_PATH"])
        if url is None:
            figures["db_mb"] = os.path.getsize(os.path.join(folder, "bench.sqlite3")) / 1e6
        else:
            figures["db_mb"] = (
                db.session.scalar(sa.text("SELECT pg_database_size(current_database())")) / 1e6
            )
        db.session.remove()
        engine = db.engine
    # The generated rows go before the timings: a server process does not hold them, and
    # Python's collector would otherwise walk them all in its full passes, inside requests.
    data.tables.clear()
    gc.collect()
    figures["gc_objects"] = len(gc.get_objects())

    counter = {"queries": 0, "sql": 0.0, "started": 0.0, "log": None}
    counter.update(md=0.0, md_calls=0, search=0.0, search_calls=0, gc=0.0, gc_passes=0, gc_full=0)

    def _collector(phase: str, info: dict) -> None:
        if phase == "start":
            counter["gc_started"] = time.perf_counter()
            return
        counter["gc"] += time.perf_counter() - counter["gc_started"]
        counter["gc_passes"] += 1
        counter["gc_full"] += info["generation"] == 2

    gc.callbacks.append(_collector)

    @sa.event.listens_for(engine, "before_cursor_execute")
    def _before(conn, cursor, statement, parameters, context, executemany):
        counter["started"] = time.perf_counter()

    @sa.event.listens_for(engine, "after_cursor_execute")
    def _after(conn, cursor, statement, parameters, context, executemany):
        counter["queries"] += 1
        elapsed = time.perf_counter() - counter["started"]
        counter["sql"] += elapsed
        if counter["log"] is not None:
            counter["log"].append((elapsed * 1000, " ".join(statement.split()), str(parameters)))

    # The templates' ``markdown`` filter, timed (comments and solution bodies go through it).
    render_markdown = app.jinja_env.filters["markdown"]

    def timed_markdown(text):
        began = time.perf_counter()
        try:
            return render_markdown(text)
        finally:
            counter["md"] += time.perf_counter() - began
            counter["md_calls"] += 1

    app.jinja_env.filters["markdown"] = timed_markdown
    # The desk's duplicate lookups, timed likewise (the view calls them through the module).
    from cxactions.crowd import services as crowd_services

    similar_solutions = crowd_services.similar_solutions

    def timed_similar(*args, **kwargs):
        began = time.perf_counter()
        try:
            return similar_solutions(*args, **kwargs)
        finally:
            counter["search"] += time.perf_counter() - began
            counter["search_calls"] += 1

    crowd_services.similar_solutions = timed_similar

    staff = app.test_client()
    lead = app.test_client()
    for client, email in ((staff, STAFF_EMAIL), (lead, LEAD_EMAIL)):
        response = client.post("/login", data={"email": email, "password": PASSWORD})
        assert response.status_code == 302, (email, response.status_code)

    def timed(client, path: str, *, post: dict | None = None, status: int = 200) -> Timed:
        counter.update(queries=0, sql=0.0, md=0.0, md_calls=0, search=0.0, search_calls=0)
        counter.update(gc=0.0, gc_passes=0, gc_full=0)
        began, cpu = time.perf_counter(), time.process_time()
        response = client.post(path, data=post) if post is not None else client.get(path)
        body = response.get_data()
        elapsed = (time.perf_counter() - began) * 1000
        cpu_ms = (time.process_time() - cpu) * 1000
        assert response.status_code == status, (path, response.status_code, body[:300])
        return Timed(
            elapsed, cpu_ms, counter["queries"], counter["sql"] * 1000, counter["md"] * 1000,
            counter["md_calls"], counter["search"] * 1000, counter["search_calls"],
            counter["gc_passes"], counter["gc_full"], counter["gc"] * 1000, len(body),
        )  # fmt: skip

    rng = random.Random(arguments.seed)
    code = data.codes
    heaviest = data.ranked[0]
    figures["heaviest"] = {
        "code": code[heaviest],
        "votes": data.votes_of[heaviest],
        "comments": data.comments_of[heaviest],
    }
    # Warm-up: templates compiled, the index opened; the first of each is kept apart.
    figures["first_page"] = timed(staff, f"/solutions/{code[data.ranked[-1]]}")
    figures["first_desk"] = timed(lead, "/desk")
    timed(staff, "/proposals")
    timed(staff, "/notifications")
    figures["quiet"] = corpus_bench.wait_for_quiet(limit=arguments.quiet)
    other_load: dict[str, float] = {}

    def timed_pass(name: str, runs):
        with corpus_bench.OtherLoad() as other:
            figures[name] = [run() for run in runs]
        other_load[name] = other.cpu / other.wall

    sample = data.ranked[:10] + rng.sample(data.ranked[10:], 190)
    rng.shuffle(sample)
    page = "/solutions/{}".format
    timed_pass("page", [lambda s=s: timed(staff, page(code[s])) for s in sample])
    timed_pass("page_heaviest", [lambda: timed(staff, page(code[heaviest]))] * 20)
    timed_pass("page_heaviest_lead", [lambda: timed(lead, page(code[heaviest]))] * 20)
    pending = data.counts["pending"]
    later = max(2, (pending // 10) * 4 // 5)
    figures["desk_later_page"] = later
    desk = ["/desk" if number % 2 == 0 else f"/desk?page={later}" for number in range(50)]
    timed_pass("desk", [lambda path=path: timed(lead, path) for path in desk])
    voting = [heaviest] + rng.sample([s for s in data.ranked[1:] if s not in data.staff_voted], 99)
    votes = []
    for solution_id in voting:
        path = f"/solutions/{code[solution_id]}/vote"
        votes.append(lambda path=path: timed(staff, path, post={"vote": "on"}, status=302))
        votes.append(lambda path=path: timed(staff, path, post={"vote": "off"}, status=302))
    timed_pass("vote", votes)
    figures["vote_on"] = figures["vote"][0::2]
    figures["vote_off"] = figures["vote"][1::2]
    timed_pass("proposals", [lambda: timed(staff, "/proposals")] * 20)
    timed_pass("proposals_newest", [lambda: timed(staff, "/proposals?sort=newest")] * 20)
    timed_pass("notifications", [lambda: timed(staff, "/notifications")] * 20)
    figures["other_load"] = other_load

    if arguments.explain:
        for name, client, path in (
            ("heaviest page (CX lead)", lead, page(code[heaviest])),
            (f"desk page {later}", lead, f"/desk?page={later}"),
            ("ideas board", staff, "/proposals"),
        ):
            counter["log"] = []
            timed(client, path)
            figures.setdefault("slowest_sql", {})[name] = sorted(
                counter["log"], key=lambda item: -item[0]
            )[:5]
        counter["log"] = None
        figures["plans"] = explain(app, heaviest, data)
    with app.app_context():
        db.engine.dispose()
    figures["peak_mb"] = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    return figures


def explain(app, solution_id: int, data: Data) -> dict[str, str]:
    """The query plans of the pages' heaviest statements."""
    import sqlalchemy as sa

    from cxactions.crowd import services
    from cxactions.crowd.models import Comment, Vote
    from cxactions.foundations.extensions import db
    from cxactions.foundations.vocabulary import CommentKind, SolutionStatus
    from cxactions.library.models import Solution

    plans = {}
    with app.app_context():
        dialect = db.engine.dialect
        statements = {
            "newest comments": sa.select(Comment)
            .where(Comment.solution_id == solution_id)
            .order_by(Comment.created_at.desc(), Comment.id.desc())
            .limit(services.COMMENTS_SHOWN),
            "tried tally": sa.select(Comment.outcome, sa.func.count())
            .where(
                Comment.solution_id == solution_id,
                Comment.kind == CommentKind.TRIED_IT,
                Comment.hidden.is_(False),
                Comment.deleted_at.is_(None),
            )
            .group_by(Comment.outcome),
            "vote count": sa.select(sa.func.count())
            .select_from(Vote)
            .where(Vote.solution_id == solution_id),
            "desk proposals": services.desk_submissions_query().limit(10).offset(300),
            "desk duplicates (approved among 3 ids)": sa.select(Solution).where(
                Solution.id.in_(data.ranked[1:4]), Solution.status == SolutionStatus.APPROVED
            ),
            "desk reports": services.desk_reports_query().limit(20),
            "board by votes": services.proposals_query("votes").limit(20),
        }
        for name, statement in statements.items():
            compiled = statement.compile(dialect=dialect, compile_kwargs={"literal_binds": True})
            if dialect.name == "sqlite":
                rows = db.session.execute(sa.text(f"EXPLAIN QUERY PLAN {compiled}")).all()
                plans[name] = "\n".join(str(row[-1]) for row in rows)
            else:
                rows = db.session.execute(sa.text(f"EXPLAIN ANALYZE {compiled}")).all()
                plans[name] = "\n".join(str(row[0]) for row in rows)
        db.session.remove()
    return plans


def _measure_into(sender, *arguments) -> None:
    try:
        sender.send(("ok", measure(*arguments)))
    except BaseException as error:
        import traceback

        sender.send(("error", f"{error!r}\n{traceback.format_exc()}"))
    finally:
        sender.close()


def measure_apart(*arguments) -> dict:
    """``measure`` in a forked child: each database starts cold, with its own peak RSS. Not a
    pool worker: the search index's writer starts processes of its own, which a daemonic pool
    worker may not."""
    context = multiprocessing.get_context("fork")
    receiver, sender = context.Pipe(duplex=False)
    child = context.Process(target=_measure_into, args=(sender, *arguments))
    child.start()
    sender.close()
    try:
        status, value = receiver.recv()
    except EOFError:
        status, value = "error", "the measuring process died"
    child.join()
    if status != "ok":
        raise RuntimeError(f"measuring failed: {value}")
    return value


def create_postgres(admin: str, name: str) -> tuple[str, str]:
    """A fresh database ``name`` (dropped first if left over); returns its URL and the version."""
    import sqlalchemy as sa

    engine = sa.create_engine(admin, isolation_level="AUTOCOMMIT")
    with engine.connect() as connection:
        connection.execute(sa.text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        connection.execute(sa.text(f'CREATE DATABASE "{name}"'))
        version = connection.scalar(sa.text("SHOW server_version"))
    engine.dispose()
    url = sa.engine.make_url(admin).set(database=name).render_as_string(hide_password=False)
    return url, str(version).split()[0]


def drop_postgres(admin: str, name: str) -> None:
    import sqlalchemy as sa

    engine = sa.create_engine(admin, isolation_level="AUTOCOMMIT")
    with engine.connect() as connection:
        connection.execute(sa.text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
    engine.dispose()


# --- Report ----------------------------------------------------------------------------------

ROWS = (  # key, label, target key
    ("page", "solution page `GET /solutions/<code>`: 200 solutions (the 10 heaviest, 190 at "
     "random)", "page"),
    ("page_heaviest", "the heaviest solution's page, staff, 20 times", "page"),
    ("page_heaviest_lead", "the heaviest solution's page, CX lead (moderation forms on every "
     "comment, every unit in the form), 20 times", "page"),
    ("desk", "moderation desk `GET /desk`: 50 (page 1 and page {later} alternately)", "desk"),
    ("vote", "vote `POST /solutions/<code>/vote`: 200 (on, then off, on 100 solutions)", "vote"),
    ("vote_on", "… `vote=on`", None),
    ("vote_off", "… `vote=off`", None),
    ("proposals", "ideas board `GET /proposals` (most voted first), 20", None),
    ("proposals_newest", "ideas board, newest first, 20", None),
    ("notifications", "notifications `GET /notifications`, 20", None),
)  # fmt: skip


def _comments_shown() -> int:
    from cxactions.crowd.services import COMMENTS_SHOWN

    return COMMENTS_SHOWN


def _median(values: list[Timed], attribute: str) -> float:
    return statistics.median(getattr(item, attribute) for item in values)


def _p95_of(values: list[Timed], attribute: str = "ms") -> float:
    return _p95([getattr(item, attribute) for item in values])


def _span(values: list[Timed], attribute: str) -> str:
    found = sorted({getattr(item, attribute) for item in values})
    return f"{found[0]}" if len(found) == 1 else f"{found[0]}–{found[-1]}"


def _full_pass_ms(values: list[Timed]) -> str:
    found = sorted(item.ms for item in values if item.gc_full)
    if not found:
        return "nothing more"
    return f"{found[0]:.0f}–{found[-1]:.0f} ms" if len(found) > 1 else f"{found[0]:.0f} ms"


def _collector_cell(values: list[Timed]) -> str:
    full = [item for item in values if item.gc_full]
    passes = statistics.median(item.gc_passes for item in values)
    if not full:
        return f"{passes:.0f} (no full pass)"
    longest = max(item.gc_ms for item in full)
    return f"{passes:.0f} ({sum(item.gc_full for item in full)} full; {longest:.0f} ms)"


def where_the_time_goes(results: dict) -> list[str]:
    """What the measured shares say about the heaviest page and the desk, per database."""
    lines = []
    for name, figures in results.items():
        heavy, lead, desk = (
            figures[key] for key in ("page_heaviest", "page_heaviest_lead", "desk")
        )
        lines.append(
            f"- {name}: the heaviest page (staff) takes {_median(heavy, 'ms'):.0f} ms "
            f"({_median(heavy, 'cpu_ms'):.0f} ms of CPU), of which the `markdown` filter "
            f"{_median(heavy, 'markdown_ms'):.0f} ms over {_span(heavy, 'markdown_calls')} calls "
            f"(the comments shown and the solution's body) and SQL {_median(heavy, 'sql_ms'):.0f} ms over "
            f"{_span(heavy, 'queries')} statements; the rest is the template (the comment macro "
            f"{_comments_shown()} times). As a CX lead: {_median(lead, 'ms'):.0f} ms ({_median(lead, 'cpu_ms'):.0f} "
            f"ms of CPU). The desk takes {_median(desk, 'ms'):.0f} ms "
            f"({_median(desk, 'cpu_ms'):.0f} ms of CPU), of which {_span(desk, 'search_calls')} "
            f"duplicate searches {_median(desk, 'search_ms'):.0f} ms and SQL "
            f"{_median(desk, 'sql_ms'):.0f} ms over {_span(desk, 'queries')} statements. "
            f"Python's cyclic collector runs {_median(heavy, 'gc_passes'):.0f} times during the "
            f"heaviest page ({_median(figures['vote'], 'gc_passes'):.0f} during a vote); "
            f"{sum(1 for item in heavy if item.gc_full)} of its 20 requests included a full "
            f"pass, and those took {_full_pass_ms(heavy)}."
        )
    return lines


def summary(figures: dict) -> str:
    return "; ".join(
        f"{key} p50 {_median(figures[key], 'ms'):.0f} p95 {_p95_of(figures[key]):.0f} ms "
        f"(CPU p95 {_p95_of(figures[key], 'cpu_ms'):.0f})"
        for key, _label, _target in ROWS
    )


def markdown(data: Data, results: dict, databases: dict, arguments, extra: dict) -> str:
    names = list(results)
    counts = data.counts
    first = results[names[0]]
    heavy = first["heaviest"]
    later = first["desk_later_page"]

    def target_row(key: str, label: str, target: str) -> str:
        limit = TARGETS[target]
        cells, ok = [], True
        for name in names:
            p95 = _p95_of(results[name][key])
            ok = ok and p95 <= limit
            cells.append(f"**{p95:.0f} ms** (CPU {_p95_of(results[name][key], 'cpu_ms'):.0f})")
        return f"| {label} | ≤ {limit:.0f} ms | {' | '.join(cells)} | {'met' if ok else '**missed**'} |"

    lines = [
        HEADING,
        "",
        f"Measured {date.today():%Y-%m-%d} on {os.cpu_count()} cores ({platform.machine()}, "
        f"{platform.system()}, {extra['memory_gb']:.0f} GB), Python {platform.python_version()}, "
        f"{', '.join(databases.values())} by `bench/crowd.py` (seed {arguments.seed}"
        f"{', --small' if arguments.small else ''}; {extra['total_s']:.0f} s in all; load "
        f"average {extra['load'][0]:.1f} at the start, {extra['load'][-1]:.1f} at the end).",
        "",
        f"Data: {counts['solutions']:,} solutions ({counts['approved']:,} approved, "
        f"{counts['pending']:,} pending proposals with authors, the rest drafts, retired or "
        f"rejected; `bench/search.py`'s English and French text) mapped to the "
        f"{counts['challenges']} seed challenges ({counts['solution_challenges']:,} links); "
        f"{counts['users']:,} people in {counts['units']} units; {counts['votes']:,} votes (Zipf "
        f"over the open solutions, at most {VOTE_CAP:.0%} of the people on one); "
        f"{counts['comments']:,} comments ({counts['tried']:,} \"we tried it\" reports with an "
        f"outcome, a store and a date; ~1% hidden, 0.5% deleted, 10% with a Markdown list), "
        f"{counts['comment_reports']:,} reports ({counts['open_reports']} comments with open "
        f"ones), {counts['follows']:,} follows, {counts['notifications']:,} notifications "
        f"({counts['staff_notifications']} for the staff member measured), "
        f"{counts['adoptions']:,} plan items, {counts['impact_estimates']:,} impact estimates. "
        f"The heaviest solution (`{heavy['code']}`, the most voted and the most commented) has "
        f"{heavy['votes']:,} votes and {heavy['comments']:,} comments (the page shows the newest "
        f"{_comments_shown()}, older ones on further pages).",
        "",
        "| target | limit | " + " | ".join(f"{name} p95 (CPU p95)" for name in names)
        + " | verdict |",
        "| --- | ---: | " + " | ".join("---:" for _ in names) + " | --- |",
        target_row("page", "solution page, 200 solutions", "page"),
        target_row("page_heaviest", "the heaviest solution's page (staff)", "page"),
        target_row("page_heaviest_lead", "the heaviest solution's page (CX lead)", "page"),
        target_row("desk", "moderation desk", "desk"),
        target_row("vote", "a vote (on or off)", "vote"),
        "",
        "Wall time is what the targets are about; CPU is this process's own CPU time during the "
        "request (`time.process_time`), less inflated by other processes on the machine "
        "(PostgreSQL's own work is not in it; SQL time is).",
        "",
        "Where the time goes (medians):",
        "",
        *where_the_time_goes(results),
        "",
    ]  # fmt: skip
    for name in names:
        figures = results[name]
        lines += [
            f"{name} ({databases[name]}):",
            "",
            "| request | wall median / p95 / max | CPU median / p95 | SQL statements (time, "
            "median) | Markdown calls (time, median) | duplicate searches (time, median) | "
            "collector passes a request (full passes in all, their longest) | others' CPU |",
            "| --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: |",
        ]
        for key, label, _target in ROWS:
            values = figures[key]
            ms = [item.ms for item in values]
            other = figures["other_load"].get(key)
            lines.append(
                f"| {label.format(later=later)} | {statistics.median(ms):.0f} / "
                f"**{_p95(ms):.0f}** / {max(ms):.0f} ms | {_median(values, 'cpu_ms'):.0f} / "
                f"{_p95_of(values, 'cpu_ms'):.0f} ms | {_span(values, 'queries')} "
                f"({_median(values, 'sql_ms'):.1f} ms) | {_span(values, 'markdown_calls')} "
                f"({_median(values, 'markdown_ms'):.1f} ms) | {_span(values, 'search_calls')} "
                f"({_median(values, 'search_ms'):.1f} ms) | {_collector_cell(values)} | "
                + (f"{other:.0%} of a core |" if other is not None else "— |")
            )
        lines.append("")
    lines += [
        "| figure | " + " | ".join(names) + " |",
        "| --- | " + " | ".join("---:" for _ in names) + " |",
        "| the process's first solution page / first desk (templates compiled, index opened) | "
        + " | ".join(
            f"{results[n]['first_page'].ms:.0f} / {results[n]['first_desk'].ms:.0f} ms"
            for n in names
        )
        + " |",
        "| bulk load (core inserts) + `ANALYZE` | "
        + " | ".join(f"{results[n]['load_s']:.0f} s" for n in names)
        + " |",
        "| search index `rebuild_index()` | "
        + " | ".join(
            f"{results[n]['index_s']:.0f} s ({results[n]['index_docs']:,} documents; "
            f"{results[n]['index_cpu']:.0f} CPU-s in its processes; others used "
            f"{results[n]['index_other']:.0%} of a core meanwhile)"
            if "index_s" in results[n] else "the same index, copied"
            for n in names
        )
        + " |",
        "| database size | " + " | ".join(f"{results[n]['db_mb']:.0f} MB" for n in names) + " |",
        "| the heaviest page's size | "
        + " | ".join(f"{results[n]['page_heaviest'][0].size / 1000:.0f} kB" for n in names)
        + " |",
        "| objects tracked by Python's collector while timing | "
        + " | ".join(f"{results[n]['gc_objects']:,}" for n in names)
        + " |",
        "| peak RSS of the measuring process (it held the generated rows while loading) | "
        + " | ".join(f"{results[n]['peak_mb']:.0f} MB" for n in names)
        + " |",
        "",
        "Each database is loaded and measured in its own fresh process: the schema by "
        "`create_all`, the rows by SQLAlchemy core inserts in chunks, `ANALYZE`, then the search "
        "index by `rebuild_index()` once (on SQLite; PostgreSQL, holding the same rows and ids, "
        "gets a copy of it). Every figure is a whole request through the Flask test client "
        "(session read, queries, template, response body), signed in as a staff member (a CX "
        "lead for the desk), CSRF off; the vote's redirect is not followed. SQL statements and "
        "SQL time come from SQLAlchemy's cursor events (the session read included); Markdown "
        "time is the templates' `markdown` filter, wrapped. Before the timed passes the "
        f"process waits up to {arguments.quiet:.0f} s for a quiet second; \"others' CPU\" is the "
        "CPU other processes used during the pass (`/proc/stat` minus this process), in shares "
        "of one core (2 in all); on PostgreSQL it includes the server's own work for the "
        "requests.",
        "",
    ]  # fmt: skip
    return "\n".join(lines)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--small", action="store_true", help="2,000 solutions: a quick check")
    parser.add_argument("--seed", type=int, default=15)
    parser.add_argument(
        "--postgres",
        default=os.environ.get(
            "CXACTIONS_BENCH_POSTGRES", "postgresql+psycopg://postgres@127.0.0.1:5432/test"
        ),
        help="admin URL of a PostgreSQL server ('' to skip)",
    )
    parser.add_argument(
        "--quiet", type=float, default=30.0, help="seconds to wait for a quiet machine at most"
    )
    parser.add_argument("--explain", action="store_true", help="print the slowest statements")
    parser.add_argument("--no-write", action="store_true")
    arguments = parser.parse_args()
    started = time.perf_counter()
    load_average = [os.getloadavg()[0]]
    sizes = SMALL if arguments.small else FULL
    data = generate(sizes, arguments.seed)
    print(f"generated {data.counts} in {time.perf_counter() - started:.0f} s", file=sys.stderr)
    folder = tempfile.mkdtemp(prefix="cxactions-crowd-bench-")
    results: dict[str, dict] = {}
    databases = {"SQLite": f"SQLite {sqlite3.sqlite_version}"}
    name = f"cxbench_crowd_{os.getpid()}"
    created = False
    try:
        sqlite_folder = os.path.join(folder, "sqlite")
        results["SQLite"] = measure_apart(data, sqlite_folder, None, arguments, None)
        print(f"SQLite: {summary(results['SQLite'])}", file=sys.stderr)
        if arguments.postgres:
            url, version = create_postgres(arguments.postgres, name)
            created = True
            databases["PostgreSQL"] = f"PostgreSQL {version}"
            results["PostgreSQL"] = measure_apart(
                data, os.path.join(folder, "postgresql"), url, arguments,
                os.path.join(sqlite_folder, "search-index"),
            )  # fmt: skip
            print(f"PostgreSQL: {summary(results['PostgreSQL'])}", file=sys.stderr)
    finally:
        if created:
            drop_postgres(arguments.postgres, name)
        shutil.rmtree(folder, ignore_errors=True)
    load_average.append(os.getloadavg()[0])
    if arguments.explain:
        for backend, figures in results.items():
            for page, statements in figures["slowest_sql"].items():
                print(f"\n### {backend}: the slowest statements of the {page}")
                for ms, statement, parameters in statements:
                    print(f"- {ms:.1f} ms: {statement[:400]} {parameters[:200]}")
            for query, plan in figures["plans"].items():
                print(f"\n### {backend} plan, {query}:\n{plan}")
    memory = os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_PHYS_PAGES") / 2**30
    extra = {"total_s": time.perf_counter() - started, "load": load_average, "memory_gb": memory}
    section = markdown(data, results, databases, arguments, extra)
    print(section)
    if not arguments.no_write:
        write_section(HEADING, section)


if __name__ == "__main__":
    main()
