"""World mode (configs/scenario/world.yaml): many countries at once, shared resources, regions, the reform of the
levers, and the decade experiment's sign. The world's statistics themselves are tested in test_world_stats.py."""

from __future__ import annotations

import numpy as np
import pytest

from sim.agents import NEVER
from sim.model import PreventiveDiplomacyModel
from sim.results import world_outcomes
from sim.runner import configure, run, simulate
from sim.validation import ConfigError
from tests.conftest import make_config, paired_mean_difference

# The three-year world (fixture below) is run once for the module: under pytest -n, one worker.
pytestmark = pytest.mark.xdist_group("world")

SITES = {"A": {"initial_tension": 2.6, "grievance": 2.6}, "B": {"initial_tension": 2.6, "grievance": 2.6},
         "C": {"initial_tension": 0.3, "grievance": 0.3}}
CALM_B = {**SITES, "B": {"initial_tension": 0.3, "grievance": 0.3}}


def queue(sites, roster: int) -> np.ndarray:
    """Crisis-days waiting for an envoy per world: no regional organisation, no random triggers or spill-over,
    so the only crises are the ones the sites start with."""
    model, _ = simulate(make_config(
        "replicates=300", "horizon_days=200", "scenario.regional_organisation=false",
        "scenario.trigger_rate_per_year=0", "scenario.grievance_spread=0", f"policy.roster_size={roster}",
        scenario__sites=sites, scenario__borders=[]))
    return world_outcomes(model)["crisis_days_waiting"]


def test_a_shared_roster_queues_only_when_crises_overlap():
    """§62-64: one envoy for two simultaneous crises makes one wait; one crisis, or two envoys, never wait."""
    overlap = queue(SITES, roster=1)
    assert (overlap > 0).mean() > 0.5, np.mean(overlap > 0)
    assert queue(CALM_B, roster=1).max() == 0  # one crisis at a time: the envoy is free when asked
    assert queue(SITES, roster=2).max() == 0  # two crises, two envoys


@pytest.fixture(scope="module")
def world():
    """The world preset, three years, a few worlds."""
    config = configure("scenario=world", "replicates=6", "horizon_days=1095", "counterfactual.enabled=false")
    model, _ = simulate(config)
    return config, model


def test_world_preset_builds_countries_regions_and_borders(world):
    config, model = world
    sc = config.scenario
    assert len(sc.sites) >= 140 and model.n_sites == len(sc.sites)
    assert {s.region for s in sc.sites.values()} == set(sc.regions)
    # Borders run both ways on the network; the 1989 wars start at war.
    graph = model.region
    assert all(b in [c.coordinate for c in graph[a].neighborhood]
               for a, b in ((model.site_names.index(x), model.site_names.index(y)) for x, y in sc.borders))
    ro = model.regional
    assert len(ro.mediators) == sum(r.envoys for r in sc.regions.values())
    assert config.horizon_days == 1095 and config.policy.tool == "mission"


def test_regional_envoys_serve_only_their_region(world):
    _, model = world
    ro = model.regional
    posted = [(med.region, ro.site_region[med.site[med.worlds]]) for med in ro.mediators if med.worlds.size]
    assert posted, "no regional envoy was posted in three years of a world"
    assert all((regions == region).all() for region, regions in posted)
    # A site outside every region's coverage would never be warned by the regional organisation.
    assert ro.covered.all()


def test_world_outputs_in_the_summary(world):
    config, _ = world
    result = run(configure("scenario=world", "replicates=4", "horizon_days=730", "counterfactual.enabled=false"))
    w = result.summary()["world"]
    assert 0 < w["countries_in_conflict_per_year"]["mean"] < len(config.scenario.sites)
    assert w["crises_waiting_per_day"]["mean"] >= 0


def test_country_overrides_apply_and_unknown_countries_are_refused():
    cfg = configure("scenario=world", "scenario.world.sites.Kenya.grievance=3.5")
    assert cfg.scenario.sites["Kenya"].grievance == 3.5
    assert cfg.scenario.sites["Kenya"].region == "Africa"  # the table's values stay under the change
    with pytest.raises(ConfigError, match="Narnia"):
        configure("scenario=world", "scenario.world.sites.Narnia.grievance=3.5")
    with pytest.raises(ConfigError, match="gravitas"):
        configure("scenario=world", "scenario.world.sites.Kenya.gravitas=3.5")
    with pytest.raises(ConfigError, match="scenario.world.sites.NAME"):
        configure("scenario=world", "scenario.sites.Kenya.grievance=3.5")
    with pytest.raises(ConfigError, match="world.countries"):
        configure("scenario=world", "scenario.world.countries=nowhere.csv")


def test_a_history_of_conflict_brings_triggers_more_often():
    """``scenario.world.trigger_history``: a country's triggers come 1 + trigger_history x h times as often, h its
    share of 1946-1989 years in conflict; at 0 every country has the scenario's rate (the model's scalar path). A rate
    that would make more than one rare event a day is refused before any work, naming the fields."""
    from sim.validation import validate
    from sim.world import read_countries

    cfg = configure("scenario=world", "scenario.world.trigger_history=4")
    history = {c.name: c.history(cfg.scenario.world.history_memory_years)
               for c in read_countries(cfg.scenario.world.countries)}
    got = {name: site.trigger_multiplier for name, site in cfg.scenario.sites.items()}
    assert got == pytest.approx({name: 1.0 + 4.0 * h for name, h in history.items()})
    assert max(history.values()) > 0.5 and min(history.values()) == 0.0
    plain = configure("scenario=world", "scenario.world.trigger_history=0")
    assert {s.trigger_multiplier for s in plain.scenario.sites.values()} == {1.0}
    with pytest.raises(ConfigError, match=r"trigger_history = 50.* up to 974.545 triggers a year \(Myanmar \(Burma\); "
                                          r"15 countries over the limit\).* more than one rare event a day") as err:
        validate(configure("scenario=world", "scenario.world.trigger_history=50", "scenario.trigger_rate_per_year=20"))
    assert len(err.value.problems) == 1  # once, naming the world's coefficient, not once per country


def test_sparse_spillover_equals_the_sum_over_neighbours(world):
    _, model = world
    at_war = np.zeros(model.tension.shape, dtype=bool)
    at_war[np.random.default_rng(1).random(at_war.shape) < 0.2] = True
    loop = np.stack([at_war[n].sum(axis=0) if n else np.zeros(model.replicates)
                     for n in model.neighbour_sites])
    assert np.array_equal(model.borders @ at_war.view(np.int8), loop)


def test_the_budget_stops_new_envoys_and_missions_until_next_year():
    """§62-64: a year's money spent, requests wait; a new year brings new money."""
    base = ("replicates=200", "horizon_days=730", "scenario.regional_organisation=false", "policy.tool=mission")
    free = world_outcomes(simulate(make_config(*base))[0])
    model, _ = simulate(make_config(*base, "policy.budget_usd_per_year=1"))
    capped = world_outcomes(model)
    assert free["envoy_engaged"].mean() > 0.3
    # The first statement spends the year's dollar: no envoy and no mission in the first year ...
    first_envoy = model.un.first_envoy[model.un.first_envoy < NEVER]
    assert first_envoy.size and first_envoy.min() > 365
    assert model.un.mission_days.sum() < free_missions(base)
    # ... and the second year's money sends envoys that were waiting.
    assert capped["envoy_engaged"].mean() > 0.1
    # A budget of one envoy-year: envoys come, but fewer envoy-days than without a cap.
    one = world_outcomes(simulate(make_config(*base, "policy.budget_usd_per_year=400000"))[0])
    assert one["envoy_engaged"].mean() > 0.3
    assert one["diplomacy_cost"].mean() < free["diplomacy_cost"].mean()


def free_missions(base) -> int:
    return int(simulate(make_config(*base))[0].un.mission_days.sum())


def test_the_reform_changes_the_levers_on_its_day_and_not_before():
    """Same worlds with and without the reform are identical until the reform's first day (common random
    numbers), then the new levers hold and the roster grows."""
    args = ("scenario=world", "replicates=3", "horizon_days=400", "scenario.world.reform_year=1991")
    reform = PreventiveDiplomacyModel(configure(*args))
    plain = PreventiveDiplomacyModel(configure(*args, "scenario.world.reform_year=0"))
    for _ in range(365):
        reform.step()
        plain.step()
    assert np.array_equal(reform.tension, plain.tension)
    agents = len(reform.agents)
    reform.step()
    assert reform.policy.warning_to_action_lag_days == 14 and len(reform.un.mediators) == 12
    assert len(reform.agents) == agents + 6  # the six new envoys, and no other agent
    assert plain.policy.warning_to_action_lag_days == 60 and len(plain.un.mediators) == 6


def decade_arms(reform: dict, *extra: str, R: int = 16) -> tuple[np.ndarray, np.ndarray]:
    """Countries in armed conflict per year in years 2-3 of a world reformed after its first year, with and
    without the reform (same worlds)."""
    sets = [f"scenario.world.reform.{k}={v}" for k, v in reform.items()]
    args = ("scenario=world", f"replicates={R}", "horizon_days=1095", "scenario.world.reform_year=1991",
            "counterfactual.enabled=false", *extra)
    a = simulate(configure(*args, *sets))[0]
    b = simulate(configure(*args, "scenario.world.reform_year=0"))[0]
    per_year = [m.year_conflict_days[1:] >= 30 for m in (a, b)]
    return tuple(p.sum(axis=1).mean(axis=0) for p in per_year)


#: A strong reform: act at once, a deep roster, partners, good warning, predictable money.
BETTER = {"warning_to_action_lag_days": 0, "roster_size": 40, "partnership": 0.9, "early_warning": 0.9,
          "funding_predictability": 0.9, "budget_usd_per_year": 0}


@pytest.mark.slow
@pytest.mark.parametrize("mechanism", ["on", "off"])
def test_decade_experiment_sign(mechanism):
    """§7: the reform of the levers lowers the number of countries in armed conflict on the same worlds. Off: the
    two channels through which prevention helps are cut — the parties ignore third parties' pressure
    (party_will = 0) and engagement builds no national infrastructure for peace — while the harms
    (inducements' moral hazard, crying wolf) stay on: then the same reform must not show a benefit. (Cutting
    the pressure alone is not enough: a deep roster still builds infrastructures for peace, §56, and that
    alone lowers the count.)"""
    off = ("scenario.party_will=0", "dynamics.infrastructure_growth=0") if mechanism == "off" else ()
    reformed, unreformed = decade_arms(BETTER, *off)
    mean, lo, hi = paired_mean_difference(unreformed, reformed)
    if mechanism == "on":
        assert lo > 0, (mean, lo, hi)
    else:
        assert lo <= 0, (mean, lo, hi)


def test_world_calibration_blocks_equal_their_own_runs():
    """The world calibration's one-run-per-generation (each parameter set a block of worlds with the same random
    numbers) gives each set exactly the statistics of its own run."""
    from sim import calibrate_world as cw
    from sim import patterns

    targets = patterns.load_targets()
    X = np.array([[1.5, 1.5, 0.0], [1.9, 0.5, 4.0]])
    objective = cw.population_objective(2, 0, (), targets, 0.2, years=2, names=("transition_minor_to_war",))
    blocks = objective(X)
    for (_, stats), (base, history, trigger) in zip(blocks, X, strict=True):
        config = cw.world_config(2, 2, 0, (f"scenario.world.grievance_base={base}",
                                           f"scenario.world.grievance_history={history}",
                                           f"scenario.world.trigger_history={trigger}"))
        model = PreventiveDiplomacyModel(config)
        model.run()
        own = cw.statistics(model, 1990)[0]
        assert {k: v.value for k, v in stats.items()} == pytest.approx({k: v.value for k, v in own.items()},
                                                                        nan_ok=True)


def test_an_override_holds_a_fitted_coefficient_out_of_the_search():
    """``pdsim-calibrate-world scenario.world.trigger_history=0`` fits the other two coefficients with the trigger
    route held at 0 (the off arm of the held-out test below): the search's sets are widened with the held value, and
    give exactly the statistics of the same sets with that value written out. A held value that is not a number, or
    holding every coefficient, is refused."""
    from sim import calibrate_world as cw
    from sim.calibrate import UsageError

    held = cw.held_coefficients(("scenario.world.trigger_history=0", "scenario.trigger_rate_per_year=1.2"))
    assert held == {"trigger_history": 0.0}
    np.testing.assert_array_equal(cw.full_sets(np.array([[1.3, 2.0], [1.5, 1.0]]), held),
                                  [[1.3, 2.0, 0.0], [1.5, 1.0, 0.0]])
    with pytest.raises(UsageError, match="not a number"):
        cw.held_coefficients(("scenario.world.grievance_base=high",))
    with pytest.raises(UsageError, match="nothing is left to fit"):
        cw.held_coefficients(tuple(f"scenario.world.{p.name}=1" for p in cw.PARAMETERS))
    searched = cw.population_objective(2, 0, (), {}, 0.2, years=1, names=(), held=held)(np.array([[1.3, 2.0]]))
    written = cw.population_objective(2, 0, (), {}, 0.2, years=1, names=())(np.array([[1.3, 2.0, 0.0],
                                                                                      [1.3, 2.0, 5.0]]))
    values = [{k: v.value for k, v in stats.items()} for _, stats in (*searched, *written)]
    assert values[0] == pytest.approx(values[1], nan_ok=True)
    assert values[0] != pytest.approx(values[2], nan_ok=True)  # the held value matters: 5 is not 0


def test_the_calibrated_world_meets_its_fitted_targets_in_a_short_run():
    """The world preset's baseline (fitted by pdsim-calibrate-world, docs/validation/WORLD_CALIBRATION.md) meets the
    1990s counts and the transitions it was fitted to by the project's verdict (intervals with the stated tolerance),
    in a short run of 8 worlds over 1990-1999 with another seed than the fit's."""
    from sim import calibrate_world as cw
    from sim import patterns

    config = cw.world_config(8, 10, 7)
    model = PreventiveDiplomacyModel(config)
    model.run()
    rows = {r.target: r for r in patterns.compare(cw.statistics(model, 1990)[0], patterns.load_targets(),
                                                  patterns.TOLERANCE, cw.FITTED)}
    assert set(rows) == set(cw.FITTED)
    verdicts = {t: (r.verdict, round(r.model.value, 4)) for t, r in rows.items()}
    assert all(r.verdict == "consistent" for r in rows.values()), verdicts


def countries_in_conflict_2000s(*overrides: str):
    """The 2000s' countries in armed conflict per year: the mean over worlds (a Stat) and each world's own value
    (16 worlds x 21 years, a seed other than the fit's)."""
    from sim import calibrate_world as cw
    from sim.world_stats import states_before_start, world_values
    from sim.years import years_table

    config = cw.world_config(16, 21, 7, overrides)
    model = PreventiveDiplomacyModel(config)
    model.run()
    name = "world_countries_in_conflict_per_year_2000s"
    per_world = world_values(years_table(model), 1990, before=states_before_start())[name].to_numpy()
    return cw.statistics(model, 1990)[0][name], per_world


def test_a_history_that_brings_crises_comes_closer_to_the_held_out_decade_than_a_standing_grievance():
    """The held-out 2000s (docs/WORLD.md): with the committed baseline, in which a history of conflict brings more
    triggering events (``trigger_history``), the world's countries in conflict per year in the 2000s meet the record's
    25.8 [24.7, 26.9] (with the tolerance). With the baseline the same calibration finds when history can only raise
    the grievance (``pdsim-calibrate-world --popsize 9 scenario.world.trigger_history=0``, the fit's budget of 162
    sets for two coefficients: base 1.35, history 1.98, refitted on 30 Nov 2026 after war began to tear down the
    infrastructure for peace) the count is higher on the same worlds (common random numbers; the paired interval of
    the difference above zero): in the countries with a long history, conflicts that end start again. That refit
    meets the decade too, by the tolerance (30.6 against 25.8 on its own 100 worlds), as one of the refits before the
    change did; so the claim tested is the one every refit shares: the trigger route comes closer."""
    from sim import patterns

    target = patterns.load_targets()["world_countries_in_conflict_per_year_2000s"]
    with_triggers, per_world_with = countries_in_conflict_2000s()
    grievance_only, per_world_without = countries_in_conflict_2000s("scenario.world.grievance_base=1.35",
                                                                    "scenario.world.grievance_history=1.98",
                                                                    "scenario.world.trigger_history=0")
    assert patterns.verdict(target, with_triggers) == "consistent", with_triggers
    mean, low, high = paired_mean_difference(per_world_without, per_world_with)
    assert low > 0, (with_triggers, grievance_only, (mean, low, high))
