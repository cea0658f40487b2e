"""Benchmark of the dashboard's update step: ``python -m sim.app.bench``.

One update is what the page does when the facilitator presses SolaraViz's "Step": advance the ensemble one
day (300 replicate worlds by default), record what the screen shows (world 0, the quantile fan, the
escalation probability with its Wilson interval), tell the day's story, and draw the region, the
tension fan and the probability plot. Prints the median wall time of one update (target <= 200 ms).
A benchmark, not a timed test: the machine is shared and noisy.
"""

from __future__ import annotations

import argparse
import contextlib
import io
import statistics
import time

from sim.app import figures as F
from sim.app.world import DEFAULT_WORLDS, DashboardModel


def update(model: DashboardModel) -> int:
    """One dashboard update: a day of the model and every live picture redrawn; returns the SVG bytes."""
    model.step()
    svgs = (F.region_svg(model), F.tension_svg(model), F.probability_svg([(model, F.VERMILLION, "all worlds")]))
    model.escalation()
    return sum(len(s) for s in svgs)


def main(argv: list[str] | None = None) -> None:
    p = argparse.ArgumentParser(prog="python -m sim.app.bench", description=__doc__.splitlines()[0])
    p.add_argument("--worlds", type=int, default=DEFAULT_WORLDS)
    p.add_argument("--scenario", default="kenya_2008")
    p.add_argument("--days", type=int, default=120, help="updates to time (default 120)")
    args = p.parse_args(argv)
    if args.worlds < 1 or args.days < 1:
        print(f"python -m sim.app.bench: --worlds = {args.worlds}, --days = {args.days}: both must be >= 1")
        raise SystemExit(2)
    model = DashboardModel(args.scenario, replicates=args.worlds, seed=0)
    times, size = [], 0
    for _ in range(args.days):
        if not model.running:
            break
        start = time.perf_counter()
        size = update(model)
        times.append(time.perf_counter() - start)
    med = statistics.median(times) * 1000
    p90 = sorted(times)[int(0.9 * (len(times) - 1))] * 1000
    verdict = "meets" if med <= 200 else "MISSES"
    print(f"model and pictures ({args.scenario}, {args.worlds} worlds, {len(times)} days): median {med:.1f} ms, "
          f"90th percentile {p90:.1f} ms, pictures {size / 1024:.0f} KiB")
    page = page_updates(min(args.days, 60), args.worlds, args.scenario)
    med = statistics.median(page) * 1000
    verdict = "meets" if med <= 200 else "MISSES"
    print(f"dashboard update step (the Explore page's SolaraViz 'Step' through Solara, {args.worlds} worlds, "
          f"{len(page)} clicks): median {med:.1f} ms; {verdict} the 200 ms target")


def page_updates(clicks: int, worlds: int, scenario: str) -> list[float]:
    """Wall time of the Explore page's "Step" button (Mesa SolaraViz's controller), rendered by Solara in its
    app layout without a browser (model step, every SolaraViz component redrawn, Solara's widget diff)."""
    import os

    os.environ["PDSIM_APP_WORLDS"], os.environ["PDSIM_APP_SCENARIO"] = str(worlds), scenario
    import ipyvuetify as v
    import solara

    from sim.app.pages import Page

    # Outside a kernel, AppLayout shows the app-bar items through IPython's display, which prints them.
    with contextlib.redirect_stdout(io.StringIO()):
        _, rc = solara.render(solara.AppLayout(children=[Page()]), handle_error=False)
    button = rc.find(v.Btn, children=["Step"])
    times = []
    for _ in range(clicks):
        start = time.perf_counter()
        button.widget.click()
        times.append(time.perf_counter() - start)
    rc.close()
    return times


if __name__ == "__main__":
    main()
