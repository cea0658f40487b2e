"""The ``design`` sweeper: design sizes and ranges (unit), and a Latin hypercube and a Morris design
run end to end through Hydra on the joblib launcher."""

from __future__ import annotations

import subprocess
import sys

import numpy as np
import pandas as pd
import pytest

from sim.sweep.design import declared_lever, default_levers, design_size, sample

LEVERS = [
    declared_lever("policy.warning_to_action_lag_days", 0, 90),
    declared_lever("policy.flexibility", 0.2, 0.8),
    declared_lever("policy.partnership"),
]


@pytest.mark.parametrize(
    ("method", "n", "expected"), [("lhs", 7, 7), ("morris", 4, 4 * (3 + 1)), ("sobol", 8, 8 * (3 + 2))]
)
def test_design_sizes(method, n, expected):
    x = sample(method, LEVERS, n, seed=1)
    assert x.shape == (expected, 3) == (design_size(method, 3, n), 3)
    assert design_size("sobol", 3, 8, second_order=True) == 8 * 8
    assert sample("sobol", LEVERS, 8, seed=1, second_order=True).shape == (64, 3)


@pytest.mark.parametrize("method", ["lhs", "morris", "sobol"])
def test_designs_stay_in_their_ranges_and_round_integer_levers(method):
    x = sample(method, LEVERS, 16, seed=3)
    for j, lever in enumerate(LEVERS):
        assert x[:, j].min() >= lever.low and x[:, j].max() <= lever.high
        assert x[:, j].max() - x[:, j].min() > 0.5 * (lever.high - lever.low)  # the design spreads out
    assert np.array_equal(x[:, 0], np.rint(x[:, 0]))  # days are whole
    assert not np.array_equal(x[:, 1], np.rint(x[:, 1]))
    assert np.array_equal(sample(method, LEVERS, 16, seed=3), x)  # same seed, same design: resumable


def test_latin_hypercube_hits_every_stratum_once():
    n = 10
    x = sample("lhs", LEVERS, n, seed=0)
    for j in (1, 2):  # the continuous levers
        lever = LEVERS[j]
        strata = np.floor((x[:, j] - lever.low) / (lever.high - lever.low) * n).astype(int)
        assert sorted(strata) == list(range(n))


def test_morris_trajectories_move_one_lever_at_a_time():
    x = sample("morris", LEVERS, 3, seed=2)
    for t in range(3):
        steps = np.diff(x[t * 4:(t + 1) * 4], axis=0)
        assert ((np.abs(steps) > 1e-12).sum(axis=1) == 1).all()


def test_declared_ranges_come_from_the_schema():
    levers = {lv.key: lv for lv in default_levers()}
    assert levers["policy.flexibility"].low == 0.0 and levers["policy.flexibility"].high == 1.0
    assert levers["policy.warning_to_action_lag_days"].integer
    assert len(levers) == 6
    with pytest.raises(ValueError, match=r"policy.flexibility range \[0.5, 1.5\] is not allowed"):
        declared_lever("policy.flexibility", 0.5, 1.5)
    with pytest.raises(ValueError, match="not numeric"):
        declared_lever("policy.tool")
    with pytest.raises(ValueError, match="not a parameter"):
        declared_lever("policy.flexibilty")
    with pytest.raises(ValueError, match="choose one of lhs, morris, sobol"):
        sample("grid", LEVERS, 4)


def run_design(tmp_path, *args, check=True):
    sweep = tmp_path / "sweep"
    proc = subprocess.run(
        [sys.executable, "-m", "sim.cli", "-m", "hydra/sweeper=design", *args, "replicates=20",
         "horizon_days=30", "output.plot=false", "hydra.launcher.n_jobs=1", f"hydra.sweep.dir={sweep}"],
        cwd=tmp_path, capture_output=True, text=True, timeout=300,
    )
    if check:
        assert proc.returncode == 0, proc.stderr
    return sweep, proc


def test_latin_hypercube_sweep_end_to_end(tmp_path):
    sweep, proc = run_design(tmp_path, "hydra.sweeper.method=lhs", "hydra.sweeper.n=3",
                             "policy.flexibility=interval(0.2,0.8)",
                             "policy.warning_to_action_lag_days=interval(0,60)")
    df = pd.read_parquet(sweep / "results.parquet")
    assert len(df) == 3
    assert df["param.policy.flexibility"].between(0.2, 0.8).all()
    assert df["param.policy.warning_to_action_lag_days"].between(0, 60).all()
    assert set(df["param.replicates"]) == {20} and set(df["seed"]) == {0}
    assert (sweep / "design.png").exists() and (sweep / "design.csv").exists()
    # Resume works for designs too: the same design seed gives the same points.
    _, again = run_design(tmp_path, "hydra.sweeper.method=lhs", "hydra.sweeper.n=3",
                          "policy.flexibility=interval(0.2,0.8)",
                          "policy.warning_to_action_lag_days=interval(0,60)")
    assert "3 already done, 0 to simulate" in again.stderr


def test_morris_sweep_writes_sensitivity_indices(tmp_path):
    sweep, _ = run_design(tmp_path, "hydra.sweeper.method=morris", "hydra.sweeper.n=2",
                          "policy.flexibility=interval(0,1)", "policy.partnership=interval(0,1)")
    df = pd.read_parquet(sweep / "results.parquet")
    assert len(df) <= 6  # 2 trajectories x 3 points (a repeated point is simulated once)
    sens = pd.read_csv(sweep / "sensitivity.csv")
    assert sens["lever"].tolist() == ["policy.flexibility", "policy.partnership"]
    assert {"mu_star", "sigma"} <= set(sens.columns)


def test_bad_design_input_is_one_line_exit_2(tmp_path):
    sweep, proc = run_design(tmp_path, "hydra.sweeper.method=grid", check=False)
    assert proc.returncode == 2 and "choose one of lhs, morris, sobol" in proc.stderr
    assert "Traceback" not in proc.stderr and not sweep.exists()
    sweep, proc = run_design(tmp_path, "policy.flexibility=interval(0.5,2)", check=False)
    assert proc.returncode == 2 and "policy.flexibility range [0.5, 2.0] is not allowed" in proc.stderr
    sweep, proc = run_design(tmp_path, "policy.flexibility=0.1,0.2", check=False)
    assert proc.returncode == 2 and "interval(lo, hi)" in proc.stderr
