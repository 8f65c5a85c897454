"""Benchmark: what ``--by region`` adds to the default estimator's run (time and memory).

Every ``refresh_impact`` (the cache the pages read) estimates by region, so the regional split
must stay a small share of a run. In process, on panels built directly (no database: reading
is the same with or without regions), for each size the default estimator runs without and
with ``by=`` (each unit's region), best of ``--runs``; the extra memory is the peak traced by
``tracemalloc`` over one run of each (numpy reports its buffers to it).

- ``small``: 400 stores in 4 regions x 104 weeks x 30 solutions (5-40 adopters each);
- ``large``: 5,000 stores in 50 regions x 156 weeks x 300 solutions, adopters spread over the
  regions (as ``bench/impact_speed.py``): few (solution, region) pairs reach 5 adopters;
- ``large-concentrated``: the same, but each solution adopted within 1-3 regions, so most
  pairs reach 5 adopters and get a coefficient of their own (the regression's worst case).

    python bench/impact_by_region.py                  # all sizes
    python bench/impact_by_region.py --sizes small    # quick

Prints a Markdown table; writes nothing.
"""

from __future__ import annotations

import argparse
import time
import tracemalloc
from dataclasses import dataclass

import numpy as np
import pandas as pd

from cxactions.analytics.estimators import ImpactOptions, estimate
from cxactions.analytics.panel import Panel, build_panel

START = np.datetime64("2023-01-02", "D")  # a Monday


@dataclass(frozen=True)
class Size:
    name: str
    units: int
    regions: int
    weeks: int
    solutions: int
    concentrated: bool = False


SIZES = {
    "small": Size("small", 400, 4, 104, 30),
    "large": Size("large", 5_000, 50, 156, 300),
    "large-concentrated": Size("large-concentrated", 5_000, 50, 156, 300, concentrated=True),
}


def generate(size: Size, seed: int = 11) -> tuple[Panel, dict[str, str]]:
    """A weekly panel of unit-week sums with planted effects, and each store's region."""
    rng = np.random.default_rng(seed)
    store_region = np.arange(size.units) % size.regions
    stores = np.array([f"ST-{s:05d}" for s in range(size.units)], dtype=object)
    taken = np.zeros(size.units, dtype=np.int64)
    candidates = rng.permutation(size.units)[: int(size.units * 0.75)]
    planted = rng.uniform(-0.3, 0.8, size.solutions)
    effect = np.zeros((size.units, size.weeks))
    rows = []
    for solution in range(size.solutions):
        free = candidates[taken[candidates] < 4]
        if size.concentrated:
            regions = rng.choice(size.regions, size=int(rng.integers(1, 4)), replace=False)
            free = free[np.isin(store_region[free], regions)]
        count = min(int(rng.integers(5, 41)), free.size)
        for store in rng.choice(free, size=count, replace=False):
            taken[store] += 1
            week = int(rng.integers(8, size.weeks))
            effect[store, week:] += planted[solution]
            rows.append(
                (stores[store], f"SOL-{solution:03d}", START + np.timedelta64(week * 7, "D"))
            )
    weeks = np.arange(size.weeks)
    season = 0.35 * np.sin(2 * np.pi * (weeks * 7 - 60) / 365.25)[None, :] + rng.normal(
        0, 0.02, (size.regions, size.weeks)
    ).cumsum(axis=1)
    level = 7.4 + rng.normal(0, 0.3, size.units)
    n = np.maximum(rng.poisson(12, (size.units, size.weeks)), 1).astype(float)
    mean = level[:, None] + season[store_region] + effect + rng.normal(0, 1.8, n.shape) / np.sqrt(n)
    cells = pd.DataFrame(
        {
            "unit_id": np.repeat(stores, size.weeks),
            "period_start": np.tile(START + (weeks * 7).astype("timedelta64[D]"), size.units),
            "n": n.ravel(),
            "total": (mean * n).ravel(),
            "total_sq": (mean**2 * n + 1.8**2 * (n - 1)).ravel(),
        }
    )
    regions = {
        store: f"RG-{region:02d}" for store, region in zip(stores, store_region, strict=True)
    }
    units = pd.DataFrame({"unit_id": list(regions), "group": list(regions.values())})
    adoptions = pd.DataFrame(rows, columns=["unit_id", "solution_id", "adopted_on"])
    return build_panel(cells, units, adoptions, "week"), regions


def timed(panel: Panel, by: dict[str, str] | None, runs: int) -> tuple[float, object]:
    best, result = float("inf"), None
    for _ in range(runs):
        started = time.perf_counter()
        result = estimate(panel, "imputation", ImpactOptions(window=12), by=by)
        best = min(best, time.perf_counter() - started)
    return best, result


def traced_peak(panel: Panel, by: dict[str, str] | None) -> float:
    tracemalloc.start()
    estimate(panel, "imputation", ImpactOptions(window=12), by=by)
    peak = tracemalloc.get_traced_memory()[1]
    tracemalloc.stop()
    return peak / 2**20


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", default=",".join(SIZES))
    parser.add_argument("--runs", type=int, default=3)
    arguments = parser.parse_args()
    print(
        "| size | pairs (with a figure) | estimate | with --by region | extra | "
        "peak traced | with --by region |"
    )
    print("| --- | --- | --- | --- | --- | --- | --- |")
    for name in arguments.sizes.split(","):
        size = SIZES[name.strip()]
        panel, regions = generate(size)
        plain, _ = timed(panel, None, arguments.runs)
        grouped, result = timed(panel, regions, arguments.runs)
        rows = result.by_group
        print(
            f"| {size.name} ({size.units:,} x {size.weeks} x {size.solutions}, {size.regions} "
            f"regions) | {len(rows):,} ({int(rows['effect'].notna().sum()):,}) | {plain:.2f} s "
            f"| {grouped:.2f} s | +{(grouped / plain - 1) * 100:.0f}% | "
            f"{traced_peak(panel, None):.0f} MB | {traced_peak(panel, regions):.0f} MB |"
        )


if __name__ == "__main__":
    main()
