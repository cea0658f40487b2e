"""Bad input stops before any simulation, with one message naming the field, the value and what is allowed."""

import subprocess
import sys

import pytest

from sim.config import scenario_names
from sim.runner import run
from sim.validation import ConfigError
from tests.conftest import make_config


def pdsim(tmp_path, *args):
    out = tmp_path / "run"
    proc = subprocess.run([sys.executable, "-m", "sim", f"hydra.run.dir={out}", *args],
                          capture_output=True, text=True, cwd=tmp_path, timeout=300)
    return proc, out


@pytest.mark.parametrize(
    "override, field, allowed",
    [
        ("policy.flexibility=1.7", "policy.flexibility = 1.7", "0.0 <= value <= 1.0"),
        ("replicates=0", "replicates = 0", "1 <= value"),
        ("policy.warning_to_action_lag_days=-3", "policy.warning_to_action_lag_days = -3", "0 <= value"),
        ("policy.tool=sanctions", "policy.tool = 'sanctions'", "statement, fact_finding, envoy, mission, coercive"),
        ("scenario.sites.A.grievance=9", "scenario.sites.A.grievance = 9", "0.0 <= value <= 5.0"),
    ],
)
def test_out_of_range_is_named(override, field, allowed):
    with pytest.raises(ConfigError) as err:
        run(make_config(override))
    assert field in str(err.value) and allowed in str(err.value)


def test_every_problem_is_listed_at_once():
    with pytest.raises(ConfigError) as err:
        run(make_config("policy.flexibility=2", "policy.partnership=-1", "horizon_days=0"))
    assert len(err.value.problems) >= 3  # partnership also feeds its four detailed levers


def test_counterfactual_policy_is_checked_too():
    with pytest.raises(ConfigError, match="counterfactual.policy.flexibilty is not a policy field"):
        run(make_config(**{"counterfactual__policy": {"flexibilty": 0.2}}))
    with pytest.raises(ConfigError, match=r"counterfactual.policy.roster_size = -1 is out of range"):
        run(make_config(**{"counterfactual__policy": {"roster_size": -1}}))


def test_bad_borders_are_named():
    with pytest.raises(ConfigError, match=r"scenario.borders\[0\] = \['A', 'Z'\] is not a border"):
        run(make_config(**{"scenario__borders": [["A", "Z"]]}))


def test_more_than_one_rare_event_a_day_is_refused_per_site():
    """A site's triggers (the scenario's rate x its multiplier) and preference shifts share one uniform a day: more
    than 365 a year between them is refused, naming the site's field, its value and the limit."""
    with pytest.raises(ConfigError, match=r"scenario.sites.B.trigger_multiplier = 8.0 with "
                                          r"scenario.trigger_rate_per_year = 50.0 gives 400 triggers a year; .* at "
                                          r"most 365 a year") as err:
        run(make_config("scenario.sites.B.trigger_multiplier=8", "scenario.trigger_rate_per_year=50"))
    assert len(err.value.problems) == 1  # A and C at 50 a year are within the limit
    run(make_config("scenario.sites.B.trigger_multiplier=7", "scenario.trigger_rate_per_year=50",
                    "replicates=10", "horizon_days=5", "counterfactual.enabled=false"))  # 350 + 0.5: allowed


def test_cli_out_of_range_exits_cleanly_before_simulating(tmp_path):
    proc, out = pdsim(tmp_path, "policy.flexibility=1.7")
    assert proc.returncode == 2
    assert "policy.flexibility = 1.7 is out of range: allowed 0.0 <= value <= 1.0" in proc.stderr
    assert "Traceback" not in proc.stderr + proc.stdout
    assert not (out / "summary.json").exists()


def test_cli_unknown_scenario_lists_the_presets(tmp_path):
    proc, _ = pdsim(tmp_path, "scenario=atlantis")
    assert proc.returncode != 0
    assert "scenario" in proc.stderr and "atlantis" in proc.stderr
    for name in scenario_names():
        assert name in proc.stderr
    assert "Traceback" not in proc.stderr


@pytest.mark.parametrize("override, words", [
    ("replicates=many", ["replicates", "many"]),
    ("policy.flexibilty=0.5", ["flexibilty"]),
    ("+policy.flexibilty=0.5", ["flexibilty"]),
])
def test_cli_type_errors_and_typos_are_refused(tmp_path, override, words):
    proc, out = pdsim(tmp_path, override)
    assert proc.returncode != 0
    for w in words:
        assert w in proc.stderr
    assert "Traceback" not in proc.stderr
    assert not (out / "summary.json").exists()
