"""Stacked sweep points: several points of a sweep run as ONE model, each point a block of its worlds.

A sweep point of 1,000 worlds pays the per-call overhead of NumPy on every daily operation (917 ns per
replicate-day against 265 ns at R = 10,000, issue 11). Points that differ only in policy levers the model
reads per world (``STACKABLE``) are stacked on the replicate axis: a model of K x R worlds whose levers are
per-world arrays (``model.lever``). Block k's worlds draw the random numbers of a run of point k alone
(``RandomStreams(block=R)``) and every lever is computed by the same scalar arithmetic as a run of that
point alone (``model.by_policy``), so each point's outcomes, per-day aggregates and per-year counts are bit
for bit those of its own run (tests/test_stacking.py).

Hydra's contract stays one job per point (its directory, files, row and job number): the sweeper
writes which consecutive points form a stack (``STACK_FILE`` in the sweep directory) and hands the
launcher's workers one task per stack (sim.sweep.batch). The first job of a stack simulates the stack
from its own point on and keeps the other points' results in the process; their jobs then only write
their files. A stack split over two launch chunks is simulated in two parts, never twice. Only launchers
that run a batch in one process stack (joblib, basic); on others (Ray, Slurm) every job runs alone, as
before.
"""

from __future__ import annotations

import dataclasses
import hashlib
import json
import math
import time
from dataclasses import asdict
from pathlib import Path
from typing import Any

from sim.config import PolicyConfig, RunConfig

# NumPy, pandas and the model are imported where a stack is simulated (run_stack): the sweeping process
# imports this module to plan the stacks and needs none of them.

#: The sweep directory's record of which consecutive points run as one model.
STACK_FILE = ".pdsim-stacks.json"

#: The levers the model reads per world (``model.lever`` / ``model.by_policy``); points that differ in any other
#: setting never share a model. Not here: ``intervene`` and ``tool`` (which steps run, how high the ladder goes),
#: ``roster_size`` (the envoys built), ``early_warning`` and ``financial_incentives`` (observers' noise and the
#: actors' leverage, fixed at the start), and any lever added later until the model reads it per world.
STACKABLE = ("warning_to_action_lag_days", "flexibility", "partnership", "information_sharing", "coordination",
             "burden_sharing", "sustainability_days", "ladder_days", "funding_predictability")

#: Worlds past which a model is clear of NumPy's per-call overhead (R = 10,000 is close to the kernel's floor):
#: a lone point this large runs alone, as a single run does (with its progress lines).
STACK_WORLDS = 24_000

#: The most worlds in one stacked model. Each stack pays a fixed cost besides its worlds (building the model,
#: running the twin's block, composing its first point), so fewer, larger stacks are cheaper: lag_sweep's
#: points cost 139 ms of CPU each in stacks of 18, 112 ms in stacks of 36 and 102 ms in one of 72 (29 Nov
#: 2026); on one worker, one stack of 72 took lag_sweep from 13.9 to 12.8 s against two of 36 (30 Nov, four
#: interleaved rounds). The model's cost per world is flat from about 10,000 worlds on (docs/BENCHMARKS.md), and
#: memory caps a stack separately (plan_stacks), so this cap bounds what a stopped sweep loses and the wait
#: between progress lines (a stack's points get their rows together, when it is done): 72,000 worlds over 365
#: days is about 5 s of model time here.
STACK_MAX_WORLDS = 72_000

#: Launchers whose workers run a batch of jobs in one process (where a stack's results can be shared).
LOCAL_LAUNCHERS = ("JoblibLauncher", "BasicLauncher")


def stack_key(config: RunConfig) -> str:
    """Points with the same key can share a model: everything but the stackable policy levers is equal."""
    data = asdict(config)
    world = data["scenario"].get("world") or {}
    if isinstance(world, dict) and world.get("reform") and world.get("reform_year"):
        # A reform replaces the policy mid-run (world mode): a stack's levers would not follow it. Alone.
        return hashlib.sha256(json.dumps(data, sort_keys=True, default=str).encode()).hexdigest()[:16] + "-alone"
    data["policy"] = {k: v for k, v in data["policy"].items() if k not in STACKABLE}
    text = json.dumps(data, sort_keys=True, separators=(",", ":"), default=str)
    return hashlib.sha256(text.encode()).hexdigest()[:16]


def plan_stacks(keys: list[str], replicates: list[int], workers: int = 1,
                memory_of=None, available: float | None = None) -> list[list[int]]:
    """Stacks of consecutive points (indices into the list) with the same key; singletons run alone.

    Consecutive only, so that job numbers stay those of an unstacked sweep. A run of n stackable points of R
    worlds is cut into as few stacks of equal size as hold at most STACK_MAX_WORLDS worlds each; runs are cut
    further, the largest stacks first, until the number of stacks is a multiple of ``workers`` (each worker
    gets the same share: ``lag_sweep``'s 72 points of 1,000 worlds run as one stack of 72 on one worker and as
    two of 36 on two). ``memory_of(worlds)`` and ``available`` bytes cap a stack's size so that ``workers``
    stacks fit in memory at once."""
    runs: list[list[int]] = []
    for i, key in enumerate(keys):
        if runs and keys[runs[-1][-1]] == key:
            runs[-1].append(i)
        else:
            runs.append([i])
    parts = []  # stacks per run
    for run in runs:
        n, r = len(run), max(replicates[run[0]], 1)
        cap = max(1, STACK_MAX_WORLDS // r)
        if memory_of is not None and available is not None:
            while cap > 1 and workers * memory_of(cap * r) > available:
                cap -= 1
        parts.append(math.ceil(n / cap))
    workers = max(workers, 1)
    while sum(parts) % workers:
        i = max(range(len(runs)), key=lambda j: len(runs[j]) / parts[j])
        if parts[i] >= len(runs[i]):
            break  # every stack is a single point already
        parts[i] += 1
    stacks = []
    for run, m in zip(runs, parts, strict=True):
        size = math.ceil(len(run) / m)
        stacks += [run[j:j + size] for j in range(0, len(run), size)]
    return stacks


def write_stacks(sweep_dir: Path, stacks: list[list[dict[str, Any]]]) -> None:
    """Record the stacks (each point: its overrides, config hash and resolved policy) for the jobs."""
    from sim.files import atomic_write_text

    atomic_write_text(Path(sweep_dir) / STACK_FILE, json.dumps({"stacks": stacks}))


def clear_stacks(sweep_dir: Path) -> None:
    (Path(sweep_dir) / STACK_FILE).unlink(missing_ok=True)


# -- the job's side --------------------------------------------------------------------------------
_PLAN: dict[str, Any] = {"path": None, "mtime": None, "index": {}}
_RESULTS: dict[str, Any] = {}  # config hash -> RunResult, simulated by an earlier job of this process


def _stack_of(sweep_dir: Path, overrides: tuple[str, ...]) -> tuple[list[dict], int] | None:
    path = Path(sweep_dir) / STACK_FILE
    try:
        mtime = path.stat().st_mtime_ns
    except OSError:
        return None
    if _PLAN["path"] != str(path) or _PLAN["mtime"] != mtime:
        try:
            stacks = json.loads(path.read_text())["stacks"]
        except (OSError, ValueError, KeyError):
            return None
        index = {tuple(p["overrides"]): (stack, i) for stack in stacks for i, p in enumerate(stack)}
        _PLAN.update(path=str(path), mtime=mtime, index=index)
    return _PLAN["index"].get(tuple(overrides))


def _world(config: RunConfig) -> bool:
    """Is this a world-mode config (its sites are built from the country table by sim.runner.resolve)?"""
    return bool(getattr(getattr(config.scenario, "world", None), "countries", None))


def fast_resolve(cfg: Any) -> RunConfig:
    """The job's RunConfig: a Hydra-composed config is already typed by the schema, so OmegaConf.to_object
    gives what sim.runner.resolve gives, at a fraction of the cost (the caller checks the config hash)."""
    from omegaconf import OmegaConf, open_dict

    node = OmegaConf.masked_copy(cfg, [k for k in cfg if k != "hydra"]) if "hydra" in cfg else cfg
    with open_dict(node):
        config = OmegaConf.to_object(node)
    if not isinstance(config, RunConfig) or _world(config):  # a world builds its sites in resolve
        from sim.runner import resolve

        config = resolve(cfg)
    return config


def fast_twin(config: RunConfig) -> RunConfig:
    """The counterfactual twin; the default twin (no intervention: no field follows ``intervene``) without
    composing the config again."""
    from sim.config import NO_INTERVENTION, twin_policy
    from sim.runner import twin_config

    if twin_policy(config.counterfactual) == NO_INTERVENTION and not _world(config):
        return dataclasses.replace(config, policy=dataclasses.replace(config.policy, intervene=False))
    return twin_config(config)


def stacked_result(cfg: Any, sweep_dir: Path, overrides: tuple[str, ...]):
    """This job's RunResult from a stack (simulated now, from this point on, or earlier in this process);
    None when the point is not stacked (the job then runs it alone)."""
    from sim.sweep.rows import config_hash

    found = _stack_of(sweep_dir, overrides)
    if found is None:
        return None
    stack, pos = found
    me = stack[pos]
    if me["hash"] in _RESULTS:
        return _RESULTS.pop(me["hash"])
    config = fast_resolve(cfg)
    if config_hash(config) != me["hash"]:
        return None  # not the config the sweeper planned (cannot happen unless the files changed): run alone
    configs = [config]
    for p in stack[pos + 1:]:
        other = dataclasses.replace(config, policy=PolicyConfig(**p["policy"]))
        if config_hash(other) != p["hash"]:
            break  # not what the sweeper planned: the rest run alone
        configs.append(other)
    if len(configs) == 1 and config.replicates >= STACK_WORLDS:
        return None  # a big lone point runs as before (with its progress lines); composing is cheap beside it
    results = run_stack(configs)  # a small lone point too: it skips composing the config and its twin again
    for c, r in zip(configs[1:], results[1:], strict=True):
        _RESULTS[config_hash(c)] = r
    return results[0]


def run_stack(configs: list[RunConfig]) -> list:
    """Simulate points that differ only in stackable levers as one model (and one twin); one RunResult each,
    as ``sim.runner.run(config, keep_models=False)`` would give it."""
    import numpy as np
    import pandas as pd

    from sim.model import PreventiveDiplomacyModel
    from sim.results import RunResult, world_outcomes
    from sim.validation import validate
    from sim.years import counts_of

    configs = [validate(c) for c in configs]
    K, B = len(configs), configs[0].replicates
    if len({stack_key(c) for c in configs}) != 1:
        raise ValueError("run_stack: the points differ in more than their stackable levers")

    def simulate(cs):
        # The event log is not part of a sweep point's files (run_job keeps no model): not recorded.
        base = dataclasses.replace(cs[0], output=dataclasses.replace(cs[0].output, events=False))
        n = len(cs)
        model = PreventiveDiplomacyModel(base, replicates=n * B, policies=[c.policy for c in cs])
        start = time.perf_counter()
        model.run()
        seconds = (time.perf_counter() - start) / n  # each point's share
        outcomes, years = world_outcomes(model), counts_of(model)
        parts = []
        for k in range(n):
            sl = slice(k * B, (k + 1) * B)
            series = (pd.DataFrame({name: model.block_series[name][k] for name in model.block_series}) if n > 1
                      else model.datacollector.get_model_vars_dataframe())
            part_years = dataclasses.replace(years) if dataclasses.is_dataclass(years) else type(years)(**vars(years))
            part_years.year_conflict_days = np.ascontiguousarray(years.year_conflict_days[:, :, sl])
            part_years.year_war_days = np.ascontiguousarray(years.year_war_days[:, :, sl])
            part_years.replicates = B
            parts.append(({n: np.ascontiguousarray(v[sl]) for n, v in outcomes.items()}, series, seconds, part_years))
        return parts

    policy = simulate(configs)
    twins = [validate(fast_twin(c)) for c in configs] if configs[0].counterfactual.enabled else None
    twin = None
    if twins and not any(t.policy.intervene for t in twins):
        # Nobody acts in a twin without intervention, so no lever is read (every responder's step is skipped):
        # the points' twins are the same run. One block serves them all (tests/test_stacking.py checks each
        # point's twin against the twin of its own run).
        one = simulate(twins[:1])[0]
        twin = [({n: v.copy() for n, v in one[0].items()}, one[1].copy(), one[2] / K, one[3]) for _ in configs]
    elif twins:
        twin = simulate(twins)
    results = []
    for k, c in enumerate(configs):
        o, ts, sec, yrs = policy[k]
        r = RunResult(config=c, outcomes=o, timeseries=ts, simulation_seconds=sec, years=yrs)
        if twin is not None:
            r.twin_outcomes, r.twin_timeseries, r.counterfactual_seconds, r.twin_years = twin[k]
        results.append(r)
    return results
