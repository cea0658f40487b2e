"""Before any job starts: compose every point, validate it, and find the points still to simulate.

A sweep that fails at point 57 of 72 after an hour wastes the hour; so every point is composed as
its job will compose it and checked by :func:`sim.validation.unknown_keys` and
:func:`sim.validation.problems` up front (the twin differs only by ``counterfactual.policy``, whose
values ``problems`` checks too).
The same composition gives each point's config hash, which a resumed sweep matches against the
rows already in the sweep directory.
"""

from __future__ import annotations

import contextlib
import difflib
import json
import re
from collections.abc import Callable, Sequence
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

from omegaconf import DictConfig, OmegaConf, open_dict

from sim.config import RunConfig, walk_params
from sim.files import atomic_write_text
from sim.sweep.rows import config_hash, describe_bad, same_code, scan_rows

#: The sweep's own record in its directory: the points, their hashes and the swept keys.
PLAN_FILE = "sweep.json"

#: An invalid row file is renamed to this (beside it), so that no later merge reads it again.
INVALID_ROW_FILE = "row.invalid.json"


class SweepInputError(ValueError):
    """Bad sweep input, found before any job started; one line per problem, each naming the point."""

    def __init__(self, problems: list[str]):
        self.problems = problems
        super().__init__("invalid sweep, no job was started:\n  - " + "\n  - ".join(problems))


@dataclass
class Point:
    """One parameter point of a sweep, composed and validated."""

    index: int  # position in the sweep as declared (0-based)
    overrides: list[str]  # every Hydra override of this point's job
    label: str  # the swept part of the overrides, for messages
    config_hash: str
    values: dict[str, Any] = field(default_factory=dict)  # swept key -> typed value
    memory: float = 0.0  # estimated peak bytes of the point's job (sim.validation.memory_estimate)


def known_keys(node: Any = None) -> list[str]:
    """Every settable dotted key of the schema (for 'did you mean' hints)."""
    return [name for name, _, _ in walk_params(RunConfig() if node is None else node)]


def _did_you_mean(key: str, candidates: list[str]) -> str:
    close = difflib.get_close_matches(key, candidates, n=1, cutoff=0.7)
    return f"; did you mean {close[0]}?" if close else ""


def _first_lines(exc: BaseException, base: DictConfig | None = None) -> str:
    """The informative part of a Hydra/OmegaConf error, on one line, without the stack.

    ``base`` (the sweep's config without the point's overrides) lets a missing key be answered with
    the keys that do exist there, e.g. the site names of the chosen scenario."""
    text = " ".join(line.strip() for line in str(exc).strip().splitlines() if line.strip())
    cause = exc.__cause__
    if cause is not None and str(cause).strip() and str(cause).strip() not in text:
        text += " " + " ".join(line.strip() for line in str(cause).strip().splitlines() if line.strip())
    unknown = re.search(r"Key '([^']+)' not in '([^']+)'", text)
    missing = re.search(r"Key '([^']+)' is not in struct", text)
    full = re.search(r"full_key: (\S+)", text)
    if unknown and full:  # a key the schema does not have: say so plainly, and suggest the near miss
        return (f"{full.group(1)} is not a parameter ({unknown.group(2)} has no field '{unknown.group(1)}')"
                + _did_you_mean(full.group(1), known_keys()))
    if missing and full:  # e.g. a site name the chosen scenario does not have
        parent = full.group(1).rpartition(".")[0]
        node = OmegaConf.select(base, parent, default=None) if base is not None and parent else None
        choices = f": {parent} has {', '.join(map(str, node.keys()))}" if OmegaConf.is_dict(node) else ""
        return f"{full.group(1)} does not exist in this configuration{choices}"
    return text


def compose_point(load: Callable[[list[str]], DictConfig], overrides: list[str]):
    """The point's composed config and its resolved RunConfig, or raise with Hydra's message.

    The composed config is already typed by the schema, so OmegaConf.to_object gives the same
    RunConfig as sim.runner.resolve (the job's path; tests check the hashes agree), 15x faster."""
    cfg = load(list(overrides))
    with open_dict(cfg):
        cfg.pop("hydra", None)  # the job sees the config without the hydra node; so must the hash
    config = OmegaConf.to_object(cfg)
    if not isinstance(config, RunConfig) or config.scenario.world.countries:  # a world builds its sites in resolve
        from sim.runner import resolve

        config = resolve(cfg)
    return config, cfg


class PointLoader:
    """Compose a point's config for planning: the fast sweep loader, without the hydra node."""

    def __init__(self, loader: Any, master: DictConfig):
        from sim.sweep.compose import FastSweepConfigLoader

        self.loader = FastSweepConfigLoader.wrap(loader)
        self.master = master
        self._structures: dict[tuple[str, ...], tuple[str, ...]] = {}

    def __call__(self, overrides: list[str]) -> DictConfig:
        cfg, structure = self.loader.task_config_and_structure(self.master, list(overrides))
        self._structures[tuple(overrides)] = structure
        return cfg

    def structure(self, overrides: list[str]) -> tuple[str, ...] | None:
        """A composed point's structural overrides (group choices, additions, deletions): points that share them
        differ only in values at keys the base already has, so their configs have the same keys."""
        return self._structures.get(tuple(overrides))


def plan_points(
    load: Callable[[list[str]], DictConfig],
    batch: Sequence[Sequence[str]],
    swept_keys: Sequence[str],
) -> list[Point]:
    """Compose and validate every point; raise SweepInputError listing every bad point and field."""
    from sim.validation import memory_estimate, problems, unknown_keys

    points, found = [], []
    unknown: dict[tuple[str, ...], list[str]] = {}  # per structure: a value override adds or removes no key
    for i, overrides in enumerate(batch):
        swept = [o for o in overrides if o.split("=", 1)[0].lstrip("+~") in swept_keys]
        label = f"point {i} ({' '.join(swept)})" if swept else f"point {i}"
        try:
            config, cfg = compose_point(load, list(overrides))
        except Exception as exc:  # noqa: BLE001 -- any composition error is the user's input
            found.append(f"{label}: {_first_lines(exc, getattr(load, 'master', None))}")
            continue
        # (The twin differs only by counterfactual.policy, whose values problems() checks too.)
        structure = load.structure(overrides) if hasattr(load, "structure") else None
        structure = object() if structure is None else structure  # unknown: a check of its own
        if structure not in unknown:
            unknown[structure] = unknown_keys(cfg)
        bad = unknown[structure] + problems(config)
        found += [f"{label}: {p}" for p in bad]
        values = {}
        for key in swept_keys:
            v = OmegaConf.select(cfg, key, default=None)
            if v is None or OmegaConf.is_config(v):  # a config-group choice: keep the option's name
                v = next((o.split("=", 1)[1] for o in overrides if o.split("=", 1)[0].lstrip("+~") == key), v)
            values[key] = v
        memory = memory_estimate(config.replicates, len(config.scenario.sites), config.horizon_days)
        points.append(Point(i, list(overrides), label, config_hash(config), values, memory))
        points[-1].resolved = config  # not a field: kept out of sweep.json (sim.sweep.stack reads it)
    if found:
        # The same mistake at every point is one mistake: show each message once, with its first point.
        seen: dict[str, str] = {}
        for line in found:
            what = line.split(": ", 1)[1]
            seen.setdefault(what, line)
        extra = len(found) - len(seen)
        raise SweepInputError(list(seen.values()) + ([f"(and {extra} more points with the same problems)"]
                                                     if extra else []))
    return points


def existing_rows(sweep_dir: Path, version: str, code: str,
                  warn: Callable[[str], None] | None = None) -> dict[str, dict]:
    """Valid rows already in the sweep directory from the same model code, by config hash (newest wins).

    An unreadable or invalid row (sim.sweep.rows.check_row) does not count as done: ``warn`` is told
    which and why, and the file is renamed ``row.invalid.json`` beside it (kept for inspection, out of
    every later merge), so that its point is simulated again."""
    good, bad = scan_rows(sweep_dir)
    if bad:
        if warn:
            warn(describe_bad(bad, sweep_dir).replace("left out of the table (a resumed sweep simulates",
                                                      "set aside as row.invalid.json (this sweep simulates"))
        for path, _ in bad:
            with contextlib.suppress(OSError):
                path.rename(path.with_name(INVALID_ROW_FILE))
    rows: dict[str, dict] = {}
    for row in good:
        if same_code(row, version, code):
            old = rows.get(row["config_hash"])
            if old is None or str(row.get("timestamp")) >= str(old.get("timestamp")):
                rows[row["config_hash"]] = row
    return rows


def next_job_number(sweep_dir: Path) -> int:
    """The first job number not used by any directory in the sweep: a resumed job never writes into
    the directory of an earlier one (whose row may be another point's)."""
    if not sweep_dir.exists():
        return 0
    numbers = [int(p.name) for p in sweep_dir.iterdir() if p.is_dir() and p.name.isdigit()]
    return max(numbers, default=-1) + 1


def to_simulate(points: list[Point], done: dict[str, dict]) -> list[Point]:
    """Points with no row yet, each configuration once (a design may hit the same point twice)."""
    seen, todo = set(done), []
    for p in points:
        if p.config_hash not in seen:
            seen.add(p.config_hash)
            todo.append(p)
    return todo


def save_plan(sweep_dir: Path, points: list[Point], swept_keys: Sequence[str], **extra: Any) -> Path:
    """Write sweep.json (atomically): what the merge and the curves need to know about the sweep."""
    data = {
        "swept": list(swept_keys),
        "points": [asdict(p) for p in points],
        **extra,
    }
    return atomic_write_text(sweep_dir / PLAN_FILE, json.dumps(data, indent=1, default=str))


def load_plan(sweep_dir: Path) -> dict | None:
    try:
        return json.loads((Path(sweep_dir) / PLAN_FILE).read_text())
    except (OSError, ValueError):
        return None
