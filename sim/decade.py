"""The decade experiment (§7): how much of the 2000s' decline in conflict could better prevention account for?

    pdsim-decade [--replicates 100] [--seed 0] [--out outputs/decade] [OVERRIDE ...]

The report notes that low-intensity conflicts breaking out in 2000-2009 were barely half as many as in the 1990s,
and credits, among other causes, better prevention (§7). The model can ask the counterfactual the record cannot:
the same worlds (same seed: common random numbers, sim.streams) run twice over 1990-2010 from the `world` preset
(configs/scenario/world.yaml) —

- **reform**: the 1990s levers until 31 December 1999, then the 2000s levers (earlier warning and action, regional
  partnerships, a standby team and a wider roster, rapid-response funds: §17, §44-55, §64), as the preset says;
- **no reform**: the 1990s levers throughout (``scenario.world.reform_year=0``).

The two arms are identical until 2000 (a check printed with the results). Their paired difference over 2000-2009,
world by world, is what the reform did in the model; set beside the record's own decline from the 1990s to the
2000s (docs/validation/ucdp_targets.csv, counted by country as the model counts) it says how much of that decline
the reform could account for, with a 95 % interval across worlds.

What the model cannot tell: the record's decline had other causes the model does not hold — the end of the Cold
War's proxy wars, the growth of peacekeeping, economic growth, and chance (the record's decline counted by country
is itself uncertain: see its intervals). The lever values of both decades are assumptions, stated in the preset;
the share is therefore "how much a reform of this size would account for in this model", not a measurement.

Writes ``decade.json`` (estimates, the record, both arms' full configs, seed, version, timestamp), ``decade.csv``
(per-world values of both arms) and ``decade.png``/``.pdf`` into ``--out``/<timestamp>/.
"""

from __future__ import annotations

import argparse
import json
import sys
from dataclasses import asdict
from datetime import UTC, datetime
from pathlib import Path

import numpy as np
import pandas as pd

from sim import __version__
from sim.stats import mean_interval

#: The measures compared: (statistic of sim.world_stats per decade, the record's target, label).
MEASURES = (
    ("country_onsets_low_intensity", "low-intensity country onsets per decade"),
    ("country_onsets", "country onsets per decade"),
    ("countries_in_conflict_per_year", "countries in armed conflict per year"),
    ("countries_at_war_per_year", "countries at war per year"),
    ("share_country_years_at_war", "share of conflict country-years at war"),
)
ARMS = ("reform", "no_reform")


def arm_config(arm: str, replicates: int, seed: int, overrides: tuple[str, ...] = ()):
    from sim.runner import configure
    from sim.validation import validate

    extra = ("scenario.world.reform_year=0",) if arm == "no_reform" else ()
    return validate(configure("scenario=world", f"replicates={replicates}", f"seed={seed}", "output.events=false",
                              *overrides, *extra))


def per_world(config) -> pd.DataFrame:
    """Run one arm; its per-world values of every decade statistic (sim.world_stats.world_values)."""
    from sim.model import PreventiveDiplomacyModel
    from sim.world_stats import states_before_start, world_values
    from sim.years import years_table

    model = PreventiveDiplomacyModel(config)
    model.run()
    return world_values(years_table(model), config.scenario.world.start_year, model.year_waiting_days,
                        before=states_before_start(config.scenario.world.countries))


def estimates(reform: pd.DataFrame, no_reform: pd.DataFrame, targets: dict) -> dict:
    """Per measure: the record's 1990s and 2000s and its decline; each arm's 2000s; the reform's effect (no reform
    minus reform, paired by world) and the share of the record's decline it accounts for."""
    out = {}
    for name, label in MEASURES:
        col90, col00 = f"world_{name}_1990s", f"world_{name}_2000s"
        if col00 not in reform:
            continue
        record90, record00 = targets[col90]["value"], targets[col00]["value"]
        decline = record90 - record00
        effect = mean_interval((no_reform[col00] - reform[col00]).to_numpy(dtype=float))
        share = {k: (v / decline if v is not None and decline else None) for k, v in effect.items()
                 if k in ("mean", "ci_low", "ci_high")}
        out[name] = {
            "label": label,
            "record": {"1990s": record90, "2000s": record00, "decline": decline,
                       "1990s_interval": [targets[col90]["ci_low"], targets[col90]["ci_high"]],
                       "2000s_interval": [targets[col00]["ci_low"], targets[col00]["ci_high"]]},
            "model_1990s": mean_interval(reform[col90].to_numpy(dtype=float)),
            "reform_2000s": mean_interval(reform[col00].to_numpy(dtype=float)),
            "no_reform_2000s": mean_interval(no_reform[col00].to_numpy(dtype=float)),
            "model_decline_with_reform": mean_interval((reform[col90] - reform[col00]).to_numpy(dtype=float)),
            "model_decline_without_reform": mean_interval((no_reform[col90] - no_reform[col00]).to_numpy(dtype=float)),
            "reform_effect": effect,
            "share_of_record_decline": share,
        }
    return out


def identical_before_reform(reform: pd.DataFrame, no_reform: pd.DataFrame) -> bool:
    cols = [c for c in reform if c.endswith("_1990s")]
    return bool(np.allclose(reform[cols].to_numpy(dtype=float), no_reform[cols].to_numpy(dtype=float),
                            equal_nan=True))


def text(results: dict, same_1990s: bool) -> str:
    lines = ["The decade experiment (§7): the same worlds with and without the 2000s reform of the levers.",
             f"Arms identical before 2000 (common random numbers): {'yes' if same_1990s else 'NO'}.", ""]
    for r in results.values():
        e, s, rec = r["reform_effect"], r["share_of_record_decline"], r["record"]
        fmt = (lambda v: f"{v:.3g}" if v is not None else "n/a")  # noqa: E731
        lines.append(f"{r['label']}:")
        lines.append(f"  record   1990s {rec['1990s']:.3g} -> 2000s {rec['2000s']:.3g} (decline {rec['decline']:.3g})")
        lines.append(f"  model    1990s {fmt(r['model_1990s']['mean'])}; 2000s with reform "
                     f"{fmt(r['reform_2000s']['mean'])}, without {fmt(r['no_reform_2000s']['mean'])}")
        lines.append(f"  reform's effect in the 2000s {fmt(e['mean'])} [{fmt(e['ci_low'])}, {fmt(e['ci_high'])}]"
                     f" = {fmt(s['mean'])} [{fmt(s['ci_low'])}, {fmt(s['ci_high'])}] of the record's decline")
    lines += ["", "The rest of the decline had other causes the model does not hold (the end of the Cold War's "
              "proxy wars, peacekeeping, growth, chance); the lever values are assumptions (world.yaml)."]
    return "\n".join(lines)


def figure(reform: pd.DataFrame, no_reform: pd.DataFrame, results: dict, path: Path, footer: dict) -> list[Path]:
    """Per measure, the record's two decades beside each arm's (mean and 95 % interval)."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    from sim.analysis import style

    names = [n for n in ("country_onsets_low_intensity", "countries_in_conflict_per_year",
                         "share_country_years_at_war") if n in results]
    fig, axes = plt.subplots(1, len(names), figsize=(4.0 * len(names), 3.8))
    for ax, name in zip(np.atleast_1d(axes), names, strict=True):
        r = results[name]
        rec = r["record"]
        bars = [("record\n1990s", rec["1990s"], rec["1990s_interval"]), ("record\n2000s", rec["2000s"],
                                                                           rec["2000s_interval"]),
                ("model\n1990s", r["model_1990s"]["mean"], [r["model_1990s"]["ci_low"], r["model_1990s"]["ci_high"]]),
                ("2000s\nno reform", r["no_reform_2000s"]["mean"],
                 [r["no_reform_2000s"]["ci_low"], r["no_reform_2000s"]["ci_high"]]),
                ("2000s\nreform", r["reform_2000s"]["mean"],
                 [r["reform_2000s"]["ci_low"], r["reform_2000s"]["ci_high"]])]
        x = np.arange(len(bars))
        y = np.array([b[1] for b in bars], dtype=float)
        lo = np.array([b[2][0] if b[2][0] is not None else np.nan for b in bars], dtype=float)
        hi = np.array([b[2][1] if b[2][1] is not None else np.nan for b in bars], dtype=float)
        colours = ["0.55", "0.55", "C0", "C3", "C2"]
        ax.bar(x, y, color=colours)
        ax.errorbar(x, y, yerr=[np.nan_to_num(y - lo), np.nan_to_num(hi - y)], fmt="none", ecolor="k", capsize=3)
        ax.set_xticks(x, [b[0] for b in bars], fontsize=8)
        ax.set_title(r["label"], fontsize=9)
    fig.suptitle("The decade experiment (§7): the 2000s reform of the levers on the same worlds", fontsize=10)
    style.footer(fig, **footer, extra="record: UCDP/PRIO ACD 21.1 by country; bars: mean, 95 % interval")
    fig.tight_layout(rect=(0, 0.07, 1, 0.95))
    return style.save(fig, path)


def main(argv: list[str] | None = None) -> int:
    from sim import patterns

    ap = argparse.ArgumentParser(prog="pdsim-decade", description=__doc__.splitlines()[0])
    ap.add_argument("--replicates", type=int, default=100, help="worlds per arm (default 100)")
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--out", default="outputs/decade")
    ap.add_argument("overrides", nargs="*", help="config overrides for both arms, e.g. policy.roster_size=8")
    args = ap.parse_args(argv)
    try:
        if not 2 <= args.replicates <= 100_000:
            raise ValueError(f"--replicates = {args.replicates} is out of range: allowed 2 <= value <= 100000")
        configs = {arm: arm_config(arm, args.replicates, args.seed, tuple(args.overrides)) for arm in ARMS}
        cfg = configs["reform"]
        if not cfg.scenario.world.reform_year:
            raise ValueError("scenario.world.reform_year = 0: the reform arm needs a reform year (e.g. 2000)")
        last = cfg.scenario.world.start_year + cfg.horizon_days // 365 - 1
        if cfg.scenario.world.start_year > 1990 or last < 2009:
            raise ValueError(f"horizon_days = {cfg.horizon_days} from {cfg.scenario.world.start_year} ends in {last}: "
                             "the experiment compares 1990-1999 with 2000-2009, so the run must cover both "
                             "(horizon_days >= 7300 from 1990)")
    except patterns.CONFIG_ERRORS as err:  # ConfigError and our own ValueErrors name the field already
        print(str(err).strip() if isinstance(err, ValueError) else patterns.config_message(err), file=sys.stderr)
        return 2
    stamp = datetime.now(UTC)
    out = Path(args.out) / stamp.strftime("%Y-%m-%d_%H-%M-%S")
    print(f"Running {args.replicates} worlds x 2 arms, 1990-2010 ...", flush=True)
    values = {arm: per_world(cfg) for arm, cfg in configs.items()}
    targets = patterns.load_targets()
    results = estimates(values["reform"], values["no_reform"], targets)
    same = identical_before_reform(values["reform"], values["no_reform"])
    out.mkdir(parents=True, exist_ok=True)
    from sim.results import git_commit, json_safe

    meta = {"seed": args.seed, "replicates": args.replicates, "version": __version__, "git_commit": git_commit(),
            "timestamp": stamp.isoformat(), "identical_before_reform": same}
    (out / "decade.json").write_text(json.dumps(json_safe({
        **meta, "estimates": results, "configs": {arm: asdict(c) for arm, c in configs.items()}}), indent=2))
    frame = pd.concat([v.assign(arm=arm) for arm, v in values.items()])
    frame.to_csv(out / "decade.csv", index=False)
    figure(values["reform"], values["no_reform"], results, out / "decade",
           {"scenario": "world", "replicates": args.replicates, "seed": args.seed})
    report = text(results, same)
    (out / "decade.txt").write_text(report + "\n")
    print(report)
    print(f"Wrote {out}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
