"""The job's side of a sweep: skip a point already simulated, write the point's row when done.

Called from :func:`sim.cli.run_job` in multirun mode only; a single run is unaffected.
"""

from __future__ import annotations

import os
import socket
import threading
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

from hydra.core.hydra_config import HydraConfig
from hydra.core.utils import JobReturn
from hydra.experimental.callback import Callback
from hydra.types import RunMode
from omegaconf import DictConfig, OmegaConf

from sim import __version__
from sim.sweep import ROW_FILE, SWEEP_PID_ENV
from sim.sweep.rows import check_row, config_hash, make_row, model_code_hash, read_row, same_code, write_row


def in_sweep() -> bool:
    """Is this job one point of a multirun (as opposed to a single ``pdsim`` run)?"""
    return HydraConfig.initialized() and HydraConfig.get().mode == RunMode.MULTIRUN


_WATCHDOG: threading.Thread | None = None


def watch_parent(every: float = 0.5) -> bool:
    """In a worker process of a local sweep (joblib/loky), exit as soon as the sweeping process is gone.

    A worker whose sweeping process died (kill -9, a crash, a lost terminal) would otherwise finish its
    batch and then sit idle for as long as the machine runs, holding its memory. A thread watches the
    sweeping process and, when it is gone, ends the worker at once; the point it was running has no row
    yet (rows are written atomically, last), so a resumed sweep simulates it again. How it watches:

    - a worker forked from the sweep's fork server (sim.sweep.worker_imports) is the server's child, not
      the sweep's, and the server outlives the sweep while any worker runs; multiprocessing gives such a
      worker the read end of a pipe whose other end only the sweeping process holds (``parent_process()``,
      its ``sentinel``), which becomes readable the moment that process is gone;
    - a worker started by loky itself is the sweeping process's child: the thread polls ``os.getppid()``
      and exits when the worker has been re-parented.

    Only a process started for the sweep on its machine watches (not the sweep itself with ``n_jobs=1``,
    nor a Ray or Slurm worker, whose lifetime its scheduler owns). A worker that finds the sweeping process
    already dead (killed while the worker was starting) exits at once. Returns whether this process
    watches."""
    global _WATCHDOG
    pid, _, host = os.environ.get(SWEEP_PID_ENV, "").partition("@")
    if _WATCHDOG is not None:
        return True
    if not pid.isdigit() or host != socket.gethostname() or int(pid) == os.getpid():
        return False
    parent = int(pid)
    if (sentinel := _sweep_sentinel(parent)) is not None:
        def watch_pipe() -> None:
            from multiprocessing.connection import wait

            wait([sentinel])  # blocks until the sweeping process has gone (end of file on the pipe)
            os._exit(143)

        _WATCHDOG = threading.Thread(target=watch_pipe, name="pdsim-parent-watchdog", daemon=True)
        _WATCHDOG.start()
        return True
    if os.getppid() != parent:
        try:
            os.kill(parent, 0)
        except ProcessLookupError:  # the sweep that started this worker is gone: so is this point's purpose
            os._exit(143)
        except PermissionError:
            pass
        return False  # some other process of the same machine (e.g. a local Ray worker)

    def watch() -> None:
        while True:
            time.sleep(every)
            if os.getppid() != parent:
                os._exit(143)

    _WATCHDOG = threading.Thread(target=watch, name="pdsim-parent-watchdog", daemon=True)
    _WATCHDOG.start()
    return True


def _sweep_sentinel(sweep_pid: int) -> int | None:
    """The pipe end that tells a process started through multiprocessing (e.g. forked by a fork server) that
    the process which asked for it, here the sweeping process, has gone; None for other processes."""
    import multiprocessing

    parent = multiprocessing.parent_process()
    if parent is None or parent.pid != sweep_pid:
        return None
    return getattr(parent, "sentinel", None)


def job_dir() -> Path:
    return Path(HydraConfig.get().runtime.output_dir)


def point_params(cfg: DictConfig) -> dict[str, Any]:
    """The point's parameters: every task override except the experiment choice, with its typed value."""
    params: dict[str, Any] = {}
    for text in HydraConfig.get().overrides.task:
        key, _, value = text.partition("=")
        key = key.lstrip("+~")
        if key == "experiment" or key.startswith("hydra."):
            continue
        selected = OmegaConf.select(cfg, key, default=None)
        # A config-group choice (scenario=kenya_2008) selects a whole node: keep the choice's name.
        params[key] = value if selected is None or OmegaConf.is_config(selected) else selected
    return params


def already_done(config: Callable[[], Any], directory: Path) -> bool:
    """A whole row for this very configuration, from the same model code, is already in the job dir."""
    if not (directory / ROW_FILE).exists():  # the common case: skip the cost of hashing
        return False
    row = read_row(directory / ROW_FILE)
    if not row or check_row(row) or row["config_hash"] != config_hash(config()):
        return False
    return same_code(row, __version__, model_code_hash())


def record_point(cfg: DictConfig, config, summary: dict, wall_seconds: float, started_at: float) -> Path:
    """Write the point's row (atomically) into its job directory.

    ``started_at`` (epoch seconds) and the row's ``finished_at`` time the job inside Hydra's launch,
    so the gaps between jobs measure Hydra's own overhead (python -m sim.sweep.bench)."""
    hc = HydraConfig.get()
    row = make_row(
        summary,
        config,
        params=point_params(cfg),
        job=int(hc.job.num),
        overrides=list(hc.overrides.task),
        wall_seconds=wall_seconds,
    )
    row |= {"started_at": started_at, "finished_at": time.time()}
    return write_row(row, job_dir())


def point_line(summary: dict) -> str:
    """One line per finished point (a sweep prints this instead of the full summary table)."""
    if (w := summary.get("world")) is not None:  # world mode: every world escalates somewhere
        c, q = w["countries_in_conflict_per_year"], w["crises_waiting_per_day"]
        text = (f"countries in conflict per year {c['mean']:.1f} [{c['ci_low']:.1f}, {c['ci_high']:.1f}], "
                f"crises waiting for an envoy {q['mean']:.1f}")
        if cf := summary.get("counterfactual"):
            a = cf["world"]["countries_in_conflict_per_year"]
            text += f", {a['mean']:.1f} fewer than without prevention [{a['ci_low']:.1f}, {a['ci_high']:.1f}]"
        return text
    esc = summary["escalation"]
    text = (f"escalation {100 * esc['probability']:.1f} % "
            f"[{100 * esc['ci_low']:.1f}, {100 * esc['ci_high']:.1f}]")
    if cf := summary.get("counterfactual"):
        p = cf["prevented"]
        text += f", prevented per 100 crises {p['estimate']:.1f} [{p['ci_low']:.1f}, {p['ci_high']:.1f}]"
    return text


class LeanJobReturn(Callback):
    """Hydra callback (configs/config.yaml, ``hydra.callbacks``): a finished sweep job drops the configs
    from its JobReturn before the launcher sends it back.

    Each JobReturn carries the job's whole config twice (task and hydra node), about 0.15 MB; the
    sweeping process received one per point and kept them all until the launch returned, so it grew by
    that much per point (226 -> 392 MB over 1,000 points). The sweepers read only a return's status
    (and its exception, if it failed)."""

    def __getstate__(self) -> dict:
        return {**self.__dict__, "_pdsim": True}  # never empty: pickle skips __setstate__ for an empty state

    def __setstate__(self, state: dict) -> None:
        # Unpickled in a launcher's worker with every task batch, before Hydra sets the job up: the earliest
        # moment our code runs there, so the worker starts watching its parent now (watch_parent).
        self.__dict__.update(state)
        watch_parent()

    def on_job_end(self, config: DictConfig, job_return: JobReturn, **kwargs: Any) -> None:
        if in_sweep():
            job_return.cfg = None
            job_return.hydra_cfg = None
