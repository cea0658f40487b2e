"""Pattern-oriented validation: the committed UCDP targets beside the model's comparable quantities.

    python -m sim.patterns [--replicates 5000] [--seed 0]

The targets (``docs/validation/ucdp_targets.csv``) were derived once from the UCDP/PRIO Armed Conflict Dataset
21.1 by ``docs/validation/derive_targets.py``; see ``docs/validation/README.md`` for provenance and definitions.
This module never reads the dataset itself.

The model and the data measure different things. The model runs *one* regional crisis for a 365-day horizon,
starting from a crisis state, on a latent daily tension scale whose phase lines are not calibrated to battle
deaths (docs/ODD.md section 10). UCDP counts country conflicts per calendar year with battle-death thresholds
(25 and 1,000 a year) over decades. Only a few quantities have a meaningful counterpart, and only loosely:

- P(war | escalation to armed conflict) within the horizon, no intervention, against the share of UCDP episodes
  that reach war (in their first calendar year; ever);
- the effect of conflict history (``scenario.sites.A.war_history``), no intervention, common random numbers,
  against the post-conflict onset hazard, the recurrence share of onsets and Mueller's hazard ratio (> 9 % vs
  < 1 % a year).

Everything else is printed as *not comparable*, with the reason. The model is not tuned to these numbers.
A verdict is "consistent" when the model's 95 % interval overlaps the data's 95 % interval (Wilson, from the
committed denominators), "inconsistent" when it does not.
"""

from __future__ import annotations

import argparse
import csv
import math
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from sim.stats import paired_difference, proportion, wilson

TARGETS_PATH = Path(__file__).resolve().parent.parent / "docs" / "validation" / "ucdp_targets.csv"
COLUMNS = ("target", "value", "unit", "definition", "period")
#: Mueller (World Bank blog, "The business case for prevention"): annual onset hazard < 1 % without recent
#: violence, > 9 % with recent conflict (docs: /work/shared/brief/LITERATURE.md, reliability R).
MUELLER_NO_RECENT, MUELLER_RECENT = 0.01, 0.09
BASE = ("scenario=generic", "policy.intervene=false", "counterfactual.enabled=false",
        "output.events=false", "output.plot=false", "output.progress=false")


def load_targets(path: Path = TARGETS_PATH) -> dict[str, dict]:
    """The committed targets by name: {target: {value (float), unit, definition, period}}."""
    with open(path, newline="", encoding="utf-8") as f:
        rows = list(csv.DictReader(f))
    return {r["target"]: {**r, "value": float(r["value"])} for r in rows}


def data_share(targets: dict, name: str, n_name: str) -> tuple[float, float, float]:
    """A UCDP share with its Wilson 95 % interval from the committed denominator."""
    p, n = targets[name]["value"], int(targets[n_name]["value"])
    return wilson(round(p * n), n)


def overlap(a: tuple[float, float, float], b: tuple[float, float, float]) -> str:
    return "consistent" if a[1] <= b[2] and b[1] <= a[2] else "inconsistent"


def no_intervention(replicates: int, seed: int, war_history: bool, *extra: str) -> dict[str, np.ndarray]:
    """Per-world outcomes of the generic scenario without intervention (the twin's world)."""
    from sim.runner import configure, run

    cfg = configure(*BASE, f"replicates={replicates}", f"seed={seed}",
                    f"scenario.sites.A.war_history={str(war_history).lower()}", *extra)
    result = run(cfg, keep_models=False)
    return result.outcomes


def ratio_intervals(x: np.ndarray, y: np.ndarray, boot: int = 2000, seed: int = 12345) -> dict:
    """Risk ratio P(x)/P(y) and odds ratio of paired boolean arrays, with paired percentile bootstrap 95 %."""
    x, y = np.asarray(x, dtype=bool), np.asarray(y, dtype=bool)

    def stats(px, py):
        with np.errstate(divide="ignore", invalid="ignore"):
            return px / py, (px / (1 - px)) / (py / (1 - py))

    rr, odds = stats(x.mean(), y.mean())
    rng = np.random.default_rng(seed)
    idx = rng.integers(0, x.size, size=(boot, x.size))
    brr, bor = stats(x[idx].mean(axis=1), y[idx].mean(axis=1))
    q = lambda v: tuple(np.nanpercentile(v, [2.5, 97.5]))  # noqa: E731
    return {"rr": (float(rr), *q(brr)), "or": (float(odds), *q(bor))}


@dataclass
class Row:
    quantity: str
    data: str
    model: str
    verdict: str
    note: str


def fmt(t: tuple[float, float, float], pct: bool = True) -> str:
    if pct:
        return f"{100 * t[0]:.1f} % [{100 * t[1]:.1f}, {100 * t[2]:.1f}]"
    return f"{t[0]:.2f} [{t[1]:.2f}, {t[2]:.2f}]"


def compare(replicates: int = 5000, seed: int = 0, targets: dict | None = None) -> tuple[list[Row], dict]:
    """Run the model (no intervention; conflict history off and on, same seed) and build the comparison rows."""
    t = targets or load_targets()
    base = no_intervention(replicates, seed, False)
    hist = no_intervention(replicates, seed, True)
    esc0, war0, esc1 = base["escalated"], base["war"], hist["escalated"]
    p = proportion(war0[esc0])
    war_given_esc = (p["probability"], p["ci_low"], p["ci_high"])
    e0, e1 = proportion(esc0), proportion(esc1)
    diff = paired_difference(esc1, esc0)
    ratios = ratio_intervals(esc1, esc0)
    ceiling = 1.0 / e0["probability"] if e0["probability"] > 0 else math.inf
    mueller_rr = MUELLER_RECENT / MUELLER_NO_RECENT
    mueller_or = (MUELLER_RECENT / (1 - MUELLER_RECENT)) / (MUELLER_NO_RECENT / (1 - MUELLER_NO_RECENT))
    first = data_share(t, "share_episodes_war_first_year", "episodes_n")
    ever = data_share(t, "share_episodes_ever_war", "episodes_n")
    rec = t["recurrence_share_onsets"]["value"]
    rec00 = t["recurrence_share_onsets_2000s"]["value"]
    hazard = t["post_conflict_onset_hazard"]["value"]
    # The share of crisis countries with a war history the model would need to reproduce the recurrence share:
    # s = h p1 / (h p1 + (1 - h) p0)  =>  h = s p0 / (s p0 + (1 - s) p1).
    p0, p1 = e0["probability"], e1["probability"]
    implied_h = rec * p0 / (rec * p0 + (1 - rec) * p1) if p1 > 0 else math.nan
    war_share_days = float(base["war_days"].sum() / max(base["conflict_days"].sum(), 1.0))

    def v(name, pct=False):
        x = t[name]["value"]
        return f"{100 * x:.1f} %" if pct else f"{x:g}"

    rows = [
        Row("P(war | escalation), first year", f"{fmt(first)} episodes at war in 1st year",
            f"{fmt(war_given_esc)} no intervention", overlap(war_given_esc, first),
            "closest match: the model's horizon is 365 days from a crisis, escalation falls mid-horizon"),
        Row("P(war | escalation), ever", f"{fmt(ever)} episodes ever at war",
            f"{fmt(war_given_esc)} no intervention", overlap(war_given_esc, ever),
            "UCDP episodes run for years; the model sees < 1 year after escalation (truncated, expect lower)"),
        Row("history raises risk (direction)",
            f"post-conflict hazard {v('post_conflict_onset_hazard', True)}/yr vs Mueller < 1 %",
            f"+{fmt((diff['estimate'], diff['ci_low'], diff['ci_high']))} paired, "
            f"{100 * p0:.1f} % -> {100 * p1:.1f} %",
            "consistent" if diff["ci_low"] > 0 else "inconsistent",
            "both say conflict history raises the risk of (re)escalation"),
        Row("history: risk ratio", f"> {mueller_rr:.0f} (Mueller); >= {hazard / MUELLER_NO_RECENT:.0f} "
            "(UCDP hazard / Mueller <1 %)", fmt(ratios["rr"], pct=False), "not comparable",
            f"the model starts in crisis: baseline escalation {100 * p0:.0f} % caps the ratio at {ceiling:.2f}"),
        Row("history: odds ratio", f"> {mueller_or:.1f} (Mueller, implied)", fmt(ratios["or"], pct=False),
            "consistent" if ratios["or"][2] >= mueller_or else "inconsistent",
            "odds ratios are less tied to the baseline; annual hazard from peace vs 1-year risk from a crisis"),
        Row("recurrence share of onsets", f"{v('recurrence_share_onsets', True)} (1976-2020), "
            f"{100 * rec00:.1f} % (2000s); WDR §29: 90 %", f"needs {100 * implied_h:.0f} % of crises with history",
            "not comparable",
            "a share over the world's onsets needs the mix of countries with and without history; the model "
            "has none"),
        Row("share of conflict-years at war", v("share_conflict_years_at_war", True),
            f"{100 * war_share_days:.1f} % of armed site-days at war", "not comparable",
            "annual battle deaths over country-years vs daily latent tension over one crisis"),
        Row("episode duration", f"median {v('episode_duration_median')} y, mean {v('episode_duration_mean')} y, "
            f"{v('episode_share_7y_plus', True)} >= 7 y", "-", "not comparable",
            "the horizon is 365 days: no multi-year episode can be observed"),
        Row("transitions minor->war / war->minor / end",
            f"{v('transition_minor_to_war', True)} / {v('transition_war_to_minor', True)} / "
            f"{v('transition_active_to_inactive', True)} per year", "-", "not comparable",
            "year-on-year transitions of ongoing conflicts; the model follows one crisis for one year"),
        Row("active conflicts per year", f"{v('active_conflicts_per_year')} (1990-2020)", "-", "not comparable",
            "a count over the world's countries; the model has one region of three countries"),
        Row("onsets per decade", f"{v('onsets_1990s')} / {v('onsets_2000s')} / {v('onsets_2010s')} "
            "(1990s/2000s/2010s)", "-", "not comparable", "a count over the world and decades"),
    ]
    extra = {"escalation_no_history": e0, "escalation_history": e1, "difference": diff, "ratios": ratios,
             "war_given_escalation": war_given_esc, "implied_history_share": implied_h}
    return rows, extra


def render(rows: list[Row]) -> str:
    head = Row("quantity", "UCDP / literature [95 % CI]", "model [95 % CI]", "verdict", "note")
    cols = ("quantity", "data", "model", "verdict")
    widths = {c: max(len(getattr(r, c)) for r in [head, *rows]) for c in cols}
    lines = []
    for i, r in enumerate([head, *rows]):
        lines.append("  ".join(getattr(r, c).ljust(widths[c]) for c in cols).rstrip())
        if i == 0:
            lines.append("  ".join("-" * widths[c] for c in cols))
        else:
            lines.append(" " * 4 + "-> " + r.note)
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> None:
    ap = argparse.ArgumentParser(description="UCDP targets beside the model's comparable quantities")
    ap.add_argument("--replicates", type=int, default=5000)
    ap.add_argument("--seed", type=int, default=0)
    args = ap.parse_args(argv)
    rows, _ = compare(args.replicates, args.seed)
    print("Pattern-oriented validation: UCDP/PRIO ACD 21.1 targets (docs/validation/ucdp_targets.csv)"
          f" vs pdsim, generic scenario, no intervention, {args.replicates} worlds, seed {args.seed}.")
    print("The model runs one crisis for 365 days on a latent daily tension scale; UCDP counts country conflicts")
    print("per calendar year by battle deaths. Verdict: 95 % intervals overlap (consistent) or not.\n")
    print(render(rows))


if __name__ == "__main__":
    main()
