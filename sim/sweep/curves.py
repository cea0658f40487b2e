"""Outcome curves of a sweep: escalation probability against the swept lever, one line per level of
the other swept levers, with the 95 % interval as a band; below it, escalations prevented per 100
crises (policy vs its counterfactual twin, paired). A design sweep (points scattered over lever
ranges, no levels) gets one scatter panel per lever instead.
"""

from __future__ import annotations

import itertools
from pathlib import Path

import matplotlib

matplotlib.use("Agg")  # files only
import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402
import pandas as pd  # noqa: E402

from sim.sweep.plan import load_plan  # noqa: E402

CURVES_FILE = "curves.png"
DESIGN_FILE = "design.png"

#: (column, low, high, axis label) of the panels, top to bottom; a panel whose column is missing is skipped.
PANELS = (
    ("escalation.probability", "escalation.ci_low", "escalation.ci_high",
     "P(escalation to armed conflict)"),
    ("counterfactual.prevented.estimate", "counterfactual.prevented.ci_low",
     "counterfactual.prevented.ci_high", "escalations prevented\nper 100 crises"),
)


def _short(key: str) -> str:
    return key.rsplit(".", 1)[-1].replace("_", " ")


def _unit(key: str) -> str:
    """The lever's unit from the schema ('' for keys outside it, e.g. a config group)."""
    from sim.sweep.design import schema_field

    try:
        return schema_field(key)[0].metadata.get("unit", "")
    except (AttributeError, StopIteration):
        return ""


def _numeric(series: pd.Series) -> bool:
    return pd.api.types.is_numeric_dtype(series) and not pd.api.types.is_bool_dtype(series)


def varying(df: pd.DataFrame, keys: list[str]) -> list[str]:
    """The swept keys that take more than one value in the table."""
    return [k for k in keys if f"param.{k}" in df and df[f"param.{k}"].nunique(dropna=False) > 1]


def choose_x(df: pd.DataFrame, keys: list[str], x: str | None = None) -> str | None:
    """The lever on the x axis: the one asked for, else the numeric lever with the most levels."""
    keys = varying(df, keys)
    if x:
        return x.lstrip("+~") if f"param.{x.lstrip('+~')}" in df else None
    numeric = [k for k in keys if _numeric(df[f"param.{k}"])]
    pool = numeric or keys
    return max(pool, key=lambda k: df[f"param.{k}"].nunique()) if pool else None


def curves_plot(df: pd.DataFrame, x: str, groups: list[str], path: Path, title: str = "") -> Path:
    """One line per combination of the ``groups`` levels, escalation (and prevented) against ``x``."""
    panels = [p for p in PANELS if p[0] in df]
    fig, axes = plt.subplots(len(panels), 1, figsize=(8, 3.2 * len(panels) + 0.6), sharex=True, squeeze=False)
    xcol = f"param.{x}"
    categorical = not _numeric(df[xcol])
    if categorical:
        cats = list(dict.fromkeys(df[xcol]))
        xpos = df[xcol].map({c: i for i, c in enumerate(cats)})
    else:
        xpos = df[xcol]
    levels = [sorted(df[f"param.{g}"].dropna().unique().tolist(), key=str) for g in groups]
    combos = list(itertools.product(*levels)) or [()]
    # Colour tells the first other lever's level, line style the second's, the marker any further one,
    # so that nine lines stay readable.
    colour_of = dict(zip(levels[0], plt.get_cmap("viridis")(np.linspace(0, 0.85, len(levels[0]))),
                         strict=True)) if groups else {}
    styles, markers = ("-", "--", ":", "-."), ("o", "s", "^", "D", "v")
    for combo in combos:
        mask = np.ones(len(df), dtype=bool)
        for g, level in zip(groups, combo, strict=True):
            mask &= (df[f"param.{g}"] == level).to_numpy()
        if not mask.any():
            continue
        colour = colour_of.get(combo[0], "tab:blue") if combo else "tab:blue"
        style = styles[levels[1].index(combo[1]) % len(styles)] if len(combo) > 1 else "-"
        marker = markers[levels[2].index(combo[2]) % len(markers)] if len(combo) > 2 else "o"
        order = np.argsort(xpos[mask].to_numpy(), kind="stable")
        xs = xpos[mask].to_numpy()[order]
        label = ", ".join(f"{_short(g)} {level}" for g, level in zip(groups, combo, strict=True)) or None
        for ax, (col, lo, hi, _) in zip(axes[:, 0], panels, strict=True):
            ys = df[col][mask].to_numpy(dtype=float)[order]
            ax.plot(xs, ys, marker=marker, ms=3, lw=1.5, ls=style, color=colour, label=label)
            if lo in df and hi in df:
                ax.fill_between(xs, df[lo][mask].to_numpy(dtype=float)[order],
                                df[hi][mask].to_numpy(dtype=float)[order], color=colour, alpha=0.08, lw=0)
    for ax, (_, _, _, ylabel) in zip(axes[:, 0], panels, strict=True):
        ax.set_ylabel(ylabel)
        ax.grid(alpha=0.3)
    axes[0, 0].set_ylim(0, 1)
    if groups:
        axes[0, 0].legend(fontsize=7, ncol=2 if len(combos) > 6 else 1, loc="best", framealpha=0.8)
    bottom = axes[-1, 0]
    if categorical:
        bottom.set_xticks(range(len(cats)), [str(c) for c in cats])
    bottom.set_xlabel(f"{x} ({_unit(x)})" if _unit(x) else x)
    r = df["replicates"].iloc[0] if "replicates" in df else "?"
    seed = df["seed"].iloc[0]
    fig.suptitle(title or f"{len(df)} points, {r} worlds each, seed {seed}; bands: 95 % intervals",
                 fontsize=10)
    fig.text(0.01, 0.005, "Stylised teaching model, not a forecast.", fontsize=7, color="grey")
    fig.tight_layout()
    fig.savefig(path, dpi=120)
    plt.close(fig)
    return path


def design_plot(df: pd.DataFrame, keys: list[str], path: Path, title: str = "") -> Path:
    """A design's points: escalation probability (with its interval) against each lever in turn."""
    keys = [k for k in varying(df, keys) if _numeric(df[f"param.{k}"])]
    n = max(len(keys), 1)
    cols = min(n, 3)
    rows = -(-n // cols)
    fig, axes = plt.subplots(rows, cols, figsize=(4 * cols, 3.2 * rows), squeeze=False, sharey=True)
    y = df["escalation.probability"].to_numpy(dtype=float)
    err = np.vstack([y - df["escalation.ci_low"].to_numpy(dtype=float),
                     df["escalation.ci_high"].to_numpy(dtype=float) - y])
    for ax, key in zip(axes.flat, keys, strict=False):
        ax.errorbar(df[f"param.{key}"], y, yerr=err, fmt="o", ms=3, lw=0.6, alpha=0.7)
        ax.set_xlabel(key, fontsize=8)
        ax.set_ylim(0, 1)
        ax.grid(alpha=0.3)
    for ax in axes[:, 0]:
        ax.set_ylabel("P(escalation)")
    for ax in list(axes.flat)[len(keys):]:
        ax.set_visible(False)
    fig.suptitle(title or f"design: {len(df)} points; bars: 95 % intervals", fontsize=10)
    fig.tight_layout()
    fig.savefig(path, dpi=110)
    plt.close(fig)
    return path


def draw_for_sweep(sweep_dir: str | Path, df: pd.DataFrame) -> list[Path]:
    """The sweep's figure, as its plan (sweep.json) describes it: curves for a grid, scatter for a design."""
    sweep_dir = Path(sweep_dir)
    plan = load_plan(sweep_dir) or {}
    keys = plan.get("swept") or [c.removeprefix("param.") for c in df.columns if c.startswith("param.")]
    if df.empty or "escalation.probability" not in df or not varying(df, keys):
        return []
    if plan.get("design"):
        return [design_plot(df, keys, sweep_dir / DESIGN_FILE,
                            f"{plan['design']} design, {len(df)} points")]
    x = choose_x(df, keys, plan.get("curve_x"))
    if x is None:
        return []
    groups = [k for k in varying(df, keys) if k != x]
    return [curves_plot(df, x, groups, sweep_dir / CURVES_FILE, plan.get("title", ""))]
