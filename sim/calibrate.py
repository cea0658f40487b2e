"""Calibrate the no-intervention baseline's life-cycle coefficients to the UCDP/PRIO record.

    pdsim-calibrate [--param NAME=LO:HI ...] [--years 30] [--block 200] [--confirm 2000] [--candidates 5] [--seed 0]
                    [--maxiter 30] [--popsize 6] [--opt-seed 1] [--max-seconds 480] [--tolerance 0.2]
                    [--out DIR] [OVERRIDE ...]

What is fitted: the coefficients named with ``--param`` (default: those of ``DEFAULT_PARAMETERS`` that exist in
``sim.config.DynamicsConfig``, with the search ranges given there). To what: the targets of ``CALIBRATED`` in
``docs/validation/ucdp_targets.csv`` (annual transitions minor <-> war <-> ended, episode length, recurrence of the
same conflict within 5 and 10 years, the post-conflict onset hazard, the share of conflict-years at war and of
episodes at war in their first year), computed
from the model's years coded as UCDP would code them (``sim/years.py``). How: minimising the pattern distance of
``sim.patterns.distance`` (sum of squared standardised differences; each difference is scaled by the observed and
the model's standard errors and by the tolerance) with ``scipy.optimize.differential_evolution`` — a fixed seed, a
Latin-hypercube start, no gradient.

Common random numbers: every parameter set meets the same worlds. When the coefficients are ones the model can
hold per world (those with a plausible range in DynamicsConfig, which parameter uncertainty draws per world), a
whole generation of the population runs as ONE model run, each set a block of ``--block`` worlds, and
``BlockStreams`` gives world i of every block the random numbers of world i of a ``--block``-world run; so a set's
statistics are exactly those of its own run with the same seed, at a fraction of the cost (the model's cost per day
barely grows with R). Other coefficients run one model per set, same seed. The search's best ``--candidates``
distinct sets and the committed values (the config's, also a member of the starting population) are then re-run
with ``--confirm`` worlds; the best confirmed — the fewest fitted targets missed, then the smallest distance — is
kept, and that run is what the fit per target reports (a refit replaces the committed values only when it does
better there: ``confirm_best``).

Why differential evolution rather than ABC-SMC (pyabc): under common random numbers the distance is a deterministic
but step-like function of the coefficients (years are coded by thresholds), which defeats gradient and simplex
methods and suits a population search; a population also maps onto one vectorised model run per generation; scipy
is already a dependency; and a fixed seed makes the fit repeatable. ABC-SMC would give a posterior, but needs many
thousand simulations and a heavy dependency stack. The *plausible range* reported here is therefore not a
posterior: it is the span of every evaluated parameter set whose distance lies within the 95 % chi-square cut-off
(k = number of fitted coefficients) of the best in the search — a profile-likelihood-style region, as wide as the
search explored it.

Writes ``calibration.csv`` (per coefficient: fitted value, plausible range, search range, the config's default, and
provenance: sha256 of the targets file, seed, worlds, years, date, git commit, method, distance),
``calibration_fit.csv`` (per target: observed, model at the fit, z, meets / misses) and ``CALIBRATION.md`` (the
same in plain words) into ``--out`` (default ``docs/validation``).
"""

from __future__ import annotations

import argparse
import csv
import hashlib
import math
import sys
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field, fields
from datetime import UTC, datetime
from pathlib import Path

import numpy as np
from scipy import optimize, stats

from sim import patterns
from sim.streams import RandomStreams
from sim.years import (
    ACTIVE_MIN_DAYS,
    WAR_MIN_DAYS,
    Stat,
    annual_statistics,
    code_state,
    year_days,
)

#: Candidate life-cycle coefficients and their search ranges (wider than their plausible ranges in config.py, so
#: the data, not the prior, decide). Only those present in DynamicsConfig are fitted.
DEFAULT_PARAMETERS: tuple[tuple[str, float, float], ...] = (
    ("end_rate_minor_per_year", 0.0, 6.0),
    ("end_rate_war_per_year", 0.0, 1.0),
    ("war_fallback_per_year", 0.0, 2.0),
    ("settlement_fatigue", 0.0, 5.0),
    ("weight_fatigue", 0.0, 1.0),
    ("weight_war_cost", 0.0, 3.0),
    ("weight_fighting", 0.0, 0.4),
    ("conflict_trap", 0.0, 0.5),
    ("exhaustion_rate_per_year", 0.0, 1.0),
    ("settlement_rate_per_year", 0.0, 1.5),
    # From 1, not 0: below it the fit gives up the record's long tail of episodes (CALIBRATION_full_range.md).
    ("intractability_spread", 1.0, 4.0),
    ("war_cost_intractability", 0.0, 3.0),
    ("conventional_share", 0.0, 0.4),
)
#: The targets the distance sums over (names as in ucdp_targets.csv); the others are reported, not fitted.
CALIBRATED = (
    "transition_minor_to_war", "transition_war_to_minor", "transition_minor_to_inactive",
    "transition_war_to_inactive", "share_conflict_years_at_war", "episode_share_1y", "episode_duration_mean",
    "recurrence_same_conflict_5y", "recurrence_same_conflict_10y", "post_conflict_onset_hazard",
    "share_episodes_war_first_year",
)
YEARS, MAXITER, POPSIZE, MAX_SECONDS = 30, 30, 6, 480.0
#: Worlds per parameter set in the search (one block of the population run), and in the confirmation run.
BLOCK, CONFIRM = 200, 2000
#: The search's best distinct sets re-run in the confirmation (with the committed values): see ``confirm_best``.
CANDIDATES = 5
OUT = patterns.VALIDATION


@dataclass
class Parameter:
    name: str
    lo: float
    hi: float
    integer: bool = False

    def format(self, x: float) -> str:
        return str(int(round(x))) if self.integer else f"{x:.6g}"


@dataclass
class Evaluation:
    x: np.ndarray
    distance: float
    stats: dict[str, Stat] = field(repr=False)


@dataclass
class Fit:
    parameters: list[Parameter]
    best: Evaluation
    evaluations: list[Evaluation]
    cutoff: float
    seconds: float
    stopped_early: bool

    def plausible(self) -> list[tuple[float, float]]:
        """Per parameter: (min, max) over every evaluation within the chi-square cut-off of the best."""
        near = np.array([e.x for e in self.evaluations if e.distance <= self.search_best + self.cutoff])
        return [(float(near[:, i].min()), float(near[:, i].max())) for i in range(len(self.parameters))]

    @property
    def accepted(self) -> int:
        return sum(e.distance <= self.search_best + self.cutoff for e in self.evaluations)

    @property
    def search_best(self) -> float:
        """The smallest distance met in the search (the best set may since have been re-run bigger)."""
        return min(e.distance for e in self.evaluations)


class UsageError(ValueError):
    """Bad command-line input: one message naming the field, the value and what is allowed."""


def dynamics_fields() -> dict:
    from sim.config import DynamicsConfig

    return {f.name: f for f in fields(DynamicsConfig)}


def default_parameters() -> list[Parameter]:
    """DEFAULT_PARAMETERS that the current DynamicsConfig has (the life-cycle coefficients present)."""
    have = dynamics_fields()
    return [Parameter(n, lo, hi, have[n].type in (int, "int")) for n, lo, hi in DEFAULT_PARAMETERS if n in have]


def parse_parameter(spec: str) -> Parameter:
    """``NAME=LO:HI`` (or ``NAME`` for a DEFAULT_PARAMETERS range) -> Parameter, checked against DynamicsConfig."""
    have = dynamics_fields()
    name, _, rng = spec.partition("=")
    name = name.strip().removeprefix("dynamics.")
    if name not in have or have[name].type not in (float, int, "float", "int"):
        numeric = sorted(n for n, f in have.items() if f.type in (float, int, "float", "int"))
        raise UsageError(f"--param {name} is not a numeric coefficient of DynamicsConfig: choose one of "
                         f"{', '.join(numeric)}")
    if not rng:
        for n, lo, hi in DEFAULT_PARAMETERS:
            if n == name:
                return Parameter(n, lo, hi, have[n].type in (int, "int"))
        raise UsageError(f"--param {spec} needs a range: allowed NAME=LO:HI with LO < HI")
    try:
        lo, hi = (float(v) for v in rng.split(":"))
    except ValueError:
        raise UsageError(f"--param {spec} is not NAME=LO:HI: allowed two numbers LO < HI, e.g. {name}=0:1") from None
    allowed = have[name].metadata.get("range", (None, None))
    a = -math.inf if allowed[0] is None else allowed[0]
    b = math.inf if allowed[1] is None else allowed[1]
    if not (lo < hi and a <= lo and hi <= b):
        raise UsageError(f"--param {name} = {lo}:{hi} is out of range: allowed LO < HI within {a} .. {b}")
    return Parameter(name, lo, hi, have[name].type in (int, "int"))


def fit(objective: Callable, parameters: Sequence[Parameter], maxiter: int = MAXITER, popsize: int = POPSIZE,
        seed: int = 1, max_seconds: float = MAX_SECONDS, progress: Callable[[int, float, float], None] | None = None,
        vectorised: bool = False, x0: Sequence[float] | None = None) -> Fit:
    """Minimise the distance over the parameters' box with differential evolution (fixed seed, Latin-hypercube
    start, no polishing); keep every evaluation for the plausible ranges. ``x0``: a set inside the box that joins
    the starting population (the committed values, ``committed_values``: a refit can then only improve on them, on
    the same worlds).

    ``objective(x) -> (distance, stats)`` for one parameter vector; with ``vectorised``, ``objective(X)`` takes
    the whole population (one row per parameter set) and returns a list of (distance, stats), so one model run
    can hold every set of a generation (``population_objective``)."""
    evaluations: list[Evaluation] = []
    start = time.perf_counter()

    def record(x, d, s):
        d = float(d) if math.isfinite(d) else 1e12
        evaluations.append(Evaluation(np.array(x, dtype=float), d, s))
        if progress is not None:
            progress(len(evaluations), d, min(e.distance for e in evaluations))
        return d

    def f(x):
        if not vectorised:
            return record(x, *objective(np.asarray(x, dtype=float)))
        X = np.atleast_2d(np.asarray(x, dtype=float).T)  # scipy passes (parameters, sets)
        return np.array([record(row, d, s) for row, (d, s) in zip(X, objective(X), strict=True)])

    stopped = False

    def callback(intermediate_result):
        nonlocal stopped
        stopped = time.perf_counter() - start > max_seconds
        return stopped

    optimize.differential_evolution(
        f, [(p.lo, p.hi) for p in parameters], maxiter=maxiter, popsize=popsize, rng=seed, polish=False,
        init="latinhypercube", tol=0.0, updating="deferred" if vectorised else "immediate", callback=callback,
        vectorized=vectorised, x0=x0,
    )
    best = min(evaluations, key=lambda e: e.distance)
    cutoff = float(stats.chi2.ppf(0.95, df=len(parameters)))
    return Fit(list(parameters), best, evaluations, cutoff, time.perf_counter() - start, stopped)


def confirm_best(result: Fit, confirm: Callable, candidates: int, committed: Sequence[float],
                 misses: Callable[[dict], int] = lambda stats: 0) -> Evaluation:
    """The set kept: of the search's ``candidates`` best distinct sets and the committed one, the best in the
    confirmation run (``confirm(x) -> (distance, stats)``, more worlds). Why: a search on a small block of worlds
    rewards a set that fits that block's luck (the winner's curse: the best of 500 noisy distances is biased low), so
    the search's best alone may confirm worse than a runner-up or than the values already committed; a refit then
    replaces the committed values only when it does better on the confirmation run. Ranges keep the search's.

    "Best" is the fewest fitted targets missed (``misses(stats)``), then the smallest distance: patterns are
    filters (pattern-oriented modelling, Grimm et al. 2005), so a set that meets every target beats one that is
    closer on average but misses one."""
    pool: list[np.ndarray] = []
    for e in sorted(result.evaluations, key=lambda e: e.distance):
        if not any(same_set(e.x, x) for x in pool):
            pool.append(e.x)
        if len(pool) == candidates:
            break
    committed = np.asarray(committed, dtype=float)
    if not any(same_set(x, committed) for x in pool):
        pool.append(committed)
    confirmed = [Evaluation(x, *confirm(x)) for x in pool]
    return min(confirmed, key=lambda e: (misses(e.stats), e.distance))


def fitted_misses(stats: dict[str, Stat], targets: dict[str, dict], tolerance: float) -> int:
    """How many of the fitted targets (``CALIBRATED``) the statistics miss (the verdict of ``sim.patterns``)."""
    return sum(patterns.verdict(targets[n], stats[n], tolerance) != "consistent" for n in CALIBRATED)


def same_set(a: np.ndarray, b: np.ndarray) -> bool:
    """Two parameter sets are one: equal to rounding (scipy hands a set it was given back through its unit
    scaling, so the committed values return equal to rounding, not bit for bit)."""
    return bool(np.allclose(a, b, rtol=1e-9, atol=1e-12))


def committed_values(parameters: Sequence[Parameter]) -> np.ndarray:
    """The config's values of the parameters, inside their search boxes: the values a refit must improve on."""
    from sim.config import DynamicsConfig

    config = DynamicsConfig()
    values = [getattr(config, p.name) for p in parameters]
    return np.clip(values, [p.lo for p in parameters], [p.hi for p in parameters])


class BlockStreams(RandomStreams):
    """Common random numbers across parameter sets inside one run: world i of every block of ``block`` worlds
    draws exactly the random numbers of world i of a ``block``-world run (daily noise and keyed draws)."""

    def __init__(self, seed: int, n_sites: int, n_worlds: int, block: int):
        super().__init__(seed, n_sites, n_worlds)
        self.block = int(block)
        ref = RandomStreams(seed, n_sites, self.block)
        self._cells = np.tile(ref._cells, (1, n_worlds // self.block))

    def address_uniform(self, purpose: int, world, site, *counters) -> np.ndarray:
        return super().address_uniform(purpose, np.asarray(world) % self.block, site, *counters)


def per_world_ready(names: Sequence[str]) -> bool:
    """Can these coefficients take one value per world, set on a built model? (Those the model draws per world
    under parameter uncertainty — the ones with a plausible range in DynamicsConfig — except the ones it reads only
    while it is built, ``sim.model.READ_WHEN_BUILT``: for those each set gets its own run.)"""
    try:
        from sim.config import uncertain_coefficients
        from sim.model import READ_WHEN_BUILT
    except ImportError:
        return False
    return set(names) <= set(uncertain_coefficients()) - READ_WHEN_BUILT


def statistics_of_block(conflict: np.ndarray, war: np.ndarray, k: int, block: int) -> dict[str, Stat]:
    """Annual statistics of worlds k*block .. (k+1)*block - 1 from per-year day counts (n_years, S, R)."""
    sub = code_state(conflict[:, :, k * block:(k + 1) * block], war[:, :, k * block:(k + 1) * block],
                     ACTIVE_MIN_DAYS, WAR_MIN_DAYS)
    Y, S, _ = sub.shape
    states = sub.transpose(2, 1, 0).reshape(block * S, Y)  # the horizon is whole years: every year complete
    return annual_statistics((states, np.repeat(np.arange(block), S)))


def population_objective(parameters: Sequence[Parameter], years: int, block: int, seed: int,
                         overrides: tuple[str, ...] = (), targets: dict | None = None, names=CALIBRATED,
                         tolerance: float = patterns.TOLERANCE, scenario: str = "generic"):
    """objective(X) for ``fit(..., vectorised=True)``: ONE no-intervention run holds every parameter set of X
    (one row each) as a block of ``block`` worlds; the coefficients are set per world, and ``BlockStreams``
    gives every block the same random numbers (common random numbers). Returns [(distance, stats)] per row."""
    from sim.model import PreventiveDiplomacyModel

    t = targets or patterns.load_targets()

    def objective(X):
        X = np.atleast_2d(X)
        K = X.shape[0]
        config = patterns.configure_baseline(years, K * block, seed, scenario, overrides)
        sites = len(config.scenario.sites)
        # Streams at construction: the draws made there (grievances, preferences, envoys' skill) are CRN too.
        model = PreventiveDiplomacyModel(config, streams=BlockStreams(seed, sites, K * block, block))
        for j, p in enumerate(parameters):
            values = np.round(X[:, j]) if p.integer else X[:, j]
            setattr(model.dyn, p.name, np.repeat(values, block).astype(np.float32))
        model.derive_kind()  # the conflicts' kind and war-cost brake, drawn at construction: again, with X's values
        model.run()
        conflict, war = year_days(model)
        out = []
        for k in range(K):
            s = statistics_of_block(conflict, war, k, block)
            out.append((patterns.distance(s, t, names, tolerance), s))
        return out

    return objective


def model_objective(parameters: Sequence[Parameter], years: int, replicates: int, seed: int,
                    overrides: tuple[str, ...] = (), targets: dict | None = None, names=CALIBRATED,
                    tolerance: float = patterns.TOLERANCE, scenario: str = "generic"):
    """objective(x) for ``fit``: run the no-intervention model with the coefficients x (same seed: common random
    numbers) and return (distance, annual statistics)."""
    t = targets or patterns.load_targets()

    def objective(x):
        sets = tuple(f"dynamics.{p.name}={p.format(v)}" for p, v in zip(parameters, x, strict=True))
        config = patterns.configure_baseline(years, replicates, seed, scenario, (*overrides, *sets))
        _, s = patterns.run_baseline(config, ACTIVE_MIN_DAYS, WAR_MIN_DAYS)
        return patterns.distance(s, t, names, tolerance), s

    return objective


def commit_label() -> str:
    """The checkout's commit, marked ``+dirty`` when the working tree differs from it (read-only git)."""
    import subprocess

    from sim.results import git_commit

    commit = git_commit() or "unknown"
    try:
        dirty = subprocess.run(["git", "status", "--porcelain", "--untracked-files=no"], cwd=Path(__file__).parent,
                               capture_output=True, text=True, timeout=10).stdout.strip()
    except (OSError, subprocess.SubprocessError):
        return commit
    return f"{commit}+dirty" if dirty and commit != "unknown" else commit


def check_ranges(*checks: tuple[str, float, float, float]) -> None:
    """Each (option, value, lo, hi) within lo..hi, else a UsageError naming the option, the value and the range."""
    for name, value, lo, hi in checks:
        if not lo <= value <= hi:
            raise UsageError(f"{name} = {value} is out of range: allowed {lo} <= value <= {hi}")


def progress_printer(every: int) -> Callable[[int, float, float], None]:
    """``fit``'s progress: the first evaluation and every ``every``-th, on standard error."""
    def progress(n: int, d: float, best: float) -> None:
        if n % every == 0 or n == 1:
            print(f"  evaluation {n}: distance {d:.2f} (best {best:.2f})", file=sys.stderr, flush=True)
    return progress


def run_provenance(args, result: Fit, search_distance: float, committed_start: bool = True) -> dict:
    """When, from which code, how, and how well a calibration ran (the tail of its provenance columns).
    ``committed_start``: the config's values joined the starting population (``fit(x0=...)``)."""
    start = "Latin-hypercube start" + (" with the config's values as one member" if committed_start else "")
    return {
        "date": datetime.now(UTC).date().isoformat(), "git_commit": commit_label(),
        "method": f"scipy.optimize.differential_evolution (popsize {args.popsize}, maxiter {args.maxiter}, "
                  f"{start}, no polish)",
        "distance": round(result.best.distance, 4), "search_distance": round(search_distance, 4),
        "evaluations": len(result.evaluations), "tolerance": args.tolerance, "overrides": " ".join(args.overrides),
    }


def sha256(path: Path) -> str:
    return hashlib.sha256(Path(path).read_bytes()).hexdigest()


def write_outputs(result: Fit, out: Path, provenance: dict, targets: dict, tolerance: float,
                  names=CALIBRATED) -> list[Path]:
    """calibration.csv, calibration_fit.csv and CALIBRATION.md into ``out``."""
    out = Path(out)
    out.mkdir(parents=True, exist_ok=True)
    have = dynamics_fields()
    ranges = result.plausible()
    cal = out / "calibration.csv"
    cols = ["parameter", "fitted", "plausible_low", "plausible_high", "search_low", "search_high", "config_default",
            *provenance]
    with open(cal, "w", newline="", encoding="utf-8") as f:
        w = csv.DictWriter(f, fieldnames=cols, lineterminator="\n")
        w.writeheader()
        for p, x, (lo, hi) in zip(result.parameters, result.best.x, ranges, strict=True):
            default = have[p.name].default if p.name in have else ""
            w.writerow({"parameter": p.name, "fitted": p.format(x), "plausible_low": p.format(lo),
                        "plausible_high": p.format(hi), "search_low": p.lo, "search_high": p.hi,
                        "config_default": default, **provenance})
    rows = patterns.compare(result.best.stats, targets, tolerance)
    fit_path = out / "calibration_fit.csv"
    with open(fit_path, "w", newline="", encoding="utf-8") as f:
        w = csv.DictWriter(f, fieldnames=["target", "fitted", "observed", "observed_low", "observed_high", "model",
                                          "model_low", "model_high", "model_n", "z", "fit"], lineterminator="\n")
        w.writeheader()
        for r in rows:
            z = patterns.z_score(targets[r.target], r.model, tolerance)
            w.writerow({"target": r.target, "fitted": r.target in names, "observed": r.observed[0],
                        "observed_low": r.observed[1], "observed_high": r.observed[2],
                        "model": round(r.model.value, 5), "model_low": round(r.model.ci_low, 5),
                        "model_high": round(r.model.ci_high, 5), "model_n": r.model.n, "z": round(z, 3),
                        "fit": "meets" if r.verdict == "consistent" else f"misses ({r.verdict})"})
    md = out / "CALIBRATION.md"
    md.write_text(report(result, rows, provenance, targets, tolerance, names), encoding="utf-8")
    return [cal, fit_path, md]


def plain(row: patterns.Row) -> str:
    o, m = row.observed, row.model
    if row.verdict == "missing":
        return "misses: the model produced no case to compute it from"
    if row.verdict == "too few cases":
        return f"misses: too few cases in the model (n = {row.model.n})"
    word = {"consistent": "meets", "too high": "misses: too high", "too low": "misses: too low"}[row.verdict]
    return f"{word} ({m.value:.3g} [{m.ci_low:.3g}, {m.ci_high:.3g}] vs {o[0]:.3g} [{o[1]:.3g}, {o[2]:.3g}])"


def report(result: Fit, rows, provenance: dict, targets: dict, tolerance: float, names=CALIBRATED) -> str:
    ranges = result.plausible()
    lines = [
        "# Calibration of the no-intervention baseline to UCDP/PRIO ACD 21.1",
        "",
        f"Written by `pdsim-calibrate` on {provenance['date']} (git commit {provenance['git_commit']}). "
        f"Targets: `docs/validation/ucdp_targets.csv` (sha256 `{provenance['targets_sha256']}`). "
        f"Model: scenario `{provenance['scenario']}`, no intervention, {provenance['replicates']} worlds x "
        f"{provenance['years']} years, seed {provenance['seed']} (common random numbers across evaluations); "
        f"years coded active at >= {ACTIVE_MIN_DAYS} days in armed conflict, war at >= {WAR_MIN_DAYS} days at war.",
        "",
        f"Method: {provenance['method']}. {len(result.evaluations)} evaluations in {result.seconds:.0f} s"
        + (" (stopped at the time limit)" if result.stopped_early else "") + f"; best distance in the search "
        f"{result.search_best:.2f} over {len(names)} targets (tolerance {tolerance:g})"
        + (f"; the search's {provenance.get('candidates', 1)} best sets and the committed values re-run with "
           f"{provenance['confirm_replicates']} worlds, the best of them (fewest fitted targets missed, then the "
           "closest) kept (the fit below): distance "
           f"{result.best.distance:.2f} (its distance in the search {provenance['search_distance']:.2f})"
           if provenance.get("confirm_replicates") else "")
        + f". Plausible range: every evaluated set within {result.cutoff:.2f} (chi-square 95 %, "
        f"k = {len(result.parameters)}) of the best in the search ({result.accepted} sets).",
        "",
        "| coefficient | fitted | plausible range | searched |",
        "|---|---|---|---|",
        *(f"| `{p.name}` | {p.format(x)} | {p.format(lo)} - {p.format(hi)} | {p.lo:g} - {p.hi:g} |"
          for p, x, (lo, hi) in zip(result.parameters, result.best.x, ranges, strict=True)),
        "",
        "## Fit per target",
        "",
        "| target | fitted to | fit |",
        "|---|---|---|",
        *(f"| `{r.target}` | {'yes' if r.target in names else 'no (reported)'} | {plain(r)} |" for r in rows),
        "",
        f"{sum(r.verdict == 'consistent' for r in rows if r.target in names)} of "
        f"{sum(r.target in names for r in rows)} fitted targets met; "
        f"{sum(r.verdict == 'consistent' for r in rows)} of {len(rows)} in all.",
        "",
    ]
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description="Fit the no-intervention baseline's life-cycle coefficients to the "
                                             "UCDP/PRIO targets (docs/validation/README.md)")
    ap.add_argument("--param", action="append", default=[], metavar="NAME=LO:HI",
                    help="a DynamicsConfig coefficient and its search range (repeat); default: the life-cycle "
                    "coefficients of DEFAULT_PARAMETERS present in the config")
    ap.add_argument("--years", type=int, default=YEARS, help=f"horizon in years (default {YEARS})")
    ap.add_argument("--block", type=int, default=BLOCK, help=f"worlds per parameter set (default {BLOCK})")
    ap.add_argument("--confirm", type=int, default=CONFIRM, help="worlds in the confirmation run of the best set, "
                    f"which the fit per target reports (default {CONFIRM}; 0: report the search's own block)")
    ap.add_argument("--candidates", type=int, default=CANDIDATES,
                    help=f"the search's best distinct sets re-run with --confirm worlds, beside the committed values; "
                         f"the best confirmed is kept (default {CANDIDATES})")
    ap.add_argument("--seed", type=int, default=0, help="model seed (the same in every evaluation)")
    ap.add_argument("--opt-seed", type=int, default=1, help="seed of the optimiser")
    ap.add_argument("--maxiter", type=int, default=MAXITER, help="generations of differential evolution")
    ap.add_argument("--popsize", type=int, default=POPSIZE, help="population = popsize x coefficients")
    ap.add_argument("--max-seconds", type=float, default=MAX_SECONDS, help="stop after the generation that "
                    f"passes this wall time (default {MAX_SECONDS:g})")
    ap.add_argument("--tolerance", type=float, default=patterns.TOLERANCE)
    ap.add_argument("--scenario", default="generic")
    ap.add_argument("--out", default=str(OUT), help="folder for calibration.csv, calibration_fit.csv, "
                    "CALIBRATION.md (default docs/validation)")
    ap.add_argument("--quiet", action="store_true")
    ap.add_argument("overrides", nargs="*", help="config overrides held fixed, e.g. dynamics.conflict_trap=0.1")
    args = ap.parse_args(argv)
    try:
        check_ranges(("--years", args.years, 2, 100), ("--block", args.block, 2, 1_000_000),
                     ("--confirm", args.confirm, 0, 1_000_000),
                     ("--candidates", args.candidates, 1, 1000), ("--maxiter", args.maxiter, 0, 10_000),
                     ("--popsize", args.popsize, 1, 1000), ("--tolerance", args.tolerance, 0.0, 10.0))
        params = [parse_parameter(s) for s in args.param] or default_parameters()
        if not params:
            raise UsageError("no coefficient to fit: give --param NAME=LO:HI")
        names = [p.name for p in params]
        if len(set(names)) != len(names):
            raise UsageError(f"--param names a coefficient twice: {', '.join(names)}")
        targets = patterns.load_targets()
        mid = tuple(f"dynamics.{p.name}={p.format((p.lo + p.hi) / 2)}" for p in params)
        patterns.configure_baseline(args.years, args.block, args.seed, args.scenario,
                                    (*args.overrides, *mid))  # fail fast on a bad override, before any run
    except UsageError as err:
        print(str(err), file=sys.stderr)
        return 2
    except patterns.CONFIG_ERRORS as err:
        print(patterns.config_message(err), file=sys.stderr)
        return 2

    progress = None if args.quiet else progress_printer(every=20)
    vectorised = per_world_ready(names)
    make = population_objective if vectorised else model_objective
    objective = make(params, args.years, args.block, args.seed, tuple(args.overrides), targets, CALIBRATED,
                     args.tolerance, args.scenario)
    print(f"Fitting {', '.join(names)} to {len(CALIBRATED)} UCDP targets: {args.block} worlds a set x {args.years} "
          f"years, seed {args.seed}; differential evolution, popsize {args.popsize}, maxiter {args.maxiter}, "
          f"seed {args.opt_seed}; {'one run per generation' if vectorised else 'one run per set'}.", flush=True)
    committed = committed_values(params)
    result = fit(objective, params, args.maxiter, args.popsize, args.opt_seed, args.max_seconds, progress,
                 vectorised, x0=committed)
    search_distance = result.best.distance
    if args.confirm:
        confirm = model_objective(params, args.years, args.confirm, args.seed, tuple(args.overrides), targets,
                                  CALIBRATED, args.tolerance, args.scenario)
        result.best = confirm_best(result, confirm, args.candidates, committed,
                                   lambda stats: fitted_misses(stats, targets, args.tolerance))
        search_distance = next((e.distance for e in result.evaluations if same_set(e.x, result.best.x)), math.nan)
    provenance = {
        "targets_sha256": sha256(patterns.TARGETS_PATH), "scenario": args.scenario, "seed": args.seed,
        "replicates": args.block, "confirm_replicates": args.confirm, "candidates": args.candidates,
        "years": args.years,
        "optimiser_seed": args.opt_seed, **run_provenance(args, result, search_distance),
    }
    files = write_outputs(result, Path(args.out), provenance, targets, args.tolerance)
    print(Path(files[2]).read_text(encoding="utf-8"))
    print("Wrote " + ", ".join(str(f) for f in files))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
