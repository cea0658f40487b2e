"""Outcome curves of a sweep (``curves.png`` / ``.pdf``): escalation, war and (when the table has it)
"unresolved" probability against the swept lever, one line per level of the next lever, one panel per
level of a third, direct labels, 95 % bands, human axis labels with units from the schema, y fitted to
the data (drawn by :mod:`sim.analysis.curves`). A design sweep (points scattered over lever ranges, no
levels) gets ``design.png``: one scatter panel per lever. ``pdsim-report DIR`` draws the rest
(heatmaps, counterfactual evidence, sensitivity, scenario discovery).
"""

from __future__ import annotations

from pathlib import Path

import matplotlib

matplotlib.use("Agg")  # files only
import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402
import pandas as pd  # noqa: E402

from sim.analysis import style  # noqa: E402
from sim.analysis.curves import (  # noqa: E402, F401
    WORLD_OUTCOMES,
    choose_x,
    order_groups,
    outcome_curves,
    percent_axis,
    varying,
)
from sim.sweep.plan import load_plan  # noqa: E402

CURVES_FILE = "curves.png"
DESIGN_FILE = "design.png"


def curves_plot(df: pd.DataFrame, x: str, groups: list[str], path: Path, title: str = "") -> Path:
    """Outcome curves against ``x``: lines for the first of ``groups``, panels for the second (PNG + PDF)."""
    return outcome_curves(df, x, groups, path, title=title)[0]


@style.styled
def design_plot(df: pd.DataFrame, keys: list[str], path: Path, title: str = "") -> Path:
    """A design's points: escalation probability (with its interval) against each lever in turn."""
    keys = [k for k in varying(df, keys) if pd.api.types.is_numeric_dtype(df[f"param.{k}"])]
    n = max(len(keys), 1)
    cols = min(n, 3)
    rows = -(-n // cols)
    fig, axes = plt.subplots(rows, cols, figsize=(3.6 * cols, 2.8 * rows + 0.6), squeeze=False, sharey=True)
    y = df["escalation.probability"].to_numpy(dtype=float)
    err = np.vstack([y - df["escalation.ci_low"].to_numpy(dtype=float),
                     df["escalation.ci_high"].to_numpy(dtype=float) - y])
    for ax, key in zip(axes.flat, keys, strict=False):
        ax.errorbar(df[f"param.{key}"], y, yerr=err, fmt="o", ms=3, lw=0.6, alpha=0.7, color=style.OKABE_ITO[0])
        ax.set_xlabel(style.label(key))
        percent_axis(ax, float(np.nanmax(df["escalation.ci_high"])))
    for ax in axes[:, 0]:
        ax.set_ylabel("P(escalation to armed conflict)")
    for ax in list(axes.flat)[len(keys):]:
        ax.set_visible(False)
    fig.suptitle(title or f"design: {len(df)} points; bars: 95 % intervals", fontsize=10)
    prov = {k: (df[k].iloc[0] if k in df else "?") for k in ("scenario", "replicates", "seed", "version")}
    style.footer(fig, **prov, extra="bars: 95 % intervals (Wilson)")
    fig.tight_layout(rect=(0, 0.05, 1, 1))
    return style.save(fig, path)[0]


@style.styled
def warm_up() -> None:
    """Draw a tiny figure in the sweep's style to memory, as PNG and PDF: loads the fonts and the PDF font
    subsetter (fontTools) that a process's first figure pays for (0.2-0.5 s). The sweeping process calls it
    from a thread while the workers run the jobs (hydra_plugins/pdsim_sweepers/_launch.py); no file, no
    pyplot figure."""
    import io

    from matplotlib.figure import Figure

    fig = Figure(figsize=(2, 1.5))
    ax = fig.add_subplot()
    ax.plot([0, 1], [0, 1], label="warm-up")
    ax.set_title("P(escalation) 0-9 %")
    ax.legend()
    style.footer(fig)
    for fmt in ("png", "pdf"):
        fig.savefig(io.BytesIO(), format=fmt)


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
    groups = order_groups(df, [k for k in varying(df, keys) if k != x])  # lines: the lever that matters most
    if "world.countries_in_conflict_per_year.mean" in df:  # world mode: escalation is certain somewhere
        return outcome_curves(df, x, groups, sweep_dir / CURVES_FILE, title=plan.get("title", ""),
                              outcomes=WORLD_OUTCOMES)[:1]
    return [curves_plot(df, x, groups, sweep_dir / CURVES_FILE, plan.get("title", ""))]
