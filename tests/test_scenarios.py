"""Scenario presets: each loads, validates, runs, and says it is a teaching setting with its sources."""

import functools
import re

import numpy as np
import pytest

from sim.config import CONFIG_DIR, load_scenario, policy_names, scenario_names
from sim.levers import preset_overrides
from sim.runner import configure, run
from sim.stats import paired_difference, proportion

# The cases' courses (course() below) are cached per process: under pytest -n they run on one worker.
pytestmark = pytest.mark.xdist_group("scenarios")

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
    assert s["scenario"] == name
    shares = s["escalation"]["probability"] + s["unresolved"]["probability"]
    assert shares <= 1.0 + 1e-12, "escalated and unresolved are exclusive"


@pytest.mark.parametrize("name", [p for p in PRESETS if p != "generic"])
def test_each_case_carries_the_levers_its_responders_used(name):
    """Every case names a policy preset (configs/policy/NAME.yaml) whose comments cite the report, and
    running it changes the levers from the defaults."""
    history = load_scenario(name).history
    assert history in policy_names(), name
    text = (CONFIG_DIR / "policy" / f"{history}.yaml").read_text(encoding="utf-8")
    assert re.search(r"§\d+", text) and "not measured" in text
    historical = configure(f"scenario={name}", f"policy={history}").policy
    assert configure(f"scenario={name}").policy != historical


# -- each case follows its course as the report tells it (REPORT_DIGEST.md, the cases table) -------------------
R = 2000


@functools.cache
def course(name: str):
    """The case under its responders' levers, beside its no-action twin (same worlds)."""
    res = run(configure(*preset_overrides(name), f"replicates={R}", "output.events=false", "output.plot=false"),
              keep_models=False)
    return res.outcomes, res.twin_outcomes


def wilson_high(flags) -> float:
    return proportion(flags)["ci_high"]


def test_kenya_2008_civil_war_averted():
    """§20: the AU panel under Kofi Annan, UN in support, brokered a power-sharing deal that averted civil
    war. War stays rare under the responders' levers and is rarer than without them."""
    o, t = course("kenya_2008")
    assert wilson_high(o["war"]) < 0.10
    assert paired_difference(t["war"], o["war"])["ci_low"] > 0


def test_guinea_2009_transition_without_armed_conflict():
    """§24, §37, §55: after the coup, sustained engagement carried Guinea to an elected president: most
    worlds end calm, and fewer escalate than without the responders."""
    o, t = course("guinea_2009")
    calm = ~o["escalated"] & ~o["unresolved"]
    assert calm.mean() > max(o["escalated"].mean(), o["unresolved"].mean())
    assert paired_difference(t["escalated"], o["escalated"])["ci_low"] > 0


def test_great_lakes_2008_regional_war_averted():
    """§19: fighting in eastern DRC raised fear of a regional war; shuttle diplomacy averted it. The
    fighting itself is there from day 0; what the responders change is its spread to a second country,
    and whether the DRC's own conflict has ended by the horizon."""
    o, t = course("great_lakes_2008")
    spread, twin_spread = o["sites_escalated"] >= 2, t["sites_escalated"] >= 2
    assert wilson_high(spread) < 0.5
    assert paired_difference(twin_spread, spread)["ci_low"] > 0
    assert paired_difference(t["in_conflict_at_end"], o["in_conflict_at_end"])["ci_low"] > 0


def test_sudan_2011_peaceful_referendum():
    """§29-30: the referendum passed peacefully with a mission on the ground and the AU panel mediating.
    Most worlds see no armed conflict in the referendum year, fewer than without the responders."""
    o, t = course("sudan_2011")
    assert wilson_high(o["escalated_within_1y"]) < 0.5
    assert paired_difference(t["escalated_within_1y"], o["escalated_within_1y"])["ci_low"] > 0


def test_kyrgyzstan_2010_took_the_world_by_surprise():
    """§44: the June violence took the world by surprise. Of all the cases, Kyrgyzstan's escalations are the
    least often preceded by a warning; once responders engaged, the violence was contained: fewer worlds are
    still fighting at the horizon than without them (§23)."""
    def warned_first(o):
        return np.isfinite(o["warning_lead_days"])[o["escalated"]].mean()

    o, t = course("kyrgyzstan_2010")
    others = [warned_first(course(p)[0]) for p in PRESETS if p not in ("kyrgyzstan_2010", "great_lakes_2008")]
    assert warned_first(o) < min(others), (warned_first(o), others)
    assert paired_difference(t["in_conflict_at_end"], o["in_conflict_at_end"])["ci_low"] > 0


def test_madagascar_2009_unresolved():
    """§20, §36-37: agreements signed but not implemented; the crisis still unresolved. "Unresolved" is the most
    common outcome."""
    o, _ = course("madagascar_2009")
    calm = ~o["escalated"] & ~o["unresolved"]
    assert o["unresolved"].mean() > max(o["escalated"].mean(), calm.mean())


def test_madagascar_2009_without_war():
    """§20, §36-37: the crisis stayed without war: war is rare (the 95 % upper bound below 5 % of worlds). The
    preset's deadlock stands for elites without armed followers: they neither take up arms readily (a wider hold
    band) nor have armies to open a conventional war with (docs/ODD.md 7.4; without that, 4.5 % [upper 5.4 %])."""
    o, _ = course("madagascar_2009")
    assert wilson_high(o["war"]) < 0.05
