"""Time to escalation: Kaplan-Meier survival curves with 95 % confidence bands (``lifelines``) and the
restricted mean time to escalation (RMST) up to the horizon, with its interval (Greenwood-type).

A world that never escalated is censored at the horizon (``escalation_day`` is NaN for it). The
Kaplan-Meier band is lifelines' exponential Greenwood interval; the RMST interval is normal.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import matplotlib.pyplot as plt
import numpy as np
import pandas as pd
from matplotlib.ticker import FuncFormatter

from sim.analysis import style
from sim.stats import Z95


def durations(escalation_day: Any, horizon: int) -> tuple[np.ndarray, np.ndarray]:
    """(time, escalated) per world: the day of escalation, or the horizon (censored) if none."""
    day = np.asarray(escalation_day, dtype=float)
    observed = np.isfinite(day) & (day <= horizon)
    return np.where(observed, day, float(horizon)), observed


def kaplan_meier(escalation_day: Any, horizon: int, label: str = "policy"):
    """A fitted lifelines KaplanMeierFitter of time to escalation, censored at the horizon."""
    from lifelines import KaplanMeierFitter

    t, e = durations(escalation_day, horizon)
    return KaplanMeierFitter(alpha=0.05).fit(t, e, label=label)


def rmst(fitter, horizon: int) -> dict[str, float]:
    """Restricted mean time to escalation (days) up to ``horizon``: the area under the Kaplan-Meier
    curve, with a 95 % interval from its Greenwood-type variance (Klein & Moeschberger 2003, 4.5):
    Var = sum over event times t_i <= horizon of A_i^2 d_i / (n_i (n_i - d_i)), A_i the area from t_i to
    the horizon. (lifelines' ``return_variance`` is the variance of the restricted times themselves,
    not of their mean.)"""
    sf = fitter.survival_function_.iloc[:, 0]
    t = np.append(sf.index.to_numpy(dtype=float), np.inf)
    s = sf.to_numpy(dtype=float)
    width = np.clip(np.minimum(t[1:], horizon) - np.minimum(t[:-1], horizon), 0, None)
    pieces = s * width  # area of each step up to the horizon
    area_after = np.cumsum(pieces[::-1])[::-1]  # area from each step's start to the horizon
    mean = float(pieces.sum())
    table = fitter.event_table
    var = 0.0
    for i, when in enumerate(sf.index):
        if when > horizon or when not in table.index:
            continue
        d, n = float(table.at[when, "observed"]), float(table.at[when, "at_risk"])
        if d > 0 and n > d:
            var += area_after[i] ** 2 * d / (n * (n - d))
    half = Z95 * float(np.sqrt(var))
    return {"days": mean, "ci_low": max(0.0, mean - half), "ci_high": min(float(horizon), mean + half),
            "se": float(np.sqrt(var)), "horizon": int(horizon)}


def survival_at(fitter, day: float) -> dict[str, float]:
    """S(day) with its 95 % band, read off the step function."""
    sf = fitter.survival_function_.iloc[:, 0]
    ci = fitter.confidence_interval_
    i = int(np.searchsorted(sf.index.to_numpy(), day, side="right")) - 1
    i = max(i, 0)
    return {"survival": float(sf.iloc[i]), "ci_low": float(ci.iloc[i, 0]), "ci_high": float(ci.iloc[i, 1])}


def summarise(groups: dict[str, Any], horizon: int) -> pd.DataFrame:
    """One row per group (label -> escalation days): worlds, escalated, S(horizon), RMST with intervals."""
    rows = []
    for lab, days in groups.items():
        f = kaplan_meier(days, horizon, lab)
        t, e = durations(days, horizon)
        end = survival_at(f, horizon)
        m = rmst(f, horizon)
        rows.append({"label": lab, "worlds": int(t.size), "escalated": int(e.sum()),
                     "survival_at_horizon": end["survival"], "survival_ci_low": end["ci_low"],
                     "survival_ci_high": end["ci_high"], "rmst_days": m["days"], "rmst_ci_low": m["ci_low"],
                     "rmst_ci_high": m["ci_high"]})
    return pd.DataFrame(rows)


@style.styled
def survival_figure(groups: dict[str, Any], horizon: int, path: str | Path, *, provenance: dict | None = None,
                    title: str = "", reference: str | None = None) -> tuple[list[Path], pd.DataFrame]:
    """Kaplan-Meier curves of several groups side by side (label -> escalation days per world), with
    their bands, the RMST of each in a table under the plot. ``reference`` (e.g. the no-intervention
    twin) is drawn in black, dotted."""
    table = summarise(groups, horizon)
    # Constrained layout leaves room right of the panel for the labels (was a fixed 16 % of the width: wasted
    # with short labels, too little with long ones).
    fig, ax = plt.subplots(figsize=(8, 4.6), layout="constrained", dpi=style.SAVE_DPI)
    lowest = 1.0
    i = 0
    ends: list[tuple[float, str, str]] = []  # (S at the horizon, label, colour) of each curve
    for lab, days in groups.items():
        f = kaplan_meier(days, horizon, lab)
        if lab == reference:
            st = {"color": style.REFERENCE, "ls": ":", "marker": None}
        else:
            st = style.series_style(i)
            i += 1
        sf = f.survival_function_.iloc[:, 0]
        ci = f.confidence_interval_
        ax.step(sf.index, sf.to_numpy(), where="post", color=st["color"], ls=st["ls"], lw=1.7)
        ax.fill_between(ci.index, ci.iloc[:, 0], ci.iloc[:, 1], step="post", color=st["color"], alpha=0.15, lw=0)
        lowest = min(lowest, float(ci.iloc[:, 0].min()))
        row = table.loc[table["label"] == lab].iloc[0]
        ends.append((float(sf.iloc[-1]), f"{lab}\nRMST {row['rmst_days']:.0f} d", st["color"]))
    ax.set_xlim(0, horizon)
    bottom = max(0.0, lowest - 0.05 * (1 - lowest) - 0.01)
    ax.set_ylim(bottom, 1.005)
    # each label level with its curve at the horizon, moved apart after the layout (with a leader if moved)
    labelled = [style.end_labels(ax, [(horizon, y, text, colour) for y, text, colour in ends])]
    ax.yaxis.set_major_formatter(FuncFormatter(lambda v, _: f"{100 * v:.0f} %"))
    ax.set_xlabel("days since the start of the run")
    ax.set_ylabel("share of worlds not yet in armed conflict")
    ax.set_title(title or "Time to escalation: Kaplan–Meier, 95 % bands (worlds censored at the horizon)")
    foot = style.footer(fig, **(provenance or {}),
                        extra=f"RMST: restricted mean days to escalation within {horizon} days")
    style.fit_footer(fig, foot)
    style.settle_layout(fig, (ax,), labelled)  # a long title stays over the panel
    return style.save(fig, path), table
