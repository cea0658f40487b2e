"""The main job, ``pdsim``: run a scenario and its counterfactual twin, print and save the results.

    pdsim                                   # generic scenario, defaults
    pdsim scenario=kenya_2008 policy.warning_to_action_lag_days=30 replicates=5000 seed=7
"""

from __future__ import annotations

import json
import logging
import os
import sys
import time
from pathlib import Path

os.environ.setdefault("SOLARA_TELEMETRY_MIXPANEL_ENABLE", "False")

import hydra  # noqa: E402
from hydra.core.hydra_config import HydraConfig  # noqa: E402
from omegaconf import DictConfig  # noqa: E402

from sim.config import CONFIG_DIR, register_configs  # noqa: E402
from sim.validation import ConfigError  # noqa: E402

register_configs()


class _Progress:
    """Progress of a long single run on stderr: day reached and time left, per stage (policy, twin).

    On a terminal one line updates in place; in a log, a line every 90 days and at the end."""

    def __init__(self, total_worlds: int):
        self.show = total_worlds >= 20_000
        self.tty = sys.stderr.isatty()
        self.first: dict[str, tuple[float, int]] = {}  # stage -> (time, day) of its first report

    def __call__(self, stage: str, day: int, horizon: int) -> None:
        if not self.show:
            return
        now = time.perf_counter()
        t0, d0 = self.first.setdefault(stage, (now, day))
        rate = (now - t0) / (day - d0) if day > d0 else None  # seconds per simulated day
        left = f"about {rate * (horizon - day):.0f} s left" if rate is not None else "estimating time left"
        text = f"{stage}: day {day}/{horizon}, {left}"
        if self.tty:
            print(f"\r{text}   ", end="\n" if day >= horizon else "", file=sys.stderr, flush=True)
        elif day >= horizon or day % 90 == 0:
            print(text, file=sys.stderr, flush=True)


def run_job(cfg: DictConfig) -> dict:
    """Run one configuration and write its files into the current Hydra output directory."""
    from sim.report import summary_table
    from sim.runner import resolve, run
    from sim.sweep import job as sweep

    start, started_at = time.perf_counter(), time.time()
    out = Path(HydraConfig.get().runtime.output_dir)
    point = sweep.in_sweep()
    if point and sweep.already_done(lambda: resolve(cfg), out):  # resume: this point's row is whole
        print(f"point {HydraConfig.get().job.num}: already done ({out})")
        return json.loads((out / "summary.json").read_text())
    result = run(cfg, progress=_Progress(int(cfg.replicates)), keep_models=False)
    summary = result.summary()
    result.save(out, summary)
    if cfg.output.plot:
        from sim.plots import tension_plot  # matplotlib costs 0.5 s to import; sweeps usually skip the plot

        tension_plot(result, out / "tension.png")
    if point:  # one line per point, and the point's row for the sweep's table
        sweep.record_point(cfg, result.config, summary, time.perf_counter() - start, started_at)
        print(f"point {HydraConfig.get().job.num}: {sweep.point_line(summary)}")
        return summary
    print(summary_table(summary))
    print(f"results: {out}")
    return summary


@hydra.main(version_base="1.3", config_path=str(CONFIG_DIR), config_name="config")
def main(cfg: DictConfig) -> None:
    logging.getLogger("MESA").setLevel(logging.WARNING)  # Mesa logs every step at INFO
    try:
        run_job(cfg)
    except ConfigError as err:
        print(f"pdsim: {err}", file=sys.stderr)
        sys.exit(2)


if __name__ == "__main__":
    main()
