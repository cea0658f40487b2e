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
    from sim.results import json_safe  # here, not at the top: the sweeping process imports this module to
    # plan and merge, and sim.results brings SciPy, pandas and the model's agents (about 1 s)

    return atomic_write_text(Path(job_dir) / ROW_FILE, json.dumps(json_safe(row)), sync=True)


def read_row(path: str | os.PathLike) -> dict[str, Any] | None:
    """A row file's contents, or None if it is unreadable (it then counts as not done)."""
    try:
        with open(path) as fh:
            row = json.load(fh)
    except (OSError, ValueError):
        return None
    return row if isinstance(row, dict) and "config_hash" in row else None


#: Columns every row has (make_row writes them all), with the type each must have.
REQUIRED = {
    "config_hash": str, "version": str, "code_hash": str, "timestamp": str, "config": str, "scenario": str,
    "replicates": int, "seed": int, "horizon_days": int,
    "escalation.probability": float, "escalation.count": int,
}


def _int(value: Any) -> bool:
    return isinstance(value, int) and not isinstance(value, bool)


def check_row(row: dict[str, Any]) -> list[str]:
    """What is wrong with a row read from disk (empty if nothing): a hand edit, a skeleton, a bad copy.

    Checked: the columns every row has and their types; the config is JSON; every proportion section
    (``x.probability``, ``x.ci_low``, ``x.ci_high``, ``x.count``) is a probability in [0, 1] inside its
    interval with a whole count of worlds in [0, replicates]; no number is infinite."""
    found = []
    for key, kind in REQUIRED.items():
        value = row.get(key)
        if kind is int:
            ok = _int(value)
        elif kind is float:
            ok = isinstance(value, (int, float)) and not isinstance(value, bool)
        else:
            ok = isinstance(value, kind)
        if not ok:
            found.append(f"{key} = {value!r} is missing or not {'an integer' if kind is int else kind.__name__}")
    if found:
        return found
    n = row["replicates"]
    if n < 1 or row["horizon_days"] < 1 or row["seed"] < 0:
        found.append(f"replicates = {n}, horizon_days = {row['horizon_days']}, seed = {row['seed']}: not a run")
    try:
        json.loads(row["config"])
    except ValueError:
        found.append("config is not valid JSON")
    for key, value in row.items():
        if isinstance(value, float) and (value != value or value in (float("inf"), float("-inf"))):
            found.append(f"{key} = {value} is not finite")
        if not key.endswith(".probability"):
            continue
        section = key[: -len(".probability")]
        p, lo, hi, count = (row.get(f"{section}.{k}") for k in ("probability", "ci_low", "ci_high", "count"))
        if p is None:
            continue
        if not (isinstance(p, (int, float)) and 0 <= p <= 1):
            found.append(f"{key} = {p!r} is not a probability in [0, 1]")
            continue
        if (isinstance(lo, (int, float)) and isinstance(hi, (int, float))
                and not (0 <= lo <= p + 1e-12 and p - 1e-12 <= hi <= 1)):
            found.append(f"{section}: interval [{lo}, {hi}] does not contain {p} within [0, 1]")
        if f"{section}.count" in row and (not _int(count) or not 0 <= count <= n):
            found.append(f"{section}.count = {count!r} is not a whole number of worlds in [0, {n}]")
    return found


def scan_rows(sweep_dir: str | os.PathLike) -> tuple[list[dict[str, Any]], list[tuple[Path, str]]]:
    """Every row file under ``sweep_dir``: the valid rows, and (path, reason) for each unreadable or
    invalid one (which then counts as not done: a resumed sweep simulates its point again)."""
    good, bad = [], []
    for path in sorted(Path(sweep_dir).rglob(ROW_FILE)):
        row = read_row(path)
        if row is None:
            bad.append((path, "unreadable (not a JSON row with a config_hash)"))
        elif problems := check_row(row):
            more = f" (+{len(problems) - 3} more)" if len(problems) > 3 else ""
            bad.append((path, "; ".join(problems[:3]) + more))
        else:
            row["_path"] = str(path)
            good.append(row)
    return good, bad


def describe_bad(bad: list[tuple[Path, str]], root: str | os.PathLike, limit: int = 5) -> str:
    """'2 row files are unreadable or invalid ...: 3/row.json (escalation.count = -3 ...), ...'."""
    root = Path(root)
    items = []
    for path, why in bad[:limit]:
        try:
            name = path.relative_to(root)
        except ValueError:
            name = path
        items.append(f"{name} ({why})")
    more = f", and {len(bad) - limit} more" if len(bad) > limit else ""
    return (f"{len(bad)} row file{'s are' if len(bad) != 1 else ' is'} unreadable or invalid and "
            f"left out of the table (a resumed sweep simulates {'their points' if len(bad) != 1 else 'its point'} "
            f"again): " + "; ".join(items) + more)


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
