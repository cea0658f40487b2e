"""The threshold finder: the largest lever value that keeps escalation below a target, with 95 % confidence.

    pdsim-threshold --below 10                       # largest warning-to-action lag with P(escalation) < 10 %
    pdsim-threshold --below 5 --low 0 --high 120 scenario=kenya_2008 policy.flexibility=0.8
    pdsim-threshold --lever policy.flexibility --decreasing --below 10 --low 0 --high 1 --tolerance 0.02

Bisection on the lever, assuming escalation rises with it (``--decreasing``: falls with it, and the
answer is the smallest value that keeps escalation below the target). A value counts as safe when
the one-sided 95 % upper bound (Wilson) of its escalation probability is below the target, as unsafe
when the one-sided lower bound is above it; in between it straddles the target and gets another
batch of replicates, until ``--max-replicates``, after which it counts as not shown safe. Batch k
uses seed ``seed + k`` at every lever value: common random numbers, so neighbouring values are
compared on the same worlds and the bisection does not wander with the noise.
"""

from __future__ import annotations

import argparse
import math
import sys
import time
from collections.abc import Callable
from dataclasses import dataclass, field

from sim.stats import wilson

Z_ONE_SIDED_95 = 1.6448536269514722

#: escalations(value, seed, replicates) -> number of worlds (of ``replicates``) that escalated.
Evaluator = Callable[[float, int, int], int]


def one_sided_bounds(count: int, n: int, z: float = Z_ONE_SIDED_95) -> tuple[float, float, float]:
    """(estimate, lower bound, upper bound), each bound one-sided 95 % (a two-sided 90 % Wilson interval)."""
    return wilson(count, n, z)


@dataclass
class Evaluation:
    """A lever value and the replicate batches run at it."""

    value: float
    batches: list[int] = field(default_factory=list)  # escalations per batch
    batch_size: int = 0
    seconds: float = 0.0

    @property
    def replicates(self) -> int:
        return len(self.batches) * self.batch_size

    @property
    def escalations(self) -> int:
        return sum(self.batches)

    def bounds(self) -> tuple[float, float, float]:
        return one_sided_bounds(self.escalations, self.replicates)

    def verdict(self, target: float) -> str:
        _, low, high = self.bounds()
        return "below" if high < target else "above" if low > target else "straddles"


@dataclass
class Threshold:
    """The finder's answer: ``value`` is the largest (smallest, if decreasing) value shown safe."""

    lever: str
    target: float
    value: float | None  # None: even the safest end of the range is not shown below the target
    first_unsafe: float | None  # the nearest evaluated value beyond the answer not shown safe
    evaluations: list[Evaluation]
    increasing: bool = True

    def answer_evaluation(self) -> Evaluation | None:
        return next((e for e in self.evaluations if e.value == self.value), None)


def _adaptive(evaluate: Evaluator, ev: Evaluation, target: float, seed: int, batch: int,
              max_replicates: int) -> Evaluation:
    """Add batches at ``ev.value`` while its interval straddles the target (and the budget allows)."""
    t = time.perf_counter()
    while not ev.batches or (ev.verdict(target) == "straddles" and ev.replicates + batch <= max_replicates):
        ev.batches.append(int(evaluate(ev.value, seed + len(ev.batches), batch)))
    ev.seconds += time.perf_counter() - t
    return ev


def find_threshold(
    evaluate: Evaluator,
    low: float,
    high: float,
    target: float,
    *,
    lever: str = "policy.warning_to_action_lag_days",
    integer: bool = True,
    tolerance: float = 1,
    replicates: int = 500,
    max_replicates: int = 8000,
    seed: int = 0,
    increasing: bool = True,
) -> Threshold:
    """Bisect [low, high] for the last value whose escalation probability is shown below ``target``."""
    if not 0 < target < 1:
        raise ValueError(f"target = {target} is out of range: allowed 0 < target < 1")
    if not low < high:
        raise ValueError(f"low = {low}, high = {high}: low must be below high")
    if not (integer or (math.isfinite(tolerance) and tolerance > 0)):
        raise ValueError(f"tolerance = {tolerance} is out of range: allowed tolerance > 0 for a continuous lever")
    cache: dict[float, Evaluation] = {}

    def at(value: float) -> Evaluation:
        value = int(round(value)) if integer else float(value)
        ev = cache.setdefault(value, Evaluation(value, batch_size=replicates))
        return _adaptive(evaluate, ev, target, seed, replicates, max_replicates)

    # 'safe' is the end where escalation is lowest; bisection keeps safe shown-below, unsafe not.
    safe, unsafe = (low, high) if increasing else (high, low)

    def done() -> Threshold:
        return Threshold(lever, target, None, None, sorted(cache.values(), key=lambda e: e.value), increasing)

    if at(safe).verdict(target) != "below":
        return done()
    if at(unsafe).verdict(target) == "below":
        result = done()
        result.value = at(unsafe).value
        return result
    step = 1 if integer else 0
    while abs(unsafe - safe) > max(tolerance, step):
        mid = (safe + unsafe) / 2
        if integer:
            mid = math.floor(mid) if increasing else math.ceil(mid)
            if mid in (safe, unsafe):
                break
        if at(mid).verdict(target) == "below":
            safe = mid
        else:
            unsafe = mid
    result = done()
    result.value, result.first_unsafe = at(safe).value, at(unsafe).value
    return result


def report(result: Threshold, unit: str = "") -> str:
    """The answer with its interval, and every point evaluated."""
    unit = f" {unit}" if unit else ""
    lines = [f"{'value':>10}  {'worlds':>7}  {'escalated':>9}  {'P(escalation)':>13}  "
             f"{'95 % one-sided bounds':>22}  verdict"]
    for e in result.evaluations:
        p, lo, hi = e.bounds()
        bounds = f"{'>= ' + f'{100 * lo:.1f} %':>10}  {'<= ' + f'{100 * hi:.1f} %':>10}"
        lines.append(f"{e.value:>10g}  {e.replicates:>7}  {e.escalations:>9}  {100 * p:>12.1f}%  "
                     f"{bounds}  {e.verdict(result.target)}")
    word = "largest" if result.increasing else "smallest"
    target = f"{100 * result.target:g} %"
    if result.value is None:
        lines.append(f"\nNo {result.lever} in the range keeps P(escalation) below {target} "
                     "(one-sided 95 % bound).")
        return "\n".join(lines)
    p, lo, hi = result.answer_evaluation().bounds()
    lines.append(f"\nThe {word} {result.lever} that keeps P(escalation) below {target} (one-sided 95 % "
                 f"bound): {result.value:g}{unit}")
    lines.append(f"  at {result.value:g}{unit}: P(escalation) = {100 * p:.2f} %, upper bound "
                 f"{100 * hi:.2f} % ({result.answer_evaluation().replicates} worlds)")
    if result.first_unsafe is not None:
        nxt = next(e for e in result.evaluations if e.value == result.first_unsafe)
        q, qlo, qhi = nxt.bounds()
        lines.append(f"  the threshold lies in [{min(result.value, result.first_unsafe):g}, "
                     f"{max(result.value, result.first_unsafe):g}]{unit}: at {result.first_unsafe:g}{unit} "
                     f"P(escalation) = {100 * q:.1f} % [{100 * qlo:.1f}, {100 * qhi:.1f}] is not shown below")
    else:
        lines.append("  the whole range is below the target")
    return "\n".join(lines)


def model_evaluator(lever: str, overrides: list[str]) -> tuple[Evaluator, dict]:
    """escalations(value, seed, replicates) from the model, the config composed as ``pdsim`` would."""
    from hydra import compose, initialize_config_dir
    from omegaconf import OmegaConf

    from sim.config import CONFIG_DIR, register_configs
    from sim.runner import run

    register_configs()  # the schema Hydra composes onto (importing sim.cli would do it too)

    with initialize_config_dir(str(CONFIG_DIR), version_base="1.3", job_name="pdsim_threshold"):
        base = compose("config", overrides=list(overrides))
    if OmegaConf.select(base, lever, default=None) is None:
        raise ValueError(f"--lever {lever} is not a parameter of the configuration")
    # Only the policy's own escalation matters here: no twin, no figures.
    OmegaConf.update(base, "counterfactual.enabled", False)
    OmegaConf.update(base, "output.progress", False)

    def escalations(value: float, seed: int, replicates: int) -> int:
        cfg = base.copy()
        OmegaConf.update(cfg, lever, value)
        OmegaConf.update(cfg, "seed", seed)
        OmegaConf.update(cfg, "replicates", replicates)
        return int(run(cfg, keep_models=False).outcomes["escalated"].sum())

    meta = {"seed": int(base.seed), "horizon_days": int(base.horizon_days),
            "scenario": str(base.scenario.name)}
    return escalations, meta


def build_parser() -> argparse.ArgumentParser:
    """The command line of ``pdsim-threshold``; every flag says what it does, its unit and its default."""
    parser = argparse.ArgumentParser(
        prog="pdsim-threshold",
        description="The largest lever value (default: warning-to-action lag) that keeps the escalation "
        "probability below a target, with a one-sided 95 % bound, by bisection with common random numbers. "
        "Each value gets batches of worlds until its interval is clearly below or above the target.",
        epilog="Examples:\n  pdsim-threshold --below 10\n"
        "  pdsim-threshold --below 5 --high 120 scenario=kenya_2008 policy.flexibility=0.8\n"
        "  pdsim-threshold --below 10 --lever policy.flexibility --decreasing --low 0 --high 1 --tolerance 0.02\n"
        "Exit status: 0 an answer (also 'no value in the range'); 2 bad input. See docs/SWEEPS.md.",
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    parser.add_argument("--below", type=float, required=True, metavar="PERCENT",
                        help="the target: escalation probability in percent, 0 < PERCENT < 100 (required)")
    parser.add_argument("--lever", default="policy.warning_to_action_lag_days", metavar="KEY",
                        help="the numeric parameter to search, as a config key (default: %(default)s); "
                        "integer levers (days, envoys) are searched in whole numbers")
    parser.add_argument("--low", type=float, default=0, metavar="VALUE",
                        help="low end of the search range, within the lever's declared range (default: %(default)s)")
    parser.add_argument("--high", type=float, default=180, metavar="VALUE",
                        help="high end of the search range, within the lever's declared range (default: %(default)s)")
    parser.add_argument("--tolerance", type=float, default=1, metavar="WIDTH",
                        help="stop when the bracket around the threshold is this narrow, in the lever's unit; "
                        "must be > 0 (default: %(default)s; integer levers stop at 1 in any case)")
    parser.add_argument("--replicates", type=int, default=500, metavar="N",
                        help="worlds per batch, >= 1 (default: %(default)s); a value whose interval straddles "
                        "the target gets another batch (with the next seed)")
    parser.add_argument("--max-replicates", type=int, default=8000, metavar="N",
                        help="worlds at most per lever value, >= --replicates (default: %(default)s); a value still "
                        "straddling the target then counts as not shown below (the conservative side)")
    parser.add_argument("--decreasing", action="store_true",
                        help="escalation falls as the lever rises (flexibility, partnership, ...): find the "
                        "smallest value that keeps it below the target instead of the largest")
    parser.add_argument("overrides", nargs="*", metavar="KEY=VALUE",
                        help="Hydra overrides as for pdsim, e.g. scenario=kenya_2008 seed=3 horizon_days=180 "
                        "(the twin is not run)")
    return parser


def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    bad = []
    if not (math.isfinite(args.below) and 0 < args.below < 100):
        bad.append(f"--below {args.below:g} is out of range: allowed 0 < PERCENT < 100")
    if not (math.isfinite(args.tolerance) and args.tolerance > 0):
        bad.append(f"--tolerance {args.tolerance:g} is out of range: allowed WIDTH > 0 "
                   "(the bisection would never stop)")
    if not (math.isfinite(args.low) and math.isfinite(args.high)):
        bad.append(f"--low {args.low:g} / --high {args.high:g}: give finite numbers")
    if args.replicates < 1:
        bad.append(f"--replicates {args.replicates} is out of range: allowed N >= 1")
    if args.max_replicates < args.replicates:
        bad.append(f"--max-replicates {args.max_replicates} is below --replicates {args.replicates}")
    if bad:
        print("pdsim-threshold: " + "; ".join(bad), file=sys.stderr)
        return 2
    from sim.sweep.design import declared_lever
    from sim.validation import ConfigError

    try:
        lever = declared_lever(args.lever, args.low, args.high)
        evaluate, meta = model_evaluator(args.lever, args.overrides)
        seed = meta["seed"]
        print(f"pdsim-threshold: {args.lever} in [{args.low:g}, {args.high:g}], target {args.below:g} %, "
              f"scenario {meta['scenario']}, {meta['horizon_days']} days, seed {seed} (+batch), "
              f"batches of {args.replicates} worlds up to {args.max_replicates}", file=sys.stderr, flush=True)
        t = time.perf_counter()
        result = find_threshold(
            evaluate, lever.low, lever.high, args.below / 100, lever=args.lever, integer=lever.integer,
            tolerance=args.tolerance, replicates=args.replicates, max_replicates=args.max_replicates,
            seed=seed, increasing=not args.decreasing,
        )
    except (ValueError, ConfigError) as err:
        print(f"pdsim-threshold: {err}", file=sys.stderr)
        return 2
    except Exception as err:  # noqa: BLE001 -- Hydra composition errors: the user's overrides
        if type(err).__module__.startswith(("hydra", "omegaconf")):
            print(f"pdsim-threshold: {' '.join(str(err).split())}", file=sys.stderr)
            return 2
        raise
    from sim.sweep.design import schema_field

    unit = schema_field(args.lever)[0].metadata.get("unit", "")
    print(report(result, unit))
    print(f"({len(result.evaluations)} values, {sum(e.replicates for e in result.evaluations)} worlds, "
          f"{time.perf_counter() - t:.1f} s)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
