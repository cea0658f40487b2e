"""Space-filling and screening designs over lever ranges: Latin hypercube, Morris, Sobol (Saltelli).

Used by the ``design`` Hydra sweeper. A lever's range is declared in the schema (sim/config.py,
``range`` metadata) and can be narrowed per sweep. Integer levers (days, envoys) are rounded.
"""

from __future__ import annotations

from dataclasses import dataclass, fields
from typing import Any

import numpy as np

from sim.config import HEADLINE_LEVERS, RunConfig

METHODS = ("lhs", "morris", "sobol")


@dataclass
class Lever:
    key: str  # dotted config key, e.g. policy.flexibility
    low: float
    high: float
    integer: bool


def schema_field(key: str):
    node: Any = RunConfig()
    *path, last = key.split(".")
    for part in path:
        node = getattr(node, part)
    return next(f for f in fields(node) if f.name == last), getattr(node, last)


def declared_lever(key: str, low: float | None = None, high: float | None = None) -> Lever:
    """A lever with the schema's range, optionally narrowed; raises ValueError naming the problem."""
    try:
        f, default = schema_field(key)
    except (AttributeError, StopIteration):
        raise ValueError(f"{key} is not a parameter of the schema (see sim/config.py)") from None
    lo, hi = f.metadata.get("range", (None, None))
    if isinstance(default, bool) or not isinstance(default, (int, float)):
        raise ValueError(f"{key} is not numeric: a design needs a numeric lever")
    low = lo if low is None else low
    high = hi if high is None else high
    if low is None or high is None:
        raise ValueError(f"{key} has an open range ({lo}, {hi}): give both ends, "
                         f"e.g. {key}='interval(0, 10)'")
    if (lo is not None and low < lo) or (hi is not None and high > hi) or not low < high:
        raise ValueError(f"{key} range [{low}, {high}] is not allowed: the schema allows [{lo}, {hi}] "
                         "and the low end must be below the high end")
    return Lever(key, float(low), float(high), isinstance(default, int))


def default_levers() -> list[Lever]:
    return [declared_lever(f"policy.{name}") for name in HEADLINE_LEVERS]


def sample(method: str, levers: list[Lever], n: int, seed: int = 0, *, morris_levels: int = 4,
           second_order: bool = False) -> np.ndarray:
    """The design matrix, one row per point, in lever units.

    ``n`` is the number of points for ``lhs``, of trajectories for ``morris`` (n x (k+1) points) and
    the base sample for ``sobol`` (n x (k+2) points, or n x (2k+2) with second-order indices)."""
    if method not in METHODS:
        raise ValueError(f"hydra.sweeper.method = {method!r} is not allowed: "
                         f"choose one of {', '.join(METHODS)}")
    if isinstance(n, bool) or not isinstance(n, int) or n < 1:
        raise ValueError(f"hydra.sweeper.n = {n} is out of range: allowed a whole number n >= 1")
    if not levers:
        raise ValueError("a design needs at least one lever: give key='interval(lo, hi)' or hydra.sweeper.levers")
    if method == "morris" and (isinstance(morris_levels, bool) or not isinstance(morris_levels, int)
                               or morris_levels < 2 or morris_levels % 2):
        raise ValueError(f"hydra.sweeper.morris_levels = {morris_levels} is not allowed: Morris needs an even "
                         "number of grid levels >= 2 (4 is the usual choice)")
    if method == "sobol" and n & (n - 1):
        below, above = 1 << (n.bit_length() - 1), 1 << n.bit_length()
        raise ValueError(f"hydra.sweeper.n = {n} is not allowed for a Sobol design: the base sample must be a "
                         f"power of 2 for the Sobol sequence to keep its balance (e.g. {below} or {above})")
    k = len(levers)
    lows = np.array([lv.low for lv in levers])
    highs = np.array([lv.high for lv in levers])
    if method == "lhs":
        from scipy.stats import qmc

        unit = qmc.LatinHypercube(d=k, seed=seed).random(n)
        x = qmc.scale(unit, lows, highs)
    else:
        problem = {"num_vars": k, "names": [lv.key for lv in levers],
                   "bounds": np.column_stack([lows, highs])}
        if method == "morris":
            from SALib.sample import morris

            x = morris.sample(problem, n, num_levels=morris_levels, seed=seed)
        else:
            from SALib.sample import sobol

            x = sobol.sample(problem, n, calc_second_order=second_order, scramble=True, seed=seed)
    for j, lv in enumerate(levers):
        if lv.integer:
            x[:, j] = np.clip(np.rint(x[:, j]), np.ceil(lv.low), np.floor(lv.high))
    return x


def design_size(method: str, k: int, n: int, second_order: bool = False) -> int:
    """Number of points a design of ``n`` with ``k`` levers has (before integer rounding merges any)."""
    return {"lhs": n, "morris": n * (k + 1), "sobol": n * (2 * k + 2 if second_order else k + 2)}[method]


def analyse(method: str, levers: list[Lever], x: np.ndarray, y: np.ndarray, *, morris_levels: int = 4,
            second_order: bool = False, seed: int = 0) -> list[dict[str, Any]]:
    """Sensitivity indices of ``y`` (one value per design row) per lever: Morris mu*/sigma or Sobol S1/ST."""
    problem = {"num_vars": len(levers), "names": [lv.key for lv in levers],
               "bounds": [[lv.low, lv.high] for lv in levers]}
    if method == "morris":
        from SALib.analyze import morris

        res = morris.analyze(problem, x, y, num_levels=morris_levels, seed=seed)
        return [{"lever": lv.key, "mu_star": res["mu_star"][i], "mu_star_conf": res["mu_star_conf"][i],
                 "mu": res["mu"][i], "sigma": res["sigma"][i]} for i, lv in enumerate(levers)]
    if method == "sobol":
        from SALib.analyze import sobol

        res = sobol.analyze(problem, y, calc_second_order=second_order, seed=seed)
        return [{"lever": lv.key, "S1": res["S1"][i], "S1_conf": res["S1_conf"][i], "ST": res["ST"][i],
                 "ST_conf": res["ST_conf"][i]} for i, lv in enumerate(levers)]
    return []
