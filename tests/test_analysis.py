"""The analysis package (sim/analysis): figures are drawn (not blank), every number in a caption or
report equals the table's value, Kaplan-Meier / RMST / Sobol / PRIM against known answers, the story
reads as prose, and the commands refuse bad input with exit status 2.

Fixtures are synthetic tables (independent of the model's numbers) plus a few small runs.
"""

from __future__ import annotations

import json
import math
import os
import re
import subprocess
import sys
from types import SimpleNamespace

import matplotlib.image as mpimg
import numpy as np
import pandas as pd
import pytest

from sim.analysis import curves, style
from sim.analysis.load import load_run, load_sweep
from sim.stats import paired_difference, wilson

LAG, FLEX, PART = "policy.warning_to_action_lag_days", "policy.flexibility", "policy.partnership"


def not_blank(png) -> None:
    """A drawn figure: many non-white pixels and real contrast."""
    img = mpimg.imread(png)[..., :3]
    ink = (img.mean(axis=2) < 0.9).mean()
    assert ink > 0.03, f"{png} is almost blank ({ink:.1%} ink)"
    assert img.std() > 0.08


def numbers(text: str) -> list[float]:
    return [float(x) for x in re.findall(r"-?\d+(?:\.\d+)?", text.replace(",", ""))]


# -- a synthetic sweep: 5 lags x 3 flexibility x 3 partnership ------------------------------------------


def sweep_table(r: int = 400) -> pd.DataFrame:
    rows = []
    for i, (lag, flex, part) in enumerate((a, b, c) for a in (0, 7, 30, 90, 180) for b in (0.1, 0.5, 0.9)
                                          for c in (0.1, 0.5, 0.9)):
        p = 0.06 + 0.35 * lag / 180 - 0.04 * part - 0.01 * flex
        k = round(p * r)
        est, lo, hi = wilson(k, r)
        wk = round(k / 5)
        _, wlo, whi = wilson(wk, r)
        prevented, induced = round((0.45 - p) * r), 2
        net = (prevented - induced) / r
        rows.append({
            "point": i, "job": i, "config_hash": f"h{i}", "scenario": "generic",
            f"param.{LAG}": lag, f"param.{FLEX}": flex, f"param.{PART}": part, "param.replicates": r,
            "escalation.probability": est, "escalation.ci_low": lo, "escalation.ci_high": hi, "escalation.count": k,
            "war.probability": wk / r, "war.ci_low": wlo, "war.ci_high": whi,
            "counterfactual.policy.intervene": False,
            "counterfactual.prevented.estimate": 100 * net, "counterfactual.prevented.ci_low": 100 * net - 4,
            "counterfactual.prevented.ci_high": 100 * net + 4,
            "counterfactual.prevented.worlds_prevented": prevented, "counterfactual.prevented.worlds_induced": induced,
            "counterfactual.cost_per_escalation_prevented_usd": 5e6 + 1e5 * lag,
            "counterfactual.war_cost_averted_usd.mean": 2e8 * net,
            "replicates": r, "seed": 0, "version": "test", "horizon_days": 365,
            "overrides": "['+experiment=lag_sweep']", "config": json.dumps({"replicates": r, "seed": 0}),
        })
    return pd.DataFrame(rows)


@pytest.fixture
def sweep_dir(tmp_path):
    df = sweep_table()
    d = tmp_path / "sweep"
    d.mkdir()
    df.to_parquet(d / "results.parquet", index=False)
    (d / "sweep.json").write_text(json.dumps({"swept": [LAG, FLEX, PART], "curve_x": LAG, "title": "test sweep"}))
    return d


def test_outcome_curves_have_human_labels_fitted_y_panels_and_direct_labels(tmp_path):
    import matplotlib.pyplot as plt

    df = sweep_table()
    captured = []
    real_save = style.save
    style.save = lambda fig, path, dpi=110: captured.append(fig) or real_save(fig, path, dpi)
    try:
        files = curves.outcome_curves(df, LAG, [FLEX, PART], tmp_path / "curves")
    finally:
        style.save = real_save
    assert [f.suffix for f in files] == [".png", ".pdf"] and files[1].stat().st_size > 1000
    not_blank(files[0])
    fig = captured[0]
    axes = fig.axes
    assert len(axes) == 2 * 3  # rows: escalation, war; one panel per partnership level
    assert axes[-1].get_xlabel() == "warning-to-action lag (days)"
    top = df["escalation.ci_high"].max()
    assert top < axes[0].get_ylim()[1] < 1.2 * top + 0.01 < 1  # fitted to the data, not 0-1
    assert all(ax.get_legend() is None for ax in axes)  # direct labels instead of a legend
    labels = {t.get_text() for t in axes[2].texts}
    assert {"0.1", "0.5", "0.9"} <= labels
    assert [ax.get_title() for ax in axes[:3]] == ["partnership 0.1", "partnership 0.5", "partnership 0.9"]
    assert len(axes[0].lines) >= 3 and len(axes[0].collections) == 3  # three lines, three bands
    plt.close("all")


def test_unresolved_row_drawn_when_the_column_exists(tmp_path):
    import matplotlib.pyplot as plt

    df = sweep_table()
    df["unresolved.probability"], df["unresolved.ci_low"], df["unresolved.ci_high"] = 0.2, 0.15, 0.25
    captured = []
    real_save = style.save
    style.save = lambda fig, path, dpi=110: captured.append(fig) or real_save(fig, path, dpi)
    try:
        curves.outcome_curves(df, LAG, [FLEX], tmp_path / "curves")
    finally:
        style.save = real_save
    assert [ax.get_ylabel() for ax in captured[0].axes] == [
        "P(escalation to armed conflict)", "P(escalation to war)", "P(unresolved at the horizon)"]
    plt.close("all")


ROSTER, BUDGET = "policy.roster_size", "policy.budget_usd_per_year"


def world_sweep_table() -> pd.DataFrame:
    """A world_resources-like table (roster x yearly budget, world outcomes): the lines end close together and
    one ends at the bottom of its panel, which is what pushed the direct labels off their lines before."""
    rows = []
    for roster in (2, 6, 12, 24):
        for k, budget in enumerate((0.0, 25e6, 50e6, 100e6)):
            row = {f"param.{ROSTER}": roster, f"param.{BUDGET}": budget, "scenario": "world", "replicates": 16,
                   "seed": 0, "version": "test", "escalation.probability": 1.0, "escalation.ci_low": 0.8,
                   "escalation.ci_high": 1.0}
            for j, base in enumerate(("world.countries_in_conflict_per_year", "world.crises_waiting_per_day",
                                      "warning_to_envoy_gap_days_all_sites")):
                mean = (35 - 0.3 * roster + 0.1 * k * (roster > 12)) * (1 + 10 * j)
                row |= {f"{base}.mean": mean, f"{base}.ci_low": mean - 1.5, f"{base}.ci_high": mean + 1.5}
            rows.append(row)
    return pd.DataFrame(rows)


def drawn_figure(draw, *args, **kwargs):
    """The figure a drawing function saved (still open), and the renderer it was laid out with."""
    captured = []
    real_save = style.save
    style.save = lambda fig, path, dpi=110: captured.append(fig) or real_save(fig, path, dpi)
    try:
        draw(*args, **kwargs)
    finally:
        style.save = real_save
    from matplotlib.backends.backend_agg import FigureCanvasAgg

    fig = captured[0]
    canvas = FigureCanvasAgg(fig)  # closing the figure after saving left it a canvas that cannot render
    fig.draw_without_rendering()
    return fig, canvas.get_renderer()


def inside(box, outer, tol: float = 0.5) -> bool:
    return (box.x0 >= outer.x0 - tol and box.y0 >= outer.y0 - tol and box.x1 <= outer.x1 + tol
            and box.y1 <= outer.y1 + tol)


def direct_labels(ax) -> list:
    """A panel's end-of-line labels: the annotations that point at a data point (not the lever's heading)."""
    return [t for t in ax.texts if getattr(t, "xycoords", None) == "data"]


def tool_sweep_table() -> pd.DataFrame:
    """Ladder ceilings (categories) x six lags x a site lever with a long name: rotated category ticks, five
    thinned lines and long panel titles beside the lines' heading."""
    rows = []
    for lag in (0, 7, 14, 30, 60, 90):
        for i, tool in enumerate(("statement", "fact_finding", "envoy", "mission", "coercive")):
            for pref in (0.0, 0.5, 1.0):
                est, lo, hi = wilson(round((0.4 - 0.03 * i + 0.0005 * lag + 0.05 * pref) * 1000), 1000)
                rows.append({f"param.{LAG}": lag, "param.policy.tool": tool, f"param.{SITE_PREF}": pref,
                             "escalation.probability": est, "escalation.ci_low": lo, "escalation.ci_high": hi,
                             "war.probability": est / 5, "war.ci_low": lo / 5, "war.ci_high": hi / 5,
                             "scenario": "generic", "replicates": 1000, "seed": 0, "version": "test"})
    return pd.DataFrame(rows)


SITE_PREF = "scenario.sites.A.local_preference"


@pytest.mark.parametrize("case", ["world_resources", "lag_sweep", "tool_ladder"])
def test_curves_text_stays_inside_the_figure_and_labels_sit_by_their_own_lines(tmp_path, case):
    import matplotlib.pyplot as plt
    from matplotlib.text import Text

    if case == "world_resources":
        df, x, groups = world_sweep_table(), ROSTER, [BUDGET]
        title, outcomes = "world_resources (§62-64): the roster and the budget in a world of crises", \
            curves.WORLD_OUTCOMES
    elif case == "lag_sweep":
        df, x, groups = sweep_table(), LAG, [PART, FLEX]
        title, outcomes = "lag_sweep (§47-55): escalation vs warning-to-action lag", curves.OUTCOMES
    else:
        df, x, groups = tool_sweep_table(), "policy.tool", [LAG, SITE_PREF]
        title, outcomes = "early_small_vs_late_large (§47, §56-58): a small early step or a large late one, " \
            "with the parties' preference for indirect talks varied", curves.OUTCOMES
    fig, renderer = drawn_figure(curves.outcome_curves, df, x, groups, tmp_path / "curves", title=title,
                                 outcomes=outcomes)
    page = fig.bbox
    panels = [ax.get_tightbbox(renderer) for ax in fig.axes]  # ticks, axis labels, titles, direct labels
    for box in panels:
        assert inside(box, page), f"a panel's text leaves the figure: {box} not in {page}"
    for text in fig.texts:  # the suptitle and the footer: whole, and clear of every panel
        extent = text.get_window_extent(renderer)
        assert inside(extent, page), f"{text.get_text()!r} is cut at the figure's edge"
        assert not any(extent.overlaps(box) for box in panels), f"{text.get_text()!r} overlaps a panel"
    words = [t for ax in fig.axes for t in (ax.title, *ax.texts) if t.get_visible() and t.get_text()]
    boxes = [Text.get_window_extent(t, renderer) for t in words]  # the words, not the labels' leaders
    for i, a in enumerate(boxes):  # titles, the lines' heading and every direct label: no two overlap
        assert not any(a.overlaps(b) for b in boxes[i + 1:]), words[i].get_text()
    labelled = [ax for ax in fig.axes if direct_labels(ax)]
    assert labelled == [ax for ax in fig.axes if ax.get_subplotspec().is_last_col()]  # none between panels
    for ax in labelled:
        labels = direct_labels(ax)
        extents = [Text.get_window_extent(t, renderer) for t in labels]  # the words, not their leaders
        for i, a in enumerate(extents):  # one panel's labels never overlap each other
            assert not any(a.overlaps(b) for b in extents[i + 1:]), [t.get_text() for t in labels]
        panel = ax.get_window_extent(renderer)
        height = max(e.height for e in extents)
        for label, extent in zip(labels, extents, strict=True):
            end = ax.transData.transform(label.xy)
            # its own line: a line of the label's colour ends at the point the label names
            assert any(line.get_color() == label.get_color()
                       and np.allclose(line.get_xydata()[-1], label.xy, rtol=1e-6) for line in ax.lines)
            assert panel.y0 <= (extent.y0 + extent.y1) / 2 <= panel.y1  # within the panel's own y range
            assert 0 < extent.x0 - end[0] < 40  # just right of the line's last point
            if abs((extent.y0 + extent.y1) / 2 - end[1]) > height / 2:  # moved: a leader shows where from
                assert label.arrow_patch is not None and label.arrow_patch.get_visible()
    plt.close("all")


def test_budget_levels_read_as_money_and_no_cap(tmp_path):
    import matplotlib.pyplot as plt

    assert [style.value_text(BUDGET, v) for v in (0.0, 25e6, 5e7, 1e8, np.int64(0), 1.5e9, 4e5)] == [
        "no cap", "USD 25 m", "USD 50 m", "USD 100 m", "no cap", "USD 1.5 bn", "USD 400,000"]
    assert style.label(BUDGET) == "yearly budget (USD per year)"
    fig, _ = drawn_figure(curves.outcome_curves, world_sweep_table(), ROSTER, [BUDGET], tmp_path / "curves",
                          outcomes=curves.WORLD_OUTCOMES)
    texts = {t.get_text() for t in fig.axes[0].texts}
    assert {"no cap", "USD 25 m", "USD 50 m", "USD 100 m", "yearly budget:"} <= texts
    assert not any("e+0" in t for ax in fig.axes for t in (x.get_text() for x in ax.texts))
    plt.close("all")


def test_spread_labels_stay_within_bounds_and_apart():
    placed = style.spread_labels([28.0, 28.5, 28.6, 28.7], 1.0, lo=27.5, hi=36)
    assert placed == sorted(placed) and min(np.diff(placed)) >= 1.0 - 1e-12 and placed[0] >= 27.5
    squeezed = style.spread_labels([5.0, 5.0, 5.0], 1.0, lo=0.0, hi=1.0)  # no room for the full gap
    assert min(squeezed) >= 0.0 and max(squeezed) <= 1.0 and len(set(squeezed)) == 3
    assert style.spread_labels([1.0, 5.0, 9.0], 0.5, lo=0.0, hi=10.0) == [1.0, 5.0, 9.0]  # no collision: kept


def test_heatmap_text_stays_inside_the_figure(tmp_path):
    import matplotlib.pyplot as plt

    fig, renderer = drawn_figure(curves.heatmap, world_sweep_table(), ROSTER, BUDGET, tmp_path / "heat")
    for ax in fig.axes:
        assert inside(ax.get_tightbbox(renderer), fig.bbox)
    for text in fig.texts:
        assert inside(text.get_window_extent(renderer), fig.bbox), text.get_text()
    assert [t.get_text() for t in fig.axes[0].get_yticklabels()] == ["no cap", "USD 25 m", "USD 50 m", "USD 100 m"]
    plt.close("all")


def test_curve_and_heatmap_readings_quote_the_table(tmp_path):
    df = sweep_table()
    text, rows = curves.curves_reading(df, LAG, [FLEX, PART])
    quoted = numbers(text)
    for row in rows:  # every quoted estimate and interval is the table's, in per cent to one decimal
        for col in ("escalation.probability", "escalation.ci_low", "escalation.ci_high"):
            assert round(100 * row[col], 1) in quoted
    files, cells = curves.heatmap(df, LAG, FLEX, tmp_path / "heat", panel=PART)
    not_blank(files[0])
    merged = cells.merge(df, left_on=["x", "y", "panel"], right_on=[f"param.{LAG}", f"param.{FLEX}", f"param.{PART}"])
    assert len(merged) == len(df) and np.allclose(merged["probability"], merged["escalation.probability"])
    reading = curves.heatmap_reading(cells, LAG, FLEX, PART)
    lo = df.loc[df["escalation.probability"].idxmin()]
    hi = df.loc[df["escalation.probability"].idxmax()]
    assert f"Lowest: {100 * lo['escalation.probability']:.1f} %" in reading
    assert f"highest: {100 * hi['escalation.probability']:.1f} % [{100 * hi['escalation.ci_low']:.1f}" in reading


def test_labels_come_from_the_schema():
    assert style.label(LAG) == "warning-to-action lag (days)"
    assert style.label("policy.roster_size") == "envoy roster (envoys)"
    assert style.label("param.policy.flexibility") == "flexibility (0–1)"
    assert style.name("scenario.sites.A.local_preference") == "local preference for indirect talks in A"
    assert style.twin_label({"intervene": False}) == "twin: no intervention"
    assert style.twin_label({"warning_to_action_lag_days": 90}) == "twin: warning-to-action lag 90 days"



# -- the counterfactual, survival and world figures: text inside, labels apart and by their lines ------------


def assert_text_inside_and_apart(fig, renderer) -> None:
    """Every text of the figure inside it (panels with their ticks, titles and end labels; the suptitle and the
    footer), the free texts clear of the panels, and no two panel texts overlapping (tick labels aside)."""
    from matplotlib.text import Text

    page = fig.bbox
    panels = [ax.get_tightbbox(renderer) for ax in fig.axes]
    for box in panels:
        assert inside(box, page), f"a panel's text leaves the figure: {box} not in {page}"
    for text in fig.texts:
        if not text.get_text():
            continue
        extent = text.get_window_extent(renderer)
        assert inside(extent, page), f"{text.get_text()!r} is cut at the figure's edge"
        assert not any(extent.overlaps(box) for box in panels), f"{text.get_text()!r} overlaps a panel"
    words = [t for ax in fig.axes for t in (ax.title, *ax.texts) if t.get_visible() and t.get_text()]
    boxes = [Text.get_window_extent(t, renderer) for t in words]  # the words, not the labels' leaders
    for i, a in enumerate(boxes):
        clash = [words[j].get_text() for j, b in enumerate(boxes[i + 1:], i + 1) if a.overlaps(b)]
        assert not clash, f"{words[i].get_text()!r} overlaps {clash}"


def assert_every_line_labelled(ax, renderer) -> None:
    """Each drawn series (a line with markers) has an end label of its colour pointing at its last point, just
    right of the panel and within its height; a label moved off its line's level shows its leader."""
    from matplotlib.text import Text

    labels = direct_labels(ax)
    series = [line for line in ax.lines if line.get_marker() not in (None, "None", "")
              and np.isfinite(line.get_xydata()[:, 1]).any()]
    assert series and len(labels) == len(series), (len(labels), len(series))
    panel = ax.get_window_extent(renderer)
    for line in series:
        xy = line.get_xydata()
        last = xy[np.isfinite(xy[:, 1])][-1]
        mine = [t for t in labels if t.get_color() == line.get_color() and np.allclose(t.xy, last, rtol=1e-9)]
        assert mine, f"the line ending at {last} has no label"
    for label in labels:
        extent = Text.get_window_extent(label, renderer)
        end = ax.transData.transform(label.xy)
        assert panel.y0 <= (extent.y0 + extent.y1) / 2 <= panel.y1
        assert 0 < extent.x0 - panel.x1 < 40
        if abs((extent.y0 + extent.y1) / 2 - end[1]) > extent.height / 2:
            assert label.arrow_patch is not None and label.arrow_patch.get_visible()


PLAIN_NUMBER = re.compile(r"^\d{1,3}(,\d{3})*(\.\d+)?$")


def test_counterfactual_sweep_figure_reads_plainly(tmp_path):
    """Plain-number ticks on the cost panel's log axis (not 2×10²), a label on every line (the dashed war cost
    lines and the dotted induced ones had none), the lever's heading just above its labels, all text inside."""
    import matplotlib.pyplot as plt
    from matplotlib.text import Text

    from sim.analysis import counterfactual

    fig, renderer = drawn_figure(counterfactual.sweep_figure, sweep_table(), LAG, [PART, FLEX], tmp_path / "cf")
    left, right = fig.axes
    assert right.get_yscale() == "log"
    lo, hi = right.get_ylim()
    shown = [t.get_text() for t in right.yaxis.get_ticklabels(which="both")
             if t.get_visible() and t.get_text() and lo <= t.get_position()[1] <= hi]
    assert len(shown) >= 3 and all(PLAIN_NUMBER.match(t) for t in shown), shown
    assert_text_inside_and_apart(fig, renderer)
    for ax in (left, right):
        assert_every_line_labelled(ax, renderer)
        texts = [t.get_text() for t in direct_labels(ax)]
        assert len(set(texts)) == len(texts)  # level and what the line shows: no two alike
        heading = next(t for t in ax.texts if t.get_text() == "partnership:")
        top = max((Text.get_window_extent(t, renderer) for t in direct_labels(ax)), key=lambda b: b.y1)
        box = heading.get_window_extent(renderer)
        assert 0 <= box.y0 - top.y1 < top.height and box.x0 > ax.get_window_extent(renderer).x1  # just above
    assert {"0.1 war averted", "0.9 diplomacy"} <= {t.get_text() for t in direct_labels(right)}
    assert {"0.1 induced", "0.9 net prevented"} <= {t.get_text() for t in direct_labels(left)}
    plt.close("all")


def test_counterfactual_run_figure_keeps_intervals_and_text_inside(tmp_path):
    import matplotlib.pyplot as plt

    from sim.analysis import counterfactual

    rng = np.random.default_rng(1)
    n = 400
    twin_esc = rng.random(n) < 0.3
    esc = twin_esc & (rng.random(n) < 0.6)
    twin = pd.DataFrame({"escalated": twin_esc, "war": twin_esc & (rng.random(n) < 0.3),
                         "diplomacy_cost": np.zeros(n), "war_cost": np.where(twin_esc, 4e8, 0.0)})
    policy = pd.DataFrame({"escalated": esc, "war": esc & (rng.random(n) < 0.3),
                           "diplomacy_cost": np.full(n, 2e6), "war_cost": np.where(esc, 4e8, 0.0)})
    run = SimpleNamespace(outcomes=policy, twin=twin, twin_policy={"intervene": False}, summary={"seed": 0},
                          provenance=lambda: {"scenario": "generic", "replicates": n, "seed": 0})
    (fig, renderer) = drawn_figure(lambda *a: counterfactual.run_figure(*a)[0], run, tmp_path / "cf")
    assert_text_inside_and_apart(fig, renderer)
    costs = fig.axes[1]
    _, right = costs.get_xlim()
    caps = [line.get_xydata()[:, 0].max() for line in costs.lines if len(line.get_xydata())]
    assert caps and max(caps) <= right  # the intervals' right ends inside the panel
    if costs.get_xscale() == "log":
        shown = [t.get_text() for t in costs.xaxis.get_ticklabels(which="both") if t.get_visible() and t.get_text()]
        assert all(PLAIN_NUMBER.match(t.replace(".", "", 1) if t.startswith("0.") else t) for t in shown), shown
    plt.close("all")


def test_survival_labels_apart_by_their_curves_and_inside(tmp_path):
    """Three curves that end close together and a reference: the two-line labels touched before."""
    import matplotlib.pyplot as plt

    from sim.analysis.survival import survival_figure

    rng = np.random.default_rng(2)

    def days(p: float) -> np.ndarray:
        return np.where(rng.random(1000) < p, rng.integers(1, 365, 1000), np.nan)

    groups = {"warning-to-action lag 0 days": days(0.30), "warning-to-action lag 30 days": days(0.34),
              "warning-to-action lag 180 days": days(0.45), "twin: no intervention": days(0.46)}
    fig, renderer = drawn_figure(lambda *a, **k: survival_figure(*a, **k)[0], groups, 365, tmp_path / "s",
                                 provenance={"scenario": "generic", "replicates": 1000, "seed": 0},
                                 reference="twin: no intervention",
                                 title="Time to escalation (Kaplan–Meier, 95 % bands); partnership 0.5, "
                                       "flexibility 0.5, and a lever with a long name held at its middle level")
    assert_text_inside_and_apart(fig, renderer)
    (ax,) = fig.axes
    labels = direct_labels(ax)
    assert len(labels) == 4
    for label in labels:  # at the end of a step curve of its colour
        assert any(line.get_color() == label.get_color() and np.isclose(line.get_xydata()[-1, 1], label.xy[1])
                   for line in ax.lines)
    plt.close("all")


def test_world_figure_text_inside_and_labels_apart(tmp_path):
    import matplotlib.pyplot as plt

    from sim.analysis import world
    from sim.years import STATES

    rng = np.random.default_rng(4)
    codes = rng.choice(3, size=(6, 8, 21), p=(0.7, 0.2, 0.1))  # worlds x countries x years
    table = pd.DataFrame([{"world": w, "site": f"C{s}", "year": y, "state": STATES[codes[w, s, y]], "days": 365}
                          for w in range(6) for s in range(8) for y in range(21)])
    table["state"] = pd.Categorical(table["state"], categories=list(STATES), ordered=True)
    fig, renderer = drawn_figure(world.world_figure, table, tmp_path / "world.png")
    assert_text_inside_and_apart(fig, renderer)
    per_year, onsets = fig.axes
    labels = direct_labels(per_year)
    assert {t.get_text() for t in labels} == {"model: in conflict", "UCDP: in conflict", "model: at war",
                                              "UCDP: at war"}
    years = [int(t.get_text().replace("\N{MINUS SIGN}", "-")) for t in per_year.xaxis.get_ticklabels()
             if t.get_text() and per_year.get_xlim()[0] <= t.get_position()[0] <= per_year.get_xlim()[1]]
    assert years[0] == 1990 and all(y % 5 == 0 for y in years)  # not 1989, 1992, ...
    handles, names = onsets.get_legend_handles_labels()
    ucdp = [h.lines[0].get_marker() for h, n in zip(handles, names, strict=True) if n.startswith("UCDP")]
    assert len(set(ucdp)) == 2  # the record's two series told apart in the legend
    legend = onsets.get_legend().get_window_extent(renderer)
    assert legend.y1 <= onsets.get_window_extent(renderer).y0  # under the panel, clear of the error bars
    plt.close("all")

# -- survival --------------------------------------------------------------------------------------------


def test_kaplan_meier_and_rmst_against_hand_computed_values():
    from sim.analysis.survival import kaplan_meier, rmst, survival_at

    days = np.array([1, 2, np.nan, 3, np.nan])  # two worlds never escalate: censored at the horizon (5)
    f = kaplan_meier(days, horizon=5)
    s = f.survival_function_.iloc[:, 0]
    assert np.allclose([s[1.0], s[2.0], s[3.0]], [0.8, 0.6, 0.4])
    # exponential Greenwood band at t = 1: S^exp(+-z sqrt(V)), V = sum d/(n(n-d)) / log(S)^2
    v = (1 / (5 * 4)) / math.log(0.8) ** 2
    z = 1.959963984540054
    at1 = survival_at(f, 1)
    assert at1["ci_low"] == pytest.approx(0.8 ** math.exp(z * math.sqrt(v)), rel=1e-6)
    assert at1["ci_high"] == pytest.approx(0.8 ** math.exp(-z * math.sqrt(v)), rel=1e-6)
    m = rmst(f, 5)  # area: 1 + 0.8 + 0.6 + 0.4 * 2
    assert m["days"] == pytest.approx(3.2)
    # variance: sum over event times of A_i^2 d_i / (n_i (n_i - d_i)), A_i = area from t_i to the horizon
    var = 2.2 ** 2 / (5 * 4) + 1.4 ** 2 / (4 * 3) + 0.8 ** 2 / (3 * 2)
    assert m["se"] == pytest.approx(math.sqrt(var))
    assert m["ci_low"] == pytest.approx(3.2 - z * math.sqrt(var))


def test_rmst_without_censoring_is_the_mean_restricted_time():
    from sim.analysis.survival import kaplan_meier, rmst

    rng = np.random.default_rng(3)
    days = np.where(rng.random(2000) < 0.4, rng.integers(0, 365, 2000), np.nan)
    t = np.where(np.isnan(days), 365, days)
    m = rmst(kaplan_meier(days, 365), 365)
    assert m["days"] == pytest.approx(t.mean())
    assert m["se"] == pytest.approx(t.std() / math.sqrt(t.size), rel=0.01)


# -- sensitivity: the Ishigami function ------------------------------------------------------------------


def ishigami(x: np.ndarray, a: float = 7.0, b: float = 0.1) -> np.ndarray:
    return np.sin(x[:, 0]) + a * np.sin(x[:, 1]) ** 2 + b * x[:, 2] ** 4 * np.sin(x[:, 0])


@pytest.fixture(scope="module")
def ishigami_levers():
    return [{"key": f"x{i}", "low": -math.pi, "high": math.pi} for i in (1, 2, 3)]


def test_sobol_recovers_ishigami(ishigami_levers):
    from SALib.sample import sobol as sampler

    from sim.analysis.sensitivity import problem, sobol

    x = sampler.sample(problem(ishigami_levers), 1024, calc_second_order=False, seed=1)
    idx = sobol(ishigami_levers, ishigami(x), seed=1).set_index("lever")
    # Known answers (a = 7, b = 0.1): S1 = 0.314, 0.442, 0; ST = 0.558, 0.442, 0.244
    assert idx.loc["x1", "S1"] == pytest.approx(0.314, abs=0.06)
    assert idx.loc["x2", "S1"] == pytest.approx(0.442, abs=0.06)
    assert abs(idx.loc["x3", "S1"]) < 0.05
    assert idx.loc["x3", "ST"] == pytest.approx(0.244, abs=0.06) and idx.loc["x3", "ST_conf"] < idx.loc["x3", "ST"]
    assert list(idx.index[:1]) == ["x1"]  # ranked by ST: x1 (through its interaction with x3) first
    # with a smaller a the first-order order is x1 > x2 > x3 ~ 0
    idx5 = sobol(ishigami_levers, ishigami(x, a=5.0), seed=1).set_index("lever")
    assert idx5.loc["x1", "S1"] > idx5.loc["x2", "S1"] > abs(idx5.loc["x3", "S1"])


def test_sensitivity_of_a_design_sweep_directory(tmp_path, ishigami_levers):
    from SALib.sample import sobol as sampler

    from sim.analysis import sensitivity
    from sim.analysis.sensitivity import problem

    x = sampler.sample(problem(ishigami_levers), 256, calc_second_order=False, seed=2)
    y = (ishigami(x) + 10) / 40  # a probability-like outcome
    d = tmp_path / "design"
    d.mkdir()
    points = [{"index": i, "config_hash": f"h{i}", "values": dict(zip(["x1", "x2", "x3"], row, strict=True))}
              for i, row in enumerate(x)]
    (d / "sweep.json").write_text(json.dumps({"swept": ["x1", "x2", "x3"], "design": "sobol", "levers": ishigami_levers,
                                              "points": points, "design_seed": 2}))
    pd.DataFrame({"point": range(len(y)), "config_hash": [p["config_hash"] for p in points],
                  "escalation.probability": y, "param.x1": x[:, 0]}).to_parquet(d / "results.parquet")
    method, idx = sensitivity.analyse_sweep(load_sweep(d))
    assert method == "sobol" and idx["lever"].iloc[0] == "x1"
    text = sensitivity.reading(method, idx)
    assert f"ST {idx['ST'].iloc[0]:.2f} ± {idx['ST_conf'].iloc[0]:.2f}" in text
    files = sensitivity.figure(method, idx, tmp_path / "sens")
    not_blank(files[0])


def test_morris_ranks_a_linear_function():
    from SALib.sample import morris as sampler

    from sim.analysis.sensitivity import morris, problem

    levers = [{"key": k, "low": 0, "high": 1} for k in ("a", "b", "c")]
    x = sampler.sample(problem(levers), 30, num_levels=4, seed=0)
    idx = morris(levers, x, 3 * x[:, 0] + x[:, 1], num_levels=4)
    assert list(idx["lever"]) == ["a", "b", "c"]
    assert idx["mu_star"].iloc[0] == pytest.approx(3) and idx["mu_star"].iloc[2] == pytest.approx(0)


# -- scenario discovery ----------------------------------------------------------------------------------


def test_prim_finds_a_planted_box(tmp_path):
    from sim.analysis import discovery

    rng = np.random.default_rng(1)
    n = 800
    t = pd.DataFrame({f"param.{LAG}": rng.integers(0, 181, n), f"param.{PART}": rng.uniform(0, 1, n),
                      f"param.{FLEX}": rng.uniform(0, 1, n)})
    inside = (t[f"param.{LAG}"] <= 40) & (t[f"param.{PART}"] >= 0.6)
    t["escalation.probability"] = np.where(inside, rng.uniform(0, 0.09, n), rng.uniform(0.11, 0.5, n))
    box, text = discovery.discover(t, [LAG, PART, FLEX], below=0.10)
    assert set(box.limits) == {LAG, PART}  # flexibility plays no part
    assert 30 <= box.limits[LAG][1] <= 45 and 0.55 <= box.limits[PART][0] <= 0.67
    assert box.coverage > 0.8 and box.density > 0.8
    assert text.startswith(f"warning-to-action lag ≤ {box.limits[LAG][1]} days and partnership ≥ ")
    assert f"{100 * box.density:.0f} % of points in the box" in text
    assert f"{100 * box.coverage:.0f} % of all such points (coverage)" in text
    files = discovery.figure(t, [LAG, PART, FLEX], box, text, tmp_path / "prim")
    not_blank(files[0])


# -- counterfactual evidence -----------------------------------------------------------------------------


def test_prevented_and_induced_are_paired_counts():
    from sim.analysis.counterfactual import caption, evidence

    rng = np.random.default_rng(0)
    n = 1000
    twin = rng.random(n) < 0.4
    policy = twin & (rng.random(n) < 0.5) | (~twin & (rng.random(n) < 0.02))
    o = {"escalated": policy, "war": policy & (rng.random(n) < 0.3), "diplomacy_cost": np.full(n, 2e6),
         "war_cost": policy * 3e8}
    t = {"escalated": twin, "war": twin & (rng.random(n) < 0.3), "diplomacy_cost": np.zeros(n), "war_cost": twin * 3e8}
    ev = evidence(o, t)
    e = ev["escalation"]
    assert e["prevented"]["worlds"] == int((twin & ~policy).sum())
    assert e["induced"]["worlds"] == int((policy & ~twin).sum())
    ref = paired_difference(twin, policy)
    assert e["net"]["per_100"] == pytest.approx(100 * ref["estimate"])
    assert e["net"]["ci_low"] == pytest.approx(100 * ref["ci_low"])
    net_worlds = e["prevented"]["worlds"] - e["induced"]["worlds"]
    c = ev["cost_per_escalation_prevented_usd"]
    assert c["estimate"] == pytest.approx(2e6 * n / net_worlds)
    assert c["ci_low"] < c["estimate"] < c["ci_high"]
    assert ev["war_cost_averted_per_escalation_prevented_usd"]["estimate"] == pytest.approx(3e8)
    text = caption(ev, "twin: no intervention")
    for v in (e["prevented"]["per_100"], e["prevented"]["ci_low"], e["induced"]["per_100"], e["net"]["ci_high"]):
        assert round(v, 1) in numbers(text)
    assert f"USD {c['estimate'] / 1e6:,.2f} million" in text and "twin (no intervention)" in text


# -- reports ---------------------------------------------------------------------------------------------


def test_sweep_report_numbers_equal_the_table(sweep_dir):
    from sim.analysis.report import build

    rep = build(sweep_dir, handout=True)
    titles = [s.title for s in rep.sections]
    assert titles[0].startswith("Outcome curves") and any(t.startswith("Heatmap") for t in titles)
    assert any(t.startswith("Counterfactual") for t in titles)
    assert any(t.startswith("Scenario discovery") for t in titles)
    for s in rep.sections:
        not_blank(next(f for f in s.files if f.suffix == ".png"))
        assert any(f.suffix == ".pdf" for f in s.files)
    md = (sweep_dir / "report" / "report.md").read_text()
    df = sweep_table()
    # the counterfactual reading at the lowest lag, middle flexibility and partnership
    row = df[(df[f"param.{LAG}"] == 0) & (df[f"param.{FLEX}"] == 0.5) & (df[f"param.{PART}"] == 0.5)].iloc[0]
    assert f"{row['counterfactual.prevented.estimate']:.1f} escalations prevented per 100 crises" in md
    induced = 100 * np.array(wilson(int(row["counterfactual.prevented.worlds_induced"]), 400))
    assert f"{induced[0]:.1f} induced [{induced[1]:.1f}, {induced[2]:.1f}]" in md
    assert "pdsim -m +experiment=lag_sweep" in md or "pdsim -m" in md
    assert "not a forecast" in md
    pdf = (sweep_dir / "report" / "handout.pdf").read_bytes()
    assert 3 <= pdf.count(b"/Type /Page\n") + pdf.count(b"/Type /Page ") + pdf.count(b"/Type /Page>") <= 6


@pytest.fixture(scope="module")
def small_run(tmp_path_factory):
    from sim.runner import configure, run

    result = run(configure("replicates=200", "horizon_days=120"))
    d = tmp_path_factory.mktemp("run")
    result.save(d)
    return result, d


def test_run_report_numbers_equal_the_summary(small_run):
    from sim.analysis.report import build

    result, d = small_run
    rep = build(d, handout=True)
    assert len(rep.sections) == 3
    for s in rep.sections:
        not_blank(next(f for f in s.files if f.suffix == ".png"))
    md = (d / "report" / "report.md").read_text()
    esc = json.loads((d / "summary.json").read_text())["escalation"]
    assert (f"{100 * esc['probability']:.1f} % of worlds [{100 * esc['ci_low']:.1f}, {100 * esc['ci_high']:.1f}]"
            in md)
    summary = json.loads((d / "summary.json").read_text())
    if summary.get("unresolved"):  # the "unresolved at the horizon" outcome, when the model reports it
        u = summary["unresolved"]
        assert f"{100 * u['probability']:.1f} % [{100 * u['ci_low']:.1f}, {100 * u['ci_high']:.1f}]" in md
    drawn = (summary["config"].get("uncertainty") or {}).get("enabled")  # per-world parameter sets?
    assert ("Parameter uncertainty is included" if drawn else "Intervals cover chance (simulation noise) only") in md
    ev = rep.sections[1].numbers["evidence"]
    cf = result.summary()["counterfactual"]["prevented"]
    assert ev["escalation"]["prevented"]["worlds"] == cf["worlds_prevented"]
    table = rep.sections[2].numbers["table"]
    assert f"restricted mean time to escalation {table['rmst_days'].iloc[0]:.0f} days" in md
    assert int(table["escalated"].iloc[0]) == int(result.outcomes["escalated"].sum())
    assert (d / "report" / "handout.pdf").stat().st_size > 10_000


def test_tension_plot_names_the_policy_twin(tmp_path, monkeypatch):
    import matplotlib.pyplot as plt

    from sim import plots
    from sim.runner import configure, run

    result = run(configure("replicates=50", "horizon_days=60",
                           "counterfactual.policy.warning_to_action_lag_days=90"))
    figs = []
    monkeypatch.setattr(plots.plt, "close", lambda fig=None: figs.append(fig))
    path = plots.tension_plot(result, tmp_path / "tension.png")
    not_blank(path)
    texts = [t.get_text() for ax in figs[0].axes if ax.get_legend() for t in ax.get_legend().get_texts()]
    assert any("twin: warning-to-action lag 90 days" in t for t in texts)
    assert not any("counterfactual twin" in t for t in texts)
    plt.close("all")


def test_compare_runs_policies_on_the_same_worlds(tmp_path):
    from sim.analysis import compare

    arms = [compare.parse_arm("default", "policy"), compare.parse_arm("slow:warning_to_action_lag_days=120", "policy")]
    assert arms[1] == ("slow", ["policy.warning_to_action_lag_days=120"])
    runs = compare.run_arms(arms, ["replicates=150", "horizon_days=90"], progress=lambda m: None)
    table = compare.compare_table(runs, paired=True)
    ref = paired_difference(runs[1].outcomes["escalated"], runs[0].outcomes["escalated"])
    assert table["diff_vs_first_pp"].iloc[1] == pytest.approx(100 * ref["estimate"])
    assert table["diff_low"].iloc[1] == pytest.approx(100 * ref["ci_low"])
    assert (table["twin"] == "twin: no intervention").all()
    files = compare.figures(runs, table, tmp_path, paired=True)
    assert len(files) == 6
    for f in files[::2]:
        not_blank(f)
    lines = compare.reading(table, paired=True)
    assert lines[0].startswith(f"default: escalation {table['escalation_pct'].iloc[0]:.1f} % "
                               f"[{table['escalation_low'].iloc[0]:.1f}, {table['escalation_high'].iloc[0]:.1f}]")
    assert f"{abs(table['diff_vs_first_pp'].iloc[1]):.1f} points" in lines[1]
    assert f"[{table['diff_low'].iloc[1]:+.1f}, {table['diff_high'].iloc[1]:+.1f}]" in lines[1]
    pdf = compare.write_handout(runs, table, True, "pdsim-compare ...", files, tmp_path / "handout.pdf")
    assert pdf.stat().st_size > 10_000


@pytest.mark.parametrize(("argv", "message"), [
    (["/nonexistent/dir"], "is not a directory"),
    (["{tmp}"], "holds neither results.parquet"),
    (["{tmp}", "--below", "150"], "--below = 150.0 is out of range"),
])
def test_report_refuses_bad_input(tmp_path, capsys, argv, message):
    from sim.analysis.report import main

    assert main([a.format(tmp=tmp_path) for a in argv]) == 2
    err = capsys.readouterr().err
    assert message in err and "Traceback" not in err


def test_compare_refuses_bad_input(capsys):
    from sim.analysis.compare import main

    assert main(["--policies", "default", "atlantis", "replicates=10"]) == 2
    assert "'atlantis' is not a policy preset: choose one of" in capsys.readouterr().err
    assert main(["--scenarios", "generic", "atlantis"]) == 2
    assert "'atlantis' is not a scenario preset" in capsys.readouterr().err
    assert main(["--policies", "default", "rapid", "policy.flexibility=1.7", "replicates=10"]) == 2
    assert "policy.flexibility = 1.7 is out of range" in capsys.readouterr().err


def test_sweep_curves_png_is_the_analysis_figure(sweep_dir):
    from sim.sweep.curves import draw_for_sweep

    files = draw_for_sweep(sweep_dir, load_sweep(sweep_dir).table)
    assert [f.name for f in files] == ["curves.png"]
    not_blank(files[0])
    assert (sweep_dir / "curves.pdf").exists()


def test_load_run_reads_the_files(small_run):
    result, d = small_run
    run = load_run(d)
    assert len(run.outcomes) == 200 and run.twin is not None and run.twin_policy == {"intervene": False}
    assert run.horizon == 120


# -- the story -------------------------------------------------------------------------------------------


def fake_model(events, *, escalated_day=None):
    from sim.agents import NEVER
    from sim.events import EventLog

    log = EventLog(True, 1)
    for day, kind, site, actor, value in events:
        mask = np.zeros((2, 1), dtype=bool)
        mask[site, 0] = True
        log.record(day, kind, mask, actor, value)
    esc = np.array([NEVER if escalated_day is None else escalated_day])
    return SimpleNamespace(
        sites=[SimpleNamespace(name="A"), SimpleNamespace(name="B")], events=log, replicates=1, horizon=365,
        first_escalation=esc, first_war=np.array([NEVER]), phase=np.array([[1], [0]]),
        site_escalated=np.array([[escalated_day is not None], [False]]),
        config=SimpleNamespace(scenario=SimpleNamespace(name="generic"),
                               counterfactual=SimpleNamespace(policy={})),
    )


def test_story_folds_flickers_drops_duplicates_and_says_how_it_ended():
    from sim.events import EventKind
    from sim.story import story

    model = fake_model([
        (5, EventKind.TRIGGER, 0, 0, None),
        (5, EventKind.PHASE_UP, 0, 0, 1),
        (10, EventKind.PHASE_UP, 0, 0, 2), (12, EventKind.PHASE_DOWN, 0, 0, 1),  # a flicker into crisis
        (20, EventKind.WARNING, 0, 1, 2.1),
        (34, EventKind.FIRST_STEP, 0, 1, 20),
        (40, EventKind.RUNG, 0, 2, 1),
        (60, EventKind.RESOLVED, 0, 1, None), (60, EventKind.RESOLVED, 0, 2, None),  # same moment, twice
    ])
    text = story(model, 0)
    lines = text.splitlines()
    assert lines[0].startswith("World 0 of 1 (generic, 365 days): No escalation")
    assert len(lines) == len(set(lines))
    assert sum("critical moment passes" in ln for ln in lines) == 1
    assert any("day    5: Country A escalates to dispute" in ln for ln in lines)
    assert any("days 10–12: Country A briefly reaches crisis, back to dispute" in ln for ln in lines)  # one line
    assert not any("escalates to crisis" in ln for ln in lines)
    assert any("the regional organisation steps up to a fact-finding mission" in ln.lower() for ln in lines)
    assert any("The UN takes its first step on country A, a statement of concern, 14 days after" in ln for ln in lines)
    assert "_" not in text  # no raw names such as armed_conflict or fact_finding


def test_story_names_kinds_it_does_not_know():
    from sim.story import sentence

    event = SimpleNamespace(kind=SimpleNamespace(name="CEASEFIRE_TALKS"), actor=1, value=0.0, day=3, site=0)
    assert sentence(event, "country A") == "ceasefire talks in country A (the UN)"


def test_story_of_a_real_world_with_its_twin(small_run):
    from sim.story import story

    result, _ = small_run
    o, t = result.outcomes, result.twin_outcomes
    prevented = np.flatnonzero(t["escalated"] & ~o["escalated"])
    world = int(prevented[0]) if prevented.size else 0
    text = story(result.model, world, twin=result.twin_model)
    assert text.splitlines()[0].startswith(f"World {world} of 200")
    assert "Its twin (no intervention; same random numbers)" in text
    if prevented.size:
        assert text.rstrip().endswith("The policy prevented this escalation.")
    for part in text.split("\n\n")[:2]:
        body = part.splitlines()
        assert len(body) == len(set(body))
    with pytest.raises(ValueError, match="world = 999 is out of range"):
        story(result.model, 999)


FORK_SCRIPT = r"""
import os, sys, threading
from pathlib import Path
import matplotlib.pyplot as plt
from sim.analysis import style

out = Path(sys.argv[1])
forks = []
fork = os.fork
def counted_fork():
    forks.append(1)
    return fork()
os.fork = counted_fork

def figure():
    fig, ax = plt.subplots(figsize=(3, 2))
    ax.plot([0, 1, 2], [0.1, 0.3, 0.2], label="a line")
    ax.set_title("P(escalation) 0-30 %")
    ax.legend()
    return fig

main = os.getpid()
style.save(figure(), out / "forked")
print("forked", len(forks))

hold = threading.Event()
other = threading.Thread(target=hold.wait)
other.start()
style.save(figure(), out / "here")  # another thread runs: no fork
hold.set(); other.join()
print("with a thread", len(forks))

fig = figure()
savefig = fig.savefig
def fails_in_the_copy(*args, **kwargs):
    if os.getpid() != main:
        raise OSError("disk full")
    return savefig(*args, **kwargs)
fig.savefig = fails_in_the_copy
style.save(fig, out / "again")
print("failed copy", len(forks))
"""


@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="figures are forked on Linux only")
def test_the_pdf_is_drawn_in_a_fork_with_the_same_bytes(tmp_path):
    """style.save draws the PDF in a forked copy while it draws the PNG: exactly when no other Python thread runs,
    to the same bytes as drawn in this process, and drawn again here when the copy fails. Run in a fresh process:
    under pytest-xdist a test process has threads of its own, and no figure is forked there."""
    env = dict(os.environ, SOURCE_DATE_EPOCH="0")  # no creation date in the PDF: comparable bytes
    done = subprocess.run([sys.executable, "-c", FORK_SCRIPT, str(tmp_path)], capture_output=True, text=True,
                          env=env, timeout=300)
    assert done.returncode == 0, done.stderr
    assert done.stdout.split("\n")[:3] == ["forked 1", "with a thread 1", "failed copy 2"]
    pdfs = {stem: (tmp_path / f"{stem}.pdf").read_bytes() for stem in ("forked", "here", "again")}
    assert pdfs["forked"] == pdfs["here"] == pdfs["again"]
    assert pdfs["forked"].startswith(b"%PDF") and pdfs["forked"].rstrip().endswith(b"%%EOF")
    for stem in ("forked", "here", "again"):
        assert mpimg.imread(tmp_path / f"{stem}.png").shape[:2] == (220, 330)  # 3 x 2 in at 110 dpi
