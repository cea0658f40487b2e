"""Benchmark of the model (not a timed test): whole command and kernel, cost against R, memory, and the
speed-up over the Mesa model a user would otherwise write (docs/BENCHMARKS.md).

    pdsim-bench              # R = 1,000 / 10,000 / 100,000; whole commands at 10,000 and 100,000; the Mesa reference
    pdsim-bench --large      # also R = 300,000 (several minutes more): the 300k : 10k cost ratio
    pdsim-bench --quick      # small sizes, a smoke run (no figure in it means anything)
    pdsim-bench --json FILE  # every sample, for docs/BENCHMARKS.md

Every arm is timed several times, the arms interleaved (each round runs them in a rotated order) so that
load drifting on a shared machine hits all of them; the figures are medians. Beside each wall time: user
and system CPU seconds and minor/major page faults of that run (getrusage deltas), so a reader can tell
computing from waiting, and allocator traffic (temporaries returned to the OS and faulted in again) from
arithmetic. The issue's targets (issue 11) are printed beside the figures with "met" or "MISSED".
"""

from __future__ import annotations

import argparse
import gc
import json
import os
import resource
import statistics
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass, field
from pathlib import Path

#: The issue's targets (issue 11): R = 10,000 x 365 days policy + twin, cost ratio 300k : 10k, memory at 100k.
TARGET_SECONDS_10K = 1.5
TARGET_RATIO_300K = 1.2
TARGET_PEAK_MB = 1024.0


@dataclass
class Sample:
    """One timed run: wall seconds, CPU seconds in user and system mode, minor and major page faults; for a
    whole command also its peak resident set (MB) and its own timing of the policy and twin runs."""

    wall: float
    user: float
    sys: float
    minflt: int
    majflt: int
    maxrss_mb: float | None = None
    policy_s: float | None = None
    twin_s: float | None = None

    @property
    def cpu(self) -> float:
        return self.user + self.sys


@dataclass
class Arm:
    """Something timed: ``fn`` does one run and returns its Sample; ``units`` is what one run covers
    (replicate-days, or world-days for the reference), for the cost per unit."""

    name: str
    fn: object
    repeats: int
    units: float
    samples: list[Sample] = field(default_factory=list)

    def median(self, attr: str = "wall") -> float:
        return statistics.median(getattr(s, attr) for s in self.samples)

    def ns_per_unit(self, attr: str = "wall") -> float:
        return self.median(attr) / self.units * 1e9


def _usage() -> tuple[float, float, int, int]:
    r = resource.getrusage(resource.RUSAGE_SELF)
    return r.ru_utime, r.ru_stime, r.ru_minflt, r.ru_majflt


def _measure(fn) -> Sample:
    """Time ``fn()`` with the getrusage deltas of this process (its BLAS threads included)."""
    gc.collect()
    u0 = _usage()
    t0 = time.perf_counter()
    fn()
    wall = time.perf_counter() - t0
    u1 = _usage()
    return Sample(wall, u1[0] - u0[0], u1[1] - u0[1], u1[2] - u0[2], u1[3] - u0[3])


# -- the arms ---------------------------------------------------------------------------------------
def _config(replicates: int, horizon: int, twin: bool):
    from sim.config import RunConfig
    from sim.runner import resolve, twin_config

    cfg = RunConfig(replicates=replicates, horizon_days=horizon)
    return twin_config(cfg) if twin else resolve(cfg)


def kernel(replicates: int, horizon: int, twin: bool):
    """``model.run()`` alone, in this (warm) process: the model is built first, not timed, as the runner's
    ``simulate`` does."""
    from sim.model import PreventiveDiplomacyModel

    config = _config(replicates, horizon, twin)

    def one() -> Sample:
        model = PreventiveDiplomacyModel(config)
        return _measure(model.run)

    return one


def one_at_a_time(worlds: int, horizon: int, twin: bool):
    """pdsim at R = 1, ``worlds`` times (worlds 0, 1, ...; built first, only the runs timed): the old yardstick."""
    from sim.model import PreventiveDiplomacyModel

    config = _config(1, horizon, twin)

    def one() -> Sample:
        models = [PreventiveDiplomacyModel(config, seed=s) for s in range(worlds)]
        return _measure(lambda: [m.run() for m in models])

    return one


def reference(worlds: int, horizon: int):
    """The one-object-per-agent Mesa model (sim/reference.py): ``worlds`` worlds under the twin's rules, built
    first, only the runs timed (like the kernel arms)."""
    from sim.reference import ReferenceModel

    config = _config(1, horizon, twin=True)

    def one() -> Sample:
        models = [ReferenceModel(config, seed=s) for s in range(worlds)]
        return _measure(lambda: [m.run() for m in models])

    return one


#: Starts pdsim and reports its own rusage. A process forked from this (large) benchmark process would report
#: the benchmark's resident set as its peak (Linux counts the pages it shared before exec); forked from this
#: small launcher, the peak is pdsim's own within a few MB.
_LAUNCHER = """
import json, os, sys, time
t0 = time.perf_counter()
pid = os.posix_spawn(sys.executable, [sys.executable, "-m", "sim", *sys.argv[1:]], os.environ,
                     file_actions=[(os.POSIX_SPAWN_OPEN, 1, os.devnull, os.O_WRONLY, 0)])
_, status, ru = os.wait4(pid, 0)
print(json.dumps({"wall": time.perf_counter() - t0, "code": os.waitstatus_to_exitcode(status),
                  "user": ru.ru_utime, "sys": ru.ru_stime, "minflt": ru.ru_minflt, "majflt": ru.ru_majflt,
                  "maxrss_mb": ru.ru_maxrss / 1024}))
"""


def command(replicates: int, horizon: int):
    """The real main job, ``pdsim`` (policy + twin: validation, building, running, results, files; no plot), in
    a fresh process writing to a temporary folder. Its rusage is its own (``os.wait4`` in a small launcher),
    and its own timing of the two runs is read from the summary.json it wrote: the kernel in a fresh process."""

    def one() -> Sample:
        with tempfile.TemporaryDirectory(prefix="pdsim-bench-") as out:
            args = [f"replicates={replicates}", f"horizon_days={horizon}", "output.plot=false", f"hydra.run.dir={out}"]
            res = subprocess.run([sys.executable, "-c", _LAUNCHER, *args], capture_output=True, text=True)
            report = json.loads(res.stdout.strip().splitlines()[-1]) if res.returncode == 0 else {"code": None}
            if report["code"] != 0:
                raise RuntimeError(f"pdsim {' '.join(args)} failed: {res.stderr[-2000:]}")
            timing = json.loads((Path(out) / "summary.json").read_text())["timing"]
            return Sample(report["wall"], report["user"], report["sys"], report["minflt"], report["majflt"],
                          report["maxrss_mb"], timing["simulation_seconds"], timing["counterfactual_seconds"])

    return one


def interleave(arms: list[Arm]) -> None:
    """Round r runs every arm that still needs a sample, starting one arm later than round r - 1."""
    for r in range(max(a.repeats for a in arms)):
        due = [a for a in arms if len(a.samples) < a.repeats]
        k = r % len(due)
        for arm in due[k:] + due[:k]:
            arm.samples.append(arm.fn())


# -- the report -------------------------------------------------------------------------------------
def _verdict(ok: bool | None) -> str:
    return "not measured" if ok is None else ("met" if ok else "MISSED")


def target_report(seconds_10k: dict, ratios: dict, peak_mb: float | None, command_s: float):
    """The issue's targets beside the figures: the printed lines, and {target: (figure, met?)} with None for
    a figure not measured. Every way of measuring a target gets its own verdict; a miss is printed as MISSED
    on its line and named again on the last one."""
    verdicts, lines = {}, ["targets (issue 11):"]
    for label, s in seconds_10k.items():
        ok = verdicts[f"10k {label}"] = (s, s <= TARGET_SECONDS_10K)
        lines.append(f"  R = 10,000 x 365 d, policy + twin, {label:<22} {s:8.2f} s   target <= {TARGET_SECONDS_10K} s"
                     f"    {_verdict(ok[1])}")
    lines.append(f"    (the whole command, start-up and files included: {command_s:.2f} s)")
    for label, ratio in ratios.items():
        ok = None if ratio is None else ratio <= TARGET_RATIO_300K
        verdicts[f"300k:10k {label}"] = (ratio, ok)
        shown = f"{ratio:8.2f} x" if ratio is not None else "       - x"
        lines.append(f"  ns/replicate-day R = 300k : 10k, {label:<24} {shown}   target <= {TARGET_RATIO_300K} x"
                     f"   {_verdict(ok)}{'' if ratio is not None else ' (run with --large)'}")
    ok = None if peak_mb is None else peak_mb <= TARGET_PEAK_MB
    verdicts["peak RSS 100k"] = (peak_mb, ok)
    shown = f"{peak_mb:8.0f} MB" if peak_mb is not None else "       - MB"
    lines.append(f"  peak RSS, R = 100,000 command (policy + twin)       {shown}  target <= {TARGET_PEAK_MB:.0f} MB"
                 f" {_verdict(ok)}")
    missed = [k for k, (_, met) in verdicts.items() if met is False]
    lines.append("all measured targets met" if not missed else f"TARGETS MISSED: {'; '.join(missed)}")
    return lines, verdicts


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(prog="pdsim-bench", description=__doc__.splitlines()[0])
    ap.add_argument("--quick", action="store_true", help="small sizes, a smoke run (timings mean nothing)")
    ap.add_argument("--large", action="store_true", help="also R = 300,000 (minutes), for the 300k : 10k ratio")
    ap.add_argument("--repeats", type=int, default=5, help="samples of each cheap arm (default 5)")
    ap.add_argument("--big-repeats", type=int, default=3, help="samples at R >= 100,000 (default 3; 300k: at most 2)")
    ap.add_argument("--reference-worlds", type=int, default=20, help="worlds per sample of the Mesa reference")
    ap.add_argument("--json", metavar="FILE", help="write every sample and the verdicts as JSON")
    args = ap.parse_args(argv)
    for name in ("repeats", "big_repeats", "reference_worlds"):
        if getattr(args, name) < 1:
            print(f"pdsim-bench: --{name.replace('_', '-')} = {getattr(args, name)}: must be >= 1", file=sys.stderr)
            return 2

    if args.quick:
        horizon, sizes, commands, mid, ref_worlds, single = 30, [200, 2_000], [2_000], 2_000, 3, 3
        repeats = big = 1
    else:
        horizon, sizes, commands, mid = 365, [1_000, 10_000, 100_000], [10_000, 100_000], 10_000
        ref_worlds, single, repeats, big = args.reference_worlds, 10, args.repeats, args.big_repeats
        if args.large:
            sizes.append(300_000)
            commands.append(300_000)
    load0 = os.getloadavg()

    def count(size: int) -> int:  # repeats: every sample of a big run takes seconds to minutes
        return repeats if size <= mid else (big if size < 300_000 else min(big, 2))

    kernel(200, 30, False)()  # warm-up: imports, caches, first-touch of NumPy's machinery
    arms: list[Arm] = []
    for size in sizes:
        for t in ("policy", "twin"):
            arms.append(Arm(f"{t} R={size}", kernel(size, horizon, t == "twin"), count(size), size * horizon))
    arms.append(Arm("policy R=1", one_at_a_time(single, horizon, False), repeats, single * horizon))
    arms.append(Arm("twin R=1", one_at_a_time(single, horizon, True), repeats, single * horizon))
    arms.append(Arm("mesa reference", reference(ref_worlds, horizon), repeats, ref_worlds * horizon))
    for size in commands:
        arms.append(Arm(f"command R={size}", command(size, horizon), 1 if size >= 300_000 else count(size),
                        2 * size * horizon))
    arms.append(Arm("command R=1, 1 day", command(1, 1), repeats, 2))  # the fixed cost of a command
    interleave(arms)
    load1 = os.getloadavg()
    by = {a.name: a for a in arms}

    print(f"pdsim benchmark: generic scenario, {horizon} days; medians of interleaved repeats "
          f"({repeats} per arm, {big} at R >= 100,000); load average {load0[0]:.1f} before, {load1[0]:.1f} after "
          f"on {os.cpu_count()} cores")
    print("  per run: wall, user and sys seconds; page faults; peak RSS (commands); ns per replicate-day of wall time")
    cols = ("wall", 8), ("user", 7), ("sys", 6), ("minflt", 9), ("majflt", 6), ("MB", 6), ("ns/rep-day", 11)
    print(f"  {'arm':<18} " + " ".join(f"{c:>{w}}" for c, w in cols) + "  n")
    for a in arms:
        rss = f"{a.median('maxrss_mb'):6.0f}" if a.samples[0].maxrss_mb is not None else f"{'':6}"
        unit = {"mesa reference": " (per world-day)", "command R=1, 1 day": " (a fixed cost)"}.get(a.name, "")
        per = "-" if a.name == "command R=1, 1 day" else f"{a.ns_per_unit():.0f}"
        print(f"  {a.name:<18.18} {a.median():8.3f} {a.median('user'):7.2f} {a.median('sys'):6.2f} "
              f"{a.median('minflt'):9.0f} {a.median('majflt'):6.0f} {rss} {per:>11}  "
              f"{len(a.samples)}{unit}")

    def fresh(size: int, t: str) -> float | None:
        """ns per replicate-day of the command's own run (a fresh process), if the command ran at this size."""
        a = by.get(f"command R={size}")
        return None if a is None else a.median(f"{t}_s") / (size * horizon) * 1e9

    print(f"cost against R: ns per replicate-day (x relative to R = {mid:,}); model.run() in this warm process by wall")
    print("  and by CPU (user + sys: what waiting for a busy core does not inflate), and in a fresh process (pdsim)")
    for t in ("policy", "twin"):
        base = {"wall": by[f"{t} R={mid}"].ns_per_unit(), "cpu": by[f"{t} R={mid}"].ns_per_unit("cpu"),
                "fresh": fresh(mid, t)}
        for size in sizes:
            a = by[f"{t} R={size}"]
            cells = [f"{kind} {v:5.0f} ({v / base[kind]:.2f}x)" for kind, v in
                     (("wall", a.ns_per_unit()), ("cpu", a.ns_per_unit("cpu")), ("fresh", fresh(size, t)))
                     if v is not None]
            print(f"  {t:<6} R = {size:>7,}   " + "   ".join(cells))

    cmd = by[f"command R={mid}"]
    warm = by[f"policy R={mid}"].median() + by[f"twin R={mid}"].median()
    own = cmd.median("policy_s") + cmd.median("twin_s")
    print(f"whole command against kernel at R = {mid:,}, policy + twin:")
    print(f"  pdsim command, wall              {cmd.median():6.2f} s   user {cmd.median('user'):.2f} s, sys "
          f"{cmd.median('sys'):.2f} s, {cmd.median('minflt'):,.0f} minor faults, peak {cmd.median('maxrss_mb'):.0f} MB")
    print(f"  its model.run() (fresh process)  {own:6.2f} s   {own / cmd.median():.0%} of the command; the rest is "
          "start-up, validation, building, results, files")
    print(f"  model.run() in a warm process    {warm:6.2f} s")
    fixed = by["command R=1, 1 day"]
    print(f"  fixed cost: pdsim at R = 1 for one day {fixed.median():.2f} s wall, {fixed.median('cpu'):.2f} s CPU "
          "(start-up, imports, composing, validating, files)")

    ref = by["mesa reference"].ns_per_unit()
    r1 = {t: by[f"{t} R=1"].ns_per_unit() for t in ("policy", "twin")}
    print("speed-up per world-day (one world at a time / R worlds at once, wall, model.run() only):")
    print(f"  Mesa reference, twin's rules   {ref / 1000:7.1f} us per world-day "
          "(an Agent per country and party, Python floats; sim/reference.py)")
    print(f"  pdsim at R = 1                 twin {r1['twin'] / 1000:.1f} us, policy {r1['policy'] / 1000:.1f} us "
          f"per world-day (twin: {r1['twin'] / ref:.1f}x the reference's time)")
    for size in sizes:
        tw, po = by[f"twin R={size}"].ns_per_unit(), by[f"policy R={size}"].ns_per_unit()
        print(f"  R = {size:>7,}: vs Mesa reference {ref / tw:6.0f}x (twin)   "
              f"vs pdsim R = 1 {r1['twin'] / tw:6.0f}x (twin), {r1['policy'] / po:6.0f}x (policy)")
    print("  (the reference has no responders: the like-for-like ratio is the twin's; policy runs cost more)")

    if args.quick:
        print("quick run: sizes too small for the targets; no verdict")
        verdicts = {}
    else:
        top = sizes[-1]
        ratios = {}
        for t in ("policy", "twin"):
            for kind, attr in (("warm wall", "wall"), ("warm cpu", "cpu")):
                ratios[f"{t}, {kind}"] = (by[f"{t} R={top}"].ns_per_unit(attr) / by[f"{t} R={mid}"].ns_per_unit(attr)
                                          if top >= 300_000 else None)
            ratios[f"{t}, fresh process"] = fresh(top, t) / fresh(mid, t) if top >= 300_000 else None
        big_cmd = by.get("command R=100000")
        lines, verdicts = target_report({"model.run(), warm": warm, "model.run(), fresh": own}, ratios,
                                        big_cmd.median("maxrss_mb") if big_cmd else None, cmd.median())
        print("\n".join(lines))

    if args.json:
        with open(args.json, "w") as fh:
            json.dump({"horizon_days": horizon, "load_before": load0, "load_after": load1,
                       "arms": {a.name: {"units": a.units, "samples": [vars(s) for s in a.samples]} for a in arms},
                       "targets": verdicts}, fh, indent=1)
    return 0


if __name__ == "__main__":
    sys.exit(main())
