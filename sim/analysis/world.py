"""The world against the record: countries in conflict (and at war) per year with the model's band beside the
UCDP/PRIO series, and country onsets per decade, model and record, each with its 95 % interval. The command also
prints the world's statistics against the targets with their verdicts (``sim.world_stats.compare_world``).

    python -m sim.analysis.world YEARS.parquet [--start-year 1990] [--waiting WAITING.npy] [--out world.png]

``world_figure`` takes a years table (``sim.years.years_table`` of a world run; a run writes it as
``years.parquet``); the statistics come from ``sim.world_stats``, the record from the committed
docs/validation/ucdp_years.csv and ucdp_targets.csv (never the dataset).
"""

from __future__ import annotations

import argparse
import json
import math
import sys
from pathlib import Path

import matplotlib.pyplot as plt
import numpy as np
import pandas as pd
from matplotlib.ticker import MaxNLocator

from sim import patterns, world_stats
from sim.analysis import style

#: The decades of the onset panel: (label, suffix of the statistic and target).
DECADES = (("1990s", "1990s"), ("2000s", "2000s"))
ONSETS = (("all onsets", "world_country_onsets"), ("low-intensity", "world_country_onsets_low_intensity"))


def _interval(value: float, low: float, high: float) -> tuple[float, float]:
    """Error-bar lengths below and above (zero where an end is undefined)."""
    lo = value - low if math.isfinite(low) else 0.0
    hi = high - value if math.isfinite(high) else 0.0
    return max(lo, 0.0), max(hi, 0.0)


def _per_year_panel(ax, series: pd.DataFrame, observed: pd.DataFrame) -> tuple:
    """The per-year panel; returns its end labels (style.end_labels), to be spread once laid out."""
    ends: list[tuple[float, float, str, str]] = []  # (x, y, label, colour) of each line's right end
    for i, (measure, text) in enumerate((("countries_in_conflict", "in conflict"), ("countries_at_war", "at war"))):
        st = style.series_style(i)
        ax.fill_between(series["year"], series[f"{measure}_low"], series[f"{measure}_high"], color=st["color"],
                        alpha=0.18, lw=0)
        ax.plot(series["year"], series[f"{measure}_mean"], color=st["color"], ls=st["ls"], lw=1.8)
        obs = observed[observed["year"].between(series["year"].min(), series["year"].max())]
        ax.plot(obs["year"], obs[measure], color=style.REFERENCE, ls=":", marker=st["marker"], ms=3.5, lw=1.1)
        ends.append((float(series["year"].iloc[-1]), float(series[f"{measure}_mean"].iloc[-1]), f"model: {text}",
                     st["color"]))
        if len(obs):
            ends.append((float(obs["year"].iloc[-1]), float(obs[measure].iloc[-1]), f"UCDP: {text}",
                         style.REFERENCE))
    ax.set_ylim(bottom=0)
    # each label level with its line's end; moved apart once the panel is laid out (world_figure)
    labels = style.end_labels(ax, ends)
    # whole years at steps of 1, 2, 5 or 10 (MaxNLocator's default steps gave 1989, 1992, ... for 1990-2010)
    ax.xaxis.set_major_locator(MaxNLocator(integer=True, steps=[1, 2, 5, 10]))
    ax.set_xlabel("calendar year")
    ax.set_ylabel("countries")
    ax.set_title("Countries with an armed conflict per year: model mean and 90 % of worlds; UCDP dotted")
    return labels


def _onset_panel(ax, stats: dict, targets: dict) -> None:
    x = np.arange(len(DECADES))
    width = 0.18
    k = 0
    for j, (text, name) in enumerate(ONSETS):
        st = style.series_style(j)
        for source in ("model", "UCDP"):
            values, errors = [], [[], []]
            for _, tag in DECADES:
                key = f"{name}_{tag}"
                if source == "model":
                    s = stats.get(key)
                    v, lo, hi = (s.value, s.ci_low, s.ci_high) if s is not None else (math.nan,) * 3
                else:
                    t = targets[key]
                    v, lo, hi = t["value"], t["ci_low"], t["ci_high"]
                values.append(v)
                below, above = _interval(v, lo, hi)
                errors[0].append(below)
                errors[1].append(above)
            colour = st["color"] if source == "model" else style.REFERENCE
            # the record's points open and black, in their series' marker (both were open squares: the legend's
            # two UCDP entries could not be told apart)
            ax.errorbar(x + (k - 1.5) * width, values, yerr=errors, fmt=st["marker"],
                        color=colour, mfc=colour if source == "model" else "white", capsize=3, lw=1.2,
                        label=f"{source}: {text}")
            k += 1
    ax.set_xticks(x, [label for label, _ in DECADES])
    ax.set_ylabel("country onsets per decade")
    ax.set_ylim(bottom=0)
    # under the panel, where no error bar reaches (in its upper right it sat beside the 1990s record's bar)
    ax.legend(fontsize=7, loc="upper center", bbox_to_anchor=(0.5, -0.1), ncol=2)
    ax.set_title("Country onsets per decade (95 % intervals)")


@style.styled
def world_figure(table: pd.DataFrame, path: str | Path, *, start_year: int = world_stats.START_YEAR, waiting=None,
                 before: dict | None = None, observed: pd.DataFrame | None = None, targets: dict | None = None,
                 provenance: dict | None = None, title: str = "") -> list[Path]:
    """Draw and save (PNG and PDF) the world against the record from a years table; returns the files.
    ``before``: each country's state in the year before the run (``world_stats.states_before_start()``)."""
    series = world_stats.annual_series(table, start_year, waiting, before)
    stats = world_stats.world_statistics(table, start_year, waiting, before)
    observed = world_stats.observed_series() if observed is None else observed
    targets = patterns.load_targets() if targets is None else targets
    # Constrained layout leaves room for the end labels between the panels and the legend under the right one.
    fig, (left, right) = plt.subplots(1, 2, figsize=(11, 4.6), width_ratios=(2.2, 1), layout="constrained",
                                      dpi=style.SAVE_DPI)
    labels = _per_year_panel(left, series, observed)
    _onset_panel(right, stats, targets)
    heading = fig.suptitle(title) if title else None
    worlds = int(table["world"].nunique())
    prov = {"scenario": "world", "replicates": worlds, **(provenance or {})}
    foot = style.footer(fig, **prov, extra="record: UCDP/PRIO ACD 21.1, type 3-4 conflicts counted by country")
    if heading is not None:
        style.wrap_to_width(heading, 0.96 * fig.bbox.width)
    style.fit_footer(fig, foot)
    style.settle_layout(fig, (left, right), [labels])  # the panels' titles wrap to their panels
    return style.save(fig, path)


def run_provenance(path: Path) -> dict:
    """Seed and version of the run that wrote a years table (the ``pdsim`` metadata every result file carries), for
    the figure's footer; empty for a table written without it."""
    import pyarrow.parquet as pq

    meta = pq.read_schema(path).metadata or {}
    try:
        run = json.loads(meta[b"pdsim"])
    except (KeyError, ValueError):
        return {}
    return {k: run[k] for k in ("seed", "version") if k in run}


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(prog="python -m sim.analysis.world", description=__doc__.split("\n\n")[0])
    ap.add_argument("years", help="a world run's years table (years.parquet)")
    ap.add_argument("--start-year", type=int, default=world_stats.START_YEAR, help="calendar year of the run's "
                    f"first year (default {world_stats.START_YEAR})")
    ap.add_argument("--waiting", help="crisis-days waiting for an envoy, (years, worlds) .npy (optional)")
    ap.add_argument("--before", choices=("countries", "none"), default="countries",
                    help="state of each country in the year before the run: from configs/world/countries.csv "
                         "(default) or none (all at peace)")
    ap.add_argument("--out", default="world.png", help="figure to write (PNG, and a PDF beside it)")
    args = ap.parse_args(argv)
    path = Path(args.years)
    if not path.exists():
        print(f"years = {args.years}: no such file (a world run writes years.parquet)", file=sys.stderr)
        return 2
    if not 1800 <= args.start_year <= 2100:
        print(f"--start-year = {args.start_year} is out of range: allowed 1800 <= value <= 2100", file=sys.stderr)
        return 2
    if args.waiting and not Path(args.waiting).exists():
        print(f"--waiting = {args.waiting}: no such file (a (years, worlds) .npy array)", file=sys.stderr)
        return 2
    try:
        table = pd.read_parquet(path)
    except Exception as err:  # any unreadable file is the same user error
        print(f"years = {args.years} is not a readable Parquet file: {err}", file=sys.stderr)
        return 2
    missing = [c for c in ("world", "site", "year", "state") if c not in table.columns]
    if missing:
        print(f"years = {args.years} lacks the column(s) {', '.join(missing)}: it needs a years table "
              "(sim.years.years_table)", file=sys.stderr)
        return 2
    waiting = np.load(args.waiting) if args.waiting else None
    before = world_stats.states_before_start() if args.before == "countries" else None
    try:
        files = world_figure(table, args.out, start_year=args.start_year, waiting=waiting, before=before,
                             provenance=run_provenance(path))
    except ValueError as err:
        print(str(err), file=sys.stderr)
        return 2
    stats = world_stats.world_statistics(table, args.start_year, waiting, before)
    print(patterns.render(world_stats.compare_world(stats)))
    print("wrote " + ", ".join(str(f) for f in files))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
