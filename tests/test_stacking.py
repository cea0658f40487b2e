"""Stacked sweep points (sim.sweep.stack): several points in one model give each point the very numbers
of its own run — every outcome column, the per-day aggregates, the per-year counts, policy and twin."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from sim.runner import configure, run, twin_config
from sim.sweep.stack import fast_twin, plan_stacks, run_stack, stack_key

# The stacked and unstacked runs (fixture below) are made once for the module: under pytest -n, one worker.
pytestmark = pytest.mark.xdist_group("stacking")

ROOT = Path(__file__).resolve().parent.parent
BASE = ("replicates=100", "horizon_days=200", "output.plot=false", "output.progress=false")

#: A small lag sweep, plus a point that moves every other stackable lever (sim.sweep.stack.STACKABLE).
POINTS = [
    ("policy.warning_to_action_lag_days=0", "policy.partnership=0.1", "policy.flexibility=0.9"),
    ("policy.warning_to_action_lag_days=30", "policy.partnership=0.9", "policy.flexibility=0.1"),
    ("policy.warning_to_action_lag_days=90", "policy.partnership=0.5", "policy.flexibility=0.5"),
    ("policy.ladder_days=2", "policy.sustainability_days=10", "policy.funding_predictability=0.95",
     "policy.burden_sharing=0", "policy.coordination=0.2", "policy.information_sharing=0.9"),
]


def _same_outcomes(a: dict, b: dict) -> list[str]:
    return [k for k in a if a[k].dtype != b[k].dtype or not np.array_equal(a[k], b[k], equal_nan=True)]


@pytest.fixture(scope="module")
def alone_and_stacked():
    configs = [configure(*BASE, *p) for p in POINTS]
    alone = [run(c, keep_models=False) for c in configs]
    return configs, alone, run_stack(configs)


def test_stacked_points_get_the_numbers_of_their_own_runs(alone_and_stacked):
    configs, alone, stacked = alone_and_stacked
    for c, a, s in zip(configs, alone, stacked, strict=True):
        assert s.config == c
        assert set(s.outcomes) == set(a.outcomes)
        assert _same_outcomes(a.outcomes, s.outcomes) == []
        assert _same_outcomes(a.twin_outcomes, s.twin_outcomes) == []
        pd.testing.assert_frame_equal(s.timeseries, a.timeseries, check_exact=True)
        pd.testing.assert_frame_equal(s.twin_timeseries, a.twin_timeseries, check_exact=True)
        for y in ("years", "twin_years"):
            for attr in ("year_conflict_days", "year_war_days"):
                assert np.array_equal(getattr(getattr(s, y), attr), getattr(getattr(a, y), attr))
        strip = lambda d: {k: v for k, v in d.items() if k not in ("timestamp", "timing")}  # noqa: E731
        assert strip(s.summary()) == strip(a.summary())


def test_a_twin_that_intervenes_is_stacked_too():
    # A counterfactual that acts (later) reads the levers: each point's twin then runs in its own block.
    twin = ("counterfactual.policy.warning_to_action_lag_days=180",)
    configs = [configure(*BASE, *twin, *p) for p in POINTS[:2]]
    for a, s in zip((run(c, keep_models=False) for c in configs), run_stack(configs), strict=True):
        assert _same_outcomes(a.twin_outcomes, s.twin_outcomes) == []
        assert _same_outcomes(a.outcomes, s.outcomes) == []
        pd.testing.assert_frame_equal(s.twin_timeseries, a.twin_timeseries, check_exact=True)


def test_the_points_differ_so_the_comparison_can_fail(alone_and_stacked):
    _, alone, _ = alone_and_stacked
    # Different levers, different histories: a stack that mixed up its blocks or levers would not match.
    for other in alone[1:]:
        assert "warning_to_action_days" in _same_outcomes(alone[0].outcomes, other.outcomes)


def test_the_default_twin_needs_no_second_composition():
    c = configure(*BASE, "policy.partnership=0.9")
    assert fast_twin(c) == twin_config(c)
    custom = configure(*BASE, "counterfactual.policy.partnership=0.1")
    assert fast_twin(custom) == twin_config(custom)


def test_structural_levers_and_other_settings_are_not_stacked():
    lag = [configure(*BASE, f"policy.warning_to_action_lag_days={d}") for d in (0, 30)]
    assert stack_key(lag[0]) == stack_key(lag[1])
    for other in ("policy.tool=statement", "policy.intervene=false", "policy.roster_size=1", "policy.early_warning=0.9",
                  "policy.financial_incentives=0.8", "replicates=60", "seed=3", "horizon_days=100",
                  "scenario.party_will=0.5"):
        assert stack_key(configure(*BASE, other)) != stack_key(lag[0]), other
    with pytest.raises(ValueError, match="stackable"):
        run_stack([lag[0], configure(*BASE, "policy.tool=statement")])
    # Only neighbours with one key share a stack; a lone point runs alone.
    assert plan_stacks(["a", "a", "b", "a", "a", "a"], [100] * 6) == [[0, 1], [2], [3, 4, 5]]
    # As few stacks of equal size as hold STACK_MAX_WORLDS worlds each, as many as a multiple of the workers.
    assert [len(s) for s in plan_stacks(["a"] * 72, [1000] * 72, workers=1)] == [72]
    assert [len(s) for s in plan_stacks(["a"] * 72, [1000] * 72, workers=2)] == [36, 36]
    assert [len(s) for s in plan_stacks(["a"] * 72, [1000] * 72, workers=3)] == [24, 24, 24]
    assert [len(s) for s in plan_stacks(["a"] * 100, [1000] * 100, workers=1)] == [50, 50]
    assert [len(s) for s in plan_stacks(["a"] * 150, [1000] * 150, workers=2)] == [38, 38, 38, 36]
    # Memory caps a stack: two workers at once must fit.
    small = plan_stacks(["a"] * 8, [1000] * 8, workers=2, memory_of=lambda r: r * 1.0, available=4000.0)
    assert max(len(s) for s in small) <= 2


def test_unstacked_points_go_to_joblib_a_few_per_batch_unless_the_user_set_a_size():
    from types import SimpleNamespace

    from hydra_plugins.pdsim_sweepers._launch import batch_joblib_tasks, chunk_stacks

    launcher = SimpleNamespace(joblib={"n_jobs": 2, "batch_size": "auto"})
    batch_joblib_tasks(launcher, 72)
    assert launcher.joblib["batch_size"] == 72 // 16
    batch_joblib_tasks(launcher, 32)  # the next launch chunk: sized again, from what the user asked for
    assert launcher.joblib["batch_size"] == 2
    mine = SimpleNamespace(joblib={"n_jobs": 2, "batch_size": 5})
    batch_joblib_tasks(mine, 72)
    assert mine.joblib["batch_size"] == 5
    # A stack cut by the edge of a launch chunk runs as two stacks, one per chunk; job numbers follow the points.
    todo = [SimpleNamespace(overrides=[f"x={i}"]) for i in range(6)]
    assert chunk_stacks([[0, 1, 2, 3], [4, 5]], 0, 3, 10, todo) == [[(10, ["x=0"]), (11, ["x=1"]), (12, ["x=2"])]]
    assert chunk_stacks([[0, 1, 2, 3], [4, 5]], 3, 3, 10, todo) == [[(13, ["x=3"])], [(14, ["x=4"]), (15, ["x=5"])]]


def test_libyaml_writes_a_jobs_record_only_while_it_matches_pyyaml(monkeypatch):
    import yaml
    from omegaconf import OmegaConf

    from sim.sweep import batch

    cfg = OmegaConf.create({"policy": {"flexibility": 0.5, "tool": "envoy", "label": "1", "flag": "true"}})
    monkeypatch.setattr(batch, "_CHECKED", set())
    monkeypatch.setattr(batch, "_FAST_YAML", None)
    assert batch.to_yaml(cfg, "config.yaml") == OmegaConf.to_yaml(cfg)  # quoted '1' and 'true' as OmegaConf does
    if yaml.__with_libyaml__:
        assert batch._FAST_YAML not in (None, False)

    class Unlike(yaml.CDumper if yaml.__with_libyaml__ else yaml.Dumper):  # an emitter that formats otherwise
        def __init__(self, *args, **kwargs):
            super().__init__(*args, **{**kwargs, "indent": 4})

    monkeypatch.setattr(batch, "_CHECKED", set())
    monkeypatch.setattr(batch, "_FAST_YAML", None)
    monkeypatch.setattr(batch, "_libyaml_dumper", lambda: Unlike)
    nested = OmegaConf.create({"a": {"b": {"c": 1}}})
    assert batch.to_yaml(nested, "hydra.yaml") == OmegaConf.to_yaml(nested)
    assert batch._FAST_YAML is False  # from then on PyYAML, as Hydra writes


def _sweep(tmp: Path, name: str, *extra: str) -> Path:
    out = tmp / name
    cmd = [sys.executable, "-m", "sim.cli", "-m", "policy.tool=statement,envoy",
           "policy.warning_to_action_lag_days=0,30,60", "replicates=40", "horizon_days=120", "output.plot=false",
           f"hydra.sweep.dir={out}", *extra]
    env = {**os.environ, "PYTHONPATH": str(ROOT) + os.pathsep + os.environ.get("PYTHONPATH", "")}
    proc = subprocess.run(cmd, capture_output=True, text=True, cwd=tmp, env=env, timeout=300)
    assert proc.returncode == 0, proc.stderr[-2000:]
    return out


@pytest.mark.parametrize("launcher", ["joblib", "basic"])
def test_a_stacked_sweep_writes_what_an_unstacked_one_does(tmp_path, launcher):
    # joblib: two workers for the stacked sweep (one stack each), one for the unstacked one. Hydra's basic launcher
    # runs every job in the sweeping process, stacked or not.
    if launcher == "joblib":
        stacked = _sweep(tmp_path, "stacked", "hydra.launcher.n_jobs=2")
        alone = _sweep(tmp_path, "alone", "hydra.sweeper.stack=false", "hydra.launcher.n_jobs=1")
    else:
        stacked = _sweep(tmp_path, "stacked", "hydra/launcher=basic")
        alone = _sweep(tmp_path, "alone", "hydra/launcher=basic", "hydra.sweeper.stack=false")
    # The tool is structural: two stacks of three lags each; the unstacked sweep records none.
    stacks = json.loads((stacked / ".pdsim-stacks.json").read_text())["stacks"]
    assert [len(s) for s in stacks] == [3, 3]
    assert not (alone / ".pdsim-stacks.json").exists()
    volatile = {"timestamp", "wall_seconds", "started_at", "finished_at", "timing.simulation_seconds",
                "timing.counterfactual_seconds"}
    a, b = (pd.read_parquet(d / "results.parquet").set_index("job").sort_index() for d in (stacked, alone))
    keep = [c for c in a.columns if c not in volatile]
    pd.testing.assert_frame_equal(a[keep], b[keep], check_exact=True)
    for job in a.index:  # each point's own files, job by job
        for name in ("outcomes", "twin_outcomes", "timeseries", "twin_timeseries", "years", "twin_years"):
            x, y = (pd.read_parquet(d / str(job) / f"{name}.parquet") for d in (stacked, alone))
            pd.testing.assert_frame_equal(x, y, check_exact=True)
        # Hydra's record of the job: a stack's later points are run by sim.sweep.batch, not by Hydra's run_job.
        for name in ("config.yaml", "overrides.yaml"):
            x, y = ((d / str(job) / ".hydra" / name).read_bytes() for d in (stacked, alone))
            assert x == y, (job, name)
        x, y = (_hydra_record(d, job) for d in (stacked, alone))
        assert x == y, job
        assert (stacked / str(job) / "cli.log").read_text() == (alone / str(job) / "cli.log").read_text()


def _hydra_record(sweep: Path, job: int) -> dict:
    """A job's hydra.yaml without what the two sweeps' commands set differently (directory, workers, stacking)."""
    import yaml

    record = yaml.safe_load((sweep / str(job) / ".hydra" / "hydra.yaml").read_text().replace(str(sweep), "SWEEP"))
    hydra = record["hydra"]
    hydra["launcher"].pop("n_jobs", None)
    del hydra["sweeper"]["stack"], hydra["overrides"]["hydra"]
    return record


def test_a_single_run_reads_its_policy_afresh_each_day():
    # Play mode (sim.app.play) changes model.policy between steps; only a stack may cache its levers.
    from sim.model import PreventiveDiplomacyModel
    from sim.results import world_outcomes

    def outcomes(change: bool):
        m = PreventiveDiplomacyModel(configure(*BASE))
        for _ in range(60):
            m.step()
        if change:
            m.policy.warning_to_action_lag_days, m.policy.coordination, m.policy.flexibility = 120, 0.0, 1.0
        m.run()
        return world_outcomes(m)

    same, changed = outcomes(False), outcomes(True)
    assert {"warning_to_action_days", "final_infrastructure"} & set(_same_outcomes(same, changed))


def test_world_mode_stacks_without_a_reform_and_never_with_one():
    base = ("scenario=world", "replicates=8", "horizon_days=365", "output.plot=false")
    reformed = [configure(*base, f"policy.warning_to_action_lag_days={d}") for d in (0, 60)]
    assert stack_key(reformed[0]) != stack_key(reformed[1])  # the reform replaces the policy mid-run
    plain = [configure(*base, "scenario.world.reform_year=0", f"policy.warning_to_action_lag_days={d}",
                       f"policy.partnership={p}") for d, p in ((0, 0.1), (60, 0.9))]
    assert stack_key(plain[0]) == stack_key(plain[1])
    for c, s in zip(plain, run_stack(plain), strict=True):
        a = run(c, keep_models=False)
        assert _same_outcomes(a.outcomes, s.outcomes) == [] and _same_outcomes(a.twin_outcomes, s.twin_outcomes) == []
        pd.testing.assert_frame_equal(s.timeseries, a.timeseries, check_exact=True)
