"""Scenario presets: each loads, validates, runs, and says it is a teaching setting with its sources."""

import re

import pytest

from sim.config import load_scenario, scenario_names
from sim.runner import configure, run

PRESETS = ["generic", "kenya_2008", "guinea_2009", "great_lakes_2008", "sudan_2011", "kyrgyzstan_2010",
           "madagascar_2009"]


def test_every_case_of_the_report_has_a_preset():
    assert sorted(PRESETS) == scenario_names()


@pytest.mark.parametrize("name", PRESETS)
def test_preset_states_assumptions_with_sources(name):
    sc = load_scenario(name)
    assert sc.name == name
    assert sc.assumptions, "a preset lists its assumptions"
    if name != "generic":
        assert "not a calibrated replica" in sc.description
        assert all(re.search(r"§\d+", a) for a in sc.assumptions), "each assumption cites a report §"


@pytest.mark.parametrize("name", PRESETS)
def test_preset_runs_with_only_its_own_countries(name):
    cfg = configure(f"scenario={name}", "replicates=100", "horizon_days=60")
    assert list(cfg.scenario.sites) == list(load_scenario(name).sites)
    s = run(cfg).summary()
    assert s["scenario"] == name and 0 <= s["escalation"]["probability"] <= 1


def test_prevention_helps_in_every_preset():
    """In every preset, intervening prevents escalations on net (paired interval above zero)."""
    for name in PRESETS:
        s = run(configure(f"scenario={name}", "replicates=1000")).summary()
        assert s["counterfactual"]["prevented"]["ci_low"] > 0, name
