"""Plots of a run: tension over time as replicate quantiles, policy against its counterfactual twin."""

from __future__ import annotations

from pathlib import Path

import matplotlib

matplotlib.use("Agg")  # files only; the dashboard draws its own
import matplotlib.pyplot as plt  # noqa: E402

from sim.agents import ARMED_CONFLICT, CRISIS, WAR  # noqa: E402


def _band(ax, ts, colour: str, label: str) -> None:
    day = ts["day"]
    ax.fill_between(day, ts["tension_q05"], ts["tension_q95"], color=colour, alpha=0.15, lw=0)
    ax.fill_between(day, ts["tension_q25"], ts["tension_q75"], color=colour, alpha=0.3, lw=0)
    ax.plot(day, ts["tension_q50"], color=colour, lw=1.8, label=f"{label}: median, 50 % and 90 % of worlds")


def tension_plot(result, path: str | Path) -> Path:
    """Highest tension in the region over time, quantiles across replicate worlds."""
    cfg = result.config
    fig, (ax, ax2) = plt.subplots(2, 1, figsize=(8, 6.5), sharex=True, height_ratios=(3, 1.4))
    if result.twin_timeseries is not None:
        _band(ax, result.twin_timeseries, "tab:red", "counterfactual twin")
    _band(ax, result.timeseries, "tab:blue", "policy")
    for level, name in ((CRISIS, "crisis"), (ARMED_CONFLICT, "armed conflict"), (WAR, "war")):
        ax.axhline(level, color="grey", lw=0.8, ls="--")
        ax.text(0, level + 0.04, name, color="grey", fontsize=8)
    ax.set_ylabel("highest tension in the region")
    ax.set_ylim(0, 5)
    ax.legend(loc="upper right", fontsize=8)
    ax.set_title(
        f"{cfg.scenario.name}: lag {cfg.policy.warning_to_action_lag_days} d, flexibility "
        f"{cfg.policy.flexibility}, partnership {cfg.policy.partnership} — {cfg.replicates} worlds",
        fontsize=10,
    )
    for ts, colour, label in ((result.timeseries, "tab:blue", "policy"),
                              (result.twin_timeseries, "tab:red", "twin")):
        if ts is not None:
            ax2.plot(ts["day"], ts["share_escalated"], color=colour, label=label)
    ax2.set_ylabel("share escalated\n(armed conflict)")
    ax2.set_xlabel("day")
    ax2.set_ylim(0, 1)
    ax2.legend(loc="upper left", fontsize=8)
    fig.text(0.01, 0.005, "Stylised teaching model, not a forecast.", fontsize=7, color="grey")
    fig.tight_layout()
    path = Path(path)
    fig.savefig(path, dpi=120)
    plt.close(fig)
    return path
