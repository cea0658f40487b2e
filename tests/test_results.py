"""Outputs: the summary a script reads, the files of a run, the intervals, the event log."""

import json
import math
import re
import subprocess
import sys

import numpy as np
import pyarrow.parquet as pq
import pytest

from sim import __version__
from sim.events import EventKind
from sim.runner import run
from sim.stats import paired_difference, wilson
from tests.conftest import make_config


def test_wilson_matches_newcombe_1998_example():
    p, lo, hi = wilson(81, 263)
    assert (round(lo, 4), round(hi, 4)) == (0.2553, 0.3662)
    assert wilson(0, 10)[1] == pytest.approx(0.0, abs=1e-12) and wilson(10, 10)[2] == pytest.approx(1.0)


def test_paired_interval_covers_the_truth():
    """Coverage of Newcombe's paired interval by simulation: about 95 % for a known difference."""
    rng = np.random.default_rng(1)
    hits, n, trials = 0, 200, 1000
    for _ in range(trials):
        u = rng.random(n)
        x, y = u < 0.4, u < 0.3  # correlated pairs, true difference 0.1
        x ^= rng.random(n) < 0.05
        truth = 0.4 * 0.95 + 0.6 * 0.05 - 0.3
        d = paired_difference(x, y)
        hits += d["ci_low"] <= truth <= d["ci_high"]
    assert 0.92 <= hits / trials <= 0.985


def test_summary_has_every_field_a_script_needs():
    result = run(make_config("replicates=300", "horizon_days=200", "seed=4"))
    s = result.summary()
    for key in ("scenario", "replicates", "seed", "horizon_days", "config", "version", "timestamp",
                "escalation", "war", "counterfactual", "time_to_escalation", "warning_to_action_gap_days",
                "warning", "conflict_days", "relapses", "costs", "timing"):
        assert key in s, key
    for key in ("probability", "ci_low", "ci_high", "count"):
        assert key in s["escalation"] and key in s["war"]
    assert s["escalation"]["ci_low"] <= s["escalation"]["probability"] <= s["escalation"]["ci_high"]
    cf = s["counterfactual"]
    assert {"escalation_probability", "prevented"} <= set(cf)
    assert {"estimate", "ci_low", "ci_high"} <= set(cf["prevented"])
    assert cf["prevented"]["estimate"] == pytest.approx(
        100 * (cf["escalation_probability"] - s["escalation"]["probability"]))
    assert s["timing"]["simulation_seconds"] > 0 and s["timing"]["counterfactual_seconds"] > 0
    assert s["version"] == __version__ and s["seed"] == 4
    assert s["config"]["policy"]["coordination"] == s["config"]["policy"]["partnership"]
    json.dumps(s, allow_nan=False)  # strict JSON: no NaN anywhere


def test_run_files_carry_config_seed_version_and_time(tmp_path):
    result = run(make_config("replicates=100", "horizon_days=60", "seed=8"))
    result.save(tmp_path)
    s = json.loads((tmp_path / "summary.json").read_text())
    assert s["seed"] == 8 and s["config"]["horizon_days"] == 60
    table = pq.read_table(tmp_path / "outcomes.parquet")
    assert table.num_rows == 100
    meta = json.loads(table.schema.metadata[b"pdsim"])
    assert meta["seed"] == 8 and meta["version"] == __version__ and "timestamp" in meta and "config" in meta
    ts = pq.read_table(tmp_path / "timeseries.parquet").to_pandas()
    assert len(ts) == 61 and {"tension_q05", "tension_q50", "tension_q95", "share_escalated"} <= set(ts)
    assert (ts["tension_q05"] <= ts["tension_q50"]).all() and (ts["tension_q50"] <= ts["tension_q95"]).all()
    assert ts["share_escalated"].is_monotonic_increasing


def test_event_log_reads_as_a_story():
    result = run(make_config("replicates=200", "horizon_days=200", "seed=1"))
    model = result.model
    ev = model.events.columns()
    acted = ev["world"][ev["kind"] == EventKind.FIRST_STEP]
    world = int(acted[0])
    story = model.story(world)
    assert "early warning on" in story and "takes its first step" in story
    header, *lines = story.splitlines()
    assert header.startswith(f"World {world} of 200")
    # Lines are in time order ("day 12:" or, folded, "days 12–19:").
    days = [int(re.match(r"\s*days?\s+(\d+)", line).group(1)) for line in lines]
    assert days == sorted(days)
    # The same events, read per world or as columns; and newer chunks alone.
    assert len(model.events.for_world(world)) == int((ev["world"] == world).sum())
    assert model.events.columns(since=model.events.n_chunks)["day"].size == 0
    # Every world's story can be told (each kind of event reads its own value), with its twin's too.
    for w in range(model.replicates):
        model.story(w, twin=result.twin_model)


def test_main_job_writes_summary_table_and_plot(tmp_path):
    out = tmp_path / "run"
    proc = subprocess.run([sys.executable, "-m", "sim", "replicates=200", "horizon_days=90", f"hydra.run.dir={out}"],
                          capture_output=True, text=True, cwd=tmp_path, timeout=300)
    assert proc.returncode == 0, proc.stderr
    assert "escalation to armed conflict" in proc.stdout and "prevented per 100 crises" in proc.stdout
    s = json.loads((out / "summary.json").read_text())
    assert s["replicates"] == 200 and s["scenario"] == "generic"
    assert (out / "tension.png").stat().st_size > 10_000
    assert not math.isnan(s["escalation"]["probability"])


def test_twin_can_be_a_second_policy():
    """The counterfactual need not be 'no intervention': here it is the same policy, slower."""
    result = run(make_config("replicates=2000", "policy.warning_to_action_lag_days=0",
                             **{"counterfactual__policy": {"warning_to_action_lag_days": 90}}))
    s = result.summary()
    assert result.twin_model.policy.warning_to_action_lag_days == 90
    assert result.twin_model.policy.intervene
    assert s["counterfactual"]["policy"] == {"warning_to_action_lag_days": 90}
    assert s["counterfactual"]["prevented"]["ci_low"] > 0  # acting at once prevents escalations a slow twin misses
    assert s["counterfactual"]["prevented"]["worlds_induced"] >= 0


def test_long_single_run_reports_progress(tmp_path):
    out = tmp_path / "run"
    proc = subprocess.run([sys.executable, "-m", "sim", "replicates=20000", "horizon_days=180", "output.plot=false",
                           f"hydra.run.dir={out}"], capture_output=True, text=True, cwd=tmp_path, timeout=300)
    assert proc.returncode == 0, proc.stderr
    assert "policy: day 90/180" in proc.stderr and "policy: day 180/180" in proc.stderr
    assert "counterfactual: day 180/180, about 0 s left" in proc.stderr
