"""Impact estimates from the database: the panel, the estimator and the ranking, in one call.

Knows the session, not the request: the CLI, the web pages and the cache all come here.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd
from sqlalchemy.orm import Session

from cxactions.analytics.data import load_panel, solution_titles
from cxactions.analytics.impact import (
    DEFAULT_ESTIMATOR,
    RANKING_ESTIMATORS,
    ImpactOptions,
    ImpactResult,
    Progress,
    estimate,
)
from cxactions.analytics.ranking import MIN_UNITS, Prior, rank_on_evidence

DETAILS = ("summary", "event", "group-time")
SUMMARY_CSV = ["solution_id", "title", "effect", "ci_low", "ci_high", "n_units", "rank"]
SUMMARY_EXTRA = [
    "se",
    "raw_effect",
    "raw_se",
    "placebo",
    "placebo_se",
    "placebo_warning",
    "enough_evidence",
]
EVENT_CSV = ["solution_id", "event_time", "effect", "ci_low", "ci_high", "se", "n_units", "phase"]
GROUP_TIME_CSV = ["solution_id", "cohort", "period", "effect", "se", "ci_low", "ci_high"]


@dataclass
class ImpactReport:
    """An estimator's result with the ranked summary the product shows."""

    result: ImpactResult
    ranked: pd.DataFrame  # one row per solution, best evidence first
    prior: Prior | None
    min_units: int
    units: int
    periods: int

    @property
    def notes(self) -> list[str]:
        return self.result.notes

    def rows(self, detail: str = "summary") -> pd.DataFrame:
        """The contract's columns for ``--detail`` (extra columns after them)."""
        if detail == "summary":
            return self.ranked[SUMMARY_CSV + SUMMARY_EXTRA]
        if detail == "event":
            frame = self.result.event.rename(columns={"solution": "solution_id"})
            return frame[EVENT_CSV].reset_index(drop=True)
        if detail == "group-time":
            frame = self.result.group_time.rename(columns={"solution": "solution_id"})
            frame = frame.assign(
                cohort=pd.to_datetime(frame["cohort"]).dt.strftime("%Y-%m-%d"),
                period=pd.to_datetime(frame["period"]).dt.strftime("%Y-%m-%d"),
            )
            return frame[GROUP_TIME_CSV].reset_index(drop=True)
        raise ValueError(f"unknown detail {detail!r}: choose one of {', '.join(DETAILS)}")


def compute_impact(
    session: Session,
    *,
    estimator: str = DEFAULT_ESTIMATOR,
    period: str = "week",
    options: ImpactOptions | None = None,
    min_units: int = MIN_UNITS,
    progress: Progress | None = None,
) -> ImpactReport:
    """Estimate every adopted solution's effect from the database and rank them on evidence.

    The default estimator's effects are shrunk (empirical Bayes) before ranking; ``cs`` ranks
    its own simple aggregation as it is; the baselines are never ranked.
    """
    if progress:
        progress("reading the panel")
    panel = load_panel(session, period)
    result = estimate(panel, estimator, options, progress)
    ranked, prior = rank_on_evidence(
        result.summary,
        shrink=estimator == DEFAULT_ESTIMATOR,
        min_units=min_units,
        confidence=result.options.confidence,
        rank=estimator in RANKING_ESTIMATORS,
    )
    titles = solution_titles(session)
    ranked = ranked.rename(columns={"solution": "solution_id"})
    ranked.insert(1, "title", [titles.get(code, "") for code in ranked["solution_id"]])
    ranked["placebo_warning"] = ranked.get("placebo_warning", pd.Series(False, index=ranked.index))
    ranked["placebo_warning"] = ranked["placebo_warning"].fillna(False).astype(bool)
    return ImpactReport(
        result=result,
        ranked=ranked,
        prior=prior,
        min_units=min_units,
        units=int(panel.shape[0]),
        periods=int(panel.shape[1]),
    )


def plain_reading(effect: float, low: float, high: float, units: int, unit_word: str = "units"):
    """The sentence a manager reads: "raised satisfaction by about 0.4 points (0.2 to 0.6) at
    23 units"."""
    if not np.isfinite(effect):
        return "No estimate yet."
    verb = "raised" if effect >= 0 else "lowered"
    where = f"at {units} {unit_word}" if units != 1 else f"at 1 {unit_word.rstrip('s')}"
    return (
        f"{verb.capitalize()} satisfaction by about {abs(effect):.1f} points "
        f"({low:.1f} to {high:.1f}) {where}."
    )
