"""A unit's active challenges with their evidence and the solutions to try, from the database.

Reads window means per metric for the unit and its peers in one grouped query on the weekly
aggregate (``unit_week_scores``) and one on ``operation_values``, the unit's own comments of the
window (never anyone else's responses), the challenge signals and the driver importance; the
arithmetic is ``cxactions.analytics.priorities``. Knows the session, not the request.
"""

from __future__ import annotations

import math
from collections import Counter
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass, field
from datetime import date, timedelta
from functools import lru_cache
from typing import Any

import pandas as pd
import sqlalchemy as sa
from flask_babel import gettext as _
from sqlalchemy.orm import Session, aliased

from cxactions.analytics import priorities as core
from cxactions.drivers import services as driver_services
from cxactions.foundations.versions import (
    SURVEY_DATA,
    FiguresCache,
    current_data_version,
    data_signature,
)
from cxactions.foundations.vocabulary import ChallengeStatus, MetricKind, SolutionStatus
from cxactions.impact.presenters import SolutionEvidence, order_by_evidence, unit_word
from cxactions.impact.services import latest_run
from cxactions.language.tagging import Tagger, keyword_lines
from cxactions.library.models import Solution, solution_challenges
from cxactions.plans.rollup import Organisation, UnitNode
from cxactions.surveys.aggregates import OVERALL
from cxactions.surveys.models import Metric, OperationValue, Response, UnitWeekScore
from cxactions.taxonomy.models import Challenge, ChallengeSignal
from cxactions.units.models import Unit
from cxactions.units.services import ancestors, region_of, subtree_select

DEFAULT_WEEKS = 8
# A region's page reads at most this many of its most recent comments (a store has ~200).
COMMENT_LIMIT = 5_000
# The peers' comments are a systematic sample of about this many of their window's responses
# (every k-th by id), tagged once per region, window and keyword set until the data changes.
PEER_RESPONSE_SAMPLE = 6_000
WEAKEST = 5


@dataclass
class UnitPriorities:
    """What the unit page and ``cxactions challenges`` show."""

    unit: Unit
    weeks: int
    as_of: date | None  # Monday of the window's last week
    window_start: date | None
    peer_label: str  # "North region", or "the company"
    peers: int  # units in the peer group, the unit included
    unit_word: str  # "stores"
    place: str = ""  # "in North region", "in the company": in the reader's language
    challenges: list[core.ActiveChallenge] = field(default_factory=list)
    weakest: list[core.WeakDriver] = field(default_factory=list)
    signals_configured: bool = False
    comments: int = 0  # the unit's comments read in the window
    weights_from: str = "equal"  # "drivers": the driver analysis; "equal": equal shares

    @property
    def window_end(self) -> date | None:
        return self.as_of + timedelta(days=6) if self.as_of else None

    @property
    def unit_words(self) -> str:
        """``unit_word`` in the reader's language ("stores", "magasins")."""
        return core.unit_words(self.unit_word)

    @property
    def show_weakest(self) -> bool:
        """Weakest drivers stand in when no signal is configured or none is hit."""
        return bool(self.weakest) and (not self.signals_configured or not self.challenges)

    def top(self, count: int = 3) -> list[core.ActiveChallenge]:
        return self.challenges[:count]

    def as_dict(self) -> dict[str, Any]:
        return {
            "unit_id": self.unit.code,
            "unit": self.unit.name,
            "weeks": self.weeks,
            "window_start": self.window_start.isoformat() if self.window_start else None,
            "window_end": self.window_end.isoformat() if self.window_end else None,
            "peers": self.peer_label,
            "peer_units": self.peers,
            "weights": self.weights_from,
            "comments": self.comments,
            "signals_configured": self.signals_configured,
            "challenges": [
                {
                    "rank": rank,
                    "challenge_id": item.code,
                    "name": item.name,
                    "priority": round(item.priority, 4),
                    "signals_hit": item.signals_hit,
                    "raised_by_comments": item.raised_by_comments,
                    "evidence": [evidence.as_dict() for evidence in item.evidence],
                    "solutions": [_solution_dict(entry) for entry in item.solutions],
                }
                for rank, item in enumerate(self.challenges, start=1)
            ],
            "weakest_drivers": [
                {
                    "metric": item.metric.code,
                    "label": item.metric.label,
                    "value": round(item.value, 4),
                    "peer_mean": round(item.peer_mean, 4),
                    "gap_sd": round(item.gap_sd, 4),
                    "importance": round(item.weight, 4),
                    "sentence": item.sentence,
                }
                for item in self.weakest
            ],
        }


def _solution_dict(entry: SolutionEvidence) -> dict[str, Any]:
    estimate = entry.estimate
    return {
        "solution_id": entry.solution.code,
        "title": entry.solution.title,
        "verdict": entry.verdict,
        "rank": estimate.rank if estimate is not None else None,
        "effect": estimate.effect if estimate is not None else None,
        "n_units": entry.n_units,
    }


def unit_priorities(
    session: Session, unit: Unit, *, weeks: int = DEFAULT_WEEKS, as_of: date | None = None
) -> UnitPriorities:
    """The unit's active challenges (highest priority first) over the last ``weeks`` weeks up to
    the week of ``as_of`` (default: the newest week with data), with evidence and solutions."""
    weeks = max(int(weeks), 1)
    chain = ancestors(unit)
    region = region_of(unit, chain)
    peer_ids = _peer_ids(session, unit, region)
    kinds = session.scalars(sa.select(Unit.kind).where(Unit.id.in_(peer_ids)).limit(1)).all()
    result = UnitPriorities(
        unit=unit,
        weeks=weeks,
        as_of=None,
        window_start=None,
        peer_label=region.name if region is not None else "the company",
        peers=len(peer_ids),
        unit_word=unit_word(kinds or [unit.kind]),
        place=_("in %(region)s", region=region.name) if region is not None else _("in the company"),
    )
    # The peers' subtrees and newest week are the same for every unit of the region.
    root_of, latest = _WINDOW_CACHE.get_or_compute(
        (data_signature(session), "peers", tuple(peer_ids)), lambda: _peer_tree(session, peer_ids)
    )
    as_of = _monday(as_of) if as_of is not None else latest
    if as_of is None:
        return result
    start = as_of - timedelta(weeks=weeks - 1)
    end = as_of + timedelta(days=6)
    result.as_of, result.window_start = as_of, start

    metrics: dict[str, core.MetricInfo] = {}
    code_of: dict[int, str] = {}
    for metric in session.scalars(sa.select(Metric)):
        code_of[metric.id] = metric.code
        metrics[metric.code] = core.MetricInfo(
            code=metric.code,
            label=metric.label or metric.code,
            kind=str(metric.kind.value if hasattr(metric.kind, "value") else metric.kind),
            higher_is_better=bool(metric.higher_is_better),
            target=metric.target,
        )
    survey_ids = [id_ for id_, code in code_of.items() if metrics[code].kind != "operational"]
    # Every unit of a region shares its peers' window: kept until the data changes.
    values = _WINDOW_CACHE.get_or_compute(
        (data_signature(session), tuple(peer_ids), start, end),
        lambda: _window_means(session, peer_ids, root_of, code_of, survey_ids, start, end),
    )
    signals, names, names_fr = _signals(session)
    result.signals_configured = bool(signals)
    importance, result.weights_from = _importance(session)
    satisfied = values[OVERALL].mean() if OVERALL in values.columns else float("nan")
    complaint_below = None if pd.isna(satisfied) else float(satisfied)
    keywords = _keywords(session, names)
    tallies, result.comments = _comment_tallies(
        session, unit, start, end, keywords, complaint_below
    )
    if tallies:
        _compare_with_peers(
            session, tallies, unit.id, peer_ids, root_of, start, end, keywords, complaint_below
        )
    context = core.PeerContext(
        unit_word=result.unit_word,
        place=result.place,
        weeks=weeks,
    )
    result.challenges = core.active_challenges(
        values,
        unit.id,
        metrics,
        signals,
        names=names,
        importance=importance,
        comments=tallies,
        context=context,
    )
    for item in result.challenges:
        item.name_fr = names_fr.get(item.code)
    result.weakest = core.weakest_drivers(
        values, unit.id, metrics, importance=importance, context=context, limit=WEAKEST
    )
    _attach_solutions(session, result.challenges)
    return result


# --- Queries ------------------------------------------------------------------------------------


def _monday(day: date) -> date:
    return day - timedelta(days=day.weekday())


def _latest_week(session: Session, members: list[int]) -> date | None:
    """The newest week with survey data at the unit's peers, else with operational data.

    Asked of the peers (their subtrees) rather than of the whole table: the primary key of
    ``unit_week_scores`` then finds it with one index seek per unit instead of a full scan.
    """
    outcome = session.scalar(sa.select(Metric.id).where(Metric.code == OVERALL))
    if outcome is not None:
        week = session.scalar(
            sa.select(sa.func.max(UnitWeekScore.week_start)).where(
                UnitWeekScore.metric_id == outcome, UnitWeekScore.unit_id.in_(members)
            )
        )
        if week is not None:
            return week
    day = session.scalar(
        sa.select(sa.func.max(OperationValue.on_date)).where(OperationValue.unit_id.in_(members))
    )
    return _monday(day) if day is not None else None


def _peer_ids(session: Session, unit: Unit, region: Unit | None) -> list[int]:
    """Units of the unit's kind in its region (the company without one), the unit included."""
    kind = Unit.kind.is_(None) if unit.kind is None else Unit.kind == unit.kind
    query = sa.select(Unit.id).where(kind)
    if region is not None:
        query = query.where(Unit.id.in_(subtree_select([region.id])))
    ids = set(session.scalars(query))
    ids.add(unit.id)
    return sorted(ids)


def _peer_tree(session: Session, peer_ids: list[int]) -> tuple[dict[int, int], date | None]:
    """Every unit below the peers -> its peer, and the newest week with data among them."""
    leaves = _leaves(session, peer_ids)
    return leaves, _latest_week(session, sorted(leaves))


def _leaves(session: Session, peer_ids: list[int]) -> dict[int, int]:
    """Every unit in the peers' subtrees -> the peer it belongs to (a store maps to itself)."""
    tree = (
        sa.select(Unit.id.label("root"), Unit.id.label("id"))
        .where(Unit.id.in_(peer_ids))
        .cte("peer_tree", recursive=True)
    )
    child = aliased(Unit)
    tree = tree.union(sa.select(tree.c.root, child.id).where(child.parent_id == tree.c.id))
    rows = session.connection().execute(sa.select(tree.c.root, tree.c.id))
    return {unit_id: root for root, unit_id in rows}


def _window_means(
    session: Session,
    peer_ids: list[int],
    root_of: dict[int, int],
    code_of: dict[int, str],
    survey_ids: list[int],
    start: date,
    end: date,
) -> pd.DataFrame:
    """Peers x metric codes: each peer's window mean (survey scores summed over its subtree).

    Two grouped queries (survey aggregate, operational values) run on the connection: thousands
    of plain tuples need no ORM row processing.
    """
    connection = session.connection()
    members = sorted(root_of)
    sums: dict[tuple[int, str], list[float]] = {}
    if members:
        surveys = connection.execute(
            sa.select(
                UnitWeekScore.unit_id,
                UnitWeekScore.metric_id,
                sa.func.sum(UnitWeekScore.n),
                sa.func.sum(UnitWeekScore.total),
            )
            .where(
                # Survey metrics only: operational ones are never in the aggregate, and asking
                # for them tips PostgreSQL into a sequential scan of the whole table.
                UnitWeekScore.metric_id.in_(survey_ids),
                UnitWeekScore.unit_id.in_(members),
                UnitWeekScore.week_start >= start,
                UnitWeekScore.week_start <= end,
            )
            .group_by(UnitWeekScore.unit_id, UnitWeekScore.metric_id)
        ).all()
        operations = connection.execute(
            sa.select(
                OperationValue.unit_id,
                OperationValue.metric_id,
                sa.func.count(OperationValue.value),
                sa.func.sum(OperationValue.value),
            )
            .where(
                OperationValue.unit_id.in_(members),
                OperationValue.on_date >= start,
                OperationValue.on_date <= end,
            )
            .group_by(OperationValue.unit_id, OperationValue.metric_id)
        ).all()
        for rows in (surveys, operations):
            for unit_id, metric_id, count, total in rows:
                if not count:
                    continue
                key = (root_of[unit_id], code_of[metric_id])
                cell = sums.setdefault(key, [0.0, 0.0])
                cell[0] += float(count)
                cell[1] += float(total)
    columns: dict[str, dict[int, float]] = {}
    for (root, code), (count, total) in sums.items():
        columns.setdefault(code, {})[root] = total / count
    return pd.DataFrame(columns, index=pd.Index(peer_ids, dtype="int64"), dtype="float64")


def _signals(
    session: Session,
) -> tuple[list[core.Signal], dict[str, str], dict[str, str | None]]:
    """Signals of active challenges, and the English and French names of every active
    challenge by code."""
    rows = session.execute(
        sa.select(Challenge.code, Challenge.name, Challenge.name_fr).where(
            Challenge.status == ChallengeStatus.ACTIVE
        )
    ).all()
    names = {code: name for code, name, _fr in rows}
    names_fr = {code: name_fr for code, _name, name_fr in rows}
    rows = session.execute(
        sa.select(
            Challenge.code,
            Metric.code,
            ChallengeSignal.direction,
            ChallengeSignal.threshold_kind,
            ChallengeSignal.threshold,
        )
        .join(Challenge, Challenge.id == ChallengeSignal.challenge_id)
        .join(Metric, Metric.id == ChallengeSignal.metric_id)
        .where(Challenge.status == ChallengeStatus.ACTIVE)
        .order_by(Challenge.code, Metric.code)
    ).all()
    signals = [
        core.Signal(
            challenge=challenge,
            metric=metric,
            direction=_text(direction),
            threshold_kind=_text(kind),
            threshold=float(threshold),
        )
        for challenge, metric, direction, kind, threshold in rows
    ]
    return signals, names, names_fr


def _text(value: Any) -> str:
    return str(getattr(value, "value", value))


_IMPORTANCE_CACHE = FiguresCache(16)
# A region's peer subtrees, newest week and window means: shared by every unit of the region.
_WINDOW_CACHE = FiguresCache(128)


def _importance(session: Session) -> tuple[dict[str, float], str]:
    """Driver importance shares by metric code, company-wide.

    The driver analysis reads every unit-week, far more than a page may spend: imports of survey
    data store its result (``driver_services.store_company_weights``), and the page reads it;
    without a stored result the page computes it once and keeps it in this process until the
    data changes (a new data version or a new import). Equal weights when it has too little data
    to say.
    """
    weights = _IMPORTANCE_CACHE.get_or_compute(
        (data_signature(session),), lambda: _company_weights(session)
    )
    return dict(weights), "drivers" if weights else "equal"


def _company_weights(session: Session) -> dict[str, float]:
    stored = driver_services.stored_company_weights(session)
    if stored is not None:
        return stored
    return dict(driver_services.importance_by_metric(session, region_code=None) or {})


@lru_cache(maxsize=8)
def _tagger(keywords: tuple[tuple[str, tuple[str, ...]], ...]) -> Tagger:
    """Compiled once per distinct keyword set (a curator's edit makes a new key)."""
    return Tagger.compile(dict(keywords))


Keywords = tuple[tuple[str, tuple[str, ...]], ...]


def _keywords(session: Session, names: dict[str, str]) -> Keywords:
    """(challenge code, its keywords) of the active challenges that have keywords, by code."""
    rows = session.execute(
        sa.select(Challenge.code, Challenge.keywords)
        .where(Challenge.status == ChallengeStatus.ACTIVE, Challenge.keywords.is_not(None))
        .order_by(Challenge.code)
    )
    found = ((code, tuple(keyword_lines(text))) for code, text in rows if code in names)
    return tuple((code, lines) for code, lines in found if lines)


def _complaints(
    texts: Iterable[tuple[str | None, float | None]],
    tagger: Tagger,
    complaint_below: float | None,
) -> Iterator[tuple[int, str, dict[str, set[str]]]]:
    """(position, text, {code: keywords said}) for each complaint that mentions a challenge.

    A complaint: a comment whose ``overall`` is below ``complaint_below`` (the peers' mean), so
    that praise of the welcome does not count against it.
    """
    for position, (text, overall) in enumerate(texts):
        if not text or not text.strip():
            continue
        if complaint_below is not None and not (overall is not None and overall < complaint_below):
            continue
        found = tagger.matches(text)
        if found:
            yield position, text, found


def _comment_tallies(
    session: Session,
    unit: Unit,
    start: date,
    end: date,
    keywords: Keywords,
    complaint_below: float | None,
) -> tuple[dict[str, core.CommentTally], int]:
    """The unit's comments in the window (its subtree's, newest first) tagged by challenge."""
    own = [unit.id] if not unit.children else subtree_select([unit.id])
    comments = session.execute(
        sa.select(Response.comment, Response.overall)
        .where(
            Response.unit_id.in_(own),
            Response.responded_on >= start,
            Response.responded_on <= end,
            Response.comment.is_not(None),
            Response.comment != "",
        )
        .order_by(Response.responded_on.desc(), Response.id.desc())
        .limit(COMMENT_LIMIT)
    ).all()
    texts = [(text, overall) for text, overall in comments if text and text.strip()]
    if not keywords or not texts:
        return {}, len(texts)
    tallies: dict[str, core.CommentTally] = {}
    for _position, text, found in _complaints(texts, _tagger(keywords), complaint_below):
        for code, said in found.items():
            tally = tallies.setdefault(code, core.CommentTally(0, len(texts), Counter()))
            tally.mentions += 1
            tally.keywords.update(said)
            if len(tally.examples) < core.EXAMPLES and text not in tally.examples:
                tally.examples.append(text)
    return tallies, len(texts)


@dataclass
class _PeerComments:
    """Sampled comments per peer: how many, and how many complain about each challenge."""

    comments: Counter = field(default_factory=Counter)  # peer id -> comments
    mentions: dict[str, Counter] = field(default_factory=dict)  # code -> peer id -> complaints


_PEER_COMMENT_CACHE = FiguresCache(64)


def _compare_with_peers(
    session: Session,
    tallies: dict[str, core.CommentTally],
    unit_id: int,
    peer_ids: list[int],
    root_of: dict[int, int],
    start: date,
    end: date,
    keywords: Keywords,
    complaint_below: float | None,
) -> None:
    """Fill each tally's ``peer_mentions``/``peer_comments`` from the other peers' comments."""
    key = (
        data_signature(session),
        tuple(peer_ids),
        start,
        end,
        keywords,
        None if complaint_below is None else round(complaint_below, 9),
    )
    sample = _PEER_COMMENT_CACHE.get_or_compute(
        key, lambda: _peer_comments(session, root_of, start, end, keywords, complaint_below)
    )
    comments = sum(sample.comments.values()) - sample.comments.get(unit_id, 0)
    for code, tally in tallies.items():
        by_peer = sample.mentions.get(code, Counter())
        tally.peer_comments = comments
        tally.peer_mentions = sum(by_peer.values()) - by_peer.get(unit_id, 0)


def _peer_comments(
    session: Session,
    root_of: dict[int, int],
    start: date,
    end: date,
    keywords: Keywords,
    complaint_below: float | None,
) -> _PeerComments:
    """Tag a systematic sample of the peers' window comments (every k-th response by id).

    The step is chosen from the count of responses, which the (unit, date) index answers alone;
    the sample then reads only the chosen rows. Each comment counts for the peer it belongs to,
    so a unit can leave itself out.
    """
    members = sorted(root_of)
    window = (
        Response.unit_id.in_(members),
        Response.responded_on >= start,
        Response.responded_on <= end,
    )
    connection = session.connection()
    responses = connection.execute(sa.select(sa.func.count()).where(*window)).scalar() or 0
    step = max(1, math.ceil(responses / PEER_RESPONSE_SAMPLE))
    query = sa.select(Response.unit_id, Response.comment, Response.overall).where(
        *window, Response.comment.is_not(None), Response.comment != ""
    )
    if step > 1:
        query = query.where(Response.id % step == 0)
    result = _PeerComments()
    rows = connection.execute(query).all()
    for unit_id, text, _overall in rows:
        if text and text.strip():
            result.comments[root_of[unit_id]] += 1
    texts = ((text, overall) for _unit, text, overall in rows)
    for position, _comment, found in _complaints(texts, _tagger(keywords), complaint_below):
        peer = root_of[rows[position][0]]
        for code in found:
            result.mentions.setdefault(code, Counter())[peer] += 1
    return result


def _attach_solutions(session: Session, challenges: list[core.ActiveChallenge]) -> None:
    """Each challenge's approved solutions, best evidence first (the challenge page's order)."""
    if not challenges:
        return
    codes = [item.code for item in challenges]
    rows = session.execute(
        sa.select(Challenge.code, Solution)
        .join(solution_challenges, solution_challenges.c.challenge_id == Challenge.id)
        .join(Solution, Solution.id == solution_challenges.c.solution_id)
        .where(Challenge.code.in_(codes), Solution.status == SolutionStatus.APPROVED)
    ).all()
    by_code: dict[str, list[Solution]] = {}
    for code, solution in rows:
        by_code.setdefault(code, []).append(solution)
    unique = {solution.id: solution for _code, solution in rows}
    ranked = order_by_evidence(session, latest_run(session), unique.values())
    for item in challenges:
        mine = {solution.id for solution in by_code.get(item.code, [])}
        item.solutions = [entry for entry in ranked if entry.solution.id in mine]


# --- Active challenges of many units at once (the plans roll-ups) ---------------------------------------------------

# Hits per peer group, kept until the survey data, the tree, the metrics or the signals change.
# Keyed on the survey data version rather than ``data_signature``: marking a plan item
# implemented bumps the impact and import versions, and must not make the next roll-up page
# recompute every region's window.
_HITS_CACHE = FiguresCache(64)
# The unit page's window: the last weeks with data at the unit's peers.
CHALLENGE_WEEKS = DEFAULT_WEEKS


def active_challenges_by_unit(
    session: Session, organisation: Organisation, unit_ids: Sequence[int]
) -> dict[int, set[str]] | None:
    """The codes of the challenges each unit has active from the CX leads' signals, over the
    unit page's window (the last ``CHALLENGE_WEEKS`` weeks with data at its peers); ``None`` when
    no signal is configured, so that coverage of challenges cannot be judged.

    The unit page ranks the same challenges (``priorities.services.unit_priorities``), one unit
    at a time with its comments; this reads one window per peer group (a region's stores) and
    decides every unit's signals at once with :func:`analytics.priorities.signal_hits`. A challenge raised by
    comments alone is not counted here: tagging every store's comments costs seconds.
    """
    signals, _names, _names_fr = _signals(session)
    if not signals:
        return None
    metrics = session.execute(sa.select(Metric.id, Metric.code, Metric.kind).order_by(Metric.id))
    metrics = [(id_, code, str(getattr(kind, "value", kind))) for id_, code, kind in metrics]
    code_of = {id_: code for id_, code, _kind in metrics}
    survey_ids = [id_ for id_, _code, kind in metrics if kind != MetricKind.OPERATIONAL.value]
    base_key = (
        session.get_bind().url.render_as_string(hide_password=True),
        current_data_version(session, SURVEY_DATA),
        organisation.fingerprint(),
        tuple(metrics),
        tuple(signals),
        CHALLENGE_WEEKS,
    )
    result: dict[int, set[str]] = {}
    for peers, members in _peer_groups(organisation, unit_ids).items():
        hits = _HITS_CACHE.get_or_compute(
            (*base_key, peers),
            lambda peers=peers: _group_hits(session, list(peers), code_of, survey_ids, signals),
        )
        for unit_id in members:
            result[unit_id] = hits.get(unit_id, set())
    return result


def _peer_groups(
    organisation: Organisation, unit_ids: Iterable[int]
) -> dict[tuple[int, ...], list[int]]:
    """The units by peer group, as the unit page forms it: the units of the unit's kind in its
    region (the company without one), the unit included."""
    by_place: dict[tuple[int | None, str | None], list[int]] = {}
    region_under: dict[int | None, UnitNode | None] = {}  # siblings share their region
    for unit_id in unit_ids:
        unit = organisation.units[unit_id]
        if unit.parent_id not in region_under:
            region_under[unit.parent_id] = organisation.region_of(unit_id)
        region = region_under[unit.parent_id]
        kind = unit.kind
        by_place.setdefault((region.id if region else None, kind), []).append(unit_id)
    groups: dict[tuple[int, ...], list[int]] = {}
    for (region_id, kind), members in by_place.items():
        place = (
            organisation.subtree([region_id]) if region_id is not None else list(organisation.units)
        )
        same_kind = {unit_id for unit_id in place if organisation.units[unit_id].kind == kind}
        groups.setdefault(tuple(sorted(same_kind)), []).extend(
            unit_id for unit_id in members if unit_id in same_kind
        )
        for unit_id in members:
            if unit_id not in same_kind:
                # A loop in the data keeps the unit out of its region: it is its own peer still.
                groups.setdefault(tuple(sorted(same_kind | {unit_id})), []).append(unit_id)
    return groups


def _group_hits(
    session: Session,
    peers: list[int],
    code_of: dict[int, str],
    survey_ids: list[int],
    signals: list[core.Signal],
) -> dict[int, set[str]]:
    root_of, latest = _peer_tree(session, peers)
    if latest is None:
        return {}
    start = latest - timedelta(weeks=CHALLENGE_WEEKS - 1)
    end = latest + timedelta(days=6)
    values = _window_means(session, peers, root_of, code_of, survey_ids, start, end)
    return core.signal_hits(values, signals)
