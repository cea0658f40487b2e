"""``pdsim-compare``: several policies (or scenarios) on the same seed, side by side.

    pdsim-compare --policies default rapid "slow:policy.warning_to_action_lag_days=90" replicates=2000
    pdsim-compare --scenarios generic kenya_2008 guinea_2009 policy=rapid
    pdsim-compare --policies default rapid +counterfactual.policy.warning_to_action_lag_days=90

Each arm is simulated with :func:`sim.runner.run` (policy and its counterfactual twin) from the same
seed, so policies are compared on the same worlds (common random numbers: paired differences).
Scenarios have different countries, so their worlds are not paired; their differences are unpaired.
Writes, into ``--out`` (default compare/<date_time>/): compare_escalation, compare_survival and
compare_differences as PNG and PDF, compare.csv (the table), report.md and handout.pdf.
"""

from __future__ import annotations

import argparse
import sys
from datetime import datetime
from pathlib import Path
from typing import Any

import matplotlib.pyplot as plt
import numpy as np
import pandas as pd
from matplotlib.ticker import FuncFormatter

from sim.analysis import style
from sim.analysis.load import AnalysisInputError, Run
from sim.stats import paired_difference, proportion, wilson


def policy_preset(name: str) -> list[str]:
    """A policy preset (configs/policy/NAME.yaml) as overrides 'policy.key=value'."""
    from omegaconf import OmegaConf

    from sim.config import CONFIG_DIR

    folder = CONFIG_DIR / "policy"
    path = folder / f"{name}.yaml"
    if not path.exists():
        names = ", ".join(sorted(p.stem for p in folder.glob("*.yaml")))
        raise AnalysisInputError(f"--policies: {name!r} is not a policy preset: choose one of {names}, "
                                 "or give LABEL:key=value,key=value")
    node = OmegaConf.load(path)
    values = OmegaConf.to_container(node) if node else {}
    return [f"policy.{k}={v}" for k, v in (values or {}).items()]


def parse_arm(text: str, kind: str) -> tuple[str, list[str]]:
    """'rapid' (a preset) or 'slow:policy.warning_to_action_lag_days=90,policy.flexibility=0.2'."""
    if kind == "scenario":
        return text, [f"scenario={text}"]
    if ":" in text:
        label, _, rest = text.partition(":")
        overrides = [o.strip() for o in rest.split(",") if o.strip()]
        bad = [o for o in overrides if "=" not in o]
        if bad or not label:
            raise AnalysisInputError(f"--policies: {text!r} is not LABEL:key=value[,key=value]")
        return label, [o if o.split("=")[0].startswith(("policy.", "scenario", "dynamics.", "costs.", "+"))
                       else f"policy.{o}" for o in overrides]
    return text, policy_preset(text)


def run_arms(arms: list[tuple[str, list[str]]], common: list[str], progress=print) -> list[Run]:
    """Simulate every arm (policy and its twin) with the common overrides; return them as Runs."""
    from sim.runner import configure, run

    preset = [o for o in common if o.startswith("policy=")]
    common = [o.lstrip("+") for o in common if not o.startswith("policy=")]
    base = policy_preset(preset[-1].split("=", 1)[1]) if preset else []
    from sim.runner import twin_config
    from sim.validation import validate

    configs = []
    for label, overrides in arms:  # every arm is checked before any is simulated
        scen = [o for o in overrides + common if o.startswith("scenario=")]
        rest = [o for o in base + common + overrides if not o.startswith("scenario=")]
        cfg = validate(configure(*scen[-1:], *rest))
        if cfg.counterfactual.enabled:
            validate(twin_config(cfg))
        configs.append((label, cfg))
    runs = []
    for label, cfg in configs:
        progress(f"[pdsim compare] {label}: {cfg.replicates:,} worlds, seed {cfg.seed} ...")
        result = run(cfg, keep_models=False)
        runs.append(from_result(result, label))
    return runs


def from_result(result, label: str) -> Run:
    summary = result.summary()
    twin = pd.DataFrame(result.twin_outcomes) if result.twin_outcomes is not None else None
    return Run(None, summary, pd.DataFrame(result.outcomes), twin, result.timeseries, result.twin_timeseries,
               label=label)


def unpaired_difference(x: np.ndarray, y: np.ndarray) -> dict[str, float]:
    """P(x) - P(y) for independent samples, Newcombe's (1998, method 10) hybrid score interval."""
    p1, l1, u1 = wilson(int(np.sum(x)), len(x))
    p2, l2, u2 = wilson(int(np.sum(y)), len(y))
    d = p1 - p2
    return {"estimate": d, "ci_low": d - float(np.hypot(p1 - l1, u2 - p2)),
            "ci_high": d + float(np.hypot(u1 - p1, p2 - l2))}


def compare_table(runs: list[Run], paired: bool) -> pd.DataFrame:
    """One row per arm: escalation, war (Wilson), prevented vs its own twin (paired), difference in
    escalation against the first arm (paired when the arms share their worlds), restricted mean time."""
    from sim.analysis.survival import kaplan_meier, rmst

    first = runs[0]
    rows = []
    for r in runs:
        esc, war = proportion(r.outcomes["escalated"]), proportion(r.outcomes["war"])
        row: dict[str, Any] = {
            "arm": r.label, "scenario": r.summary["scenario"], "worlds": len(r.outcomes),
            "escalation_pct": 100 * esc["probability"], "escalation_low": 100 * esc["ci_low"],
            "escalation_high": 100 * esc["ci_high"],
            "war_pct": 100 * war["probability"], "war_low": 100 * war["ci_low"], "war_high": 100 * war["ci_high"],
        }
        if "unresolved" in r.outcomes:  # still in crisis at the horizon, not escalated
            u = proportion(r.outcomes["unresolved"])
            row |= {"unresolved_pct": 100 * u["probability"], "unresolved_low": 100 * u["ci_low"],
                    "unresolved_high": 100 * u["ci_high"]}
        if r.twin is not None:
            p = paired_difference(r.twin["escalated"], r.outcomes["escalated"])
            row |= {"twin": style.twin_label(r.twin_policy), "prevented_per_100": 100 * p["estimate"],
                    "prevented_low": 100 * p["ci_low"], "prevented_high": 100 * p["ci_high"],
                    "induced_worlds": p["y_only"]}
        if r is first:
            row |= {"diff_vs_first_pp": 0.0, "diff_low": 0.0, "diff_high": 0.0}
        else:
            d = (paired_difference(r.outcomes["escalated"], first.outcomes["escalated"]) if paired
                 else unpaired_difference(r.outcomes["escalated"], first.outcomes["escalated"]))
            row |= {"diff_vs_first_pp": 100 * d["estimate"], "diff_low": 100 * d["ci_low"],
                    "diff_high": 100 * d["ci_high"]}
        m = rmst(kaplan_meier(r.outcomes["escalation_day"], r.horizon, r.label), r.horizon)
        row |= {"rmst_days": m["days"], "rmst_low": m["ci_low"], "rmst_high": m["ci_high"]}
        rows.append(row)
    return pd.DataFrame(rows)


def _prov(runs: list[Run]) -> dict[str, Any]:
    p = runs[0].provenance()
    scen = {r.summary["scenario"] for r in runs}
    if len(scen) > 1:
        p["scenario"] = ", ".join(sorted(scen))
    return p


@style.styled
def figures(runs: list[Run], table: pd.DataFrame, out: Path, paired: bool) -> list[Path]:
    from sim.analysis.survival import survival_figure

    files: list[Path] = []
    prov = _prov(runs)
    # 1. share escalated over time, every arm and the first arm's twin (if its twin is shared by all).
    fig, (ax, ax2) = plt.subplots(1, 2, figsize=(10.5, 4.2), width_ratios=(1.4, 1))
    top = 0.0
    for i, r in enumerate(runs):
        st = style.series_style(i)
        if r.timeseries is not None:
            ts = r.timeseries
            ax.plot(ts["day"], ts["share_escalated"], color=st["color"], ls=st["ls"], lw=1.7)
            ax.annotate(r.label, (ts["day"].iloc[-1], ts["share_escalated"].iloc[-1]), xytext=(4, 0),
                        textcoords="offset points", color=st["color"], fontsize=7.5, va="center",
                        annotation_clip=False)
            top = max(top, float(ts["share_escalated"].max()))
    twins = {style.twin_label(r.twin_policy) for r in runs if r.twin is not None}
    if paired and len(twins) == 1 and runs[0].twin_timeseries is not None:
        ts = runs[0].twin_timeseries
        lab = twins.pop()
        ax.plot(ts["day"], ts["share_escalated"], color=style.REFERENCE, ls=":", lw=1.5)
        ax.annotate(lab, (ts["day"].iloc[-1], ts["share_escalated"].iloc[-1]), xytext=(4, 0),
                    textcoords="offset points", fontsize=7.5, va="center", annotation_clip=False)
        top = max(top, float(ts["share_escalated"].max()))
    ax.set_ylim(0, min(1, top * 1.15 + 0.005))
    ax.yaxis.set_major_formatter(FuncFormatter(lambda v, _: f"{100 * v:.0f} %"))
    ax.set_xlabel("day")
    ax.set_ylabel("share of worlds escalated to armed conflict")
    ax.set_title("Escalation over time", fontsize=9.5)
    y = np.arange(len(table))
    for i, row in table.iterrows():
        st = style.series_style(int(i))
        ax2.errorbar(row["escalation_pct"], i, xerr=[[row["escalation_pct"] - row["escalation_low"]],
                                                     [row["escalation_high"] - row["escalation_pct"]]],
                     fmt=st["marker"], color=st["color"], capsize=3, ms=6)
        ax2.annotate(f"{row['escalation_pct']:.1f} %", (row["escalation_high"], i), xytext=(4, 0),
                     textcoords="offset points", fontsize=7.5, va="center")
    ax2.set_yticks(y, table["arm"])
    ax2.invert_yaxis()
    ax2.set_xlim(left=0, right=max(table["escalation_high"]) * 1.25 + 0.5)
    ax2.set_xlabel("P(escalation to armed conflict), % (95 % Wilson)")
    ax2.set_title("At the horizon", fontsize=9.5)
    style.footer(fig, **prov, extra="same seed for every arm" + (" (paired worlds)" if paired else ""))
    fig.tight_layout(rect=(0, 0.06, 1, 1))
    files += style.save(fig, out / "compare_escalation")
    # 2. survival: every arm, and the twin as reference.
    groups = {r.label: r.outcomes["escalation_day"] for r in runs}
    reference = None
    if runs[0].twin is not None and paired:
        reference = style.twin_label(runs[0].twin_policy) + (f" (of {runs[0].label})" if len(twins) > 1 else "")
        groups[reference] = runs[0].twin["escalation_day"]
    files += survival_figure(groups, runs[0].horizon, out / "compare_survival", provenance=prov,
                             reference=reference)[0]
    # 3. differences against the first arm.
    fig, ax = plt.subplots(figsize=(7.5, 0.9 + 0.5 * len(table) + 0.6))
    rest = table.iloc[1:]
    for k, (i, row) in enumerate(rest.iterrows()):
        st = style.series_style(int(i))
        ax.errorbar(row["diff_vs_first_pp"], k, xerr=[[row["diff_vs_first_pp"] - row["diff_low"]],
                                                      [row["diff_high"] - row["diff_vs_first_pp"]]],
                    fmt=st["marker"], color=st["color"], capsize=3, ms=6)
        ax.annotate(f"{row['diff_vs_first_pp']:+.1f} [{row['diff_low']:+.1f}, {row['diff_high']:+.1f}]",
                    (row["diff_high"], k), xytext=(5, 0), textcoords="offset points", fontsize=7.5, va="center")
    ax.axvline(0, color="black", lw=0.8)
    ax.set_yticks(range(len(rest)), rest["arm"])
    ax.invert_yaxis()
    ax.margins(x=0.35)
    ax.set_ylim(len(rest) - 0.5, -0.5)
    kind = "paired: same worlds" if paired else "unpaired"
    ax.set_xlabel(f"difference in P(escalation) against {runs[0].label}, percentage points (95 %, {kind})")
    ax.set_title(f"Each arm minus {runs[0].label}: left of 0 = fewer escalations", fontsize=9.5)
    style.footer(fig, **prov)
    fig.tight_layout(rect=(0, 0.1, 1, 1))
    files += style.save(fig, out / "compare_differences")
    return files


def reading(table: pd.DataFrame, paired: bool) -> list[str]:
    """Plain sentences; every number comes from ``table``."""
    first = table.iloc[0]
    out = [f"{first['arm']}: escalation {first['escalation_pct']:.1f} % [{first['escalation_low']:.1f}, "
           f"{first['escalation_high']:.1f}]."]
    for _, row in table.iloc[1:].iterrows():
        direction = "fewer" if row["diff_vs_first_pp"] < 0 else "more"
        sure = row["diff_high"] < 0 or row["diff_low"] > 0
        out.append(f"{row['arm']}: escalation {row['escalation_pct']:.1f} % [{row['escalation_low']:.1f}, "
                   f"{row['escalation_high']:.1f}], {abs(row['diff_vs_first_pp']):.1f} points {direction} than "
                   f"{first['arm']} [{row['diff_low']:+.1f}, {row['diff_high']:+.1f}]"
                   + ("" if sure else " — the interval includes no difference") + ".")
    return out


def markdown(table: pd.DataFrame, paired: bool, command: str, files: list[Path]) -> str:
    cols = ["arm", "escalation_pct", "escalation_low", "escalation_high", "war_pct", "diff_vs_first_pp",
            "diff_low", "diff_high", "rmst_days"]
    if "prevented_per_100" in table:
        cols.insert(5, "prevented_per_100")
    if "unresolved_pct" in table:
        cols.insert(5, "unresolved_pct")
    head = "| " + " | ".join(cols) + " |\n|" + "---|" * len(cols) + "\n"
    body = "".join("| " + " | ".join(f"{v:.1f}" if isinstance(v, float) else str(v) for v in row) + " |\n"
                   for row in table[cols].itertuples(index=False))
    twin = ""
    if "twin" in table:
        twin = "Prevented per 100 crises is against each arm's own " + "; ".join(sorted(set(table["twin"]))) + ".\n\n"
    figs = "\n".join(f"![{p.stem}]({p.name})" for p in files if p.suffix == ".png")
    lines = "\n".join(f"- {s}" for s in reading(table, paired))
    return (f"# Comparison: {', '.join(table['arm'])}\n\n{lines}\n\n{head}{body}\n{twin}"
            f"Differences are against {table['arm'].iloc[0]} "
            f"({'paired: the same worlds, common random numbers' if paired else 'unpaired: different scenarios'});"
            " intervals are 95 %. RMST: restricted mean days to escalation within the horizon.\n\n"
            f"{figs}\n\nStylised teaching model, not a forecast.\n\nReproduce: `{command}`\n")


def write_handout(runs: list[Run], table: pd.DataFrame, paired: bool, command: str, files: list[Path],
                  path: Path) -> Path:
    """The comparison as a workshop handout (see sim.analysis.handout)."""
    from sim.analysis.handout import handout
    from sim.analysis.report import Report, Section, _config_text, caveats

    pngs = {f.stem: f for f in files if f.suffix == ".png"}
    lines = reading(table, paired)
    surv = "; ".join(f"{r['arm']}: restricted mean time to escalation {r['rmst_days']:.0f} days "
                     f"[{r['rmst_low']:.0f}, {r['rmst_high']:.0f}]" for _, r in table.iterrows())
    sections = [
        Section("Escalation over time and at the horizon", [pngs["compare_escalation"]], " ".join(lines)),
        Section("Survival: time to escalation", [pngs["compare_survival"]], surv + "."),
    ]
    if len(table) > 1:
        sections.append(Section(f"Differences against {table['arm'].iloc[0]}", [pngs["compare_differences"]],
                                " ".join(lines[1:])))
    kind = "policies" if paired else "scenarios"
    question = (f"How do these {kind} compare on the same seed: how likely is escalation under each, and by how "
                "much does each differ from the first?")
    rep = Report(path.parent, "compare", f"Comparison: {', '.join(table['arm'])}", question, sections, command,
                 _config_text(runs[0].summary.get("config", {})), _prov(runs),
                 caveats=caveats(runs[0].summary.get("config")))
    return handout(rep, path)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="pdsim-compare", description=__doc__.split("\n\n")[0],
                                     formatter_class=argparse.RawDescriptionHelpFormatter,
                                     epilog="\n\n".join(__doc__.split("\n\n")[1:]))
    group = parser.add_mutually_exclusive_group(required=True)
    group.add_argument("--policies", nargs="+", metavar="POLICY",
                       help="policy presets (configs/policy/) or LABEL:key=value,key=value")
    group.add_argument("--scenarios", nargs="+", metavar="SCENARIO", help="scenario presets (configs/scenario/)")
    parser.add_argument("--out", type=Path, default=None, help="output directory (default compare/<date_time>)")
    parser.add_argument("overrides", nargs="*", help="for every arm, e.g. replicates=2000 seed=3 policy=rapid")
    args = parser.parse_args(argv)
    from sim.validation import ConfigError

    kind = "policy" if args.policies else "scenario"
    # nargs="+" also takes the overrides that follow: key=value without a LABEL: belongs to every arm
    items = [t for t in (args.policies or args.scenarios) if ":" in t or "=" not in t]
    args.overrides = [t for t in (args.policies or args.scenarios) if ":" not in t and "=" in t] + args.overrides
    if len(items) < 2:
        print(f"pdsim-compare: --{kind if kind == 'policy' else 'scenario'}s = {items}: give at least two",
              file=sys.stderr)
        return 2
    try:
        arms = [parse_arm(t, kind) for t in items]
        if kind == "scenario":
            from sim.config import scenario_names

            names = scenario_names()
            bad = [t for t in items if t not in names]
            if bad:
                raise AnalysisInputError(f"--scenarios: {bad[0]!r} is not a scenario preset: choose one of "
                                         f"{', '.join(names)}")
        runs = run_arms(arms, list(args.overrides), progress=lambda m: print(m, file=sys.stderr))
    except (AnalysisInputError, ConfigError) as err:
        print(f"pdsim-compare: {err}", file=sys.stderr)
        return 2
    out = args.out or Path("compare") / datetime.now().strftime("%Y-%m-%d_%H-%M-%S")
    out.mkdir(parents=True, exist_ok=True)
    paired = kind == "policy"
    table = compare_table(runs, paired)
    table.to_csv(out / "compare.csv", index=False)
    files = figures(runs, table, out, paired)
    command = "pdsim-compare " + " ".join(sys.argv[1:] if argv is None else argv)
    (out / "report.md").write_text(markdown(table, paired, command, files))
    write_handout(runs, table, paired, command, files, out / "handout.pdf")
    print("\n".join(reading(table, paired)))
    print(f"results: {out} (report.md, handout.pdf, compare.csv, {len(files)} figure files)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
