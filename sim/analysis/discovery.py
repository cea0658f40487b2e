"""Scenario discovery: which combinations of levers keep escalation under a target? PRIM (Friedman &
Fisher 1999) as the EMA Workbench implements it (``ema_workbench.analysis.prim``), run on a sweep's
table (one row per point; best on a Latin hypercube or other design), boxes told in plain words:

    "warning-to-action lag ≤ 20 days and partnership ≥ 0.6: 91 % of points in the box keep escalation
    below 10 % (density), and the box holds 64 % of all such points (coverage)."
"""

from __future__ import annotations

import logging
import warnings
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import matplotlib.pyplot as plt
import numpy as np
import pandas as pd

from sim.analysis import style


@dataclass
class Box:
    limits: dict[str, tuple[Any, Any] | set]  # restricted levers only: (low, high) or a set of categories
    coverage: float  # share of all points of interest inside the box
    density: float  # share of the points inside the box that are of interest
    mass: float  # share of all points inside the box
    points: int
    of_interest: int
    trajectory: pd.DataFrame  # PRIM's peeling trajectory (coverage, density, mass, res_dim per step)
    chosen: int  # the step of the trajectory this box is

    def words(self, bounds: dict[str, tuple[Any, Any]], condition: str) -> str:
        """The box in plain words (``bounds``: each lever's range in the data, to say ≤ / ≥ / between)."""
        return f"{limits_text(self.limits, bounds)}: {100 * self.density:.0f} % of points in the box {condition} " \
               f"(density), and the box holds {100 * self.coverage:.0f} % of all such points (coverage)"


def _num(key: str, v: float) -> str:
    return style.value_text(key, float(v) if not float(v).is_integer() else int(v))


def limits_text(limits: dict, bounds: dict[str, tuple[Any, Any]]) -> str:
    parts = []
    for key, lim in limits.items():
        n = style.name(key)
        if isinstance(lim, set):
            parts.append(f"{n} is {' or '.join(style.value_text(key, v) for v in sorted(lim, key=str))}")
            continue
        lo, hi = lim
        blo, bhi = bounds.get(key, (None, None))
        if lo == hi:
            parts.append(f"{n} = {_num(key, lo)}")
        elif blo is not None and lo <= blo:
            parts.append(f"{n} ≤ {_num(key, hi)}")
        elif bhi is not None and hi >= bhi:
            parts.append(f"{n} ≥ {_num(key, lo)}")
        else:
            parts.append(f"{n} between {_num(key, lo)} and {_num(key, hi)}")
    return " and ".join(parts) if parts else "anywhere (no lever restricted)"


def find_box(x: pd.DataFrame, interest: np.ndarray, *, min_density: float = 0.8, mass_min: float = 0.05,
             peel_alpha: float = 0.05) -> Box:
    """PRIM's first box for the points of interest; on its peeling trajectory, the step with the highest
    coverage among those with density ≥ ``min_density`` and, among equal coverage, the highest density
    (else the densest step)."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        from ema_workbench.analysis import prim

    logging.getLogger("EMA").setLevel(logging.WARNING)
    interest = np.asarray(interest, dtype=bool)
    if not interest.any():
        raise ValueError("no point meets the condition: PRIM has nothing to find")
    x = x.reset_index(drop=True).copy()
    for c in x.columns:  # PRIM takes floats, ints and categories
        if pd.api.types.is_bool_dtype(x[c]):
            x[c] = x[c].astype(str)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        p = prim.Prim(x, interest.astype(int), peel_alpha=peel_alpha, mass_min=mass_min)
        box = p.find_box()
    traj = box.peeling_trajectory.reset_index(drop=True)
    ok = traj[traj["density"] >= min_density]
    # the most coverage at the required density; among equal coverage, the densest (the tightest box)
    step = int(ok.sort_values(["coverage", "density"], kind="stable").index[-1]) if len(ok) else \
        int(traj["density"].idxmax())
    box.select(step)
    lim = box.box_lims[step]
    init = p.box_init
    limits: dict[str, Any] = {}
    for col in x.columns:
        a, b = lim[col].iloc[0], lim[col].iloc[1]
        a0, b0 = init[col].iloc[0], init[col].iloc[1]
        if isinstance(a, set):
            if a != a0:
                limits[col] = set(a)
        elif a > a0 or b < b0:
            limits[col] = (a, b)
    limits = simplify(x, interest, limits)
    inside = _inside(x, limits)
    for col, lim in list(limits.items()):  # snap restricted edges to the values inside the box (a grid's levels)
        if not isinstance(lim, set) and inside.any():
            lo = x.loc[inside, col].min() if lim[0] > x[col].min() else lim[0]
            hi = x.loc[inside, col].max() if lim[1] < x[col].max() else lim[1]
            limits[col] = (lo, hi)
    k = int(interest[inside].sum())
    return Box(limits, coverage=k / int(interest.sum()), density=k / max(int(inside.sum()), 1),
               mass=float(inside.mean()), points=int(inside.sum()), of_interest=k, trajectory=traj, chosen=step)


def _inside(x: pd.DataFrame, limits: dict) -> np.ndarray:
    inside = np.ones(len(x), dtype=bool)
    for col, lim in limits.items():
        inside &= x[col].isin(lim).to_numpy() if isinstance(lim, set) else \
            ((x[col] >= lim[0]) & (x[col] <= lim[1])).to_numpy()
    return inside


def simplify(x: pd.DataFrame, interest: np.ndarray, limits: dict, tolerance: float = 0.03) -> dict:
    """Open each edge of the box back to the edge of the data when that costs at most ``tolerance`` of
    density (PRIM peels noise too); a lever with both edges open is no longer restricted. Greedy: the
    edge whose opening adds most coverage first."""
    limits = dict(limits)

    def density(lims: dict) -> tuple[float, int]:
        inside = _inside(x, lims)
        return (interest[inside].mean() if inside.any() else 0.0), int(interest[inside].sum())

    base, _ = density(limits)
    while True:
        best = None
        for col, lim in limits.items():
            if isinstance(lim, set):
                options = [{k: v for k, v in limits.items() if k != col}]
            else:
                lo, hi = x[col].min(), x[col].max()
                options = [limits | {col: (lo, lim[1])}, limits | {col: (lim[0], hi)}]
            for opt in options:
                opt = {k: v for k, v in opt.items()
                       if isinstance(v, set) or v[0] > x[k].min() or v[1] < x[k].max()}
                d, k = density(opt)
                if d >= base - tolerance and opt != limits and (best is None or k > best[1]):
                    best = (opt, k)
        if best is None:
            return limits
        limits = best[0]


def discover(table: pd.DataFrame, levers: list[str], *, outcome: str = "escalation.probability",
             below: float = 0.10, min_density: float = 0.8) -> tuple[Box, str]:
    """The box of levers keeping ``outcome`` below ``below`` (a probability), and its plain-words reading."""
    x = table[[f"param.{k}" for k in levers]].rename(columns=lambda c: c.removeprefix("param."))
    interest = table[outcome].to_numpy(dtype=float) < below
    box = find_box(x, interest, min_density=min_density)
    bounds = {k: (x[k].min(), x[k].max()) for k in levers if pd.api.types.is_numeric_dtype(x[k])
              and not pd.api.types.is_bool_dtype(x[k])}
    condition = f"keep {_outcome_words(outcome)} below {100 * below:.0f} %"
    return box, box.words(bounds, condition)


def _outcome_words(outcome: str) -> str:
    return {"escalation.probability": "escalation", "war.probability": "war",
            "unresolved.probability": "unresolved crises"}.get(outcome, outcome)


@style.styled
def figure(table: pd.DataFrame, levers: list[str], box: Box, text: str, path: str | Path, *,
           outcome: str = "escalation.probability", below: float = 0.10,
           provenance: dict | None = None) -> list[Path]:
    """Left: the points on the two most restricted levers, of interest or not, with the box. Right: PRIM's
    peeling trajectory (coverage against density), the chosen box marked."""
    fig, (ax, ax2) = plt.subplots(1, 2, figsize=(10, 4.6), width_ratios=(1.2, 1))
    shown = list(box.limits)[:2] or levers[:2]
    if len(shown) == 1:
        shown += [k for k in levers if k not in shown][:1]
    interest = table[outcome].to_numpy(dtype=float) < below
    xs = table[f"param.{shown[0]}"]
    ys = table[f"param.{shown[1]}"] if len(shown) > 1 else pd.Series(table[outcome])
    rng = np.random.default_rng(0)

    def jitter(s: pd.Series) -> np.ndarray:
        if not pd.api.types.is_numeric_dtype(s) or pd.api.types.is_bool_dtype(s):
            cats = list(dict.fromkeys(s))
            return s.map({c: i for i, c in enumerate(cats)}).to_numpy(float) + rng.uniform(-0.15, 0.15, len(s))
        span = float(s.max() - s.min()) or 1.0
        return s.to_numpy(float) + (rng.uniform(-0.01, 0.01, len(s)) * span if s.nunique() < 12 else 0)

    jx, jy = jitter(xs), jitter(ys)
    a, b = style.series_style(0), style.series_style(1)
    ax.scatter(jx[interest], jy[interest], s=16, marker=a["marker"], color=a["color"],
               label=f"{_outcome_words(outcome)} below {100 * below:.0f} %")
    ax.scatter(jx[~interest], jy[~interest], s=16, marker="x", color=b["color"], label="not", alpha=0.8)
    lims = [box.limits.get(k) for k in shown]
    if all(isinstance(v, tuple) or v is None for v in lims):
        (x0, x1) = lims[0] if lims[0] else (xs.min(), xs.max())
        (y0, y1) = lims[1] if len(lims) > 1 and lims[1] else (ys.min(), ys.max())
        ax.add_patch(plt.Rectangle((x0, y0), x1 - x0, y1 - y0, fill=False, lw=1.8, ls="--", color="black"))
    ax.set_xlabel(style.label(shown[0]))
    ax.set_ylabel(style.label(shown[1]) if len(shown) > 1 else outcome)
    ax.legend(fontsize=7.5, loc="lower left", bbox_to_anchor=(0, 1.0), ncol=3, title="points; PRIM's box dashed",
              title_fontsize=7.5, alignment="left")
    t = box.trajectory
    sc = ax2.scatter(t["coverage"], t["density"], c=t["res_dim"], cmap="cividis", s=18)
    ax2.plot(box.coverage, box.density, marker="o", ms=12, mfc="none", mec="black", mew=1.5)
    ax2.annotate("chosen box", (box.coverage, box.density), xytext=(-62 if box.coverage > 0.9 else 8, -14),
                 textcoords="offset points", fontsize=8)
    ax2.set_xlabel("coverage (share of all such points inside the box)")
    ax2.set_ylabel("density (share of the box's points that are such points)")
    ax2.set_title("peeling trajectory", fontsize=9)
    bar = fig.colorbar(sc, ax=ax2, label="levers restricted")
    bar.set_ticks(sorted(set(int(v) for v in t["res_dim"])))
    import textwrap

    fig.suptitle("\n".join(textwrap.wrap(text[0].upper() + text[1:] + ".", 130)), fontsize=8.5)
    style.footer(fig, **(provenance or {}), extra=f"{len(table)} points; PRIM (EMA Workbench)")
    fig.tight_layout(rect=(0, 0.07, 1, 1))
    return style.save(fig, path)
