"""The unit × period panel every impact estimator works on.

Pure: numpy and pandas only. ``analytics/data.py`` reads the database into the three frames
``build_panel`` takes; tests and benchmarks build them from generated data directly.

Periods follow the contract: weeks start on Monday; months, quarters and years are calendar
ones; a date counts in the period that holds it, and an adoption in the middle of a period makes
that period event time 0.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np
import pandas as pd

from cxactions.foundations.translation import _

PERIODS = ("week", "month", "quarter", "year")
_FREQUENCIES = {"week": "W-SUN", "month": "M", "quarter": "Q", "year": "Y"}


def period_starts(dates: pd.Series | pd.DatetimeIndex | np.ndarray, period: str) -> np.ndarray:
    """The first day (``datetime64[D]``) of the period holding each date."""
    if period not in PERIODS:
        raise ValueError(f"unknown period {period!r}: choose one of {', '.join(PERIODS)}")
    index = pd.DatetimeIndex(pd.to_datetime(np.asarray(dates)))
    # A weekly period ending on Sunday starts on Monday.
    return index.to_period(_FREQUENCIES[period]).start_time.to_numpy().astype("datetime64[D]")


def period_range(first: np.datetime64, last: np.datetime64, period: str) -> np.ndarray:
    """Every period start from ``first`` to ``last`` (both period starts), in order."""
    frequency = _FREQUENCIES[period]
    periods = pd.period_range(pd.Timestamp(first), pd.Timestamp(last), freq=frequency)
    return periods.start_time.to_numpy().astype("datetime64[D]")


@dataclass
class Panel:
    """A dense unit × period panel of the outcome, with the adoptions that may have moved it.

    ``mean`` holds each unit-period's mean ``overall`` (NaN where nobody answered) and ``count``
    its number of responses. ``groups`` gives each unit's comparison group (its region): the
    default estimator compares units with others of their group in the same period.
    ``adoptions`` has one row per implemented adoption inside the panel: ``unit`` (row index),
    ``solution`` (the solution id) and ``start`` (the column of its adoption period).
    """

    period: str
    unit_ids: np.ndarray
    groups: np.ndarray
    group_names: list[str]
    periods: np.ndarray
    mean: np.ndarray
    count: np.ndarray
    adoptions: pd.DataFrame
    response_variance: float | None = None
    notes: list[str] = field(default_factory=list)

    @property
    def shape(self) -> tuple[int, int]:
        return self.mean.shape

    @property
    def solutions(self) -> list[str]:
        """The solutions with at least one adoption inside the panel, sorted."""
        return sorted(self.adoptions["solution"].unique().tolist())

    def cohorts(self, solution: str) -> np.ndarray:
        """Per unit, the period index where ``solution`` starts; -1 for units that never adopt it."""
        cohort = np.full(len(self.unit_ids), -1, dtype=np.int64)
        rows = self.adoptions[self.adoptions["solution"] == solution]
        cohort[rows["unit"].to_numpy()] = rows["start"].to_numpy()
        return cohort

    def long(self) -> pd.DataFrame:
        """The observed cells as a long frame: unit, period (index), y, n."""
        unit, period = np.nonzero(self.count > 0)
        return pd.DataFrame(
            {
                "unit": unit,
                "period": period,
                "y": self.mean[unit, period],
                "n": self.count[unit, period],
            }
        )


def build_panel(
    cells: pd.DataFrame,
    units: pd.DataFrame,
    adoptions: pd.DataFrame,
    period: str,
    *,
    first: np.datetime64 | None = None,
    last: np.datetime64 | None = None,
) -> Panel:
    """Assemble a ``Panel`` from long frames.

    ``cells``: ``unit_id``, ``period_start`` (a period's first day), ``n`` (responses),
    ``total`` (sum of ``overall``) and optionally ``total_sq`` (sum of squares), one row per
    unit-period with responses. ``units``: ``unit_id`` and ``group`` (comparison group name) for
    every unit that may appear. ``adoptions``: ``unit_id``, ``solution_id``, ``adopted_on``
    (date) of implemented adoptions. Units without any response are left out; adoptions that
    start after the last period or before the first are left out with a note.
    """
    notes: list[str] = []
    if period not in PERIODS:
        raise ValueError(f"unknown period {period!r}: choose one of {', '.join(PERIODS)}")
    cells = cells[cells["n"] > 0]
    if cells.empty:
        # Shown on the unit's "did it work here?" page: in the reader's language.
        raise ValueError(_("no survey responses to build a panel from"))
    starts = pd.to_datetime(cells["period_start"]).to_numpy().astype("datetime64[D]")
    first = starts.min() if first is None else np.datetime64(first, "D")
    last = starts.max() if last is None else np.datetime64(last, "D")
    periods = period_range(first, last, period)
    inside = (starts >= periods[0]) & (starts <= periods[-1])
    cells, starts = cells[inside], starts[inside]

    unit_ids = np.array(sorted(cells["unit_id"].unique().tolist()), dtype=object)
    unit_index = pd.Index(unit_ids)
    group_of = units.drop_duplicates("unit_id").set_index("unit_id")["group"]
    unit_groups = group_of.reindex(unit_ids).fillna("(no group)").astype(str).to_numpy()
    group_names = sorted(set(unit_groups.tolist()))
    groups = pd.Index(group_names).get_indexer(unit_groups)

    row = unit_index.get_indexer(cells["unit_id"])
    column = np.searchsorted(periods, starts)
    if not np.array_equal(periods[column], starts):
        raise ValueError(f"period_start values are not {period} starts")
    shape = (len(unit_ids), len(periods))
    count = np.zeros(shape)
    total = np.zeros(shape)
    np.add.at(count, (row, column), cells["n"].to_numpy(dtype=float))
    np.add.at(total, (row, column), cells["total"].to_numpy(dtype=float))
    with np.errstate(invalid="ignore", divide="ignore"):
        mean = np.where(count > 0, total / count, np.nan)

    response_variance = None
    if "total_sq" in cells:
        n = cells["n"].to_numpy(dtype=float)
        sums = cells["total"].to_numpy(dtype=float)
        squares = cells["total_sq"].to_numpy(dtype=float)
        degrees = float((n - 1).sum())
        if degrees > 0:
            within = np.clip(squares - sums * sums / n, 0, None).sum()
            response_variance = float(within / degrees)

    adoption_rows, censored = _place_adoptions(adoptions, unit_index, periods, period, notes)
    if censored.size:
        # A unit already treated when the data starts has no history to compare with, and
        # would pass for an untreated one in every later period: leave it out altogether.
        keep = np.ones(len(unit_ids), dtype=bool)
        keep[censored] = False
        renumber = np.cumsum(keep) - 1
        adoption_rows = adoption_rows[keep[adoption_rows["unit"].to_numpy()]].copy()
        adoption_rows["unit"] = renumber[adoption_rows["unit"].to_numpy()]
        adoption_rows = adoption_rows.reset_index(drop=True)
        unit_ids, groups, mean, count = unit_ids[keep], groups[keep], mean[keep], count[keep]
    return Panel(
        period=period,
        unit_ids=unit_ids,
        groups=groups.astype(np.int64),
        group_names=group_names,
        periods=periods,
        mean=mean,
        count=count,
        adoptions=adoption_rows,
        response_variance=response_variance,
        notes=notes,
    )


def _place_adoptions(
    adoptions: pd.DataFrame,
    unit_index: pd.Index,
    periods: np.ndarray,
    period: str,
    notes: list[str],
) -> tuple[pd.DataFrame, np.ndarray]:
    """Adoptions as (unit row, solution, start column), and the rows of units treated too early."""
    frame = adoptions.dropna(subset=["adopted_on"]) if not adoptions.empty else adoptions
    if frame.empty:
        empty = pd.DataFrame(
            {
                "unit": pd.Series(dtype=np.int64),
                "solution": pd.Series(dtype=object),
                "start": pd.Series(dtype=np.int64),
            }
        )
        return empty, np.array([], dtype=np.int64)
    unit = unit_index.get_indexer(frame["unit_id"])
    known = unit >= 0
    if (~known).any():
        notes.append(f"{int((~known).sum())} adoptions at units without responses left out")
    frame, unit = frame[known], unit[known]
    start_day = period_starts(frame["adopted_on"], period)
    start = np.searchsorted(periods, start_day)
    before = start_day < periods[0]
    after = start_day > periods[-1]
    censored = np.unique(unit[before])
    if censored.size:
        notes.append(
            f"{censored.size} units left out: a solution took effect there before the first "
            "period, so they have no history to compare with"
        )
    if after.any():
        notes.append(
            f"{int(after.sum())} adoptions that take effect after the last period left out"
        )
    keep = ~(before | after)
    placed = pd.DataFrame(
        {
            "unit": unit[keep].astype(np.int64),
            "solution": frame["solution_id"].astype(str).to_numpy()[keep],
            "start": start[keep].astype(np.int64),
        }
    ).reset_index(drop=True)
    return placed, censored.astype(np.int64)
