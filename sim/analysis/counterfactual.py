"""Counterfactual evidence (§59-60): escalations prevented and induced per 100 crises, each world paired
with its twin (same random numbers), and what prevention costs beside the war cost it avoids (§8).

- prevented: the twin escalated, the policy world did not; induced: the other way round. Each is a
  share of worlds (Wilson interval); net prevented = prevented - induced, with Newcombe's paired interval.
- cost per escalation prevented: extra diplomacy spent (policy - twin, over all worlds) / escalations
  prevented (net); war cost averted per escalation prevented: war cost avoided (twin - policy) / the
  same count. Intervals by a paired bootstrap over worlds.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import matplotlib.pyplot as plt
import numpy as np
import pandas as pd
from matplotlib.ticker import FuncFormatter

from sim.analysis import style
from sim.stats import mean_interval, paired_difference, wilson

BOOTSTRAP = 2000


def _share(count: int, n: int) -> dict[str, float]:
    p, lo, hi = wilson(count, n)
    return {"per_100": 100 * p, "ci_low": 100 * lo, "ci_high": 100 * hi, "worlds": count}


def paired_counts(policy: np.ndarray, twin: np.ndarray) -> dict[str, Any]:
    """Prevented, induced and net per 100 crises for one binary outcome over the same worlds."""
    policy, twin = np.asarray(policy, dtype=bool), np.asarray(twin, dtype=bool)
    n = policy.size
    net = paired_difference(twin, policy)
    return {
        "prevented": _share(int((twin & ~policy).sum()), n),
        "induced": _share(int((policy & ~twin).sum()), n),
        "net": {"per_100": 100 * net["estimate"], "ci_low": 100 * net["ci_low"], "ci_high": 100 * net["ci_high"]},
        "worlds": n,
    }


def _ratio_interval(num: np.ndarray, den: np.ndarray, seed: int = 0) -> dict[str, float | None]:
    """sum(num) / sum(den) over worlds, with a paired bootstrap 95 % interval (None where undefined)."""
    total = den.sum()
    if total <= 0:
        return {"estimate": None, "ci_low": None, "ci_high": None}
    rng = np.random.default_rng(seed)
    n = num.size
    est = float(num.sum() / total)
    idx = rng.integers(0, n, size=(BOOTSTRAP, n))
    d = den[idx].sum(axis=1)
    ratios = np.where(d > 0, num[idx].sum(axis=1) / np.where(d > 0, d, 1), np.nan)
    ratios = ratios[np.isfinite(ratios)]
    if ratios.size < BOOTSTRAP * 0.9:  # the count of prevented escalations too often zero: no interval
        return {"estimate": est, "ci_low": None, "ci_high": None}
    lo, hi = np.percentile(ratios, [2.5, 97.5])
    return {"estimate": est, "ci_low": float(lo), "ci_high": float(hi)}


def evidence(outcomes: pd.DataFrame | dict, twin: pd.DataFrame | dict, seed: int = 0) -> dict[str, Any]:
    """Every number of the counterfactual figure, from the per-world tables of a run and its twin."""
    o, t = outcomes, twin
    esc = paired_counts(o["escalated"], t["escalated"])
    war = paired_counts(o["war"], t["war"])
    pol_e, twin_e = np.asarray(o["escalated"], bool), np.asarray(t["escalated"], bool)
    prevented_each = twin_e.astype(float) - pol_e.astype(float)  # +1 prevented, -1 induced
    extra = np.asarray(o["diplomacy_cost"], float) - np.asarray(t["diplomacy_cost"], float)
    averted = np.asarray(t["war_cost"], float) - np.asarray(o["war_cost"], float)
    return {
        "escalation": esc,
        "war": war,
        "extra_diplomacy_per_crisis_usd": mean_interval(extra),
        "war_cost_averted_per_crisis_usd": mean_interval(averted),
        "cost_per_escalation_prevented_usd": _ratio_interval(extra, prevented_each, seed),
        "war_cost_averted_per_escalation_prevented_usd": _ratio_interval(averted, prevented_each, seed),
    }


def _musd(v: float | None) -> str:
    return "–" if v is None else f"{v / 1e6:,.2f}"


def caption(ev: dict[str, Any], twin: str) -> str:
    """The plain reading of the figure; every number is taken from ``ev``."""
    e = ev["escalation"]
    c, w = ev["cost_per_escalation_prevented_usd"], ev["war_cost_averted_per_escalation_prevented_usd"]
    text = (f"Against its {style.twin_phrase(twin)}, the policy prevented {e['prevented']['per_100']:.1f} "
            "escalations per 100 crises "
            f"[{e['prevented']['ci_low']:.1f}, {e['prevented']['ci_high']:.1f}] and induced "
            f"{e['induced']['per_100']:.1f} [{e['induced']['ci_low']:.1f}, {e['induced']['ci_high']:.1f}]: "
            f"net {e['net']['per_100']:.1f} [{e['net']['ci_low']:.1f}, {e['net']['ci_high']:.1f}].")
    if c["estimate"] is not None and c["estimate"] > 0:
        text += (f" Each escalation prevented cost USD {_musd(c['estimate'])} million of extra diplomacy and "
                 f"avoided USD {_musd(w['estimate'])} million of war costs.")
    return text


@style.styled
def run_figure(run, path: str | Path) -> tuple[list[Path], dict[str, Any]]:
    """Prevented / induced / net per 100 crises (escalation, war) and the cost comparison, for one run."""
    if run.twin is None:
        raise ValueError("the run has no twin (twin_outcomes.parquet): counterfactual evidence needs one")
    ev = evidence(run.outcomes, run.twin, seed=int(run.summary.get("seed") or 0))
    twin = style.twin_label(run.twin_policy)
    # Constrained layout: room for the bar labels and the cost panel's two-line tick labels (fit_footer: the footer)
    fig, (ax, ax2) = plt.subplots(1, 2, figsize=(10, 3.8), width_ratios=(1.3, 1), layout="constrained",
                                  dpi=style.SAVE_DPI)
    bars = [("prevented", 0), ("induced", 1), ("net", 2)]
    for j, (outcome, name) in enumerate((("escalation", "armed conflict"), ("war", "war"))):
        for k, (what, i) in enumerate(bars):
            d = ev[outcome][what]
            st = style.series_style(i)
            y = j * 4 + k
            hatch = (None, "///", "..")[i]
            ax.barh(y, d["per_100"], color=st["color"], alpha=0.85, hatch=hatch, edgecolor="white")
            err = [[max(d["per_100"] - d["ci_low"], 0)], [max(d["ci_high"] - d["per_100"], 0)]]
            ax.errorbar(d["per_100"], y, xerr=err,
                        color="black", capsize=3, lw=1)
            ax.annotate(f"{what} {d['per_100']:.1f}", (max(d["ci_high"], 0), y), xytext=(4, 0),
                        textcoords="offset points", va="center", fontsize=7.5)
        ax.text(0, j * 4 - 0.75, f"escalation to {name}", fontsize=8.5, weight="bold", va="bottom")
    ax.set_yticks([])
    ax.set_ylim(7.6, -1.6)
    ax.axvline(0, color="black", lw=0.8)
    ax.set_xlabel("per 100 crises (95 % interval)")
    ax.set_title(f"Escalations prevented and induced — policy vs {twin}", fontsize=9)
    ax.margins(x=0.25)
    c = ev["cost_per_escalation_prevented_usd"]
    w = ev["war_cost_averted_per_escalation_prevented_usd"]
    items = [("extra diplomacy\nper escalation prevented", c, 0), ("war cost averted\nper escalation prevented", w, 1)]
    for k, (_, d, i) in enumerate(items):
        if d["estimate"] is None or d["estimate"] <= 0:
            # the row's tick label names it; the whole name again ran past the panel's right edge
            ax2.text(0.02, k, "undefined (no net prevention)", fontsize=7.5,
                     transform=ax2.get_yaxis_transform(), va="center")
            continue
        st = style.series_style(i + 3)
        ax2.barh(k, d["estimate"] / 1e6, color=st["color"], alpha=0.85, hatch=(None, "///")[i], edgecolor="white")
        if d["ci_low"] is not None:
            lo, hi = max(d["ci_low"], 1e-3 * d["estimate"]), d["ci_high"]
            ax2.errorbar(d["estimate"] / 1e6, k, xerr=[[max(d["estimate"] - lo, 0) / 1e6],
                                                       [max(hi - d["estimate"], 0) / 1e6]],
                         color="black", capsize=3, lw=1)
        ax2.annotate(f"USD {_musd(d['estimate'])} m", (d["estimate"] / 1e6, k), xytext=(4, 9),
                     textcoords="offset points", fontsize=7.5)
    ax2.set_yticks(range(2), [t for t, _, _ in items], fontsize=8)
    ax2.set_ylim(1.6, -0.6)  # both rows inside the panel even with no bar (an "undefined" sat on the x axis)
    positive = [d["estimate"] for _, d, _ in items if d["estimate"] and d["estimate"] > 0]
    if len(positive) == 2 and max(positive) / min(positive) > 20:
        ax2.set_xscale("log")
        style.plain_log_axis(ax2.xaxis)  # "200", not "2×10²"
    else:
        ax2.xaxis.set_major_formatter(FuncFormatter(lambda v, _: f"{v:,.3g}"))
    if positive:  # room for the intervals' right ends too (the war cost's ran off the panel)
        right = max([d["estimate"] for _, d, _ in items if d["estimate"] and d["estimate"] > 0]
                    + [d["ci_high"] for _, d, _ in items if d["estimate"] and d["estimate"] > 0 and d["ci_high"]])
        ax2.set_xlim(right=right / 1e6 * (2 if ax2.get_xscale() == "log" else 1.12))
    ax2.set_xlabel("USD million (95 % interval, paired bootstrap)")
    ax2.set_title("What prevention costs beside the war it avoids (§8)", fontsize=9)
    foot = style.footer(fig, **run.provenance(), extra=twin)
    style.fit_footer(fig, foot)
    style.settle_layout(fig, (ax, ax2))  # long titles wrap to their panels
    return style.save(fig, path), ev


def table_twin(df: pd.DataFrame) -> str:
    """What the twin of a sweep's points is, in words (from the counterfactual.policy.* columns)."""
    cols = [c for c in df.columns if c.startswith("counterfactual.policy.")]
    if not cols:
        return "twin"
    changes = {c.removeprefix("counterfactual.policy."): df[c].iloc[0] for c in cols}
    same = all(df[c].nunique(dropna=False) == 1 for c in cols)
    return style.twin_label(changes) if same else "twin (differs between points)"


def sweep_table(df: pd.DataFrame) -> pd.DataFrame:
    """Per point: prevented (net, paired interval) and induced per 100 crises (Wilson), and the costs."""
    out = pd.DataFrame(index=df.index)
    r = df["replicates"].astype(int) if "replicates" in df else None
    out["net"] = df["counterfactual.prevented.estimate"]
    out["net_low"] = df["counterfactual.prevented.ci_low"]
    out["net_high"] = df["counterfactual.prevented.ci_high"]
    for what, col in (("prevented", "counterfactual.prevented.worlds_prevented"),
                      ("induced", "counterfactual.prevented.worlds_induced")):
        if col in df and r is not None:
            w = [wilson(int(k), int(n)) for k, n in zip(df[col], r, strict=True)]
            out[what], out[f"{what}_low"], out[f"{what}_high"] = (100 * np.array(v) for v in zip(*w, strict=True))
    if "counterfactual.cost_per_escalation_prevented_usd" in df:
        out["cost_per_prevented"] = df["counterfactual.cost_per_escalation_prevented_usd"].astype(float)
    if "counterfactual.war_cost_averted_usd.mean" in df and r is not None:
        net_worlds = df["counterfactual.prevented.worlds_prevented"] - df["counterfactual.prevented.worlds_induced"]
        per = df["counterfactual.war_cost_averted_usd.mean"].astype(float) * r / net_worlds.where(net_worlds > 0)
        out["war_averted_per_prevented"] = per
    return out


@style.styled
def sweep_figure(df: pd.DataFrame, x: str, groups: list[str], path: str | Path, title: str = "") -> list[Path]:
    """Against the swept lever: prevented (net) and induced per 100 crises; cost per escalation prevented
    beside the war cost averted per escalation prevented. Lines: levels of the first other lever (the
    rest held at their middle level); every line is labelled at its end with its level and what it shows."""
    from sim.analysis.curves import _fixed_others, _provenance, _thin, _xpos, fit_margins, levels

    line_key = groups[0] if groups else None
    data, held = _fixed_others(df, groups[1:])
    table = sweep_table(data)
    xall, cats = _xpos(data, x)
    # Constrained layout leaves room for the tick labels, the titles and the end labels right of each panel.
    fig, (ax, ax2) = plt.subplots(1, 2, figsize=(10.5, 4.4), layout="constrained", dpi=style.SAVE_DPI)
    line_levels = _thin(levels(data, line_key), 4) if line_key else [None]
    ends: dict[Any, list] = {ax: [], ax2: []}  # per panel: (x, y, label, colour) of each line's end
    # (panel, column, line style, what the line shows: its label's words after the level)
    series = ((ax, "net", "-", "net prevented"), (ax, "induced", ":", "induced"),
              (ax2, "cost_per_prevented", "-", "diplomacy"), (ax2, "war_averted_per_prevented", "--", "war averted"))
    for i, level in enumerate(line_levels):
        mask = np.ones(len(data), bool) if line_key is None else (data[f"param.{line_key}"] == level).to_numpy()
        order = np.argsort(xall[mask], kind="stable")
        xs = xall[mask][order]
        t = table[mask].iloc[order]
        st = style.series_style(i)
        tag = "" if line_key is None else style.value_text(line_key, level)
        ax.fill_between(xs, t["net_low"], t["net_high"], color=st["color"], alpha=0.15, lw=0)
        for a, col, ls, what in series:
            if col not in t:
                continue
            ys = t[col].to_numpy(dtype=float) / (1e6 if a is ax2 else 1)
            solid = ls == "-"
            a.plot(xs, ys, color=st["color"], ls=ls, marker=st["marker"], mfc=st["color"] if solid else "white",
                   ms=3.5, lw=1.6 if solid else 1.2)
            ok = np.isfinite(ys) & ((ys > 0) if a is ax2 else True)  # a log axis has no place for <= 0
            if ok.any():
                last = np.flatnonzero(ok)[-1]
                ends[a].append((xs[last], ys[last], f"{tag} {what}".strip(), st["color"]))
    # under the lines, in grey: drawn over them in black it hid the induced lines, which often run along zero
    ax.axhline(0, color="#777777", lw=0.7, zorder=1)
    ax.set_ylabel("escalations per 100 crises\n(net prevented: 95 % paired interval)")
    ax2.set_yscale("log")
    style.plain_log_axis(ax2.yaxis)
    ax2.set_ylabel("USD million per escalation prevented")
    for a in (ax, ax2):
        a.set_xlabel(style.label(x))
        if cats is not None:
            a.set_xticks(range(len(cats)), [style.value_text(x, v) for v in cats], rotation=20)
    ax.set_title(f"Net prevented (solid, 95 % band) and induced (dotted) vs the {style.twin_phrase(table_twin(df))}",
                 fontsize=9)
    ax2.set_title("Extra diplomacy (solid) beside war cost averted (dashed) per escalation prevented, §8",
                  fontsize=9)
    # each panel's end labels, headed by the lever's name as a legend's title would be (placed once laid out)
    lever = f"{style.name(line_key)}:" if line_key else None
    labelled = [style.end_labels(a, items, lever) for a, items in ends.items() if items]
    heading = fig.suptitle(title or f"Counterfactual evidence against {style.name(x)}", fontsize=10)
    foot = style.footer(fig, **_provenance(df), extra=f"{table_twin(df)}{held}")
    fit_margins(fig, heading, foot)
    style.keep_clear_of_edges(fig)
    style.settle_layout(fig, (ax, ax2), labelled, wrap=style.wrap_title_to_panel)
    return style.save(fig, path)
