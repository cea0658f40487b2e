"""The job's side of a sweep: skip a point already simulated, write the point's row when done.

Called from :func:`sim.cli.run_job` in multirun mode only; a single run is unaffected.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

from hydra.core.hydra_config import HydraConfig
from hydra.types import RunMode
from omegaconf import DictConfig, OmegaConf

from sim import __version__
from sim.sweep import ROW_FILE
from sim.sweep.rows import config_hash, make_row, model_code_hash, read_row, same_code, write_row


def in_sweep() -> bool:
    """Is this job one point of a multirun (as opposed to a single ``pdsim`` run)?"""
    return HydraConfig.initialized() and HydraConfig.get().mode == RunMode.MULTIRUN


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
    if not row or row["config_hash"] != config_hash(config()):
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
    esc = summary["escalation"]
    text = (f"escalation {100 * esc['probability']:.1f} % "
            f"[{100 * esc['ci_low']:.1f}, {100 * esc['ci_high']:.1f}]")
    if cf := summary.get("counterfactual"):
        p = cf["prevented"]
        text += f", prevented per 100 crises {p['estimate']:.1f} [{p['ci_low']:.1f}, {p['ci_high']:.1f}]"
    return text
