"""The sweep layer end to end: table contents, curves, resume, kill-and-resume, bad input, experiments.

Sweeps here are tiny (tens of worlds, weeks not years) and run on the joblib launcher with one job
at a time, so the suite stays fast; the Ray launcher has its own test (test_ray_launcher.py).
"""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pandas as pd
import pytest
from hydra import initialize_config_dir
from hydra._internal.core_plugins.basic_sweeper import BasicSweeper
from hydra.core.global_hydra import GlobalHydra
from hydra.core.override_parser.overrides_parser import OverridesParser
from hydra.types import RunMode

from sim.config import CONFIG_DIR, register_configs
from sim.runner import resolve
from sim.sweep import ROW_FILE
from sim.sweep.plan import PointLoader, plan_points
from sim.sweep.progress import status
from sim.sweep.rows import config_hash, model_code_hash, read_row, write_row
from sim.sweep.table import write_table

# The grid sweep (fixture below) is run once for the module: under pytest -n, one worker runs the module.
pytestmark = pytest.mark.xdist_group("sweep")

PDSIM = [sys.executable, "-m", "sim.cli"]
register_configs()  # what importing sim.cli does for the pdsim app
EXPERIMENTS = sorted(p.stem for p in (Path(CONFIG_DIR).parent / "experiments").glob("*.yaml"))
TINY = ["replicates=30", "horizon_days=40", "hydra.launcher.n_jobs=1"]
GRID = ["+experiment=lag_sweep", "policy.warning_to_action_lag_days=0,30",
        "policy.flexibility=0.1,0.9", "policy.partnership=0.5"]


def pdsim(*args: str, cwd: Path, check: bool = True) -> subprocess.CompletedProcess:
    proc = subprocess.run([*PDSIM, "-m", *args], cwd=cwd, capture_output=True, text=True, timeout=300)
    if check and proc.returncode != 0:
        raise AssertionError(f"pdsim failed ({proc.returncode}):\n{proc.stdout}\n{proc.stderr}")
    return proc


def job_dirs(sweep: Path) -> list[Path]:
    return sorted((p for p in sweep.iterdir() if p.is_dir() and p.name.isdigit()), key=lambda p: int(p.name))


@pytest.fixture(scope="module")
def grid(tmp_path_factory):
    """A 2 x 2 grid from the lag_sweep experiment, run once for the tests that read it."""
    tmp = tmp_path_factory.mktemp("grid")
    sweep = tmp / "sweep"
    proc = pdsim(*GRID, *TINY, f"hydra.sweep.dir={sweep}", cwd=tmp)
    return sweep, proc


def test_grid_sweep_writes_one_tidy_table(grid):
    sweep, _ = grid
    df = pd.read_parquet(sweep / "results.parquet")
    csv = pd.read_csv(sweep / "results.csv")
    assert len(df) == len(csv) == 4
    assert sorted(zip(df["param.policy.warning_to_action_lag_days"], df["param.policy.flexibility"],
                      strict=True)) == [(0, 0.1), (0, 0.9), (30, 0.1), (30, 0.9)]
    # Common random numbers: every point has the same seed and the same number of worlds.
    assert set(df["seed"]) == {0} and set(df["replicates"]) == {30} and set(df["horizon_days"]) == {40}
    for col in ("escalation", "war"):
        assert (df[f"{col}.ci_low"] <= df[f"{col}.probability"]).all()
        assert (df[f"{col}.probability"] <= df[f"{col}.ci_high"]).all()
    assert (df["counterfactual.prevented.ci_low"] <= df["counterfactual.prevented.estimate"]).all()
    for col in ("config_hash", "version", "timestamp", "wall_seconds", "config", "git_commit", "overrides"):
        assert col in df, col
    assert df["config_hash"].is_unique
    assert (df["wall_seconds"] > 0).all()
    # Each row's config is the point's full configuration, and its hash is that config's.
    for _, row in df.iterrows():
        config = json.loads(row["config"])
        lag = row["param.policy.warning_to_action_lag_days"]
        assert config["policy"]["warning_to_action_lag_days"] == lag
        assert config["policy"]["flexibility"] == pytest.approx(row["param.policy.flexibility"])
        assert config["policy"]["partnership"] == 0.5
        assert config["output"]["plot"] is False  # the experiment turns per-point figures off


def test_table_matches_the_rows_the_jobs_wrote(grid):
    sweep, _ = grid
    df = pd.read_parquet(sweep / "results.parquet")
    dirs = {r["config_hash"]: d for d in job_dirs(sweep) if (r := read_row(d / ROW_FILE))}
    assert set(dirs) == set(df["config_hash"])
    for _, row in df.iterrows():
        summary = json.loads((dirs[row["config_hash"]] / "summary.json").read_text())
        assert row["escalation.probability"] == pytest.approx(summary["escalation"]["probability"])
        assert row["escalation.count"] == summary["escalation"]["count"]


def test_row_hash_is_the_hash_the_job_resolves(grid):
    """The planner's fast composition and the job's resolve() must agree, or resume would miss points."""
    sweep, _ = grid
    df = pd.read_parquet(sweep / "results.parquet")
    plan = json.loads((sweep / "sweep.json").read_text())
    assert {p["config_hash"] for p in plan["points"]} == set(df["config_hash"])
    for _, row in df.iterrows():
        assert config_hash(resolve(json.loads(row["config"]))) == row["config_hash"]


def test_curves_are_drawn_and_progress_is_shown(grid):
    sweep, proc = grid
    png = sweep / "curves.png"
    assert png.exists() and png.stat().st_size > 10_000
    assert png.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    assert "4/4 points done" in proc.stderr
    assert "0 already done, 4 to simulate" in proc.stderr


def test_rerun_into_the_same_directory_simulates_nothing(grid, tmp_path):
    sweep, _ = grid
    before = pd.read_parquet(sweep / "results.parquet")
    dirs = job_dirs(sweep)
    proc = pdsim(*GRID, *TINY, f"hydra.sweep.dir={sweep}", cwd=tmp_path)
    assert "4 already done, 0 to simulate" in proc.stderr
    assert job_dirs(sweep) == dirs  # no job was launched
    after = pd.read_parquet(sweep / "results.parquet")
    pd.testing.assert_frame_equal(before, after)


def test_extended_sweep_runs_only_the_new_points(tmp_path):
    sweep = tmp_path / "sweep"
    pdsim("policy.flexibility=0.2,0.8", *TINY, f"hydra.sweep.dir={sweep}", cwd=tmp_path)
    first = pd.read_parquet(sweep / "results.parquet")
    proc = pdsim("policy.flexibility=0.2,0.5,0.8", *TINY, f"hydra.sweep.dir={sweep}", cwd=tmp_path)
    assert "2 already done, 1 to simulate" in proc.stderr
    assert [d.name for d in job_dirs(sweep)] == ["0", "1", "2"]  # the new point got a fresh directory
    df = pd.read_parquet(sweep / "results.parquet")
    assert df["param.policy.flexibility"].tolist() == [0.2, 0.5, 0.8]  # in the order the sweep declares
    old = df[df["config_hash"].isin(first["config_hash"])]
    assert old["timestamp"].tolist() == first["timestamp"].tolist()  # the old rows were kept, not redone


def test_rows_from_other_model_code_are_simulated_again(tmp_path):
    """A row counts as done only if the model source that wrote it is the one about to run."""
    sweep = tmp_path / "sweep"
    pdsim("policy.flexibility=0.2,0.8", *TINY, f"hydra.sweep.dir={sweep}", cwd=tmp_path)
    stale = sweep / "0" / ROW_FILE
    row = json.loads(stale.read_text())
    assert row["code_hash"] == model_code_hash()
    stale.write_text(json.dumps(row | {"code_hash": "an older model", "timestamp": "2000-01-01T00:00:00+00:00"}))
    proc = pdsim("policy.flexibility=0.2,0.8", *TINY, f"hydra.sweep.dir={sweep}", cwd=tmp_path)
    assert "1 already done, 1 to simulate" in proc.stderr
    df = pd.read_parquet(sweep / "results.parquet")
    assert len(df) == 2 and set(df["code_hash"]) == {model_code_hash()}  # the newer row wins


def test_kill_9_midway_loses_no_finished_point(tmp_path):
    sweep = tmp_path / "sweep"
    # Points long enough (about a second each) that Ctrl-C always lands before the last one is done.
    args = [*PDSIM, "-m", "policy.warning_to_action_lag_days=0,5,10,15,20,25", "replicates=3000",
            "horizon_days=365", "output.plot=false", "hydra.launcher.n_jobs=1", f"hydra.sweep.dir={sweep}"]
    proc = subprocess.Popen(args, cwd=tmp_path, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
                            start_new_session=True)
    deadline = time.time() + 120
    while time.time() < deadline and len(list(sweep.glob(f"*/{ROW_FILE}"))) < 2:
        time.sleep(0.05)
    os.killpg(proc.pid, signal.SIGKILL)  # kill -9, the whole sweep
    proc.wait()
    finished = {read_row(p)["config_hash"]: p for p in sweep.glob(f"*/{ROW_FILE}")}
    assert 2 <= len(finished) < 6, "the kill came too late to test anything"
    stamps = {h: read_row(p)["timestamp"] for h, p in finished.items()}
    # A half-written row from a crash can only be a temporary file; the merge must ignore it.
    (sweep / "0" / f".{ROW_FILE}.999.tmp").write_text('{"config_hash": "trunc')

    rerun = pdsim(*args[3:], cwd=tmp_path)
    assert f"{len(finished)} already done, {6 - len(finished)} to simulate" in rerun.stderr
    df = pd.read_parquet(sweep / "results.parquet")
    assert sorted(df["param.policy.warning_to_action_lag_days"]) == [0, 5, 10, 15, 20, 25]
    assert df["config_hash"].is_unique and df["escalation.probability"].notna().all()
    for h, stamp in stamps.items():  # the points finished before the kill were not simulated again
        assert df.loc[df["config_hash"] == h, "timestamp"].item() == stamp


def test_ctrl_c_keeps_the_finished_points_in_the_table(tmp_path):
    sweep = tmp_path / "sweep"
    # Points long enough (about a second each) that Ctrl-C always lands before the last one is done.
    args = [*PDSIM, "-m", "policy.warning_to_action_lag_days=0,5,10,15,20,25", "replicates=3000",
            "horizon_days=365", "output.plot=false", "hydra.launcher.n_jobs=1", f"hydra.sweep.dir={sweep}"]
    # A shell that starts a job in the background (as CI may) makes it ignore SIGINT, and the children inherit
    # that; a terminal's Ctrl-C reaches a foreground job, so restore the default as a terminal would have it.
    proc = subprocess.Popen(args, cwd=tmp_path, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True,
                            start_new_session=True, preexec_fn=lambda: signal.signal(signal.SIGINT, signal.SIG_DFL))
    deadline = time.time() + 120
    while time.time() < deadline and len(list(sweep.glob(f"*/{ROW_FILE}"))) < 2:
        time.sleep(0.05)
    os.killpg(proc.pid, signal.SIGINT)  # what Ctrl-C sends to the terminal's process group
    _, err = proc.communicate(timeout=120)
    assert proc.returncode == 130, err[-2000:]
    assert "interrupted; run the same command" in err and "Traceback" not in err
    rows = list(sweep.glob(f"*/{ROW_FILE}"))
    assert 2 <= len(rows) < 6
    df = pd.read_parquet(sweep / "results.parquet")
    assert sorted(df["config_hash"]) == sorted(read_row(p)["config_hash"] for p in rows)


def test_rows_are_written_atomically(tmp_path):
    row = {"config_hash": "abc", "escalation.probability": float("nan"), "version": "0"}
    path = write_row(row, tmp_path)
    assert json.loads(path.read_text())["escalation.probability"] is None  # NaN is not valid JSON
    assert [p.name for p in tmp_path.iterdir()] == [ROW_FILE]  # no temporary file left behind
    path.write_text('{"config_hash": "abc", "escal')  # what a non-atomic writer killed midway leaves
    assert read_row(path) is None
    df, files = write_table(tmp_path)
    assert df.empty and files == []


def test_progress_status_estimates_time_left():
    assert status(0, 10, 5.0) == "0/10 points done, 5 s elapsed"
    assert status(5, 10, 50.0) == "5/10 points done, 50 s elapsed, about 50 s left"
    assert status(2, 4, 90.0, already=6) == (
        "8/10 points done (6 from before), 1 min 30 s elapsed, about 1 min 30 s left"
    )


@pytest.mark.parametrize(
    ("overrides", "expected"),
    [
        (["+policy.flexibilty=0.5"], ["policy.flexibilty", "did you mean policy.flexibility"]),
        (["policy.flexibilty=0.2,0.5"], ["point 0", "policy.flexibilty", "did you mean policy.flexibility"]),
        (["policy.flexibility=0.5,1.5"], ["point 1 (policy.flexibility=1.5)", "policy.flexibility = 1.5",
                                          "allowed 0.0 <= value <= 1.0"]),
        (["policy.warning_to_action_lag_days=7,-3"], ["point 1", "policy.warning_to_action_lag_days = -3",
                                                      "allowed 0 <= value <= 730"]),
        (["policy.tool=envoy,bazooka"], ["point 1 (policy.tool=bazooka)", "choose one of statement"]),
        (["+experiment=flexibility_vs_local_preference", "scenario=kenya_2008"],
         ["scenario.sites.A does not exist", "scenario.sites has Kenya, Uganda, Tanzania"]),
    ],
)
def test_bad_input_is_reported_before_any_job_starts(tmp_path, overrides, expected):
    sweep = tmp_path / "sweep"
    proc = pdsim(*overrides, *TINY, f"hydra.sweep.dir={sweep}", cwd=tmp_path, check=False)
    assert proc.returncode == 2, proc.stderr
    assert "no job was started" in proc.stderr
    for text in expected:
        assert text in proc.stderr
    assert "Traceback" not in proc.stderr + proc.stdout
    assert not sweep.exists() or not job_dirs(sweep)


def test_unknown_experiment_names_the_choices(tmp_path):
    sweep = f"hydra.sweep.dir={tmp_path / 's'}"
    proc = pdsim("+experiment=lag_swep", *TINY, sweep, cwd=tmp_path, check=False)
    assert proc.returncode == 2  # a user error, whether Hydra or pdsim finds it
    assert "experiment = 'lag_swep'" in proc.stderr and "did you mean lag_sweep?" in proc.stderr
    assert "Traceback" not in proc.stderr
    assert not (tmp_path / "s").exists()


@pytest.fixture(scope="module")
def hydra_loader():
    GlobalHydra.instance().clear()
    with initialize_config_dir(str(CONFIG_DIR), version_base="1.3"):
        yield GlobalHydra.instance().config_loader()
    GlobalHydra.instance().clear()


def experiment_points(loader, name: str):
    master = loader.load_configuration("config", [f"+experiment={name}"], run_mode=RunMode.MULTIRUN)
    params = [f"{k}={v}" for k, v in master.hydra.sweeper.params.items()]
    overrides = OverridesParser.create(config_loader=loader).parse_overrides(params + [f"+experiment={name}"])
    batch = BasicSweeper.split_arguments(overrides, None)[0]
    swept = [o.key_or_group for o in overrides if o.is_sweep_override()]
    return master, plan_points(PointLoader(loader, master), batch, swept), swept


def test_planning_checks_keys_once_per_structure_and_still_finds_a_typo(hydra_loader, monkeypatch):
    """Unknown keys are looked for once per structural base (a value override adds no key), and a point whose own
    overrides add a key is still checked and named."""
    import sim.validation
    from sim.sweep.plan import SweepInputError

    checked = []
    real = sim.validation.unknown_keys
    def counted(cfg, *inner):  # the top-level calls (it recurses into nested sections)
        checked.extend([] if inner else [1])
        return real(cfg, *inner)

    monkeypatch.setattr(sim.validation, "unknown_keys", counted)
    master = hydra_loader.load_configuration("config", [], run_mode=RunMode.MULTIRUN)
    values = [[f"policy.flexibility={f / 10}"] for f in range(6)]
    assert len(plan_points(PointLoader(hydra_loader, master), values, ["policy.flexibility"])) == 6
    # (The loader composes its first point from scratch, having no base yet to tell a value from a structure.)
    assert len(checked) <= 2
    checked.clear()
    with pytest.raises(SweepInputError) as err:
        plan_points(PointLoader(hydra_loader, master), [*values, ["+policy.flexibilty=0.5"]], ["policy.flexibility"])
    assert len(checked) <= 3
    assert "point 6" in str(err.value) and "did you mean policy.flexibility" in str(err.value)
    assert "point 0" not in str(err.value)


def test_the_six_experiments_exist():
    assert set(EXPERIMENTS) >= {"lag_sweep", "early_small_vs_late_large", "flexibility_vs_local_preference",
                                "partnership_coordination", "sustainability", "roster_size"}


@pytest.mark.parametrize("name", EXPERIMENTS)
def test_every_experiment_composes_validates_and_says_its_question(hydra_loader, name):
    text = (Path(CONFIG_DIR).parent / "experiments" / f"{name}.yaml").read_text()
    assert text.startswith("# @package _global_")
    assert "Question:" in text and "§" in text
    master, points, swept = experiment_points(hydra_loader, name)
    assert len(swept) >= 2 and len(points) >= 6
    assert len({p.config_hash for p in points}) == len(points)  # every point is a different config
    assert master.hydra.sweeper.curve_x in swept
    # A world experiment's unit is a country in a world: 16 worlds of 153 countries are 2,448 crises' histories.
    countries = 153 if master.scenario.world.countries else 1
    assert master.replicates * countries >= 1000 and master.output.plot is False


def test_lag_sweep_is_the_showcase_size(hydra_loader):
    master, points, swept = experiment_points(hydra_loader, "lag_sweep")
    assert swept[0] == "policy.warning_to_action_lag_days"
    levels = {k: {p.values[k] for p in points} for k in swept}
    assert len(levels["policy.warning_to_action_lag_days"]) >= 8
    assert len(levels["policy.flexibility"]) == len(levels["policy.partnership"]) == 3
    assert master.replicates == 1000 and master.horizon_days == 365 and master.counterfactual.enabled


def launcher_config(loader, *overrides: str):
    return loader.load_configuration("config", list(overrides), run_mode=RunMode.MULTIRUN).hydra.launcher


def test_default_launcher_is_joblib_on_all_cores(hydra_loader):
    launcher = launcher_config(hydra_loader)
    assert launcher._target_.endswith("JoblibLauncher") and launcher.n_jobs == -1


def test_the_workers_are_forked_from_the_server_pdsim_started_early(hydra_loader):
    """The server ``pdsim`` starts before it imports Hydra (sim.sweep.server.start_early) is the one the sweeper
    keeps when joblib's thread limits agree, and the workers are its forks: forked from a process that imported
    the model (not from this one), asked for by this process, with joblib's thread limits. A server started with
    other limits is replaced, not used."""
    from multiprocessing import forkserver
    from types import SimpleNamespace

    from hydra_plugins.hydra_joblib_launcher._core import process_joblib_cfg
    from joblib import Parallel, cpu_count, delayed
    from omegaconf import OmegaConf

    from hydra_plugins.pdsim_sweepers._launch import start_worker_server, stop_local_workers
    from sim.sweep import WORKER_ENV, server

    settings = {k: v for k, v in OmegaConf.to_container(launcher_config(hydra_loader)).items() if k != "_target_"}
    settings["n_jobs"] = 2
    saved = os.environ.pop(WORKER_ENV, None)  # an earlier sweep in this process set it
    try:
        server._kill()  # whatever an earlier test left: this test starts its own
        server.start_early(["pdsim", "-m", "+experiment=lag_sweep", "hydra.launcher.n_jobs=2"])
        early = forkserver._forkserver._forkserver_pid
        assert early is not None
        assert start_worker_server(SimpleNamespace(joblib=settings))
        assert forkserver._forkserver._forkserver_pid == early  # kept, not started again
        launch = dict(settings, backend="loky")  # what Hydra's joblib launcher hands joblib.Parallel
        process_joblib_cfg(launch)
        seen = Parallel(**launch)(delayed(_worker_lineage)() for _ in range(2))
        for ppid, asked_by, threads in seen:
            assert ppid == early and asked_by == os.getpid()
            assert threads == os.environ.get("OPENBLAS_NUM_THREADS", str(max(cpu_count() // 2, 1)))
        stop_local_workers()
        # Other limits (a wrong early guess): the sweeper's server is a new one, and the early one is gone.
        server.start(dict(server._started_with, OMP_NUM_THREADS="7"))
        assert forkserver._forkserver._forkserver_pid not in (None, early)
        assert not Path(f"/proc/{early}").exists()
    finally:
        stop_local_workers()
        server._kill()
        if saved is not None:
            os.environ[WORKER_ENV] = saved


def _worker_lineage() -> tuple[int, int | None, str | None]:
    import multiprocessing

    parent = multiprocessing.parent_process()
    return os.getppid(), parent and parent.pid, os.environ.get("OPENBLAS_NUM_THREADS")


@pytest.mark.parametrize(("args", "workers"), [
    (["-m", "+experiment=lag_sweep"], None),  # the defaults: joblib with n_jobs=-1, a worker per core
    (["--multirun", "+experiment=lag_sweep", "hydra.launcher.n_jobs=3"], 3),
    (["-m", "+experiment=lag_sweep", "++hydra.launcher.n_jobs=1"], 1),
    (["-m", "hydra/sweeper=design", "hydra/launcher=joblib", "hydra.launcher.n_jobs=-2"], "cores-1"),
    (["+experiment=lag_sweep"], 0),  # not a sweep (pdsim refuses it)
    (["-m", "+experiment=lag_sweep", "hydra/launcher=basic"], 0),
    (["-m", "+experiment=lag_sweep", "hydra/launcher=ray_cluster"], 0),
    (["-m", "+experiment=lag_sweep", "hydra/sweeper=basic"], 0),  # Hydra's sweeper: no fork server
    (["-m", "+experiment=lag_sweep", "hydra.launcher.n_jobs=1,2"], 0),  # a list: the sweeper will tell
    (["-m", "+experiment=lag_sweep", "--cfg", "job"], 0),  # prints the config, runs nothing
    (["-m", "--config-dir", "/elsewhere", "+experiment=mine"], 0),  # configs the command line cannot see
])
def test_the_workers_a_command_line_asks_for(args, workers):
    from sim.sweep.server import planned_workers

    cores = os.cpu_count() or 1
    expected = {None: cores, "cores-1": cores - 1}.get(workers, workers)
    assert planned_workers(args) == expected


@pytest.mark.parametrize("workers", [1, 2, 3, 8])
def test_the_early_thread_limits_are_joblibs(workers, monkeypatch):
    """The server started before joblib is imported gets joblib's thread limits (else the sweeper starts another,
    and the head start is lost): the guess follows joblib's rule, including limits the user already set."""
    from joblib._parallel_backends import LokyBackend

    from sim.sweep.server import guess_thread_limits

    assert guess_thread_limits(workers) == LokyBackend()._prepare_worker_env(n_jobs=workers)
    monkeypatch.setenv("OMP_NUM_THREADS", "3")
    monkeypatch.setenv("ENABLE_IPC", "0")
    assert guess_thread_limits(workers) == LokyBackend()._prepare_worker_env(n_jobs=workers)


@pytest.mark.skipif(not Path("/proc/self").exists(), reason="reads /proc (Linux)")
def test_a_server_no_sweep_used_is_killed_at_exit():
    """A command that started the server early and ends before any launch (a refused sweep, Ctrl-C while it plans)
    kills it on the way out: left alone it would go on importing for about a second, holding the command's output
    open. The server's pid must be gone (killed and reaped) the moment the command has exited."""
    script = ("import os, sys; from multiprocessing import forkserver; from sim.sweep import server; "
              "server.start_early(['pdsim', '-m', 'hydra.launcher.n_jobs=2']); "
              "print(forkserver._forkserver._forkserver_pid, flush=True); sys.exit(2)")
    env = {k: v for k, v in os.environ.items() if k != "PDSIM_WORKER_ENV"}
    done = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, env=env, timeout=120)
    assert done.returncode == 2, done.stderr
    pid = int(done.stdout.split()[0])
    assert not Path(f"/proc/{pid}").exists()


def test_slurm_preset_composes_with_one_core_per_point(hydra_loader, monkeypatch):
    pytest.importorskip("hydra_plugins.hydra_submitit_launcher")
    monkeypatch.setenv("PDSIM_SLURM_PARTITION", "short")
    launcher = launcher_config(hydra_loader, "hydra/launcher=slurm", "hydra.launcher.account=proj")
    assert launcher._target_.endswith("submitit_launcher.SlurmLauncher")
    assert launcher.cpus_per_task == 1 and launcher.partition == "short" and launcher.account == "proj"
    assert launcher_config(hydra_loader, "hydra/launcher=submitit_slurm")._target_.endswith("SlurmLauncher")


def test_ray_cluster_preset_takes_its_address_from_the_environment(hydra_loader, monkeypatch):
    pytest.importorskip("hydra_plugins.hydra_ray_launcher")
    monkeypatch.setenv("RAY_ADDRESS", "ray://head:10001")
    launcher = launcher_config(hydra_loader, "hydra/launcher=ray_cluster")
    assert launcher.ray.init.address == "ray://head:10001" and launcher.ray.remote.num_cpus == 1
    monkeypatch.delenv("RAY_ADDRESS")
    assert launcher_config(hydra_loader, "hydra/launcher=ray_cluster").ray.init.address == "auto"
    assert launcher_config(hydra_loader, "hydra/launcher=ray").ray.init.address is None  # local instance


def test_submitit_launcher_runs_a_sweep_locally(tmp_path):
    """The submitit code path (the one Slurm uses), with submitit's local executor."""
    pytest.importorskip("hydra_plugins.hydra_submitit_launcher")
    sweep = tmp_path / "sweep"
    pdsim("hydra/launcher=submitit_local", "policy.flexibility=0.2,0.8", "replicates=20", "horizon_days=20",
          "output.plot=false", f"hydra.sweep.dir={sweep}", cwd=tmp_path)
    df = pd.read_parquet(sweep / "results.parquet")
    assert sorted(df["param.policy.flexibility"]) == [0.2, 0.8]


@pytest.mark.parametrize("name", ["lag_sweep", "roster_size", "flexibility_vs_local_preference"])
def test_fast_composition_equals_hydras_own(hydra_loader, name):
    """Jobs compose through FastSweepConfigLoader; every point must be exactly what Hydra composes."""
    import pickle

    from omegaconf import OmegaConf

    from sim.sweep.compose import FastSweepConfigLoader

    master = hydra_loader.load_configuration("config", [f"+experiment={name}", "replicates=50"],
                                             run_mode=RunMode.MULTIRUN)
    params = [f"{k}={v}" for k, v in master.hydra.sweeper.params.items()]
    parsed = OverridesParser.create(config_loader=hydra_loader).parse_overrides(
        params + [f"+experiment={name}", "replicates=50", "seed=3"])
    batch = BasicSweeper.split_arguments(parsed, None)[0]
    fast = FastSweepConfigLoader.wrap(hydra_loader)
    for overrides in batch[:3] + batch[-3:]:
        ours = fast.load_sweep_config(master, overrides)
        hydras = hydra_loader.load_sweep_config(master, overrides)
        assert OmegaConf.to_container(ours) == OmegaConf.to_container(hydras), overrides
        assert OmegaConf.to_yaml(ours) == OmegaConf.to_yaml(hydras)
        task = OmegaConf.to_container(hydras)
        del task["hydra"]
        assert OmegaConf.to_container(fast.load_task_config(master, overrides)) == task  # what planning sees
        job, job_task = fast.load_job_configs(master, overrides)  # what a stack's later jobs get (sim.sweep.batch)
        assert OmegaConf.to_yaml(job) == OmegaConf.to_yaml(hydras) and OmegaConf.to_container(job_task) == task
    assert 1 <= len(fast._bases) <= 3  # composed once per config-group combination, not per point
    shipped = pickle.loads(pickle.dumps(fast))  # what a launcher sends to its workers
    assert shipped._bases.keys() == fast._bases.keys()
    ours = shipped.load_sweep_config(master, batch[1])
    assert OmegaConf.to_container(ours) == OmegaConf.to_container(hydra_loader.load_sweep_config(master, batch[1]))


def test_only_the_pdsim_command_starts_the_server_early():
    """``pytest -m slow`` imports pdsim's CLI with a ``-m`` in its command line: no server for it."""
    import sim
    from sim.sweep.server import is_pdsim

    package = Path(sim.__file__).parent
    assert is_pdsim("/home/me/.venv/bin/pdsim") and is_pdsim(str(package / "cli.py"))
    assert is_pdsim(str(package / "__main__.py"))
    assert not is_pdsim("/home/me/.venv/bin/pytest") and not is_pdsim(str(Path(pytest.__file__).parent / "__main__.py"))
    assert not is_pdsim("-c")
