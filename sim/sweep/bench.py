"""The sweep benchmark: the default lag_sweep on the joblib launcher, with two workers and with one.

    python -m sim.sweep.bench                # the full showcase: 72 points x 1,000 worlds x 365 days
    python -m sim.sweep.bench --quick        # a smoke run: 200 worlds per point
    python -m sim.sweep.bench --repeat 3     # three interleaved runs each; the figures are their medians

It prints, for each run: the wall time of the whole ``pdsim -m +experiment=lag_sweep`` command
(Python start-up, Hydra, planning, jobs, merge and curves included), the CPU time of the command and
its worker processes (on Linux the benchmark adopts the sweep's fork server, whose children the
workers are, so that their CPU time counts), the load average before it and the cores the rest of the
machine used meanwhile (other work on a shared machine caps what two workers can gain). Then, over the
runs (medians when repeated): the speed-up of two workers over one, both as the ratio of the median
walls and as the median of each repeat's own ratio (the two runs of a repeat are neighbours in time, so
they saw similar load); the overhead per point (Hydra's job, or sim.sweep.batch's for a stack's later
points), measured on the one-worker run as the mean gap between one job's end and the next one's start
(the fixed start-up and merge costs are printed separately); and, after each repeat, one plain run of
as many worlds as the sweep simulates (its points' worlds, with the twin), the yardstick of issue 11.
The targets (issues 3 and 11) on a 2-core machine: two workers <= 60 s, speed-up >= 1.6, overhead
<= 0.2 s per point, one worker <= 1.5x the single run. A command, not a timed test: timings depend on
the machine and its load.
"""

from __future__ import annotations

import argparse
import os
import resource
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np
import pandas as pd

TARGET_WALL, TARGET_SPEEDUP, TARGET_OVERHEAD, TARGET_SINGLE = 60.0, 1.6, 0.2, 1.5


def adopt_orphans() -> bool:
    """Make this process a child subreaper (Linux): a process the command leaves behind is re-parented here, not
    to init, so that waiting for it adds its CPU time to ours. The workers of a sweep are children of its fork
    server (hydra_plugins/pdsim_sweepers/_launch.py), which ends a moment after the command; without this their
    CPU time would be missing from the command's. Returns whether it worked."""
    try:
        import ctypes

        return ctypes.CDLL(None, use_errno=True).prctl(36, 1, 0, 0, 0) == 0  # PR_SET_CHILD_SUBREAPER
    except (OSError, AttributeError):
        return False


def reap_orphans() -> None:
    """Wait for every process the command left behind (its fork server; see adopt_orphans)."""
    while True:
        try:
            os.waitpid(-1, 0)
        except ChildProcessError:
            return


def busy_seconds() -> float | None:
    """CPU seconds the whole machine has spent busy since boot (/proc/stat), or None where unknown."""
    try:
        fields = [int(x) for x in Path("/proc/stat").read_text().split("\n", 1)[0].split()[1:]]
    except (OSError, ValueError):
        return None
    return (sum(fields[:8]) - fields[3] - fields[4]) / os.sysconf("SC_CLK_TCK")  # minus idle and iowait


def run_sweep(sweep_dir: Path, workers: int, extra: list[str]) -> tuple[float, float, float | None, pd.DataFrame]:
    """Wall time and CPU time (the command and its workers) of one whole sweep command, the cores the rest of
    the machine used meanwhile (None where unknown), and its table."""
    cmd = [sys.executable, "-m", "sim.cli", "-m", "+experiment=lag_sweep", f"hydra.launcher.n_jobs={workers}",
           f"hydra.sweep.dir={sweep_dir}", *extra]
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    busy = busy_seconds()
    wall = timed(cmd, sweep_dir.parent, "sweep")
    busy_after = busy_seconds()
    reap_orphans()
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    cpu = (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime)
    others = None if busy is None or busy_after is None else max(busy_after - busy - cpu, 0.0) / wall
    return wall, cpu, others, pd.read_parquet(sweep_dir / "results.parquet")


def run_single(run_dir: Path, worlds: int, horizon: int, extra: list[str]) -> float:
    """Wall time of one plain ``pdsim`` run of ``worlds`` worlds (policy and twin) over ``horizon`` days, the sweep's
    other settings kept: what the same total number of worlds costs without a sweep (issue 11's yardstick)."""
    settings = [o for o in extra if not o.startswith(("replicates=", "horizon_days="))]
    cmd = [sys.executable, "-m", "sim.cli", f"replicates={worlds}", f"horizon_days={horizon}", "output.plot=false",
           f"hydra.run.dir={run_dir}", *settings]
    return timed(cmd, run_dir.parent, "single run")


def timed(cmd: list[str], cwd: Path, what: str) -> float:
    """Wall time of a command run to its end (its output read to the end); the benchmark stops if it fails."""
    start = time.perf_counter()
    proc = subprocess.run(cmd, capture_output=True, text=True, cwd=cwd)
    wall = time.perf_counter() - start
    if proc.returncode != 0:
        sys.exit(f"bench: the {what} failed:\n{proc.stderr[-3000:]}")
    return wall


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="pdsim-sweep-bench", description=__doc__.split("\n\n")[0])
    parser.add_argument("--quick", action="store_true", help="200 worlds per point instead of 1,000")
    parser.add_argument("--repeat", type=int, default=1,
                        help="run each worker count this many times, interleaved, and report the medians "
                        "(less noise from other work on the machine)")
    parser.add_argument("overrides", nargs="*", help="extra Hydra overrides for both runs")
    args = parser.parse_args(argv)
    extra = (["replicates=200"] if args.quick else []) + list(args.overrides)
    cores = os.cpu_count() or 1
    repeats = max(args.repeat, 1)
    print(f"pdsim sweep benchmark: lag_sweep {' '.join(extra)} on {cores} cores, joblib launcher; "
          f"load average before: {os.getloadavg()[0]:.2f} (other work on the machine slows both runs)", flush=True)
    if not adopt_orphans():
        print("  (not Linux: the CPU time of workers forked from a fork server is not counted)")
    runs: dict[int, list[tuple[float, float, pd.DataFrame]]] = {2: [], 1: []}
    singles: list[float] = []
    with tempfile.TemporaryDirectory(prefix="pdsim-bench-") as tmp:
        for repeat in range(repeats):
            for workers in (2, 1):
                load = os.getloadavg()[0]
                wall, cpu, others, df = run_sweep(Path(tmp) / f"workers{workers}-{repeat}", workers, extra)
                runs[workers].append((wall, cpu, df))
                sim = (df["timing.simulation_seconds"] + df["timing.counterfactual_seconds"]).sum()
                size = f"{len(df)} points x {df['replicates'].iloc[0]:,} worlds x {df['horizon_days'].iloc[0]} days"
                rest = "" if others is None else f", others {others:.2f} cores"
                print(f"  {workers} worker{'s' if workers > 1 else ' '}: {size} (+ twin): {wall:6.1f} s wall, "
                      f"{cpu:5.1f} s CPU, load before {load:.2f}{rest} (sum over points: model {sim:.1f} s, "
                      f"jobs {df['wall_seconds'].sum():.1f} s)", flush=True)
            worlds = int(df["replicates"].sum())
            singles.append(run_single(Path(tmp) / f"single-{repeat}", worlds, int(df["horizon_days"].iloc[0]), extra))
            print(f"  single run of the same {worlds:,} worlds (+ twin), no sweep: {singles[-1]:6.1f} s wall",
                  flush=True)

    def median_run(workers: int) -> tuple[float, float, pd.DataFrame]:
        ordered = sorted(runs[workers], key=lambda r: r[0])
        return ordered[(len(ordered) - 1) // 2]  # the lower middle for an even count: an actual run

    w2, c2 = float(np.median([r[0] for r in runs[2]])), float(np.median([r[1] for r in runs[2]]))
    w1, c1 = float(np.median([r[0] for r in runs[1]])), float(np.median([r[1] for r in runs[1]]))
    df1 = median_run(1)[2]
    points = len(df1)
    speedup = w1 / w2
    paired = [a[0] / b[0] for a, b in zip(runs[1], runs[2], strict=True)]
    # One worker runs the jobs back to back: the gap between one job's end and the next one's start is
    # Hydra's own per-point work (composing the point's config, logging, .hydra files, dispatch).
    jobs = df1.sort_values("started_at")
    gaps = (jobs["started_at"].iloc[1:].to_numpy() - jobs["finished_at"].iloc[:-1].to_numpy())
    overhead = float(gaps.mean())
    spans = float((jobs["finished_at"] - jobs["started_at"]).sum())
    one_wall = median_run(1)[0]
    fixed = one_wall - spans - float(gaps.sum())
    model1 = df1["timing.simulation_seconds"] + df1["timing.counterfactual_seconds"]
    in_job = (df1["wall_seconds"] - model1).mean()
    same = all(bool((r[2].set_index("config_hash")["escalation.count"]
                     == df1.set_index("config_hash")["escalation.count"]).all()) for w in (1, 2) for r in runs[w])

    def verdict(ok: bool) -> str:
        return "ok" if ok else "MISSED"

    if repeats > 1:
        print(f"  figures below: medians of {repeats} interleaved runs for each worker count")
    print(f"  two workers: {w2:.1f} s wall, {c2:.1f} s CPU (target <= {TARGET_WALL:.0f} s): "
          f"{verdict(w2 <= TARGET_WALL)}")
    print(f"  one worker : {w1:.1f} s wall, {c1:.1f} s CPU")
    print(f"  speed-up, two workers over one: {speedup:.2f}x (target >= {TARGET_SPEEDUP}x): "
          f"{verdict(speedup >= TARGET_SPEEDUP)}; each repeat's own: "
          + ", ".join(f"{r:.2f}x" for r in paired)
          + (f" (median {float(np.median(paired)):.2f}x)" if repeats > 1 else ""))
    single = float(np.median(singles))
    print(f"  one worker against a single run of as many worlds: {w1 / single:.2f}x ({w1:.1f} s against "
          f"{single:.1f} s; target <= {TARGET_SINGLE}x): {verdict(w1 / single <= TARGET_SINGLE)}; each repeat's own: "
          + ", ".join(f"{r[0] / s:.2f}x" for r, s in zip(runs[1], singles, strict=True)))
    print(f"  overhead per point (one worker, between consecutive jobs: Hydra's, or sim.sweep.batch's in a stack): "
          f"{overhead:.3f} s mean, "
          f"{np.median(gaps):.3f} s median (target <= {TARGET_OVERHEAD} s): {verdict(overhead <= TARGET_OVERHEAD)}")
    print(f"  fixed cost per sweep (start-up, checking {points} points, merge, curves): {fixed:.1f} s; all in, "
          f"(wall - time in jobs) / points = {(one_wall - spans) / points:.3f} s")
    print(f"  inside each job, besides the model: {in_job:.3f} s per point (validation, saving files, row)")
    print(f"  same outcomes with one and two workers (common random numbers): {same}")
    print(f"  load average after: {os.getloadavg()[0]:.2f}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
