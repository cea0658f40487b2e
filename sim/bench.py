"""Benchmark of the model (not a timed test): speed of the replicate axis and peak memory.

    pdsim-bench            # the issue's targets: R = 10,000 and R = 1, side by side; R = 100,000 memory
    pdsim-bench --quick    # a small smoke run

Prints medians over repeats measured in one process, the per-replicate speed-up of the vectorised
replicate axis over one-world-at-a-time, and the peak resident memory of a child run at R = 100,000.
Machines here are shared and noisy: read the medians and ratios, not one figure.
"""

from __future__ import annotations

import argparse
import json
import resource
import statistics
import subprocess
import sys

from sim.config import RunConfig
from sim.runner import resolve, simulate, twin_config


def _timed(replicates: int, horizon: int, twin: bool) -> float:
    cfg = RunConfig(replicates=replicates, horizon_days=horizon)
    config = twin_config(cfg) if twin else resolve(cfg)
    return simulate(config)[1]


def _child_peak(replicates: int, horizon: int) -> dict:
    """Run policy and twin at R in a fresh process; its peak resident set size in MB."""
    code = (
        "import json, resource; from sim.bench import _timed; "
        f"p = _timed({replicates}, {horizon}, False); t = _timed({replicates}, {horizon}, True); "
        "print(json.dumps({'policy_s': p, 'twin_s': t, "
        "'peak_mb': resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024}))"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    return json.loads(out.stdout.strip().splitlines()[-1])


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(prog="pdsim-bench", description=__doc__.splitlines()[0])
    ap.add_argument("--quick", action="store_true", help="small sizes, for a smoke test")
    ap.add_argument("--repeats", type=int, default=3)
    args = ap.parse_args(argv)
    big, single, memory, horizon = (2_000, 5, 20_000, 120) if args.quick else (10_000, 20, 100_000, 365)
    repeats = 1 if args.quick else args.repeats

    _timed(200, 30, False)  # warm-up: imports, caches
    policy = [_timed(big, horizon, False) for _ in range(repeats)]
    twin = [_timed(big, horizon, True) for _ in range(repeats)]
    one = [_timed(1, horizon, False) for _ in range(single)]
    p, t, o = statistics.median(policy), statistics.median(twin), statistics.median(one)
    speedup = o / (p / big)
    mem = _child_peak(memory, horizon)

    rows = [
        (f"policy run, R = {big:,}, {horizon} days", f"{p:.2f} s", f"{big * horizon / p / 1e6:.2f} M replicate-days/s",
         "<= 2 s" if not args.quick else ""),
        (f"counterfactual twin, R = {big:,}", f"{t:.2f} s", f"{big * horizon / t / 1e6:.2f} M replicate-days/s",
         "<= 2 s" if not args.quick else ""),
        ("one world at a time, R = 1", f"{o * 1000:.0f} ms", f"{o * 1000:.1f} ms per replicate", ""),
        (f"per-replicate speed-up at R = {big:,}", f"{speedup:,.0f} x", "R=1 time / (R time / R)",
         ">= 200 x" if not args.quick else ""),
        (f"peak memory, R = {memory:,} policy + twin", f"{mem['peak_mb']:.0f} MB",
         f"policy {mem['policy_s']:.1f} s, twin {mem['twin_s']:.1f} s", "<= 1024 MB" if not args.quick else ""),
    ]
    width = max(len(r[0]) for r in rows)
    print(f"pdsim benchmark (generic scenario; medians of {repeats} runs; R = 1 median of {single})")
    for name, value, detail, target in rows:
        print(f"  {name:<{width}}  {value:>10}   {detail:<32} {target}")
    if not args.quick:
        ok = p <= 2.0 and t <= 2.0 and speedup >= 200 and mem["peak_mb"] <= 1024
        print("targets met" if ok else "TARGETS MISSED")
    print(f"  raw: policy {[round(x, 3) for x in policy]} twin {[round(x, 3) for x in twin]}")
    print(f"  cpu: {resource.getrusage(resource.RUSAGE_SELF).ru_utime:.1f} s user in this process")
    return 0


if __name__ == "__main__":
    sys.exit(main())
