"""A sweep point's row: its parameters, every outcome with its interval, and where it came from.

A row is written once, atomically, by the job that simulated the point (``row.json`` in the job
directory). Its ``config_hash`` identifies the point: two points with the same resolved
configuration (whatever overrides produced it) have the same hash, which is how a resumed sweep
recognises the points it has already simulated.
"""

from __future__ import annotations

import functools
import hashlib
import json
import os
from dataclasses import asdict
from pathlib import Path
from typing import Any

from sim.config import RunConfig
from sim.files import atomic_write_text
from sim.results import json_safe
from sim.sweep import ROW_FILE

#: Config sections that change files and messages but not a single outcome number; left out of the hash.
NOT_HASHED = ("output",)

#: Summary sections kept out of the outcome columns (the config is stored whole, as JSON).
NOT_OUTCOMES = ("config", "scenario", "replicates", "seed", "horizon_days", "version", "git_commit",
                "timestamp", "python")


def config_hash(config: RunConfig) -> str:
    """A short, stable fingerprint of a resolved configuration (what determines the outcomes)."""
    data = {k: v for k, v in asdict(config).items() if k not in NOT_HASHED}
    text = json.dumps(data, sort_keys=True, separators=(",", ":"), default=str)
    return hashlib.sha256(text.encode()).hexdigest()[:16]


def flatten(tree: dict, prefix: str = "") -> dict[str, Any]:
    """Nested dict -> {'a.b.c': leaf}; lists become JSON text so every cell is a scalar."""
    flat: dict[str, Any] = {}
    for key, value in tree.items():
        name = f"{prefix}{key}"
        if isinstance(value, dict):
            flat |= flatten(value, name + ".")
        elif isinstance(value, (list, tuple)):
            flat[name] = json.dumps(value)
        else:
            flat[name] = value
    return flat


def policy_columns(config: RunConfig) -> dict[str, Any]:
    """Every policy lever of the point, so a row says what was simulated even for levers not swept."""
    return {f"policy.{k}": v for k, v in asdict(config.policy).items()}


def make_row(
    summary: dict,
    config: RunConfig,
    *,
    params: dict[str, Any],
    job: int | None,
    overrides: list[str],
    wall_seconds: float,
) -> dict[str, Any]:
    """One table row for a simulated point.

    ``params`` maps each of the point's override keys (e.g. ``policy.flexibility``) to its value in
    this point; ``overrides`` are the point's Hydra overrides, kept verbatim for the record."""
    outcomes = flatten({k: v for k, v in summary.items() if k not in NOT_OUTCOMES})
    return {
        "job": job,
        "config_hash": config_hash(config),
        "scenario": summary["scenario"],
        **{f"param.{k}": v for k, v in params.items()},
        **policy_columns(config),
        **outcomes,
        "replicates": summary["replicates"],
        "seed": summary["seed"],
        "horizon_days": summary["horizon_days"],
        "version": summary["version"],
        "git_commit": summary["git_commit"],
        "code_hash": model_code_hash(),
        "timestamp": summary["timestamp"],
        "wall_seconds": wall_seconds,
        "overrides": " ".join(overrides),
        "config": json.dumps(summary["config"], sort_keys=True),
    }


def write_row(row: dict[str, Any], job_dir: str | os.PathLike) -> Path:
    """Write ``row.json`` atomically: a temporary file, flushed to disk, then renamed over the target.

    A job killed at any moment leaves either no row or a whole one, never half of one; the merge
    ignores the temporary file."""
    return atomic_write_text(Path(job_dir) / ROW_FILE, json.dumps(json_safe(row)), sync=True)


def read_row(path: str | os.PathLike) -> dict[str, Any] | None:
    """A row file's contents, or None if it is unreadable (it then counts as not done)."""
    try:
        with open(path) as fh:
            row = json.load(fh)
    except (OSError, ValueError):
        return None
    return row if isinstance(row, dict) and "config_hash" in row else None


@functools.cache
def model_code_hash() -> str:
    """A fingerprint of the model's source: every module of the ``sim`` package outside ``sim.sweep``.

    A resumed sweep reuses a row only if the code that produced it is the code about to run; a git
    commit would be too coarse (committing an experiment file would void every row) and too fine at
    once (an uncommitted model edit would not), so the source itself is hashed."""
    root = Path(__file__).resolve().parent.parent
    digest = hashlib.sha256()
    for path in sorted(root.glob("*.py")):
        digest.update(path.name.encode() + b"\0" + path.read_bytes())
    return digest.hexdigest()[:16]


def same_code(row: dict[str, Any], version: str, code: str) -> bool:
    """Was this row simulated by the same model code (same version, same model source)?"""
    return row.get("version") == version and row.get("code_hash") == code
