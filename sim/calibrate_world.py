"""Calibrate the world's baseline (not its levers) to the record of the 1990s; hold the 2000s out.

    pdsim-calibrate-world [--block 16] [--confirm 100] [--maxiter 8] [--popsize 6] [--max-seconds 1800]
                          [--seed 0] [--opt-seed 1] [--tolerance 0.2] [--out docs/validation] [OVERRIDE ...]

What is fitted: the world's baseline, i.e. how much conflict a country's history before 1990 predicts (§29): its
two grievance coefficients (``scenario.world.grievance_base``, ``scenario.world.grievance_history``) and how much
more often triggering events come to a country with a history of conflict (``scenario.world.trigger_history``).
To what: the country-level targets of the 1990s in docs/validation/ucdp_targets.csv (``FITTED_COUNTS``: countries
in conflict per year, countries at war per year, country onsets) and the conflicts' annual transitions minor <->
war <-> ended (``FITTED_TRANSITIONS``), computed from the model's years as UCDP would code them (sim.world_stats).
The levers stay at the world preset's 1990s setting (configs/scenario/world.yaml): the calibrated world is the
world *with* the prevention it had. How: the machinery of sim.calibrate — differential
evolution (fixed seed, Latin-hypercube start), one model run per generation with each parameter set a block of
``--block`` worlds that meet the same random numbers (``BlockStreams``: common random numbers), then the best set
re-run over the whole period 1990-2010 with ``--confirm`` worlds. The 2000s (after the preset's reform of the
levers) are not fitted: they are the out-of-sample check, reported beside the fit. An override that names a fitted
coefficient holds it at that value and fits the others (``scenario.world.trigger_history=0``: the world without the
trigger route, the off arm of the held-out test in tests/test_world.py).

Writes ``world_calibration.csv`` (fitted values, plausible ranges, provenance), ``world_calibration_fit.csv`` (per
target: observed, model, verdict) and ``WORLD_CALIBRATION.md`` into ``--out``.
"""

from __future__ import annotations

import argparse
import csv
import sys
from pathlib import Path

import numpy as np

from sim import patterns
from sim.agents import FLOAT
from sim.calibrate import (
    BlockStreams,
    Evaluation,
    Fit,
    Parameter,
    UsageError,
    check_ranges,
    fit,
    plain,
    progress_printer,
    run_provenance,
    sha256,
)
from sim.world import country_grievance, country_trigger_multiplier, read_countries, starting_tension

#: The world baseline's coefficients and their search ranges.
PARAMETERS = (Parameter("grievance_base", 1.0, 2.2), Parameter("grievance_history", 0.0, 5.0),
              Parameter("trigger_history", 0.0, 10.0))

#: The targets the distance sums over: the 1990s counted by country, and the annual transitions of the conflicts
#: (UCDP/PRIO 1990-2019) as the world's conflicts make them (in the search, over the 1990s; in the confirmation run,
#: over 1990-2010). Both are patterns the baseline must meet at once: counts alone let a world hold its countries in
#: conflict by conflicts that never end (docs/WORLD.md).
FITTED_COUNTS = ("world_countries_in_conflict_per_year_1990s", "world_countries_at_war_per_year_1990s",
                 "world_country_onsets_1990s")
FITTED_TRANSITIONS = ("transition_minor_to_war", "transition_war_to_minor", "transition_minor_to_inactive",
                      "transition_war_to_inactive")
FITTED = FITTED_COUNTS + FITTED_TRANSITIONS
FIT_YEARS, BLOCK, CONFIRM, MAXITER, POPSIZE, MAX_SECONDS = 10, 16, 100, 8, 6, 1800.0
OUT = patterns.VALIDATION


def held_coefficients(overrides: tuple[str, ...]) -> dict[str, float]:
    """The fitted coefficients an override holds fixed (``scenario.world.trigger_history=0``: the fit without the
    trigger route, the off arm of tests/test_world.py's held-out test), by name; the others are searched."""
    held = {}
    for o in overrides:
        key, _, value = o.partition("=")
        key = key.lstrip("+")
        name = key.removeprefix("scenario.world.")
        if key.startswith("scenario.world.") and name in {p.name for p in PARAMETERS}:
            try:
                held[name] = float(value)
            except ValueError:
                raise UsageError(f"{key} = {value!r} is not a number: a fitted coefficient can be held at a "
                                 "number only") from None
    if len(held) == len(PARAMETERS):
        raise UsageError("every fitted coefficient is held fixed: nothing is left to fit")
    return held


def full_sets(X: np.ndarray, held: dict[str, float]) -> np.ndarray:
    """Parameter sets over the searched coefficients, widened to every coefficient of PARAMETERS (held ones at their
    value), in the order of PARAMETERS."""
    X = np.atleast_2d(X)
    searched = iter(range(X.shape[1]))
    cols = [np.full(X.shape[0], held[p.name]) if p.name in held else X[:, next(searched)] for p in PARAMETERS]
    return np.column_stack(cols)


def world_config(replicates: int, years: int, seed: int, overrides: tuple[str, ...] = ()):
    """The world preset (its 1990s levers and reform) over ``years`` calendar years from 1990, validated."""
    from sim.runner import configure
    from sim.validation import validate

    return validate(configure("scenario=world", f"replicates={replicates}", f"seed={seed}",
                              f"horizon_days={365 * years}", "uncertainty.enabled=false", "output.events=false",
                              *overrides))


def baseline(config, blocks: np.ndarray, block: int) -> dict[str, np.ndarray]:
    """Per-world starting tension, grievance and trigger multiplier (site, world) for parameter sets ``blocks``
    (one row each, in the order of ``PARAMETERS``), each a block of ``block`` worlds: exactly what a world built
    with that set would start from."""
    world = config.scenario.world
    countries = read_countries(world.countries)
    tension = np.empty((len(countries), len(blocks) * block), dtype=FLOAT)
    grievance = np.empty_like(tension)
    multiplier = np.empty(tension.shape, dtype=np.float64)
    for k, (base, history, trigger_history) in enumerate(blocks):
        cols = slice(k * block, (k + 1) * block)
        for i, c in enumerate(countries):
            h = c.history(world.history_memory_years)
            g = country_grievance(base, history, h)
            grievance[i, cols] = g
            tension[i, cols] = starting_tension(world, c.state_1989, g)
            multiplier[i, cols] = country_trigger_multiplier(trigger_history, h)
    return {"tension": tension, "grievance": grievance, "trigger_multiplier": multiplier}


def statistics(model, start_year: int, blocks: int = 1) -> list[dict]:
    """The world statistics (sim.world_stats) of a finished model, one dict per block of its worlds (the whole run
    when ``blocks`` is 1). The years table is built once and split."""
    from sim.world_stats import states_before_start, world_statistics
    from sim.years import years_table

    world = model.scenario_config.world
    table, waiting, before = years_table(model), model.year_waiting_days, states_before_start(world.countries)
    size = model.replicates // blocks
    out = []
    for k in range(blocks):
        part = table[(table["world"] >= k * size) & (table["world"] < (k + 1) * size)].copy()
        part["world"] -= k * size
        out.append(world_statistics(part, start_year, waiting[:, k * size:(k + 1) * size], before=before))
    return out


def population_objective(block: int, seed: int, overrides: tuple[str, ...], targets: dict, tolerance: float,
                         years: int = FIT_YEARS, names=FITTED, held: dict[str, float] | None = None):
    """objective(X) for ``fit(..., vectorised=True)``: one world run holds every parameter set of X as a block of
    ``block`` worlds with the same random numbers; returns [(distance, stats)] per set. With ``held``, X holds
    only the other coefficients."""
    from sim.model import PreventiveDiplomacyModel

    def objective(X):
        X = full_sets(X, held or {})
        K = X.shape[0]
        config = world_config(K * block, years, seed, overrides)
        streams = BlockStreams(seed, len(config.scenario.sites), K * block, block)
        model = PreventiveDiplomacyModel(config, streams=streams, initial=baseline(config, X, block))
        model.run()
        return [(patterns.distance(s, targets, names, tolerance), s)
                for s in statistics(model, config.scenario.world.start_year, K)]

    return objective


def confirm(x, replicates: int, seed: int, overrides: tuple[str, ...], years: int = 21):
    """The best set over the whole period (1990-2010 by default), as an ordinary world run."""
    from sim.model import PreventiveDiplomacyModel

    sets = tuple(f"scenario.world.{p.name}={p.format(v)}" for p, v in zip(PARAMETERS, x, strict=True))
    config = world_config(replicates, years, seed, (*overrides, *sets))
    model = PreventiveDiplomacyModel(config)
    model.run()
    return model, statistics(model, config.scenario.world.start_year)[0]


def report_rows(stats: dict, targets: dict, tolerance: float):
    from sim.world_stats import compare_world

    return compare_world(stats, targets, tolerance)


def write_outputs(result: Fit, out: Path, provenance: dict, targets: dict, tolerance: float) -> list[Path]:
    out = Path(out)
    out.mkdir(parents=True, exist_ok=True)
    ranges = result.plausible()
    cal = out / "world_calibration.csv"
    cols = ["parameter", "fitted", "plausible_low", "plausible_high", "search_low", "search_high", *provenance]
    with open(cal, "w", newline="", encoding="utf-8") as f:
        w = csv.DictWriter(f, fieldnames=cols, lineterminator="\n")
        w.writeheader()
        for p, x, (lo, hi) in zip(result.parameters, result.best.x, ranges, strict=True):
            w.writerow({"parameter": f"scenario.world.{p.name}", "fitted": p.format(x), "plausible_low": p.format(lo),
                        "plausible_high": p.format(hi), "search_low": p.lo, "search_high": p.hi, **provenance})
    rows = report_rows(result.best.stats, targets, tolerance)
    fit_path = out / "world_calibration_fit.csv"
    with open(fit_path, "w", newline="", encoding="utf-8") as f:
        w = csv.DictWriter(f, fieldnames=["target", "role", "observed", "observed_low", "observed_high", "model",
                                          "model_low", "model_high", "fit"], lineterminator="\n")
        w.writeheader()
        for r in rows:
            w.writerow({"target": r.target, "role": role(r.target), "observed": r.observed[0],
                        "observed_low": r.observed[1], "observed_high": r.observed[2],
                        "model": round(r.model.value, 4), "model_low": round(r.model.ci_low, 4),
                        "model_high": round(r.model.ci_high, 4),
                        "fit": "meets" if r.verdict == "consistent" else f"misses ({r.verdict})"})
    md = out / "WORLD_CALIBRATION.md"
    md.write_text(report(result, rows, provenance, tolerance), encoding="utf-8")
    return [cal, fit_path, md]


def role(target: str) -> str:
    if target in FITTED_COUNTS:
        return "fitted (1990s)"
    if target in FITTED_TRANSITIONS:
        return "fitted (transitions)"
    if target.endswith("_2000s"):
        return "out of sample (2000s, after the reform)"
    return "reported"


def report(result: Fit, rows, provenance: dict, tolerance: float) -> str:
    ranges = result.plausible()
    met = lambda rs: f"{sum(r.verdict == 'consistent' for r in rs)} of {len(rs)}"  # noqa: E731
    fitted = [r for r in rows if r.target in FITTED]
    held = [r for r in rows if r.target.endswith("_2000s")]
    lines = [
        "# Calibration of the world's baseline to UCDP/PRIO ACD 21.1 (1990s), with the 2000s held out",
        "",
        f"Written by `pdsim-calibrate-world` on {provenance['date']} (git commit {provenance['git_commit']}). "
        f"Targets: `docs/validation/ucdp_targets.csv` (sha256 `{provenance['targets_sha256']}`), counted by country. "
        f"Model: the `world` preset ({provenance['countries']} countries, its 1990s levers, reformed on 1 January "
        f"2000), seed {provenance['seed']}. Search: {provenance['block']} worlds a set x {FIT_YEARS} years "
        f"(1990-1999), "
        f"common random numbers; {provenance['method']}; {len(result.evaluations)} evaluations in "
        f"{result.seconds:.0f} s" + (" (stopped at the time limit)" if result.stopped_early else "") +
        f". The best set re-run with {provenance['confirm_replicates']} worlds over 1990-2010: that run is the fit "
        f"below (distance {result.best.distance:.2f} over the {len(FITTED)} fitted targets, tolerance {tolerance:g}). "
        f"Plausible range: every evaluated set within {result.cutoff:.2f} (chi-square 95 %, k = "
        f"{len(result.parameters)}) of the best in the search ({result.accepted} sets)."
        + (f" Overrides held fixed (a fitted coefficient named here is not searched): `{provenance['overrides']}`."
           if provenance.get("overrides") else ""),
        "",
        "| coefficient | fitted | plausible range | searched |",
        "|---|---|---|---|",
        *(f"| `scenario.world.{p.name}` | {p.format(x)} | {p.format(lo)} - {p.format(hi)} | {p.lo:g} - {p.hi:g} |"
          for p, x, (lo, hi) in zip(result.parameters, result.best.x, ranges, strict=True)),
        "",
        "## Fit per target",
        "",
        "| target | role | fit |",
        "|---|---|---|",
        *(f"| `{r.target}` | {role(r.target)} | {plain(r)} |" for r in rows),
        "",
        f"Fitted targets met: {met(fitted)}. Out of sample (2000s): {met(held)}. All: {met(rows)}.",
        "",
        f"What this does and does not say: the fit makes the simulated 1990s look like the record in "
        f"{len(FITTED_COUNTS)} counts and {len(FITTED_TRANSITIONS)} transition rates; "
        "the 2000s rows test whether the model's world, with the levers the preset assumes for the 2000s, moves "
        "the way the record moved. Every lever value is an assumption (configs/scenario/world.yaml), and the "
        "decline of the 2000s had other causes the model does not hold (the end of the Cold War's proxy wars, "
        "peacekeeping, economic growth): see `pdsim-decade`.",
        "",
    ]
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(prog="pdsim-calibrate-world", description=__doc__.splitlines()[0])
    ap.add_argument("--block", type=int, default=BLOCK, help=f"worlds per parameter set (default {BLOCK})")
    ap.add_argument("--confirm", type=int, default=CONFIRM, help=f"worlds of the 1990-2010 confirmation run "
                    f"(default {CONFIRM})")
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--opt-seed", type=int, default=1)
    ap.add_argument("--maxiter", type=int, default=MAXITER)
    ap.add_argument("--popsize", type=int, default=POPSIZE)
    ap.add_argument("--max-seconds", type=float, default=MAX_SECONDS)
    ap.add_argument("--tolerance", type=float, default=patterns.TOLERANCE)
    ap.add_argument("--out", default=str(OUT))
    ap.add_argument("--quiet", action="store_true")
    ap.add_argument("overrides", nargs="*", help="config overrides held fixed, e.g. "
                    "scenario.trigger_rate_per_year=1.2; one naming a fitted coefficient "
                    "(scenario.world.trigger_history=0) takes it out of the search")
    args = ap.parse_args(argv)
    try:
        check_ranges(("--block", args.block, 2, 100_000), ("--confirm", args.confirm, 2, 100_000),
                     ("--maxiter", args.maxiter, 0, 1000), ("--popsize", args.popsize, 1, 100),
                     ("--tolerance", args.tolerance, 0.0, 10.0))
        targets = patterns.load_targets()
        if missing := [t for t in FITTED if t not in targets]:
            raise UsageError(f"the targets file lacks {', '.join(missing)}: run docs/validation/derive_targets.py")
        world_config(2, 1, args.seed, tuple(args.overrides))  # fail fast on a bad override
        held = held_coefficients(tuple(args.overrides))
    except UsageError as err:
        print(str(err), file=sys.stderr)
        return 2
    except patterns.CONFIG_ERRORS as err:
        print(patterns.config_message(err), file=sys.stderr)
        return 2

    progress = None if args.quiet else progress_printer(every=6)
    searched = [p for p in PARAMETERS if p.name not in held]
    objective = population_objective(args.block, args.seed, tuple(args.overrides), targets, args.tolerance,
                                     held=held)
    print(f"Fitting {', '.join(p.name for p in searched)} to {len(FITTED)} world targets (1990s counts and "
          f"transitions): {args.block} worlds a set; one run per generation"
          + "".join(f"; {name} held at {value:g}" for name, value in held.items()) + ".", flush=True)
    result = fit(objective, searched, args.maxiter, args.popsize, args.opt_seed, args.max_seconds, progress,
                 vectorised=True)
    search_distance = result.best.distance
    model, s = confirm(full_sets(result.best.x, held)[0], args.confirm, args.seed, tuple(args.overrides))
    result.best = Evaluation(result.best.x, patterns.distance(s, targets, FITTED, args.tolerance), s)
    provenance = {
        "targets_sha256": sha256(patterns.TARGETS_PATH), "countries": model.n_sites, "seed": args.seed,
        "block": args.block, "confirm_replicates": args.confirm, "optimiser_seed": args.opt_seed,
        **run_provenance(args, result, search_distance, committed_start=False),
    }
    files = write_outputs(result, Path(args.out), provenance, targets, args.tolerance)
    print(Path(files[2]).read_text(encoding="utf-8"))
    print("Wrote " + ", ".join(str(f) for f in files))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
