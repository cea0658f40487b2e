"""The dashboard's pictures as inline SVG: drawn in a millisecond on the server, sharp on a projector,
nothing to fetch from anywhere (the page stays offline).

Projector-readable: large type and the Okabe-Ito colour-blind-safe palette (Okabe & Ito 2008); phases
are also written out in words, so no reading depends on colour alone. Each function takes
:class:`sim.app.world.DashboardModel` objects and returns an SVG string.
"""

from __future__ import annotations

from html import escape

import networkx as nx
import numpy as np

# Okabe-Ito.
BLACK, ORANGE, SKY, GREEN, YELLOW, BLUE, VERMILLION, PURPLE = (
    "#000000", "#E69F00", "#56B4E9", "#009E73", "#F0E442", "#0072B2", "#D55E00", "#CC79A7",
)
GREY = "#8c8c8c"
#: Phase colours: stable green, dispute yellow, crisis orange, armed conflict vermillion, war black.
PHASE_COLOURS = (GREEN, YELLOW, ORANGE, VERMILLION, BLACK)
PHASE_LABELS = ("stable", "dispute", "crisis", "armed conflict", "war")
UN_COLOUR, RO_COLOUR = BLUE, PURPLE
A_COLOUR, B_COLOUR = BLUE, ORANGE  # compare mode: policy A and policy B
FONT = 20  # px in a 760-wide drawing: about 2.6 % of the width, readable from the back of a room


def _svg(width: int, height: int, body: list[str], label: str) -> str:
    return (f'<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 {width} {height}" width="100%" '
            f'role="img" aria-label="{escape(label)}" font-family="DejaVu Sans, Arial, sans-serif" '
            f'font-size="{FONT}">' + "".join(body) + "</svg>")


def _text(x, y, s, size=FONT, anchor="start", colour=BLACK, weight="normal", cls="") -> str:
    c = f' class="{cls}"' if cls else ""
    return (f'<text x="{x:.1f}" y="{y:.1f}" font-size="{size}" text-anchor="{anchor}" fill="{colour}" '
            f'font-weight="{weight}"{c}>{escape(str(s))}</text>')


class Chart:
    """A time chart: x is the day (0..horizon), y a value; margins hold the axes and their labels."""

    def __init__(self, title: str, ylabel: str, horizon: float, ymax: float, width=760, height=400):
        self.w, self.h, self.horizon, self.ymax = width, height, max(float(horizon), 1.0), float(ymax)
        self.left, self.right, self.top, self.bottom = 78, width - 16, 46, height - 58
        self.body = [_text(self.left, 30, title, FONT + 2, weight="bold")]
        self.ylabel = ylabel
        self.legend: list[tuple[str, str, str]] = []

    def x(self, day):
        return self.left + (np.asarray(day, float) / self.horizon) * (self.right - self.left)

    def y(self, value):
        v = np.clip(np.asarray(value, float), 0, self.ymax)
        return self.bottom - v / self.ymax * (self.bottom - self.top)

    def axes(self, yticks) -> None:
        b = self.body
        b.append(f'<rect x="{self.left}" y="{self.top}" width="{self.right - self.left}" '
                 f'height="{self.bottom - self.top}" fill="white" stroke="{GREY}"/>')
        for t in yticks:
            y = float(self.y(t))
            b.append(f'<line x1="{self.left - 6}" x2="{self.left}" y1="{y:.1f}" y2="{y:.1f}" stroke="{BLACK}"/>')
            b.append(_text(self.left - 10, y + 7, f"{t:g}", FONT - 2, "end"))
        step = _nice_step(self.horizon)
        for t in np.arange(0, self.horizon + 1, step):
            x = float(self.x(t))
            b.append(f'<line x1="{x:.1f}" x2="{x:.1f}" y1="{self.bottom}" y2="{self.bottom + 6}" stroke="{BLACK}"/>')
            b.append(_text(x, self.bottom + 26, f"{int(t)}", FONT - 2, "middle"))
        b.append(_text((self.left + self.right) / 2, self.h - 6, "day", FONT - 2, "middle"))
        b.append(f'<text x="18" y="{(self.top + self.bottom) / 2:.1f}" font-size="{FONT - 3}" text-anchor="middle" '
                 f'transform="rotate(-90 18 {(self.top + self.bottom) / 2:.1f})">{escape(self.ylabel)}</text>')

    def hline(self, value, label, colour=GREY) -> None:
        y = float(self.y(value))
        self.body.append(f'<line x1="{self.left}" x2="{self.right}" y1="{y:.1f}" y2="{y:.1f}" stroke="{colour}" '
                         f'stroke-dasharray="4 4"/>')
        self.body.append(_text(self.right - 6, y - 5, label, FONT - 5, "end", "#555555"))

    def band(self, days, lo, hi, colour, opacity, label=None) -> None:
        days = np.asarray(days)
        if days.size < 1:
            return
        xs, top, bot = self.x(days), self.y(hi), self.y(lo)
        pts = [f"{x:.1f},{y:.1f}" for x, y in zip(xs, top, strict=True)]
        pts += [f"{x:.1f},{y:.1f}" for x, y in zip(xs[::-1], bot[::-1], strict=True)]
        self.body.append(f'<polygon points="{" ".join(pts)}" fill="{colour}" fill-opacity="{opacity}" '
                         f'stroke="none"/>')
        if label:
            self.legend.append(("band", colour, label))

    def line(self, days, values, colour, width=3.5, dash=None, label=None, cls="") -> None:
        days = np.asarray(days)
        if days.size < 1:
            return
        pts = " ".join(f"{x:.1f},{y:.1f}" for x, y in zip(self.x(days), self.y(values), strict=True))
        d = f' stroke-dasharray="{dash}"' if dash else ""
        c = f' class="{cls}"' if cls else ""
        self.body.append(f'<polyline points="{pts}" fill="none" stroke="{colour}" stroke-width="{width}"{d}{c}/>')
        if label:
            self.legend.append(("line", colour, label))

    def render(self, aria: str) -> str:
        x, y = self.left + 12, self.top + 24
        for kind, colour, label in self.legend:
            if kind == "band":
                self.body.append(f'<rect x="{x}" y="{y - 14}" width="26" height="16" fill="{colour}" '
                                 f'fill-opacity="0.45"/>')
            else:
                self.body.append(f'<line x1="{x}" x2="{x + 26}" y1="{y - 6}" y2="{y - 6}" stroke="{colour}" '
                                 f'stroke-width="4"/>')
            self.body.append(_text(x + 34, y, label, FONT - 4))
            y += 24
        return _svg(self.w, self.h, self.body, aria)


def series(model) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """days, fan, world-0 regional tension and escalation history, cut to a common length (the model
    may be stepping in another thread while the page draws)."""
    n = min(len(model.days), len(model.fan), len(model.world_regional), len(model.escalated_history))
    days = np.asarray(model.days[:n])
    fan = np.asarray(model.fan[:n]).reshape(n, -1)
    return days, fan, np.asarray(model.world_regional[:n]), np.asarray(model.escalated_history[:n]).reshape(n, -1)


def _nice_step(horizon: float) -> int:
    for step in (7, 14, 30, 60, 90, 180, 365, 730, 1825, 3650):
        if horizon / step <= 8:
            return step
    return int(horizon // 8) or 1


def _phase_lines(chart: Chart) -> None:
    for level, label in ((2.0, "crisis"), (3.0, "armed conflict"), (4.0, "war")):
        chart.hline(level, label)


def tension_svg(model, title: str | None = None, colour: str = VERMILLION, label: str = "world on screen",
                others: list[tuple] = ()) -> str:
    """Highest tension in the region over time: the world on screen (a thick line) over the
    ensemble's 5-95 % and 25-75 % quantile fan of all worlds; ``others`` adds (model, colour, label)."""
    chart = Chart(title or "Tension: the world on screen and all worlds", "highest tension in the region",
                  getattr(model, "horizon", 365), 5.0)
    chart.axes([0, 1, 2, 3, 4, 5])
    _phase_lines(chart)
    if not others:
        days, fan, world, _ = series(model)
        if fan.shape[0]:
            chart.band(days, fan[:, 0], fan[:, 4], SKY, 0.22, f"{model.replicates} worlds, 5-95 %")
            chart.band(days, fan[:, 1], fan[:, 3], SKY, 0.45, "25-75 % of worlds")
        chart.line(days, world, colour, label=label, cls="world-line")
        return chart.render("tension over time")
    # Compare: each policy's 25-75 % band of all worlds and its world on screen, labelled by name.
    runs = [(model, colour, label), *others]
    for m, c, name in runs:
        days, fan, _, _ = series(m)
        if fan.shape[0]:
            chart.band(days, fan[:, 1], fan[:, 3], c, 0.3, f"{name}: 25-75 % of worlds")
    for m, c, name in runs:
        days, _, world, _ = series(m)
        chart.line(days, world, c, label=f"{name}: world on screen", cls="world-line")
    return chart.render("tension over time")


def probability_svg(runs: list[tuple], title: str | None = None, height: int = 400) -> str:
    """Share of worlds escalated to armed conflict so far, with the 95 % Wilson band;
    ``runs`` is a list of (model, colour, label)."""
    horizon = getattr(runs[0][0], "horizon", 365)
    top = 10.0
    for m, _, _ in runs:
        hist = series(m)[3]
        if hist.size:
            top = max(top, float(hist[:, 2].max()) * 100 * 1.15)
    top = float(np.ceil(top / 10) * 10)
    chart = Chart(title or "Escalation to armed conflict so far", "% of worlds escalated", horizon, top,
                  height=height)
    chart.axes(np.linspace(0, top, 6).round(0))
    for m, colour, label in runs:
        days, _, _, hist = series(m)
        if hist.size:
            hist = hist * 100
            chart.band(days, hist[:, 1], hist[:, 2], colour, 0.25)
            chart.line(days, hist[:, 0], colour, label=label, cls="probability-line")
    return chart.render("escalation probability over time")


def layout(model) -> dict:
    """Node positions of the region (cached on the model), from the graph of the model's Mesa network."""
    pos = getattr(model, "_app_layout", None)
    if pos is None:
        graph = region_graph(model)
        if graph.number_of_nodes() <= 1:
            pos = {n: np.array([0.0, 0.0]) for n in graph.nodes}
        elif graph.number_of_edges():
            pos = nx.kamada_kawai_layout(graph)
        else:
            pos = nx.circular_layout(graph)
        model._app_layout = pos
    return pos


def region_graph(model) -> nx.Graph:
    graph = getattr(getattr(model, "region", None), "G", None)
    return graph if graph is not None else nx.path_graph(len(model.site_names))


def _stage(responder, world: int):
    stage = getattr(responder, "stage", None)
    return None if stage is None else np.asarray(stage)[:, world]


def region_svg(model, world: int = 0, title: str | None = None) -> str:
    """The region as the model's Mesa network (``model.region``): countries coloured by phase in
    ``world`` (phase also in words); the UN and the regional organisation above it, joined to the
    countries where they are engaged (dashed: warned, waiting out the lag; solid: acting), filled
    when engaged anywhere; a triangle by a country for each envoy there."""
    W, H = 760, 500
    graph = region_graph(model)
    pos = layout(model)
    xs = np.array([pos[n][0] for n in graph.nodes]) if len(pos) else np.zeros(1)
    ys = np.array([pos[n][1] for n in graph.nodes]) if len(pos) else np.zeros(1)
    span_x, span_y = max(np.ptp(xs), 1e-6), max(np.ptp(ys), 1e-6)

    def at(n):
        x = 130 + (pos[n][0] - xs.min()) / span_x * (W - 260) if np.ptp(xs) else W / 2
        y = 200 + (pos[n][1] - ys.min()) / span_y * 150 if np.ptp(ys) else 270
        return float(x), float(y)

    tension = np.asarray(model.tension)[:, world]
    held = getattr(model, "phase", None)  # the model's phase (fighting persists through a lull)
    phase = np.minimum(tension, 4.0).astype(int) if held is None else np.asarray(held)[:, world].astype(int)
    body = [_text(16, 30, title or f"Day {model.day}: the region in the world on screen", FONT + 2,
                  weight="bold")]
    for a, b in graph.edges:
        (x0, y0), (x1, y1) = at(a), at(b)
        body.append(f'<line x1="{x0:.1f}" y1="{y0:.1f}" x2="{x1:.1f}" y2="{y1:.1f}" stroke="{GREY}" '
                    f'stroke-width="6"/>')
    actors = [("UN", getattr(model, "un", None), UN_COLOUR, 90), ("Regional org.",
              getattr(model, "regional", None), RO_COLOUR, W - 90)]
    for label, responder, colour, ax in actors:
        if responder is None:
            continue
        ay = 84
        stage = _stage(responder, world)
        if stage is not None:
            for site in np.flatnonzero(stage > 0):
                sx, sy = at(int(site))
                dash = "" if stage[site] >= 2 else ' stroke-dasharray="10 8"'
                body.append(f'<line x1="{ax}" y1="{ay}" x2="{sx:.1f}" y2="{sy:.1f}" stroke="{colour}" '
                            f'stroke-width="4"{dash} class="engaged"/>')
        engaged = stage is not None and bool((stage > 0).any())
        body.append(f'<rect x="{ax - 22}" y="{ay - 22}" width="44" height="44" rx="6" '
                    f'fill="{colour if engaged else "white"}" stroke="{colour}" stroke-width="4"/>')
        body.append(_text(ax, ay - 30, label, FONT - 2, "middle", colour, "bold"))
    for i in graph.nodes:
        if i >= len(tension):
            continue
        x, y = at(i)
        p = int(phase[i])
        body.append(f'<circle cx="{x:.1f}" cy="{y:.1f}" r="40" fill="{PHASE_COLOURS[p]}" stroke="{BLACK}" '
                    f'stroke-width="3" class="site phase-{p}" data-site="{escape(model.site_names[i])}"/>')
        body.append(_text(x, y + 8, f"{tension[i]:.1f}", FONT, "middle", "white" if p >= 3 else BLACK, "bold"))
        body.append(_text(x, y + 66, model.site_names[i], FONT, "middle", weight="bold"))
        body.append(_text(x, y + 90, PHASE_LABELS[p], FONT - 3, "middle"))
        for k, (responder, colour) in enumerate(((getattr(model, "un", None), UN_COLOUR),
                                                 (getattr(model, "regional", None), RO_COLOUR))):
            envoy = getattr(responder, "has_envoy", None)
            if envoy is not None and bool(np.asarray(envoy)[i, world]):
                ex = x + (-52 if k == 0 else 52)
                body.append(f'<polygon points="{ex - 14:.1f},{y - 30:.1f} {ex + 14:.1f},{y - 30:.1f} '
                            f'{ex:.1f},{y - 54:.1f}" fill="{colour}" stroke="{BLACK}" stroke-width="2" '
                            f'class="envoy"/>')
    # Legend: phases in colour and words; envoy; engagement lines.
    lx, ly = 16, H - 40
    for c, lab in zip(PHASE_COLOURS, PHASE_LABELS, strict=True):
        body.append(f'<circle cx="{lx + 9}" cy="{ly - 6}" r="9" fill="{c}" stroke="{BLACK}"/>')
        body.append(_text(lx + 24, ly, lab, FONT - 5))
        lx += 44 + 9.5 * len(lab)
    body.append(f'<polygon points="{lx},{ly} {lx + 18},{ly} {lx + 9},{ly - 16}" fill="{GREY}" stroke="{BLACK}"/>')
    body.append(_text(lx + 24, ly, "envoy", FONT - 5))
    body.append(_text(16, H - 10, "Lines from the UN and the regional organisation: dashed = warned, waiting; "
                      "solid = acting", FONT - 5, "start", "#555555"))
    return _svg(W, H, body, "the region")


def replay_svg(rows: list[dict]) -> str:
    """Play mode, at the end: escalation probability with its 95 % interval under each policy."""
    W = 760
    H = 70 + 62 * len(rows)
    colours = [VERMILLION, BLUE, GREY, GREEN, ORANGE]
    left, right = 300, W - 70
    body = [_text(16, 30, "Share of all worlds that reach armed conflict", FONT + 2, weight="bold")]

    def x(v):
        return left + v / 100 * (right - left)

    for i, row in enumerate(rows):
        p, lo, hi = (100 * float(row[k]) for k in ("probability", "ci_low", "ci_high"))
        y = 58 + 62 * i
        body.append(_text(left - 10, y + 28, row["label"], FONT - 2, "end"))
        body.append(f'<rect x="{left}" y="{y + 8}" width="{x(p) - left:.1f}" height="30" '
                    f'fill="{colours[i % len(colours)]}" class="replay-bar"/>')
        body.append(f'<line x1="{x(lo):.1f}" x2="{x(hi):.1f}" y1="{y + 23}" y2="{y + 23}" stroke="{BLACK}" '
                    f'stroke-width="3"/>')
        body.append(_text(x(hi) + 8, y + 30, f"{p:.0f} %", FONT - 2))
    return _svg(W, H, body, "replay over all worlds")
