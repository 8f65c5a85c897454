"""The panel simulator: deterministic, and every impact hazard of the spec visibly planted."""

from __future__ import annotations

from dataclasses import replace
from datetime import date

import numpy as np
import pandas as pd
import pytest

from cxactions.analytics.simulator import (
    DRIVERS,
    THEMES,
    SimulationConfig,
    expected_score,
    simulate,
)
from cxactions.config import PROJECT_ROOT
from cxactions.demo.generator import THEME_CHALLENGES
from cxactions.language.tagging import Tagger, keyword_lines
from cxactions.library.seed import read_seed_challenges

DEFAULTS = SimulationConfig(seed=11)


@pytest.fixture(scope="module")
def sim():
    return simulate(DEFAULTS)


@pytest.fixture(scope="module")
def big():
    """More stores, so that small biases stand out from the noise."""
    return simulate(replace(DEFAULTS, n_units=400, n_districts=30, seed=3))


def _unit_week_means(simulation) -> pd.DataFrame:
    """Observed mean of overall per store (rows) and week index (columns)."""
    responses = simulation.responses
    week = (responses["responded_at"] - pd.Timestamp(simulation.config.start)).dt.days // 7
    return (
        responses.groupby([responses["unit_id"], week], observed=True)["overall"].mean().unstack()
    )


def _implemented(simulation) -> pd.DataFrame:
    adoptions = simulation.adoptions[simulation.adoptions["status"] == "implemented"].copy()
    adoptions["week"] = (
        pd.to_datetime(adoptions["adopted_on"]) - pd.Timestamp(simulation.config.start)
    ).dt.days // 7
    return adoptions


def test_same_seed_gives_the_same_data_and_another_seed_other_data():
    config = SimulationConfig(seed=5, n_units=30, n_districts=6, n_regions=2, n_weeks=40)
    first, second = simulate(config), simulate(config)
    pd.testing.assert_frame_equal(first.responses, second.responses)
    pd.testing.assert_frame_equal(first.adoptions, second.adoptions)
    pd.testing.assert_frame_equal(first.operations, second.operations)
    pd.testing.assert_frame_equal(first.truth.panel, second.truth.panel)
    other = simulate(replace(config, seed=6))
    assert not first.responses["overall"].equals(other.responses["overall"])


def test_config_refuses_a_start_that_is_not_a_monday():
    with pytest.raises(ValueError, match="Monday"):
        SimulationConfig(start=date(2024, 1, 3))


def test_scores_are_integers_from_0_to_10_and_drivers_follow_overall(sim):
    responses = sim.responses
    assert responses["overall"].dtype == np.int8
    assert responses["overall"].between(0, 10).all()
    assert 6.8 < responses["overall"].mean() < 8.0
    for name in DRIVERS.values():
        scores = responses[name]
        assert scores.dropna().between(0, 10).all()
        assert 0.04 < scores.isna().mean() < 0.12  # some customers skip a question
        correlation = responses["overall"].astype(float).corr(scores.astype(float))
        assert correlation > 0.3, name


def test_three_to_twenty_five_responses_per_unit_week_around_unit_rates(sim):
    counts = sim.truth.panel["n_responses"]
    assert counts.min() >= 3 and counts.max() <= 25
    assert 12 < counts.mean() < 16
    assert counts.sum() == len(sim.responses)
    by_unit = sim.truth.panel.groupby("unit")["n_responses"].mean()
    assert by_unit.max() - by_unit.min() > 8  # unit-specific rates: unequal precision


def test_unit_levels_spread_about_six_tenths_and_weak_units_adopt_more(sim):
    truth = sim.truth.units
    assert truth["level"].abs().max() <= 0.6 + 1e-9
    assert 0.2 < truth["level"].std() < 0.4
    never = truth["never_treated"]
    assert never.sum() == round(0.25 * len(truth))
    adopters = set(sim.adoptions["unit_id"])
    assert not adopters & set(truth.loc[never, "unit_id"])
    means = _unit_week_means(sim)
    first = _implemented(sim).groupby("unit_id")["week"].min()
    pre_adoption = np.mean([means.loc[unit, : week - 1].mean() for unit, week in first.items()])
    never_treated = means.loc[truth.loc[never, "unit_id"]].mean(axis=1).mean()
    assert pre_adoption < never_treated - 0.1


def test_adoption_follows_a_four_week_dip(big):
    means = _unit_week_means(big)
    dips = [
        means.loc[row.unit_id, row.week - 4 : row.week - 1].mean()
        - means.loc[row.unit_id, row.week - 16 : row.week - 5].mean()
        for row in _implemented(big).itertuples()
        if row.week >= 16
    ]
    assert len(dips) > 200
    assert np.mean(dips) < -0.25


def test_naive_before_after_of_a_zero_effect_solution_is_biased_upward(big):
    """The hazard is real: comparing the 8 weeks before with the 12 after credits recovery."""
    means = _unit_week_means(big)
    weeks = big.config.n_weeks
    zero = set(big.solutions.loc[big.solutions["effect"] == 0, "solution_id"])
    naive = [
        means.loc[row.unit_id, row.week : row.week + 11].mean()
        - means.loc[row.unit_id, row.week - 8 : row.week - 1].mean()
        for row in _implemented(big).itertuples()
        if row.solution_id in zero and 8 <= row.week <= weeks - 12
    ]
    assert len(naive) > 60
    assert np.mean(naive) > 0.05
    # Not only sampling noise: the latent counterfactual itself recovers from the dip.
    latent = big.truth.panel.pivot(index="unit_id", columns="week", values="counterfactual_latent")
    recovery = [
        latent.loc[row.unit_id, row.week : row.week + 11].mean()
        - latent.loc[row.unit_id, row.week - 4 : row.week - 1].mean()
        for row in _implemented(big).itertuples()
        if 8 <= row.week <= weeks - 12
    ]
    assert np.mean(recovery) > 0.05


def test_effects_range_from_minus_three_tenths_to_eight_tenths_a_quarter_exactly_zero(sim):
    effects = sim.solutions["effect"]
    assert effects.min() == pytest.approx(-0.3) and effects.max() == pytest.approx(0.8)
    assert (effects == 0).sum() == round(0.25 * len(effects))
    assert (sim.solutions["ramp_weeks"] > 0).any() and (sim.solutions["ramp_weeks"] == 0).any()
    truth = sim.truth.effects.set_index("solution_id")
    zero = truth["planted_effect"] == 0
    assert (truth.loc[zero & (truth["n_units"] > 0), "effect"] == 0).all()
    adopted = truth[(truth["n_units"] > 0) & ~zero]
    assert (np.sign(adopted["effect"]) == np.sign(adopted["planted_effect"])).all()


def test_useless_solutions_are_adopted_more_than_good_ones(big):
    counts = _implemented(big).groupby("solution_id").size()
    effect = big.solutions.set_index("solution_id")["effect"]
    counts = counts.reindex(effect.index, fill_value=0)
    assert counts[effect <= 0].mean() > 1.3 * counts[effect >= 0.4].mean()


def test_adoptions_overlap_up_to_four_and_are_staggered(sim):
    adoptions = sim.adoptions
    live = adoptions[adoptions["status"].isin(["implemented", "in_progress"])]
    per_unit = live.groupby("unit_id").size()
    assert per_unit.max() == 4
    assert (per_unit >= 2).sum() > 10
    assert not adoptions.duplicated(["unit_id", "solution_id"]).any()
    assert _implemented(sim)["week"].nunique() > 30
    assert set(adoptions["status"]) == {"implemented", "in_progress", "planned", "abandoned"}
    planned = adoptions[adoptions["status"] == "planned"]
    end = pd.Timestamp(sim.config.start) + pd.Timedelta(weeks=sim.config.n_weeks)
    assert (pd.to_datetime(planned["adopted_on"]) >= end).all()


def test_only_implemented_adoptions_move_the_latent_mean(sim):
    panel = sim.truth.panel
    treated = set(sim.truth.adoptions["unit_id"])
    untouched = panel[~panel["unit_id"].isin(treated)]
    assert (untouched["latent"] == untouched["counterfactual_latent"]).all()
    first = _implemented(sim).groupby("unit_id")["week"].min()
    for unit, week in list(first.items())[:20]:
        rows = panel[panel["unit_id"] == unit]
        assert (rows.loc[rows["week"] < week, "effect"] == 0).all()


def test_seasonality_and_holiday_drop_move_every_unit(sim):
    panel = sim.truth.panel
    weekly = panel.groupby("week_start")["counterfactual_latent"].mean()
    month = weekly.index.month
    assert weekly[(month == 5) | (month == 6)].mean() - weekly[month == 11].mean() > 0.4
    days = weekly.index.day
    holiday = ((month == 12) & (days >= 20)) | ((month == 1) & (days <= 1))
    december = (month == 12) & (days < 10)
    assert weekly[holiday].mean() < weekly[december].mean()


def test_expected_score_accounts_for_rounding_and_clipping():
    assert expected_score(5.0) == pytest.approx(5.0, abs=1e-3)
    assert expected_score(9.5) < 9.2  # clipped at 10
    low, high = expected_score(np.array([7.0, 7.5]))
    assert 0.4 < high - low < 0.5


def test_true_effects_follow_the_window(sim):
    twelve = sim.true_effects(12).set_index("solution_id")
    everything = sim.true_effects(0).set_index("solution_id")
    adopted = twelve["n_units"] > 0
    assert (everything.loc[adopted, "n_cells"] >= twelve.loc[adopted, "n_cells"]).all()
    pd.testing.assert_frame_equal(twelve.reset_index(), sim.truth.effects)
    event = sim.truth.event_effects
    assert event["event_time"].between(0, 11).all()


def test_operations_are_weekly_long_form_tied_to_themes(sim):
    operations = sim.operations
    assert set(operations.columns) == {"unit_id", "date", "metric", "value"}
    assert set(operations["metric"]) == {
        "wait_minutes",
        "stock_availability_pct",
        "cleaning_compliance_pct",
        "staff_coverage_pct",
    }
    assert len(operations) == 4 * sim.config.n_units * sim.config.n_weeks
    assert (pd.to_datetime(operations["date"]).dt.day_of_week == 0).all()
    wait = operations[operations["metric"] == "wait_minutes"].groupby("unit_id", observed=True)
    weakness = sim.truth.units.set_index("unit_id")["wait_weakness"]
    correlation = wait["value"].mean().corr(weakness.reindex(wait["value"].mean().index))
    assert correlation < -0.5  # stores weak on waiting have long waits


def test_comments_are_bilingual_and_name_the_challenge_keywords(sim):
    comments = sim.responses["comment"].dropna()
    assert 0.15 < len(comments) / len(sim.responses) < 0.4
    assert comments.str.contains("\n").any()
    assert comments.str.contains('"').any() and comments.str.contains(",").any()
    french = comments.str.contains("caisse|accueil|rupture|propre|bonjour|magasin", case=False)
    assert 0.15 < french.mean() < 0.7
    scores = sim.responses.loc[comments.index, "overall"]
    negative_words = "Ridiculous|rude|filthy|out of stock|inadmissible|désagréable|sale|déçu"
    assert (
        comments[scores <= 4].str.contains(negative_words).mean()
        > comments[scores >= 8].str.contains(negative_words).mean() + 0.2
    )
    # Every complaint the simulator writes is tagged, by the product's own tagger, with a
    # challenge of its theme.
    tagger = Tagger.compile(
        {
            row.code: keyword_lines(row.keywords)
            for row in read_seed_challenges(PROJECT_ROOT / "seed" / "challenges.csv")
        }
    )
    from cxactions.analytics.simulator import _SENTENCES

    for (language, theme, mood), sentences in _SENTENCES.items():
        if mood == "positive":
            continue
        for sentence in sentences:
            found = tagger.tag(sentence) & set(THEME_CHALLENGES[theme])
            assert found, (language, theme, sentence)
    assert set(THEMES) == set(THEME_CHALLENGES)
