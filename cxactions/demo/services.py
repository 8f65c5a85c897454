"""Writing the demo organisation into the database, in the caller's transaction.

The simulator (``cxactions.analytics.simulator``) makes the numbers with planted effects and
``generator`` names things; this module writes them in bulk with SQLAlchemy Core executemany
(never one ORM object per row), then brings the weekly aggregates up to date.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta
from pathlib import Path

import numpy as np
import sqlalchemy as sa
from sqlalchemy.orm import Session, selectinload

from cxactions.analytics.simulator import DRIVERS, Simulation, simulate
from cxactions.audit.services import record
from cxactions.auth.models import User, user_units
from cxactions.auth.services import upsert_user
from cxactions.crowd.models import Comment, CommentReport, Follow, Notification, Vote
from cxactions.demo import generator
from cxactions.demo.progress import Progress
from cxactions.drivers.services import survey_data_changed
from cxactions.foundations.extensions import db
from cxactions.foundations.scales import default_scale
from cxactions.foundations.versions import bump_data_version
from cxactions.foundations.vocabulary import (
    CommentKind,
    NotificationKind,
    Role,
    SignalDirection,
    SolutionKind,
    SolutionStatus,
    ThresholdKind,
    TriedOutcome,
)
from cxactions.library.models import Solution
from cxactions.library.seed import SeedSummary, load_seed
from cxactions.plans.models import STEP_MAX, STEPS_MAX, Adoption, PlanStep
from cxactions.surveys.aggregates import refresh_unit_weeks
from cxactions.surveys.models import Metric, OperationValue, Response
from cxactions.taxonomy.models import Challenge, ChallengeSignal
from cxactions.units.models import Unit

ACTOR = "demo"
CHUNK_ROWS = 20_000


@dataclass(frozen=True)
class DemoOptions:
    seed_dir: Path
    stores: int = 120
    weeks: int = 104
    seed: int = 2024
    end_week: date | None = None  # Monday of the last week; default: last full week
    password: str = "demo-password"


@dataclass
class DemoResult:
    """What was generated, for the closing message and the tests."""

    seed: SeedSummary
    simulation: Simulation
    regions: int
    districts: int
    stores: int
    responses: int
    operations: int
    adoptions: int
    solutions_adopted: int
    first_week: date
    last_week: date
    accounts: list[tuple[str, str, str]] = field(default_factory=list)  # role, email, scope


def database_unit_count(session: Session) -> int:
    return session.scalar(sa.select(sa.func.count()).select_from(Unit)) or 0


def wipe_all(session: Session) -> None:
    """Delete every row of every table (children first), in the caller's transaction."""
    for table in reversed(db.metadata.sorted_tables):
        session.execute(table.delete())
    session.expunge_all()


def generate_demo(
    session: Session, options: DemoOptions, progress: Progress | None = None
) -> DemoResult:
    """Load the seed library and write a whole demo organisation; the caller commits."""
    progress = progress or Progress()
    progress.step(f"Loading the starter library from {options.seed_dir}")
    seed_summary = load_seed(session, options.seed_dir, actor=ACTOR)
    metric_ids = _upsert_metrics(session)
    _add_signals(session, metric_ids)

    rng = np.random.default_rng(options.seed)
    approved = session.execute(
        sa.select(Solution).where(Solution.status == SolutionStatus.APPROVED)
        .options(selectinload(Solution.challenges))
    ).scalars().all()  # fmt: skip
    library = generator.choose_library(
        [(s.code, tuple(c.code for c in s.challenges)) for s in approved], options.stores, rng
    )
    end_week = options.end_week or generator.last_full_week(date.today())
    config = generator.simulation_config(
        options.stores, options.weeks, options.seed, end_week, library
    )
    progress.step(
        f"Simulating {options.stores} stores over {options.weeks} weeks "
        f"({config.start:%Y-%m-%d} to {end_week + timedelta(days=6):%Y-%m-%d})"
    )
    simulation = simulate(config)

    progress.step("Writing the organisation and the demo users")
    unit_ids = _insert_units(session, simulation)
    manager_district = simulation.units.loc[simulation.units["kind"] == "district", "unit_id"]
    manager_district = str(manager_district.iloc[0])
    people, accounts = _insert_users(session, options.password, manager_district)

    responses = _insert_responses(session, simulation, unit_ids, progress)
    operations = _insert_operations(session, simulation, unit_ids, metric_ids, progress)

    progress.step("Writing action plans, staff submissions, votes and comments")
    solution_ids = {s.code: s.id for s in approved}
    challenge_ids = dict(session.execute(sa.select(Challenge.code, Challenge.id)).all())
    managed = _stores_under(simulation, manager_district)
    adoptions = _insert_adoptions(
        session, simulation, library, unit_ids, solution_ids, challenge_ids, people, managed, rng
    )
    _insert_crowd(session, library, solution_ids, challenge_ids, people, end_week, rng)

    progress.step("Computing the weekly scores per store")
    refresh_unit_weeks(session)
    bump_data_version(session)
    survey_data_changed(session)
    regions = int((simulation.units["kind"] == "region").sum())
    districts = int((simulation.units["kind"] == "district").sum())
    record(
        session,
        "demo.generate",
        "organisation",
        actor=ACTOR,
        details={
            "stores": options.stores,
            "weeks": options.weeks,
            "seed": options.seed,
            "responses": responses,
            "adoptions": adoptions,
        },
    )
    session.flush()
    return DemoResult(
        seed=seed_summary,
        simulation=simulation,
        regions=regions,
        districts=districts,
        stores=options.stores,
        responses=responses,
        operations=operations,
        adoptions=adoptions,
        solutions_adopted=int(simulation.adoptions["solution_id"].nunique()),
        first_week=config.start,
        last_week=end_week,
        accounts=accounts,
    )


# --------------------------------------------------------------------------------------------


def _upsert_metrics(session: Session) -> dict[str, int]:
    """The survey drivers and operational inputs the demo measures, with labels and targets."""
    existing = {m.code: m for m in session.scalars(sa.select(Metric))}
    for definition in generator.METRICS:
        metric = existing.get(definition.code)
        if metric is None:
            # Survey scores on 0–10, operational inputs unbounded; a CX lead may change them.
            low, high = default_scale(definition.kind)
            metric = Metric(code=definition.code, scale_min=low, scale_max=high)
            session.add(metric)
            existing[definition.code] = metric
        metric.label = definition.label
        metric.kind = definition.kind
        metric.higher_is_better = definition.higher_is_better
        metric.target = definition.target
    session.flush()
    return {code: metric.id for code, metric in existing.items()}


def _add_signals(session: Session, metric_ids: dict[str, int]) -> None:
    """Tie the demo metrics to the challenges they reveal: a store one peer sd worse."""
    challenges = dict(session.execute(sa.select(Challenge.code, Challenge.id)).all())
    present = set(
        session.execute(sa.select(ChallengeSignal.challenge_id, ChallengeSignal.metric_id)).all()
    )
    for challenge_code, metric_code, higher_is_worse in generator.CHALLENGE_SIGNALS:
        key = (challenges.get(challenge_code), metric_ids[metric_code])
        if key[0] is None or key in present:
            continue
        session.add(
            ChallengeSignal(
                challenge_id=key[0],
                metric_id=key[1],
                direction=SignalDirection.ABOVE if higher_is_worse else SignalDirection.BELOW,
                threshold_kind=ThresholdKind.PEER_SD,
                threshold=1.0,
            )
        )
    session.flush()


def _insert_units(session: Session, simulation: Simulation) -> dict[str, int]:
    """Regions, then districts, then stores (parents need ids first); returns ids by code."""
    frame = simulation.units
    names = generator.name_units(
        frame["kind"].tolist(), frame["parent_id"].tolist(), frame["unit_id"].tolist()
    )
    created_at = datetime.combine(simulation.config.start - timedelta(days=30), time(9))
    ids: dict[str, int] = {}
    for kind in ("region", "district", "store"):
        rows = [
            {
                "code": code,
                "name": name,
                "kind": kind,
                "parent_id": ids[parent] if isinstance(parent, str) else None,
                "created_at": created_at,
            }
            for code, name, unit_kind, parent in zip(
                frame["unit_id"], names, frame["kind"], frame["parent_id"], strict=True
            )
            if unit_kind == kind
        ]
        session.execute(sa.insert(Unit.__table__), rows)
        ids.update(session.execute(sa.select(Unit.code, Unit.id).where(Unit.kind == kind)).all())
    return ids


def _stores_under(simulation: Simulation, district: str) -> set[str]:
    frame = simulation.units
    return set(frame.loc[frame["parent_id"] == district, "unit_id"])


@dataclass
class _People:
    by_role: dict[str, User]
    colleague_ids: list[int]

    def id_of(self, role: str) -> int:
        return self.by_role[role].id


def _insert_users(
    session: Session, password: str, manager_district: str
) -> tuple[_People, list[tuple[str, str, str]]]:
    """One account per role (the manager scoped to one district) plus staff colleagues."""
    users: dict[str, User] = {}
    accounts = []
    district_name = session.scalar(sa.select(Unit.name).where(Unit.code == manager_district))
    for role, email, name in generator.ROLE_ACCOUNTS:
        # The manager and the staff account work in the same district.
        units = [manager_district] if role in (Role.MANAGER.value, Role.STAFF.value) else None
        user, _ = upsert_user(
            session, email, Role(role), password=password, unit_codes=units, name=name, actor=ACTOR
        )
        users[role] = user
        scope = f"district {manager_district} {district_name}" if units else ""
        accounts.append((role, email, scope))
    # Colleagues who vote and comment share the staff account's password hash: hashing is slow.
    session.execute(
        sa.insert(User.__table__),
        [
            {"email": email, "name": name, "role": Role.STAFF, "active": True,
             "password_hash": users["staff"].password_hash}
            for email, name in generator.COLLEAGUES
        ],
    )  # fmt: skip
    colleague_ids = session.scalars(
        sa.select(User.id).where(User.email.in_([email for email, _ in generator.COLLEAGUES]))
    )
    return _People(users, sorted(colleague_ids)), accounts


def _insert_responses(
    session: Session, simulation: Simulation, unit_ids: dict[str, int], progress: Progress
) -> int:
    frame = simulation.responses
    total = len(frame)
    store_ids = np.array([unit_ids[code] for code in frame["unit_id"].cat.categories])
    unit_column = store_ids[frame["unit_id"].cat.codes.to_numpy()]
    stamps = frame["responded_at"].to_numpy()
    overall = frame["overall"].to_numpy()
    driver_names = list(DRIVERS.values())
    # Missing answers become -1 here and are left out of the row's ``scores``.
    drivers = [frame[name].to_numpy(dtype="float64", na_value=np.nan) for name in driver_names]
    drivers = [np.where(np.isnan(values), -1, values).astype(np.int64) for values in drivers]
    comments = frame["comment"].to_numpy() if "comment" in frame else np.full(total, None)
    insert = sa.insert(Response.__table__)
    with progress.bar("Writing survey responses", total) as advance:
        for start in range(0, total, CHUNK_ROWS):
            part = slice(start, min(start + CHUNK_ROWS, total))
            at = stamps[part].astype("datetime64[us]").astype(object).tolist()
            on = stamps[part].astype("datetime64[D]").astype(object).tolist()
            scores = [
                {name: value for name, value in zip(driver_names, values, strict=True)
                 if value >= 0}
                for values in zip(*(column[part].tolist() for column in drivers), strict=True)
            ]  # fmt: skip
            rows = [
                {
                    "response_key": f"demo-{index:08d}",
                    "unit_id": unit_id,
                    "responded_on": day,
                    "responded_at": moment,
                    "overall": float(score),
                    "scores": score_map,
                    "comment": comment,
                }
                for index, unit_id, day, moment, score, score_map, comment in zip(
                    range(part.start, part.stop),
                    unit_column[part].tolist(),
                    on,
                    at,
                    overall[part].tolist(),
                    scores,
                    comments[part].tolist(),
                    strict=True,
                )
            ]
            session.execute(insert, rows)
            advance(len(rows))
    return total


def _insert_operations(
    session: Session,
    simulation: Simulation,
    unit_ids: dict[str, int],
    metric_ids: dict[str, int],
    progress: Progress,
) -> int:
    frame = simulation.operations
    total = len(frame)
    store_ids = np.array([unit_ids[code] for code in frame["unit_id"].cat.categories])
    units = store_ids[frame["unit_id"].cat.codes.to_numpy()]
    metrics = np.array([metric_ids[code] for code in frame["metric"].cat.categories])
    metric_column = metrics[frame["metric"].cat.codes.to_numpy()]
    dates = frame["date"].to_numpy().astype("datetime64[D]")
    values = frame["value"].to_numpy()
    insert = sa.insert(OperationValue.__table__)
    with progress.bar("Writing operational inputs", total) as advance:
        for start in range(0, total, CHUNK_ROWS):
            part = slice(start, min(start + CHUNK_ROWS, total))
            rows = [
                {"unit_id": unit, "on_date": day, "metric_id": metric, "value": value}
                for unit, day, metric, value in zip(
                    units[part].tolist(),
                    dates[part].astype(object).tolist(),
                    metric_column[part].tolist(),
                    values[part].tolist(),
                    strict=True,
                )
            ]
            session.execute(insert, rows)
            advance(len(rows))
    return total


def _insert_adoptions(
    session: Session,
    simulation: Simulation,
    library: list[generator.LibraryChoice],
    unit_ids: dict[str, int],
    solution_ids: dict[str, int],
    challenge_ids: dict[str, int],
    people: _People,
    managed: set[str],
    rng: np.random.Generator,
) -> int:
    """The simulator's plan items, on the real library solutions they stand for."""
    frame = simulation.adoptions
    if frame.empty:
        return 0
    code_of = dict(zip(simulation.solutions["solution_id"], (c.code for c in library), strict=True))
    french = dict(
        zip(
            simulation.units["unit_id"],
            _french_units(simulation),
            strict=True,
        )
    )
    now = datetime.combine(simulation.config.start, time()) + timedelta(
        weeks=simulation.config.n_weeks
    )
    manager_id = people.id_of("manager")
    today = date.today()
    forced = iter((-9, 3))  # the manager's first two active items: one overdue, one due this week
    rows = []
    for unit, sim_solution, adopted_on, status, challenge in zip(
        frame["unit_id"], frame["solution_id"], frame["adopted_on"], frame["status"],
        frame["challenge"], strict=True,
    ):  # fmt: skip
        effective = adopted_on.date() if hasattr(adopted_on, "date") else adopted_on
        language = "fr" if french[unit] else "en"
        notes = generator.PLAN_NOTES[(status, language)]
        due = effective + timedelta(
            days=int(
                {
                    "implemented": rng.integers(-10, 8),
                    "in_progress": rng.integers(14, 57),
                    "planned": rng.integers(14, 43),
                    "abandoned": 28,
                }[status]
            )
        )
        if status in ("planned", "in_progress"):
            # Plans in every state of lateness: about a quarter overdue, a fifth due this week.
            late = next(forced, None) if unit in managed else None
            draw = rng.random()
            if late is not None:
                due = today + timedelta(days=late)
            elif draw < 0.25:
                due = today - timedelta(days=int(rng.integers(1, 21)))
            elif draw < 0.45:
                due = today + timedelta(days=int(rng.integers(0, 7)))
        created = datetime.combine(effective - timedelta(days=int(rng.integers(3, 22))), time(9))
        created = min(created, now - timedelta(days=1))
        note = notes[int(rng.integers(len(notes)))] if rng.random() < 0.7 else None
        rows.append(
            {
                "unit_id": unit_ids[unit],
                "solution_id": solution_ids[code_of[sim_solution]],
                "challenge_id": challenge_ids.get(challenge),
                "status": status,
                "owner": generator.PLAN_OWNERS[int(rng.integers(len(generator.PLAN_OWNERS)))],
                "due_on": due,
                "effective_on": effective,
                "notes": note,
                # An abandoned item says why (its note, else the first reason of its language).
                "status_reason": (note or notes[0]) if status == "abandoned" else None,
                "status_changed_at": created if status == "planned" else None,
                "created_by_id": manager_id if unit in managed else None,
                "created_at": created,
                "updated_at": min(datetime.combine(effective, time(17)), now - timedelta(hours=1)),
            }
        )
    _every_status(rows, generator.PLAN_NOTES, french_of={unit_ids[u]: french[u] for u in french})
    session.execute(sa.insert(Adoption.__table__), rows)
    _insert_checklists(session, rng)
    return len(rows)


def _every_status(rows: list[dict], notes: dict, french_of: dict[int, bool]) -> None:
    """A small demo may draw no item of some status: the plans show every status (planned, in
    progress, abandoned) all the same, by moving items that never took effect between them (the
    estimates only read implemented items, so nothing measured changes)."""
    waiting = ("planned", "in_progress", "abandoned")
    for status in waiting:
        if any(row["status"] == status for row in rows):
            continue
        counts = {other: sum(row["status"] == other for row in rows) for other in waiting}
        donor = max(counts, key=counts.get)
        if counts[donor] < 2:
            continue
        row = next(row for row in reversed(rows) if row["status"] == donor)
        row["status"] = status
        if status == "abandoned":
            language = "fr" if french_of.get(row["unit_id"]) else "en"
            row["status_reason"] = notes[("abandoned", language)][0]
        else:
            row["status_reason"] = None


def _insert_checklists(session: Session, rng: np.random.Generator) -> None:
    """Each plan item's checklist, copied from its solution's steps: all ticked when it is
    implemented, some when it is in progress, none when planned or abandoned."""
    steps_of = {
        solution.id: solution.step_list for solution in session.scalars(sa.select(Solution))
    }
    rows = []
    for item_id, solution_id, status, changed in session.execute(
        sa.select(Adoption.id, Adoption.solution_id, Adoption.status, Adoption.updated_at)
    ):
        steps = steps_of.get(solution_id, [])
        ticked = {
            "implemented": len(steps),
            "in_progress": int(rng.integers(0, len(steps) + 1)) if steps else 0,
        }.get(str(getattr(status, "value", status)), 0)
        rows += [
            {
                "adoption_id": item_id,
                "position": position,
                "text": text[:STEP_MAX],
                "done_at": changed if position <= ticked else None,
                "created_at": changed,
            }
            for position, text in enumerate(steps[:STEPS_MAX], start=1)
        ]
    if rows:
        session.execute(sa.insert(PlanStep.__table__), rows)


def _french_units(simulation: Simulation) -> list[bool]:
    """Whether a unit writes its plans in French: the regions where most customers do."""
    shares = simulation.config.french_share_by_region
    region_of: dict[str, int] = {}
    result = []
    for code, kind, parent in zip(
        simulation.units["unit_id"], simulation.units["kind"], simulation.units["parent_id"],
        strict=True,
    ):  # fmt: skip
        if kind == "region":
            region_of[code] = len(region_of)
        else:
            region_of[code] = region_of[parent]
        result.append(shares[region_of[code] % len(shares)] > 0.5)
    return result


def _insert_crowd(
    session: Session,
    library: list[generator.LibraryChoice],
    solution_ids: dict[str, int],
    challenge_ids: dict[str, int],
    people: _People,
    end_week: date,
    rng: np.random.Generator,
) -> None:
    """Staff submissions waiting for moderation, and votes and comments on the library."""
    staff_ids = [people.id_of("staff"), *people.colleague_ids]
    voters = [*staff_ids, people.id_of("manager"), people.id_of("cx_lead")]
    recent = datetime.combine(end_week, time(10))
    taken = set(session.execute(sa.select(Solution.code)).scalars())
    pending_ids = []
    for index, item in enumerate(generator.PENDING_SOLUTIONS):
        if item["code"] in taken:
            continue
        solution = Solution(
            code=item["code"],
            title=item["title"],
            kind=SolutionKind(item["kind"]),
            language=item["language"],
            summary=item["summary"],
            body=item["summary"],
            steps="\n".join(item["steps"]),
            status=SolutionStatus.PENDING,
            author_id=staff_ids[index % len(staff_ids)],
            origin_unit_id=session.scalar(
                sa.select(user_units.c.unit_id)
                .where(user_units.c.user_id == staff_ids[index % len(staff_ids)])
                .limit(1)
            ),
            created_at=recent - timedelta(days=3 * index + 1),
            updated_at=recent - timedelta(days=3 * index + 1),
        )
        solution.challenges = [
            session.get(Challenge, challenge_ids[code])
            for code in item["challenges"]
            if code in challenge_ids
        ]
        session.add(solution)
        session.flush()
        pending_ids.append(solution.id)
        record(session, "solution.submit", "solution", solution.id, actor=ACTOR,
               details={"code": item["code"], "status": "pending"})  # fmt: skip

    library_ids = [solution_ids[choice.code] for choice in library]
    targets = library_ids + pending_ids
    votes = []
    for voter in voters:
        if not targets:
            break
        picks = rng.choice(len(targets), size=min(len(targets), 8), replace=False)
        for pick in picks:
            votes.append(
                {
                    "user_id": voter,
                    "solution_id": targets[int(pick)],
                    "value": 1,
                    "created_at": recent - timedelta(days=int(rng.integers(1, 120))),
                }
            )
    if votes:
        session.execute(sa.insert(Vote.__table__), votes)

    # "We tried it" reports come from the demo's stores.
    stores = list(session.scalars(sa.select(Unit.id).where(Unit.kind == "store").limit(40)))
    comments = []
    for solution_id in library_ids[:12] + pending_ids:
        for _ in range(int(rng.integers(1, 4))):
            kind = "tried_it" if solution_id in library_ids and rng.random() < 0.5 else "comment"
            texts = generator.SOLUTION_COMMENTS[kind]
            pick = int(rng.integers(len(texts)))
            at = recent - timedelta(days=int(rng.integers(1, 90)))
            row = {
                "solution_id": solution_id,
                "user_id": voters[int(rng.integers(len(voters)))],
                "kind": CommentKind(kind),
                "body": texts[pick],
                "hidden": False,
                "created_at": at,
                "outcome": None,
                "unit_id": None,
                "tried_on": None,
            }
            if kind == "tried_it" and stores:
                row.update(
                    outcome=TriedOutcome(generator.TRIED_OUTCOMES[pick]),
                    unit_id=stores[int(rng.integers(len(stores)))],
                    tried_on=(at - timedelta(days=int(rng.integers(30, 120)))).date(),
                )
            elif kind == "tried_it":
                row["kind"] = CommentKind.COMMENT
            comments.append(row)
    if comments:
        session.execute(sa.insert(Comment.__table__), comments)
    _insert_follows_and_notifications(session, people, library_ids, pending_ids, recent)


def _insert_follows_and_notifications(
    session: Session,
    people: _People,
    library_ids: list[int],
    pending_ids: list[int],
    recent: datetime,
) -> None:
    """Authors follow their proposals and hear of their comments; the demo staff member follows
    a few library solutions (the demo's impact run tells them they were measured); one comment
    waits on the moderation desk, reported."""
    staff = people.id_of("staff")
    authored = dict(
        session.execute(
            sa.select(Solution.id, Solution.author_id).where(Solution.id.in_(pending_ids))
        ).all()
    )
    follows = {(author, solution_id) for solution_id, author in authored.items() if author}
    follows |= {(staff, solution_id) for solution_id in library_ids[:4]}
    session.execute(
        sa.insert(Follow.__table__),
        [
            {"user_id": user, "solution_id": solution, "created_at": recent}
            for user, solution in follows
        ],
    )
    notes = []
    for comment in session.scalars(
        sa.select(Comment).where(Comment.solution_id.in_(pending_ids)).order_by(Comment.id)
    ):
        author = authored.get(comment.solution_id)
        if author and author != comment.user_id:
            notes.append(
                {
                    "user_id": author,
                    "kind": NotificationKind.COMMENT,
                    "solution_id": comment.solution_id,
                    "comment_id": comment.id,
                    "actor_id": comment.user_id,
                    "created_at": comment.created_at,
                }
            )
    if notes:
        session.execute(sa.insert(Notification.__table__), notes)
    reported = session.scalar(
        sa.select(Comment)
        .where(Comment.solution_id.in_(library_ids), Comment.user_id != staff)
        .order_by(Comment.id)
        .limit(1)
    )
    if reported is not None:
        session.add(
            CommentReport(
                comment_id=reported.id,
                user_id=staff,
                reason="Off topic: this is about another store's rota.",
                created_at=recent,
            )
        )
        session.flush()
