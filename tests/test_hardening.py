"""Issue 7, fast half: no silent wrong run, user errors that explain themselves (exit 2), a help page.

The command line is driven in-process (``sim.cli.main`` with ``sys.argv``), which costs milliseconds per
case; tests/test_hardening_sweep.py runs real sweep processes (locks, signals, orphaned workers).
"""

from __future__ import annotations

import copy
import math
import subprocess
import sys
from dataclasses import fields, is_dataclass
from pathlib import Path

import numpy as np
import pytest
from hydra.core.global_hydra import GlobalHydra
from omegaconf import OmegaConf

from sim import config as config_module
from sim.config import RunConfig, ScenarioConfig, load_scenario, scenario_names, walk_params
from sim.runner import configure, resolve
from sim.stats import mean_interval
from sim.validation import ConfigError, problems, validate

BASE = ("replicates=20", "horizon_days=10")


def pdsim_inprocess(monkeypatch, capsys, tmp_path, *args: str) -> tuple[int, str, str]:
    """Run the ``pdsim`` command in this process; (exit status, stdout, stderr)."""
    import sim.cli

    monkeypatch.chdir(tmp_path)
    monkeypatch.setattr(sys, "argv", ["pdsim", *args])
    GlobalHydra.instance().clear()
    try:
        sim.cli.main()
        code = 0
    except SystemExit as exc:
        code = exc.code if isinstance(exc.code, int) else (0 if exc.code is None else 1)
    finally:
        GlobalHydra.instance().clear()
    out, err = capsys.readouterr()
    return code, out, err


def _numeric_fields(cfg: RunConfig):
    for name, value, meta in walk_params(cfg):
        if isinstance(value, (int, float)) and not isinstance(value, bool) and "range" in meta:
            yield name, value, meta


# -- every number finite, every open range bounded ----------------------------------------------------
def _set(cfg: RunConfig, name: str, value) -> RunConfig:
    """A copy of ``cfg`` with the dotted field ``name`` set (dataclass attributes and site dicts)."""
    cfg = copy.deepcopy(cfg)
    *path, last = name.split(".")
    node = cfg
    for part in path:
        node = node[part] if isinstance(node, dict) else getattr(node, part)
    setattr(node, last, value)
    return cfg


def test_every_numeric_field_refuses_nan_and_infinity():
    """Walk every numeric parameter of the schema (each site's included) and set it to NaN, inf, -inf."""
    base = configure(*BASE)
    names = [name for name, _, _ in _numeric_fields(base)]
    assert any(n.startswith("scenario.sites.") for n in names) and len(names) > 50
    missed = []
    for name in names:
        for bad in (math.nan, math.inf, -math.inf):
            found = problems(_set(base, name, bad))
            if not any(p.startswith(name) and ("finite" in p or "out of range" in p) for p in found):
                missed.append((name, bad))
    assert not missed, missed
    # And through the typed path a user takes (Hydra/OmegaConf parse 'nan' into a float field).
    node = OmegaConf.structured(base)
    OmegaConf.update(node, "scenario.sites.A.initial_tension", "nan")
    assert any("scenario.sites.A.initial_tension = nan" in p for p in problems(resolve(node)))


def test_huge_values_of_open_ended_fields_are_refused():
    """1e308 in any numeric field (the issue: trigger_shock, weight_grievance, war_per_day) is refused."""
    base = configure(*BASE)
    missed = [name for name, value, _ in _numeric_fields(base)
              if not any(p.startswith(name) for p in problems(
                  _set(base, name, 1e308 if isinstance(value, float) else 10**18)))]
    assert not missed, missed


def test_nan_in_lists_and_the_twin_policy_is_refused():
    cfg = configure(*BASE)
    cfg.dynamics.tool_strength = [0.1, math.nan, 0.4, 0.6, 0.8]
    assert any("tool_strength" in p for p in problems(cfg))
    twin = resolve(OmegaConf.merge(OmegaConf.structured(configure(*BASE)),
                                   {"counterfactual": {"policy": {"flexibility": math.nan}}}))
    assert any(p.startswith("counterfactual.policy.flexibility") and "finite" in p for p in problems(twin))


def test_every_numeric_schema_field_has_a_finite_lo_and_hi():
    """The schema itself declares a sane range for every number (sim/config.py, lead's part of issue 7)."""
    open_ended = [name for name, _, meta in _numeric_fields(configure(*BASE))
                  if any(v is None or not math.isfinite(v) for v in meta["range"])]
    assert not open_ended, f"fields without a finite lo and hi: {open_ended}"


def test_a_nan_lever_stops_the_single_run_with_exit_2(monkeypatch, capsys, tmp_path):
    code, out, err = pdsim_inprocess(monkeypatch, capsys, tmp_path, "policy.flexibility=nan", *BASE)
    assert code == 2, err
    assert "policy.flexibility = nan is not a finite number" in err and "Traceback" not in err
    assert not list(tmp_path.rglob("summary.json"))


def test_a_nan_point_stops_the_sweep_before_any_job(monkeypatch, capsys, tmp_path):
    sweep = tmp_path / "sweep"
    code, _, err = pdsim_inprocess(monkeypatch, capsys, tmp_path, "-m", "policy.flexibility=0.5,nan", *BASE,
                                   "hydra.launcher.n_jobs=1", f"hydra.sweep.dir={sweep}")
    assert code == 2, err
    assert "point 1 (policy.flexibility=nan)" in err and "not a finite number" in err
    assert not list(tmp_path.rglob("row.json"))


# -- empty scenarios ---------------------------------------------------------------------------------
def test_a_scenario_without_sites_is_refused_not_replaced_by_generic():
    with pytest.raises(ConfigError, match="scenario.sites is empty"):
        validate(resolve(RunConfig(scenario=ScenarioConfig())))
    with pytest.raises(ConfigError, match="scenario.sites is empty"):
        validate(resolve({"scenario": {"name": "mine", "sites": {}}, "replicates": 10}))
    # A config without any scenario still gets the default preset (Python convenience).
    assert list(resolve({"replicates": 10}).scenario.sites) == list(load_scenario("generic").sites)


def test_presets_without_sites_are_refused(tmp_path, monkeypatch):
    (tmp_path / "scenario").mkdir()
    (tmp_path / "scenario" / "empty.yaml").write_text("")
    (tmp_path / "scenario" / "nosites.yaml").write_text("name: nosites\ndescription: no countries\n")
    (tmp_path / "scenario" / "broken.yaml").write_text("name: [broken\n")
    monkeypatch.setattr(config_module, "CONFIG_DIR", tmp_path)
    for name in ("empty", "nosites"):
        with pytest.raises(ValueError, match="has no sites"):
            load_scenario(name)
    with pytest.raises(ValueError, match="cannot be read"):
        load_scenario("broken")


def test_scenario_schema_is_neither_offered_nor_accepted(monkeypatch, capsys, tmp_path):
    assert not [n for n in scenario_names() if n.endswith("_schema")]
    with pytest.raises(ValueError, match="not a preset"):
        load_scenario("scenario_schema")
    code, _, err = pdsim_inprocess(monkeypatch, capsys, tmp_path, "scenario=scenario_schema", *BASE)
    assert code == 2 and "scenario = 'scenario_schema' is not a scenario preset" in err
    assert "_schema" not in err.split("choose one of")[1]
    code, out, _ = pdsim_inprocess(monkeypatch, capsys, tmp_path, "--help")
    assert code == 0 and "_schema" not in out


@pytest.mark.parametrize("run_mode", ["single", "sweep"])
def test_single_runs_and_sweeps_agree_on_an_empty_preset(monkeypatch, capsys, tmp_path, run_mode):
    confdir = tmp_path / "confs"
    (confdir / "scenario").mkdir(parents=True)
    (confdir / "scenario" / "nosites.yaml").write_text("name: nosites\ndescription: no countries\n")
    args = [f"--config-dir={confdir}", "scenario=nosites", *BASE]
    if run_mode == "sweep":
        args = ["-m", *args, "seed=1,2", "hydra.launcher.n_jobs=1", f"hydra.sweep.dir={tmp_path / 'sweep'}"]
    code, _, err = pdsim_inprocess(monkeypatch, capsys, tmp_path, *args)
    assert code == 2 and "scenario.sites is empty" in err, err
    assert not list(tmp_path.rglob("summary.json"))


# -- the command line: one message, exit 2 ------------------------------------------------------------
@pytest.mark.parametrize(
    ("args", "expected"),
    [
        (["policy.flexibilty=0.5"], "policy.flexibilty is not a parameter (did you mean policy.flexibility?)"),
        (["+policy.flexibilty=0.5"], "did you mean policy.flexibility?"),
        (["scenario=atlantis"], "scenario = 'atlantis' is not a scenario preset"),
        (["scenario=kenya_2080"], "did you mean kenya_2008?"),
        (["-m", "+experiment=lag_swep"], "experiment = 'lag_swep' is not an experiment (did you mean lag_sweep?)"),
        (["replicates=abc"], "replicates = 'abc' is not a valid integer: allowed 1 <= value"),
        (["foo=1"], "foo is not a parameter"),
        (["-m", "experiment=lag_sweep"], "add it with +experiment=NAME"),
        (["policy.flexibility=[1"], "cannot read the override"),
        (["+experiment=lag_sweep"], "add -m to run it"),
        (["replicates=10000000", "horizon_days=3650"], "of memory, but only"),
        (["scenario.name=../../../x"], "scenario.name = '../../../x' is not allowed"),
        (["-m", "hydra/sweeper=design", "hydra.sweeper.method=morris", "hydra.sweeper.morris_levels=0"],
         "morris_levels = 0 is not allowed"),
        (["-m", "hydra/sweeper=design", "hydra.sweeper.method=sobol", "hydra.sweeper.n=10"], "power of 2"),
    ],
)
def test_user_errors_exit_2_with_one_clear_message(monkeypatch, capsys, tmp_path, args, expected):
    monkeypatch.setenv("PDSIM_MEMORY_LIMIT_GB", "4")
    extra = [f"hydra.sweep.dir={tmp_path / 'sweep'}", "hydra.launcher.n_jobs=1"] if "-m" in args else []
    code, out, err = pdsim_inprocess(monkeypatch, capsys, tmp_path, *args, *extra)
    assert code == 2, (code, err)
    assert expected in err, err
    assert err.startswith("pdsim: ")
    assert "Traceback" not in err + out and "HYDRA_FULL_ERROR" not in err
    assert not list(tmp_path.rglob("row.json")) and not list(tmp_path.rglob("summary.json"))


def test_malformed_yaml_via_config_dir_is_a_user_error(monkeypatch, capsys, tmp_path):
    confdir = tmp_path / "confs"
    (confdir / "scenario").mkdir(parents=True)
    (confdir / "scenario" / "broken.yaml").write_text("name: bad\nsites: {A: {initial_tension: 1.0\n  - x: [\n")
    code, _, err = pdsim_inprocess(monkeypatch, capsys, tmp_path, f"--config-dir={confdir}", "scenario=broken")
    assert code == 2 and "not valid YAML" in err and "broken.yaml" in err and "Traceback" not in err


def test_the_typo_without_plus_exits_2_from_the_installed_command(tmp_path):
    """The same, through a real process (the console entry point, not the in-process shortcut)."""
    proc = subprocess.run([sys.executable, "-m", "sim.cli", "policy.flexibilty=0.5"], cwd=tmp_path,
                          capture_output=True, text=True, timeout=120)
    assert proc.returncode == 2
    assert proc.stderr.strip() == ("pdsim: policy.flexibilty is not a parameter (did you mean "
                                   "policy.flexibility?); pdsim --help lists the levers")


def test_unsafe_scenario_names_never_leave_outputs(monkeypatch, capsys, tmp_path):
    work = tmp_path / "a" / "b"
    work.mkdir(parents=True)
    code, _, err = pdsim_inprocess(monkeypatch, capsys, work, "scenario.name=../../../x", *BASE)
    assert code == 2 and "scenario.name" in err
    outside = [p for p in tmp_path.rglob("*") if p.is_dir() and work / "outputs" not in (p, *p.parents)
               and p not in (work, work.parent)]
    assert not outside, outside
    assert problems(configure(*BASE, "scenario.name=kenya_2008.v2")) == []


# -- memory ------------------------------------------------------------------------------------------
def test_memory_estimate_grows_with_worlds_sites_and_days_and_refuses_what_does_not_fit(monkeypatch):
    from sim.validation import memory_estimate, memory_problem

    small = memory_estimate(1000, 3, 365)
    assert memory_estimate(2000, 3, 365) > small and memory_estimate(1000, 6, 365) > small
    assert memory_estimate(1000, 3, 3650) > small
    assert 5e9 < memory_estimate(10_000_000, 3, 10) < 1e11  # the issue measured about 12 GB
    monkeypatch.setenv("PDSIM_MEMORY_LIMIT_GB", "2")
    message = memory_problem(configure("replicates=1000000", "horizon_days=365"))
    assert message and "GB of memory, but only 2.0 GB is available" in message
    assert memory_problem(configure("replicates=1000", "horizon_days=365")) is None


# -- help pages --------------------------------------------------------------------------------------
def test_help_page_shows_levers_scenarios_experiments_sweeps_and_outputs(monkeypatch, capsys, tmp_path):
    from sim.config import PolicyConfig

    code, out, err = pdsim_inprocess(monkeypatch, capsys, tmp_path, "--help")
    assert code == 0, err
    lines = out.splitlines()
    for f in fields(PolicyConfig):
        meta = dict(f.metadata)
        line = next((ln for ln in lines if f" policy.{f.name} " in ln or ln.strip().startswith(f"policy.{f.name} ")
                     or ln.strip().startswith(f"*policy.{f.name} ")), None)
        assert line, f.name
        assert meta["unit"] in line and meta["source"][:10] in line
    lag = next(ln for ln in lines if ln.strip().startswith("*policy.warning_to_action_lag_days"))
    assert "0 to 730" in lag and " 14 " in lag and "§47" in lag
    for name in scenario_names():
        assert any(ln.strip().startswith(name + " ") for ln in lines), name
    for path in (config_module.CONFIG_DIR / "experiment").glob("*.yaml"):
        assert any(ln.strip().startswith(path.stem + " ") for ln in lines), path.stem
    for text in ("pdsim -m", "hydra.sweep.dir", "outputs/", "results.parquet", "pdsim-threshold", "pdsim-merge",
                 "Exit status"):
        assert text in out, text
    assert "Powered by Hydra" not in out and "== Config ==" not in out and len(lines) < 110


def test_threshold_help_explains_every_flag():
    from sim.sweep.threshold import build_parser

    parser = build_parser()
    for action in parser._actions:
        if action.dest == "help":
            continue
        assert action.help and len(action.help) > 25, action.dest
    text = parser.format_help()
    for flag in ("--below", "--lever", "--low", "--high", "--tolerance", "--replicates", "--max-replicates",
                 "--decreasing"):
        assert flag in text


@pytest.mark.parametrize("tolerance", ["0", "-0.5", "nan"])
def test_threshold_refuses_a_tolerance_that_never_ends(tmp_path, tolerance):
    proc = subprocess.run([sys.executable, "-m", "sim.sweep.threshold", "--below", "10", "--lever",
                           "policy.flexibility", "--low", "0", "--high", "1", "--decreasing",
                           f"--tolerance={tolerance}", "--replicates", "20", "horizon_days=10"],
                          cwd=tmp_path, capture_output=True, text=True, timeout=60)
    assert proc.returncode == 2 and "--tolerance" in proc.stderr and "allowed WIDTH > 0" in proc.stderr


# -- intervals that respect the support ----------------------------------------------------------------
def test_mean_intervals_of_non_negative_quantities_never_go_negative():
    rng = np.random.default_rng(3)
    true_mean, hits = 0.02 * 5e7, 0
    for _ in range(200):  # war costs: most worlds none, a few very large
        x = np.where(rng.random(300) < 0.02, rng.exponential(5e7, 300), 0.0)
        d = mean_interval(x)
        assert d["ci_low"] >= 0 and d["ci_low"] <= d["mean"] <= d["ci_high"]
        hits += d["ci_low"] <= true_mean <= d["ci_high"]
    assert hits >= 160  # near 95 %: with about six non-zero worlds per sample any interval runs short
    normal = mean_interval(rng.normal(10, 1, 500))  # well inside the support: the usual interval
    assert normal["ci_high"] - normal["ci_low"] == pytest.approx(2 * 1.96 / math.sqrt(500), rel=0.1)


def test_a_run_summary_has_no_negative_cost_or_day_bounds():
    from sim.runner import run

    summary = run(configure("replicates=60", "horizon_days=60"), keep_models=False).summary()

    def walk(tree, path=""):
        for key, value in tree.items():
            if isinstance(value, dict):
                yield from walk(value, f"{path}{key}.")
            else:
                yield f"{path}{key}", value

    flat = dict(walk(summary))
    for key in ("costs.expected_war_cost_usd.ci_low", "costs.diplomacy_usd.ci_low", "conflict_days.ci_low",
                "war_days.ci_low"):
        if flat.get(key) is not None:
            assert flat[key] >= 0, (key, flat[key])


# -- lean job returns (the sweeping process no longer grows by a config per point) ---------------------
def test_job_returns_leave_their_configs_behind(monkeypatch):
    from hydra.core.utils import JobReturn

    from sim.sweep import job

    ret = JobReturn(cfg=OmegaConf.create({"a": 1}), hydra_cfg=OmegaConf.create({"b": 2}))
    monkeypatch.setattr(job, "in_sweep", lambda: True)
    job.LeanJobReturn().on_job_end(OmegaConf.create({}), ret)
    assert ret.cfg is None and ret.hydra_cfg is None
    text = (config_module.CONFIG_DIR / "config.yaml").read_text()
    assert "sim.sweep.job.LeanJobReturn" in text


def test_schema_dataclasses_are_walked_whole():
    """The generic checks above rely on walk_params reaching every dataclass field."""
    cfg = configure(*BASE)
    walked = {name for name, _, _ in walk_params(cfg)}

    def count(obj, prefix=""):
        for f in fields(obj):
            value = getattr(obj, f.name)
            if is_dataclass(value):
                yield from count(value, f"{prefix}{f.name}.")
            elif isinstance(value, dict) and value and all(is_dataclass(v) for v in value.values()):
                for k, v in value.items():
                    yield from count(v, f"{prefix}{f.name}.{k}.")
            else:
                yield f"{prefix}{f.name}"

    assert walked == set(count(cfg))
    assert Path(config_module.CONFIG_DIR).is_dir()
