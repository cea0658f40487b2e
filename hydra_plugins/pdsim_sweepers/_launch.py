"""What both pdsim sweepers do with their list of points: validate all, lock the sweep directory, skip
the done, launch the rest on whatever launcher is configured, then merge the table and draw the curves.

Guarantees (docs/SWEEPS.md, "Concurrent runs and signals"):

- one sweep per directory at a time: a second one refuses (exit 2) while the first holds the lock;
- Ctrl-C (SIGINT) and SIGTERM (``timeout``, Slurm, ``kill``) stop the workers, merge every finished
  point into the table, say how to resume, and exit 130 or 143;
- a local worker exits by itself when the sweeping process dies (sim.sweep.job.watch_parent);
- the table holds rows of one model code version, each checked on reading (sim.sweep.table).
"""

from __future__ import annotations

import contextlib
import logging
import os
import signal
import sys
import threading
import time
from collections.abc import Iterator, Sequence
from pathlib import Path
from typing import Any

from hydra.core.utils import JobReturn, JobStatus
from omegaconf import OmegaConf

log = logging.getLogger(__name__)

#: The lock file inside a sweep directory (held with flock while a sweep runs there).
LOCK_FILE = ".pdsim-sweep.lock"


def fail(message: str) -> None:
    """Bad sweep input: one message, exit status 2, no traceback (Hydra prints one for exceptions)."""
    print(f"pdsim: {message}", file=sys.stderr, flush=True)
    sys.exit(2)  # a fork server no launch used is killed at exit (sim.sweep.server)


def note(message: str) -> None:
    print(f"[pdsim sweep] {message}", file=sys.stderr, flush=True)


def batch_joblib_tasks(launcher: Any, n_points: int) -> None:
    """Send joblib workers their points a few at a time rather than one by one (unstacked sweeps; a stacked
    sweep sends one stack per task, sim.sweep.batch).

    Hydra's joblib launcher pickles its context, the config and the whole Singleton state with every task;
    joblib's "auto" batching keeps one task per message for jobs of about a second, so each point paid
    that round trip (about 0.15 s, a sixth of a 1,000-world point). Batching shares one pickle per batch
    (pickle memoises repeated objects), while at least eight batches per worker keep the load even."""
    settings = getattr(launcher, "joblib", None)
    if not isinstance(settings, dict):
        return
    if not hasattr(launcher, "_pdsim_batch_size"):  # what the user asked for, before the first launch chunk
        launcher._pdsim_batch_size = settings.get("batch_size", "auto")
    if str(launcher._pdsim_batch_size) != "auto":
        return
    settings["batch_size"] = max(1, n_points // (8 * max(local_workers(launcher), 1)))


def local_workers(launcher: Any) -> int:
    """Processes a local (joblib) launcher runs at once; 1 for other launchers (their nodes, their memory)."""
    settings = getattr(launcher, "joblib", None)
    if not isinstance(settings, dict):
        return 1
    from sim.sweep.server import joblib_workers

    return joblib_workers(int(settings.get("n_jobs", -1) or -1))


def start_worker_server(launcher: Any) -> bool:
    """Fork a local launcher's workers from one server process that has imported the model
    (sim.sweep.worker_imports) instead of starting each as a fresh interpreter that imports it again: about 2 s
    of CPU less per worker. ``pdsim`` started the server as the command started, when its command line asked
    for a local sweep (sim.sweep.server); here the sweeper keeps it if joblib's thread limits for the sweep's
    worker count are the ones it has, else starts one, and makes it loky's start method in this process. A
    worker's parent is then the server, and it watches this process through the pipe multiprocessing gives it
    (sim.sweep.job.watch_parent). Only for joblib with two or more workers and where the platform has a fork
    server (elsewhere workers start as before, and a server started early is killed). Returns whether the
    workers are forked from the server."""
    from sim.sweep import server

    settings = getattr(launcher, "joblib", None)
    workers = local_workers(launcher)
    if not isinstance(settings, dict) or workers < 2 or not server.has_fork_server():
        server.stop_unused()
        return False
    from joblib._parallel_backends import LokyBackend
    from joblib.externals.loky.backend import context as loky_context

    # The thread limits for BLAS and OpenMP that joblib would set in each new worker's environment: the server
    # applies them before it imports NumPy.
    server.start(LokyBackend()._prepare_worker_env(n_jobs=workers))
    global _LOKY_START_METHOD
    if _LOKY_START_METHOD is False:
        _LOKY_START_METHOD = loky_context.get_start_method()
    loky_context.set_start_method("forkserver", force=True)
    return True


# -- the lock --------------------------------------------------------------------------------------
class SweepLocked(Exception):
    """Another sweep is running into the same directory."""


@contextlib.contextmanager
def sweep_lock(sweep_dir: Path) -> Iterator[None]:
    """Hold an exclusive lock on ``sweep_dir`` for the whole sweep (flock on LOCK_FILE).

    The kernel drops the lock when the holder exits, however it exits (kill -9 included), so a stale lock
    never blocks a resume. On a shared filesystem flock works where the filesystem supports it (NFSv4,
    Lustre, GPFS with locking on); on systems without fcntl (Windows) no lock is taken."""
    try:
        import fcntl
    except ImportError:  # pragma: no cover -- Windows
        yield
        return
    path = sweep_dir / LOCK_FILE
    fh = open(path, "a+")  # noqa: SIM115 -- held open for the lock's lifetime
    try:
        try:
            fcntl.flock(fh.fileno(), fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            fh.seek(0)
            holder = fh.read().strip() or "another process"
            raise SweepLocked(
                f"another sweep is running into {sweep_dir} ({holder}); two sweeps in one directory would "
                "overwrite each other's jobs. Wait for it to finish (then run this command again to add any "
                "missing points), or give this sweep its own hydra.sweep.dir=..."
            ) from None
        fh.seek(0)
        fh.truncate()
        fh.write(f"pid {os.getpid()} on {os.uname().nodename}, started {time.strftime('%Y-%m-%d %H:%M:%S')}\n")
        fh.flush()
        yield
    finally:
        fh.close()  # releases the lock


# -- signals ---------------------------------------------------------------------------------------
class SweepTerminated(KeyboardInterrupt):
    """SIGTERM, raised in the main thread so that it unwinds the launch exactly like Ctrl-C."""


@contextlib.contextmanager
def terminate_as_interrupt() -> Iterator[dict]:
    """SIGTERM raises SweepTerminated (a KeyboardInterrupt) while the block runs; restored after."""
    state = {"signal": None}

    def on_term(signum, frame):
        if state["signal"] is None:
            state["signal"] = signum
            raise SweepTerminated()

    try:
        previous = signal.signal(signal.SIGTERM, on_term)
    except ValueError:  # not the main thread: leave signals alone
        yield state
        return
    try:
        yield state
    finally:
        signal.signal(signal.SIGTERM, previous)


@contextlib.contextmanager
def signals_deferred() -> Iterator[list]:
    """While the table is merged after an interruption, a second Ctrl-C or SIGTERM is noted, not obeyed."""
    received: list[int] = []
    handlers = {}
    for sig in (signal.SIGINT, signal.SIGTERM):
        with contextlib.suppress(ValueError):  # not the main thread
            handlers[sig] = signal.signal(sig, lambda s, f: received.append(s))
    try:
        yield received
    finally:
        for sig, handler in handlers.items():
            signal.signal(sig, handler)


def stop_local_workers() -> None:
    """Kill joblib's worker processes now (the points they were running have no row; resume redoes them)."""
    try:
        from joblib.externals.loky import reusable_executor
    except ImportError:  # pragma: no cover
        return
    executor = getattr(reusable_executor, "_executor", None)
    if executor is not None:
        with contextlib.suppress(Exception):
            executor.shutdown(wait=False, kill_workers=True)
    global _LOKY_START_METHOD
    if _LOKY_START_METHOD is not False:  # loky's start method as it was before the sweep (start_worker_server)
        from joblib.externals.loky.backend import context as loky_context

        loky_context.set_start_method(_LOKY_START_METHOD, force=True)
        _LOKY_START_METHOD = False


#: loky's start method before start_worker_server set it (False: not set by this process).
_LOKY_START_METHOD: str | None | bool = False


def jobs_run_elsewhere(launcher: Any) -> bool:
    """Do the jobs run in processes other than this one? Not with Hydra's basic launcher, nor with joblib on
    one worker (joblib then runs the jobs here, one after another)."""
    name = type(launcher).__name__
    return not (name == "BasicLauncher" or (name == "JoblibLauncher" and local_workers(launcher) < 2))


def import_merge_modules_meanwhile(launcher: Any) -> threading.Thread | None:
    """While other processes run the jobs, import what the merge and the curves need (pandas, pyarrow,
    matplotlib: about 1.3 s of CPU) and draw a first, tiny figure (fonts, PDF subsetter: 0.2-0.5 s) instead
    of after the last job, when the sweep would wait for them alone.
    Nothing where the jobs run in this process: they import pandas themselves and would wait for the thread."""
    if not jobs_run_elsewhere(launcher):
        return None

    def load() -> None:
        with contextlib.suppress(Exception):  # only a head start: the merge imports them anyway
            import sim.sweep.curves  # matplotlib, pandas, the analysis' styles
            import sim.sweep.table  # noqa: F401

            sim.sweep.curves.warm_up()  # the first figure's fonts and PDF subsetter
        with contextlib.suppress(ImportError):
            import pyarrow.parquet  # noqa: F401 -- results.parquet

    thread = threading.Thread(target=load, name="pdsim-merge-imports", daemon=True)
    thread.start()
    return thread


def exit_without_final_collection() -> None:
    """At interpreter exit, spare the garbage collector's last pass over every object of this process (about
    0.4 s after a sweep, which has imported SciPy, pandas, matplotlib and Hydra): atexit handlers still run,
    files are closed and flushed as usual; the objects are freed by the operating system."""
    import atexit
    import gc

    global _FREEZE_AT_EXIT
    if not _FREEZE_AT_EXIT:
        _FREEZE_AT_EXIT = True
        atexit.register(gc.freeze)


_FREEZE_AT_EXIT = False


# -- stacking --------------------------------------------------------------------------------------
def plan_sweep_stacks(sweeper: Any, todo: list, sweep_dir: Path) -> list[list[int]] | None:
    """Write which consecutive points run as one model (sim.sweep.stack) and return the stacks (indices into
    ``todo``, lone points as stacks of one); None where no two neighbouring points share a model. No stacks at
    all where the launcher runs each job in a process of its own (Ray, Slurm) or the sweeper says
    ``stack: false``."""
    from dataclasses import asdict

    from sim.sweep.stack import LOCAL_LAUNCHERS, clear_stacks, plan_stacks, stack_key, write_stacks
    from sim.validation import available_memory, memory_estimate

    clear_stacks(sweep_dir)
    resolved = [getattr(p, "resolved", None) for p in todo]
    if (not getattr(sweeper, "stack", True) or type(sweeper.launcher).__name__ not in LOCAL_LAUNCHERS
            or len(todo) < 2 or any(c is None for c in resolved)):
        return None
    first = resolved[0]
    limit = os.environ.get("PDSIM_MEMORY_LIMIT_GB")
    stacks = plan_stacks([stack_key(c) for c in resolved], [c.replicates for c in resolved],
                         workers=local_workers(sweeper.launcher),
                         memory_of=lambda r: memory_estimate(r, len(first.scenario.sites), first.horizon_days),
                         available=float(limit) * 1e9 if limit else available_memory())
    sizes = [len(s) for s in stacks if len(s) > 1]
    # Lone points are listed too: their jobs then skip composing their config and its twin again.
    write_stacks(sweep_dir, [[{"overrides": list(todo[i].overrides), "hash": todo[i].config_hash,
                               "policy": asdict(resolved[i].policy)} for i in s] for s in stacks])
    if not sizes:
        return None
    note(f"{sum(sizes)} points run in {len(sizes)} stacks of up to {max(sizes)} (one model each, "
         "same numbers as one by one)")
    return stacks


def chunk_stacks(stacks: list[list[int]], start: int, size: int, first: int, todo: list) -> list[list[tuple]]:
    """The stacks of the launch chunk ``todo[start:start + size]`` as (job number, overrides) lists; a stack that
    the chunk's edge cuts runs as two stacks, one in each chunk (simulated in two parts, never twice)."""
    parts = []
    for stack in stacks:
        inside = [i for i in stack if start <= i < start + size]
        if inside:
            parts.append([(first + i, list(todo[i].overrides)) for i in inside])
    return parts


# -- the sweep -------------------------------------------------------------------------------------
def _failures(returns: Sequence[JobReturn]) -> list[JobReturn]:
    return [r for r in returns if getattr(r, "status", None) == JobStatus.FAILED]


#: Points handed to the launcher per call when the sweeper sets no max_batch_size: the launcher returns
#: every job's JobReturn at once, so this bounds what the sweeping process holds.
LAUNCH_CHUNK = 512


def run_points(sweeper: Any, batch: list[list[str]], swept: Sequence[str], **plan_extra: Any) -> list:
    """Plan, launch and merge a sweep of ``batch`` (one override list per point)."""
    from sim import __version__
    from sim.sweep import SWEEP_PID_ENV, sweep_process_tag
    from sim.sweep.plan import PointLoader, SweepInputError, plan_points

    config = sweeper.config
    loader = sweeper.hydra_context.config_loader
    tic = time.perf_counter()
    os.environ[SWEEP_PID_ENV] = sweep_process_tag()  # local workers watch this process (watch_parent)
    start_worker_server(sweeper.launcher)  # it imports while this process plans (if pdsim has not started it yet)
    exit_without_final_collection()
    try:
        points = plan_points(PointLoader(loader, config), batch, swept)
    except SweepInputError as err:
        fail(str(err))
    checked = time.perf_counter() - tic
    workers = local_workers(sweeper.launcher)
    if workers > 1 and points:
        from sim.validation import available_memory

        biggest = max(p.memory for p in points)
        limit = os.environ.get("PDSIM_MEMORY_LIMIT_GB")
        avail = float(limit) * 1e9 if limit else available_memory()
        if avail is not None and biggest * workers > avail:
            fits = max(1, int(avail // biggest))
            fail(f"invalid sweep, no job was started: {workers} workers at once need about "
                 f"{biggest * workers / 1e9:.1f} GB (the largest point about {biggest / 1e9:.1f} GB each), but only "
                 f"{avail / 1e9:.1f} GB is available; run fewer at once with hydra.launcher.n_jobs={fits}")

    sweep_dir = Path(str(config.hydra.sweep.dir))
    try:
        sweep_dir.mkdir(parents=True, exist_ok=True)
        lock = sweep_lock(sweep_dir)
        lock.__enter__()
    except SweepLocked as err:
        fail(str(err))
    except OSError as err:
        fail(f"cannot write to the sweep directory {sweep_dir}: {err.strerror or err}; a sweep records its "
             "plan, rows and table there, so choose a writable hydra.sweep.dir=...")
    try:
        with terminate_as_interrupt() as state:
            try:
                returns, interrupted = _plan_launch_merge(sweeper, points, swept, sweep_dir, checked, tic,
                                                          plan_extra, __version__, state)
            except KeyboardInterrupt:  # before the launch (while reading the rows): nothing to merge yet
                returns, interrupted = [], True
    finally:
        lock.__exit__(None, None, None)
    if interrupted:
        how = "terminated (SIGTERM)" if state["signal"] == signal.SIGTERM else "interrupted"
        note(f"{how}; run the same command with hydra.sweep.dir={sweep_dir} to simulate the missing points "
             "(the finished ones are in the table)")
        sys.exit(143 if state["signal"] == signal.SIGTERM else 130)
    if failed := _failures(returns):
        _ = failed[0].return_value  # re-raises a job's failure, as Hydra's basic sweeper does
    return returns


def _plan_launch_merge(sweeper, points, swept, sweep_dir: Path, checked: float, tic: float, plan_extra: dict,
                       version: str, state: dict) -> tuple[list, bool]:
    from sim.sweep.plan import existing_rows, next_job_number, save_plan, to_simulate
    from sim.sweep.progress import SweepProgress, duration
    from sim.sweep.rows import model_code_hash

    code = model_code_hash()
    try:
        OmegaConf.save(sweeper.config, sweep_dir / "multirun.yaml")
        done = existing_rows(sweep_dir, version, code, warn=note)
        todo = to_simulate(points, done)
        save_plan(sweep_dir, points, swept, **plan_extra)
    except OSError as err:
        fail(f"cannot write to the sweep directory {sweep_dir}: {err.strerror or err}; a sweep records its "
             "plan, rows and table there, so choose a writable hydra.sweep.dir=...")
    total = len({p.config_hash for p in points})
    already = total - len(todo)
    note(f"{len(points)} point{'s' if len(points) != 1 else ''} checked in {checked:.1f} s; "
         f"{already} already done, {len(todo)} to simulate -> {sweep_dir}")

    stacks = plan_sweep_stacks(sweeper, todo, sweep_dir)
    # The merge's imports start now, while this process waits for the workers (the fork server still imports the
    # model): started with the launch instead, they took CPU from the workers' first jobs.
    importing = import_merge_modules_meanwhile(sweeper.launcher) if todo else None
    kept: list[JobReturn] = []  # only failed jobs' returns: a JobReturn per point would pile up
    first = next_job_number(sweep_dir)
    size = sweeper.max_batch_size or LAUNCH_CHUNK
    interrupted = False
    try:
        if todo:
            from sim.sweep import server

            server.serving()  # the workers are forked from it from now on: it lives as long as they do
            with SweepProgress(sweep_dir, first, len(todo), already):
                for start in range(0, len(todo), size):
                    chunk = todo[start:start + size]
                    if stacks:  # one launcher task per stack (sim.sweep.batch)
                        from sim.sweep.batch import launch_stacks

                        returns = launch_stacks(sweeper.launcher, chunk_stacks(stacks, start, len(chunk), first, todo))
                    else:
                        batch_joblib_tasks(sweeper.launcher, len(chunk))
                        returns = sweeper.launcher.launch([p.overrides for p in chunk], initial_job_idx=first + start)
                    kept += _failures(returns)
                    del returns
            # Every job is done: end the idle workers now. Left alone, they would be shut down at exit, and this
            # process would wait for each one's interpreter to tear down (about 0.5 s after the merge).
            stop_local_workers()
    except KeyboardInterrupt:  # Ctrl-C, or SIGTERM (SweepTerminated)
        interrupted = True
        stop_local_workers()
    except Exception:
        # Slurm and process-group signals reach the workers too; a launcher may then report their deaths
        # before the sweeping process's own handler runs. With a signal received, that is the interruption.
        time.sleep(0.2)  # let a pending signal handler run
        if state.get("signal") is None:
            raise
        interrupted = True
        stop_local_workers()
    finally:
        # Even after Ctrl-C, SIGTERM or a failed job, every finished point goes into the table.
        with signals_deferred():
            if importing is not None:
                importing.join()  # the merge imports nothing while that thread still does
            from sim.sweep.curves import draw_for_sweep
            from sim.sweep.table import write_table

            try:
                df, files = write_table(sweep_dir, (version, code), warn=note)
            except OSError as err:
                fail(f"cannot write the table into {sweep_dir}: {err.strerror or err}")
            if not df.empty:
                try:
                    files += draw_for_sweep(sweep_dir, df)
                except Exception as exc:  # noqa: BLE001 -- a failed figure must not lose the table
                    log.warning(f"could not draw the sweep's curves: {exc}")
                note(f"{len(df)}/{total} points in the table, {duration(time.perf_counter() - tic)}: "
                     + ", ".join(str(f) for f in files))
    return kept, interrupted
