"""``pdsim-report DIR``: every figure that applies to a run or a sweep directory, a short Markdown
report (report.md) and a workshop handout (handout.pdf), into DIR/report/ (or ``--out``).

    pdsim-report multirun/lag_sweep/2026-11-29_02-00-00      # a sweep: curves, heatmap, counterfactual,
                                                             #   survival, sensitivity, scenario discovery
    pdsim-report outputs/generic/2026-11-29_10-00-00          # a run: tension, counterfactual, survival
    pdsim-report DIR --below 5                                # scenario discovery: escalation below 5 %

Reads the tables only; never simulates and never runs Hydra. Every number in the text is read from
the tables (the tests check this).
"""

from __future__ import annotations

import argparse
import json
import re
import shlex
import sys
import warnings
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pandas as pd

from sim.analysis import style
from sim.analysis.load import AnalysisInputError, Run, Sweep, kind, load_run, load_sweep

CAVEATS = (
    "A stylised teaching model, not a forecast: the scenario presets are teaching settings built from the "
    "report's narrative, not calibrated replicas of real crises.",
    "Counterfactual numbers compare each world with its twin on the same random numbers (§59-60): something "
    "a simulation can count and the real world cannot.",
)


def caveats(config: dict | None) -> list[str]:
    """The caveats, with the one on parameter uncertainty saying what this run did."""
    unc = (config or {}).get("uncertainty") or {}
    if unc.get("enabled"):
        third = (f"Parameter uncertainty is included: each world draws one of {unc.get('members')} parameter sets "
                 "from the coefficients' plausible ranges, so the intervals cover it as well as chance.")
    else:
        third = ("Intervals cover chance (simulation noise) only, not uncertainty about the model's parameters or "
                 "structure; rerun with uncertainty.enabled=true to draw per-world parameter sets.")
    return [*CAVEATS, third]


@dataclass
class Section:
    title: str
    files: list[Path]
    reading: str
    question: str = ""
    numbers: dict[str, Any] = field(default_factory=dict)


@dataclass
class Report:
    directory: Path
    kind: str
    title: str
    question: str
    sections: list[Section]
    command: str
    config: str
    provenance: dict[str, Any]
    notes: list[str] = field(default_factory=list)
    caveats: list[str] = field(default_factory=lambda: caveats(None))

    @property
    def files(self) -> list[Path]:
        return [f for s in self.sections for f in s.files]


# -- what the experiment asks, and how to reproduce it ---------------------------------------------------


def experiment_question(name: str) -> tuple[str, str]:
    """(title line, question) from the comments of experiments/NAME.yaml ('' when unknown)."""
    from sim.config import CONFIG_DIR

    path = CONFIG_DIR.parent / "experiments" / f"{name}.yaml"
    if not path.exists():
        return "", ""
    comments = [ln[1:].strip() for ln in path.read_text().splitlines() if ln.startswith("#") and "@package" not in ln]
    title = comments[0] if comments else name
    text, on = [], False
    for ln in comments:
        if ln.startswith("Question:"):
            on = True
            ln = ln.removeprefix("Question:").strip()
        elif on and not ln:
            break
        if on:
            text.append(ln)
    question = " ".join(text)
    return title, question[:1].upper() + question[1:]


def _sweep_command(sweep: Sweep) -> tuple[str, str]:
    """The command that reproduces the sweep, and the resolved config of its first point (JSON)."""
    task: list[str] = []
    sweeper = ""
    if (sweep.directory / "multirun.yaml").exists():
        from omegaconf import OmegaConf

        node = OmegaConf.load(sweep.directory / "multirun.yaml")
        task = list(OmegaConf.select(node, "hydra.overrides.task") or [])
        hydra_over = list(OmegaConf.select(node, "hydra.overrides.hydra") or [])
        sweeper = " ".join(o for o in hydra_over if o.startswith(("hydra/sweeper", "hydra.sweeper")))
    if not task and "overrides" in sweep.table:
        task = [str(sweep.table["overrides"].iloc[0])]
    command = " ".join(["pdsim -m", sweeper, *map(shlex.quote, task),
                        f"hydra.sweep.dir={shlex.quote(str(sweep.directory))}"]).replace("  ", " ")
    config = ""
    if "config" in sweep.table:
        try:
            cfg = json.loads(sweep.table["config"].iloc[0])
            config = _config_text(cfg)
        except (TypeError, ValueError):
            config = ""
    return command, config


def _config_text(cfg: dict) -> str:
    keep = {k: cfg.get(k) for k in ("replicates", "seed", "horizon_days")}
    keep["scenario"] = (cfg.get("scenario") or {}).get("name")
    keep["policy"] = cfg.get("policy")
    keep["counterfactual"] = cfg.get("counterfactual")
    if cfg.get("uncertainty"):
        keep["uncertainty"] = cfg.get("uncertainty")
    return json.dumps(keep, indent=1, default=str)


def _run_command(run: Run) -> tuple[str, str]:
    over = run.directory / ".hydra" / "overrides.yaml" if run.directory else None
    if over is not None and over.exists():
        from omegaconf import OmegaConf

        items = list(OmegaConf.load(over))
    else:
        s = run.summary
        items = [f"scenario={s['scenario']}", f"replicates={s['replicates']}", f"seed={s['seed']}",
                 f"horizon_days={s['horizon_days']}"]
    return "pdsim " + " ".join(shlex.quote(str(i)) for i in items), _config_text(run.summary.get("config", {}))


# -- a sweep ---------------------------------------------------------------------------------------------


def sweep_report(sweep: Sweep, out: Path, *, below: float = 0.10) -> Report:
    from sim.analysis import counterfactual, curves

    df = sweep.table
    keys = sweep.swept
    exp = _experiment_name(df)
    title, question = experiment_question(exp) if exp else ("", "")
    plan_title = sweep.plan.get("title") or sweep.hydra.get("title") or ""
    if sweep.design:
        default = f"{sweep.design} design: escalation over " + ", ".join(style.name(k) for k in keys)
    else:
        default = "sweep over " + ", ".join(style.name(k) for k in keys)
    heading = plan_title or title or default
    sections: list[Section] = []
    notes: list[str] = []
    prov = sweep.provenance()
    numeric = [k for k in keys if curves.numeric(df[f"param.{k}"])]
    if sweep.design:
        from sim.sweep.curves import design_plot

        f = design_plot(df, keys, out / "design.png", f"{sweep.design} design, {len(df)} points")
        sections.append(Section("Escalation across the design", [f, f.with_suffix(".pdf")],
                                f"{len(df)} design points; each dot is one point with its 95 % interval."))
    else:
        x = curves.choose_x(df, keys, sweep.plan.get("curve_x"))
        groups = curves.order_groups(df, [k for k in keys if k != x])
        if x is not None:
            files = curves.outcome_curves(df, x, groups, out / "curves", title=plan_title)
            text, _ = curves.curves_reading(df, x, groups)
            sections.append(Section(f"Outcome curves: escalation against {style.name(x)}", files, text,
                                    question))
            if groups:
                y = groups[0]
                files, cells = curves.heatmap(df, x, y, out / "heatmap", panel=groups[1] if len(groups) > 1 else None,
                                              others=groups[2:])
                sections.append(Section(f"Heatmap: {style.name(x)} × {style.name(y)}", files,
                                        curves.heatmap_reading(cells, x, y, groups[1] if len(groups) > 1 else None)))
            if "counterfactual.prevented.estimate" in df:
                files = counterfactual.sweep_figure(df, x, groups, out / "counterfactual")
                sections.append(Section("Counterfactual evidence: prevented and induced, and what it costs", files,
                                        _cf_sweep_reading(df, x, groups)))
            sec = _sweep_survival(sweep, x, groups, out)
            if sec:
                sections.append(sec)
    if sweep.design in ("sobol", "morris"):
        from sim.analysis import sensitivity

        try:
            method, idx = sensitivity.analyse_sweep(sweep)
            idx.to_csv(out / "sensitivity_indices.csv", index=False)
            files = sensitivity.figure(method, idx, out / "sensitivity", provenance=prov,
                                       n_points=len(sweep.plan.get("points", [])))
            sections.append(Section("Global sensitivity: which factor matters most", files,
                                    sensitivity.reading(method, idx)))
        except ValueError as err:
            notes.append(f"Sensitivity indices not computed: {err}")
    if len(numeric) >= 2 and len(df) >= 12:
        sec = _discovery(df, numeric, out, below, prov)
        if isinstance(sec, Section):
            sections.append(sec)
        else:
            notes.append(sec)
    command, config = _sweep_command(sweep)
    first = json.loads(df["config"].iloc[0]) if "config" in df and isinstance(df["config"].iloc[0], str) else None
    return Report(sweep.directory, "sweep", heading, question, sections, command, config, prov, notes,
                  caveats(first))


def _experiment_name(df: pd.DataFrame) -> str | None:
    if "overrides" not in df:
        return None
    m = re.search(r"\+?experiment=([\w-]+)", str(df["overrides"].iloc[0]))
    return m.group(1) if m else None


def _cf_sweep_reading(df: pd.DataFrame, x: str, groups: list[str]) -> str:
    from sim.analysis import curves
    from sim.analysis.counterfactual import sweep_table, table_twin

    mid = {g: curves.levels(df, g)[len(curves.levels(df, g)) // 2] for g in groups}
    xs = curves.levels(df, x)
    t = sweep_table(df)
    parts = []
    for v in (xs[0], xs[-1]):
        row = curves._row_at(df, {x: v, **mid})
        if row is None:
            continue
        r = t.loc[row.name]
        s = (f"at {style.name(x)} {style.value_text(x, v)}: {r['net']:.1f} escalations prevented per 100 crises "
             f"[{r['net_low']:.1f}, {r['net_high']:.1f}]")
        if "induced" in r:
            s += f", {r['induced']:.1f} induced [{r['induced_low']:.1f}, {r['induced_high']:.1f}]"
        if "cost_per_prevented" in r and pd.notna(r["cost_per_prevented"]):
            s += f"; USD {r['cost_per_prevented'] / 1e6:,.1f} million of diplomacy per escalation prevented"
            if "war_averted_per_prevented" in r and pd.notna(r["war_averted_per_prevented"]):
                s += f" against USD {r['war_averted_per_prevented'] / 1e6:,.1f} million of war costs averted"
        parts.append(s)
    held = ", ".join(f"{style.name(g)} {style.value_text(g, v)}" for g, v in mid.items())
    head = f"Against the {style.twin_phrase(table_twin(df))}" + (f", with {held}" if held else "")
    return head + ": " + "; ".join(parts) + "."


def _sweep_survival(sweep: Sweep, x: str, groups: list[str], out: Path) -> Section | None:
    """Kaplan-Meier curves of the points at the lowest and the highest x (others at their middle level),
    and the twin of the first, from the points' own outcomes.parquet."""
    from sim.analysis import curves
    from sim.analysis.survival import survival_figure

    df = sweep.table
    if not curves.numeric(df[f"param.{x}"]):
        xs = curves.levels(df, x)
    else:
        xs = curves.levels(df, x)
        xs = [xs[0], xs[len(xs) // 2], xs[-1]] if len(xs) > 2 else xs
    mid = {g: curves.levels(df, g)[len(curves.levels(df, g)) // 2] for g in groups}
    groups_days: dict[str, Any] = {}
    twin_label = None
    horizon = None
    for v in dict.fromkeys(xs):
        row = curves._row_at(df, {x: v, **mid})
        if row is None:
            continue
        try:
            run = sweep.run(int(row["point"]))
        except AnalysisInputError:
            return None
        horizon = run.horizon
        groups_days[f"{style.name(x)} {style.value_text(x, v)}"] = run.outcomes["escalation_day"]
        if twin_label is None and run.twin is not None:
            twin_label = style.twin_label(run.twin_policy)
            twin_days = run.twin["escalation_day"]
    if len(groups_days) < 2 or horizon is None:
        return None
    if twin_label:
        groups_days[twin_label] = twin_days
    held = ", ".join(f"{style.name(g)} {style.value_text(g, v)}" for g, v in mid.items())
    heading = "Time to escalation (Kaplan–Meier, 95 % bands)" + (f"; {held}" if held else "")
    files, table = survival_figure(groups_days, horizon, out / "survival", provenance=sweep.provenance(),
                                   reference=twin_label, title=heading)
    return Section("Survival: time to escalation", files, survival_reading(table, horizon), numbers={"table": table})


def survival_reading(table: pd.DataFrame, horizon: int) -> str:
    parts = [f"{r['label']}: {100 * r['survival_at_horizon']:.1f} % of worlds not in armed conflict by day {horizon} "
             f"[{100 * r['survival_ci_low']:.1f}, {100 * r['survival_ci_high']:.1f}], restricted mean time to "
             f"escalation {r['rmst_days']:.0f} days [{r['rmst_ci_low']:.0f}, {r['rmst_ci_high']:.0f}]"
             for _, r in table.iterrows()]
    return "; ".join(parts) + "."


def _discovery(df: pd.DataFrame, levers: list[str], out: Path, below: float, prov: dict) -> Section | str:
    from sim.analysis import discovery

    y = df["escalation.probability"].to_numpy(dtype=float)
    hits = int((y < below).sum())
    if hits < 5 or len(y) - hits < 5:
        return (f"Scenario discovery skipped: {hits} of {len(y)} points keep escalation below {100 * below:.0f} %; "
                "PRIM needs at least 5 points on each side (choose another target with --below).")
    box, text = discovery.discover(df, levers, below=below)
    files = discovery.figure(df, levers, box, text, out / "discovery", below=below, provenance=prov)
    return Section(f"Scenario discovery: what keeps escalation below {100 * below:.0f} %", files,
                   text[0].upper() + text[1:] + f" ({box.points} of {len(df)} points in the box; PRIM).",
                   numbers={"box": box})


# -- a run -----------------------------------------------------------------------------------------------


def run_report(run: Run, out: Path) -> Report:
    from sim.analysis import counterfactual
    from sim.analysis.survival import survival_figure
    from sim.plots import tension_figure

    s = run.summary
    pol = s["config"]["policy"]
    prov = run.provenance()
    twin = style.twin_label(run.twin_policy)
    sections = []
    title = (f"{s['scenario']}: lag {pol['warning_to_action_lag_days']} d, flexibility {pol['flexibility']}, "
             f"partnership {pol['partnership']} — {s['replicates']:,} worlds")
    esc = s["escalation"]
    if run.timeseries is not None:
        files = tension_figure(run.timeseries, run.twin_timeseries, out / "tension", title=title, twin=twin,
                               provenance=prov, pdf=True)
        text = (f"Escalation to armed conflict within {run.horizon} days: {100 * esc['probability']:.1f} % of worlds "
                f"[{100 * esc['ci_low']:.1f}, {100 * esc['ci_high']:.1f}]")
        if s.get("counterfactual"):
            ce = s["counterfactual"]["escalation"]
            text += (f"; {style.twin_phrase(twin)}: {100 * ce['probability']:.1f} % [{100 * ce['ci_low']:.1f}, "
                     f"{100 * ce['ci_high']:.1f}]")
        unresolved = s.get("unresolved")
        if unresolved and unresolved.get("probability") is not None:
            text += (f"; unresolved at the horizon (still in crisis, not escalated): "
                     f"{100 * unresolved['probability']:.1f} % [{100 * unresolved['ci_low']:.1f}, "
                     f"{100 * unresolved['ci_high']:.1f}]")
        sections.append(Section("Tension over time, policy against its twin", files, text + "."))
    if run.twin is not None:
        files, ev = counterfactual.run_figure(run, out / "counterfactual")
        sections.append(Section("Counterfactual evidence: prevented and induced, and what it costs", files,
                                counterfactual.caption(ev, twin), numbers={"evidence": ev}))
    groups = {"policy": run.outcomes["escalation_day"]}
    if run.twin is not None:
        groups[twin] = run.twin["escalation_day"]
    files, table = survival_figure(groups, run.horizon, out / "survival", provenance=prov,
                                   reference=twin if run.twin is not None else None)
    sections.append(Section("Survival: time to escalation", files, survival_reading(table, run.horizon),
                            numbers={"table": table}))
    command, config = _run_command(run)
    question = ("How likely is this crisis to escalate under this policy, and how many escalations does the policy "
                "prevent against its twin (§59-60)?")
    return Report(run.directory or out, "run", title, question, sections, command, config, prov,
                  caveats=caveats(s.get("config")))


# -- writing ---------------------------------------------------------------------------------------------


def markdown(rep: Report, out: Path) -> str:
    lines = [f"# {rep.title}", ""]
    if rep.question:
        lines += [f"**Question.** {rep.question}", ""]
    p = rep.provenance
    lines += [f"Scenario {p.get('scenario')}, R = {p.get('replicates')} worlds, seed {p.get('seed')}, "
              f"pdsim {p.get('version')}. Source: `{rep.directory}`.", ""]
    for s in rep.sections:
        png = next((f for f in s.files if f.suffix == ".png"), None)
        lines += [f"## {s.title}", ""]
        if png is not None:
            lines += [f"![{s.title}]({png.relative_to(out) if png.is_relative_to(out) else png})", ""]
        lines += [s.reading[:1].upper() + s.reading[1:], ""]
    for n in rep.notes:
        lines += [f"> {n}", ""]
    lines += ["## Caveats", "", *[f"- {c}" for c in rep.caveats], ""]
    lines += ["## Reproduce", "", "```bash", rep.command, "```", ""]
    if rep.config:
        lines += ["Configuration (first point):" if rep.kind == "sweep" else "Configuration:", "", "```json",
                  rep.config, "```", ""]
    return "\n".join(lines)


def build(directory: str | Path, out: str | Path | None = None, *, below: float = 0.10,
          handout: bool = True) -> Report:
    """Draw every figure that applies to ``directory``, write report.md (and handout.pdf); return the report."""
    d = Path(directory)
    what = kind(d)
    out = Path(out) if out else d / "report"
    out.mkdir(parents=True, exist_ok=True)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        rep = sweep_report(load_sweep(d), out, below=below) if what == "sweep" else run_report(load_run(d), out)
    (out / "report.md").write_text(markdown(rep, out))
    if handout:
        from sim.analysis.handout import handout as write_handout

        write_handout(rep, out / "handout.pdf")
    return rep


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="pdsim-report", description=__doc__.split("\n\n")[0],
                                     formatter_class=argparse.RawDescriptionHelpFormatter,
                                     epilog="\n\n".join(__doc__.split("\n\n")[1:]))
    parser.add_argument("directory", type=Path, help="a run directory (summary.json) or a sweep directory "
                        "(results.parquet)")
    parser.add_argument("--out", type=Path, default=None, help="where to write (default DIR/report)")
    parser.add_argument("--below", type=float, default=10.0,
                        help="scenario discovery: the escalation target in per cent (default 10)")
    parser.add_argument("--no-handout", action="store_true", help="skip handout.pdf")
    args = parser.parse_args(argv)
    if not 0 < args.below < 100:
        print(f"pdsim-report: --below = {args.below} is out of range: allowed 0 < value < 100 (per cent)",
              file=sys.stderr)
        return 2
    try:
        rep = build(args.directory, args.out, below=args.below / 100, handout=not args.no_handout)
    except AnalysisInputError as err:
        print(f"pdsim-report: {err}", file=sys.stderr)
        return 2
    out = args.out or args.directory / "report"
    print(f"{rep.kind} report: {len(rep.sections)} figures -> {out} (report.md"
          f"{', handout.pdf' if not args.no_handout else ''})")
    for n in rep.notes:
        print(f"note: {n}", file=sys.stderr)
    return 0


if __name__ == "__main__":
    sys.exit(main())



