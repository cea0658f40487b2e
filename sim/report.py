"""A readable summary table of one run, for the terminal."""

from __future__ import annotations


def _pct(d: dict | None) -> str:
    if not d or d.get("probability") is None:
        return "-"
    return f"{100 * d['probability']:5.1f} %  [{100 * d['ci_low']:.1f}, {100 * d['ci_high']:.1f}]"


def _mean(d: dict | None, unit: str = "", scale: float = 1.0) -> str:
    if not d or d.get("mean") is None:
        return "-"
    lo, hi = d.get("ci_low"), d.get("ci_high")
    ci = f"  [{lo / scale:,.1f}, {hi / scale:,.1f}]" if lo is not None and hi is not None else ""
    return f"{d['mean'] / scale:,.1f}{unit}{ci}"


def _or_dash(value) -> str:
    return "-" if value is None else f"{value:g}"


def summary_table(s: dict) -> str:
    """The headline outcomes of a summary (see RunResult.summary) as aligned text."""
    cfg = s["config"]
    pol = cfg["policy"]
    cf = s.get("counterfactual")
    rows = [
        ("scenario", f"{s['scenario']}  (stylised teaching setting, not a calibrated replica)"),
        ("worlds x days, seed", f"{s['replicates']:,} x {s['horizon_days']}, seed {s['seed']}"),
        ("policy", "intervene" if pol["intervene"] else "no intervention"),
        ("  lag / flexibility / partnership",
         f"{pol['warning_to_action_lag_days']} d / {pol['flexibility']} / {pol['partnership']}"),
        ("  early warning / sustainability / roster",
         f"{pol['early_warning']} / {pol['sustainability_days']} d / {pol['roster_size']} envoys"),
        ("", ""),
        ("escalation to armed conflict", _pct(s["escalation"])),
        ("escalation to war", _pct(s["war"])),
    ]
    if cf:
        twin = ", ".join(f"{k}={v}" for k, v in cf["policy"].items())
        p = cf["prevented"]
        rows += [
            (f"  counterfactual ({twin})", _pct(cf["escalation"])),
            ("  prevented per 100 crises",
             f"{p['estimate']:5.1f}     [{p['ci_low']:.1f}, {p['ci_high']:.1f}]  "
             f"({p['worlds_prevented']} prevented, {p['worlds_induced']} induced)"),
        ]
    if (w := s.get("world")) is not None:  # world mode: the record's measures and the roster's queue
        averted = (cf or {}).get("world", {})
        rows += [
            ("", ""),
            ("countries in armed conflict per year", _mean(w["countries_in_conflict_per_year"])),
            ("countries at war per year", _mean(w["countries_at_war_per_year"])),
            ("country onsets per world", _mean(w["country_onsets"])),
            ("crises waiting for an envoy per day", _mean(w["crises_waiting_per_day"])),
        ]
        if averted:
            rows += [("  fewer countries in conflict per year", _mean(averted["countries_in_conflict_per_year"])),
                     ("  fewer country onsets per world", _mean(averted["country_onsets"]))]
    rows += [
        ("", ""),
        ("median days to escalation", _or_dash(s["time_to_escalation"]["median"])),
        ("warning lead time (days)", _mean(s["warning"]["lead_time_days"])),
        ("warning-to-action gap (days)", _mean(s["warning_to_action_gap_days"])),
        ("warning-to-envoy gap (days)", _mean(s["warning_to_envoy_gap_days"])),
        ("days in armed conflict per world", _mean(s["conflict_days"])),
        ("relapses per world", _mean(s["relapses"])),
        ("diplomacy cost (USD million)", _mean(s["costs"]["diplomacy_usd"], scale=1e6)),
        ("war cost (USD million)", _mean(s["costs"]["expected_war_cost_usd"], scale=1e6)),
    ]
    if cf:
        ratio = cf.get("diplomacy_to_war_cost_averted")
        rows += [
            ("war cost averted (USD million)", _mean(cf["war_cost_averted_usd"], scale=1e6)),
            ("diplomacy / war cost averted", f"{ratio:.3f}" if ratio is not None else "-"),
        ]
    t = s["timing"]
    cf_time = f", twin {t['counterfactual_seconds']:.2f} s" if t.get("counterfactual_seconds") else ""
    rows.append(("wall time", f"policy {t['simulation_seconds']:.2f} s{cf_time}"))
    width = max(len(k) for k, _ in rows)
    lines = [f"{k:<{width}}  {v}" if k else "" for k, v in rows]
    lines.append("[..] = 95 % interval (Wilson for probabilities, Newcombe paired for prevented)")
    return "\n".join(lines)
