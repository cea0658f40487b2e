"""The ``design`` sweeper: points sampled over lever ranges instead of a grid, on any launcher.

    pdsim -m hydra/sweeper=design hydra.sweeper.method=lhs hydra.sweeper.n=200
    pdsim -m hydra/sweeper=design hydra.sweeper.method=morris hydra.sweeper.n=10 \\
          policy.flexibility='interval(0.2, 0.9)' policy.warning_to_action_lag_days='interval(0, 90)'

Levers and ranges: every ``interval(lo, hi)`` override (on the command line or in
``hydra.sweeper.params``) is a lever; with none, the levers listed in ``hydra.sweeper.levers``
(default: the headline levers of sim/config.py) over their declared ranges. Other overrides
(``replicates=200``) apply to every point. Morris and Sobol sweeps also write sensitivity.csv.
"""

# No `from __future__ import annotations`: Hydra's plugin scanner executes this module outside
# sys.modules, where dataclasses cannot resolve string annotations.
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Dict, List, Optional  # noqa: UP035 -- OmegaConf reads these annotations

from hydra.core.config_store import ConfigStore
from hydra.core.override_parser.overrides_parser import OverridesParser
from hydra.plugins.sweeper import Sweeper
from hydra.types import HydraContext, TaskFunction
from omegaconf import DictConfig


@dataclass
class DesignSweeperConf:
    _target_: str = "hydra_plugins.pdsim_sweepers.design.DesignSweeper"
    #: lhs (Latin hypercube, scipy.stats.qmc), morris or sobol (SALib samplers).
    method: str = "lhs"
    #: lhs: number of points; morris: trajectories (n x (k+1) points); sobol: base sample
    #: (n x (k+2) points, n x (2k+2) with second_order; a power of 2).
    n: int = 20
    #: The design's own seed (the model's seed, ``seed=``, is the same at every point).
    seed: int = 0
    #: Lever ranges {key: "interval(lo, hi)"} and fixed values {key: value}.
    params: Optional[Dict[str, str]] = None  # noqa: UP006, UP045
    #: Levers over their declared ranges when no interval is given (default: the headline levers).
    levers: Optional[List[str]] = None  # noqa: UP006, UP045
    morris_levels: int = 4
    second_order: bool = False
    max_batch_size: Optional[int] = None  # noqa: UP045
    #: Accepted so that an experiment's settings for the grid sweeper do not break a design run.
    curve_x: Optional[str] = None  # noqa: UP045
    title: str = ""
    #: Run neighbouring points that differ only in policy levers as one model (sim.sweep.stack; same numbers).
    stack: bool = True


ConfigStore.instance().store(group="hydra/sweeper", name="design", node=DesignSweeperConf, provider="pdsim")


def _value(x: float, integer: bool) -> str:
    return str(int(x)) if integer else repr(round(float(x), 10))


class DesignSweeper(Sweeper):
    def __init__(self, method: str = "lhs", n: int = 20, seed: int = 0, params: dict | None = None,
                 levers: list[str] | None = None, morris_levels: int = 4, second_order: bool = False,
                 max_batch_size: int | None = None, curve_x: str | None = None, title: str = "",
                 stack: bool = True) -> None:
        self.method, self.n, self.seed = method, n, seed
        self.stack = stack
        self.params = dict(params or {})
        self.levers_asked = list(levers) if levers else None
        self.morris_levels, self.second_order = morris_levels, second_order
        self.max_batch_size = max_batch_size
        self.config: DictConfig | None = None
        self.launcher = None
        self.hydra_context: HydraContext | None = None

    def setup(self, *, hydra_context: HydraContext, task_function: TaskFunction, config: DictConfig) -> None:
        from hydra.core.plugins import Plugins

        from sim.sweep.compose import FastSweepConfigLoader

        # Jobs compose their config through this loader: once per config-group combination, not per point.
        hydra_context = HydraContext(FastSweepConfigLoader.wrap(hydra_context.config_loader), hydra_context.callbacks)
        self.hydra_context, self.config = hydra_context, config
        self.launcher = Plugins.instance().instantiate_launcher(
            hydra_context=hydra_context, task_function=task_function, config=config
        )

    def _levers_and_fixed(self, arguments: list[str]):
        from sim.sweep.design import declared_lever, default_levers

        parser = OverridesParser.create(config_loader=self.hydra_context.config_loader)
        texts = [f"{k}={v}" for k, v in self.params.items()] + list(arguments)
        overrides = parser.parse_overrides(texts)
        levers, fixed = {}, []
        for o in overrides:
            key = o.key_or_group
            if o.is_interval_sweep():
                sweep = o.value()
                levers[key] = declared_lever(key, sweep.start, sweep.end)
            elif o.is_sweep_override():
                raise ValueError(f"{o.input_line}: the design sweeper takes lever ranges as "
                                 f"{key}='interval(lo, hi)', not lists or ranges of values")
            else:
                fixed.append(f"{o.get_key_element()}={o.get_value_element_as_str()}")
        if not levers:
            chosen = self.levers_asked
            levers = {lv.key: lv for lv in (map(declared_lever, chosen) if chosen else default_levers())}
        return list(levers.values()), fixed

    def sweep(self, arguments: list[str]) -> Any:
        from hydra_plugins.pdsim_sweepers._launch import fail, run_points
        from sim.sweep.design import sample

        try:
            levers, fixed = self._levers_and_fixed(list(arguments))
            x = sample(self.method, levers, self.n, self.seed, morris_levels=self.morris_levels,
                       second_order=self.second_order)
        except Exception as exc:  # noqa: BLE001 -- bad design input is the user's: one line, exit 2
            fail(f"invalid design, no job was started: {' '.join(str(exc).split())}")
        batch = [fixed + [f"{lv.key}={_value(v, lv.integer)}" for lv, v in zip(levers, row, strict=True)]
                 for row in x]
        returns = run_points(
            self, batch, [lv.key for lv in levers], design=self.method,
            levers=[vars(lv) for lv in levers], design_seed=self.seed, n=self.n,
        )
        try:
            self._sensitivity(levers, x)
        except Exception as exc:  # noqa: BLE001 -- the table is written; say why the indices are not
            import sys

            print(f"[pdsim sweep] could not compute the sensitivity indices ({self.method}): "
                  f"{' '.join(str(exc).split())}", file=sys.stderr)
        return returns

    def _sensitivity(self, levers, x) -> None:
        """sensitivity.csv for Morris / Sobol designs, once every design point has its row."""
        import sys

        import pandas as pd

        from sim.sweep.design import analyse
        from sim.sweep.plan import load_plan

        sweep_dir = Path(str(self.config.hydra.sweep.dir))
        table = sweep_dir / "results.parquet"
        design = pd.DataFrame(x, columns=[lv.key for lv in levers])
        design.to_csv(sweep_dir / "design.csv", index_label="point")
        if self.method == "lhs" or not table.exists():
            return
        df = pd.read_parquet(table)
        by_hash = dict(zip(df["config_hash"], df["escalation.probability"], strict=True))
        hashes = [p["config_hash"] for p in load_plan(sweep_dir)["points"]]
        if not all(h in by_hash for h in hashes):
            return  # an incomplete design has no valid indices; resume it first
        y = pd.Series([by_hash[h] for h in hashes]).to_numpy(dtype=float)
        rows = analyse(self.method, levers, x, y, morris_levels=self.morris_levels,
                       second_order=self.second_order, seed=self.seed)
        path = sweep_dir / "sensitivity.csv"
        pd.DataFrame(rows).to_csv(path, index=False)
        print(f"[pdsim sweep] sensitivity of escalation probability ({self.method}): {path}", file=sys.stderr)
