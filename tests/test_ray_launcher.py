"""A small sweep on a local Ray instance through hydra/launcher=ray (the `ray` extra).

Skipped cleanly where Ray or Hydra's Ray launcher is not installed: ``pip install -e .[ray]``.
"""

from __future__ import annotations

import importlib.util
import subprocess
import sys

import pandas as pd
import pytest

pytestmark = [
    pytest.mark.ray,
    pytest.mark.xdist_group("ray"),  # one local Ray instance at a time (pytest -n)
    pytest.mark.skipif(
        importlib.util.find_spec("ray") is None
        or importlib.util.find_spec("hydra_plugins.hydra_ray_launcher") is None,
        reason="needs the ray extra: pip install -e .[ray]",
    ),
]


def test_sweep_on_a_local_ray_instance(tmp_path):
    sweep = tmp_path / "sweep"
    args = [
        sys.executable, "-m", "sim.cli", "-m", "hydra/launcher=ray",
        # A local instance (address null), sized to this machine, without the dashboard.
        "hydra.launcher.ray.init.address=null", "+hydra.launcher.ray.init.num_cpus=2",
        "+hydra.launcher.ray.init.include_dashboard=false",
        "policy.flexibility=0.2,0.8", "replicates=20", "horizon_days=20", "output.plot=false",
        f"hydra.sweep.dir={sweep}",
    ]
    proc = subprocess.run(args, cwd=tmp_path, capture_output=True, text=True, timeout=300)
    assert proc.returncode == 0, proc.stderr[-3000:]
    assert "Ray Launcher is launching 2 jobs" in proc.stderr + proc.stdout
    df = pd.read_parquet(sweep / "results.parquet")
    assert sorted(df["param.policy.flexibility"]) == [0.2, 0.8]
    assert set(df["seed"]) == {0} and df["escalation.probability"].between(0, 1).all()
    # Resume does not depend on the launcher: nothing is sent to Ray the second time.
    again = subprocess.run(args, cwd=tmp_path, capture_output=True, text=True, timeout=300)
    assert again.returncode == 0 and "2 already done, 0 to simulate" in again.stderr
    assert "Ray Launcher is launching" not in again.stderr + again.stdout


def test_a_world_ensemble_runs_on_ray_unchanged(tmp_path):
    """World mode (issue 10): an ensemble of worlds (two seeds) through the same launcher, world outputs in the
    table."""
    sweep = tmp_path / "sweep"
    args = [
        sys.executable, "-m", "sim.cli", "-m", "hydra/launcher=ray",
        "hydra.launcher.ray.init.address=null", "+hydra.launcher.ray.init.num_cpus=2",
        "+hydra.launcher.ray.init.include_dashboard=false",
        "scenario=world", "seed=0,1", "replicates=2", "horizon_days=365", "output.plot=false",
        f"hydra.sweep.dir={sweep}",
    ]
    proc = subprocess.run(args, cwd=tmp_path, capture_output=True, text=True, timeout=600)
    assert proc.returncode == 0, proc.stderr[-3000:]
    df = pd.read_parquet(sweep / "results.parquet")
    assert sorted(df["seed"]) == [0, 1] and (df["scenario"] == "world").all()
    assert (df["world.countries_in_conflict_per_year.mean"] > 0).all()
