"""Plots of a run: tension over time as replicate quantiles, policy against its counterfactual twin.

The twin's label says what the twin is ("twin: no intervention", "twin: warning-to-action lag 90
days"), colours are colour-blind safe and the two runs also differ in line style (readable in grey).
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import matplotlib

matplotlib.use("Agg")  # files only; the dashboard draws its own
import matplotlib.pyplot as plt  # noqa: E402
from matplotlib.ticker import FuncFormatter  # noqa: E402

from sim.agents import ARMED_CONFLICT, CRISIS, WAR  # noqa: E402
from sim.analysis import style  # noqa: E402

POLICY = style.OKABE_ITO[0]  # blue, solid
TWIN = style.OKABE_ITO[1]  # vermillion, dashed


def _band(ax, ts, colour: str, ls: str, label: str) -> None:
    day = ts["day"]
    ax.fill_between(day, ts["tension_q05"], ts["tension_q95"], color=colour, alpha=0.12, lw=0)
    ax.fill_between(day, ts["tension_q25"], ts["tension_q75"], color=colour, alpha=0.28, lw=0)
    ax.plot(day, ts["tension_q50"], color=colour, lw=1.8, ls=ls, label=f"{label}: median, 50 % and 90 % of worlds")


@style.styled
def tension_figure(ts, twin_ts, path: str | Path, *, title: str, twin: str = "twin: no intervention",
                   provenance: dict[str, Any] | None = None, pdf: bool = False) -> list[Path]:
    """Tension quantiles and the share escalated, policy against its twin, from the per-day tables."""
    fig, (ax, ax2) = plt.subplots(2, 1, figsize=(8, 6.5), sharex=True, height_ratios=(3, 1.4))
    if twin_ts is not None:
        _band(ax, twin_ts, TWIN, "--", twin)
    _band(ax, ts, POLICY, "-", "policy")
    for level, name in ((CRISIS, "crisis"), (ARMED_CONFLICT, "armed conflict"), (WAR, "war")):
        ax.axhline(level, color="grey", lw=0.8, ls=":")
        ax.text(0, level + 0.04, name, color="#555555", fontsize=8)
    ax.set_ylabel("highest tension in the region")
    ax.set_ylim(0, 5)
    ax.legend(loc="upper right", fontsize=8)
    ax.set_title(title, fontsize=10)
    top = 0.0
    for frame, colour, ls, label in ((ts, POLICY, "-", "policy"), (twin_ts, TWIN, "--", twin)):
        if frame is not None:
            ax2.plot(frame["day"], frame["share_escalated"], color=colour, ls=ls, label=label)
            top = max(top, float(frame["share_escalated"].max()))
    ax2.set_ylabel("share escalated\n(armed conflict)")
    ax2.set_xlabel("day")
    ax2.set_ylim(0, min(1.0, max(top * 1.15, 0.02)))
    ax2.yaxis.set_major_formatter(FuncFormatter(lambda v, _: f"{100 * v:.0f} %"))
    ax2.legend(loc="upper left", fontsize=8)
    style.footer(fig, **(provenance or {}))
    fig.tight_layout(rect=(0, 0.04, 1, 1))
    path = Path(path)
    if pdf:
        return style.save(fig, path, dpi=120)
    fig.savefig(path, dpi=120)
    plt.close(fig)
    return [path]


def run_title(cfg) -> str:
    return (f"{cfg.scenario.name}: lag {cfg.policy.warning_to_action_lag_days} d, flexibility "
            f"{cfg.policy.flexibility}, partnership {cfg.policy.partnership} — {cfg.replicates:,} worlds")


def tension_plot(result, path: str | Path) -> Path:
    """Highest tension in the region over time, quantiles across replicate worlds (tension.png)."""
    from sim.config import twin_policy

    cfg = result.config
    prov = {"scenario": cfg.scenario.name, "replicates": cfg.replicates, "seed": cfg.seed}
    return tension_figure(result.timeseries, result.twin_timeseries, path, title=run_title(cfg),
                          twin=style.twin_label(twin_policy(cfg.counterfactual)), provenance=prov)[0]
