"""The main job, ``pdsim``: run a scenario and its counterfactual twin, print and save the results.

    pdsim                                   # generic scenario, defaults
    pdsim scenario=kenya_2008 policy.warning_to_action_lag_days=30 replicates=5000 seed=7
    pdsim --help                            # levers, scenarios, experiments, sweeps, where results go

Every user error ends the same way, whether pdsim or Hydra finds it: one message naming the field,
the value and what is allowed, exit status 2, no traceback (:func:`user_error`). Hydra reports its own
errors (an unknown preset, a typo without ``+``, a value of the wrong type, a broken YAML file) through
``hydra._internal.utils.run_and_report``; :func:`main` wraps that so those are explained the same way.
"""

from __future__ import annotations

import logging
import os
import re
import sys
import textwrap
import time
from pathlib import Path

os.environ.setdefault("SOLARA_TELEMETRY_MIXPANEL_ENABLE", "False")

# A local sweep's workers are forked from a server that imports the model: started now, before this process imports
# Hydra, it has about 0.3 s more to import while the sweep is composed and checked (sim.sweep.server).
from sim.sweep.server import start_early  # noqa: E402 -- imports nothing heavy

start_early(sys.argv)

import hydra  # noqa: E402
from hydra.core.hydra_config import HydraConfig  # noqa: E402
from omegaconf import DictConfig  # noqa: E402

from sim.config import CONFIG_DIR, register_configs  # noqa: E402
from sim.validation import ConfigError  # noqa: E402

register_configs()

#: Exit status of every user error (bad value, unknown name, typo, malformed file).
USER_ERROR = 2


class _Progress:
    """Progress of a long single run on stderr: day reached and time left, per stage (policy, twin).

    On a terminal one line updates in place; in a log, a line every 90 days and at the end."""

    def __init__(self, total_worlds: int):
        self.show = total_worlds >= 20_000
        self.tty = sys.stderr.isatty()
        self.first: dict[str, tuple[float, int]] = {}  # stage -> (time, day) of its first report

    def __call__(self, stage: str, day: int, horizon: int) -> None:
        if not self.show:
            return
        now = time.perf_counter()
        t0, d0 = self.first.setdefault(stage, (now, day))
        rate = (now - t0) / (day - d0) if day > d0 else None  # seconds per simulated day
        left = f"about {rate * (horizon - day):.0f} s left" if rate is not None else "estimating time left"
        text = f"{stage}: day {day}/{horizon}, {left}"
        if self.tty:
            print(f"\r{text}   ", end="\n" if day >= horizon else "", file=sys.stderr, flush=True)
        elif day >= horizon or day % 90 == 0:
            print(text, file=sys.stderr, flush=True)


def run_job(cfg: DictConfig) -> dict | None:
    """Run one configuration and write its files into the current Hydra output directory."""
    from sim.report import summary_table
    from sim.runner import resolve, run
    from sim.sweep import job as sweep

    start, started_at = time.perf_counter(), time.time()
    out = Path(HydraConfig.get().runtime.output_dir)
    point = sweep.in_sweep()
    if point:
        sweep.watch_parent()  # a sweep worker exits when the sweeping process is gone
    if point and sweep.already_done(lambda: resolve(cfg), out):  # resume: this point's row is whole
        print(f"point {HydraConfig.get().job.num}: already done ({out})")
        return None
    result = None
    if point:  # a point stacked with its neighbours runs in one model with them (sim.sweep.stack)
        from sim.sweep.stack import stacked_result

        hc = HydraConfig.get()
        result = stacked_result(cfg, Path(str(hc.sweep.dir)), tuple(hc.overrides.task))
    if result is None:
        result = run(cfg, progress=_Progress(int(cfg.replicates)), keep_models=False)
    summary = result.summary()
    result.save(out, summary)
    if cfg.output.plot:
        from sim.plots import tension_plot  # matplotlib costs 0.5 s to import; sweeps usually skip the plot

        tension_plot(result, out / "tension.png")
        world = result.config.scenario.world
        if world.countries and result.years is not None:  # the world against the record
            from sim.analysis.world import world_figure
            from sim.world_stats import states_before_start
            from sim.years import years_table

            world_figure(years_table(result.years), out / "world.png", start_year=world.start_year,
                         before=states_before_start(world.countries), provenance={"seed": result.config.seed})
    if point:  # one line per point, and the point's row for the sweep's table
        sweep.record_point(cfg, result.config, summary, time.perf_counter() - start, started_at)
        print(f"point {HydraConfig.get().job.num}: {sweep.point_line(summary)}")
        return None  # the row is the record; a summary per point would pile up in the sweeping process
    print(summary_table(summary))
    print(f"results: {out}")
    return summary


@hydra.main(version_base="1.3", config_path=str(CONFIG_DIR), config_name="config")
def hydra_main(cfg: DictConfig) -> None:
    logging.getLogger("MESA").setLevel(logging.WARNING)  # Mesa logs every step at INFO
    try:
        run_job(cfg)
    except ConfigError as err:
        print(f"pdsim: {err}", file=sys.stderr)
        sys.exit(USER_ERROR)


# -- user errors found by Hydra ------------------------------------------------------------------
def _schema_hint(key: str) -> str:
    """' (did you mean policy.flexibility?)' for a near miss of a schema key, else ''."""
    import difflib

    from sim.sweep.plan import known_keys

    close = difflib.get_close_matches(key, known_keys(), n=1, cutoff=0.7)
    return f" (did you mean {close[0]}?)" if close else ""


def _allowed_of(key: str) -> str:
    """': allowed 0.0 <= value <= 1.0 (share 0-1)' for a schema key, else ''."""
    from sim.sweep.design import schema_field

    try:
        f, _ = schema_field(key)
    except (AttributeError, StopIteration):
        return ""
    meta = dict(f.metadata)
    if "choices" in meta:
        return f": choose one of {', '.join(map(str, meta['choices']))}"
    lo, hi = meta.get("range", (None, None))
    unit = f" ({meta['unit']})" if meta.get("unit") else ""
    if lo is None and hi is None:
        return unit
    from sim.validation import _allowed

    return f": allowed {_allowed(lo, hi)}{unit}"


def explain(exc: BaseException) -> str | None:
    """One clear line for a user error Hydra, OmegaConf or YAML raised while composing; None if it is
    not a user error (a bug, which keeps its traceback)."""
    from hydra.errors import HydraException, MissingConfigException, OverrideParseException
    from omegaconf.errors import OmegaConfBaseException

    try:
        import yaml

        yaml_errors: tuple = (yaml.YAMLError,)
    except ImportError:  # pragma: no cover
        yaml_errors = ()
    text = str(exc)
    flat = " ".join(text.split())
    if isinstance(exc, MissingConfigException) or "Could not find '" in text:
        found = re.search(r"Could not find '([^']+)/([^'/]+)'", text)
        if found:
            group, name = found.groups()
            options = [o.strip() for o in re.findall(r"^\t(\S+)$", text, re.M)]
            options = [o for o in options if not o.endswith("_schema")]
            import difflib

            close = difflib.get_close_matches(name, options, n=1)
            what = {"scenario": "a scenario preset", "experiment": "an experiment",
                    "policy": "a policy preset"}.get(group, f"an option of {group}")
            hint = f" (did you mean {close[0]}?)" if close else ""
            return f"{group} = {name!r} is not {what}{hint}: choose one of {', '.join(options)}"
        return flat.split(" Config search path:")[0]
    if isinstance(exc, OverrideParseException):
        return f"cannot read the override: {flat.split(' See https://')[0]} (syntax: key=value, -m key=a,b,c)"
    if yaml_errors and isinstance(exc, yaml_errors):
        return f"a configuration file is not valid YAML: {flat}"
    if not isinstance(exc, (HydraException, OmegaConfBaseException)):
        return None
    cause = exc.__cause__
    ctext = " ".join(str(cause).split()) if cause is not None else ""
    full = re.search(r"full_key: (\S+)", ctext or flat)
    if "No match in the defaults list" in flat:
        key = re.search(r"Could not override '([^']+)'", flat)
        key = key.group(1) if key else "that group"
        extra = " and sweep it with -m" if key == "experiment" else ""
        return f"{key} is not chosen by default, so it cannot be overridden: add it with +{key}=NAME{extra}"
    if re.search(r"Key '[^']+' not in '|is not in struct", ctext + flat) and full:
        key = full.group(1)
        parent = key.rpartition(".")[0]
        if parent == "scenario.sites":
            return (f"{key} does not exist in this configuration: the scenario's sites are named by the preset "
                    "(pdsim --cfg job shows them)")
        return f"{key} is not a parameter{_schema_hint(key)}; pdsim --help lists the levers"
    conv = re.search(r"Value '([^']*)' (?:of type '\w+' )?could not be converted to (\w+)", ctext + " " + flat)
    if conv and full:
        return f"{full.group(1)} = {conv.group(1)!r} is not a valid {conv.group(2).lower()}{_allowed_of(full.group(1))}"
    if isinstance(exc, OmegaConfBaseException) and full:
        return f"{full.group(1)}: {flat.split(' full_key:')[0]}"
    message = flat + (f" ({ctext.split(' full_key:')[0]})" if ctext else "")
    return message.replace(" Set the environment variable HYDRA_FULL_ERROR=1 for a complete stack trace.", "")


def user_error(message: str) -> None:
    """Print one message and exit with status 2 (no traceback)."""
    print(f"pdsim: {message}", file=sys.stderr, flush=True)
    sys.exit(USER_ERROR)


def _install_error_reporting() -> None:
    """Route Hydra's error reporting through :func:`explain`: user errors exit 2 with one message; other
    errors keep Hydra's own report (exit 1). HYDRA_FULL_ERROR=1 still shows every stack."""
    import hydra._internal.utils as hydra_utils

    original = hydra_utils.run_and_report
    if getattr(original, "_pdsim", False):
        return

    def run_and_report(func):
        try:
            return func()
        except Exception as exc:  # noqa: BLE001 -- classified below; anything else is Hydra's to report
            if os.environ.get("HYDRA_FULL_ERROR") == "1":
                raise
            message = explain(exc)
            if message is not None:
                user_error(message)

            def again(err: BaseException = exc):
                raise err

            return original(again)

    run_and_report._pdsim = True
    hydra_utils.run_and_report = run_and_report


# -- the help page ---------------------------------------------------------------------------------
def _range_text(meta: dict, value=None) -> str:
    if "choices" in meta:
        choices = list(meta["choices"])
        return " | ".join(choices) if len(choices) <= 3 else f"{choices[0]} .. {choices[-1]} ({len(choices)})"
    if isinstance(value, bool):
        return "true | false"
    lo, hi = meta.get("range", (None, None))
    if lo is None and hi is None:
        return "any"

    def fmt(v):
        return f"{v:,}" if isinstance(v, int) and abs(v) >= 10_000 else f"{v:g}"

    return f"{fmt(lo) if lo is not None else '...'} to {fmt(hi) if hi is not None else '...'}"


def _first_sentence(text: str, limit: int = 110) -> str:
    text = " ".join(str(text).split())
    cut = re.split(r"(?<=[.?!])\s", text, maxsplit=1)[0]
    return cut if len(cut) <= limit else cut[: limit - 3].rstrip() + "..."


def _scenario_lines() -> list[str]:
    from omegaconf import OmegaConf

    from sim.config import scenario_names

    lines = []
    for name in scenario_names(worlds=True):
        try:
            desc = OmegaConf.load(CONFIG_DIR / "scenario" / f"{name}.yaml").get("description", "")
        except Exception:  # noqa: BLE001 -- a broken preset still gets listed; running it says why
            desc = "(cannot be read)"
        lines.append(f"  {name:<20} {_first_sentence(desc, 96)}")
    return lines


def _experiment_lines() -> list[str]:
    lines = []
    for path in sorted((CONFIG_DIR / "experiment").glob("*.yaml")):
        text = path.read_text()
        found = re.search(r"^# Question:(.*?)(?:^#\s*$|^[^#])", text, re.S | re.M)
        question = " ".join(line.lstrip("#").strip() for line in found.group(1).splitlines()) if found else ""
        lines.append(f"  {path.stem:<34} {_first_sentence(question, 90)}")
    return lines


def help_page() -> str:
    """What a user needs to run pdsim, built from the schema (sim/config.py) and the preset files."""
    from dataclasses import fields

    from sim.config import HEADLINE_LEVERS, PolicyConfig, RunConfig

    policy = PolicyConfig()
    table = []
    for f in fields(PolicyConfig):
        meta = dict(f.metadata)
        default = getattr(policy, f.name)
        shown = ("= partnership" if isinstance(default, str) and default.startswith("${")
                 else str(default).lower() if isinstance(default, bool) else str(default))
        star = "*" if f.name in HEADLINE_LEVERS or f.name in ("intervene", "tool") else " "
        table.append((f"{star}policy.{f.name}", meta.get("unit", ""), _range_text(meta, default), shown,
                      meta.get("source", "")))
    run = {f.name: f for f in fields(RunConfig)}
    run_table = [("scenario", "preset", "see Scenarios below", "generic", "")]
    for name in ("replicates", "seed", "horizon_days"):
        meta = dict(run[name].metadata)
        run_table.append((name, meta.get("unit", ""), _range_text(meta), str(run[name].default), ""))
    widths = [max(len(r[i]) for r in table + run_table) for i in range(4)]

    def line(row) -> str:
        return "  " + "  ".join(c.ljust(w) for c, w in zip(row[:4], widths, strict=True)) + "  " + row[4]

    rows = [line(("key", "unit", "allowed", "default", "source (report §)")), *map(line, table)]
    run_rows = [line(r).rstrip() for r in run_table]
    from sim.config import TOOLS

    policies = ", ".join(sorted(p.stem for p in (CONFIG_DIR / "policy").glob("*.yaml")))
    return "\n".join([
        "pdsim: an agent-based model of preventive diplomacy (UN S/2011/552). One run simulates R replicate",
        "worlds of a crisis under a policy and under its counterfactual twin (same random numbers, no action)",
        "and reports the probability of armed conflict, escalations prevented per 100 crises, and costs.",
        "",
        "Usage:",
        "  pdsim [key=value ...]                  one run (policy + twin)",
        "  pdsim -m key=a,b,c [key=value ...]     a sweep: one job per point (see Sweeps)",
        "  pdsim -m +experiment=NAME              a prepared sweep",
        "",
        "  pdsim scenario=kenya_2008 policy.warning_to_action_lag_days=30 replicates=5000 seed=7",
        "  pdsim policy=rapid                      a policy preset (configs/policy/):",
        *textwrap.wrap(policies, 100, initial_indent="      ", subsequent_indent="      "),
        "  pdsim +counterfactual.policy.warning_to_action_lag_days=90   the twin = a slower policy",
        "",
        "Levers (* headline; each sweepable by name; '=' sets a value, '+' only for keys the config lacks):",
        *rows,
        "",
        f"  policy.tool rungs, mildest first: {', '.join(TOOLS)}",
        "",
        "Run settings:",
        *run_rows,
        "  Every other parameter (scenario.*, dynamics.*, costs.*) has its unit, range and source in",
        "  sim/config.py and docs/ODD.md; `pdsim --cfg job` prints the composed configuration.",
        "",
        "Scenarios (scenario=NAME; stylised teaching settings, not calibrated replicas):",
        *_scenario_lines(),
        "",
        "Experiments (pdsim -m +experiment=NAME; each file in experiments/ states its question):",
        *_experiment_lines(),
        "",
        "Sweeps (docs/SWEEPS.md):",
        "  pdsim -m policy.flexibility=0.2,0.5,0.8 replicates=500      a grid; every point is checked first",
        "  pdsim -m hydra/sweeper=design hydra.sweeper.method=lhs hydra.sweeper.n=200   (also morris, sobol)",
        "  Same command with hydra.sweep.dir=DIR again = resume (only missing points run). Ctrl-C or SIGTERM",
        "  stops the workers, merges the finished points and prints how to resume. One sweep per directory.",
        "  Launchers: joblib on all cores (default), hydra/launcher=ray_cluster, hydra/launcher=slurm.",
        "",
        "Where results go:",
        "  one run:  outputs/<scenario>/<time>/  summary.json, outcomes.parquet, twin_outcomes.parquet,",
        "            timeseries.parquet, tension.png (and world.png in world mode)",
        "  a sweep:  multirun/<time>/ (or hydra.sweep.dir=DIR)  results.parquet, results.csv, curves.png,",
        "            one folder per point with its row.json",
        "",
        "Other commands (each has --help):",
        "  pdsim-threshold --below 10     largest warning-to-action lag keeping P(escalation) below 10 %",
        "  pdsim-merge DIR                rebuild a sweep's table and curves",
        "  pdsim-bench, pdsim-sweep-bench model and sweep benchmarks",
        "",
        "Exit status: 0 done; 2 bad input (one message, nothing run); 130 Ctrl-C, 143 SIGTERM (finished",
        "points merged); 1 an internal error. Hydra's own options: pdsim --hydra-help.",
    ])


def main(argv: list[str] | None = None) -> None:
    """The ``pdsim`` command."""
    args = list(sys.argv[1:] if argv is None else argv)
    if argv is not None:
        sys.argv = [sys.argv[0], *args]
    if "--help" in args or "-h" in args:
        print(help_page())
        sys.exit(0)
    multirun = "-m" in args or "--multirun" in args
    experiment = next((a for a in args if re.match(r"^\+{0,2}experiment=", a)), None)
    if experiment and not multirun:
        user_error(f"{experiment} is a sweep: add -m to run it (pdsim -m {experiment}); without -m only one "
                   "default point would run")
    _install_error_reporting()
    hydra_main()


if __name__ == "__main__":
    main()
