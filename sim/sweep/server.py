"""The fork server a local sweep's workers are forked from, started as early as the command allows.

With two or more joblib workers, a sweep's workers are forks of one server process (multiprocessing's
``forkserver``) that has imported the model once (:mod:`sim.sweep.worker_imports`: Hydra, Mesa, pandas, pyarrow,
numba started; about 1 s). The first job cannot start before those imports end, so the server is best started
the moment the command starts: ``pdsim`` calls :func:`start_early` with its arguments before it imports Hydra,
and the server imports while the sweeping process starts Hydra, composes the sweep and checks every point
(about 0.3 s sooner than when the sweeper started it; docs/SWEEPS.md, "30 Nov 2026, evening").

The command line can only suggest a local sweep (``-m``, the joblib launcher, ``hydra.launcher.n_jobs``; an
experiment file could still change the launcher), so the sweeper decides (:func:`start`): it keeps the early
server when joblib's thread limits for the sweep's worker count are the ones the server was started with, and
otherwise starts one afresh. A server no sweep used (a refused sweep, a guess that was wrong) is killed when
the command exits (:func:`stop_unused`), so it neither holds the command's output open nor runs on alone.

This module imports nothing heavy: it runs before Hydra and NumPy are imported.
"""

from __future__ import annotations

import atexit
import contextlib
import json
import os
import re
import signal
from pathlib import Path

from sim.sweep import SWEEP_PID_ENV, WORKER_ENV, sweep_process_tag

#: What the server imports before it forks any worker.
PRELOAD = "sim.sweep.worker_imports"

#: The thread-limit variables joblib sets in each worker (joblib's LokyBackend.MAX_NUM_THREADS_VARS and
#: TBB_ENABLE_IPC_VAR); the early guess (:func:`guess_thread_limits`) must agree with joblib, checked by
#: :func:`start` and by tests/test_sweep.py.
THREAD_VARS = ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS", "BLIS_NUM_THREADS",
               "VECLIB_MAXIMUM_THREADS", "NUMBA_NUM_THREADS", "NUMEXPR_NUM_THREADS")
IPC_VAR = "ENABLE_IPC"

#: Hydra's flags after which no sweep runs (or whose configs the command line cannot see): no early server.
_NO_SWEEP_FLAGS = {"--cfg", "-c", "--info", "-i", "--resolve", "--hydra-help", "--help", "-h", "--version",
                   "--shell-completion", "-sc", "--config-path", "-cp", "--config-name", "-cn", "--config-dir",
                   "-cd", "--experimental-rerun"}

_started_with: dict | None = None  # the thread limits of the server this process started
_serving = False  # a launch has used the server (its workers are forked from it)
_spawned_before = False  # this process has started a server (and registered stop_unused to run at exit)


def has_fork_server() -> bool:
    import multiprocessing

    return "forkserver" in multiprocessing.get_all_start_methods()


def planned_workers(args: list[str]) -> int:
    """The joblib workers a ``pdsim`` command line asks for: 0 when it is not a sweep on the pdsim sweepers
    and the joblib launcher (the project's defaults: ``-m``, grid sweeper, joblib with ``n_jobs=-1``, one
    worker per core), or when the line changes what the command line alone cannot see."""
    if not ({"-m", "--multirun"} & set(args)) or _NO_SWEEP_FLAGS & set(args):
        return 0
    n_jobs = -1
    for arg in args:
        key, _, value = re.sub(r"^(\+\+|\+|~)", "", arg).partition("=")
        if key == "hydra/launcher" and value != "joblib":
            return 0
        if key == "hydra/sweeper" and value not in ("grid", "design"):
            return 0
        if key == "hydra.launcher.n_jobs":
            try:
                n_jobs = int(value)
            except ValueError:  # a list of values, an interpolation: the sweeper will tell
                return 0
    return joblib_workers(n_jobs)


def joblib_workers(n_jobs: int) -> int:
    """Processes joblib runs at once for ``n_jobs``: counted back from the cores when negative (-1: one per core),
    and 0 read as -1, as the sweeper reads Hydra's setting (hydra_plugins/pdsim_sweepers/_launch.py)."""
    n_jobs = n_jobs or -1
    cores = os.cpu_count() or 1
    return cores + 1 + n_jobs if n_jobs < 0 else n_jobs


def guess_thread_limits(workers: int) -> dict[str, str]:
    """joblib's thread limits for ``workers`` workers (LokyBackend._prepare_worker_env), without importing
    joblib (which imports NumPy: 0.12 s before the server could start). loky counts the usable cores more
    carefully (cgroup quotas); where that gives another answer, :func:`start` starts a fresh server."""
    try:
        cores = len(os.sched_getaffinity(0))
    except AttributeError:  # pragma: no cover -- not Linux
        cores = os.cpu_count() or 1
    limits = {var: str(os.environ.get(var, max(cores // workers, 1))) for var in THREAD_VARS}
    if IPC_VAR not in os.environ:
        limits[IPC_VAR] = "1"
    return limits


def is_pdsim(program: str) -> bool:
    """Is ``program`` (``sys.argv[0]``) the ``pdsim`` command: its console script, ``python -m sim.cli`` or
    ``python -m sim``? Not another program that imports pdsim's CLI (``pytest -m slow`` has a ``-m`` too)."""
    path = Path(program)
    package = Path(__file__).resolve().parent.parent
    return path.name == "pdsim" or (path.name in ("cli.py", "__main__.py") and path.resolve().parent == package)


def start_early(argv: list[str]) -> None:
    """Start the fork server now if ``argv`` (``sys.argv``) is a ``pdsim`` command line that asks for a local
    sweep with two or more workers. Not in the server itself or its workers (they inherit WORKER_ENV and import
    pdsim's CLI)."""
    if (WORKER_ENV in os.environ or not argv or not is_pdsim(argv[0]) or (workers := planned_workers(argv[1:])) < 2
            or not has_fork_server()):
        return
    _spawn(guess_thread_limits(workers))


def start(limits: dict[str, str]) -> None:
    """Make sure the fork server runs with these thread limits (joblib's, for the sweep's worker count): keep
    the one :func:`start_early` started when they agree, else (re)start it. The server imports while this
    process goes on; the first fork waits for it."""
    from multiprocessing import forkserver

    if _started_with is not None and _started_with != limits:
        _kill()
    if _started_with is None:
        _spawn(limits)
    forkserver.ensure_running()  # a no-op while the server runs


def serving() -> None:
    """The launch is about to fork the workers from the server: from now on it outlives this process as long
    as they do (sim.sweep.job.watch_parent), as multiprocessing intends, and is no longer killed at exit."""
    global _serving
    _serving = True


def stop_unused() -> None:
    """Kill the server if no launch has used it (the sweeper found that the sweep needs none)."""
    if _started_with is not None and not _serving:
        _kill()


def _spawn(limits: dict[str, str]) -> None:
    from multiprocessing import forkserver

    global _started_with, _spawned_before
    # The server applies the limits before it imports NumPy (sim.sweep.worker_imports); its forks inherit them,
    # and the tag of the process they watch (sim.sweep.job.watch_parent), which must be set before the server starts.
    os.environ[WORKER_ENV] = json.dumps(limits)
    os.environ[SWEEP_PID_ENV] = sweep_process_tag()
    forkserver.set_forkserver_preload([PRELOAD])
    forkserver.ensure_running()
    if not _spawned_before:
        atexit.register(stop_unused)  # a server no launch used ends with this process
    _started_with = dict(limits)
    _spawned_before = True


def _kill() -> None:
    """End the server at once (it may still be importing) and forget it, so that the next use starts another."""
    from multiprocessing import forkserver

    global _started_with
    server = forkserver._forkserver  # multiprocessing's own handle of this process's server
    pid = getattr(server, "_forkserver_pid", None)
    if pid is not None:
        with contextlib.suppress(ProcessLookupError):
            os.kill(pid, signal.SIGKILL)
    server._stop()  # closes its pipe, reaps it, forgets its address
    _started_with = None

