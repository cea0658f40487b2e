"""Outcome curves and heatmaps of a sweep table (results.parquet).

Outcome curves: escalation (and war, and "unresolved at the horizon" when the table has it)
probability against the swept lever; one line per level of a second lever, one panel per level of a
third; direct labels at the end of each line instead of a legend; 95 % intervals as bands; y fitted
to the data. Heatmaps: two levers at once, the probability and the width of its interval in each cell.
"""

from __future__ import annotations

import itertools
from pathlib import Path
from typing import Any

import matplotlib.pyplot as plt
import numpy as np
import pandas as pd
from matplotlib.ticker import FuncFormatter

from sim.analysis import style
from sim.analysis.load import outcome_column
from sim.analysis.style import name, value_text

#: (outcome base name, its axis label) in the order the rows of the figure show them.
OUTCOMES = (
    ("escalation", "P(escalation to armed conflict)"),
    ("war", "P(escalation to war)"),
    ("unresolved", "P(unresolved at the horizon)"),
)
#: World mode's curves (every world escalates somewhere): the record's measure and the roster's queue (§62-64).
WORLD_OUTCOMES = (
    ("world.countries_in_conflict_per_year", "countries in armed\nconflict per year"),
    ("world.crises_waiting_per_day", "crises waiting\nfor an envoy per day"),
    ("warning_to_envoy_gap_days_all_sites", "days from warning\nto envoy"),
)
MAX_LINES = 5  # more levels than this on one panel are thinned to the extremes and the middle
MAX_PANELS = 4


def numeric(series: pd.Series) -> bool:
    return pd.api.types.is_numeric_dtype(series) and not pd.api.types.is_bool_dtype(series)


def levels(df: pd.DataFrame, key: str) -> list[Any]:
    values = df[f"param.{key}"].dropna().unique().tolist()
    return sorted(values) if numeric(df[f"param.{key}"]) else list(dict.fromkeys(values))


def varying(df: pd.DataFrame, keys: list[str]) -> list[str]:
    return [k for k in keys if f"param.{k}" in df and df[f"param.{k}"].nunique(dropna=False) > 1]


def choose_x(df: pd.DataFrame, keys: list[str], x: str | None = None) -> str | None:
    """The lever on the x axis: the one asked for, else the numeric lever with the most levels."""
    if x:
        x = x.lstrip("+~")
        return x if f"param.{x}" in df else None
    keys = varying(df, keys)
    pool = [k for k in keys if numeric(df[f"param.{k}"])] or keys
    return max(pool, key=lambda k: df[f"param.{k}"].nunique()) if pool else None


def order_groups(df: pd.DataFrame, groups: list[str], outcome: str = "escalation.probability") -> list[str]:
    """The other levers, the one that moves the outcome most first (it gets the lines; the next, panels)."""
    if outcome not in df:
        return list(groups)

    def effect(g: str) -> float:
        means = df.groupby(f"param.{g}", dropna=False)[outcome].mean()
        return float(means.max() - means.min())

    return sorted(groups, key=effect, reverse=True)


def _thin(values: list[Any], n: int) -> list[Any]:
    if len(values) <= n:
        return values
    idx = np.unique(np.linspace(0, len(values) - 1, n).round().astype(int))
    return [values[i] for i in idx]


def _fixed_others(df: pd.DataFrame, others: list[str]) -> tuple[pd.DataFrame, str]:
    """Hold levers beyond the drawn ones at their middle level; say so."""
    notes = []
    for k in others:
        lv = levels(df, k)
        mid = lv[len(lv) // 2]
        df = df[df[f"param.{k}"] == mid]
        notes.append(f"{style.name(k)} = {style.value_text(k, mid)}")
    return df, ("; held at " + ", ".join(notes)) if notes else ""


def _xpos(df: pd.DataFrame, x: str) -> tuple[np.ndarray, list[Any] | None]:
    col = df[f"param.{x}"]
    if numeric(col):
        return col.to_numpy(dtype=float), None
    cats = list(dict.fromkeys(col))
    return col.map({c: i for i, c in enumerate(cats)}).to_numpy(dtype=float), cats


def percent_axis(ax, top: float) -> None:
    """Probability axis from 0 to a little above the data, in per cent."""
    ax.set_ylim(0, min(1.0, max(top * 1.12, 0.02)))
    ax.yaxis.set_major_formatter(FuncFormatter(lambda v, _: f"{100 * v:.0f} %"))


@style.styled
def outcome_curves(df: pd.DataFrame, x: str, groups: list[str], path: str | Path, *, title: str = "",
                   outcomes: tuple = OUTCOMES) -> list[Path]:
    """The outcome curves figure (PNG + PDF); ``groups`` are the other swept levers (line, panel, ...)."""
    rows = [(o, lab, cols) for o, lab in outcomes if (cols := outcome_column(df, o))]
    if not rows:
        raise ValueError("the table has no outcome column (escalation.probability, ...)")
    line_key = groups[0] if groups else None
    panel_key = groups[1] if len(groups) > 1 else None
    rest = [c.removeprefix("param.") for c in df.columns if c.startswith("param.")]
    unnamed = [k for k in varying(df, rest) if k != x and k not in groups]  # swept but not asked for: held
    data, held = _fixed_others(df, groups[2:] + unnamed)
    line_levels = _thin(levels(data, line_key), MAX_LINES) if line_key else [None]
    panel_levels = _thin(levels(data, panel_key), MAX_PANELS) if panel_key else [None]
    ncol = len(panel_levels)
    # Constrained layout leaves room for everything the axes carry (tick labels, titles, the direct labels
    # outside the right edge) and for the suptitle; the footer gets its measured height below (fit_margins).
    # Laid out at the resolution it is saved at: text does not scale exactly with dpi, and labels fitted at 100
    # dpi were cut at the right edge of the 110 dpi PNG.
    fig, axes = plt.subplots(len(rows), ncol, figsize=(2.2 + 2.7 * ncol, 0.9 + 2.5 * len(rows)),
                             sharex=True, sharey="row", squeeze=False, layout="constrained", dpi=style.SAVE_DPI)
    end_labels = []  # (axes, [(annotation, y of its line's end)], heading or None) of the labelled panels
    xall, cats = _xpos(data, x)
    for r, (_, ylabel, (est, lo, hi)) in enumerate(rows):
        top = float(np.nanmax(data[hi] if hi in data else data[est]))
        for c, plevel in enumerate(panel_levels):
            ax = axes[r, c]
            ends = []
            for i, llevel in enumerate(line_levels):
                mask = np.ones(len(data), dtype=bool)
                if line_key is not None:
                    mask &= (data[f"param.{line_key}"] == llevel).to_numpy()
                if panel_key is not None:
                    mask &= (data[f"param.{panel_key}"] == plevel).to_numpy()
                if not mask.any():
                    continue
                order = np.argsort(xall[mask], kind="stable")
                xs = xall[mask][order]
                ys = data[est].to_numpy(dtype=float)[mask][order]
                st = style.series_style(i)
                ax.plot(xs, ys, color=st["color"], ls=st["ls"], marker=st["marker"], ms=3.5, lw=1.6)
                if lo in data and hi in data:
                    lows = data[lo].to_numpy(dtype=float)[mask][order]
                    highs = data[hi].to_numpy(dtype=float)[mask][order]
                    ax.fill_between(xs, lows, highs, color=st["color"], alpha=0.16, lw=0)
                    for edge in (lows, highs):  # band edges in the series' colour: bands stay apart
                        ax.plot(xs, edge, color=st["color"], lw=0.5, ls=st["ls"], alpha=0.6)
                if line_key is not None:
                    # ties at the end are stacked in the order the lines run just before it
                    ends.append((xs[-1], ys[-1] + 1e-9 * float(np.nanmean(ys)), style.value_text(line_key, llevel),
                                 st["color"]))
            if est.endswith(".probability"):
                percent_axis(ax, top)
            if ends and c == ncol - 1:  # labels on the last panel only: none in the gaps between panels
                # the lever's name heads the first row's labels, placed with them, clear of the panel's title
                end_labels.append(style.end_labels(ax, ends, f"{style.name(line_key)}:" if r == 0 else None))
            if r == 0 and panel_key is not None:
                ax.set_title(f"{style.name(panel_key)} {style.value_text(panel_key, plevel)}")
            if c == 0:
                ax.set_ylabel(ylabel)
            if r == len(rows) - 1:
                ax.set_xlabel(style.label(x))
                if cats is not None:
                    ax.set_xticks(range(len(cats)), [style.value_text(x, v) for v in cats], rotation=20)
    prov = _provenance(df)
    heading = fig.suptitle(title or f"Outcome against {style.name(x)}", fontsize=11)
    foot = style.footer(fig, **prov,
                        extra=f"{len(df)} points; bands: 95 % intervals (Wilson; normal for means){held}")
    fit_margins(fig, heading, foot)
    # The panels' sizes decide how the titles wrap (a long lever name, "local preference for indirect talks in A
    # 0.5", ran into the next title) and how far apart the labels go. The layout alone, not a whole draw.
    style.settle_layout(fig, axes[0], end_labels, wrap=style.wrap_title_to_panel, always_twice=False)
    return style.save(fig, path)


def fit_margins(fig, heading, foot) -> None:
    """Wrap the suptitle and the footer to the figure's width and keep the panels clear of the footer
    (constrained layout makes room for a suptitle, not for free figure text)."""
    style.wrap_to_width(heading, 0.96 * fig.bbox.width)
    style.fit_footer(fig, foot, right=1.0)


def _provenance(df: pd.DataFrame) -> dict[str, Any]:
    out = {}
    for key, col in (("scenario", "scenario"), ("replicates", "replicates"), ("seed", "seed"),
                     ("version", "version")):
        if col in df:
            vals = df[col].dropna().unique().tolist()
            out[key] = vals[0] if len(vals) == 1 else "various"
        else:
            out[key] = "?"
    if isinstance(out["replicates"], (np.integer,)):
        out["replicates"] = int(out["replicates"])
    return out


@style.styled
def heatmap(df: pd.DataFrame, x: str, y: str, path: str | Path, *, outcome: str = "escalation",
            panel: str | None = None, others: list[str] | None = None,
            title: str = "") -> tuple[list[Path], pd.DataFrame]:
    """Two levers at once: the outcome's probability in each cell, with the width of its 95 % interval.

    One panel per level of ``panel``; any ``others`` held at their middle level. Returns the files and
    the cells drawn (x, y, panel, probability, ci_low, ci_high)."""
    est, lo, hi = outcome_column(df, outcome)
    data, held = _fixed_others(df, list(others or []))
    panels = _thin(levels(data, panel), MAX_PANELS) if panel else [None]
    xs, ys = levels(data, x), levels(data, y)
    width = 1.6 + len(panels) * (0.5 * len(xs) + 0.5) + 0.9
    # Constrained layout sizes the margins to the tick labels (a budget's "USD 100 m" is wider than "0.5")
    # and puts the colour bar beside the panels; fit_margins keeps the title and the footer inside.
    fig, axes = plt.subplots(1, len(panels), figsize=(width, 2.1 + 0.45 * len(ys)), squeeze=False,
                             layout="constrained", dpi=style.SAVE_DPI)  # laid out as saved (outcome_curves)
    vmax = float(np.nanmax(data[est]))
    cells = []
    image = None
    for ax, plevel in zip(axes[0], panels, strict=True):
        grid = np.full((len(ys), len(xs)), np.nan)
        spread = np.full_like(grid, np.nan)
        sub = data if panel is None else data[data[f"param.{panel}"] == plevel]
        for _, row in sub.iterrows():
            i, j = ys.index(row[f"param.{y}"]), xs.index(row[f"param.{x}"])
            grid[i, j] = row[est]
            spread[i, j] = row[hi] - row[lo]
            cells.append({"x": row[f"param.{x}"], "y": row[f"param.{y}"], "panel": plevel,
                          "probability": row[est], "ci_low": row[lo], "ci_high": row[hi]})
        image = ax.imshow(grid, origin="lower", aspect="auto", cmap="cividis", vmin=0, vmax=max(vmax, 1e-9))
        for i, j in itertools.product(range(len(ys)), range(len(xs))):
            if np.isfinite(grid[i, j]):
                dark = grid[i, j] < 0.55 * vmax
                ax.text(j, i, f"{100 * grid[i, j]:.0f} %\n±{50 * spread[i, j]:.0f}", ha="center", va="center",
                        fontsize=6.5, color="white" if dark else "black", linespacing=1.0)
        ax.set_xticks(range(len(xs)), [style.value_text(x, v).replace(" days", "") for v in xs], fontsize=7)
        ax.set_yticks(range(len(ys)), [style.value_text(y, v) for v in ys], fontsize=7)
        ax.set_xlabel(style.label(x))
        ax.grid(False)
        if panel is not None:
            ax.set_title(f"{style.name(panel)} {style.value_text(panel, plevel)}")
    axes[0, 0].set_ylabel(style.label(y))
    bar = fig.colorbar(image, ax=axes[0].tolist(), fraction=0.12 / len(panels), pad=0.02, aspect=25)
    bar.ax.yaxis.set_major_formatter(FuncFormatter(lambda v, _: f"{100 * v:.0f} %"))
    bar.set_label(f"P({outcome})")
    what = dict(OUTCOMES).get(outcome, outcome)
    heading = fig.suptitle(title or f"{what}: {style.name(x)} × {style.name(y)}", fontsize=10)
    foot = style.footer(fig, **_provenance(df),
                        extra=f"cell: probability ± half-width of its 95 % interval, percentage points{held}")
    fit_margins(fig, heading, foot)
    return style.save(fig, path), pd.DataFrame(cells)


def _row_at(df: pd.DataFrame, where: dict[str, Any]) -> pd.Series | None:
    mask = np.ones(len(df), dtype=bool)
    for k, v in where.items():
        mask &= (df[f"param.{k}"] == v).to_numpy()
    return df[mask].iloc[0] if mask.any() else None


def _pct_ci(row: pd.Series, base: str) -> str:
    est, lo, hi = outcome_column(row.to_frame().T, base)
    return f"{100 * row[est]:.1f} % [{100 * row[lo]:.1f}, {100 * row[hi]:.1f}]"


def curves_reading(df: pd.DataFrame, x: str, groups: list[str]) -> tuple[str, list[dict[str, Any]]]:
    """The outcome curves in words, and the table rows each quoted number comes from.

    With the other levers at their middle level: escalation at the lowest and highest ``x``; then, at
    the lowest ``x``, the lowest and highest level of the first other lever."""
    mid = {g: levels(df, g)[len(levels(df, g)) // 2] for g in groups}
    xs = levels(df, x)
    quoted: list[dict[str, Any]] = []
    lo_row, hi_row = _row_at(df, {x: xs[0], **mid}), _row_at(df, {x: xs[-1], **mid})
    if lo_row is None or hi_row is None:
        return "", quoted
    held = ", ".join(f"{name(g)} {value_text(g, v)}" for g, v in mid.items())
    text = (f"With {held}: " if held else "") + (
        f"escalation is {_pct_ci(lo_row, 'escalation')} at {name(x)} {value_text(x, xs[0])} and "
        f"{_pct_ci(hi_row, 'escalation')} at {value_text(x, xs[-1])}.")
    quoted += [lo_row, hi_row]
    if groups:
        g = groups[0]
        gl = levels(df, g)
        a = _row_at(df, {**mid, x: xs[0], g: gl[0]})
        b = _row_at(df, {**mid, x: xs[0], g: gl[-1]})
        if a is not None and b is not None:
            text += (f" At {name(x)} {value_text(x, xs[0])}, {name(g)} {value_text(g, gl[0])} gives "
                     f"{_pct_ci(a, 'escalation')} and {value_text(g, gl[-1])} gives {_pct_ci(b, 'escalation')}.")
            quoted += [a, b]
    return text, [dict(r) for r in quoted]


def heatmap_reading(cells: pd.DataFrame, x: str, y: str, panel: str | None = None) -> str:
    """The lowest and the highest cell of a heatmap, in words."""
    lo, hi = cells.loc[cells["probability"].idxmin()], cells.loc[cells["probability"].idxmax()]

    def where(c: pd.Series) -> str:
        return f"{name(x)} {value_text(x, c['x'])}, {name(y)} {value_text(y, c['y'])}" + (
            "" if panel is None else f", {name(panel)} {value_text(panel, c['panel'])}")

    return (f"Lowest: {100 * lo['probability']:.1f} % [{100 * lo['ci_low']:.1f}, {100 * lo['ci_high']:.1f}] at "
            f"{where(lo)}; highest: {100 * hi['probability']:.1f} % [{100 * hi['ci_low']:.1f}, "
            f"{100 * hi['ci_high']:.1f}] at {where(hi)}.")
