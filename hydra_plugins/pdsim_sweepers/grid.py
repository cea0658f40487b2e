"""The ``grid`` sweeper: Hydra's basic sweeper (cartesian product of the swept values), but every
point is composed and validated before any job starts, points already in the sweep directory are
skipped (resume), and the table and curves are written at the end.

    pdsim -m +experiment=lag_sweep
    pdsim -m policy.flexibility=0.2,0.5,0.8 replicates=500
"""

# No `from __future__ import annotations`: Hydra's plugin scanner executes this module outside
# sys.modules, where dataclasses cannot resolve string annotations.
from dataclasses import dataclass
from typing import Any, Dict, Optional  # noqa: UP035 -- OmegaConf reads these annotations

from hydra._internal.core_plugins.basic_sweeper import BasicSweeper
from hydra.core.config_store import ConfigStore
from hydra.core.override_parser.overrides_parser import OverridesParser
from hydra.types import HydraContext, TaskFunction
from omegaconf import DictConfig


@dataclass
class GridSweeperConf:
    _target_: str = "hydra_plugins.pdsim_sweepers.grid.GridSweeper"
    max_batch_size: Optional[int] = None  # noqa: UP045
    params: Optional[Dict[str, str]] = None  # noqa: UP006, UP045
    #: The lever on the curves' x axis (default: the numeric swept lever with the most values).
    curve_x: Optional[str] = None  # noqa: UP045
    #: A title for the curves (experiments name their question here).
    title: str = ""
    #: Run neighbouring points that differ only in policy levers as one model (sim.sweep.stack; same numbers).
    stack: bool = True


ConfigStore.instance().store(group="hydra/sweeper", name="grid", node=GridSweeperConf, provider="pdsim")


class GridSweeper(BasicSweeper):
    def __init__(self, max_batch_size: int | None = None, params: dict[str, str] | None = None,
                 curve_x: str | None = None, title: str = "", stack: bool = True) -> None:
        super().__init__(max_batch_size=max_batch_size, params=params)
        self.stack = stack
        self.curve_x = curve_x
        self.title = title

    def setup(self, *, hydra_context: HydraContext, task_function: TaskFunction, config: DictConfig) -> None:
        # Jobs compose their config through this loader: once per config-group combination, not per point.
        from sim.sweep.compose import FastSweepConfigLoader

        hydra_context = HydraContext(FastSweepConfigLoader.wrap(hydra_context.config_loader), hydra_context.callbacks)
        super().setup(hydra_context=hydra_context, task_function=task_function, config=config)

    def sweep(self, arguments: list[str]) -> Any:
        from hydra_plugins.pdsim_sweepers._launch import fail, run_points

        parser = OverridesParser.create(config_loader=self.hydra_context.config_loader)
        try:
            overrides = parser.parse_overrides(self._parse_config() + list(arguments))
            batch = self.split_arguments(overrides, None)[0]
        except Exception as exc:  # noqa: BLE001 -- a malformed override is the user's input
            fail(f"invalid sweep, no job was started: {' '.join(str(exc).split())}")
        swept = [o.key_or_group for o in overrides if o.is_sweep_override()]
        self.overrides = [batch]
        self.batch_index = 1  # the whole grid is planned at once; run_points launches it
        return run_points(self, batch, swept, curve_x=self.curve_x, title=self.title)

