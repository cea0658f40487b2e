"""Issue 7, sweep half: one sweep per directory, SIGTERM like Ctrl-C, no orphaned worker, a table of one
model version with every row checked, a clear error for a sweep directory that cannot be written.

Real processes, each wait bounded: a sweep on the joblib launcher with two workers, signals sent to the
sweeping process only (what `timeout` and `kill PID` do)."""

from __future__ import annotations

import contextlib
import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pandas as pd
import pytest

from sim import __version__
from sim.sweep import ROW_FILE
from sim.sweep.plan import existing_rows
from sim.sweep.rows import make_row, model_code_hash, read_row, write_row
from sim.sweep.table import main as merge_main
from sim.sweep.table import write_table

LAGS = "policy.warning_to_action_lag_days=range(0,200,10)"  # 20 points: the sweep is stopped long before the end
POINT = ["replicates=3000", "horizon_days=365", "output.plot=false"]  # 1-3 s a point: 20 outlast the test


def sweep_command(sweep: Path, *extra: str) -> list[str]:
    # Unstacked (sim.sweep.stack): one point at a time, so the sweep is still running when it is stopped.
    return [sys.executable, "-m", "sim.cli", "-m", LAGS, *POINT, "hydra.launcher.n_jobs=2",
            "hydra.sweeper.stack=false", f"hydra.sweep.dir={sweep}", *extra]


def rows_in(sweep: Path) -> list[Path]:
    return list(sweep.glob(f"*/{ROW_FILE}"))


def wait_for(condition, timeout: float, what: str) -> None:
    deadline = time.time() + timeout
    while time.time() < deadline:
        if condition():
            return
        time.sleep(0.05)
    raise AssertionError(f"timed out after {timeout:.0f} s waiting for {what}")


def processes() -> dict[int, tuple[int, str]]:
    """Every process: pid -> (parent pid, command line)."""
    found = {}
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            stat = (entry / "stat").read_text()
            cmd = (entry / "cmdline").read_bytes().replace(b"\0", b" ").decode()
        except OSError:
            continue
        found[int(entry.name)] = (int(stat.rsplit(")", 1)[1].split()[1]), cmd)
    return found


def fork_servers_of(pid: int) -> list[int]:
    """The fork server the sweeping process ``pid`` forks its workers from (hydra_plugins/pdsim_sweepers/
    _launch.py, start_worker_server; sim/sweep/server.py)."""
    return [p for p, (ppid, cmd) in processes().items() if ppid == pid and "multiprocessing.forkserver" in cmd]


def workers_of(pid: int) -> list[int]:
    """joblib (loky) worker processes of the sweeping process ``pid``: children of its fork server (which carry
    the server's command line), or its own children where loky starts them."""
    servers = set(fork_servers_of(pid))
    return [p for p, (ppid, cmd) in processes().items()
            if ppid in servers or (ppid == pid and "loky" in cmd and "resource_tracker" not in cmd)]


def alive(pid: int) -> bool:
    try:
        state = (Path("/proc") / str(pid) / "stat").read_text().rsplit(")", 1)[1].split()[0]
    except OSError:
        return False
    return state != "Z"


def stop(proc: subprocess.Popen) -> None:
    if proc.poll() is None:
        os.killpg(proc.pid, signal.SIGKILL)
        proc.wait(timeout=30)


@pytest.mark.skipif(not Path("/proc/self/stat").exists(), reason="needs /proc (Linux)")
def test_lock_sigterm_and_readonly_directory(tmp_path):
    sweep = tmp_path / "sweep"
    first = subprocess.Popen(sweep_command(sweep), cwd=tmp_path, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE,
                             text=True, start_new_session=True)
    try:
        wait_for(lambda: len(rows_in(sweep)) >= 1, 120, "the first finished point")
        workers = workers_of(first.pid)
        assert workers, "the sweep runs its points in worker processes"

        # 1. A second sweep into the same directory refuses, starts no job and leaves the first one's rows alone.
        second = subprocess.run(sweep_command(sweep), cwd=tmp_path, capture_output=True, text=True, timeout=120)
        assert second.returncode == 2, second.stderr[-2000:]
        assert "another sweep is running into" in second.stderr and "Traceback" not in second.stderr
        assert first.poll() is None, "the check must happen while the first sweep still runs"

        # 2. SIGTERM to the sweeping process only (timeout, Slurm, kill): workers stopped, finished points merged.
        os.kill(first.pid, signal.SIGTERM)
        _, err = first.communicate(timeout=90)
    finally:
        stop(first)
    assert first.returncode == 143, err[-2000:]
    assert "terminated (SIGTERM); run the same command" in err and "Traceback" not in err
    wait_for(lambda: not any(alive(w) for w in workers), 15, "the workers to exit")
    rows = rows_in(sweep)
    table = pd.read_parquet(sweep / "results.parquet")
    assert 1 <= len(rows) < 20 and sorted(table["config_hash"]) == sorted(read_row(p)["config_hash"] for p in rows)
    plan = json.loads((sweep / "sweep.json").read_text())
    assert len(plan["points"]) == 20  # the second sweep did not overwrite the first one's plan

    # 3. A sweep directory that cannot be written (even with nothing new to do for some points): one clear
    #    message, exit 2, no traceback. (chattr +i: read-only even for root, who ignores chmod.)
    if subprocess.run(["chattr", "+i", str(sweep)], capture_output=True).returncode == 0:
        try:
            ro = subprocess.run(sweep_command(sweep), cwd=tmp_path, capture_output=True, text=True, timeout=120)
        finally:
            subprocess.run(["chattr", "-i", str(sweep)], check=True)
        assert ro.returncode == 2, ro.stderr[-2000:]
        assert f"cannot write to the sweep directory {sweep}" in ro.stderr and "Traceback" not in ro.stderr



@pytest.mark.skipif(not Path("/proc/self/stat").exists(), reason="needs /proc (Linux)")
def test_workers_exit_when_the_sweeping_process_is_killed(tmp_path):
    sweep = tmp_path / "sweep"
    proc = subprocess.Popen(sweep_command(sweep), cwd=tmp_path, stdout=subprocess.DEVNULL,
                            stderr=subprocess.DEVNULL, start_new_session=True)
    try:
        # Workers running their first points (Hydra creates a job's directory when the job starts).
        wait_for(lambda: (sweep / "1").is_dir() and len(workers_of(proc.pid)) == 2, 120, "two running jobs")
        workers, servers = workers_of(proc.pid), fork_servers_of(proc.pid)
        os.kill(proc.pid, signal.SIGKILL)  # the sweeping process alone: its workers are orphaned
        proc.wait(timeout=30)
        # At once once a worker runs pdsim code; a worker still starting when orphaned exits as soon as it
        # gets there (seconds on a loaded machine). The fork server ends when no worker is left.
        wait_for(lambda: not any(alive(w) for w in workers), 30, "the orphaned workers to exit")
        wait_for(lambda: not any(alive(s) for s in servers), 30, "the fork server to exit")
    finally:
        with contextlib.suppress(ProcessLookupError):
            os.killpg(proc.pid, signal.SIGKILL)  # clean up whatever is left, even if the test failed
    settled = len(rows_in(sweep))
    time.sleep(1.0)
    assert len(rows_in(sweep)) == settled, "nothing keeps writing after the sweep is gone"


# -- merge: one code version, every row checked (in-process) -----------------------------------------
@pytest.fixture(scope="module")
def real_row():
    from sim.runner import configure, run

    result = run(configure("replicates=20", "horizon_days=10", "output.plot=false"), keep_models=False)
    return make_row(result.summary(), result.config, params={"seed": 0}, job=0, overrides=["seed=0"],
                    wall_seconds=0.1)


def test_merge_keeps_one_code_version_and_leaves_out_invalid_rows(tmp_path, real_row, capsys):
    from sim.sweep.plan import INVALID_ROW_FILE
    from sim.sweep.rows import check_row

    code = model_code_hash()
    assert check_row(real_row) == []
    rows = {
        "0": real_row,
        "1": real_row | {"config_hash": "0123456789abcdef", "code_hash": "an-older-model",
                         "timestamp": "2030-01-01T00:00:00+00:00"},  # newer, but other code
        "2": real_row | {"config_hash": "fedcba9876543210", "escalation.count": -3},
        "3": {k: real_row[k] for k in ("config_hash", "version", "code_hash", "timestamp")} | {
            "config_hash": "aaaaaaaaaaaaaaaa"},  # a skeleton
    }
    for job, row in rows.items():
        (tmp_path / job).mkdir()
        write_row(row, tmp_path / job)
    (tmp_path / "4").mkdir()
    (tmp_path / "4" / ROW_FILE).write_text('{"config_hash": "trunc')

    notes: list[str] = []
    df, _ = write_table(tmp_path, (__version__, code), warn=notes.append)
    assert df["config_hash"].tolist() == [real_row["config_hash"]] and set(df["code_hash"]) == {code}
    assert pd.api.types.is_integer_dtype(df["escalation.count"])
    text = "\n".join(notes)
    assert "1 rows come from other model code" in text and "an-older-model" in text
    assert "3 row files are unreadable or invalid" in text
    assert "2/row.json (escalation.count = -3" in text and "3/row.json" in text and "4/row.json" in text

    # pdsim-merge says the same; with only other code's rows it keeps the newest code and says so.
    assert merge_main([str(tmp_path), "--no-plot"]) == 0
    err = capsys.readouterr().err
    assert "other model code" in err and "unreadable or invalid" in err

    # Resume: invalid rows do not count as done, and are set aside so later merges do not report them again.
    done = existing_rows(tmp_path, __version__, code, warn=notes.append)
    assert set(done) == {real_row["config_hash"]}
    assert not (tmp_path / "2" / ROW_FILE).exists() and (tmp_path / "2" / INVALID_ROW_FILE).exists()
