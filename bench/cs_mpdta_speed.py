"""Benchmark: Callaway & Sant'Anna on mpdta, ``cxactions.analytics.cs`` against ``differences``.

Both sides do the same work: the 12 group-time ATTs with analytic standard errors, then the
simple, event-study (with its overall effect) and cohort (with its overall effect) aggregations,
never-treated comparison group, varying base period, as R ``did``'s published run. Each side is
warmed up once, then timed ``--repeat`` times; the median is reported. Before timing, the script
checks that both give the same numbers.

    python bench/cs_mpdta_speed.py               # prints a Markdown section to paste
    python bench/cs_mpdta_speed.py --repeat 50

``differences`` is the reference of the test suite (``pip install -e .[test]``). The mpdta file
is the test suite's copy, ``tests/data/mpdta.csv`` (source and licence in its README). Nothing
is written.
"""

from __future__ import annotations

import argparse
import datetime as dt
import os
import platform
import statistics
import sys
import time
import warnings
from importlib.metadata import version
from pathlib import Path

import numpy as np
import pandas as pd

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from cxactions.analytics.cs import CSOptions, CSResult, callaway_santanna  # noqa: E402

MPDTA = Path(__file__).resolve().parents[1] / "tests" / "data" / "mpdta.csv"
OPTIONS = CSOptions(control="never", base_period="varying", anticipation=0, window=0)


def mpdta() -> pd.DataFrame:
    """The raw mpdta data set (did 2.5.1)."""
    return pd.read_csv(MPDTA)


def ours(panel: pd.DataFrame) -> CSResult:
    return callaway_santanna(panel, OPTIONS)


def reference(data: pd.DataFrame) -> dict[str, pd.DataFrame]:
    """The same estimation and aggregations by ``differences``."""
    import differences

    with warnings.catch_warnings():
        # differences 0.3.0 uses pandas' deprecated inplace= calls.
        warnings.filterwarnings("ignore", category=DeprecationWarning, module=r"differences\.")
        warnings.filterwarnings("ignore", category=FutureWarning, module=r"differences\.")
        model = differences.ATTgt(
            data=data.set_index(["countyreal", "year"]), cohort_column="cohort"
        )
        model.fit(formula="lemp", control_group="never_treated", progress_bar=False)
        return {
            "group_time": model.results(),
            "simple": model.aggregate("simple"),
            "event": model.aggregate("event"),
            "dynamic_overall": model.aggregate("event", overall=True),
            "group": model.aggregate("cohort"),
            "group_overall": model.aggregate("cohort", overall=True),
        }


def check_same_numbers(mine: CSResult, theirs: dict[str, pd.DataFrame]) -> float:
    """Largest absolute difference between the two sides' estimates and standard errors."""
    gaps = []
    cells = mine.group_time.assign(cohort=lambda f: f["cohort"] + 2003)
    cells["period"] += 2003
    table = theirs["group_time"].reset_index()
    table = pd.DataFrame(
        {
            "cohort": table["cohort"],
            "period": table["time"],
            "att": table.iloc[:, 3],
            "se": table.iloc[:, 4],
        }
    )
    merged = cells.merge(table, on=["cohort", "period"], suffixes=("", "_ref"))
    assert len(merged) == len(cells) == len(table) == 12
    gaps += [(merged["att"] - merged["att_ref"]).abs().max()]
    gaps += [(merged["se"] - merged["se_ref"]).abs().max()]
    event = theirs["event"]
    gaps += [np.abs(mine.event["att"].to_numpy() - event.iloc[:, 0].to_numpy()).max()]
    gaps += [np.abs(mine.event["se"].to_numpy() - event.iloc[:, 1].to_numpy()).max()]
    for name in ("simple", "dynamic_overall", "group_overall"):
        estimate = getattr(mine, name)
        gaps += [abs(estimate.att - theirs[name].iloc[0, 0])]
        gaps += [abs(estimate.se - theirs[name].iloc[0, 1])]
    gap = float(max(gaps))
    assert gap < 1e-10, f"the two implementations disagree by {gap:.3g}"
    return gap


def timed(function, argument, repeat: int) -> list[float]:
    function(argument)  # warm-up: imports, caches
    times = []
    for _ in range(repeat):
        start = time.perf_counter()
        function(argument)
        times.append(time.perf_counter() - start)
    return times


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeat", type=int, default=20, help="timed runs per side [20]")
    args = parser.parse_args()

    raw = mpdta()
    panel = pd.DataFrame(
        {
            "unit": raw["countyreal"],
            "period": raw["year"] - 2003,
            "y": raw["lemp"],
            "cohort": np.where(raw["first.treat"] > 0, raw["first.treat"] - 2003, -1),
        }
    )
    data = raw.assign(cohort=raw["first.treat"].where(raw["first.treat"] > 0))

    mine = ours(panel)
    gap = check_same_numbers(mine, reference(data))
    ours_times = timed(ours, panel, args.repeat)
    reference_times = timed(reference, data, args.repeat)
    ours_median = statistics.median(ours_times)
    reference_median = statistics.median(reference_times)

    def ms(seconds: float) -> str:
        return f"{seconds * 1000:.1f} ms"

    print(f"## Impact: cs on mpdta vs differences {version('differences')}")
    print()
    print(
        f"- Data: mpdta (R did 2.5.1), {raw['countyreal'].nunique()} counties x "
        f"{raw['year'].nunique()} years = {len(raw):,} rows; {len(mine.group_time)} group-time "
        "cells, never-treated comparison group, varying base period, analytic SEs."
    )
    print(
        "- Work timed on each side: group-time ATTs and SEs, then the simple, event-study "
        "(+ overall) and cohort (+ overall) aggregations."
    )
    print(
        f"- Machine: {platform.system()} {platform.machine()}, os.cpu_count() = {os.cpu_count()}; "
        f"Python {platform.python_version()}, numpy {np.__version__}, pandas {pd.__version__}; "
        f"{dt.date.today().isoformat()}."
    )
    print(
        f"- Same numbers: largest difference in any ATT or SE {gap:.1e}; simple ATT "
        f"{mine.simple.att:.10f} (SE {mine.simple.se:.10f})."
    )
    print()
    print("| implementation | median | fastest | slowest | runs |")
    print("| --- | --- | --- | --- | --- |")
    for name, times in [
        ("cxactions.analytics.cs", ours_times),
        (f"differences {version('differences')}", reference_times),
    ]:
        row = [ms(statistics.median(times)), ms(min(times)), ms(max(times)), str(len(times))]
        print(f"| {name} | " + " | ".join(row) + " |")
    print()
    print(f"cxactions is {reference_median / ours_median:.1f}x faster (ratio of medians).")


if __name__ == "__main__":
    main()
