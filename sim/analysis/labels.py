"""Plain names, units and values of levers and policies, from the schema (sim/config.py metadata).

No plotting here, so the story (sim/story.py) and other text can use it without importing matplotlib.
"""

from __future__ import annotations

import numbers
from dataclasses import fields, is_dataclass
from typing import Any

#: Plain names of the levers and outcomes a sweep or a comparison names (unit from the schema).
NAMES = {
    "policy.warning_to_action_lag_days": "warning-to-action lag",
    "policy.flexibility": "flexibility",
    "policy.partnership": "partnership",
    "policy.early_warning": "early-warning quality",
    "policy.sustainability_days": "sustained engagement",
    "policy.roster_size": "envoy roster",
    "policy.tool": "ceiling of the tool ladder",
    "policy.coordination": "coordination with partners",
    "policy.information_sharing": "information sharing",
    "policy.burden_sharing": "burden sharing",
    "policy.financial_incentives": "financial incentives",
    "policy.funding_predictability": "funding predictability",
    "policy.intervene": "intervention",
    "policy.ladder_days": "days per rung of the ladder",
    "policy.budget_usd_per_year": "yearly budget",
    "scenario": "scenario",
    "scenario.regional_organisation": "regional organisation present",
    "scenario.council_unity": "Security Council unity",
    "scenario.party_will": "will of the parties",
    "scenario.warning_difficulty": "difficulty of reading warnings",
    "scenario.trigger_rate_per_year": "triggering events",
    "replicates": "worlds",
    "horizon_days": "horizon",
}
SITE_NAMES = {
    "local_preference": "local preference for indirect talks",
    "infrastructure_for_peace": "infrastructure for peace",
    "grievance": "grievance",
    "initial_tension": "initial tension",
    "war_history": "war history",
    "election_day": "election day",
}
#: Units as printed on an axis (schema units that are already a plain description stay as they are).
UNIT_TEXT = {"share 0-1": "0–1", "switch": "", "ladder rung": "", "integer": "", "tension": "tension scale",
             "USD/year (0: no cap)": "USD per year"}
#: Schema units whose value 0 means "no limit" rather than an amount (sim/config.py says so in the unit).
NO_CAP_UNITS = {"USD/year (0: no cap)"}


def _schema_meta(key: str) -> dict:
    """The schema metadata (unit, range, source) of a dotted key, {} if the schema does not declare it."""
    from sim.config import RunConfig, ScenarioConfig, SiteConfig

    parts = key.split(".")
    if len(parts) == 4 and parts[:2] == ["scenario", "sites"]:
        node: Any = SiteConfig
        parts = parts[3:]
    else:
        node = RunConfig
    for i, part in enumerate(parts):
        if not is_dataclass(node):
            return {}
        match = [f for f in fields(node) if f.name == part]
        if not match:
            return {}
        f = match[0]
        if i == len(parts) - 1:
            return dict(f.metadata)
        if part == "scenario":
            node = ScenarioConfig
        else:
            node = type(f.default_factory() if callable(f.default_factory) else f.default)
    return {}


def unit(key: str) -> str:
    """The lever's unit from the schema, as an axis shows it ('' when none)."""
    u = _schema_meta(key.lstrip("+~").removeprefix("param.")).get("unit", "")
    return UNIT_TEXT.get(u, u)


def name(key: str) -> str:
    """The plain name of a lever: 'warning-to-action lag', 'local preference for indirect talks in A'."""
    key = key.lstrip("+~").removeprefix("param.")
    if key in NAMES:
        return NAMES[key]
    parts = key.split(".")
    if len(parts) == 4 and parts[:2] == ["scenario", "sites"]:
        return f"{SITE_NAMES.get(parts[3], parts[3].replace('_', ' '))} in {parts[2]}"
    return parts[-1].removesuffix("_days").replace("_", " ")


def label(key: str) -> str:
    """An axis label: the plain name with its unit, e.g. 'warning-to-action lag (days)'."""
    u = unit(key)
    return f"{name(key)} ({u})" if u else name(key)


def money_text(usd: float) -> str:
    """An amount of money as a report prints it: 'USD 25 m', 'USD 1.5 bn', 'USD 400,000'."""
    if abs(usd) >= 1e9:
        return f"USD {usd / 1e9:,.4g} bn"
    if abs(usd) >= 1e6:
        return f"USD {usd / 1e6:,.4g} m"
    return f"USD {usd:,.0f}"


def value_text(key: str, value: Any) -> str:
    """A lever's value as a person reads it: '14 days', '0.5', 'mission', 'no intervention', 'USD 25 m'."""
    raw_unit = _schema_meta(key.lstrip("+~").removeprefix("param.")).get("unit", "")
    if raw_unit.startswith("USD") and isinstance(value, numbers.Real) and not isinstance(value, bool):
        # A sweep table stores 25000000.0; a reader wants "USD 25 m", and 0 in a capped field means no cap.
        return "no cap" if raw_unit in NO_CAP_UNITS and value == 0 else money_text(float(value))
    if isinstance(value, float) and value.is_integer() and unit(key) in ("days", "envoys"):
        value = int(value)
    if isinstance(value, bool):
        return {"policy.intervene": ("no intervention", "intervene")}.get(key, ("no", "yes"))[int(value)]
    if isinstance(value, float):
        value = f"{value:.3g}"
    u = unit(key)
    return f"{value} {u}" if u in ("days", "envoys") else str(value).replace("_", " ")


def describe_policy(changes: dict[str, Any]) -> str:
    """Policy changes in words: {'warning_to_action_lag_days': 90} -> 'warning-to-action lag 90 days'."""
    if not changes or dict(changes) == {"intervene": False}:
        return "no intervention"
    return ", ".join(f"{name('policy.' + k)} {value_text('policy.' + k, v)}" for k, v in changes.items())


def twin_label(changes: dict[str, Any] | None) -> str:
    """What the counterfactual twin is: 'twin: no intervention', 'twin: warning-to-action lag 90 days'."""
    return f"twin: {describe_policy(dict(changes or {}))}"


def twin_phrase(label: str) -> str:
    """'twin: no intervention' -> 'twin (no intervention)', for running text."""
    head, sep, rest = label.partition(": ")
    return f"{head} ({rest})" if sep else label
