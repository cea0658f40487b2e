"""Pattern-oriented validation: the model's annual dynamics, in UCDP terms, against the committed UCDP targets.

    python -m sim.patterns [--years 30] [--replicates 2000] [--seed 0] [--tolerance 0.2] [--out FILE]
                           [--active-days 30] [--war-days 90] [--scenario generic] [OVERRIDE ...]

Runs the model without intervention (the twin's world) for a multi-year horizon, codes every world, site and
calendar year as UCDP would (none / minor / war; ``sim/years.py``), computes the annual statistics (transitions,
episode durations, recurrence, the post-conflict hazard, the share of conflict-years at war; each with its
denominator and a 95 % interval clustered by world) and sets them against the targets derived from the UCDP/PRIO
Armed Conflict Dataset 21.1 (``docs/validation/ucdp_targets.csv``, with their own 95 % intervals; see
``docs/validation/README.md``). Prints a table and writes it as CSV (default ``docs/validation/patterns.csv``).

Verdicts are two-sided and can fail. With tolerance tau (default 0.2, i.e. 20 % of the observed value), the band is
[observed low - tau x observed, observed high + tau x observed]:

- **consistent** when the model's 95 % interval overlaps the band;
- **too high** when the model's whole interval lies above it, **too low** when below;
- **missing** when the model produced no case to compute it from (e.g. no war ever, so nothing ends from war),
  **too few cases** when it produced fewer than ``MIN_CASES`` (30): failures too, not a "consistent" won by a
  wide interval.

The tolerance stands for what a stylised model cannot be asked to match: the record itself moves by about this much
between decades (the share of conflict-years at war: 24 % in the 1990s, 18 % in the 2000s). ``distance`` turns the
same comparison into one number for calibration (``sim/calibrate.py``).
This module never reads the dataset itself.
"""

from __future__ import annotations

import argparse
import csv
import math
import sys
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from sim.stats import Z95
from sim.years import ACTIVE_MIN_DAYS, WAR_MIN_DAYS, Stat, annual_statistics, run_counting_years, years_table

VALIDATION = Path(__file__).resolve().parent.parent / "docs" / "validation"
TARGETS_PATH = VALIDATION / "ucdp_targets.csv"
PATTERNS_PATH = VALIDATION / "patterns.csv"
COLUMNS = ("target", "value", "unit", "definition", "period", "n", "ci_low", "ci_high")
#: Default horizon of a pattern run: 30 years, as long as the record's 1990-2019 window of transitions.
YEARS = 30
REPLICATES = 2000
TOLERANCE = 0.2
#: Every target the model's annual statistics can be held against (names as in ucdp_targets.csv).
COMPARED = (
    "transition_minor_to_war", "transition_war_to_minor", "transition_minor_to_inactive",
    "transition_war_to_inactive", "transition_active_to_inactive", "share_conflict_years_at_war",
    "episode_duration_median", "episode_duration_mean", "episode_share_1y", "episode_share_7y_plus",
    "recurrence_same_conflict_5y", "recurrence_same_conflict_10y", "post_conflict_onset_hazard",
    "share_episodes_ever_war", "share_episodes_war_first_year",
)
#: Penalty (a z-score) for a statistic the model could not produce at all.
MISSING_Z = 10.0
#: Fewer model cases than this (e.g. 6 war-years in 60,000 site-years) is no comparison: the verdict is "too few
#: cases", a failure, not a "consistent" won by a wide interval.
MIN_CASES = 30
BASE = ("policy.intervene=false", "counterfactual.enabled=false", "output.events=false", "output.plot=false",
        "output.progress=false")
OUT_COLUMNS = ("target", "observed", "observed_low", "observed_high", "observed_n", "model", "model_low",
               "model_high", "model_n", "tolerance", "band_low", "band_high", "verdict")


def _config_errors() -> tuple[type[BaseException], ...]:
    from omegaconf.errors import OmegaConfBaseException

    from sim.validation import ConfigError

    return (ConfigError, OmegaConfBaseException, ValueError)


#: What a bad override raises while a configuration is composed and checked.
CONFIG_ERRORS = _config_errors()


def config_message(err: BaseException) -> str:
    """One line naming the problem (OmegaConf's messages carry a multi-line trailer)."""
    text = str(err).strip()
    return text if type(err).__name__ == "ConfigError" else f"bad override: {text.splitlines()[0]}"


def load_targets(path: Path = TARGETS_PATH) -> dict[str, dict]:
    """The committed targets by name: {target: {value, n, ci_low, ci_high (floats), unit, definition, period}}."""
    with open(path, newline="", encoding="utf-8") as f:
        rows = list(csv.DictReader(f))
    num = ("value", "n", "ci_low", "ci_high")
    return {r["target"]: {**r, **{k: float(r[k]) for k in num if r.get(k) not in (None, "")}} for r in rows}


# -- the model's side ------------------------------------------------------------------------------------------
def configure_baseline(years: int = YEARS, replicates: int = REPLICATES, seed: int = 0, scenario: str = "generic",
                       overrides: tuple[str, ...] = ()):
    """The no-intervention configuration of a pattern run (validated: bad overrides raise ConfigError)."""
    from dataclasses import fields

    from sim.config import RunConfig
    from sim.runner import configure
    from sim.validation import validate

    # The baseline's own coefficients, not draws from their plausible ranges (unless an override asks for it).
    fixed = ("uncertainty.enabled=false",) if "uncertainty" in {f.name for f in fields(RunConfig)} else ()
    return validate(configure(f"scenario={scenario}", *BASE, *fixed, f"replicates={replicates}", f"seed={seed}",
                              f"horizon_days={365 * years}", *overrides))


def run_baseline(config, active_min_days: int = ACTIVE_MIN_DAYS, war_min_days: int = WAR_MIN_DAYS):
    """Run a configuration; return (years table, annual statistics)."""
    from sim.model import PreventiveDiplomacyModel

    model = run_counting_years(PreventiveDiplomacyModel(config))
    table = years_table(model, active_min_days, war_min_days)
    return table, annual_statistics(table)


def no_intervention(replicates: int, seed: int, war_history: bool, *extra: str) -> dict[str, np.ndarray]:
    """Per-world outcomes of the generic scenario without intervention, one year (the twin's world)."""
    from sim.runner import configure, run

    cfg = configure("scenario=generic", *BASE, f"replicates={replicates}", f"seed={seed}",
                    f"scenario.sites.A.war_history={str(war_history).lower()}", *extra)
    return run(cfg, keep_models=False).outcomes


# -- the comparison ----------------------------------------------------------------------------------------------
def band(target: dict, tolerance: float) -> tuple[float, float]:
    slack = tolerance * abs(target["value"])
    return target["ci_low"] - slack, target["ci_high"] + slack


def verdict(target: dict, model: Stat, tolerance: float = TOLERANCE) -> str:
    """consistent / too high / too low / missing / too few cases: the model's 95 % interval against the widened
    observed one."""
    if model.n == 0 or not math.isfinite(model.value):
        return "missing"
    if model.n < MIN_CASES:
        return "too few cases"
    lo, hi = band(target, tolerance)
    m_lo = model.ci_low if math.isfinite(model.ci_low) else model.value
    m_hi = model.ci_high if math.isfinite(model.ci_high) else model.value
    if m_lo > hi:
        return "too high"
    if m_hi < lo:
        return "too low"
    return "consistent"


def z_score(target: dict, model: Stat, tolerance: float = TOLERANCE) -> float:
    """(model - observed) / sqrt(se_obs^2 + se_model^2 + (tolerance x observed)^2); MISSING_Z if undefined or
    from fewer than MIN_CASES cases (as the verdict: rarity must not buy a wide interval)."""
    if model.n < MIN_CASES or not math.isfinite(model.value):
        return MISSING_Z
    se_obs = (target["ci_high"] - target["ci_low"]) / (2 * Z95)
    se_mod = (model.ci_high - model.ci_low) / (2 * Z95) if math.isfinite(model.ci_high - model.ci_low) else 0.0
    scale = math.sqrt(se_obs**2 + se_mod**2 + (tolerance * target["value"]) ** 2)
    return (model.value - target["value"]) / scale if scale > 0 else MISSING_Z


def distance(stats: dict[str, Stat], targets: dict[str, dict], names=COMPARED, tolerance: float = TOLERANCE) -> float:
    """Sum of squared standardised differences over ``names`` (the calibration's objective)."""
    return float(sum(z_score(targets[n], stats[n], tolerance) ** 2 for n in names))


@dataclass
class Row:
    target: str
    observed: tuple[float, float, float]
    observed_n: int
    model: Stat
    tolerance: float
    band: tuple[float, float]
    verdict: str

    def as_csv(self) -> dict:
        o, m = self.observed, self.model
        return {"target": self.target, "observed": o[0], "observed_low": o[1], "observed_high": o[2],
                "observed_n": self.observed_n, "model": m.value, "model_low": m.ci_low, "model_high": m.ci_high,
                "model_n": m.n, "tolerance": self.tolerance, "band_low": self.band[0], "band_high": self.band[1],
                "verdict": self.verdict}


def compare(stats: dict[str, Stat], targets: dict[str, dict] | None = None, tolerance: float = TOLERANCE,
            names=COMPARED) -> list[Row]:
    """One row per target: observed value and interval, model value and interval, verdict."""
    t = targets or load_targets()
    return [Row(n, (t[n]["value"], t[n]["ci_low"], t[n]["ci_high"]), int(t[n]["n"]), stats[n], tolerance,
                band(t[n], tolerance), verdict(t[n], stats[n], tolerance)) for n in names]


def write_csv(rows: list[Row], path: Path) -> Path:
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    with open(path, "w", newline="", encoding="utf-8") as f:
        w = csv.DictWriter(f, fieldnames=OUT_COLUMNS, lineterminator="\n")
        w.writeheader()
        for r in rows:
            w.writerow({k: (round(v, 5) if isinstance(v, float) else v) for k, v in r.as_csv().items()})
    return path


def _num(v: float, digits: int = 3) -> str:
    return "-" if not math.isfinite(v) else f"{v:.{digits}f}"


def render(rows: list[Row]) -> str:
    head = ("target", "observed [95 % CI]", "n", "model [95 % CI]", "n", "verdict")
    body = [(r.target, f"{_num(r.observed[0])} [{_num(r.observed[1])}, {_num(r.observed[2])}]", str(r.observed_n),
             f"{_num(r.model.value)} [{_num(r.model.ci_low)}, {_num(r.model.ci_high)}]", str(r.model.n), r.verdict)
            for r in rows]
    widths = [max(len(x[i]) for x in [head, *body]) for i in range(len(head))]
    line = lambda cells: "  ".join(c.ljust(w) for c, w in zip(cells, widths, strict=True)).rstrip()  # noqa: E731
    return "\n".join([line(head), line(["-" * w for w in widths]), *(line(b) for b in body)])


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description="The model's annual dynamics (no intervention) against UCDP targets")
    ap.add_argument("--years", type=int, default=YEARS, help=f"horizon in years (default {YEARS})")
    ap.add_argument("--replicates", type=int, default=REPLICATES, help=f"worlds (default {REPLICATES})")
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--scenario", default="generic")
    ap.add_argument("--tolerance", type=float, default=TOLERANCE, help="band around the observed interval, "
                    f"as a share of the observed value (default {TOLERANCE})")
    ap.add_argument("--active-days", type=int, default=ACTIVE_MIN_DAYS, help="days in armed conflict for an "
                    f"active year (default {ACTIVE_MIN_DAYS})")
    ap.add_argument("--war-days", type=int, default=WAR_MIN_DAYS, help=f"days at war for a war year "
                    f"(default {WAR_MIN_DAYS})")
    ap.add_argument("--out", default=str(PATTERNS_PATH), help="CSV to write (default docs/validation/patterns.csv)")
    ap.add_argument("overrides", nargs="*", help="config overrides, e.g. dynamics.end_rate_war_per_year=0.2")
    args = ap.parse_args(argv)
    checks = [("--years", args.years, 2, 100), ("--replicates", args.replicates, 1, 1_000_000),
              ("--active-days", args.active_days, 1, 365), ("--war-days", args.war_days, 1, 365)]
    for name, value, lo, hi in checks:
        if not lo <= value <= hi:
            print(f"{name} = {value} is out of range: allowed {lo} <= value <= {hi}", file=sys.stderr)
            return 2
    if not 0.0 <= args.tolerance <= 10.0:
        print(f"--tolerance = {args.tolerance} is out of range: allowed 0.0 <= value <= 10.0", file=sys.stderr)
        return 2
    try:
        config = configure_baseline(args.years, args.replicates, args.seed, args.scenario, tuple(args.overrides))
    except CONFIG_ERRORS as err:
        print(config_message(err), file=sys.stderr)
        return 2
    _, stats = run_baseline(config, args.active_days, args.war_days)
    rows = compare(stats, tolerance=args.tolerance)
    path = write_csv(rows, Path(args.out))
    print(f"Pattern-oriented validation: pdsim ({args.scenario}, no intervention, {args.replicates} worlds x "
          f"{args.years} years, seed {args.seed}) against UCDP/PRIO ACD 21.1 (docs/validation/ucdp_targets.csv).")
    print(f"A year is active at >= {args.active_days} days in armed conflict, war at >= {args.war_days} days at "
          f"war. Verdict: the model's 95 % interval against the observed one widened by {100 * args.tolerance:g} % "
          "of the observed value.\n")
    print(render(rows))
    n_ok = sum(r.verdict == "consistent" for r in rows)
    d = distance(stats, load_targets(), tolerance=args.tolerance)
    print(f"\n{n_ok} of {len(rows)} consistent; distance {d:.1f}"
          f" (sum of squared standardised differences). Wrote {path}.")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
