"""The lever matrix: every headline lever's effect in every scenario preset, paired under common random numbers.

    python -m sim.levers [--replicates 3000] [--seed 0] [--presets generic kenya_2008 ...] [--csv FILE]

Pattern-oriented modelling (Grimm et al. 2005) asks that each success factor point the way the report and
the evidence say *in every case*, not only where one test looks. For each preset the other settings are the
levers its responders actually used (``scenario.history``, a policy preset in configs/policy/; the default
policy for ``generic``). Each contrast runs two arms on the same worlds and reports the paired difference
"worse arm minus better arm" with its 95 % interval: positive means the lever points the expected way.

Verdicts: "as expected" when the interval lies above zero, "wrong way" when it lies below, "no effect"
otherwise. A lever that cannot act in a preset says so (``applies``): a larger roster only matters where
crises overlap (§62), so in a preset where envoys seldom go to two countries at once (fewer than
``OVERLAP_SHARE`` of the worlds) the expected verdict is "no effect" — and never "wrong way". Where crises do
overlap they do so in few worlds, so the roster's row runs ten times the worlds of the others
(``Contrast.worlds_factor``; the CSV's ``replicates`` column says how many).
"""

from __future__ import annotations

import argparse
import csv
import math
import sys
from dataclasses import dataclass

import numpy as np

from sim.config import load_scenario, policy_names, scenario_names
from sim.runner import configure, run
from sim.stats import Z95, paired_difference, proportion


@dataclass(frozen=True)
class Contrast:
    lever: str
    claim: str  # what the report or the evidence says, with its source
    worse: tuple[str, ...]  # overrides of the arm expected to do worse
    better: tuple[str, ...]
    outcome: str = "escalated"  # a per-world outcome of sim.results.world_outcomes
    horizon_days: int | None = None  # None: the run's default horizon
    overlap_only: bool = False  # acts only where crises overlap (roster)
    #: Worlds per arm, as a multiple of the matrix's replicates: a lever that can act only in the few worlds where
    #: crises overlap has a small effect on the whole, which 3,000 worlds cannot resolve (the roster in Kyrgyzstan:
    #: +0.1 points [-0.1, +0.2] at 3,000 worlds, +0.16 [+0.11, +0.21] at 30,000). Worlds are nested (world i is the
    #: same whatever R), so the larger arm holds the smaller.
    worlds_factor: int = 1


CONTRASTS = (
    Contrast("warning-to-action lag", "shorter lag better (§47)",
             ("policy.warning_to_action_lag_days=60",), ("policy.warning_to_action_lag_days=7",)),
    Contrast("early warning", "better early warning better (§44-46)",
             ("policy.early_warning=0.1",), ("policy.early_warning=0.9",)),
    Contrast("hard-to-read crisis", "a crisis that takes the world by surprise is worse (§44)",
             ("scenario.warning_difficulty=3",), ("scenario.warning_difficulty=1",)),
    Contrast("flexibility", "flexible envoys better where local preference is uncertain or shifts (§48-50)",
             ("policy.flexibility=0",), ("policy.flexibility=1",)),
    Contrast("coordinated partners", "UN and a coordinated regional partner beat the UN alone (§51-52)",
             ("scenario.regional_organisation=false",), ("policy.coordination=1",)),
    Contrast("divided partners", "divided attention does worse than one actor alone (§16, §52)",
             ("policy.coordination=0",), ("scenario.regional_organisation=false",)),
    Contrast("sustainability", "staying engaged longer means fewer relapses over years (§56-57)",
             ("policy.sustainability_days=0",), ("policy.sustainability_days=1095",),
             outcome="relapses", horizon_days=1825),
    Contrast("roster size", "a larger roster better when crises overlap (§62)",
             ("policy.roster_size=1",), ("policy.roster_size=6",), overlap_only=True, worlds_factor=10),
    Contrast("envoy vs statement", "an envoy deployed in time beats a statement alone (§18-21, §47)",
             ("policy.tool=statement",), ("policy.tool=envoy",)),
)


#: The outcome that tells a preset's story, where it is not "escalation to armed conflict": in the Great
#: Lakes the fighting in eastern DRC is under way on day 0 and the fear is a regional war (§19), so there
#: the outcome is the number of countries that reach armed conflict.
PRESET_OUTCOME = {"great_lakes_2008": "sites_escalated"}


def preset_overrides(preset: str) -> tuple[str, ...]:
    """The scenario and the levers its responders used (the default policy where none is recorded)."""
    history = load_scenario(preset).history
    policy = (f"policy={history}",) if history and history in policy_names() else ()
    return (f"scenario={preset}", *policy)


def effect(worse: np.ndarray, better: np.ndarray) -> dict:
    """Paired difference worse - better with a 95 % interval (Newcombe for yes/no outcomes)."""
    if worse.dtype == bool:
        d = paired_difference(worse, better)
        return {"estimate": d["estimate"], "ci_low": d["ci_low"], "ci_high": d["ci_high"]}
    x = worse.astype(float) - better.astype(float)
    m = float(x.mean())
    half = Z95 * float(x.std(ddof=1)) / math.sqrt(x.size) if x.size > 1 else math.nan
    return {"estimate": m, "ci_low": m - half, "ci_high": m + half}


def verdict(e: dict) -> str:
    if e["ci_low"] > 0:
        return "as expected"
    if e["ci_high"] < 0:
        return "wrong way"
    return "no effect"


#: A roster can only matter where crises overlap (§62): the share of worlds in which envoys went to two or more
#: countries (with the larger roster) below which the roster lever is not expected to act.
OVERLAP_SHARE = 0.05


def crises_overlap(outcomes: dict) -> bool:
    """Did envoys go to two or more countries in at least OVERLAP_SHARE of the worlds?"""
    return bool((outcomes["sites_with_envoy"] >= 2).mean() >= OVERLAP_SHARE)


def lever_matrix(presets=None, replicates: int = 3000, seed: int = 0, contrasts=CONTRASTS, progress=None):
    """One row per (preset, contrast): the paired effect, its interval and the verdict."""
    rows = []
    for preset in presets or scenario_names():
        base = (*preset_overrides(preset), f"seed={seed}", "counterfactual.enabled=false", "output.events=false",
                "output.plot=false", "output.progress=false")
        cache: dict[tuple, dict] = {}

        def arm(overrides, horizon, worlds, base=base, cache=cache):
            key = (overrides, horizon, worlds)
            if key not in cache:
                extra = (f"horizon_days={horizon}",) if horizon else ()
                cache[key] = run(configure(*base, f"replicates={worlds}", *extra, *overrides),
                                 keep_models=False).outcomes
            return cache[key]

        for c in contrasts:
            worlds = replicates * c.worlds_factor
            worse, better = arm(c.worse, c.horizon_days, worlds), arm(c.better, c.horizon_days, worlds)
            outcome = PRESET_OUTCOME.get(preset, c.outcome) if c.outcome == "escalated" else c.outcome
            e = effect(worse[outcome], better[outcome])
            applies = not c.overlap_only or crises_overlap(better)
            rows.append({"preset": preset, "lever": c.lever, "claim": c.claim, "outcome": outcome,
                         "replicates": worlds, "seed": seed, "applies": applies, **e, "verdict": verdict(e)})
            if progress:
                progress(rows[-1])
    return rows


LAGS = (0, 3, 7, 14, 21, 30, 45, 60, 90, 120, 180, 270, 365)


def lag_curve(preset: str = "generic", replicates: int = 3000, seed: int = 0, lags=LAGS) -> list[dict]:
    """Escalation against the warning-to-action lag on the same worlds, with the no-action level; and the
    marginal cost of each extra day between neighbouring lags (points per day) — where it peaks, the window
    is closing fastest (§47; Regan & Stam 2000 found the timing effect curvilinear)."""
    base = (*preset_overrides(preset), f"replicates={replicates}", f"seed={seed}", "output.events=false",
            "output.plot=false", "output.progress=false")
    rows, previous = [], None
    for lag in lags:
        res = run(configure(*base, f"policy.warning_to_action_lag_days={lag}"), keep_models=False)
        p = proportion(res.outcomes["escalated"])
        row = {"lag_days": lag, "escalation": p["probability"], "ci_low": p["ci_low"], "ci_high": p["ci_high"],
               "no_action": float(res.twin_outcomes["escalated"].mean())}
        if previous is not None:
            d = paired_difference(res.outcomes["escalated"], previous[1])
            row["points_per_day"] = 100 * d["estimate"] / (lag - previous[0])
            row["step_ci"] = (100 * d["ci_low"], 100 * d["ci_high"])
        rows.append(row)
        previous = (lag, res.outcomes["escalated"])
    return rows


def markdown(rows: list[dict]) -> str:
    """Lever x preset as a Markdown table: effect in points (or relapses per 100 worlds) [95 % interval]."""
    presets = list(dict.fromkeys(r["preset"] for r in rows))
    levers = list(dict.fromkeys(r["lever"] for r in rows))
    cell = {(r["preset"], r["lever"]): r for r in rows}
    mark = {"as expected": "✓", "wrong way": "✗", "no effect": "·"}
    lines = ["| lever (worse − better) | " + " | ".join(presets) + " |", "|---" * (len(presets) + 1) + "|"]
    for lever in levers:
        out = []
        for p in presets:
            r = cell[(p, lever)]
            low, high = 100 * r["ci_low"], 100 * r["ci_high"]
            text = f"{100 * r['estimate']:+.1f} [{low:+.1f}, {high:+.1f}] {mark[r['verdict']]}"
            out.append(text if r["applies"] else f"{text} (no overlap)")
        lines.append(f"| {lever} | " + " | ".join(out) + " |")
    return "\n".join(lines)


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(prog="python -m sim.levers", description=__doc__.split("\n\n")[0])
    ap.add_argument("--replicates", type=int, default=3000, help="worlds per arm (default 3000; the roster's row 10x)")
    ap.add_argument("--seed", type=int, default=0, help="seed shared by every arm (default 0)")
    ap.add_argument("--presets", nargs="*", default=None, help="scenario presets (default: all)")
    ap.add_argument("--csv", default=None, help="also write the rows to this CSV file")
    ap.add_argument("--lag-curve", action="store_true", help="print the lag curve of the first preset instead")
    args = ap.parse_args(argv)
    if args.replicates < 2:
        ap.error(f"--replicates must be at least 2, got {args.replicates}")
    unknown = sorted(set(args.presets or ()) - set(scenario_names()))
    if unknown:
        ap.error(f"--presets: {', '.join(unknown)} not a preset; choose from {', '.join(scenario_names())}")

    if args.lag_curve:
        preset = (args.presets or ["generic"])[0]
        print("| lag (days) | escalation [95 %] | no action | extra points per day since the last lag |")
        print("|---|---|---|---|")
        for r in lag_curve(preset, args.replicates, args.seed):
            step = f"{r['points_per_day']:+.3f}" if "points_per_day" in r else ""
            print(f"| {r['lag_days']} | {100 * r['escalation']:.1f} [{100 * r['ci_low']:.1f}, {100 * r['ci_high']:.1f}]"
                  f" | {100 * r['no_action']:.1f} | {step} |", flush=True)
        return 0

    def show(r):
        print(f"{r['preset']:18s} {r['lever']:24s} {r['verdict']:12s} {100 * r['estimate']:+6.1f} "
              f"[{100 * r['ci_low']:+6.1f}, {100 * r['ci_high']:+6.1f}]", file=sys.stderr, flush=True)

    rows = lever_matrix(args.presets, args.replicates, args.seed, progress=show)
    print(markdown(rows))
    if args.csv:
        with open(args.csv, "w", newline="", encoding="utf-8") as f:
            w = csv.DictWriter(f, fieldnames=list(rows[0]))
            w.writeheader()
            w.writerows(rows)
    return 0


if __name__ == "__main__":
    sys.exit(main())
