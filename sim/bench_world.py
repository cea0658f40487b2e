"""Benchmark of world mode (not a timed test): 150 countries x 20 years x 100 worlds, and how cost grows.

    pdsim-bench --world            # the issue's target run, then the scaling in countries, years and worlds
    python -m sim.bench_world --quick

Each measurement runs in a fresh child process (``model.run()`` only: the policy, without its twin) with one thread
(no BLAS or OpenMP threads), so its CPU time is one core's work — the target is read on it, because on a shared
machine the wall time also holds the waits for a core — and the peak resident memory is the run's own. Prints
wall and CPU time, the cost per country-world-day, the peak memory, and the exponents of cost in countries, years
and worlds fitted on the smaller runs (1.0 = linear). Machines here are shared: read medians and ratios.
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys

#: The issue's target: 150 countries, 20 years, daily steps, 100 worlds, <= 60 s on one core, <= 2 GB.
TARGET_SECONDS, TARGET_MB = 60.0, 2048.0

THREAD_VARS = ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS")

CHILD = r"""
import json, resource, time, sys
from sim.runner import configure
from sim.model import PreventiveDiplomacyModel
countries, years, worlds = (int(v) for v in sys.argv[1:4])
config = configure("scenario=world", f"replicates={worlds}", f"horizon_days={365 * years}", "output.events=false")
if countries < len(config.scenario.sites):  # the first N countries of the table, with the borders among them
    keep = list(config.scenario.sites)[:countries]
    config.scenario.sites = {k: config.scenario.sites[k] for k in keep}
    config.scenario.borders = [b for b in config.scenario.borders if b[0] in keep and b[1] in keep]
model = PreventiveDiplomacyModel(config)
start, cpu = time.perf_counter(), time.process_time()
model.run()
wall, cpu = time.perf_counter() - start, time.process_time() - cpu
print(json.dumps({"wall": wall, "cpu": cpu, "peak_mb": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024,
                  "sites": model.n_sites}))
"""


def measure(countries: int, years: int, worlds: int) -> dict:
    env = {**os.environ, **{v: "1" for v in THREAD_VARS}}  # one core: no BLAS or OpenMP threads
    out = subprocess.run([sys.executable, "-c", CHILD, str(countries), str(years), str(worlds)], capture_output=True,
                         text=True, check=True, env=env)
    return json.loads(out.stdout.strip().splitlines()[-1])


def exponent(points: list[tuple[float, float]]) -> float:
    """Slope of log(cost) on log(size): 1.0 is linear."""
    import numpy as np

    x, y = np.log([p[0] for p in points]), np.log([p[1] for p in points])
    return float(np.polyfit(x, y, 1)[0])


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(prog="pdsim-bench --world", description=__doc__.splitlines()[0])
    ap.add_argument("--quick", action="store_true", help="small sizes, for a smoke test")
    ap.add_argument("--repeats", type=int, default=3, help="repeats of each scaling point (median)")
    args = ap.parse_args(argv)
    full = (153, 2, 10) if args.quick else (153, 20, 100)
    base = (153, 1, 10) if args.quick else (153, 2, 100)
    repeats = 1 if args.quick else args.repeats

    def med(c, y, w):
        runs = [measure(c, y, w) for _ in range(repeats)]
        medians = {k: statistics.median(r[k] for r in runs) for k in ("wall", "cpu", "peak_mb")}
        return medians | {"sites": runs[0]["sites"]}

    print("pdsim world benchmark (one core per child process; model.run() of the policy, no twin)")
    c, y, w = base
    scaling = {"countries": [], "years": [], "worlds": []}
    for n in (c // 4, c // 2, c):
        r = med(n, y, w)
        scaling["countries"].append((r["sites"], r["cpu"]))
    for n in (y, 2 * y):
        scaling["years"].append((n, med(c, n, w)["cpu"]))
    for n in (w // 4, w // 2, w):
        scaling["worlds"].append((n, med(c, y, n)["cpu"]))
    print(f"  scaling around {c} countries x {y} years x {w} worlds (CPU s, medians of {repeats}):")
    for axis, points in scaling.items():
        print(f"    {axis:<9} " + ", ".join(f"{n:g}: {s:.2f}" for n, s in points)
              + f"   exponent {exponent(points):.2f}")
    r = measure(*full)
    cells = r["sites"] * full[1] * 365 * full[2]
    print(f"  target run: {r['sites']} countries x {full[1]} years x {full[2]} worlds: wall {r['wall']:.1f} s, "
          f"CPU {r['cpu']:.1f} s, {1e9 * r['cpu'] / cells:.0f} ns per country-world-day, peak {r['peak_mb']:.0f} MB")
    if not args.quick:
        ok = r["cpu"] <= TARGET_SECONDS and r["peak_mb"] <= TARGET_MB
        print(f"  targets (<= {TARGET_SECONDS:.0f} s of one core, <= {TARGET_MB:.0f} MB): {'met' if ok else 'MISSED'}"
              + ("" if r["wall"] <= 1.2 * r["cpu"] else f"; wall {r['wall']:.0f} s: the machine was busy"))
    return 0


if __name__ == "__main__":
    sys.exit(main())
