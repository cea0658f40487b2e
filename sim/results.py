"""Results: per-world outcomes of a run and its counterfactual twin, their summary and files.

Data flows one way: the model's end state -> ``world_outcomes`` (one value per world) ->
``RunResult.summary()`` (estimates with intervals) -> summary.json / Parquet / plots.
"""

from __future__ import annotations

import functools
import json
import math
import os
import platform
import subprocess
from dataclasses import asdict, dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import numpy as np
from scipy.special import stdtrit  # Student's t quantile; scipy.stats costs 0.4 s to import

from sim import __version__
from sim.agents import NEVER
from sim.config import RunConfig, twin_policy
from sim.files import atomic_write_text
from sim.stats import mean_interval, paired_difference, proportion

SURVIVAL_DAYS = (30, 60, 90, 180, 270, 365, 730)


def _days(values: np.ndarray) -> np.ndarray:
    """Day numbers with 'never' as NaN."""
    v = np.asarray(values, dtype=float)
    v[v >= NEVER] = np.nan
    return v


def _gap_of_first(model, day_attr: str, gap_attr: str, per_site: bool) -> np.ndarray:
    """The gap (``gap_attr``) recorded where ``day_attr`` came first — across actors for each (site, world) when
    ``per_site``, else across actors and sites for each world; NaN where it never came."""
    shape = model.tension.shape if per_site else (model.replicates,)
    if not model.responders:
        return np.full(shape, np.nan)
    days = np.stack([getattr(r, day_attr) for r in model.responders]).reshape(-1, *shape)
    gaps = np.stack([getattr(r, gap_attr) for r in model.responders]).reshape(-1, *shape)
    first = days.argmin(axis=0)[None]
    came = np.take_along_axis(days, first, 0)[0] < NEVER
    return _days(np.where(came, np.take_along_axis(gaps, first, 0)[0], NEVER))


def world_outcomes(model) -> dict[str, np.ndarray]:
    """One value per replicate world, read off a finished model."""
    c = model.costs
    first_warning = np.full(model.tension.shape, NEVER, dtype=np.int64)
    first_envoy = first_warning.copy()
    diplomacy = np.zeros(model.replicates)
    false_alarms = np.zeros(model.replicates, dtype=np.int64)
    for r in model.responders:
        np.minimum(first_warning, r.first_warning, out=first_warning)
        np.minimum(first_envoy, r.first_envoy, out=first_envoy)
        false_alarms += r.false_alarms.sum(axis=0)
        diplomacy += (
            r.statements.sum(axis=0) * c.statement
            + r.fact_findings.sum(axis=0) * c.fact_finding
            + sum(med.deployed_days for med in r.mediators) * c.envoy_per_day
            + r.mission_days.sum(axis=0) * c.mission_per_day
            + r.coercive_days.sum(axis=0) * c.coercive_per_day
            + r.false_alarms.sum(axis=0) * c.false_alarm
        )
    # The world's first warning; the realised gaps of the engagement that acted first (its warning to its first
    # step) and of the first envoy's (its warning to the envoy's arrival), whichever actor and site they were.
    warned = _days(first_warning.min(axis=0))
    gap = _gap_of_first(model, "first_action", "first_action_gap", per_site=False)
    envoy_gap = _gap_of_first(model, "first_envoy", "first_envoy_gap", per_site=False)
    # Across every site an envoy reached: how long it waited from the warning acted on (clustered crises queue, §62).
    site_gaps = _gap_of_first(model, "first_envoy", "first_envoy_gap", per_site=True)
    counted = np.isfinite(site_gaps).sum(axis=0)
    mean_site_gap = np.where(counted > 0, np.nansum(site_gaps, axis=0) / np.maximum(counted, 1), np.nan)
    escalation_day = _days(model.first_escalation)
    lead = escalation_day - warned
    lead[~(lead >= 0)] = np.nan  # only warnings that came before the escalation count as lead time
    conflict_days = model.conflict_days - model.war_days
    escalated = model.first_escalation < NEVER
    final_tension = model.tension.max(axis=0)
    return {
        "escalated": escalated,
        "escalated_within_1y": model.first_escalation <= 365,
        # Madagascar's signature (§20, §36-37): never escalated, yet not calm at the end — tension still at a
        # level where a warning would be no false alarm (dynamics.false_alarm_tension).
        "unresolved": ~escalated & (final_tension >= model.dyn.false_alarm_tension),
        "in_conflict_at_end": model.phase.max(axis=0) >= 3,
        "settlements": model.settlements.astype(float),
        "onsets": model.onsets.astype(float),  # armed-conflict episodes begun (a country's fighting resuming)
        "fallbacks": model.fallbacks.astype(float),  # wars that fell back to minor conflict
        "envoy_engaged": first_envoy.min(axis=0) < NEVER,
        "sites_with_envoy": (first_envoy < NEVER).sum(axis=0).astype(float),
        "war": model.first_war < NEVER,
        "sites_escalated": model.site_escalated.sum(axis=0).astype(float),
        "escalation_day": escalation_day,
        "war_day": _days(model.first_war),
        "first_warning_day": warned,
        "warning_lead_days": lead,
        "warning_to_action_days": gap,
        "warning_to_envoy_days": envoy_gap,
        "warning_to_envoy_days_all_sites": mean_site_gap,
        "conflict_days": model.conflict_days.astype(float),
        "war_days": model.war_days.astype(float),
        "relapses": model.relapses.astype(float),
        "false_alarms": false_alarms.astype(float),
        "diplomacy_cost": diplomacy,
        # Days of fighting inside the horizon, plus the recovery a war leaves behind (§8).
        "war_cost": conflict_days * c.armed_conflict_per_day + model.war_days * c.war_per_day
        + (model.first_war < NEVER) * (c.war_recovery_years * 365 * c.recovery_loss_share * c.war_per_day),
        "final_infrastructure": model.infrastructure.mean(axis=0).astype(float),
        # The ensemble member whose parameter set the world drew (-1 without parameter uncertainty).
        "member": model.member if model.member is not None else np.full(model.replicates, -1),
        # Crisis-days spent waiting for an envoy (requested and ready, none free: the roster queue, §62-64).
        "crisis_days_waiting": model.year_waiting_days.sum(axis=0).astype(float),
        **country_years(model),
    }


def country_years(model) -> dict[str, np.ndarray]:
    """Per world, the run's complete years coded as UCDP would (sim.years): mean countries in armed conflict and at
    war per year, and country onsets (active after a year without; a country fighting on day 1 counts as active
    the year before). World mode's headline outputs; defined for any scenario (NaN without a complete year)."""
    from sim.years import MINOR, WAR, code_state, days_in_year

    complete = days_in_year(int(model.horizon)) >= 365
    state = code_state(model.year_conflict_days[complete], model.year_war_days[complete])  # (Y, S, R)
    if not state.shape[0]:
        nan = np.full(model.replicates, np.nan)
        return {"countries_in_conflict_per_year": nan, "countries_at_war_per_year": nan, "country_onsets": nan}
    active = state >= MINOR
    before = np.concatenate([model.fighting_at_start[None], active[:-1]])
    return {
        "countries_in_conflict_per_year": active.sum(axis=1).mean(axis=0),
        "countries_at_war_per_year": (state == WAR).sum(axis=1).mean(axis=0),
        "country_onsets": (active & ~before).sum(axis=(0, 1)).astype(float),
    }


def survival(escalation_day: np.ndarray, horizon: int) -> dict[str, float]:
    """Share of worlds not yet escalated by each day (no censoring before the horizon)."""
    days = [d for d in SURVIVAL_DAYS if d <= horizon] + ([horizon] if horizon not in SURVIVAL_DAYS else [])
    esc = np.nan_to_num(escalation_day, nan=np.inf)
    return {str(d): float((esc > d).mean()) for d in sorted(set(days))}


@functools.lru_cache(maxsize=1)
def git_commit() -> str | None:
    """The checkout's commit (asked once per process: it shells out)."""
    try:
        out = subprocess.run(
            ["git", "rev-parse", "--verify", "-q", "HEAD"],
            cwd=Path(__file__).parent, capture_output=True, text=True, timeout=5,
        )
        return out.stdout.strip() if out.returncode == 0 and out.stdout.strip() else None
    except (OSError, subprocess.SubprocessError):
        return None


def json_safe(obj: Any) -> Any:
    """JSON-safe: NaN and inf become null, NumPy scalars become Python numbers."""
    if isinstance(obj, dict):
        return {k: json_safe(v) for k, v in obj.items()}
    if isinstance(obj, (list, tuple)):
        return [json_safe(v) for v in obj]
    if isinstance(obj, (np.floating, float)):
        f = float(obj)
        return f if math.isfinite(f) else None
    if isinstance(obj, np.integer):
        return int(obj)
    if isinstance(obj, np.bool_):
        return bool(obj)
    return obj


@dataclass
class RunResult:
    """A policy run and (optionally) its counterfactual twin, over the same R worlds."""

    config: RunConfig
    outcomes: dict[str, np.ndarray]
    timeseries: Any  # pandas DataFrame from the model's DataCollector
    simulation_seconds: float
    twin_outcomes: dict[str, np.ndarray] | None = None
    twin_timeseries: Any = None
    counterfactual_seconds: float | None = None
    model: Any = None  # the finished policy model (event log, agents); not saved
    twin_model: Any = None
    years: Any = None  # per-year day counts of the policy run (sim.years.counts_of), for years.parquet
    twin_years: Any = None
    timestamp: str = field(default_factory=lambda: datetime.now(UTC).isoformat(timespec="seconds"))

    def summary(self) -> dict[str, Any]:
        cfg, o = self.config, self.outcomes
        out: dict[str, Any] = {
            "scenario": cfg.scenario.name,
            "replicates": cfg.replicates,
            "seed": cfg.seed,
            "horizon_days": cfg.horizon_days,
            "version": __version__,
            "git_commit": git_commit(),
            "timestamp": self.timestamp,
            "python": platform.python_version(),
            "escalation": proportion(o["escalated"]),
            "escalation_within_1y": proportion(o["escalated_within_1y"]),
            "war": proportion(o["war"]),
            "unresolved": proportion(o["unresolved"]),
            "in_conflict_at_end": proportion(o["in_conflict_at_end"]),
            "settlements": mean_interval(o["settlements"]),
            "sites_escalated": mean_interval(o["sites_escalated"]),
            "time_to_escalation": {
                **mean_interval(o["escalation_day"]),
                "survival": survival(o["escalation_day"], cfg.horizon_days),
            },
            "warning": {
                "lead_time_days": mean_interval(o["warning_lead_days"]),
                "warned_before_escalation": proportion(
                    np.isfinite(o["warning_lead_days"])[o["escalated"]]
                ),
                "false_alarms_per_world": mean_interval(o["false_alarms"]),
            },
            "warning_to_action_gap_days": mean_interval(o["warning_to_action_days"]),
            "warning_to_envoy_gap_days": mean_interval(o["warning_to_envoy_days"]),
            "warning_to_envoy_gap_days_all_sites": mean_interval(o["warning_to_envoy_days_all_sites"]),
            "conflict_days": mean_interval(o["conflict_days"]),
            "war_days": mean_interval(o["war_days"]),
            "relapses": {
                **mean_interval(o["relapses"]),
                "share_with_relapse": proportion(o["relapses"] > 0),
            },
            "costs": {
                "diplomacy_usd": mean_interval(o["diplomacy_cost"]),
                "expected_war_cost_usd": mean_interval(o["war_cost"]),
            },
            "timing": {
                "simulation_seconds": self.simulation_seconds,
                "counterfactual_seconds": self.counterfactual_seconds,
            },
        }
        if cfg.scenario.world.countries:  # world mode: the record's measures, and the roster's queue (§62-64)
            out["world"] = {
                "countries_in_conflict_per_year": mean_interval(o["countries_in_conflict_per_year"]),
                "countries_at_war_per_year": mean_interval(o["countries_at_war_per_year"]),
                "country_onsets": mean_interval(o["country_onsets"]),
                "crises_waiting_per_day": mean_interval(o["crisis_days_waiting"] / cfg.horizon_days),
                "onsets": mean_interval(o["onsets"]),
                "settlements": mean_interval(o["settlements"]),
            }
        if self.twin_outcomes is not None:
            out["counterfactual"] = self._counterfactual()
            if "world" in out:  # what prevention changed in the world, paired by world (twin minus policy)
                t = self.twin_outcomes
                out["counterfactual"]["world"] = {
                    name: mean_interval(t[name] - o[name])
                    for name in ("countries_in_conflict_per_year", "countries_at_war_per_year", "country_onsets")
                }
        if cfg.uncertainty.enabled:
            out["parameter_uncertainty"] = self._parameter_uncertainty()
        out["config"] = asdict(cfg)
        return json_safe(out)

    def _counterfactual(self) -> dict[str, Any]:
        o, t = self.outcomes, self.twin_outcomes
        prevented = paired_difference(t["escalated"], o["escalated"])
        war_prevented = paired_difference(t["war"], o["war"])
        averted = t["war_cost"] - o["war_cost"]
        diplomacy = float(o["diplomacy_cost"].mean() - t["diplomacy_cost"].mean())
        n_prevented = prevented["x_only"] - prevented["y_only"]
        averted_mean = float(averted.mean())
        return {
            "policy": twin_policy(self.config.counterfactual),
            "escalation_probability": float(t["escalated"].mean()),
            "escalation": proportion(t["escalated"]),
            "war": proportion(t["war"]),
            # Escalations prevented per 100 crises: the paired difference twin - policy, x 100.
            "prevented": {
                "estimate": 100 * prevented["estimate"],
                "ci_low": 100 * prevented["ci_low"],
                "ci_high": 100 * prevented["ci_high"],
                "worlds_prevented": prevented["x_only"],
                "worlds_induced": prevented["y_only"],
            },
            "war_prevented": {
                "estimate": 100 * war_prevented["estimate"],
                "ci_low": 100 * war_prevented["ci_low"],
                "ci_high": 100 * war_prevented["ci_high"],
            },
            "war_cost_averted_usd": mean_interval(averted),
            "extra_diplomacy_cost_usd": diplomacy,
            "cost_per_escalation_prevented_usd": (
                diplomacy * len(averted) / n_prevented if n_prevented > 0 else None
            ),
            "diplomacy_to_war_cost_averted": diplomacy / averted_mean if averted_mean > 0 else None,
            "days_in_conflict_averted": mean_interval(t["conflict_days"] - o["conflict_days"]),
            "selection": self._selection(),
        }

    def _parameter_uncertainty(self) -> dict[str, Any]:
        """How much of the spread is parameter uncertainty, how much Monte Carlo noise.

        Each ensemble member m ran K worlds with its own coefficients; its escalation share p_m scatters
        by Var_theta(p) (the parameters) plus p(1-p)/K (Monte Carlo). By the law of total variance the
        parameter part is var(p_m) - mean(p_m (1 - p_m)) / K (floored at 0).

        Two readings: ``by_member_q05``..``q95`` is the range of the outcome over plausible parameter sets;
        ``ci_low``..``ci_high`` is the interval of the ensemble mean, with members as clusters (a t interval
        over the M member means). The Wilson interval of ``escalation`` treats worlds as independent and so
        holds Monte Carlo noise only: under parameter uncertainty read this one."""
        o = self.outcomes
        member = o["member"]
        members = np.unique(member)
        out: dict[str, Any] = {"members": int(members.size)}
        for name, flags in (("escalation", o["escalated"]), ("prevented", None)):
            if flags is None:
                if self.twin_outcomes is None:
                    continue
                flags = self.twin_outcomes["escalated"].astype(float) - o["escalated"]
            groups = [flags[member == m].astype(float) for m in members]
            p = np.array([g.mean() for g in groups])
            within = float(np.mean([g.var() / g.size for g in groups]))  # Monte Carlo variance of a member mean
            total = float(np.var(p, ddof=1)) if p.size > 1 else math.nan
            between = max(0.0, total - within) if math.isfinite(total) else math.nan
            t = stdtrit(p.size - 1, 0.975) if p.size > 1 else math.nan
            half = float(t * np.std(p, ddof=1) / math.sqrt(p.size)) if p.size > 1 else math.nan
            out[name] = {
                "estimate": float(flags.mean()), "ci_low": float(p.mean() - half), "ci_high": float(p.mean() + half),
                "by_member_q05": float(np.quantile(p, 0.05)), "by_member_median": float(np.median(p)),
                "by_member_q95": float(np.quantile(p, 0.95)),
                "variance_between_members": total, "monte_carlo_variance": within,
                "share_from_parameters": between / total if total and total > 0 else math.nan,
            }
        return out

    def _selection(self) -> dict[str, Any]:
        """Why observational studies understate prevention (Öberg et al. 2009): responders send envoys
        to the crises that look worst. The naive comparison — escalation where an envoy was engaged minus
        where none was, within the policy run — set beside the causal effect on those same engaged worlds
        (their twin's escalation minus their own), which only a simulation can measure (§59-60)."""
        o, t = self.outcomes, self.twin_outcomes
        engaged = o["envoy_engaged"]
        if engaged.all() or not engaged.any():
            return {"naive_difference": None, "causal_effect_on_engaged": None, "engaged_share": float(engaged.mean())}
        naive = float(o["escalated"][engaged].mean() - o["escalated"][~engaged].mean())
        causal = float(o["escalated"][engaged].mean() - t["escalated"][engaged].mean())
        return {"naive_difference": naive, "causal_effect_on_engaged": causal, "engaged_share": float(engaged.mean())}

    def save(self, directory: str | os.PathLike, summary: dict[str, Any] | None = None) -> Path:
        """Write summary.json, per-world outcomes and per-day aggregates (Parquet) into ``directory``;
        ``summary`` if already computed (it shells out for the git commit)."""
        import pyarrow as pa
        import pyarrow.parquet as pq

        d = Path(directory)
        d.mkdir(parents=True, exist_ok=True)
        summary = self.summary() if summary is None else summary
        meta = {b"pdsim": json.dumps({k: summary[k] for k in ("version", "seed", "timestamp", "config")})}
        tables = {"outcomes": self.outcomes, "timeseries": self.timeseries}
        if self.twin_outcomes is not None:
            tables |= {"twin_outcomes": self.twin_outcomes, "twin_timeseries": self.twin_timeseries}
        for name, data in tables.items():
            # One thread (as sim.years.save_years): small tables, where pyarrow's thread pool costs more than it saves.
            table = pa.Table.from_pandas(data, nthreads=1) if hasattr(data, "columns") else pa.table(data)
            pq.write_table(table.replace_schema_metadata(meta), d / f"{name}.parquet")
        from sim.years import save_years  # years.parquet / twin_years.parquet: per-world years in UCDP terms

        save_years(self, d, meta)
        return atomic_write_text(d / "summary.json", json.dumps(summary, indent=2))
