"""What the impact pages show: the cached estimates, filtered, sorted and put into words.

Reads the newest finished run (``services.latest_run``) and never computes an estimate; the
one exception is a single unit's story around an adoption (``adoption_story``), which fits
the comparison on that unit's region only, as ``services.adoption_trajectory`` documents.
Knows the session, not the request: the views pass who is looking as a set of unit ids.
"""

from __future__ import annotations

import math
from collections.abc import Collection, Iterable, Mapping
from dataclasses import dataclass, field
from datetime import date

import pandas as pd
import sqlalchemy as sa
from flask_babel import gettext as _
from flask_babel import ngettext
from sqlalchemy.orm import Session, selectinload

from cxactions.analytics.estimators import DEFAULT_DIP, DEFAULT_PLACEBO
from cxactions.analytics.panel import PERIODS
from cxactions.foundations.charts import (
    Band,
    EventChart,
    EventPoint,
    EventSeries,
    IntervalAxis,
    IntervalBar,
    event_chart,
    interval_axis,
    interval_bar,
)
from cxactions.foundations.translation import (
    N_,
    format_day,
    format_number,
    format_score,
    format_signed,
    in_reader_language,
)
from cxactions.foundations.vocabulary import (
    AdoptionStatus,
    SolutionKind,
    SolutionStatus,
    label_of,
)
from cxactions.impact.models import ImpactEstimate, ImpactEventEstimate, ImpactRun
from cxactions.impact.services import (
    SUMMARY_CSV,
    SUMMARY_EXTRA,
    Freshness,
    ImpactSettings,
    PeriodWords,
    adoption_trajectory,
    latest_run,
    period_count,
    period_words,
    plain_reading,
)
from cxactions.library.models import Solution, solution_challenges
from cxactions.plans.models import Adoption
from cxactions.taxonomy.models import Challenge
from cxactions.taxonomy.services import ChallengeNode, challenge_tree, subtree_ids
from cxactions.units.models import Unit

# The orders of the leaderboard; the template translates the labels (``_(label)``).
SORTS = {
    "rank": N_("Rank (best evidence first)"),
    "effect": N_("Effect (largest first)"),
    "units": N_("Adopting units (most first)"),
    "title": N_("Title (A to Z)"),
}
CSV_COLUMNS = [*SUMMARY_CSV, "kind", "status", *SUMMARY_EXTRA, "units_needed"]
# One unit's story shows this many periods either side of its adoption.
STORY_SPAN = {"week": 26, "month": 12, "quarter": 6, "year": 4}
# Charts are drawn twice: wide for screens, compact (labels still legible) for phones.
COMPACT_CHART = {"width": 400, "height": 300, "margin": (20, 10, 44, 48)}


def period_word(period: str) -> str:
    """The grain's code ("week"), or "period" for an unknown one (a CSS class, a switch in
    a template); ``period_words`` names it in the reader's language."""
    return period if period in PERIODS else "period"


def signed_count(value: int) -> str:
    """A whole number of periods from the adoption, with its sign: +3, −2, +0."""
    return f"{'−' if value < 0 else '+'}{format_number(abs(value))}"


# --- One solution's evidence ------------------------------------------------------------------


@dataclass
class SolutionEvidence:
    """A solution with its estimate in the latest run (``None``: never adopted, or no run)."""

    solution: Solution
    estimate: ImpactEstimate | None
    min_units: int

    @property
    def ranked(self) -> bool:
        return self.estimate is not None and self.estimate.rank is not None

    @property
    def n_units(self) -> int:
        return self.estimate.n_units if self.estimate is not None else 0

    @property
    def units_needed(self) -> int:
        """How many more adopting units before the solution can be ranked."""
        return 0 if self.ranked else max(self.min_units - self.n_units, 0)

    @property
    def has_interval(self) -> bool:
        estimate = self.estimate
        return estimate is not None and all(
            value is not None and math.isfinite(value)
            for value in (estimate.effect, estimate.ci_low, estimate.ci_high)
        )

    @property
    def verdict(self) -> str:
        """``positive``, ``unclear`` or ``negative`` (ranked); ``early``; ``untested``."""
        if self.estimate is None:
            return "untested"
        if not self.ranked or not self.has_interval:
            return "early"
        if self.estimate.ci_low > 0:
            return "positive"
        if self.estimate.ci_high < 0:
            return "negative"
        return "unclear"

    @property
    def works(self) -> bool:
        """Ranked, with its whole interval above zero: evidence of a positive effect."""
        return self.verdict == "positive"

    def order_key(self) -> tuple:
        """Ranked first by rank, then early readings by adopting units, then never adopted."""
        if self.ranked:
            return (0, self.estimate.rank, "")
        if self.estimate is not None:
            return (1, -self.n_units, self.solution.title.lower())
        return (2, 0, self.solution.title.lower())


def estimates_by_solution(
    session: Session, run: ImpactRun | None, solution_ids: Iterable[int] | None = None
) -> dict[int, ImpactEstimate]:
    """The run's estimates keyed by solution id (all of them when ``solution_ids`` is None)."""
    if run is None:
        return {}
    query = sa.select(ImpactEstimate).where(ImpactEstimate.run_id == run.id)
    if solution_ids is not None:
        query = query.where(ImpactEstimate.solution_id.in_(list(solution_ids)))
    return {estimate.solution_id: estimate for estimate in session.scalars(query)}


def order_by_evidence(
    session: Session, run: ImpactRun | None, solutions: Iterable[Solution]
) -> list[SolutionEvidence]:
    """Solutions with their evidence, best evidence first (the challenge page's order)."""
    solutions = list(solutions)
    estimates = estimates_by_solution(session, run, [solution.id for solution in solutions])
    min_units = _min_units(run)
    items = [
        SolutionEvidence(solution, estimates.get(solution.id), min_units) for solution in solutions
    ]
    return sorted(items, key=SolutionEvidence.order_key)


def _min_units(run: ImpactRun | None) -> int:
    return run.min_units if run is not None else ImpactSettings().min_units


# --- The leaderboard --------------------------------------------------------------------------


@dataclass
class LeaderboardFilters:
    challenge: str = ""
    kind: str = ""
    sort: str = "rank"

    @classmethod
    def from_args(cls, args: Mapping[str, str]) -> LeaderboardFilters:
        kind = (args.get("kind") or "").strip()
        sort = (args.get("sort") or "").strip()
        return cls(
            challenge=(args.get("challenge") or "").strip(),
            kind=kind if kind in {item.value for item in SolutionKind} else "",
            sort=sort if sort in SORTS else "rank",
        )

    def as_args(self, **changes: str) -> dict[str, str]:
        """The filters as query arguments (empty ones left out), with ``changes`` applied."""
        values = {"challenge": self.challenge, "kind": self.kind, "sort": self.sort, **changes}
        if values.get("sort") == "rank":
            values.pop("sort")
        return {key: value for key, value in values.items() if value}

    @property
    def active(self) -> bool:
        return bool(self.challenge or self.kind)


@dataclass
class LeaderboardRow:
    evidence: SolutionEvidence
    bar: IntervalBar | None = None

    @property
    def solution(self) -> Solution:
        return self.evidence.solution

    @property
    def estimate(self) -> ImpactEstimate:
        return self.evidence.estimate


@dataclass
class ChallengeOption:
    code: str
    label: str  # the name in the reader's language (see ``lang``)
    depth: int
    lang: str = "en"


@dataclass
class Leaderboard:
    freshness: Freshness
    filters: LeaderboardFilters
    ranked: list[LeaderboardRow]
    early: list[LeaderboardRow]
    axis: IntervalAxis | None
    min_units: int
    challenge: Challenge | None = None
    unknown_challenge: bool = False
    challenge_options: list[ChallengeOption] = field(default_factory=list)

    @property
    def run(self) -> ImpactRun | None:
        return self.freshness.run

    @property
    def is_empty(self) -> bool:
        return not self.ranked and not self.early


def challenge_options(session: Session) -> list[ChallengeOption]:
    """Active challenges in tree order, for the filter."""
    options: list[ChallengeOption] = []

    def walk(nodes: list[ChallengeNode], depth: int) -> None:
        for node in nodes:
            label, lang = in_reader_language(node.challenge.name, node.challenge.name_fr)
            options.append(ChallengeOption(node.challenge.code, label or "", depth, lang))
            walk(node.children, depth + 1)

    walk(challenge_tree(session), 0)
    return options


def _sort_ranked(rows: list[LeaderboardRow], sort: str) -> list[LeaderboardRow]:
    keys = {
        "rank": lambda row: row.estimate.rank,
        "effect": lambda row: (-(row.estimate.effect or 0.0), row.estimate.rank),
        "units": lambda row: (-row.estimate.n_units, row.estimate.rank),
        "title": lambda row: (row.solution.title.lower(), row.estimate.rank),
    }
    return sorted(rows, key=keys[sort])


def leaderboard(
    session: Session,
    fresh: Freshness,
    filters: LeaderboardFilters,
    *,
    include_unapproved: bool = False,
) -> Leaderboard:
    """The latest run's solutions, ranked ones first, filtered by challenge (with the ones
    below it) and kind. Unapproved solutions (retired, drafts...) only for curators."""
    run = fresh.run
    min_units = _min_units(run)
    board = Leaderboard(fresh, filters, [], [], None, min_units)
    board.challenge_options = challenge_options(session)
    query = (
        sa.select(ImpactEstimate)
        .join(Solution, Solution.id == ImpactEstimate.solution_id)
        .where(ImpactEstimate.run_id == (run.id if run is not None else -1))
        .options(selectinload(ImpactEstimate.solution))
    )
    if not include_unapproved:
        query = query.where(Solution.status == SolutionStatus.APPROVED)
    if filters.kind:
        query = query.where(Solution.kind == SolutionKind(filters.kind))
    if filters.challenge:
        board.challenge = session.scalar(
            sa.select(Challenge).where(Challenge.code == filters.challenge)
        )
        if board.challenge is None:
            board.unknown_challenge = True
            return board
        below = subtree_ids(session, board.challenge.id)
        query = query.where(
            Solution.id.in_(
                sa.select(solution_challenges.c.solution_id).where(
                    solution_challenges.c.challenge_id.in_(below)
                )
            )
        )
    if run is None:
        return board
    for estimate in session.scalars(query):
        row = LeaderboardRow(SolutionEvidence(estimate.solution, estimate, min_units))
        (board.ranked if row.evidence.ranked else board.early).append(row)
    board.ranked = _sort_ranked(board.ranked, filters.sort)
    board.early.sort(key=lambda row: (-row.evidence.n_units, row.solution.title.lower()))
    board.axis = interval_axis(
        [bound for row in board.ranked for bound in (row.estimate.ci_low, row.estimate.ci_high)]
    )
    if board.axis is not None:
        for row in board.ranked:
            if row.evidence.has_interval:
                estimate = row.estimate
                row.bar = interval_bar(
                    board.axis, estimate.effect, estimate.ci_low, estimate.ci_high
                )
    return board


def _csv_number(value: float | None) -> str:
    if value is None or not math.isfinite(value):
        return ""
    return f"{value:.4f}"


def leaderboard_csv_rows(board: Leaderboard) -> list[list[str]]:
    """The leaderboard as CSV rows under ``CSV_COLUMNS``: ranked ones as sorted, then the rest."""
    rows = []
    for row in board.ranked + board.early:
        estimate, solution = row.estimate, row.solution
        rows.append(
            [
                solution.code,
                solution.title,
                _csv_number(estimate.effect),
                _csv_number(estimate.ci_low),
                _csv_number(estimate.ci_high),
                str(estimate.n_units),
                "" if estimate.rank is None else str(estimate.rank),
                solution.kind.value,
                solution.status.value,
                _csv_number(estimate.se),
                _csv_number(estimate.raw_effect),
                _csv_number(estimate.raw_se),
                _csv_number(estimate.placebo),
                _csv_number(estimate.placebo_se),
                "true" if estimate.placebo_warning else "false",
                "true" if estimate.enough_evidence else "false",
                str(row.evidence.units_needed),
            ]
        )
    return rows


# --- One solution's impact page ----------------------------------------------------------------


@dataclass
class AdopterRow:
    unit: Unit
    effective_on: date | None
    visible: bool


@dataclass
class SolutionImpact:
    evidence: SolutionEvidence
    freshness: Freshness
    reading: str | None
    shrinkage: str | None
    events: list[ImpactEventEstimate]
    chart: EventChart | None
    chart_compact: EventChart | None
    adopters: list[AdopterRow]  # implemented, the ones the viewer may see
    hidden_adopters: int  # implemented elsewhere, outside the viewer's units
    planned: int  # planned or in progress
    unit_word: str

    @property
    def solution(self) -> Solution:
        return self.evidence.solution

    @property
    def estimate(self) -> ImpactEstimate | None:
        return self.evidence.estimate

    @property
    def run(self) -> ImpactRun | None:
        return self.freshness.run

    @property
    def words(self) -> PeriodWords:
        """The run's grain in words ("week" before any run)."""
        return period_words(self.run.period if self.run is not None else "week")

    def chart_description(self) -> str:
        """The event-study chart's description: what it shows and each phase's average."""
        period = self.run.period if self.run is not None else "week"
        phases = []
        for phase, count, mean in self.phase_summary():
            values = {"periods": period_count(count, period), "mean": format_signed(mean)}
            if phase == "placebo":
                phases.append(_("%(periods)s of placebo check averaging %(mean)s points", **values))
            elif phase == "dip":
                phases.append(_("%(periods)s of dip window averaging %(mean)s points", **values))
            elif phase == "effect":
                phases.append(_("%(periods)s of effect averaging %(mean)s points", **values))
            else:
                phases.append(_("%(periods)s later averaging %(mean)s points", **values))
        return _(
            "Estimated change in satisfaction by %(period)s since adoption, each with its 95%% "
            "interval, against a zero line: %(phases)s. The figures are in the table below the "
            "chart.",
            period=self.words.one,
            phases="; ".join(phases),
        )

    def phase_summary(self) -> list[tuple[str, int, float]]:
        """(phase, periods, mean effect) for each phase present, in event-time order."""
        summary: list[tuple[str, int, float]] = []
        for phase in ("placebo", "dip", "effect", "late"):
            values = [
                event.effect
                for event in self.events
                if event.phase == phase and event.effect is not None
            ]
            if values:
                summary.append((phase, len(values), sum(values) / len(values)))
        return summary


def unit_word(kinds: Iterable[str | None]) -> str:
    """ "stores" when every adopting unit is a store, else "units"."""
    distinct = {(kind or "").strip().lower() for kind in kinds}
    if len(distinct) == 1:
        (kind,) = distinct
        if kind and kind.isalpha():
            return kind if kind.endswith("s") else f"{kind}s"
    return "units"


def shrinkage_sentence(estimate: ImpactEstimate, run: ImpactRun | None) -> str | None:
    """Raw against shrunk, in one sentence."""
    if (
        estimate.raw_effect is None
        or estimate.effect is None
        or not math.isfinite(estimate.raw_effect)
    ):
        return None
    prior = run.prior_mean if run is not None else None
    raw = format_signed(estimate.raw_effect)
    if prior is None:
        return _(
            "Too few solutions have enough evidence yet to learn how much effects vary, so the "
            "%(raw)s points its adopting units show is not pulled towards the library-wide "
            "average: read it with its interval.",
            raw=raw,
        )
    known = math.isfinite(prior)
    if abs(estimate.raw_effect - estimate.effect) < 0.005:
        if known:
            return _(
                "Its adopting units alone show %(raw)s points; pulling that towards the "
                "library-wide average of %(prior)s in proportion to its uncertainty, as we do "
                "to guard against luck, leaves it where it is.",
                raw=raw,
                prior=format_signed(prior),
            )
        return _(
            "Its adopting units alone show %(raw)s points; pulling that towards the "
            "library-wide average in proportion to its uncertainty, as we do to guard against "
            "luck, leaves it where it is.",
            raw=raw,
        )
    if known:
        return _(
            "Its adopting units alone show %(raw)s points; because a handful of units can "
            "flatter or harm a solution by luck, that is pulled towards the library-wide "
            "average of %(prior)s in proportion to its uncertainty, to the %(effect)s we stand "
            "behind and rank on.",
            raw=raw,
            prior=format_signed(prior),
            effect=format_signed(estimate.effect),
        )
    return _(
        "Its adopting units alone show %(raw)s points; because a handful of units can flatter "
        "or harm a solution by luck, that is pulled towards the library-wide average in "
        "proportion to its uncertainty, to the %(effect)s we stand behind and rank on.",
        raw=raw,
        effect=format_signed(estimate.effect),
    )


def event_study_chart(
    events: list[ImpactEventEstimate], period: str = "week", *, compact: bool = False
) -> EventChart | None:
    """Effects by event time with their intervals; placebo, dip and effect periods apart."""
    if not events:
        return None
    words = period_words(period_word(period))
    dip = [event.event_time for event in events if event.phase == "dip"]
    bands = []
    if dip:
        bands.append(
            Band(min(dip) - 0.5, max(dip) + 0.5, "band--dip", _("left out of the baseline"))
        )
    points = [
        EventPoint(
            x=event.event_time,
            value=event.effect,
            low=event.ci_low,
            high=event.ci_high,
            css_class=f"point--{event.phase}",
            title=_event_title(event, words),
        )
        for event in events
        if event.effect is not None
    ]
    if compact:
        x_label = _("%(Periods)s since adoption", Periods=_capital(words.many))
    else:
        x_label = _(
            "%(Periods)s since adoption (0 = the %(period)s it took effect)",
            Periods=_capital(words.many),
            period=words.one,
        )
    return event_chart(
        points=points,
        bands=bands,
        zero_line=True,
        x_label=x_label,
        y_label=_("Change in satisfaction (points)"),
        **(COMPACT_CHART if compact else {}),
    )


# What each phase of an event study is, in a point's tooltip (translated where shown).
PHASE_WORDS = {
    "placebo": N_("placebo check (before the dip)"),
    "dip": N_("dip window, left out of the baseline"),
    "effect": N_("effect"),
    "late": N_("after the effect window"),
}


def _capital(word: str) -> str:
    """``word`` with its first letter upper case ("weeks" → "Weeks"), the rest untouched."""
    return word[:1].upper() + word[1:]


def _event_title(event: ImpactEventEstimate, words: PeriodWords) -> str:
    phase = PHASE_WORDS.get(event.phase)
    title = _(
        "%(Period)s %(time)s, %(phase)s: %(effect)s",
        Period=_capital(words.one),
        time=signed_count(event.event_time),
        phase=_(phase) if phase else event.phase,
        effect=format_signed(event.effect),
    )
    if event.ci_low is not None and event.ci_high is not None:
        title = _(
            "%(title)s (95%% interval %(low)s to %(high)s)",
            title=title,
            low=format_signed(event.ci_low),
            high=format_signed(event.ci_high),
        )
    if event.n_units is not None:
        title = ngettext(
            "%(title)s, %(count)s unit",
            "%(title)s, %(count)s units",
            event.n_units,
            title=title,
            count=format_number(event.n_units),
        )
    return title


def solution_impact(
    session: Session, solution: Solution, fresh: Freshness, scope: Collection[int] | None
) -> SolutionImpact:
    """Everything the solution's impact page shows; ``scope`` = unit ids the viewer may see
    (``None``: all)."""
    run = fresh.run
    estimate = estimates_by_solution(session, run, [solution.id]).get(solution.id)
    evidence = SolutionEvidence(solution, estimate, _min_units(run))
    events = []
    if run is not None:
        events = list(
            session.scalars(
                sa.select(ImpactEventEstimate)
                .where(
                    ImpactEventEstimate.run_id == run.id,
                    ImpactEventEstimate.solution_id == solution.id,
                )
                .order_by(ImpactEventEstimate.event_time)
            )
        )
    adoptions = list(
        session.scalars(
            sa.select(Adoption)
            .where(Adoption.solution_id == solution.id)
            .options(selectinload(Adoption.unit))
        )
    )
    implemented = [item for item in adoptions if item.status == AdoptionStatus.IMPLEMENTED]
    planned = sum(
        item.status in (AdoptionStatus.PLANNED, AdoptionStatus.IN_PROGRESS) for item in adoptions
    )
    word = unit_word(item.unit.kind for item in implemented)
    period = run.period if run is not None else "week"
    adopters = [
        AdopterRow(item.unit, item.effective_on, scope is None or item.unit_id in scope)
        for item in implemented
    ]
    adopters.sort(key=lambda row: (row.effective_on or date.max, row.unit.name))
    visible = [row for row in adopters if row.visible]
    reading = None
    if evidence.has_interval:
        kinds = {(item.unit.kind or "").strip().lower() for item in implemented}
        reading = plain_reading(
            estimate.effect,
            estimate.ci_low,
            estimate.ci_high,
            estimate.n_units,
            kinds.pop() if len(kinds) == 1 else None,
        )
    return SolutionImpact(
        evidence=evidence,
        freshness=fresh,
        reading=reading,
        shrinkage=shrinkage_sentence(estimate, run) if estimate is not None else None,
        events=events,
        chart=event_study_chart(events, period),
        chart_compact=event_study_chart(events, period, compact=True),
        adopters=visible,
        hidden_adopters=len(adopters) - len(visible),
        planned=planned,
        unit_word=word,
    )


# --- "Did it work here?" ------------------------------------------------------------------------


@dataclass
class StoryRow:
    period_start: date
    event_time: int
    observed: float | None
    expected: float | None
    n: int
    phase: str

    @property
    def gap(self) -> float | None:
        if self.observed is None or self.expected is None:
            return None
        return self.observed - self.expected


@dataclass
class AdoptionStory:
    unit: Unit
    solution: Solution
    adoption: Adoption
    evidence: SolutionEvidence  # the pooled estimate, across every adopting unit
    freshness: Freshness
    period: str
    window: int
    reason: str | None = None  # why there is nothing to draw
    rows: list[StoryRow] = field(default_factory=list)
    chart: EventChart | None = None
    chart_compact: EventChart | None = None

    @property
    def word(self) -> str:
        return period_word(self.period)

    @property
    def words(self) -> PeriodWords:
        """The grain in the reader's language: ``words.one``, ``words.many``, ``words.count(n)``."""
        return period_words(self.word)

    def _mean_gap(self, rows: list[StoryRow]) -> float | None:
        gaps = [row.gap for row in rows if row.gap is not None]
        return sum(gaps) / len(gaps) if gaps else None

    @property
    def effect_rows(self) -> list[StoryRow]:
        return [
            row
            for row in self.rows
            if row.phase == "after" and (self.window == 0 or row.event_time < self.window)
        ]

    @property
    def before_rows(self) -> list[StoryRow]:
        return [row for row in self.rows if row.phase == "before"]

    @property
    def after_gap(self) -> float | None:
        """Mean of observed minus expected over the effect periods with responses."""
        return self._mean_gap(self.effect_rows)

    @property
    def before_gap(self) -> float | None:
        return self._mean_gap(self.before_rows)

    @property
    def after_periods(self) -> int:
        return sum(row.gap is not None for row in self.effect_rows)

    @property
    def after_responses(self) -> int:
        return sum(row.n for row in self.effect_rows)


def unit_adoption(session: Session, unit: Unit, solution: Solution) -> Adoption | None:
    return session.scalar(
        sa.select(Adoption).where(Adoption.unit_id == unit.id, Adoption.solution_id == solution.id)
    )


def adoption_story(
    session: Session,
    adoption: Adoption,
    fresh: Freshness,
    settings: ImpactSettings,
) -> AdoptionStory:
    """One unit's observed scores against its expected ones around one adoption."""
    run = fresh.run
    solution, unit = adoption.solution, adoption.unit
    estimate = estimates_by_solution(session, run, [solution.id]).get(solution.id)
    story = AdoptionStory(
        unit=unit,
        solution=solution,
        adoption=adoption,
        evidence=SolutionEvidence(solution, estimate, _min_units(run)),
        freshness=fresh,
        period=settings.period,
        window=settings.window,
    )
    if adoption.status != AdoptionStatus.IMPLEMENTED or adoption.effective_on is None:
        story.reason = _(
            "This plan item is %(status)s: there is nothing to compare until it has been "
            "implemented, with the date it took effect.",
            status=label_of(adoption.status).lower(),
        )
        return story
    try:
        frame = adoption_trajectory(session, unit.code, solution.code, settings)
    except ValueError as error:
        story.reason = _("Nothing to compare yet: %(reason)s.", reason=str(error))
        return story
    span = STORY_SPAN.get(settings.period, 26)
    frame = frame[(frame["event_time"] >= -span) & (frame["event_time"] <= span)]
    story.rows = [
        StoryRow(
            period_start=pd.Timestamp(row.period_start).date(),
            event_time=int(row.event_time),
            observed=None if pd.isna(row.observed) else float(row.observed),
            expected=None if pd.isna(row.expected) else float(row.expected),
            n=int(row.n),
            phase=str(row.phase),
        )
        for row in frame.itertuples(index=False)
    ]
    if not any(row.observed is not None for row in story.rows):
        story.reason = _("Nothing to compare yet: no survey responses around the adoption.")
        return story
    story.chart = _story_chart(story)
    story.chart_compact = _story_chart(story, compact=True)
    return story


def _story_chart(story: AdoptionStory, *, compact: bool = False) -> EventChart | None:
    words = story.words
    dip = [row.event_time for row in story.rows if row.phase == "dip"]
    bands = []
    if dip:
        bands.append(
            Band(min(dip) - 0.5, max(dip) + 0.5, "band--dip", _("left out of the baseline"))
        )
    last = max(row.event_time for row in story.rows)
    effect_end = last if story.window == 0 else min(story.window - 1, last)
    if effect_end >= 0:
        bands.append(Band(-0.5, effect_end + 0.5, "band--effect", _("counted in the effect")))
    titles = {row.event_time: _story_title(row, words) for row in story.rows}
    observed = EventSeries(
        _("Observed"),
        [(row.event_time, row.observed, titles[row.event_time]) for row in story.rows],
        "series--unit",
    )
    expected = EventSeries(
        _("Expected without it"),
        [(row.event_time, row.expected, titles[row.event_time]) for row in story.rows],
        "series--expected",
    )
    return event_chart(
        lines=[expected, observed],
        bands=bands,
        marker=0,
        x_label=_("%(Periods)s since it took effect", Periods=_capital(words.many)),
        y_label=_("Mean satisfaction (0–10)"),
        **(COMPACT_CHART if compact else {}),
    )


def _story_title(row: StoryRow, words: PeriodWords) -> str:
    """A point's tooltip: "Week of 5 Dec 2024 (+0): observed 7.12 from 14 responses, ..."."""
    if row.observed is None:
        figures = _("no responses")
    else:
        figures = ngettext(
            "observed %(score)s from %(count)s response",
            "observed %(score)s from %(count)s responses",
            row.n,
            score=format_score(row.observed),
            count=format_number(row.n),
        )
    if row.expected is not None:
        figures = _(
            "%(figures)s, expected %(score)s", figures=figures, score=format_score(row.expected)
        )
    return _(
        "%(Period)s of %(day)s (%(time)s): %(figures)s",
        Period=_capital(words.one),
        day=format_day(row.period_start),
        time=signed_count(row.event_time),
        figures=figures,
    )


# --- Library gaps ---------------------------------------------------------------------------


@dataclass
class GapChallenge:
    challenge: Challenge
    path: list[Challenge]  # its ancestors, top first
    solutions: list[SolutionEvidence] = field(default_factory=list)


@dataclass
class LibraryGaps:
    freshness: Freshness
    without_solution: list[GapChallenge]
    without_evidence: list[GapChallenge]
    challenges: int  # active challenges that are not categories


def library_gaps(session: Session, fresh: Freshness) -> LibraryGaps:
    """Active challenges no approved solution addresses, and those whose approved solutions
    show no evidence of a positive effect (none ranked with its interval above zero)."""
    run = fresh.run
    min_units = _min_units(run)
    mapped: dict[int, list[Solution]] = {}
    rows = session.execute(
        sa.select(solution_challenges.c.challenge_id, Solution)
        .join(Solution, Solution.id == solution_challenges.c.solution_id)
        .where(Solution.status == SolutionStatus.APPROVED)
        .order_by(Solution.title)
    ).all()
    for challenge_id, solution in rows:
        mapped.setdefault(challenge_id, []).append(solution)
    estimates = estimates_by_solution(session, run)
    without_solution: list[GapChallenge] = []
    without_evidence: list[GapChallenge] = []
    leaves = 0

    def walk(nodes: list[ChallengeNode], path: list[Challenge]) -> None:
        nonlocal leaves
        for node in nodes:
            solutions = mapped.get(node.challenge.id, [])
            if not node.children:
                leaves += 1
                if not solutions:
                    without_solution.append(GapChallenge(node.challenge, path))
            if solutions:
                evidence = sorted(
                    (
                        SolutionEvidence(item, estimates.get(item.id), min_units)
                        for item in solutions
                    ),
                    key=SolutionEvidence.order_key,
                )
                if not any(item.works for item in evidence):
                    without_evidence.append(GapChallenge(node.challenge, path, evidence))
            walk(node.children, [*path, node.challenge])

    walk(challenge_tree(session), [])
    return LibraryGaps(fresh, without_solution, without_evidence, leaves)


# --- The methods page -------------------------------------------------------------------------


@dataclass
class MethodSettings:
    period: str
    window: int
    dip: int
    placebo: int
    min_units: int
    prior_mean: float | None
    prior_sd: float | None

    @property
    def word(self) -> str:
        return period_word(self.period)

    @property
    def words(self) -> PeriodWords:
        """The grain in the reader's language: ``words.one``, ``words.many``, ``words.count(n)``."""
        return period_words(self.word)


def method_settings(settings: ImpactSettings, run: ImpactRun | None) -> MethodSettings:
    """The numbers the methods page quotes: the latest run's where there is one."""
    period = run.period if run is not None else settings.period
    return MethodSettings(
        period=period,
        window=run.window if run is not None else settings.window,
        dip=(
            run.anticipation
            if run is not None and run.anticipation is not None
            else DEFAULT_DIP.get(period, 0)
        ),  # fmt: skip
        placebo=DEFAULT_PLACEBO.get(period, 0),
        min_units=run.min_units if run is not None else settings.min_units,
        prior_mean=run.prior_mean if run is not None else None,
        prior_sd=run.prior_sd if run is not None else None,
    )


# An effect whose whole 95% interval lies within this many points of zero (on the 0-10 `overall`
# scale) is "no measurable effect": a precise zero, not just an uncertain estimate.
NEGLIGIBLE_EFFECT = 0.2
ALTERNATIVES_SHOWN = 3


@dataclass
class PlanItemEvidence:
    """What the evidence says about a plan item's solution, where the manager decides.

    ``evidence``: the solution's company-wide estimate (latest run); ``warning``: ``harmful``
    (ranked, interval below zero) or ``useless`` (ranked, interval within ±NEGLIGIBLE_EFFECT) or
    None; ``alternatives``: better-evidenced solutions for the same challenge (best first).
    """

    evidence: SolutionEvidence
    warning: str | None
    alternatives: list[SolutionEvidence]


def evidence_warning(item: SolutionEvidence) -> str | None:
    """``harmful``, ``useless`` or None: the flags a plan item of this solution carries."""
    if item.verdict == "negative":
        return "harmful"
    if (
        item.ranked
        and item.has_interval
        and item.estimate.ci_low >= -NEGLIGIBLE_EFFECT
        and item.estimate.ci_high <= NEGLIGIBLE_EFFECT
    ):
        return "useless"
    return None


def _challenge_solutions(adoption: Adoption) -> list[Solution]:
    """The approved solutions of the item's challenge (or, without one, of every challenge the
    solution addresses), the item's own solution aside."""
    challenges = [adoption.challenge] if adoption.challenge else list(adoption.solution.challenges)
    found: dict[int, Solution] = {}
    for challenge in challenges:
        for solution in challenge.solutions:
            if solution.id != adoption.solution_id and solution.status == SolutionStatus.APPROVED:
                found[solution.id] = solution
    return list(found.values())


def plan_item_evidence(
    session: Session, adoption: Adoption, run: ImpactRun | None = None
) -> PlanItemEvidence:
    """The item's solution with its evidence in ``run`` (default: the latest), its warning, and
    the alternatives worth trying instead when it is flagged: ranked solutions for the same
    challenge whose evidence is better (a positive interval, or a better rank)."""
    run = run or latest_run(session)
    own = order_by_evidence(session, run, [adoption.solution])[0]
    warning = evidence_warning(own)
    alternatives: list[SolutionEvidence] = []
    if warning is not None:
        others = order_by_evidence(session, run, _challenge_solutions(adoption))
        alternatives = [
            other
            for other in others
            if other.ranked
            and evidence_warning(other) is None
            and (other.works or other.estimate.rank < own.estimate.rank)
        ][:ALTERNATIVES_SHOWN]
    return PlanItemEvidence(own, warning, alternatives)


@dataclass
class FlaggedSolution:
    """An implemented solution the evidence flags, with the units that run it."""

    evidence: SolutionEvidence
    warning: str  # "harmful" or "useless"
    adoptions: list[Adoption]
    alternatives: list[SolutionEvidence]


def flagged_adoptions(session: Session) -> list[FlaggedSolution]:
    """Every solution implemented somewhere that the latest run finds harmful or useless, with
    the units where it is implemented and better-evidenced alternatives: the CX lead's list of
    fixes to reconsider. Harmful first, then by the number of units."""
    run = latest_run(session)
    if run is None:
        return []
    implemented = session.scalars(
        sa.select(Adoption)
        .where(Adoption.status == AdoptionStatus.IMPLEMENTED)
        .options(selectinload(Adoption.unit), selectinload(Adoption.solution))
    ).all()
    by_solution: dict[int, list[Adoption]] = {}
    for adoption in implemented:
        by_solution.setdefault(adoption.solution_id, []).append(adoption)
    solutions = [items[0].solution for items in by_solution.values()]
    flagged = []
    for evidence in order_by_evidence(session, run, solutions):
        warning = evidence_warning(evidence)
        if warning is None:
            continue
        adoptions = sorted(by_solution[evidence.solution.id], key=lambda item: item.unit.name)
        alternatives = plan_item_evidence(session, adoptions[0], run).alternatives
        flagged.append(FlaggedSolution(evidence, warning, adoptions, alternatives))
    return sorted(flagged, key=lambda item: (item.warning != "harmful", -len(item.adoptions)))
