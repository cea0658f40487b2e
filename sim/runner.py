"""Run a configuration: validate it, simulate the policy and its counterfactual twin, collect results.

Both runs share the seed, hence every random number (sim.streams): their per-world difference is
the effect of the policy alone (§59-60).
"""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import Any

from omegaconf import OmegaConf

from sim.config import NO_INTERVENTION, RunConfig, ScenarioConfig, load_policy, load_scenario, preset_extras
from sim.model import PreventiveDiplomacyModel
from sim.results import RunResult, world_outcomes
from sim.validation import ConfigError, unknown_keys, validate
from sim.world import world_sites
from sim.years import counts_of

Progress = Callable[[str, int, int], None]
_ABSENT = object()


def resolve(cfg: Any, policy_overrides: dict | None = None) -> RunConfig:
    """A plain, resolved RunConfig from a Hydra/OmegaConf config, a dict or a RunConfig.

    ``policy_overrides`` are merged into ``policy`` *before* interpolations resolve, so a twin that
    sets ``partnership`` also moves the detailed parameters that follow it."""
    if isinstance(cfg, RunConfig):
        cfg = OmegaConf.structured(cfg)
    elif isinstance(cfg, dict):
        cfg = OmegaConf.create(cfg)
    if unknown := unknown_keys(cfg):
        raise ConfigError(unknown)
    # A config that brings its own sites (even none: an empty region is an error, not the generic one) is
    # merged onto an empty scenario, never onto the default's; only a config without them gets the default.
    own_sites = OmegaConf.select(cfg, "scenario.sites", default=_ABSENT) is not _ABSENT
    world = bool(OmegaConf.select(cfg, "scenario.world.countries", default=""))
    node = OmegaConf.structured(RunConfig(scenario=ScenarioConfig()) if own_sites or world else RunConfig)
    try:
        node = OmegaConf.merge(node, cfg)
        if policy_overrides:
            node = OmegaConf.merge(node, {"policy": dict(policy_overrides)})
        OmegaConf.resolve(node)
        if world:
            node.scenario = with_world_sites(node.scenario)
        return OmegaConf.to_object(node)
    except Exception as exc:  # OmegaConf's own errors name the key; keep them, as ConfigError
        if isinstance(exc, ConfigError):
            raise
        raise ConfigError([str(exc).strip().splitlines()[0]]) from exc


def with_world_sites(scenario) -> Any:
    """A world scenario's node with its sites and borders built from its country table (sim.world) and the
    per-country changes of ``scenario.world.sites`` on top. Sites already built (a resolved world config read
    again) are kept; any other ``scenario.sites`` entry is refused (a country is changed through world.sites)."""
    try:
        sites, borders = world_sites(OmegaConf.to_object(scenario.world))
    except ValueError as err:
        raise ConfigError([str(err)]) from None
    if scenario.sites:
        if set(scenario.sites) != set(sites):
            raise ConfigError([f"scenario.sites.{name}: a world's countries come from scenario.world.countries; "
                               f"change one with scenario.world.sites.NAME.FIELD=VALUE (e.g. "
                               f"scenario.world.sites.Kenya.grievance=3)" for name in list(scenario.sites)[:3]])
        return scenario
    changes = scenario.world.sites
    if unknown := [name for name in changes if name not in sites]:
        raise ConfigError([f"scenario.world.sites.{name} is not a country of scenario.world.countries = "
                           f"{scenario.world.countries!r}" for name in unknown])
    node = OmegaConf.structured({"s": sites})["s"]
    for name, change in changes.items():
        try:
            node[name] = OmegaConf.merge(node[name], change)
        except Exception as exc:  # noqa: BLE001 -- an unknown field or a wrong type: name it
            raise ConfigError([f"scenario.world.sites.{name}: {str(exc).splitlines()[0]}"]) from None
    scenario.sites = node
    if not scenario.borders:
        scenario.borders = borders
    return scenario


def configure(*overrides: str) -> RunConfig:
    """A resolved RunConfig from Hydra-style dotted overrides, for use from Python:
    ``configure("scenario=kenya_2008", "policy.flexibility=0.9", "replicates=2000")``.
    ``scenario=NAME`` picks a preset from configs/scenario/ and ``policy=NAME`` one from configs/policy/
    (e.g. ``policy=kenya_2008``: the levers that case's responders used); the other overrides apply on top."""
    rest = [o for o in overrides if not o.startswith(("scenario=", "policy="))]
    node = OmegaConf.structured(RunConfig)
    for o in overrides:
        try:
            if o.startswith("scenario="):
                name = o.split("=", 1)[1]
                node.scenario = OmegaConf.structured(load_scenario(name))
                node = OmegaConf.merge(node, preset_extras(name))  # a world's horizon, replicates, levers
            elif o.startswith("policy="):
                node.policy = OmegaConf.merge(node.policy, load_policy(o.split("=", 1)[1]))
        except ValueError as err:
            raise ConfigError([str(err)]) from err
    return resolve(OmegaConf.merge(node, OmegaConf.from_dotlist(rest)))


def twin_config(cfg: Any) -> RunConfig:
    """The counterfactual twin: the same configuration with the counterfactual policy fields
    (no intervention at all when none are given)."""
    base = OmegaConf.structured(cfg) if isinstance(cfg, RunConfig) else OmegaConf.create(cfg)
    overrides = OmegaConf.select(base, "counterfactual.policy") or {}
    if not isinstance(overrides, dict):
        overrides = OmegaConf.to_container(overrides)
    return resolve(base, overrides or NO_INTERVENTION)


def simulate(config: RunConfig, progress: Callable[[int, int], None] | None = None):
    """Run one model to its horizon; return it and the wall time of the run (without start-up)."""
    model = PreventiveDiplomacyModel(config)
    start = time.perf_counter()
    model.run(progress)
    return model, time.perf_counter() - start


def run(cfg: Any, progress: Progress | None = None, keep_models: bool = True) -> RunResult:
    """Validate everything first, then simulate the policy and (if enabled) its twin."""
    config = validate(resolve(cfg))
    twin = validate(twin_config(cfg)) if config.counterfactual.enabled else None

    def stage(name):
        return (lambda day, horizon: progress(name, day, horizon)) if progress else None

    model, seconds = simulate(config, stage("policy"))
    result = RunResult(
        config=config,
        outcomes=world_outcomes(model),
        timeseries=model.datacollector.get_model_vars_dataframe(),
        simulation_seconds=seconds,
        model=model if keep_models else None,
        years=counts_of(model),
    )
    if twin is not None:
        twin_model, twin_seconds = simulate(twin, stage("counterfactual"))
        result.twin_outcomes = world_outcomes(twin_model)
        result.twin_timeseries = twin_model.datacollector.get_model_vars_dataframe()
        result.counterfactual_seconds = twin_seconds
        result.twin_model = twin_model if keep_models else None
        result.twin_years = counts_of(twin_model)
    return result
