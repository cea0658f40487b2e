"""What both pdsim sweepers do with their list of points: validate all, skip the done, launch the
rest on whatever launcher is configured, then merge the table and draw the curves."""

from __future__ import annotations

import logging
import os
import sys
import time
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from hydra.core.utils import JobReturn
from omegaconf import OmegaConf

log = logging.getLogger(__name__)


def fail(message: str) -> None:
    """Bad sweep input: one message, exit status 2, no traceback (Hydra prints one for exceptions)."""
    print(f"pdsim: {message}", file=sys.stderr, flush=True)
    sys.exit(2)


def batch_joblib_tasks(launcher: Any, n_points: int) -> None:
    """Send joblib workers their points a few at a time rather than one by one.

    Hydra's joblib launcher pickles its context, the config and the whole Singleton state with every task;
    joblib's "auto" batching keeps one task per message for jobs of about a second, so each point paid
    that round trip (about 0.15 s, a sixth of a 1,000-world point). Batching shares one pickle per batch
    (pickle memoises repeated objects), while at least eight batches per worker keep the load even."""
    settings = getattr(launcher, "joblib", None)
    if not isinstance(settings, dict) or str(settings.get("batch_size", "auto")) != "auto":
        return
    n_jobs = int(settings.get("n_jobs", -1) or -1)
    workers = (os.cpu_count() or 1) if n_jobs < 0 else n_jobs
    settings["batch_size"] = max(1, n_points // (8 * max(workers, 1)))


def run_points(sweeper: Any, batch: list[list[str]], swept: Sequence[str], **plan_extra: Any) -> list:
    """Plan, launch and merge a sweep of ``batch`` (one override list per point)."""
    from sim import __version__
    from sim.sweep.curves import draw_for_sweep
    from sim.sweep.plan import (
        PointLoader,
        SweepInputError,
        existing_rows,
        next_job_number,
        plan_points,
        save_plan,
        to_simulate,
    )
    from sim.sweep.progress import SweepProgress, duration
    from sim.sweep.rows import model_code_hash
    from sim.sweep.table import write_table

    config = sweeper.config
    loader = sweeper.hydra_context.config_loader
    tic = time.perf_counter()
    try:
        points = plan_points(PointLoader(loader, config), batch, swept)
    except SweepInputError as err:
        fail(str(err))
    checked = time.perf_counter() - tic

    sweep_dir = Path(str(config.hydra.sweep.dir))
    sweep_dir.mkdir(parents=True, exist_ok=True)
    OmegaConf.save(config, sweep_dir / "multirun.yaml")
    done = existing_rows(sweep_dir, __version__, model_code_hash())
    todo = to_simulate(points, done)
    save_plan(sweep_dir, points, swept, **plan_extra)
    already = len({p.config_hash for p in points}) - len(todo)
    print(f"[pdsim sweep] {len(points)} point{'s' if len(points) != 1 else ''} checked in {checked:.1f} s; "
          f"{already} already done, {len(todo)} to simulate -> {sweep_dir}", file=sys.stderr, flush=True)

    batch_joblib_tasks(sweeper.launcher, len(todo))
    returns: list[Sequence[JobReturn]] = []
    first = next_job_number(sweep_dir)
    size = sweeper.max_batch_size or len(todo) or 1
    interrupted = False
    try:
        if todo:
            with SweepProgress(sweep_dir, first, len(todo), already):
                for start in range(0, len(todo), size):
                    chunk = todo[start:start + size]
                    returns.append(sweeper.launcher.launch([p.overrides for p in chunk],
                                                           initial_job_idx=first + start))
    except KeyboardInterrupt:
        interrupted = True
    finally:
        # Even after Ctrl-C or a failed job, every finished point goes into the table.
        df, files = write_table(sweep_dir)
        if not df.empty:
            try:
                files += draw_for_sweep(sweep_dir, df)
            except Exception as exc:  # noqa: BLE001 -- a failed figure must not lose the table
                log.warning(f"could not draw the sweep's curves: {exc}")
            print(f"[pdsim sweep] {len(df)}/{len({p.config_hash for p in points})} points in the table, "
                  f"{duration(time.perf_counter() - tic)}: " + ", ".join(str(f) for f in files),
                  file=sys.stderr, flush=True)
    if interrupted:
        print(f"[pdsim sweep] interrupted; run the same command with hydra.sweep.dir={sweep_dir} "
              "to simulate the missing points", file=sys.stderr, flush=True)
        sys.exit(130)
    for batch_returns in returns:
        for r in batch_returns:
            _ = r.return_value  # re-raises a job's failure, as Hydra's basic sweeper does
    return returns
