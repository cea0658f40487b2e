"""The workshop handout: a few A4 pages for one experiment (matplotlib's PdfPages).

Page 1: the question with its report §, the headline figure and its plain reading. Next pages: up to
three more figures, each with its reading. Last page: caveats (stylised model, not a forecast;
parameter uncertainty) and the exact command and configuration that reproduce the results.
"""

from __future__ import annotations

import textwrap
from pathlib import Path

import matplotlib.image as mpimg
import matplotlib.pyplot as plt
from matplotlib.backends.backend_pdf import PdfPages

from sim.analysis import style

A4 = (8.27, 11.69)
MAX_FIGURE_PAGES = 4


def _text(fig, y: float, text: str, *, size: float = 10, width: int | None = None, weight: str = "normal",
          family: str = "sans-serif", x: float = 0.08) -> float:
    """Write wrapped text from height ``y`` (figure fraction) down; return the next free height."""
    if width is None:  # characters per line that fit 84 % of the page width at this size
        width = int((820 if family == "monospace" else 900) / size / (1.1 if weight == "bold" else 1.0))
    lines = []
    for para in text.split("\n"):
        lines += textwrap.wrap(para, width) or [""]
    step = size * 1.45 / 72 / A4[1]
    for ln in lines:
        fig.text(x, y, ln, fontsize=size, weight=weight, family=family, va="top")
        y -= step
    return y - step * 0.5


def _image(fig, png: Path, top: float, height: float) -> float:
    img = mpimg.imread(png)
    h, w = img.shape[:2]
    width = min(0.84, height * A4[1] / A4[0] * w / h)
    real_h = width * A4[0] / A4[1] * h / w
    ax = fig.add_axes((0.5 - width / 2, top - real_h, width, real_h))
    ax.imshow(img)
    ax.axis("off")
    return top - real_h - 0.015


@style.styled
def handout(report, path: str | Path) -> Path:
    """Write the handout PDF of a :class:`sim.analysis.report.Report`."""
    path = Path(path)
    sections = [s for s in report.sections if any(f.suffix == ".png" for f in s.files)][:MAX_FIGURE_PAGES]
    p = report.provenance
    prov = (f"scenario {p.get('scenario')} · R = {p.get('replicates')} worlds · seed {p.get('seed')} · "
            f"pdsim {p.get('version')}")
    with PdfPages(path) as pdf:
        for i, sec in enumerate(sections):
            fig = plt.figure(figsize=A4)
            y = 0.95
            if i == 0:
                y = _text(fig, y, report.title, size=15, weight="bold")
                if report.question:
                    y = _text(fig, y, "The question. " + report.question, size=10.5)
                y = _text(fig, y, prov, size=8)
            y = _text(fig, y, sec.title, size=12.5, weight="bold")
            png = next(f for f in sec.files if f.suffix == ".png")
            y = _image(fig, png, y, min(0.6, y - 0.22))
            y = _text(fig, y, "Reading. " + sec.reading[:1].upper() + sec.reading[1:], size=10)
            fig.text(0.08, 0.03, f"{style.NOT_A_FORECAST}   Page {i + 1}", fontsize=7.5, color="#555555")
            pdf.savefig(fig)
            plt.close(fig)
        fig = plt.figure(figsize=A4)
        y = _text(fig, 0.95, "Caveats", size=13, weight="bold")
        for c in report.caveats:
            y = _text(fig, y, "• " + c, size=10)
        for n in report.notes:
            y = _text(fig, y, "• " + n, size=10)
        y = _text(fig, y - 0.01, "Reproduce", size=13, weight="bold")
        y = _text(fig, y, report.command, size=8.5, family="monospace")
        if report.config:
            y = _text(fig, y, "Configuration" + (" (first point)" if report.kind == "sweep" else ""), size=10,
                      weight="bold")
            cfg = report.config.splitlines()
            shown = cfg[:60] + (["  ..."] if len(cfg) > 60 else [])
            y = _text(fig, y, "\n".join(shown), size=7, family="monospace")
        fig.text(0.08, 0.03, f"{style.NOT_A_FORECAST}   {prov}", fontsize=7.5, color="#555555")
        pdf.savefig(fig)
        plt.close(fig)
        info = pdf.infodict()
        info["Title"] = report.title
        info["Subject"] = "pdsim workshop handout"
    return path
