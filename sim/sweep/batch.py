"""A stack's points run as Hydra jobs in ONE task of the launcher (issue 11: "batch at the launcher level").

Hydra's launchers run each job through ``hydra.core.utils.run_job``, which copies the whole config five times
(``HydraConfig.set_config`` three times, ``copy.deepcopy`` twice) and writes the job's three ``.hydra`` files
through PyYAML's pure-Python emitter: about 45 ms a point on lag_sweep, two thirds of a point's share of its
stacked model. A stack's points run in one process anyway (sim.sweep.stack), so for stacked sweeps the sweeper
hands a local launcher's workers one task per stack (``launch_stacks``). The task sets Hydra's state as the
launcher would in a worker (``setup_globals``, the Singletons), then runs every point of the stack through
``lean_job`` (the first one simulates the stack), which does what ``run_job`` does, in the same order, without
copying the config: the config Hydra would compose (``FastSweepConfigLoader``), ``hydra.job.id`` and ``num``,
``HydraConfig``, the job directory and ``hydra.runtime.output_dir``, the job's logging (``cli.log``), the three
``.hydra`` files with the same bytes (libyaml's emitter, checked against PyYAML's on the process's first files),
``hydra.job.env_set``, the callbacks, the task function and its ``JobReturn``.

Until 30 Nov 2026 (evening) a stack's first point ran through Hydra's own job (joblib's ``execute_job``, the
basic launcher's steps): 0.05-0.09 s more before the first simulation, in every worker.

So every point keeps its job number, directory, files and row, exactly as in an unstacked sweep
(tests/test_stacking.py compares the two sweeps file by file). Ray and Slurm run every job alone, as before.
"""

from __future__ import annotations

import logging
import os
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from hydra.core.hydra_config import HydraConfig
from hydra.core.singleton import Singleton
from hydra.core.utils import (
    JobReturn,
    JobRuntime,
    JobStatus,
    _flush_loggers,
    configure_log,
    env_override,
    filter_overrides,
    setup_globals,
)
from omegaconf import DictConfig, OmegaConf, flag_override, open_dict, read_write

log = logging.getLogger(__name__)

#: One job of a stack: its job number and its overrides.
Job = tuple[int, Sequence[str]]


def launch_stacks(launcher: Any, stacks: list[list[Job]]) -> list[JobReturn]:
    """Run ``stacks`` (consecutive jobs each) on a joblib or basic launcher, one launcher task per stack; the
    JobReturns in job order, as ``launcher.launch`` returns them."""
    from joblib import Parallel, delayed

    setup_globals()
    config = launcher.config
    configure_log(config.hydra.hydra_logging, config.hydra.verbose)
    sweep_dir = Path(str(config.hydra.sweep.dir))
    sweep_dir.mkdir(parents=True, exist_ok=True)
    kind = type(launcher).__name__
    jobs = sum(len(s) for s in stacks)
    log.info(f"Launching {jobs} jobs in {len(stacks)} stacks ({kind}), sweep output dir : {sweep_dir}")
    for stack in stacks:
        for idx, overrides in stack:
            log.info(f"\t#{idx} : {' '.join(filter_overrides(overrides))}")
    args = (launcher.hydra_context, config, launcher.task_function, Singleton.get_state(), kind)
    if kind == "JoblibLauncher":
        # The executor's arguments are those of Hydra's own launch, so joblib keeps its workers from one launch
        # chunk to the next; one stack per task, dispatched as workers free up.
        settings = launch_parallel_args(launcher.joblib)
        settings.update(batch_size=1, pre_dispatch="2*n_jobs")
        runs = Parallel(**settings)(delayed(run_stack_jobs)(stack, *args) for stack in stacks)
    else:
        runs = [run_stack_jobs(stack, *args) for stack in stacks]
    return [r for rs in runs for r in rs]


def launch_parallel_args(settings: dict) -> dict:
    """The arguments Hydra's joblib launcher gives ``joblib.Parallel`` (its ``launch``: backend forced to loky,
    sizes made integers). joblib reuses its workers only for a call whose executor arguments are all equal
    (``max_nbytes=None`` included, where joblib's default is "1M")."""
    from hydra_plugins.hydra_joblib_launcher._core import process_joblib_cfg

    kwargs = dict(settings, backend="loky")
    process_joblib_cfg(kwargs)
    return kwargs


def run_stack_jobs(stack: list[Job], hydra_context: Any, config: DictConfig, task_function: Any,
                   singleton_state: dict, kind: str) -> list[JobReturn]:
    """One launcher task: Hydra's state as the launcher sets it in a worker (``setup_globals``, the Singletons),
    then every job of the stack through ``lean_job``."""
    setup_globals()
    Singleton.set_state(singleton_state)
    returns = [lean_job(idx, _job_id(kind, config, idx), overrides, hydra_context, config, task_function)
               for idx, overrides in stack]
    if kind != "JoblibLauncher":  # the basic launcher gives Hydra its own logging back after a job; once a stack
        configure_log(config.hydra.hydra_logging, config.hydra.verbose)
    return returns


def _job_id(kind: str, config: DictConfig, idx: int) -> Any:
    """``hydra.job.id`` as the launcher sets it: joblib's ``<job name>_<num>``, the basic launcher's number."""
    return f"{config.hydra.job.name}_{idx}" if kind == "JoblibLauncher" else idx


def lean_job(idx: int, job_id: Any, overrides: Sequence[str], hydra_context: Any, master: DictConfig,
             task_function: Any) -> JobReturn:
    """What ``hydra.core.utils.run_job`` does for one sweep job, step for step, without its five copies of the
    config: the task config is composed with the job's (``load_job_configs``) rather than copied from it, and
    HydraConfig holds the job's hydra node itself (``_hydra_view``)."""
    # The pdsim sweepers hand their launcher a FastSweepConfigLoader (hydra_plugins/pdsim_sweepers: ``setup``).
    cfg, task_cfg = hydra_context.config_loader.load_job_configs(master, list(overrides))
    with open_dict(cfg):
        cfg.hydra.job.id = job_id
        cfg.hydra.job.num = idx
    hydra_config = HydraConfig.instance()
    old_cwd, old_hydra_cfg = os.getcwd(), hydra_config.cfg
    hydra_config.cfg = hydra_cfg = _hydra_view(cfg)  # interpolations below (and the task) read HydraConfig
    chdir = False
    try:
        output_dir = str(OmegaConf.select(cfg, "hydra.sweep.dir"))
        output_dir = os.path.abspath(os.path.join(output_dir, str(OmegaConf.select(cfg, "hydra.sweep.subdir"))))
        with read_write(cfg.hydra.runtime), open_dict(cfg.hydra.runtime):
            cfg.hydra.runtime.output_dir = output_dir
        ret = JobReturn()
        ret.cfg, ret.hydra_cfg = task_cfg, hydra_cfg
        ret.overrides = OmegaConf.to_container(cfg.hydra.overrides.task)
        Path(output_dir).mkdir(parents=True, exist_ok=True)
        chdir = _chdir(hydra_cfg)
        if chdir:
            os.chdir(output_dir)
        ret.working_dir = os.getcwd()
        configure_log(cfg.hydra.job_logging, cfg.hydra.verbose)
        if cfg.hydra.output_subdir is not None:
            record = Path(output_dir) / str(cfg.hydra.output_subdir)
            record.mkdir(parents=True, exist_ok=True)
            for name, node in (("config.yaml", task_cfg), ("hydra.yaml", hydra_cfg),
                               ("overrides.yaml", cfg.hydra.overrides.task)):
                (record / name).write_text(to_yaml(node, name), encoding="utf-8")
        callbacks = hydra_context.callbacks
        with env_override(hydra_cfg.hydra.job.env_set):
            callbacks.on_job_start(config=cfg, task_function=task_function)
            try:
                ret.return_value = task_function(task_cfg)
                ret.status = JobStatus.COMPLETED
            except Exception as e:  # noqa: BLE001 -- as run_job: the JobReturn carries the failure
                ret.return_value = e
                ret.status = JobStatus.FAILED
        ret.task_name = JobRuntime.instance().get("name")
        _flush_loggers()
        callbacks.on_job_end(config=cfg, job_return=ret)
        return ret
    finally:
        hydra_config.cfg = old_hydra_cfg
        if chdir:
            os.chdir(old_cwd)


def _hydra_view(cfg: DictConfig) -> DictConfig:
    """What ``HydraConfig.set_config(cfg)`` stores, holding the job's own hydra node instead of a copy of it.

    set_config copies the node (5 ms a job) so that the caller's config and HydraConfig cannot change each other;
    the job's config here was composed for this job alone, and both are meant to say the same. As in set_config,
    the node is read-only and its parent is the whole config (interpolations into the task's keys resolve)."""
    OmegaConf.set_readonly(cfg.hydra, True)
    view = OmegaConf.create({})
    with flag_override(view, "no_deepcopy_set_nodes", True):  # OmegaConf's own way to adopt a node uncopied
        view["hydra"] = cfg._get_node("hydra")
    view._get_node("hydra")._set_parent(cfg)
    return view


def _chdir(hydra_cfg: DictConfig) -> bool:
    """``hydra.job.chdir`` as run_job reads it: unset means no change of directory from version_base 1.2 on."""
    from hydra import version

    chdir = hydra_cfg.hydra.job.chdir
    return bool(chdir) if chdir is not None else not version.base_at_least("1.2")


# -- the .hydra files --------------------------------------------------------------------------------
#: libyaml's dumper, while it has matched PyYAML's text; False once it has not (or where libyaml is missing).
_FAST_YAML: Any = None
_CHECKED: set[str] = set()  # the files whose first dump in this process was checked both ways


def to_yaml(node: Any, name: str = "") -> str:
    """``OmegaConf.to_yaml(node)``'s text, through libyaml's emitter (about 2.5x faster on a job's config).

    The first dump of each file ``name`` in a process is made both ways: if the texts differ, this process
    writes every file through PyYAML, as Hydra does."""
    global _FAST_YAML
    if _FAST_YAML is None:
        _FAST_YAML = _libyaml_dumper()
    if _FAST_YAML is False:
        return OmegaConf.to_yaml(node)
    text = _dump(node, _FAST_YAML)
    if name not in _CHECKED:
        reference = OmegaConf.to_yaml(node)
        _CHECKED.add(name)
        if text != reference:
            _FAST_YAML = False
            return reference
    return text


def _libyaml_dumper() -> Any:
    import yaml

    if not getattr(yaml, "__with_libyaml__", False):
        return False
    from omegaconf._utils import OmegaConfDumper

    class Dumper(yaml.CDumper):
        pass

    Dumper.add_representer(str, OmegaConfDumper.str_representer)  # OmegaConf's quoting of '1', 'true', ...
    return Dumper


def _dump(node: Any, dumper: type) -> str:
    import yaml

    container = OmegaConf.to_container(node, resolve=False, enum_to_str=True)
    return yaml.dump(container, default_flow_style=False, allow_unicode=True, sort_keys=False, Dumper=dumper)
