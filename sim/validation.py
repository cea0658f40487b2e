"""Input checks that run before any simulation: every problem named by field, value and what is allowed.

Hydra's structured-config schema already rejects wrong types and unknown keys; this adds the ranges,
choices and cross-field rules that a type cannot express.
"""

from __future__ import annotations

import difflib
import typing
from dataclasses import fields, is_dataclass
from typing import Any

from omegaconf import DictConfig

from sim.config import TOOLS, PolicyConfig, RunConfig, walk_params


class ConfigError(ValueError):
    """A user's configuration mistake; the message lists every problem found."""

    def __init__(self, problems: list[str]):
        self.problems = problems
        super().__init__("invalid configuration:\n  - " + "\n  - ".join(problems))


def _allowed(lo, hi) -> str:
    if lo is not None and hi is not None:
        return f"{lo} <= value <= {hi}"
    return f"value >= {lo}" if lo is not None else f"value <= {hi}"


def check_value(name: str, value, meta: dict) -> str | None:
    """The problem with one parameter value, or None."""
    if "choices" in meta and value not in meta["choices"]:
        return f"{name} = {value!r} is not allowed: choose one of {', '.join(map(str, meta['choices']))}"
    lo, hi = meta.get("range", (None, None))
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        return None
    if (lo is not None and value < lo) or (hi is not None and value > hi):
        unit = f" ({meta['unit']})" if meta.get("unit") else ""
        return f"{name} = {value} is out of range: allowed {_allowed(lo, hi)}{unit}"
    return None


def problems(cfg: RunConfig) -> list[str]:
    """Every problem in a resolved configuration."""
    found = [p for name, value, meta in walk_params(cfg) if (p := check_value(name, value, meta))]
    sc = cfg.scenario
    if not sc.sites:
        found.append("scenario.sites is empty: a scenario needs at least one site")
    for i, edge in enumerate(sc.borders):
        if len(edge) != 2 or not all(e in sc.sites for e in edge) or edge[0] == edge[1]:
            found.append(
                f"scenario.borders[{i}] = {list(edge)} is not a border: give two different site names "
                f"from {', '.join(sc.sites)}"
            )
    strengths = cfg.dynamics.tool_strength
    if len(strengths) != len(TOOLS) or any(s < 0 for s in strengths):
        found.append(
            f"dynamics.tool_strength = {list(strengths)}: give {len(TOOLS)} non-negative numbers, "
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
    return found


def unknown_keys(node: Any, schema: type = RunConfig, prefix: str = "") -> list[str]:
    """Keys in a composed config that the schema does not declare (e.g. a forced ``+policy.flexibilty``).

    Hydra's ``+key=value`` appends even to a typed node, so a typo would otherwise pass silently."""
    if not isinstance(node, (DictConfig, dict)) or not is_dataclass(schema):
        return []
    hints = typing.get_type_hints(schema)
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
