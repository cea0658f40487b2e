"""Input checks that run before any simulation: every problem named by field, value and what is allowed.

Hydra's structured-config schema already rejects wrong types and unknown keys; this adds what a type
cannot express:

- ranges and choices from the schema's metadata (sim/config.py), for every field found by
  :func:`sim.config.walk_params`, every site of the scenario included;
- every number finite: NaN and infinity are refused wherever they appear (a NaN compares false
  with every bound, so a range check alone lets it through), and a field whose range is open
  above or below is still refused beyond :data:`MAX_MAGNITUDE`;
- cross-field rules: sites, borders, the tool ladder, the twin's policy;
- names used in file paths (``scenario.name``) restricted to safe characters;
- a memory estimate from replicates, sites and horizon against the memory this machine has.
"""

from __future__ import annotations

import dataclasses
import difflib
import functools
import math
import os
import re
import typing
from dataclasses import fields, is_dataclass
from typing import Any

from omegaconf import DictConfig

from sim.config import DAYS_PER_YEAR, TOOLS, PolicyConfig, RunConfig, walk_params

#: Any number the schema leaves open-ended is refused beyond this magnitude (no parameter of the model
#: needs more; 1e308 would overflow the arithmetic into inf and NaN).
MAX_MAGNITUDE = 1e12

#: A name that becomes a directory (``outputs/<scenario.name>/...``): letters, digits, _ . -, no leading dot.
SAFE_NAME = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_.-]{0,99}$")


class ConfigError(ValueError):
    """A user's configuration mistake; the message lists every problem found."""

    def __init__(self, problems: list[str]):
        self.problems = problems
        super().__init__("invalid configuration:\n  - " + "\n  - ".join(problems))


def _allowed(lo, hi) -> str:
    if lo is not None and hi is not None:
        return f"{lo} <= value <= {hi}"
    return f"value >= {lo}" if lo is not None else f"value <= {hi}"


def _is_number(value: Any) -> bool:
    return isinstance(value, (int, float)) and not isinstance(value, bool)


def check_value(name: str, value, meta: dict) -> str | None:
    """The problem with one parameter value, or None."""
    if "choices" in meta and value not in meta["choices"]:
        return f"{name} = {value!r} is not allowed: choose one of {', '.join(map(str, meta['choices']))}"
    if not _is_number(value):
        return None
    lo, hi = meta.get("range", (None, None))
    unit = f" ({meta['unit']})" if meta.get("unit") else ""
    if not math.isfinite(value):
        return f"{name} = {value} is not a finite number: allowed {_allowed(lo, hi)}{unit}"
    if (lo is not None and value < lo) or (hi is not None and value > hi):
        return f"{name} = {value} is out of range: allowed {_allowed(lo, hi)}{unit}"
    if abs(value) > MAX_MAGNITUDE:  # an open end of the range is not a licence for 1e308
        return (f"{name} = {value} is out of range: allowed {_allowed(lo, hi)}{unit}, and at most "
                f"{MAX_MAGNITUDE:g} in magnitude")
    return None


def non_finite(tree: Any, prefix: str = "") -> list[str]:
    """Dotted names of every NaN or infinite number anywhere in a config (lists and dicts included)."""
    if is_dataclass(tree) and not isinstance(tree, type):
        tree = dataclasses.asdict(tree)
    found = []
    if isinstance(tree, dict):
        for key, value in tree.items():
            found += non_finite(value, f"{prefix}{key}.")
    elif isinstance(tree, (list, tuple)):
        for i, value in enumerate(tree):
            found += non_finite(value, f"{prefix[:-1]}[{i}].")
    elif isinstance(tree, float) and not math.isfinite(tree):
        found.append(prefix[:-1])
    return found


def problems(cfg: RunConfig) -> list[str]:
    """Every problem in a resolved configuration."""
    found = [p for name, value, meta in walk_params(cfg) if (p := check_value(name, value, meta))]
    named = {p.split(" ", 1)[0] for p in found}
    found += [f"{name} is not a finite number (NaN or infinity): give a finite value"
              for name in non_finite(cfg) if name not in named and name.split("[")[0] not in named]
    sc = cfg.scenario
    if not isinstance(sc.name, str) or not SAFE_NAME.match(sc.name) or ".." in sc.name:
        found.append(f"scenario.name = {sc.name!r} is not allowed: it names the output folder, so use letters, "
                     "digits, '_', '-' or '.' (not first), at most 100 characters, no '/' or '..'")
    if not sc.sites:
        found.append("scenario.sites is empty: a scenario needs at least one site (choose a preset with "
                     "scenario=NAME, or give sites such as scenario.sites.A.initial_tension=1.5)")
    found += rare_event_problems(sc)
    for i, edge in enumerate(sc.borders if sc.sites else []):
        if len(edge) != 2 or not all(e in sc.sites for e in edge) or edge[0] == edge[1]:
            found.append(
                f"scenario.borders[{i}] = {list(edge)} is not a border: give two different site names "
                f"from {', '.join(sc.sites)}"
            )
    strengths = cfg.dynamics.tool_strength
    if (len(strengths) != len(TOOLS) or not all(_is_number(s) for s in strengths)
            or any(not (0 <= s <= MAX_MAGNITUDE) for s in strengths)):
        found.append(
            f"dynamics.tool_strength = {list(strengths)}: give {len(TOOLS)} finite non-negative numbers, "
            f"one per rung ({', '.join(TOOLS)})"
        )
    policy_fields = {f.name: f for f in fields(PolicyConfig)}
    for key, value in cfg.counterfactual.policy.items():
        if key not in policy_fields:
            found.append(
                f"counterfactual.policy.{key} is not a policy field: choose from {', '.join(policy_fields)}"
            )
        elif (p := check_value(f"counterfactual.policy.{key}", value, dict(policy_fields[key].metadata))):
            found.append(p)
    found += world_problems(cfg, policy_fields)
    if not found and (p := memory_problem(cfg)):
        found.append(p)
    return found


def rare_event_problems(sc) -> list[str]:
    """One rare event a day at most: a site's triggers (the scenario's rate x its ``trigger_multiplier``) and
    preference shifts draw on one uniform a day (sim.model.experience_events). In world mode the multipliers come
    from ``scenario.world.trigger_history``, so the problem is reported once, naming it."""
    if not (_is_number(sc.trigger_rate_per_year) and _is_number(sc.preference_shift_per_year)):
        return []  # reported as such by check_value
    over = {name: sc.trigger_rate_per_year * site.trigger_multiplier for name, site in sc.sites.items()
            if _is_number(site.trigger_multiplier)
            and sc.trigger_rate_per_year * site.trigger_multiplier + sc.preference_shift_per_year > DAYS_PER_YEAR}
    if not over:
        return []
    worst = max(over, key=over.get)
    limit = (f"with {sc.preference_shift_per_year} preference shifts a year that is more than one rare event a day: "
             f"keep triggers and shifts at most {DAYS_PER_YEAR} a year at every site")
    if sc.world.countries:
        return [f"scenario.world.trigger_history = {sc.world.trigger_history} with scenario.trigger_rate_per_year = "
                f"{sc.trigger_rate_per_year} gives up to {over[worst]:g} triggers a year ({worst}; {len(over)} "
                f"countries over the limit); {limit}"]
    return [f"scenario.sites.{name}.trigger_multiplier = {sc.sites[name].trigger_multiplier} with "
            f"scenario.trigger_rate_per_year = {sc.trigger_rate_per_year} gives {rate:g} triggers a year; {limit}"
            for name, rate in over.items()]


def world_problems(cfg: RunConfig, policy_fields: dict) -> list[str]:
    """World mode's cross-field rules: the reform names policy levers with allowed values, after the start."""
    w, found = cfg.scenario.world, []
    if not w.countries:
        if w.reform_year or w.reform:
            found.append("scenario.world.reform_year / reform need a world: set scenario.world.countries (e.g. "
                         "scenario=world)")
        return found
    if w.reform_year and w.reform_year <= w.start_year:
        found.append(f"scenario.world.reform_year = {w.reform_year} is not after scenario.world.start_year = "
                     f"{w.start_year}: give a later year, or 0 for no reform")
    for key, value in w.reform.items():
        if key not in policy_fields or key == "intervene":
            allowed = ", ".join(k for k in policy_fields if k != "intervene")
            found.append(f"scenario.world.reform.{key} is not a lever a reform can change: choose from {allowed}")
        elif (p := check_value(f"scenario.world.reform.{key}", value, dict(policy_fields[key].metadata))):
            found.append(p)
    return found


# -- memory ---------------------------------------------------------------------------------------
#: Peak resident memory of a run (policy, then its twin), fitted to measurements of this model: the peak
#: RSS (ru_maxrss) of a fresh process running ``run(configure(...))``, 29 Nov 2026 (issue-6 model, 2 cores):
#:
#:     worlds   sites  days   peak RSS   of which after imports   estimate
#:     20,000     3      30    195 MB       41 MB                   242 MB
#:     20,000     3     365    205 MB       51 MB                   253 MB
#:     20,000     4     365    222 MB       68 MB                   263 MB
#:     20,000     3   1,095    221 MB       67 MB                   278 MB
#:     50,000     3     365    267 MB      113 MB                   334 MB
#:    200,000     3      10    479 MB      325 MB                   613 MB
#:    200,000     4      10    554 MB      400 MB                   707 MB
#:    200,000     3     365    573 MB      419 MB                   734 MB
#:
#: Large runs fit about 500 B per world + 375 B per world-site + 1.35 B per world-day (state arrays,
#: per-world outcomes, event log); the coefficients below are those times 1.25, plus 200 MB for the
#: interpreter and libraries (155 MB measured) and small-run overheads: the estimate errs on the side of
#: "needs more". Re-measure when the model's state changes.
MEMORY_BASE_BYTES = 200e6
MEMORY_PER_WORLD = 640.0
MEMORY_PER_WORLD_SITE = 470.0
MEMORY_PER_WORLD_DAY = 1.7


def memory_estimate(replicates: int, sites: int, horizon_days: int) -> float:
    """Bytes a single run (policy, then its twin) needs at its peak."""
    r, s, h = float(replicates), float(max(sites, 1)), float(horizon_days)
    return MEMORY_BASE_BYTES + r * (MEMORY_PER_WORLD + MEMORY_PER_WORLD_SITE * s + MEMORY_PER_WORLD_DAY * h)


def available_memory() -> float | None:
    """Bytes this process could still use: MemAvailable of /proc/meminfo (psutil if installed), capped by a
    cgroup limit (containers, Slurm); None where neither can be read."""
    avail = None
    try:
        import psutil  # optional

        avail = float(psutil.virtual_memory().available)
    except Exception:  # noqa: BLE001 -- not installed, or no /proc
        try:
            with open("/proc/meminfo") as fh:
                info = {line.split(":")[0]: line.split()[1] for line in fh}
            avail = float(info["MemAvailable"]) * 1024
        except (OSError, KeyError, IndexError, ValueError):
            avail = None
    try:
        with open("/sys/fs/cgroup/memory.max") as fh:
            limit = fh.read().strip()
        with open("/sys/fs/cgroup/memory.current") as fh:
            used = float(fh.read().strip())
        if limit != "max":
            room = float(limit) - used
            avail = room if avail is None else min(avail, room)
    except (OSError, ValueError):
        pass
    return avail


def _gb(n: float) -> str:
    return f"{n / 1e9:.1f} GB"


def memory_problem(cfg: RunConfig, workers: int = 1) -> str | None:
    """A message if ``workers`` runs of ``cfg`` at once will not fit in the available memory, else None.

    ``PDSIM_MEMORY_LIMIT_GB`` overrides the available memory (a test, or a share of a shared node)."""
    need = memory_estimate(cfg.replicates, len(cfg.scenario.sites), cfg.horizon_days) * max(workers, 1)
    limit = os.environ.get("PDSIM_MEMORY_LIMIT_GB")
    avail = float(limit) * 1e9 if limit else available_memory()
    if avail is None or need <= avail:
        return None
    who = f"{workers} runs at once, each" if workers > 1 else "this run"
    return (f"replicates = {cfg.replicates} with {len(cfg.scenario.sites)} sites and horizon_days = "
            f"{cfg.horizon_days}: {who} needs about {_gb(need / max(workers, 1))} of memory"
            f"{f' ({_gb(need)} in all)' if workers > 1 else ''}, but only {_gb(avail)} is available; "
            "use fewer replicates (and merge several seeds) or a shorter horizon")


# -- unknown keys ---------------------------------------------------------------------------------
#: A schema's field types, evaluated once (its string annotations cost 3 ms a config to evaluate again).
_type_hints = functools.cache(typing.get_type_hints)


def unknown_keys(node: Any, schema: type = RunConfig, prefix: str = "") -> list[str]:
    """Keys in a composed config that the schema does not declare (e.g. a forced ``+policy.flexibilty``).

    Hydra's ``+key=value`` appends even to a typed node, so a typo would otherwise pass silently."""
    if not isinstance(node, (DictConfig, dict)) or not is_dataclass(schema):
        return []
    hints = _type_hints(schema)
    found = []
    for key in node:
        if key not in hints:
            close = difflib.get_close_matches(str(key), list(hints), n=1)
            hint = f" (did you mean {prefix}{close[0]}?)" if close else ""
            found.append(f"{prefix}{key} is not a parameter{hint}: choose from {', '.join(hints)}")
            continue
        child, kind = node[key], hints[key]
        if is_dataclass(kind):
            found += unknown_keys(child, kind, f"{prefix}{key}.")
        elif typing.get_origin(kind) is dict and is_dataclass(typing.get_args(kind)[1]):
            for name in child:
                found += unknown_keys(child[name], typing.get_args(kind)[1], f"{prefix}{key}.{name}.")
    return found


def validate(cfg: RunConfig) -> RunConfig:
    """Raise ConfigError listing every problem; return the config unchanged if there is none."""
    if found := problems(cfg):
        raise ConfigError(found)
    return cfg
