"""The estimator's settings reach the numbers people read (issue 11, item 13).

Not the maths (tests/analytics/test_impact_estimators.py) but the wiring: the estimates the pages store
(``refresh_impact``, shown by the leaderboard and its CSV) and those ``cxactions impact`` prints
are shrunk by empirical Bayes when enough solutions are ranked, and leave the dip window (6
weeks) out of the baseline. Each world is built for one setting (tests/impact_wiring_world.py).
"""

from __future__ import annotations

import io
import json
import math

import numpy as np
import pandas as pd
import pytest
import sqlalchemy as sa
from scipy.optimize import minimize_scalar

from cxactions.analytics.estimators import DEFAULT_DIP
from cxactions.analytics.ranking import MIN_UNITS
from cxactions.auth.models import Role
from cxactions.impact.models import ImpactEstimate
from cxactions.impact.services import ImpactSettings, refresh_impact
from cxactions.library.models import Solution
from tests.impact_wiring_world import FEW, build_dip_world, build_spread_world

# --- Empirical-Bayes shrinkage, computed here independently ---------------------------------


def morris_shrinkage(raw: pd.DataFrame) -> tuple[float, float, pd.DataFrame]:
    """Morris (1983) normal-normal empirical Bayes from raw estimates and standard errors.

    The prior (mean, variance of true effects) maximises the REML likelihood over the solutions
    with enough units; every estimate is then pulled towards the mean by its noise share:
    shrunk = mean + B (raw - mean) with B = tau² / (tau² + se²), and its variance is
    B se² + (1 - B)² / sum(1 / (tau² + se²)) (the prior mean's own uncertainty).
    Written from the formulas, not from cxactions.analytics.ranking: a numerical optimiser of
    the restricted likelihood instead of its fixed-point iteration.
    """
    eligible = raw[raw["n_units"] >= MIN_UNITS]
    y, v = eligible["raw_effect"].to_numpy(float), eligible["raw_se"].to_numpy(float) ** 2

    def mean_given(tau2: float) -> float:
        w = 1 / (tau2 + v)
        return float((w * y).sum() / w.sum())

    def minus_restricted_loglik(tau2: float) -> float:
        w = 1 / (tau2 + v)
        mu = mean_given(tau2)
        return 0.5 * (np.log(tau2 + v).sum() + np.log(w.sum()) + (w * (y - mu) ** 2).sum())

    fit = minimize_scalar(
        minus_restricted_loglik,
        bounds=(0.0, 10 * float(np.var(y)) + 1.0),
        method="bounded",
        options={"xatol": 1e-12},
    )
    tau2 = float(fit.x)
    mu = mean_given(tau2)
    variance = raw["raw_se"].to_numpy(float) ** 2
    keep = tau2 / (tau2 + variance)
    mean_variance = 1 / (1 / (tau2 + v)).sum()
    out = raw.assign(
        shrunk=mu + keep * (raw["raw_effect"].to_numpy(float) - mu),
        shrunk_se=np.sqrt(keep * variance + (1 - keep) ** 2 * mean_variance),
    )
    return mu, tau2, out


def check_shrunk(published: pd.DataFrame) -> None:
    """``published`` (solution_id, effect, se, raw_effect, raw_se, n_units) is Morris-shrunk."""
    mu, tau2, expected = morris_shrinkage(published)
    assert 0 < tau2 < 1  # a real spread of true effects: neither no pooling nor full pooling
    assert np.allclose(published["effect"], expected["shrunk"], atol=1e-6, rtol=0)
    assert np.allclose(published["se"], expected["shrunk_se"], atol=1e-6, rtol=0)
    raw, shrunk = published["raw_effect"].to_numpy(float), published["effect"].to_numpy(float)
    # Every estimate moves towards the grand mean, none past it, and visibly so.
    assert np.all(np.abs(shrunk - mu) < np.abs(raw - mu))
    assert np.all(np.sign(shrunk - mu) == np.sign(raw - mu))
    assert np.abs(shrunk - raw).max() > 0.02
    assert (np.abs(shrunk - raw) > 1e-3).sum() >= len(published) - 1
    # The published standard errors are the posterior ones: smaller than the raw ones.
    assert np.all(published["se"].to_numpy(float) < published["raw_se"].to_numpy(float))


@pytest.fixture
def spread(db):
    return build_spread_world()


def cli(runner, *args: str) -> str:
    result = runner.invoke(args=["impact", *args])
    assert result.exit_code == 0, result.output
    return result.stdout


def test_the_cli_publishes_shrunk_effects_when_enough_solutions_are_ranked(runner, spread):
    frame = pd.read_csv(io.StringIO(cli(runner, "--format", "csv")))
    assert set(frame["solution_id"]) == set(spread)
    ranked = frame[frame["rank"].notna()]
    assert len(ranked) == len(spread) - len(FEW) >= 5  # enough to estimate the prior
    check_shrunk(frame)

    document = json.loads(cli(runner, "--format", "json"))
    records = pd.DataFrame(document["results"])
    assert document["estimator"] == "imputation"
    check_shrunk(records)
    assert np.allclose(
        records.set_index("solution_id")["effect"],
        frame.set_index("solution_id")["effect"].loc[records["solution_id"]],
        atol=1e-4,  # the CSV rounds
    )


def test_the_estimates_the_pages_show_are_shrunk(db, spread, client_as):
    run = refresh_impact(db.session, ImpactSettings(), trigger="test")
    rows = db.session.execute(
        sa.select(
            Solution.code.label("solution_id"),
            ImpactEstimate.effect,
            ImpactEstimate.se,
            ImpactEstimate.raw_effect,
            ImpactEstimate.raw_se,
            ImpactEstimate.n_units,
        )
        .join(Solution, Solution.id == ImpactEstimate.solution_id)
        .where(ImpactEstimate.run_id == run.id)
    ).all()
    stored = pd.DataFrame(
        rows, columns=["solution_id", "effect", "se", "raw_effect", "raw_se", "n_units"]
    )
    assert set(stored["solution_id"]) == set(spread)
    check_shrunk(stored)
    mu, tau2, _ = morris_shrinkage(stored)
    assert math.isclose(run.prior_mean, mu, abs_tol=1e-6)
    assert math.isclose(run.prior_sd, math.sqrt(tau2), abs_tol=1e-5)

    # The leaderboard's CSV export reads them: the shrunk effects, not the raw ones.
    page = client_as(Role.STAFF).get("/impact.csv").get_data(as_text=True)
    shown = pd.read_csv(io.StringIO(page)).set_index("solution_id")["effect"]
    expected = stored.set_index("solution_id")["effect"].loc[shown.index]
    assert np.allclose(shown, expected, atol=1e-3)
    raw = stored.set_index("solution_id")["raw_effect"].loc[shown.index]
    assert np.abs(shown - raw).max() > 0.02


# --- The dip window ---------------------------------------------------------------------------


@pytest.fixture
def dip(db):
    return build_dip_world()


def dip_estimate(frame: pd.DataFrame) -> float:
    (effect,) = frame.loc[frame["solution_id"] == "SOL-DIP", "effect"]
    return float(effect)


CLOSE = 0.12  # the default estimate is this close to the planted truth
BIAS = 0.2  # without the dip window the recovery from the dip adds at least this much


def test_the_cli_leaves_the_dip_out_of_the_baseline_unless_told_not_to(runner, dip):
    default = json.loads(cli(runner, "--format", "json"))
    fair = dip_estimate(pd.DataFrame(default["results"]))
    assert abs(fair - dip) < CLOSE  # the numbers first: a label alone proves nothing
    assert default["anticipation"] == DEFAULT_DIP["week"] == 6

    none = json.loads(cli(runner, "--format", "json", "--anticipation", "0"))
    assert none["anticipation"] == 0
    biased = dip_estimate(pd.DataFrame(none["results"]))
    assert biased - dip > BIAS and biased - fair > BIAS  # recovery credited to the solution

    as_csv = pd.read_csv(io.StringIO(cli(runner, "--format", "csv", "--anticipation", "0")))
    assert dip_estimate(as_csv) == pytest.approx(biased, abs=1e-4)
    as_csv = pd.read_csv(io.StringIO(cli(runner, "--format", "csv", "--anticipation", "6")))
    assert dip_estimate(as_csv) == pytest.approx(fair, abs=1e-4)


def test_the_estimates_the_pages_show_leave_the_dip_out_of_the_baseline(db, dip, client_as):
    run = refresh_impact(db.session, ImpactSettings(), trigger="test")
    page = client_as(Role.STAFF).get("/impact.csv").get_data(as_text=True)
    shown = dip_estimate(pd.read_csv(io.StringIO(page)))
    assert abs(shown - dip) < CLOSE
    stored = db.session.scalar(
        sa.select(ImpactEstimate.raw_effect).where(ImpactEstimate.run_id == run.id)
    )
    assert stored - dip < BIAS / 2  # one solution: nothing to shrink, the raw estimate is fair
    assert run.anticipation == 6
