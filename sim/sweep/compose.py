"""Compose a sweep point's config fast, with the same result as Hydra's ``load_sweep_config``.

Hydra composes every job from scratch: the defaults tree, a dozen config files, the merges. That
takes about 0.1 s. Two points of a grid usually differ only in plain values (``policy.flexibility=0.5``),
not in config-group choices. So this loader composes once for each combination of *structural*
overrides: group choices, additions, deletions, hydra keys, and keys the base config lacks (their
errors stay Hydra's). For each point it then copies that base and does what Hydra does after
composing:

- it applies the value overrides (``ConfigLoaderImpl._apply_overrides_to_config``, Hydra's own
  step);
- it rebuilds ``hydra.overrides.task`` and ``hydra.job.override_dirname``;
- it copies the resolver cache from the master config, so that ``${now:}`` and the like resolve
  the same way.

``tests/test_sweep.py`` checks that the result equals Hydra's own, point by point.

The sweepers use it to plan (validate and hash every point), and hand it to the launcher inside the
HydraContext, so jobs compose fast too. The composed bases travel with it to the workers.
"""

from __future__ import annotations

import copy
from typing import Any

from hydra._internal.config_loader_impl import ConfigLoaderImpl, get_overrides_dirname
from hydra.core.override_parser.overrides_parser import OverridesParser
from omegaconf import DictConfig, OmegaConf, open_dict

#: Bases shipped to the workers with each job; more would make every job's payload heavy.
MAX_SHIPPED_BASES = 8


class FastSweepConfigLoader(ConfigLoaderImpl):
    """Hydra's config loader, with ``load_sweep_config`` composing once per structural combination."""

    @classmethod
    def wrap(cls, loader: ConfigLoaderImpl) -> FastSweepConfigLoader:
        if isinstance(loader, cls):
            return loader
        fast = cls.__new__(cls)
        fast.__dict__.update(loader.__dict__)
        fast._bases = {}
        return fast

    def __getstate__(self) -> dict:
        state = self.__dict__.copy()
        state.pop("_task_bases", None)  # planning only
        if len(state.get("_bases", {})) > MAX_SHIPPED_BASES:
            state["_bases"] = {}
        return state

    def _is_value(self, override: Any, base: DictConfig | None) -> bool:
        """A plain value override: applying it to a composed config is all Hydra would do with it."""
        if base is None or override.is_hydra_override() or override.package is not None:
            return False
        if override.is_add() or override.is_delete() or override.is_force_add() or override.is_sweep_override():
            return False
        node = OmegaConf.select(base, override.key_or_group, default=None, throw_on_missing=False)
        return node is not None and not OmegaConf.is_config(node)

    def _split(self, master_config: DictConfig, sweep_overrides: list[str]):
        parsed = OverridesParser.create(config_loader=self).parse_overrides(list(sweep_overrides))
        probe = next(iter(self._bases.values()), None)
        values = [o for o in parsed if self._is_value(o, probe)]
        structural = tuple(o.input_line for o in parsed if o not in values)
        if structural not in self._bases:
            self._bases[structural] = super().load_sweep_config(master_config, list(structural))
        return parsed, values, structural

    def load_task_config(self, master_config: DictConfig, sweep_overrides: list[str]) -> DictConfig:
        """The point's config as the job's task function sees it (no hydra node); for planning."""
        return self.task_config_and_structure(master_config, sweep_overrides)[0]

    def task_config_and_structure(self, master_config: DictConfig,
                                  sweep_overrides: list[str]) -> tuple[DictConfig, tuple[str, ...]]:
        """``load_task_config``, and the point's structural overrides: the base it was copied from."""
        _, values, structural = self._split(master_config, sweep_overrides)
        task_bases = self.__dict__.setdefault("_task_bases", {})
        if structural not in task_bases:
            base = copy.deepcopy(self._bases[structural])
            with open_dict(base):
                base.pop("hydra")
            task_bases[structural] = base
        cfg = copy.deepcopy(task_bases[structural])
        ConfigLoaderImpl._apply_overrides_to_config(values, cfg)
        return cfg, structural

    def load_sweep_config(self, master_config: DictConfig, sweep_overrides: list[str]) -> DictConfig:
        parsed, values, structural = self._split(master_config, sweep_overrides)
        if not values:
            cfg = copy.deepcopy(self._bases[structural])
            OmegaConf.copy_cache(from_config=master_config, to_config=cfg)
            return cfg
        cfg = copy.deepcopy(self._bases[structural])
        ConfigLoaderImpl._apply_overrides_to_config(values, cfg)
        app = [o for o in parsed if not o.is_hydra_override()]
        job = cfg.hydra.job
        with open_dict(cfg.hydra):
            cfg.hydra.overrides.task = [o.input_line for o in app]
            job.override_dirname = get_overrides_dirname(
                overrides=app,
                kv_sep=job.config.override_dirname.kv_sep,
                item_sep=job.config.override_dirname.item_sep,
                exclude_keys=job.config.override_dirname.exclude_keys,
            )
        OmegaConf.copy_cache(from_config=master_config, to_config=cfg)
        return cfg
