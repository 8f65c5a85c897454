"""A panel simulator of store satisfaction with planted, known solution effects.

The data it makes is as hard as real store data for an impact estimator, on purpose: every
hazard of the product spec ("Measuring impact honestly") is planted at once, so a benchmark can
show how close an estimator comes to the truth next to the naive before/after.

- unit fixed levels (about ±0.6 points), region and district offsets, regional drifts, common
  weekly shocks, seasonality with a holiday drop, AR(1) weekly shocks per unit;
- 3–25 responses per unit-week around a unit-specific rate, integer 0–10 scores with noise;
- adoption far likelier right after a 4-week dip and at weak units (the Ashenfelter dip and
  selection on level), a share of never-treated units (chosen among the strong ones);
- useless solutions more popular than good ones, up to four overlapping solutions per unit,
  staggered timing, effects from −0.3 to +0.8 (a quarter exactly zero) that may ramp up over a
  few weeks and vary across units;
- plan items that never took effect (planned, in progress, abandoned), which an estimator must
  ignore;
- optionally (``region_effect_scale``), effects that differ by region, for the regional
  ("worked at similar units") estimates.

The latent weekly mean of a unit is shifted by its implemented solutions from the adoption week
on (event time 0 is the week holding ``adopted_on``). Responses are ``round(latent + noise)``
clipped to 0–10, so the truth is also given on the observed scale: ``expected_score(mu)`` is
the expected observed score of a unit-week whose latent mean is ``mu``.

Pure: numpy and pandas only, so the benchmark, the tests and ``cxactions demo`` share it.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from datetime import date, timedelta

import numpy as np
import pandas as pd

# Each driver theme: the survey question customers score and the operational input behind it.
THEMES = ("wait", "staff", "cleanliness", "availability")
OTHER_THEME = "other"  # solutions that move satisfaction without a dedicated driver question
DRIVERS = {
    "wait": "wait_time_rating",
    "staff": "staff_rating",
    "cleanliness": "cleanliness_rating",
    "availability": "product_availability_rating",
}
OPERATIONS = {
    "wait": "wait_minutes",
    "staff": "staff_coverage_pct",
    "cleanliness": "cleaning_compliance_pct",
    "availability": "stock_availability_pct",
}
# The challenge (seed/challenges.csv) a theme's adoptions address when the caller names none.
THEME_CHALLENGES = {
    "wait": "SPEED-QUEUE",
    "staff": "ST-GREET",
    "cleanliness": "EN-CLEAN",
    "availability": "PA-STOCK",
    "other": "PR-POLICY",
}
SCORE_MIN, SCORE_MAX = 0, 10


@dataclass(frozen=True)
class SimulationConfig:
    """Every knob of the simulation; the defaults plant all the hazards at realistic strength."""

    seed: int = 0
    # Organisation and calendar.
    n_units: int = 120  # stores
    n_regions: int = 4
    n_districts: int = 12  # spread over the regions
    n_weeks: int = 104
    start: date = date(2024, 1, 1)  # a Monday: weeks start on Monday
    # The satisfaction process (points on the 0-10 scale).
    base_mean: float = 7.4
    unit_level_spread: float = 0.6  # unit fixed levels within ±spread (sd = spread / 2)
    region_sd: float = 0.15
    district_sd: float = 0.1
    seasonal_amplitude: float = 0.35  # up in spring, down in late autumn
    holiday_drop: float = 0.3  # extra drop in the weeks around Christmas and New Year
    regional_drift_sd: float = 0.025  # weekly step of each region's random walk
    common_shock_sd: float = 0.05  # a shock every unit shares in a week
    ar_rho: float = 0.8  # persistence of the weekly unit shocks
    ar_sd: float = 0.35  # stationary sd of the weekly unit shocks
    response_sd: float = 1.8  # noise of one response around its unit-week latent mean
    # Response counts: a negative binomial around a unit-specific rate, clipped.
    mean_responses: float = 15.5  # about 14 a unit-week once clipped
    response_rate_sd: float = 0.35  # log-sd of the unit rates
    response_dispersion: float = 20.0  # negative binomial size: smaller = more overdispersed
    min_responses: int = 3
    max_responses: int = 25
    # Driver scores: unit weaknesses per theme, correlation with overall, missing answers.
    driver_weakness_sd: float = 0.5
    driver_correlations: tuple[float, ...] = (0.7, 0.6, 0.45, 0.55)  # in THEMES order
    driver_offsets: tuple[float, ...] = (-0.6, 0.2, 0.1, -0.2)
    driver_missing_rate: float = 0.08
    driver_gain: float = 1.5  # a solution moves its own driver this many times its effect
    # The solutions and their planted effects.
    n_solutions: int = 24
    solution_themes: tuple[str, ...] | None = None  # one per solution; overrides n_solutions
    solution_challenges: tuple[str, ...] | None = None  # one per solution (adoption's challenge)
    zero_effect_share: float = 0.25  # exactly zero
    negative_effect_share: float = 0.15
    effect_min: float = -0.3
    effect_max: float = 0.8
    ramping_share: float = 0.5  # solutions whose effect builds up over a few weeks
    max_ramp_weeks: int = 6
    effect_heterogeneity_sd: float = 0.3  # log-sd of a unit's effect around the solution's
    # Per region, a factor on every effect there (cycled over regions; None = 1 everywhere):
    # (1.0, 0.2, 0.0) makes a solution work fully in the first region, a fifth as well in the
    # second and not at all in the third, the "worked at similar units" case.
    region_effect_scale: tuple[float, ...] | None = None
    popularity_slope: float = 1.5  # popularity falls with the effect: useless ones spread most
    popularity_sd: float = 0.5
    other_theme_share: float = 0.15  # chance an adoption addresses no driver theme
    theme_temperature: float = 0.3  # lower: units pick their weakest theme more surely
    # Who adopts, and when.
    never_treated_share: float = 0.25
    burn_in_weeks: int = 12  # no adoption before this week (managers need a history)
    base_hazard: float = 0.008  # weekly adoption probability at a typical unit, no dip
    dip_weeks: int = 4
    reference_weeks: int = 52  # the dip compares the last dip_weeks with up to this many before
    dip_scale: float = 0.25  # points of dip per unit of the logit term
    dip_coefficient: float = 1.0
    level_coefficient: float = 0.5  # per cross-unit sd of the unit's running mean
    cooldown_weeks: int = 6  # weeks between two adoption decisions at one unit
    max_active_solutions: int = 4  # overlapping (implemented or in progress) per unit
    pair_share: float = 0.2  # chance a decision adopts two solutions at once
    abandon_share: float = 0.1  # plan items abandoned: they never take effect
    in_progress_weeks: int = 8  # decisions this close to the end may still be in progress
    in_progress_share: float = 0.5
    planned_share: float = 0.15  # units with a plan item starting after the panel ends
    # Comments.
    with_comments: bool = True
    comment_rate: float = 0.25
    french_share_by_region: tuple[float, ...] = (0.85, 0.15, 0.3, 0.05)  # cycled over regions
    # The window of the headline truth (the contract's --window default).
    truth_window: int = 12

    def __post_init__(self) -> None:
        if self.start.weekday() != 0:
            raise ValueError(f"start must be a Monday, not {self.start:%A %Y-%m-%d}")
        if not 1 <= self.n_regions <= self.n_districts <= self.n_units:
            raise ValueError("need 1 <= n_regions <= n_districts <= n_units")
        if self.n_weeks < 2:
            raise ValueError("need at least 2 weeks")
        if not 1 <= self.min_responses <= self.max_responses:
            raise ValueError("need 1 <= min_responses <= max_responses")
        if len(self.driver_correlations) != len(THEMES) or len(self.driver_offsets) != len(THEMES):
            raise ValueError(f"driver_correlations and driver_offsets need {len(THEMES)} values")
        if self.solution_themes is not None:
            unknown = set(self.solution_themes) - {*THEMES, OTHER_THEME}
            if unknown:
                raise ValueError(f"unknown solution themes: {sorted(unknown)}")
            if self.solution_challenges is not None and len(self.solution_challenges) != len(
                self.solution_themes
            ):
                raise ValueError("solution_challenges needs one challenge per solution theme")
        if self.zero_effect_share + self.negative_effect_share > 1:
            raise ValueError("zero_effect_share + negative_effect_share must be at most 1")

    @property
    def solution_count(self) -> int:
        return len(self.solution_themes) if self.solution_themes is not None else self.n_solutions

    def week_starts(self) -> pd.DatetimeIndex:
        """The Monday of every simulated week."""
        return pd.date_range(self.start, periods=self.n_weeks, freq="7D")


@dataclass
class Truth:
    """What the data hides: the planted parameters an estimator should recover."""

    units: pd.DataFrame  # per store: level, never_treated, response rate, theme weaknesses
    panel: pd.DataFrame  # per store-week: latent and expected means with and without solutions
    adoptions: pd.DataFrame  # implemented adoptions: week index and the unit's full effect
    effects: pd.DataFrame  # per solution over event times 0..truth_window-1
    event_effects: pd.DataFrame  # per solution and event time


@dataclass
class Simulation:
    """Observable data (what an import would hold) plus the hidden truth."""

    config: SimulationConfig
    units: pd.DataFrame  # unit_id, name, kind, parent_id: regions, districts, stores
    responses: pd.DataFrame  # response_id, unit_id, responded_at, overall, drivers, comment
    operations: pd.DataFrame  # long form: unit_id, date, metric, value (weekly)
    adoptions: pd.DataFrame  # unit_id, solution_id, adopted_on, status, challenge, theme
    solutions: pd.DataFrame  # solution_id, theme, challenge, effect, ramp_weeks, popularity
    truth: Truth = field(repr=False)

    def true_effects(self, window: int | None = None) -> pd.DataFrame:
        """The true effect per solution over event times 0..window-1 (0 = all); see Truth."""
        window = self.config.truth_window if window is None else window
        return true_effects(self, window)[0]

    def true_region_effects(self, window: int | None = None) -> pd.DataFrame:
        """The true effect per solution and region (``region_id``) over event times
        0..window-1, with ``n_units`` adopting there; see ``true_region_effects``."""
        window = self.config.truth_window if window is None else window
        return true_region_effects(self, window)


# --------------------------------------------------------------------------------------------
# The expected observed score of a latent mean.

_GRID = np.linspace(-8.0, 18.0, 26_001)


def _expected_score_table(sd: float) -> np.ndarray:
    # E[clip(round(mu + e))] = sum over k=1..10 of P(round(mu + e) >= k) for e ~ N(0, sd).
    erf = np.frompyfunc(math.erf, 1, 1)
    total = np.zeros_like(_GRID)
    for k in range(SCORE_MIN + 1, SCORE_MAX + 1):
        z = (k - 0.5 - _GRID) / (sd * math.sqrt(2.0))
        total += 0.5 * (1.0 - erf(z).astype(float))
    return total


_TABLES: dict[float, np.ndarray] = {}


def expected_score(mu: np.ndarray | float, sd: float = 1.8) -> np.ndarray:
    """Expected observed score (rounded, clipped to 0–10) of responses with latent mean ``mu``."""
    table = _TABLES.get(sd)
    if table is None:
        table = _TABLES[sd] = _expected_score_table(sd)
    return np.interp(np.asarray(mu, dtype=float), _GRID, table)


# --------------------------------------------------------------------------------------------
# Simulation.


def simulate(config: SimulationConfig | None = None) -> Simulation:
    """Generate one seeded panel with planted effects; the same config gives the same data."""
    config = config or SimulationConfig()
    rng = np.random.default_rng(config.seed)
    org = _organisation(config, rng)
    weeks = config.week_starts()
    base = _counterfactual_latent(config, rng, org, weeks)
    counts = _response_counts(config, rng, org)
    solutions = _solutions(config, rng)
    run = _run_adoptions(config, rng, org, base, counts, solutions)
    drivers = _driver_scores(config, rng, org, run)
    responses = _responses_frame(config, rng, org, weeks, run, drivers)
    operations = _operations(config, rng, org, weeks, run)
    adoptions, truth_adoptions = _adoption_frames(config, rng, org, weeks, run, solutions)
    panel = _panel_frame(config, org, weeks, base, run.mu, counts)
    truth_units = pd.DataFrame(
        {
            "unit_id": org.store_ids,
            "region_id": org.region_ids[org.store_region],
            "district_id": org.district_ids[org.store_district],
            "level": org.level,
            "never_treated": org.never_treated,
            "response_rate": org.response_rate,
            **{f"{theme}_weakness": org.weakness[:, j] for j, theme in enumerate(THEMES)},
        }
    )
    simulation = Simulation(
        config=config,
        units=org.units,
        responses=responses,
        operations=operations,
        adoptions=adoptions,
        solutions=solutions.frame,
        truth=Truth(
            units=truth_units,
            panel=panel,
            adoptions=truth_adoptions,
            effects=pd.DataFrame(),
            event_effects=pd.DataFrame(),
        ),
    )
    effects, event_effects = true_effects(simulation, config.truth_window)
    simulation.truth.effects = effects
    simulation.truth.event_effects = event_effects
    return simulation


@dataclass
class _Organisation:
    units: pd.DataFrame
    store_ids: np.ndarray
    region_ids: np.ndarray
    district_ids: np.ndarray
    store_region: np.ndarray  # region index of each store
    store_district: np.ndarray  # district index of each store
    level: np.ndarray
    weakness: np.ndarray  # stores x themes
    never_treated: np.ndarray
    response_rate: np.ndarray
    french_share: np.ndarray  # per store


def _organisation(config: SimulationConfig, rng: np.random.Generator) -> _Organisation:
    n_units, n_regions, n_districts = config.n_units, config.n_regions, config.n_districts
    district_region = np.arange(n_districts) % n_regions
    # Every district gets at least one store; the rest are spread unevenly, as real networks are.
    extra = rng.choice(n_districts, size=n_units - n_districts, p=_dirichlet(rng, n_districts))
    store_district = np.sort(np.concatenate([np.arange(n_districts), extra]))
    store_region = district_region[store_district]
    width = len(str(n_units))
    region_ids = np.array([f"R{i + 1:02d}" for i in range(n_regions)])
    district_ids = np.array([f"D{i + 1:03d}" for i in range(n_districts)])
    store_ids = np.array([f"S{i + 1:0{width}d}" for i in range(n_units)])
    units = pd.DataFrame(
        {
            "unit_id": np.concatenate([region_ids, district_ids, store_ids]),
            "name": [f"Region {i + 1}" for i in range(n_regions)]
            + [f"District {i + 1}" for i in range(n_districts)]
            + [f"Store {i + 1}" for i in range(n_units)],
            "kind": ["region"] * n_regions + ["district"] * n_districts + ["store"] * n_units,
            "parent_id": [None] * n_regions
            + list(region_ids[district_region])
            + list(district_ids[store_district]),
        }
    )
    # A unit's level comes partly from its weaknesses on the drivers, so weak units know why.
    weakness = rng.normal(0.0, config.driver_weakness_sd, size=(n_units, len(THEMES)))
    beta = np.array([0.35, 0.3, 0.15, 0.2])
    from_drivers = weakness @ beta / (config.driver_weakness_sd * np.linalg.norm(beta))
    combined = math.sqrt(0.6) * from_drivers + math.sqrt(0.4) * rng.standard_normal(n_units)
    spread = config.unit_level_spread
    level = np.clip(combined * spread / 2.0, -spread, spread)
    # Never-treated units are mostly strong ones (selection on level), exactly the share asked.
    n_never = round(config.never_treated_share * n_units)
    never_score = level / max(spread, 1e-9) * 2.0 + rng.logistic(size=n_units)
    never_treated = np.zeros(n_units, dtype=bool)
    never_treated[np.argsort(-never_score)[:n_never]] = True
    rate_sd = config.response_rate_sd
    response_rate = config.mean_responses * np.exp(
        rng.normal(-(rate_sd**2) / 2.0, rate_sd, n_units)
    )
    shares = np.array(config.french_share_by_region or (0.0,), dtype=float)
    french_share = shares[store_region % len(shares)]
    return _Organisation(
        units=units,
        store_ids=store_ids,
        region_ids=region_ids,
        district_ids=district_ids,
        store_region=store_region,
        store_district=store_district,
        level=level,
        weakness=weakness,
        never_treated=never_treated,
        response_rate=response_rate,
        french_share=french_share,
    )


def _dirichlet(rng: np.random.Generator, size: int) -> np.ndarray:
    return rng.dirichlet(np.full(size, 4.0))


def _seasonality(config: SimulationConfig, weeks: pd.DatetimeIndex) -> np.ndarray:
    """Seasonal effect per week: a spring high, a late-autumn low and a holiday drop."""
    middle = weeks + pd.Timedelta(days=3)
    day = middle.day_of_year.to_numpy()
    season = config.seasonal_amplitude * np.sin(2.0 * np.pi * (day - 60) / 365.25)
    return season - config.holiday_drop * _holiday_weeks(weeks)


def _holiday_weeks(weeks: pd.DatetimeIndex) -> np.ndarray:
    """Weeks whose middle falls between 18 December and 4 January."""
    middle = weeks + pd.Timedelta(days=3)
    month, dom = middle.month.to_numpy(), middle.day.to_numpy()
    return ((month == 12) & (dom >= 18)) | ((month == 1) & (dom <= 4))


def _counterfactual_latent(
    config: SimulationConfig,
    rng: np.random.Generator,
    org: _Organisation,
    weeks: pd.DatetimeIndex,
) -> np.ndarray:
    """Latent weekly mean of every store without any solution: stores x weeks."""
    n_units, n_weeks = config.n_units, config.n_weeks
    region_offset = rng.normal(0.0, config.region_sd, config.n_regions)
    district_offset = rng.normal(0.0, config.district_sd, config.n_districts)
    drift_steps = rng.normal(0.0, config.regional_drift_sd, (config.n_regions, n_weeks))
    drift_steps[:, 0] = 0.0
    drift = np.cumsum(drift_steps, axis=1)
    common = rng.normal(0.0, config.common_shock_sd, n_weeks)
    innovations = rng.normal(
        0.0, config.ar_sd * math.sqrt(1.0 - config.ar_rho**2), (n_units, n_weeks)
    )
    shocks = np.empty((n_units, n_weeks))
    shocks[:, 0] = rng.normal(0.0, config.ar_sd, n_units)
    for week in range(1, n_weeks):
        shocks[:, week] = config.ar_rho * shocks[:, week - 1] + innovations[:, week]
    return (
        config.base_mean
        + (region_offset[org.store_region] + district_offset[org.store_district] + org.level)[
            :, None
        ]
        + _seasonality(config, weeks)[None, :]
        + common[None, :]
        + drift[org.store_region]
        + shocks
    )


def _response_counts(
    config: SimulationConfig, rng: np.random.Generator, org: _Organisation
) -> np.ndarray:
    """Responses per store-week: negative binomial around each store's rate, clipped."""
    size = config.response_dispersion
    rate = np.broadcast_to(org.response_rate[:, None], (config.n_units, config.n_weeks))
    counts = rng.negative_binomial(size, size / (size + rate))
    return np.clip(counts, config.min_responses, config.max_responses).astype(np.int32)


@dataclass
class _Solutions:
    frame: pd.DataFrame
    theme: np.ndarray  # theme index: 0..len(THEMES)-1, or len(THEMES) for OTHER_THEME
    effect: np.ndarray
    ramp: np.ndarray
    popularity: np.ndarray


def _solutions(config: SimulationConfig, rng: np.random.Generator) -> _Solutions:
    count = config.solution_count
    all_themes = (*THEMES, OTHER_THEME)
    if config.solution_themes is not None:
        themes = list(config.solution_themes)
    else:
        themes = [all_themes[i % len(all_themes)] for i in range(count)]
    theme_index = np.array([all_themes.index(theme) for theme in themes], dtype=np.int64)
    n_zero = round(config.zero_effect_share * count)
    n_negative = min(round(config.negative_effect_share * count), count - n_zero)
    n_positive = count - n_zero - n_negative
    # Evenly spaced effects cover the whole range whatever the count; their order is random.
    negative = np.linspace(config.effect_min, min(-0.05, config.effect_min / 3), n_negative)
    positive = np.linspace(min(0.1, config.effect_max), config.effect_max, n_positive)
    effect = rng.permutation(np.concatenate([np.zeros(n_zero), negative, positive]))
    ramping = rng.random(count) < config.ramping_share
    ramp = np.where(ramping, rng.integers(2, max(config.max_ramp_weeks, 2) + 1, count), 0)
    popularity = np.exp(
        -config.popularity_slope * effect + rng.normal(0.0, config.popularity_sd, count)
    )
    width = len(str(count))
    challenges = (
        list(config.solution_challenges)
        if config.solution_challenges is not None
        else [THEME_CHALLENGES[theme] for theme in themes]
    )
    frame = pd.DataFrame(
        {
            "solution_id": [f"SIM-{i + 1:0{width}d}" for i in range(count)],
            "theme": themes,
            "challenge": challenges,
            "effect": effect,
            "ramp_weeks": ramp.astype(np.int64),
            "popularity": popularity / popularity.sum(),
        }
    )
    return _Solutions(frame, theme_index, effect, ramp.astype(np.int64), popularity)


@dataclass
class _Run:
    mu: np.ndarray  # latent mean with the solutions: stores x weeks
    theme_effect: np.ndarray  # stores x weeks x (themes + other): latent effect by theme
    resp_unit: np.ndarray  # per response (week-major order)
    resp_week: np.ndarray
    noise: np.ndarray  # per response: its deviation from the unit-week latent mean
    overall: np.ndarray  # int8 per response
    records: list[tuple[int, int, int, str, float]]  # unit, solution, week, status, unit effect


def _ramp_fraction(event_time: np.ndarray, ramp: np.ndarray) -> np.ndarray:
    """Share of the full effect reached ``event_time`` weeks after adoption (0 = adoption week)."""
    return np.where(event_time >= 0, np.minimum(1.0, (event_time + 1.0) / (ramp + 1.0)), 0.0)


def _run_adoptions(
    config: SimulationConfig,
    rng: np.random.Generator,
    org: _Organisation,
    base: np.ndarray,
    counts: np.ndarray,
    solutions: _Solutions,
) -> _Run:
    """Walk through the weeks: managers react to what they saw, then customers respond.

    Week by week because the decision to adopt depends on the scores the earlier adoptions
    produced; every step is vectorised over stores.
    """
    n_units, n_weeks = config.n_units, config.n_weeks
    slots = config.max_active_solutions
    far = np.iinfo(np.int64).max // 4
    slot_week = np.full((n_units, slots), far, dtype=np.int64)
    slot_effect = np.zeros((n_units, slots))
    slot_ramp = np.zeros((n_units, slots))
    slot_theme = np.zeros((n_units, slots), dtype=np.int64)
    active = np.zeros(n_units, dtype=np.int64)  # implemented or in progress
    last_decision = np.full(n_units, -far, dtype=np.int64)
    in_plan: list[set[int]] = [set() for _ in range(n_units)]
    records: list[tuple[int, int, int, str, float]] = []

    # Responses in week-major order, so each week is one contiguous slice.
    flat_counts = counts.T.ravel()
    resp_unit = np.repeat(np.tile(np.arange(n_units, dtype=np.int32), n_weeks), flat_counts)
    resp_week = np.repeat(np.repeat(np.arange(n_weeks, dtype=np.int32), n_units), flat_counts)
    offsets = np.concatenate([[0], np.cumsum(counts.sum(axis=0))])
    noise = rng.standard_normal(offsets[-1], dtype=np.float32) * np.float32(config.response_sd)
    overall = np.empty(offsets[-1], dtype=np.int8)
    mu = np.empty((n_units, n_weeks))
    observed = np.empty((n_units, n_weeks))
    running_total = np.zeros(n_units)

    theme_weights = np.exp(-org.weakness / config.theme_temperature)
    theme_weights /= theme_weights.sum(axis=1, keepdims=True)
    by_theme = [np.flatnonzero(solutions.theme == t) for t in range(len(THEMES) + 1)]
    has_theme = np.array([len(members) > 0 for members in by_theme])
    het_sd = config.effect_heterogeneity_sd
    scales = np.array(config.region_effect_scale or (1.0,), dtype=float)
    region_scale = scales[org.store_region % len(scales)]
    first_decision_week = max(config.burn_in_weeks, config.dip_weeks + 1)

    for week in range(n_weeks):
        draws = rng.random(n_units)  # drawn every week so one knob does not reshuffle all else
        if week >= first_decision_week and len(solutions.effect):
            recent = observed[:, week - config.dip_weeks : week].mean(axis=1)
            ref_start = max(0, week - config.dip_weeks - config.reference_weeks)
            reference = observed[:, ref_start : week - config.dip_weeks].mean(axis=1)
            dip = recent - reference
            running = running_total / week
            weak = -(running - running.mean()) / max(running.std(), 1e-9)
            logit = (
                math.log(config.base_hazard / (1.0 - config.base_hazard))
                + config.dip_coefficient * np.clip(-dip / config.dip_scale, -2.0, 4.0)
                + config.level_coefficient * np.clip(weak, -3.0, 3.0)
            )
            hazard = 1.0 / (1.0 + np.exp(-logit))
            eligible = (
                ~org.never_treated
                & (active < slots)
                & (week - last_decision >= config.cooldown_weeks)
            )
            for unit in np.flatnonzero(eligible & (draws < hazard)):
                last_decision[unit] = week
                wanted = 2 if rng.random() < config.pair_share else 1
                for _ in range(min(wanted, slots - active[unit])):
                    chosen = _choose_solution(
                        rng, config, solutions, by_theme, has_theme, theme_weights[unit],
                        in_plan[unit],
                    )  # fmt: skip
                    if chosen is None:
                        break
                    in_plan[unit].add(chosen)
                    late = week >= n_weeks - config.in_progress_weeks
                    if late and rng.random() < config.in_progress_share:
                        records.append((unit, chosen, week, "in_progress", 0.0))
                        active[unit] += 1
                    elif rng.random() < config.abandon_share:
                        records.append((unit, chosen, week, "abandoned", 0.0))
                    else:
                        unit_effect = (
                            solutions.effect[chosen]
                            * math.exp(rng.normal(-(het_sd**2) / 2.0, het_sd))
                            * region_scale[unit]
                        )
                        slot = int(np.argmax(slot_week[unit] == far))
                        slot_week[unit, slot] = week
                        slot_effect[unit, slot] = unit_effect
                        slot_ramp[unit, slot] = solutions.ramp[chosen]
                        slot_theme[unit, slot] = solutions.theme[chosen]
                        active[unit] += 1
                        records.append((unit, chosen, week, "implemented", unit_effect))
        effect_now = (slot_effect * _ramp_fraction(week - slot_week, slot_ramp)).sum(axis=1)
        mu[:, week] = base[:, week] + effect_now
        part = slice(offsets[week], offsets[week + 1])
        units_here = resp_unit[part]
        scores = np.clip(np.rint(mu[units_here, week] + noise[part]), SCORE_MIN, SCORE_MAX)
        overall[part] = scores
        observed[:, week] = (
            np.bincount(units_here, weights=scores, minlength=n_units) / counts[:, week]
        )
        running_total += observed[:, week]

    # Planned items start after the panel: on the plan, not yet in the data.
    for unit in np.flatnonzero(~org.never_treated & (active < slots)):
        if rng.random() < config.planned_share:
            chosen = _choose_solution(
                rng, config, solutions, by_theme, has_theme, theme_weights[unit], in_plan[unit]
            )
            if chosen is not None:
                in_plan[unit].add(chosen)
                records.append(
                    (int(unit), chosen, n_weeks + int(rng.integers(0, 8)), "planned", 0.0)
                )

    event_time = np.arange(n_weeks)[None, None, :] - slot_week[:, :, None]
    contribution = slot_effect[:, :, None] * _ramp_fraction(event_time, slot_ramp[:, :, None])
    theme_effect = np.zeros((n_units, n_weeks, len(THEMES) + 1))
    for theme in range(len(THEMES) + 1):
        theme_effect[:, :, theme] = (contribution * (slot_theme == theme)[:, :, None]).sum(axis=1)
    return _Run(mu, theme_effect, resp_unit, resp_week, noise, overall, records)


def _choose_solution(
    rng: np.random.Generator,
    config: SimulationConfig,
    solutions: _Solutions,
    by_theme: list[np.ndarray],
    has_theme: np.ndarray,
    theme_weights: np.ndarray,
    taken: set[int],
) -> int | None:
    """A solution for one unit: its weakest theme most likely, then the most popular fix."""
    weights = np.append(theme_weights * (1.0 - config.other_theme_share), config.other_theme_share)
    weights = weights * has_theme
    for _ in range(2):
        if weights.sum() <= 0:
            break
        theme = int(rng.choice(len(weights), p=weights / weights.sum()))
        candidates = np.array([s for s in by_theme[theme] if s not in taken], dtype=np.int64)
        if len(candidates):
            popularity = solutions.popularity[candidates]
            return int(rng.choice(candidates, p=popularity / popularity.sum()))
        weights[theme] = 0.0
    candidates = np.array(
        [s for s in range(len(solutions.effect)) if s not in taken], dtype=np.int64
    )
    if not len(candidates):
        return None
    popularity = solutions.popularity[candidates]
    return int(rng.choice(candidates, p=popularity / popularity.sum()))


def _driver_scores(
    config: SimulationConfig, rng: np.random.Generator, org: _Organisation, run: _Run
) -> dict[str, pd.arrays.IntegerArray]:
    """Per response, each driver's 0–10 score: shares the response's noise with overall."""
    scores: dict[str, pd.arrays.IntegerArray] = {}
    count = len(run.overall)
    unit_noise = run.noise / config.response_sd
    for j, theme in enumerate(THEMES):
        rho = config.driver_correlations[j]
        latent = (
            run.mu
            + org.weakness[:, j][:, None]
            + (config.driver_gain - 1.0) * run.theme_effect[:, :, j]
            + config.driver_offsets[j]
        )
        own = rng.standard_normal(count).astype(np.float32)
        value = latent[run.resp_unit, run.resp_week] + config.response_sd * (
            rho * unit_noise + math.sqrt(1.0 - rho**2) * own
        )
        value = np.clip(np.rint(value), SCORE_MIN, SCORE_MAX).astype(np.int8)
        missing = rng.random(count) < config.driver_missing_rate
        scores[DRIVERS[theme]] = pd.arrays.IntegerArray(value, missing)
    return scores


def _responses_frame(
    config: SimulationConfig,
    rng: np.random.Generator,
    org: _Organisation,
    weeks: pd.DatetimeIndex,
    run: _Run,
    drivers: dict[str, pd.arrays.IntegerArray],
) -> pd.DataFrame:
    count = len(run.overall)
    # Opening hours: a response lands on any day of its week, between 08:00 and 21:59.
    seconds = rng.integers(0, 7, count, dtype=np.int32) * np.int32(86_400)
    seconds += rng.integers(8 * 3600, 22 * 3600, count, dtype=np.int32)
    responded_at = weeks.to_numpy().astype("datetime64[s]")[run.resp_week] + seconds.astype(
        "timedelta64[s]"
    )
    del seconds
    frame = pd.DataFrame(
        {
            "response_id": np.arange(count, dtype=np.int64),
            "unit_id": pd.Categorical.from_codes(run.resp_unit, categories=org.store_ids),
            "responded_at": responded_at,
            "overall": run.overall,
            **drivers,
        },
        copy=False,
    )
    if config.with_comments:
        frame["comment"] = pd.Series(
            _comments(config, rng, org, run, drivers), index=frame.index, dtype=object
        )
    return frame


# --------------------------------------------------------------------------------------------
# Comments: English and French, as negative as the score, about the weakest driver's theme.

_SENTENCES: dict[tuple[str, str, str], tuple[str, ...]] = {
    ("en", "wait", "negative"): (
        "The queue at the checkout was endless, only one till open.",
        "Waited 20 minutes in line to pay. Ridiculous.",
        "Long queue again at the checkout, people were leaving their baskets.",
        'Queue to the back of the store and the cashier said "be patient".',
        "Far too much waiting at the till, I nearly left.",
    ),
    ("en", "wait", "mixed"): (
        "Found what I needed, but the checkout queue was long.",
        "A bit of a wait at the till, otherwise fine.",
        "The checkout line moved slowly; staff did their best.",
    ),
    ("en", "wait", "positive"): (
        "No queue at the checkout, in and out in five minutes.",
        "Quick checkout: a second till opened as soon as the line grew.",
        "Barely any wait at the till today.",
    ),
    ("fr", "wait", "negative"): (
        "File d'attente interminable à la caisse, une seule caisse ouverte.",
        "20 minutes d'attente pour payer, c'est inadmissible.",
        "Encore une queue interminable, des clients abandonnaient leur panier.",
        "À la caisse on m'a dit « patientez », alors que la file traversait le magasin.",
    ),
    ("fr", "wait", "mixed"): (
        "J'ai trouvé ce que je cherchais, mais beaucoup d'attente à la caisse.",
        "Un peu d'attente en caisse, sinon rien à dire.",
    ),
    ("fr", "wait", "positive"): (
        "Pas d'attente à la caisse, rapide et efficace.",
        "Une deuxième caisse a ouvert dès que la file s'est allongée, merci !",
    ),
    ("en", "staff", "negative"): (
        "Nobody said hello, staff were chatting among themselves.",
        'The employee was rude and said "not my department".',
        "No greeting at all, I felt ignored from the moment I walked in.",
        "Unfriendly staff, nobody to welcome us.",
    ),
    ("en", "staff", "mixed"): (
        "Staff were polite, but nobody greeted me at the door.",
        "Helpful cashier, but the welcome at the entrance was cold.",
    ),
    ("en", "staff", "positive"): (
        "Warm welcome, the staff greeted me with a smile.",
        "Very friendly staff: they said hello and offered to help.",
        "Lovely welcome from the team, as always.",
    ),
    ("fr", "staff", "negative"): (
        "Aucun bonjour, personne ne nous a accueillis.",
        "Vendeuse désagréable, pas un regard.",
        "Accueil glacial, on m'a répondu « ce n'est pas mon rayon ».",
    ),
    ("fr", "staff", "mixed"): (
        "Personnel poli, mais accueil un peu froid à l'entrée.",
        "Caissier aimable, mais personne pour dire bonjour en rayon.",
    ),
    ("fr", "staff", "positive"): (
        "Accueil chaleureux, on m'a dit bonjour avec le sourire.",
        "Personnel très aimable et souriant.",
    ),
    ("en", "cleanliness", "negative"): (
        "The store was dirty, rubbish on the floor and sticky shelves.",
        "Toilets were filthy: no soap, no paper.",
        "What a mess, boxes everywhere and a dirty floor.",
    ),
    ("en", "cleanliness", "mixed"): (
        "The store was mostly clean, but the toilets need attention.",
        "A bit of a mess in the aisles, otherwise fine.",
    ),
    ("en", "cleanliness", "positive"): (
        "Spotless store, clean toilets too.",
        "Clean and tidy, a pleasure to shop here.",
    ),
    ("fr", "cleanliness", "negative"): (
        "Magasin sale, des déchets par terre.",
        "Toilettes sales, pas de savon, pas de papier.",
        "Quel désordre : des cartons partout et le sol sale.",
    ),
    ("fr", "cleanliness", "mixed"): (
        "Magasin plutôt propre, mais les toilettes laissent à désirer.",
        "Un peu de désordre dans les rayons, sinon correct.",
    ),
    ("fr", "cleanliness", "positive"): (
        "Magasin très propre et bien rangé.",
        "Tout était propre, même les toilettes.",
    ),
    ("en", "availability", "negative"): (
        "Half the items on my list were out of stock.",
        "Empty shelf again, the promo item was sold out by 10am.",
        'Asked for milk and was told "none left, come back tomorrow".',
    ),
    ("en", "availability", "mixed"): (
        "Good prices, but a few items out of stock.",
        "An empty shelf or two in the fresh section.",
    ),
    ("en", "availability", "positive"): (
        "Everything I needed was in stock.",
        "Shelves well stocked, even late in the evening.",
    ),
    ("fr", "availability", "negative"): (
        "La moitié de ma liste en rupture de stock.",
        "Rayon vide, le produit en promo n'était plus en stock.",
        "Encore des ruptures sur les produits de base.",
    ),
    ("fr", "availability", "mixed"): (
        "Bons prix, mais quelques articles en rupture.",
        "Un rayon vide au rayon frais.",
    ),
    ("fr", "availability", "positive"): (
        "Tout était disponible, rayons bien garnis.",
        "Rien ne manquait, bravo.",
    ),
}
_CLOSINGS: dict[tuple[str, str], tuple[str, ...]] = {
    ("en", "negative"): ("Not coming back.", "Very disappointed.", "Please do something."),
    ("en", "mixed"): ("Otherwise fine.", "Could be better.", "Not bad overall."),
    ("en", "positive"): ("Will come back!", "Keep it up.", "Great store, thanks."),
    ("fr", "negative"): ("Je ne reviendrai pas.", "Très déçu.", "Faites quelque chose, svp."),
    ("fr", "mixed"): ("Sinon correct.", "Peut mieux faire.", "Dans l'ensemble, ça va."),
    ("fr", "positive"): ("Je reviendrai !", "Continuez comme ça.", "Super magasin, merci."),
}
_SENTIMENTS = ("negative", "mixed", "positive")
_LANGUAGES = ("en", "fr")


def _comments(
    config: SimulationConfig,
    rng: np.random.Generator,
    org: _Organisation,
    run: _Run,
    drivers: dict[str, pd.arrays.IntegerArray],
) -> np.ndarray:
    count = len(run.overall)
    comments = np.full(count, None, dtype=object)
    score = run.overall
    # Unhappy customers write more often than happy ones.
    rate = config.comment_rate * np.where(score <= 4, 1.8, np.where(score <= 7, 1.1, 0.8))
    chosen = np.flatnonzero(rng.random(count) < rate)
    if not len(chosen):
        return comments
    sentiment = np.where(score[chosen] <= 4, 0, np.where(score[chosen] <= 7, 1, 2))
    french = rng.random(len(chosen)) < org.french_share[run.resp_unit[chosen]]
    # Complaints are about the worst-scored driver, praise about the best one.
    stacked = np.column_stack(
        [drivers[DRIVERS[t]][chosen].to_numpy(dtype=np.float32, na_value=np.nan) for t in THEMES]
    )
    jitter = rng.random(stacked.shape, dtype=np.float32) * np.float32(0.5)
    missing = np.isnan(stacked)
    worst = np.argmin(np.where(missing, np.float32(99.0), stacked) + jitter, axis=1)
    best = np.argmax(np.where(missing, np.float32(-99.0), stacked) + jitter, axis=1)
    theme = np.where(sentiment == 2, best, worst)
    del stacked, jitter, missing
    closing_only = rng.random(len(chosen)) < 0.12
    with_closing = rng.random(len(chosen)) < 0.4
    newline = rng.random(len(chosen)) < 0.25
    text = np.empty(len(chosen), dtype=object)
    for li, language in enumerate(_LANGUAGES):
        for si, mood in enumerate(_SENTIMENTS):
            closings = np.array(_CLOSINGS[(language, mood)], dtype=object)
            in_group = (french == bool(li)) & (sentiment == si)
            for ti, name in enumerate(THEMES):
                here = np.flatnonzero(in_group & (theme == ti))
                pool = np.array(_SENTENCES[(language, name, mood)], dtype=object)
                text[here] = pool[rng.integers(0, len(pool), len(here))]
            here = np.flatnonzero(in_group)
            closing = closings[rng.integers(0, len(closings), len(here))]
            joined = np.where(newline[here], "\n", " ").astype(object)
            add = with_closing[here]
            text[here[add]] = text[here[add]] + joined[add] + closing[add]
            only = closing_only[here]
            text[here[only]] = closing[only]
    comments[chosen] = text
    return comments


# --------------------------------------------------------------------------------------------
# Operational inputs, adoptions and the truth.


def _operations(
    config: SimulationConfig,
    rng: np.random.Generator,
    org: _Organisation,
    weeks: pd.DatetimeIndex,
    run: _Run,
) -> pd.DataFrame:
    """Weekly operational inputs, each tied to its theme's weakness and solutions."""
    n_units, n_weeks = config.n_units, config.n_weeks
    shape = (n_units, n_weeks)
    holiday = _holiday_weeks(weeks)[None, :].astype(float)
    seasonal = _seasonality(config, weeks)[None, :]
    gain = config.driver_gain

    def performance(j: int) -> np.ndarray:
        return org.weakness[:, j][:, None] + gain * run.theme_effect[:, :, j]

    values = {
        "wait_minutes": np.clip(
            6.0 - 2.2 * performance(0) - 1.5 * seasonal + 3.0 * holiday
            + rng.normal(0.0, 0.8, shape),
            0.5, 45.0,
        ).round(1),
        "staff_coverage_pct": np.clip(
            95.0 + 6.0 * performance(1) - 4.0 * holiday + rng.normal(0.0, 3.0, shape), 55.0, 120.0
        ).round(1),
        "cleaning_compliance_pct": np.clip(
            88.0 + 7.0 * performance(2) + rng.normal(0.0, 4.0, shape), 40.0, 100.0
        ).round(1),
        "stock_availability_pct": np.clip(
            95.5 + 2.0 * performance(3) - 2.0 * holiday + rng.normal(0.0, 1.0, shape), 70.0, 100.0
        ).round(1),
    }  # fmt: skip
    metric_names = [OPERATIONS[theme] for theme in THEMES]
    return pd.DataFrame(
        {
            "unit_id": pd.Categorical.from_codes(
                np.tile(np.repeat(np.arange(n_units), n_weeks), len(metric_names)),
                categories=org.store_ids,
            ),
            "date": np.tile(weeks.to_numpy().astype("datetime64[D]"), n_units * len(metric_names)),
            "metric": pd.Categorical.from_codes(
                np.repeat(np.arange(len(metric_names)), n_units * n_weeks), categories=metric_names
            ),
            "value": np.concatenate([values[name].ravel() for name in metric_names]),
        }
    )


def _adoption_frames(
    config: SimulationConfig,
    rng: np.random.Generator,
    org: _Organisation,
    weeks: pd.DatetimeIndex,
    run: _Run,
    solutions: _Solutions,
) -> tuple[pd.DataFrame, pd.DataFrame]:
    records = run.records
    unit = np.array([r[0] for r in records], dtype=np.int64)
    solution = np.array([r[1] for r in records], dtype=np.int64)
    week = np.array([r[2] for r in records], dtype=np.int64)
    status = np.array([r[3] for r in records], dtype=object)
    unit_effect = np.array([r[4] for r in records], dtype=float)
    # Adoptions take effect on any day of their week: that week is event time 0.
    adopted_on = np.datetime64(config.start, "D") + (
        week * 7 + rng.integers(0, 7, len(records))
    ).astype("timedelta64[D]")
    solution_column = solutions.frame.to_dict("series")
    frame = pd.DataFrame(
        {
            "unit_id": org.store_ids[unit],
            "solution_id": solution_column["solution_id"].to_numpy()[solution],
            "adopted_on": adopted_on,
            "status": status,
            "challenge": solution_column["challenge"].to_numpy()[solution],
            "theme": solution_column["theme"].to_numpy()[solution],
        }
    )
    order = np.lexsort((frame["solution_id"].to_numpy(), adopted_on, unit))
    frame = frame.iloc[order].reset_index(drop=True)
    implemented = np.flatnonzero(status == "implemented")
    truth = pd.DataFrame(
        {
            "unit": unit[implemented],
            "unit_id": org.store_ids[unit[implemented]],
            "solution": solution[implemented],
            "solution_id": solutions.frame["solution_id"].to_numpy()[solution[implemented]],
            "week": week[implemented],
            "unit_effect": unit_effect[implemented],
            "ramp_weeks": solutions.ramp[solution[implemented]],
        }
    )
    return frame, truth


def _panel_frame(
    config: SimulationConfig,
    org: _Organisation,
    weeks: pd.DatetimeIndex,
    base: np.ndarray,
    mu: np.ndarray,
    counts: np.ndarray,
) -> pd.DataFrame:
    n_units, n_weeks = config.n_units, config.n_weeks
    counterfactual = expected_score(base.ravel(), config.response_sd)
    treated = expected_score(mu.ravel(), config.response_sd)
    return pd.DataFrame(
        {
            "unit": np.repeat(np.arange(n_units), n_weeks),
            "unit_id": pd.Categorical.from_codes(
                np.repeat(np.arange(n_units), n_weeks), categories=org.store_ids
            ),
            "week": np.tile(np.arange(n_weeks), n_units),
            "week_start": np.tile(weeks.to_numpy().astype("datetime64[D]"), n_units),
            "n_responses": counts.ravel(),
            "counterfactual_latent": base.ravel(),
            "latent": mu.ravel(),
            "counterfactual_mean": counterfactual,
            "expected_mean": treated,
            "effect": treated - counterfactual,
        }
    )


def _true_effect_cells(simulation: Simulation, window: int) -> pd.DataFrame:
    """Every implemented adoption's unit-weeks at event times 0..window-1 (0 = all) inside the
    panel, with the effect on the observed scale and on the latent one."""
    config = simulation.config
    adoptions = simulation.truth.adoptions
    n_weeks = config.n_weeks
    horizon = n_weeks if window <= 0 else window
    lengths = np.clip(np.minimum(horizon, n_weeks - adoptions["week"].to_numpy()), 0, None)
    index = np.repeat(np.arange(len(adoptions)), lengths)
    starts = np.repeat(np.cumsum(lengths) - lengths, lengths)
    event_time = np.arange(len(index)) - starts
    week = adoptions["week"].to_numpy()[index] + event_time
    unit = adoptions["unit"].to_numpy()[index]
    latent_effect = adoptions["unit_effect"].to_numpy()[index] * _ramp_fraction(
        event_time, adoptions["ramp_weeks"].to_numpy()[index].astype(float)
    )
    mu = simulation.truth.panel["latent"].to_numpy().reshape(config.n_units, n_weeks)[unit, week]
    observed_effect = expected_score(mu, config.response_sd) - expected_score(
        mu - latent_effect, config.response_sd
    )
    return pd.DataFrame(
        {
            "solution": adoptions["solution"].to_numpy()[index],
            "unit": unit,
            "event_time": event_time,
            "effect": observed_effect,
            "effect_latent": latent_effect,
        }
    )


def true_effects(simulation: Simulation, window: int) -> tuple[pd.DataFrame, pd.DataFrame]:
    """True effects per solution and per (solution, event time), as the contract defines them.

    A solution's effect is the mean, over its implemented adoptions' unit-weeks at event times
    0..window-1 inside the panel (0 = every week after adoption), of the expected overall score
    with everything the unit did minus the same without this one solution. ``effect_latent`` is
    the same on the latent scale (no rounding or clipping); ``planted_effect`` is the full-ramp
    effect set for the solution.
    """
    adoptions = simulation.truth.adoptions
    solutions = simulation.solutions
    cells = _true_effect_cells(simulation, window)
    per_solution = cells.groupby("solution").agg(
        effect=("effect", "mean"),
        effect_latent=("effect_latent", "mean"),
        n_cells=("effect", "size"),
    )
    n_adopters = adoptions.groupby("solution").size()
    effects = pd.DataFrame(
        {
            "solution_id": solutions["solution_id"],
            "theme": solutions["theme"],
            "planted_effect": solutions["effect"],
            "ramp_weeks": solutions["ramp_weeks"],
            "n_units": n_adopters.reindex(solutions.index, fill_value=0).to_numpy(),
            "n_cells": per_solution["n_cells"].reindex(solutions.index, fill_value=0).to_numpy(),
            "effect": per_solution["effect"].reindex(solutions.index).to_numpy(),
            "effect_latent": per_solution["effect_latent"].reindex(solutions.index).to_numpy(),
        }
    )
    event = (
        cells.groupby(["solution", "event_time"])
        .agg(effect=("effect", "mean"), effect_latent=("effect_latent", "mean"),
             n_units=("effect", "size"))
        .reset_index()
    )  # fmt: skip
    event.insert(0, "solution_id", solutions["solution_id"].to_numpy()[event["solution"]])
    return effects, event.drop(columns="solution")


def true_region_effects(simulation: Simulation, window: int) -> pd.DataFrame:
    """True effects per solution and region: the contract's estimand restricted to the
    region's adopting units (as ``true_effects``, over their unit-weeks only).

    Columns: ``solution_id``, ``region_id``, ``n_units`` (adopting units there), ``n_cells``,
    ``effect`` (observed 0-10 scale), ``effect_latent``.
    """
    cells = _true_effect_cells(simulation, window)
    region_of = simulation.truth.units["region_id"].to_numpy()
    cells["region_id"] = region_of[cells["unit"].to_numpy()]
    frame = (
        cells.groupby(["solution", "region_id"])
        .agg(n_units=("unit", "nunique"), n_cells=("effect", "size"),
             effect=("effect", "mean"), effect_latent=("effect_latent", "mean"))
        .reset_index()
    )  # fmt: skip
    solution_ids = simulation.solutions["solution_id"].to_numpy()
    frame.insert(0, "solution_id", solution_ids[frame["solution"].to_numpy()])
    return frame.drop(columns="solution")


def week_start(day: date) -> date:
    """The Monday on or before ``day``."""
    return day - timedelta(days=day.weekday())
