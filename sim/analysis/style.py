"""One look for every figure: a colour-blind-safe palette (Okabe & Ito 2008) that also reads in grey
(each series has its own line style and marker), human labels with units from the schema, a footer
with scenario / R / seed / version, and PNG + PDF side by side."""

from __future__ import annotations

import logging
import math
import os
import sys
import threading
import warnings
from pathlib import Path
from typing import Any

import matplotlib

matplotlib.use("Agg")  # files only
import matplotlib.pyplot as plt  # noqa: E402

from sim import __version__  # noqa: E402
from sim.analysis.labels import (  # noqa: E402, F401 -- the figures' labels, re-exported
    NAMES,
    SITE_NAMES,
    UNIT_TEXT,
    describe_policy,
    label,
    name,
    twin_label,
    twin_phrase,
    unit,
    value_text,
)

#: Okabe-Ito: blue, vermillion, bluish green, orange, reddish purple, sky blue, yellow, black.
OKABE_ITO = ("#0072B2", "#D55E00", "#009E73", "#E69F00", "#CC79A7", "#56B4E9", "#F0E442", "#000000")
LINE_STYLES = ("-", "--", "-.", ":", (0, (5, 1, 1, 1, 1, 1)), (0, (1, 3)))
MARKERS = ("o", "s", "^", "D", "v", "P", "X", "*")
#: The no-intervention twin (or any reference) is always drawn in black, dotted.
REFERENCE = "#000000"
NOT_A_FORECAST = "Stylised teaching model, not a forecast."

#: matplotlib settings of every figure, applied per figure (``@styled``), never to the global state.
RC = {
    "figure.dpi": 100,
    "axes.spines.top": False,
    "axes.spines.right": False,
    "axes.grid": True,
    "grid.alpha": 0.25,
    "font.size": 9,
    "axes.titlesize": 10,
    "legend.frameon": False,
    "pdf.fonttype": 42,
}


def styled(func):
    """Draw (and save) the figure of ``func`` under the package's look, leaving matplotlib's defaults alone."""
    import functools

    @functools.wraps(func)
    def wrapper(*args, **kwargs):
        with matplotlib.rc_context(RC):
            return func(*args, **kwargs)

    return wrapper


def series_style(i: int) -> dict[str, Any]:
    """Colour, line style and marker of the i-th series: distinguishable in colour and in grey."""
    return {"color": OKABE_ITO[i % len(OKABE_ITO)], "ls": LINE_STYLES[i % len(LINE_STYLES)],
            "marker": MARKERS[i % len(MARKERS)]}


def pct(p: float | None, digits: int = 1) -> str:
    return "–" if p is None or (isinstance(p, float) and math.isnan(p)) else f"{100 * p:.{digits}f} %"


def footer(fig, *, scenario: Any = "?", replicates: Any = "?", seed: Any = "?", extra: str = "",
           version: str = __version__):
    """The provenance line every figure carries (returned, so that a figure can fit it to its width)."""
    r = f"{replicates:,}" if isinstance(replicates, int) else str(replicates)
    text = f"scenario {scenario} · R = {r} worlds · seed {seed} · pdsim {version}"
    text += f" · {extra}" if extra else ""
    return fig.text(0.01, 0.008, f"{text}\n{NOT_A_FORECAST}", fontsize=6.5, color="#555555", va="bottom")


def wrap_to_width(text, width_px: float) -> None:
    """Break a text artist at spaces so that no line is wider than ``width_px`` (display pixels).

    matplotlib neither wraps a title to the figure nor lets the layout engines see ``wrap=True`` text, so a
    long suptitle or footer is cut at the figure's edges; measured lines are."""
    renderer = text.get_figure(root=True).canvas.get_renderer()
    lines = []
    for paragraph in text.get_text().split("\n"):
        line = ""
        for word in paragraph.split(" "):
            trial = f"{line} {word}" if line else word
            text.set_text(trial)
            if line and text.get_window_extent(renderer).width > width_px:
                lines.append(line)
                line = word
            else:
                line = trial
        lines.append(line)
    text.set_text("\n".join(lines))


def wrap_title(ax) -> None:
    """Wrap a panel's title to the room its panel takes, tick and axis labels included (a title is centred on
    the plotting area, so the narrower side counts twice): it ran into the next panel's title."""
    renderer = ax.get_figure(root=True).canvas.get_renderer()
    title = ax.title
    title.set_visible(False)  # the room without the title itself
    room = ax.get_tightbbox(renderer)
    title.set_visible(True)
    centre = (ax.bbox.x0 + ax.bbox.x1) / 2
    wrap_to_width(title, 2 * min(centre - room.x0, room.x1 - centre))


# Saving a PDF subsets its fonts with fontTools, which logs every glyph at INFO: noise in a run's console (Hydra
# shows INFO), so keep it to warnings.
logging.getLogger("fontTools").setLevel(logging.WARNING)


#: Resolution of the PNGs. A figure laid out to the edge of its page is laid out at this resolution: text is not
#: exactly proportional to it (hinting), and a label that fit at 100 dpi was cut at 110.
SAVE_DPI = 110


def fit_footer(fig, foot, right: float = 0.99) -> None:
    """Wrap the footer to the figure's width and lay the panels out above it, clear of the page's right edge
    by a sliver (``right``) for the PDF's text metrics (a constrained layout makes room for a suptitle, not
    for free figure text)."""
    wrap_to_width(foot, 0.98 * fig.bbox.width)
    top_of_footer = foot.get_window_extent(fig.canvas.get_renderer()).y1 / fig.bbox.height
    fig.get_layout_engine().set(rect=(0, top_of_footer + 0.005, right, 1 - top_of_footer - 0.005))


def keep_clear_of_edges(fig, right: float = 0.99) -> None:
    """Leave a sliver of page right of a constrained layout, for the PDF's text metrics, which differ a
    little from the PNG's."""
    engine = fig.get_layout_engine()
    x0, y0, _, height = engine.get()["rect"]
    engine.set(rect=(x0, y0, right - x0, height))


def save(fig, path: str | Path, dpi: int = SAVE_DPI) -> list[Path]:
    """Write the figure as PNG and PDF (same stem); return both paths and close the figure.

    Each format is a whole draw (about 0.25 s for the PNG and 0.33 s for the PDF of a sweep's curves, fonts
    subset included), so the PDF is drawn by a forked copy of this process while this one draws the PNG, where
    forking is safe (:func:`in_a_fork`); if the copy fails, this process draws the PDF itself."""
    path = Path(path).with_suffix(".png")
    pdf = path.with_suffix(".pdf")
    path.parent.mkdir(parents=True, exist_ok=True)
    copy = in_a_fork(lambda: fig.savefig(pdf))
    try:
        fig.savefig(path, dpi=dpi)
    finally:
        done = copy is not None and succeeded(copy)
    if not done:
        fig.savefig(pdf)
    plt.close(fig)
    return [path, pdf]


def in_a_fork(task) -> int | None:
    """Run ``task`` in a forked copy of this process and return the copy's pid (see :func:`succeeded`); None,
    having done nothing, where that is not safe: off Linux (Windows has no fork; macOS's system libraries are not
    fork-safe, which is why Python spawns its processes there), or while another Python thread runs (a fork copies
    only the calling thread; a lock another thread held would stay locked in the copy; a sweep ends its workers'
    threads before it draws). The native thread pools of BLAS and Arrow are fork-aware. The copy exits without
    Python's exit handlers, so it flushes and deletes nothing of this process's."""
    if not sys.platform.startswith("linux") or threading.active_count() > 1:
        return None
    sys.stdout.flush()
    sys.stderr.flush()
    with warnings.catch_warnings():
        # CPython warns on any second OS thread, BLAS's idle pool included; the Python threads were checked above.
        warnings.simplefilter("ignore", DeprecationWarning)
        pid = os.fork()
    if pid:
        return pid
    code = 1
    try:
        task()
        code = 0
    except BaseException:  # noqa: BLE001, S110 -- reported by this process's own attempt (save)
        pass
    finally:
        os._exit(code)


def succeeded(pid: int) -> bool:
    """Wait for a copy started by :func:`in_a_fork`; whether its task completed."""
    _, status = os.waitpid(pid, 0)
    return os.waitstatus_to_exitcode(status) == 0


def spread_labels(ys: list[float], min_gap: float, *, lo: float | None = None,
                  hi: float | None = None) -> list[float]:
    """Positions for end-of-line labels at least ``min_gap`` apart and as close to ``ys`` as possible:
    labels that would overlap are stacked, centred on their lines' mean; the others stay where they are.
    With ``lo`` / ``hi`` every position also stays within [lo, hi] (a panel's own y range), the gap shrinking
    if the labels cannot otherwise fit."""
    order = sorted(range(len(ys)), key=lambda i: ys[i])
    clusters: list[tuple[list[int], float]] = []  # (members bottom to top, position of the bottom one)
    for i in order:
        clusters.append(([i], ys[i]))
        while len(clusters) > 1:
            (m1, b1), (m2, b2) = clusters[-2], clusters[-1]
            if b1 + len(m1) * min_gap <= b2:
                break
            members = m1 + m2
            centre = sum(ys[j] for j in members) / len(members)
            clusters[-2:] = [(members, centre - (len(members) - 1) * min_gap / 2)]
    placed = [0.0] * len(ys)
    for members, bottom in clusters:
        for k, j in enumerate(members):
            placed[j] = bottom + k * min_gap
    if lo is None and hi is None:
        return placed
    lo = -math.inf if lo is None else lo
    hi = math.inf if hi is None else hi
    n = len(ys)
    gap = min(min_gap, (hi - lo) / (n - 1)) if n > 1 and math.isfinite(hi - lo) else min_gap
    order = sorted(range(n), key=lambda i: placed[i])  # the stacking above keeps the lines' order
    # Push the stack up off the floor, then down from the ceiling; each pass keeps the gaps (>= gap).
    for k, j in enumerate(order):
        placed[j] = max(placed[j], lo + k * gap)
    for k, j in enumerate(order):
        placed[j] = min(placed[j], hi - (n - 1 - k) * gap)
    return placed


def plain_log_axis(axis) -> None:
    """Ticks of a log axis at 1, 2 and 5 of each decade, written as plain numbers ("20", "500", "1,000"):
    matplotlib's default writes "6×10²", which a reader of a policy report has to decode."""
    from matplotlib.ticker import FuncFormatter, LogLocator, NullFormatter

    axis.set_major_locator(LogLocator(base=10, subs=(1.0, 2.0, 5.0)))
    axis.set_major_formatter(FuncFormatter(lambda v, _: f"{v:,.0f}" if v >= 1 else f"{v:g}"))
    axis.set_minor_formatter(NullFormatter())


#: Where a panel's end-of-line labels sit, in axes widths: just right of the panel, where every line ends.
LABEL_X = 1.03


def end_label(ax, x_end: float, y_end: float, text: str, colour: str, label_x: float):
    """A line's label right of the panel (``label_x`` axes widths), level with the line's last point until
    spread_in_panel moves it, with a thin leader from the text's left edge to that point, shown only if moved.
    (From the left edge: a leader leaving the text's middle crossed the labels below it.)"""
    ann = ax.annotate(text, (x_end, y_end), xytext=(label_x, y_end), textcoords=ax.get_yaxis_transform(),
                      color=colour, fontsize=7.5, va="center", ha="left",
                      arrowprops={"arrowstyle": "-", "color": colour, "lw": 0.6, "shrinkA": 1, "shrinkB": 2,
                                  "relpos": (0.0, 0.5)})
    ann.arrow_patch.set_visible(False)
    return ann


def spread_in_panel(ax, labels: list, label_x: float, heading=None) -> None:
    """Move a panel's end-of-line labels (annotations with their text at (``label_x`` axes widths, a y in
    data units)) apart by one text height plus a little, within the panel's own height, each as near its
    line's end as the others allow; a moved label shows its leader. ``heading`` (a text, e.g. the lever's
    name) goes just above the top label. ``labels``: (annotation, y of its line's end).

    Works in display pixels, so on a log axis as on a linear one; call it after the layout, when the
    panel's size is known."""
    if not labels:
        return
    from matplotlib.text import Text

    renderer = ax.get_figure(root=True).canvas.get_renderer()
    panel = ax.get_window_extent(renderer)
    to_pixels = ax.transData.transform
    from_pixels = ax.transData.inverted().transform
    # the text's own extent: an annotation's would include its leader line
    height = max(Text.get_window_extent(ann, renderer).height for ann, _ in labels)
    gap = 1.15 * height
    x0 = ax.get_xlim()[0]  # any x: only the y of a point is wanted
    ends = [float(to_pixels((x0, y))[1]) for _, y in labels]
    top = panel.y1 - height / 2 - (gap if heading is not None else 0)
    placed = spread_labels(ends, gap, lo=panel.y0 + height / 2, hi=top)
    for (ann, _), end, y in zip(labels, ends, placed, strict=True):
        ann.xyann = (label_x, float(from_pixels((x0, y))[1]))
        if ann.arrow_patch is not None:
            ann.arrow_patch.set_visible(abs(y - end) > 0.3 * height)
    if heading is not None:
        heading.set_y(float(from_pixels((x0, max(placed) + gap))[1]))


def end_labels(ax, ends: list, heading: str | None = None) -> tuple:
    """A panel's end-of-line labels, ``ends`` as (x, y, text, colour) of each line's last point, at LABEL_X, and
    ``heading`` (e.g. the lever's name) over them as a legend's title would be: level with the top line's end, inside
    the panel, so that the layout gives it no room above or below, until spread_in_panel places it. Returns
    (panel, [(annotation, y of its line's end)], heading text or None), as settle_layout takes them."""
    text = ax.text(LABEL_X, max(e[1] for e in ends), heading, transform=ax.get_yaxis_transform(), fontsize=7.5,
                   ha="left", va="center", color="#333333") if heading else None
    return ax, [(end_label(ax, x, y, words, colour, LABEL_X), y) for x, y, words, colour in ends], text


def settle_layout(fig, panels, labelled=(), wrap=wrap_title, always_twice: bool = True) -> None:
    """Lay a constrained figure out for good: lay it out, wrap each panel's title to its panel (``wrap``) and lay it
    out again (with ``always_twice`` False only if a title grew: a second pass moves the panels a little even then,
    and a figure of many panels saves its cost), spread each panel's end labels (``labelled``: end_labels' triples)
    now that the panels' sizes are known, and switch the layout engine off, since saving would lay the figure out
    again and leave the labels where they were spread for the old layout."""
    layout = fig.get_layout_engine()
    layout.execute(fig)
    titles = [ax.title.get_text() for ax in panels]
    for ax in panels:
        wrap(ax)
    if always_twice or titles != [ax.title.get_text() for ax in panels]:
        layout.execute(fig)  # taller titles, shorter panels
    for ax, labels, heading in labelled:
        spread_in_panel(ax, labels, LABEL_X, heading)
    fig.set_layout_engine("none")


def wrap_title_to_panel(ax) -> None:
    """Wrap a panel's title to the panel's own width (ticks and axis labels left out; wrap_title counts them)."""
    wrap_to_width(ax.title, ax.bbox.width)
