"""Global sensitivity of a design sweep (``hydra/sweeper=design``, method sobol or morris): which
success factor matters most, and whether it acts alone or through the others.

Reads what the design sweeper writes — sweep.json (levers with their ranges, every design point in
order with its config hash and values), results.parquet (one row per distinct point) and
multirun.yaml (``morris_levels``, ``second_order``) — and runs SALib's analysers on any outcome
column: Sobol first-order (S1) and total (ST) indices with bootstrap 95 % intervals, or Morris
mu* (with its bootstrap interval) and sigma.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import matplotlib.pyplot as plt
import numpy as np
import pandas as pd

from sim.analysis import style

RESAMPLES = 1000


def problem(levers: list[dict[str, Any]]) -> dict[str, Any]:
    return {"num_vars": len(levers), "names": [lv["key"] for lv in levers],
            "bounds": [[float(lv["low"]), float(lv["high"])] for lv in levers]}


def sobol(levers: list[dict[str, Any]], y: np.ndarray, *, second_order: bool = False, seed: int = 0) -> pd.DataFrame:
    """Sobol S1 and ST per lever with bootstrap 95 % intervals (``y`` in the Saltelli sample's order)."""
    from SALib.analyze import sobol as analyse

    res = analyse.analyze(problem(levers), np.asarray(y, dtype=float), calc_second_order=second_order,
                          num_resamples=RESAMPLES, conf_level=0.95, seed=seed)
    df = pd.DataFrame({"lever": [lv["key"] for lv in levers], "S1": res["S1"], "S1_conf": res["S1_conf"],
                       "ST": res["ST"], "ST_conf": res["ST_conf"]})
    return df.sort_values("ST", ascending=False, kind="stable").reset_index(drop=True)


def morris(levers: list[dict[str, Any]], x: np.ndarray, y: np.ndarray, *, num_levels: int = 4,
           seed: int = 0) -> pd.DataFrame:
    """Morris mu* (bootstrap 95 % interval), mu and sigma per lever."""
    from SALib.analyze import morris as analyse

    res = analyse.analyze(problem(levers), np.asarray(x, dtype=float), np.asarray(y, dtype=float),
                          num_levels=num_levels, num_resamples=RESAMPLES, conf_level=0.95, seed=seed)
    df = pd.DataFrame({"lever": [lv["key"] for lv in levers], "mu_star": res["mu_star"],
                       "mu_star_conf": res["mu_star_conf"], "mu": res["mu"], "sigma": res["sigma"]})
    return df.sort_values("mu_star", ascending=False, kind="stable").reset_index(drop=True)


def design_data(sweep, outcome: str = "escalation.probability") -> tuple[list[dict], np.ndarray, np.ndarray]:
    """(levers, X, y) of a design sweep, one row per design point in the sampler's order."""
    plan = sweep.plan
    levers = plan.get("levers")
    points = plan.get("points")
    if not levers or not points:
        raise ValueError(f"{sweep.directory}: sweep.json has no design levers/points (not a design sweep)")
    table = sweep.table
    if outcome not in table:
        raise ValueError(f"outcome column {outcome!r} is not in the table")
    by_hash = dict(zip(table["config_hash"], table[outcome], strict=True))
    missing = [p["index"] for p in points if p["config_hash"] not in by_hash]
    if missing:
        raise ValueError(f"{len(missing)} design points have no row yet (e.g. point {missing[0]}): "
                         "resume the sweep first; indices need every point")
    keys = [lv["key"] for lv in levers]
    x = np.array([[float(p["values"][k]) for k in keys] for p in points])
    y = np.array([by_hash[p["config_hash"]] for p in points], dtype=float)
    return levers, x, y


def analyse_sweep(sweep, outcome: str = "escalation.probability") -> tuple[str, pd.DataFrame]:
    """(method, indices) for a morris or sobol design sweep."""
    method = sweep.design
    levers, x, y = design_data(sweep, outcome)
    seed = int(sweep.plan.get("design_seed") or 0)
    if method == "sobol":
        second = bool(sweep.hydra.get("second_order", False))
        k = len(levers)
        if len(y) % (2 * k + 2) == 0 and len(y) % (k + 2) != 0:
            second = True
        return method, sobol(levers, y, second_order=second, seed=seed)
    if method == "morris":
        return method, morris(levers, x, y, num_levels=int(sweep.hydra.get("morris_levels", 4)), seed=seed)
    raise ValueError(f"design = {method!r}: sensitivity indices need a sobol or morris design "
                     "(hydra.sweeper.method=sobol or morris)")


def reading(method: str, idx: pd.DataFrame, outcome_name: str = "escalation") -> str:
    """The ranking in words; every number comes from ``idx``."""
    top = idx.iloc[0]
    if method == "sobol":
        text = (f"{style.name(top['lever'])} matters most for {outcome_name}: total index ST {top['ST']:.2f} "
                f"± {top['ST_conf']:.2f}, first-order S1 {top['S1']:.2f} ± {top['S1_conf']:.2f}")
        text += (f" (about {100 * top['ST']:.0f} % of the variance, {100 * max(top['S1'], 0):.0f} % on its own)."
                 if 0 <= top["S1"] <= top["ST"] <= 1 else ".")
        if float(idx[["S1_conf", "ST_conf"]].max().max()) > 0.2:
            text += (" The intervals are wide: rank only what they separate, or run a larger base sample "
                     "(hydra.sweeper.n).")
        inter = idx.assign(gap=idx["ST"] - idx["S1"]).sort_values("gap", ascending=False).iloc[0]
        if inter["gap"] > 0.05:
            text += (f" {style.name(inter['lever']).capitalize()} acts most through interactions with the others "
                     f"(ST − S1 = {inter['gap']:.2f}): its effect depends on where the other levers are.")
        return text
    text = (f"{style.name(top['lever'])} matters most for {outcome_name}: mean absolute elementary effect "
            f"mu* {top['mu_star']:.3f} ± {top['mu_star_conf']:.3f}, sigma {top['sigma']:.3f}.")
    high = idx[idx["sigma"] > idx["mu_star"]]
    if len(high):
        names = ", ".join(style.name(k) for k in high["lever"])
        text += f" Sigma above mu* for {names}: the effect changes with where the other levers are."
    return text


def _plane(ax, xs: pd.Series, ys: pd.Series, names: list[str], small: float) -> None:
    """Each factor as a point, named; the factors near the origin named once, together."""
    near = []
    for i, (x, y) in enumerate(zip(xs, ys, strict=True)):
        st = style.series_style(i)
        ax.plot(x, y, marker=st["marker"], color=st["color"], ls="none", ms=7)
        if abs(x) < small and abs(y) < small:
            near.append(names[i])
        else:
            ax.annotate(names[i], (x, y), xytext=(5, 3), textcoords="offset points", fontsize=7.5, color=st["color"])
    if near:
        import textwrap

        ax.text(0.03, 0.97, textwrap.fill("near 0: " + ", ".join(near), 45), transform=ax.transAxes, fontsize=7,
                va="top", color="#444444")


@style.styled
def figure(method: str, idx: pd.DataFrame, path: str | Path, *, provenance: dict | None = None,
           outcome_name: str = "P(escalation to armed conflict)", n_points: int | None = None) -> list[Path]:
    """The ranking of the factors: Sobol S1 / ST bars with intervals, or Morris mu* bars and the
    mu*-sigma plane (far right: matters; high: non-linear or interacting)."""
    names = [style.name(k) for k in idx["lever"]]
    ypos = np.arange(len(idx))
    fig, (ax, ax2) = plt.subplots(1, 2, figsize=(10, 0.9 + 0.45 * len(idx) + 1.4), width_ratios=(1.3, 1))
    if method == "sobol":
        for j, (col, conf, lab) in enumerate((("ST", "ST_conf", "total (ST)"), ("S1", "S1_conf", "first order (S1)"))):
            st = style.series_style(j)
            ax.barh(ypos + (j - 0.5) * 0.38, idx[col], height=0.36, color=st["color"], alpha=0.85,
                    hatch=(None, "///")[j], edgecolor="white", label=lab, xerr=idx[conf], capsize=2,
                    error_kw={"lw": 0.8})
        ax.set_xlabel("share of the variance of the outcome (95 % bootstrap interval)")
        ax.legend(loc="lower right", fontsize=7.5)
        ax2.errorbar(idx["S1"], idx["ST"], xerr=idx["S1_conf"], yerr=idx["ST_conf"], fmt="none", ecolor="#999999",
                     lw=0.7)
        _plane(ax2, idx["S1"], idx["ST"], names, 0.03 * max(float(idx["ST"].max()), 0.05))
        top = max(float((idx["ST"] + idx["ST_conf"]).max()), 0.05) * 1.1
        ax2.plot([0, top], [0, top], color="black", lw=0.7, ls=":")
        ax2.set_xlabel("alone (S1)")
        ax2.set_ylabel("in total (ST)")
        ax2.set_title("above the diagonal:\nacts through interactions", fontsize=8.5)
    else:
        st = style.series_style(0)
        low = np.minimum(idx["mu_star_conf"], idx["mu_star"])  # mu* is never below 0
        ax.barh(ypos, idx["mu_star"], xerr=[low, idx["mu_star_conf"]], color=st["color"], alpha=0.85, capsize=2,
                error_kw={"lw": 0.8})
        ax.set_xlabel("mu*: mean absolute elementary effect on the outcome (95 % bootstrap)")
        _plane(ax2, idx["mu_star"], idx["sigma"], names, 0.03 * max(float(idx["mu_star"].max()), 1e-6))
        top = max(float(idx["mu_star"].max()), float(idx["sigma"].max()), 1e-6) * 1.1
        ax2.plot([0, top], [0, top], color="black", lw=0.7, ls=":")
        ax2.set_xlabel("mu* (matters)")
        ax2.set_ylabel("sigma (non-linear or interacting)")
        ax2.set_title("above the diagonal: the effect\ndepends on where the others are", fontsize=8.5)
    ax.set_yticks(ypos, names)
    ax.invert_yaxis()
    fig.suptitle(f"Which factor matters most for {outcome_name}", fontsize=10.5)
    ax.set_title("ranking", fontsize=8.5)
    ax2.set_xlim(left=0)
    ax2.set_ylim(bottom=0)
    extra = f"{method} design" + (f", {n_points} points" if n_points else "") + "; SALib"
    style.footer(fig, **(provenance or {}), extra=extra)
    fig.tight_layout(rect=(0, 0.07, 1, 1))
    return style.save(fig, path)
