"""The run configuration: one typed schema for every parameter, its unit, range and source.

This is the single source of truth for defaults. Hydra composes YAML files (``configs/``) onto
these dataclasses, so a wrong type is rejected by Hydra itself; ranges and names are checked by
:mod:`sim.validation` before any simulation starts. Each field's ``metadata`` carries

- ``range``: the allowed closed interval (``None`` for an open end), or ``choices``;
- ``unit``: the unit of the value;
- ``source``: the report paragraph (§) or literature the default rests on, or ``assumption``.

``docs/ODD.md`` lists the same parameters; ``tests/test_odd.py`` checks the two agree.
"""

from __future__ import annotations

import zlib
from dataclasses import dataclass, field, fields, is_dataclass
from pathlib import Path
from typing import Any

from omegaconf import SI

#: Days in a model year: every rate "per year" is per 365 days (no leap years; sim.model steps one day at a time).
DAYS_PER_YEAR = 365

#: The ladder of tools from the mildest to the most forceful (§12–14, §42, §47).
TOOLS = ("statement", "fact_finding", "envoy", "mission", "coercive")
#: dynamics.infrastructure_halted_by -> the lowest phase in which no infrastructure for peace is built (None: none).
INFRASTRUCTURE_HALT = {"war": 4, "armed_conflict": 3, "nothing": None}

#: Names of the five phases; their lines sit at tension 1, 2, 3, 4 (a latent scale; assumption).
PHASES = ("stable", "dispute", "crisis", "armed_conflict", "war")


def param(default: Any, *, unit: str, source: str, lo=None, hi=None, choices=None, plausible=None, **kw):
    """A schema field with its unit, allowed range, plausible range and source recorded as metadata."""
    meta = {"unit": unit, "source": source}
    if plausible is not None:
        meta["plausible"] = tuple(plausible)
    if choices is not None:
        meta["choices"] = tuple(choices)
    else:
        meta["range"] = (lo, hi)
    if isinstance(default, (list, dict)):
        return field(default_factory=lambda: type(default)(default), metadata=meta, **kw)
    return field(default=default, metadata=meta, **kw)


@dataclass
class PolicyConfig:
    """The levers: the report's success factors (§41–64) as the user sweeps them."""

    intervene: bool = param(True, unit="switch", source="§59-60: the counterfactual is 'no intervention'")
    warning_to_action_lag_days: int = param(
        14, unit="days", lo=0, hi=730, source="§47 warning-response gap; default an assumption"
    )
    flexibility: float = param(
        0.5, unit="share 0-1", lo=0.0, hi=1.0, source="§48-50; default an assumption"
    )
    partnership: float = param(0.5, unit="share 0-1", lo=0.0, hi=1.0, source="§51-55, §16")
    early_warning: float = param(0.5, unit="share 0-1", lo=0.0, hi=1.0, source="§44-46")
    sustainability_days: int = param(
        90, unit="days", lo=0, hi=3650, source="§56-58; default an assumption"
    )
    roster_size: int = param(3, unit="envoys", lo=0, hi=100, source="§17, §62")
    tool: str = param("envoy", unit="ladder rung", choices=TOOLS, source="§12-14, §42, §47")
    ladder_days: int = param(
        7, unit="days", lo=1, hi=365, source="assumption: one rung a week while the crisis persists"
    )
    # Detailed parameters behind `partnership` (§51-52); each follows the headline unless set.
    information_sharing: float = param(
        SI("${.partnership}"), unit="share 0-1", lo=0.0, hi=1.0, source="§46, §51, §65"
    )
    coordination: float = param(
        SI("${.partnership}"), unit="share 0-1", lo=0.0, hi=1.0, source="§16, §52, §69"
    )
    burden_sharing: float = param(
        SI("${.partnership}"), unit="share 0-1", lo=0.0, hi=1.0, source="§51"
    )
    #: Inducements from financial institutions (§53). Not tied to ``partnership``: the evidence on
    #: carrots is mixed — they add leverage but are associated with more escalation (Öberg et al. 2009).
    financial_incentives: float = param(
        0.3, unit="share 0-1", lo=0.0, hi=1.0, source="§53; Öberg, Möller & Wallensteen 2009"
    )
    funding_predictability: float = param(
        0.5, unit="share 0-1", lo=0.0, hi=1.0, source="§64, §68"
    )
    #: The UN's money for preventive diplomacy in each world and calendar year of the run, shared by every
    #: crisis (§8: UNOWA runs on under USD 8 million a year; §62-64: resources). Once a year's spending reaches
    #: it, no new envoy is sent and no new mission starts until the next year. 0: no cap.
    budget_usd_per_year: float = param(
        0.0, unit="USD/year (0: no cap)", lo=0.0, hi=1e12, source="§8, §62-64"
    )


#: The headline levers a sweep names (§41-64); the others in PolicyConfig are their details.
HEADLINE_LEVERS = (
    "warning_to_action_lag_days",
    "flexibility",
    "partnership",
    "early_warning",
    "sustainability_days",
    "roster_size",
)


@dataclass
class SiteConfig:
    """One country of the scenario's region (named by its key in ``scenario.sites``)."""

    initial_tension: float = param(1.5, unit="tension", lo=0.0, hi=5.0, source="scenario")
    grievance: float = param(2.0, unit="tension", lo=0.0, hi=5.0, source="scenario; Epstein 2002")
    infrastructure_for_peace: float = param(0.1, unit="share 0-1", lo=0.0, hi=1.0, source="§56")
    war_history: bool = param(False, unit="switch", source="§29 conflict trap")
    local_preference: float = param(
        0.0, unit="0 direct talks .. 1 indirect talks", lo=0.0, hi=1.0, source="§49"
    )
    #: False: outsiders do not know the preference; each world draws indirect talks with probability
    #: ``local_preference`` (§48-50: "regions and groups prefer different approaches").
    preference_known: bool = param(True, unit="switch", source="§48-50")
    election_day: int = param(
        -1, unit="day (-1 none)", lo=-1, hi=36_500, source="§39-40 election-related violence"
    )
    #: A deadlocked power struggle: how much wider the parties' "hold" band is — neither side takes up arms
    #: nor concedes without a strong push (elites without armed followers; e.g. Madagascar 2009, §20,
    #: §36-37). 0 in most presets.
    deadlock: float = param(
        0.0, unit="propensity", lo=0.0, hi=5.0, source="assumption; §20, §36-37 unconstitutional changes"
    )
    scheduled_shock: float = param(
        1.0, unit="x trigger_shock", lo=0.0, hi=5.0, source="§35-40: the size of the scheduled event's shock"
    )
    #: How often triggering events come here, as a multiple of the scenario's ``trigger_rate_per_year``: in world
    #: mode a history of armed conflict brings more of them (``scenario.world.trigger_history``, §29). 1 elsewhere.
    trigger_multiplier: float = param(
        1.0, unit="x trigger_rate_per_year", lo=0.0, hi=50.0, source="§29, §35-40; world mode: sim.world"
    )
    #: The region (``scenario.regions``) whose regional organisation covers this country; empty: the scenario's
    #: one regional organisation covers it (single-crisis presets).
    region: str = ""


@dataclass
class RegionConfig:
    """A region's regional organisation (the AU, OAS, ASEAN, OSCE/EU, League of Arab States): its own envoys
    and the legitimacy its mediation carries with the region's parties (§22-25, §46, §51-55)."""

    envoys: int = param(1, unit="envoys", lo=0, hi=100, source="§51-55 (capacity differs by region)")
    legitimacy: float = param(0.8, unit="leverage share", lo=0.0, hi=10.0, source="§46, §51")


@dataclass
class WorldConfig:
    """World mode: many countries at once, from a table (configs/world/), over calendar years.

    Empty ``countries``: not a world (a single-crisis preset lists its sites). Otherwise the scenario's sites
    and borders come from the table; a country's grievance rises with its armed-conflict history before the
    start year (§29: conflict begets conflict), and countries fighting in the year before start there."""

    countries: str = ""  # a CSV file name under configs/world/
    start_year: int = param(1990, unit="calendar year of day 1", lo=1946, hi=2100, source="UCDP/PRIO period")
    grievance_base: float = param(
        1.31, unit="tension", lo=0.0, hi=5.0, plausible=(1.06, 1.49),
        source="world baseline fitted to UCDP/PRIO 1990-1999: docs/validation/WORLD_CALIBRATION.md",
    )
    grievance_history: float = param(
        1.74, unit="tension at a history of conflict in every year", lo=0.0, hi=5.0, plausible=(0.486, 2.82),
        source="§29 conflict trap; world baseline fitted to UCDP/PRIO 1990-1999: docs/validation/WORLD_CALIBRATION.md",
    )
    #: How much more often triggering events (contested elections, coups, crackdowns) come to a country with a
    #: history of armed conflict: its rate is ``trigger_rate_per_year`` x (1 + ``trigger_history`` x h), h the
    #: share of 1946-1989 years in conflict. The conflict trap as a risk of new crises (Mueller: an onset hazard
    #: below 1 % a year without recent violence, above 9 % with it; Hegre et al. 2013: conflict history feeds back
    #: into risk), beside the grievance it leaves.
    trigger_history: float = param(
        1.37, unit="extra triggers per year at a history of conflict in every year, x the scenario's rate",
        lo=0.0, hi=50.0, plausible=(0.137, 6.72),
        source="§29 conflict trap; Mueller; Hegre et al. 2013; world baseline fitted to UCDP/PRIO 1990-1999: "
        "docs/validation/WORLD_CALIBRATION.md",
    )
    #: How fast the weight of a country's conflict history fades with the years of peace since its last conflict
    #: before the start year (e-folding years; 0: it does not fade). 0 by default: with 10 years (Collier & Hoeffler
    #: 2004: risk falls as peace lasts) and the baseline re-fitted, 28 of 30 targets either way, but the held-out
    #: 2000s did worse (4 of 5; measured before engagement stopped building infrastructure for peace in armed
    #: conflict; docs/WORLD.md): one more assumption for no gain.
    history_memory_years: float = param(
        0.0, unit="years (e-folding; 0: no fading)", lo=0.0, hi=100.0,
        source="Collier & Hoeffler 2004; Walter 2004; compared in docs/WORLD.md",
    )
    #: Starting tension of a country active in the year before start: at war (intensity 2), in minor conflict,
    #: or calm (then a little below its grievance).
    war_tension: float = param(4.3, unit="tension", lo=0.0, hi=5.0, source="UCDP/PRIO state in the year before")
    minor_tension: float = param(3.3, unit="tension", lo=0.0, hi=5.0, source="UCDP/PRIO state in the year before")
    #: The levers change on 1 January of ``reform_year`` to ``policy`` with ``reform`` on top (the report's
    #: decade, §7: early warning, shorter lags, partnerships, a standby team and rapid-response funds, §17,
    #: §44-55, §64). 0: no change.
    reform_year: int = param(0, unit="calendar year (0: none)", lo=0, hi=2100, source="§7")
    reform: dict[str, Any] = field(default_factory=dict)
    #: Per-country changes on top of the table, e.g. ``scenario.world.sites.Kenya.grievance=3``.
    sites: dict[str, Any] = field(default_factory=dict)


@dataclass
class ScenarioConfig:
    """A region in crisis. Presets are stylised teaching settings, not calibrated replicas."""

    name: str = "generic"
    description: str = "A generic crisis in one country with two neighbours."
    assumptions: list[str] = field(default_factory=list)
    #: The region's countries by name, in order; override one as ``scenario.sites.A.grievance=2.5``.
    #: Empty in the schema: each preset (configs/scenario/NAME.yaml) brings its own, so that composing a
    #: preset never mixes in another's countries.
    sites: dict[str, SiteConfig] = field(default_factory=dict)
    #: Pairs of neighbouring sites (by name) along which war spills over (§19, §24).
    borders: list[list[str]] = field(default_factory=list)
    #: Outsiders know a country's grievance only roughly, and crises of one kind differ: each world draws each
    #: site's grievance from a normal distribution around its value with this standard deviation. Without it a
    #: preset sits on a knife edge (a tenth of a tension unit of grievance swings escalation by tens of points).
    grievance_spread: float = param(
        0.15, unit="tension (s.d. across worlds)", lo=0.0, hi=2.0, source="assumption; Clayton & Gleditsch 2014"
    )
    council_unity: float = param(0.6, unit="share 0-1", lo=0.0, hi=1.0, source="§11, §16")
    regional_organisation: bool = param(True, unit="switch", source="§51-52")
    regional_envoys: int = param(1, unit="envoys", lo=0, hi=20, source="§46, §51")
    preference_shift_per_year: float = param(
        0.5, unit="events/year", lo=0.0, hi=12.0, source="§48-50 changing patterns; assumption"
    )
    trigger_rate_per_year: float = param(
        1.0, unit="events/year/site", lo=0.0, hi=52.0, source="§35-40 coups, elections"
    )
    party_will: float = param(
        1.0, unit="share of pressure heeded", lo=0.0, hi=1.0, source="§41: the will of the parties"
    )
    #: The policy preset (configs/policy/NAME.yaml) holding the levers this case's responders actually used
    #: (who acted, how fast, with whom, with which tools); run it with ``policy=NAME``. Empty: none.
    history: str = ""
    warning_difficulty: float = param(
        1.0, unit="x observer noise", lo=0.0, hi=10.0, source="§44: crises that take the world by surprise"
    )
    #: World mode: one regional organisation per region (by name); empty: one organisation for the whole
    #: scenario, with ``regional_envoys`` envoys and ``dynamics.regional_legitimacy``.
    regions: dict[str, RegionConfig] = field(default_factory=dict)
    world: WorldConfig = field(default_factory=WorldConfig)


@dataclass
class DynamicsConfig:
    """Behavioural coefficients of parties, tension, observers and mediators (docs/ODD.md §7).

    ``plausible`` is the range a coefficient could take given its source (both ends); with
    ``uncertainty.enabled`` each ensemble member draws its coefficients from these ranges."""

    # Parties (Fearon 1995; Epstein 2002 threshold rule; escalation spirals).
    party_noise: float = param(0.55, unit="logistic scale", lo=0.01, hi=10.0, plausible=(0.45, 0.65),
                               source="assumption: ordered logit")
    party_threshold: float = param(
        0.9, unit="propensity", lo=0.0, hi=10.0, plausible=(0.8, 1.0), source="assumption: ordered-logit cut"
    )
    weight_grievance: float = param(0.35, unit="per tension", lo=0.0, hi=10.0, plausible=(0.25, 0.45),
                                    source="Epstein 2002")
    weight_tension: float = param(0.25, unit="per tension", lo=0.0, hi=10.0, plausible=(0.18, 0.32),
                                  source="spiral; §44")
    weight_reciprocity: float = param(
        0.45, unit="per move", lo=0.0, hi=10.0, plausible=(0.35, 0.55), source="escalation spirals; Fearon 1995"
    )
    weight_war_cost: float = param(
        2.74, unit="per tension above the armed-conflict line", lo=0.0, hi=10.0, plausible=(0.99, 2.97),
        source="Fearon 1995 costs of war; fitted: docs/validation/CALIBRATION.md",
    )
    conflict_trap: float = param(0.292, unit="propensity", lo=0.0, hi=10.0, plausible=(0.198, 0.463),
                                 source="§29; Walter 2011; fitted: docs/validation/CALIBRATION.md")
    hardening_per_day: float = param(
        0.01, unit="1/day in crisis", lo=0.0, hi=1.0, plausible=(0.005, 0.02),
        source="Bercovitch 1996; Regan & Stam 2000",
    )
    hardening_on_bloodshed: float = param(
        1.0, unit="jump on each entry into armed conflict", lo=0.0, hi=10.0, plausible=(0.5, 1.5),
        source="§47 window; Bercovitch 1996",
    )
    hardening_decay: float = param(
        0.005, unit="1/day when stable", lo=0.0, hi=1.0, plausible=(0.0025, 0.01),
        source="assumption; range: judgement, half to double, as hardening_per_day (assumption)",
    )
    # The conflict life cycle (Zartman's ripeness; Greig; Ruhe 2015; UCDP/PRIO annual transitions).
    weight_fatigue: float = param(
        0.0108, unit="propensity per year of fighting", lo=0.0, hi=10.0, plausible=(7.98e-05, 0.0537),
        source="Zartman: a hurting stalemate; fitted: docs/validation/CALIBRATION.md",
    )
    fatigue_memory_days: float = param(
        730.0, unit="days (decay time outside fighting)", lo=1.0, hi=36_500.0, source="assumption"
    )
    end_rate_minor_per_year: float = param(
        2.63, unit="1/year", lo=0.0, hi=12.0, plausible=(0.328, 4.8),
        source="fitted to UCDP/PRIO 1990-2019 (minor -> ended 27.3 %/year): docs/validation/CALIBRATION.md",
    )
    end_rate_war_per_year: float = param(
        0.00049, unit="1/year", lo=0.0, hi=12.0, plausible=(0.000257, 0.414),
        source="fitted to UCDP/PRIO 1990-2019 (war -> ended 6.5 %/year): docs/validation/CALIBRATION.md",
    )
    war_fallback_per_year: float = param(
        0.922, unit="1/year", lo=0.0, hi=12.0, plausible=(0.498, 1.83),
        source="fitted to UCDP/PRIO 1990-2019 (war -> minor 28 %/year): docs/validation/CALIBRATION.md",
    )
    settlement_fatigue: float = param(
        0.0376, unit="x end rate per year of fighting", lo=0.0, hi=10.0, plausible=(0.0, 4.15),
        source="an end hazard rising with war-weariness (Zartman ripeness) on its own, without mediation; fitted "
        "near 0: the record does not support it once conflicts differ in kind (docs/validation/CALIBRATION.md); "
        "ripeness acts on mediation (mediation_ripeness)",
    )
    intractability_spread: float = param(
        1.97, unit="variance of a conflict's end-hazard multiplier (gamma, mean 1; 0: every conflict alike)",
        lo=0.0, hi=20.0, plausible=(1.02, 3.99),
        source="Fearon 2004; Collier, Hoeffler & Soderbom 2004: some kinds of conflict last far longer "
        "(duration heterogeneity; Vaupel et al. 1979 frailty); fitted: docs/validation/CALIBRATION.md",
    )
    # A conflict's kind also sets how it is fought (Balcells & Kalyvas 2014: conventional civil wars are the more
    # lethal and the shorter, irregular insurgencies the longer and the less intense; Fearon 2004: sons-of-the-soil
    # insurgencies smoulder for decades). Both follow the same draw as the intractability (ODD 7.4).
    war_cost_intractability: float = param(
        1.0, unit="exponent k: a conflict's war-cost brake x Z^-k (Z its end-hazard multiplier; 0: no link)",
        lo=0.0, hi=4.0, plausible=(0.26, 2.92),
        source="Balcells & Kalyvas 2014; Fearon 2004: the conflicts that last are fought at low intensity; set "
        "from exploratory runs and kept by the refit; range from a search that sees the kind (30 Nov 2026): "
        "docs/validation/CALIBRATION.md",
    )
    conventional_share: float = param(
        0.1, unit="share of conflicts (the most readily ended kind) that break out as wars", lo=0.0, hi=1.0,
        plausible=(0.0269, 0.133),
        source="Balcells & Kalyvas 2014 (conventional civil wars); UCDP/PRIO: 14 % of episodes at war in their "
        "first year; set from exploratory runs and kept by the refit; range from a search that sees the kind "
        "(30 Nov 2026): docs/validation/CALIBRATION.md",
    )
    mediation_ripeness: float = param(
        1.0, unit="x mediation's pull on the end hazard per year of fighting", lo=0.0, hi=10.0, plausible=(0.25, 3.0),
        source="Zartman: a mutually hurting stalemate is when mediation can bite; Greig; Ruhe 2015; judgement "
        "(mediation's pull doubles after a year of fighting): not identifiable from the no-intervention record",
    )
    settlement_mediation: float = param(
        1.5, unit="x end rate per unit of third-party pressure", lo=0.0, hi=20.0, plausible=(0.5, 3.0),
        source="Bercovitch 1996 (agreements in 39-64 %); Svensson & Lundgren 2015",
    )
    weight_fighting: float = param(
        0.126, unit="propensity while fighting", lo=0.0, hi=5.0, plausible=(0.0138, 0.352),
        source="revenge and the security dilemma (Fearon 1995); fitted: docs/validation/CALIBRATION.md",
    )
    conflict_exit_tension: float = param(
        1.5, unit="tension", lo=0.0, hi=3.0,
        source="assumption: fighting stops when tension falls back to the middle of the dispute band",
    )
    war_exit_tension: float = param(
        2.5, unit="tension", lo=0.0, hi=4.0, source="assumption: a war falls back once tension is back in crisis"
    )
    settlement_grievance_relief: float = param(
        0.517, unit="tension off the grievance", lo=0.0, hi=3.0, plausible=(0.384, 0.517),
        source="power-sharing, new constitutions (§20, §56); fitted in the calibration of 2026-11-29 at ecb9a09 "
        "(its range), held fixed in the refit with intractability (docs/validation/CALIBRATION.md)",
    )
    relief_memory_days: float = param(
        1825.0, unit="days (decay time)", lo=1.0, hi=36_500.0,
        source="assumption: a settlement's relief fades over years",
    )
    settlement_tension: float = param(
        1.8, unit="tension after a settlement", lo=0.0, hi=3.0, source="assumption: back into dispute"
    )
    settlement_hardening_relief: float = param(
        0.5, unit="share of hardening removed", lo=0.0, hi=1.0, plausible=(0.33, 0.67),
        source="assumption: an agreement eases positions (§20, §56); range: judgement, ± about a third (assumption)",
    )
    # Tension.
    move_step: float = param(0.04, unit="tension per move", lo=0.0, hi=1.0, plausible=(0.03, 0.05),
                             source="assumption")
    reversion: float = param(0.01, unit="1/day", lo=0.0, hi=1.0, plausible=(0.007, 0.013), source="assumption")
    tension_noise: float = param(0.03, unit="tension/day s.d.", lo=0.0, hi=1.0, plausible=(0.02, 0.04),
                                 source="assumption; range: judgement, ± about a third (assumption)")
    trigger_shock: float = param(0.8, unit="tension", lo=0.0, hi=5.0, plausible=(0.6, 1.0), source="§35-40")
    spillover_per_day: float = param(0.01, unit="tension/day per war neighbour", lo=0.0, hi=1.0,
                                     plausible=(0.005, 0.015), source="§19, §24")
    infrastructure_damping: float = param(0.6, unit="share", lo=0.0, hi=1.0, plausible=(0.4, 0.8),
                                          source="§56-57")
    infrastructure_growth: float = param(
        0.0005, unit="1/day while engaged", lo=0.0, hi=1.0, plausible=(0.00033, 0.00067),
        source="§56, §72: builds over years; range: judgement, ± about a third (assumption)",
    )
    infrastructure_decay: float = param(0.0005, unit="1/day", lo=0.0, hi=1.0, plausible=(0.00033, 0.00067),
                                        source="assumption; range: judgement, ± about a third (assumption)")
    infrastructure_war_loss: float = param(
        0.005, unit="share lost per day at war", lo=0.0, hi=1.0, plausible=(0.002, 0.01),
        source="Collier et al. 2003 (civil war is development in reverse); 0.005 a day (most of it gone after a "
        "year of war, a half-life of 139 days) chosen over 0.002 by the world's fit to the record (docs/WORLD.md); "
        "0: wars leave it alone, the rule before 30 Nov 2026; range: from the value the fit passed over (0.002) to "
        "double the default (judgement)",
    )
    infrastructure_halted_by: str = param(
        "armed_conflict", unit="phase in which engagement builds no infrastructure for peace",
        choices=tuple(INFRASTRUCTURE_HALT),
        source="Collier et al. 2003 (civil war is development in reverse); §56, §72: capacities built over years of "
        "engagement; chosen over 'war' by the world's fit to the record (docs/WORLD.md); 'nothing': growth wherever "
        "engaged, the rule before 30 Nov 2026",
    )
    # Observers (§44-46).
    observer_noise_un: float = param(0.9, unit="tension s.d.", lo=0.0, hi=10.0, source="§44-46")
    observer_noise_regional: float = param(0.5, unit="tension s.d.", lo=0.0, hi=10.0, source="§46, §51")
    observer_noise_civil_society: float = param(0.6, unit="tension s.d.", lo=0.0, hi=10.0,
                                                source="§46, §58, §70")
    observer_smoothing: float = param(0.15, unit="EWMA weight", lo=0.01, hi=1.0, source="assumption")
    warning_threshold: float = param(1.7, unit="tension", lo=0.0, hi=5.0, source="§45 critical moments")
    alarm_margin: float = param(
        2.0, unit="standard errors of the estimate", lo=0.0, hi=10.0,
        source="signal detection: a threshold set for a fixed false-alarm rate (Neyman-Pearson); §44",
    )
    # UN decision and deployment (§16-17, §64).
    council_delay_days: int = param(21, unit="days at zero unity", lo=0, hi=365, source="§11, §16")
    standby_days: int = param(3, unit="days", lo=0, hi=60, source="§17 standby team 72 h")
    funding_delay_days: float = param(30.0, unit="mean days at zero predictability", lo=0.0, hi=365.0,
                                      source="§64, §68")
    # Third-party effect (§41-42, §47-55).
    #: A flat ladder: a first small step already signals growing international focus (§47: it can affect the
    #: parties' calculations more than a larger but slower response); coercion adds most at the top (§42).
    tool_strength: list[float] = param([0.3, 0.4, 0.5, 0.6, 0.8], unit="propensity per rung",
                                       source="§47 small steps; §42 coercion")
    tool_strength_scale: float = param(
        0.14, unit="x tool_strength", lo=0.0, hi=10.0, plausible=(0.1, 0.2),
        source="effect band: Hegre et al. 2019 (up to two-thirds for the strongest instrument)",
    )
    envoy_strength: float = param(
        0.08, unit="propensity at full credibility and fit", lo=0.0, hi=5.0, plausible=(0.05, 0.11),
        source="§18-21, §61; assumption",
    )
    mediator_credibility: float = param(
        0.7, unit="share 0-1", lo=0.0, hi=1.0, plausible=(0.55, 0.85),
        source="§61; range: judgement, ± 0.15: a new envoy is neither untrusted nor fully trusted (assumption)",
    )
    # Credibility is slow to gain and quick to lose (§61): at every end of the two ranges a day of progress gains
    # (gain < 0.014) far less than an escalation costs (loss > 0.066).
    credibility_gain: float = param(0.01, unit="1/day of progress", lo=0.0, hi=1.0, plausible=(0.0067, 0.0133),
                                    source="§61; range: judgement, ± about a third (assumption)")
    credibility_loss: float = param(0.1, unit="per escalation", lo=0.0, hi=1.0, plausible=(0.067, 0.133),
                                    source="§61; range: judgement, ± about a third (assumption)")
    adaptation_rate: float = param(0.1, unit="1/day at flexibility 1", lo=0.0, hi=1.0, plausible=(0.067, 0.133),
                                   source="§48-50; range: judgement, ± about a third (assumption)")
    default_approach: float = param(0.0, unit="0 direct .. 1 indirect", lo=0.0, hi=1.0,
                                    source="§48 institutional default")
    misfit_penalty: float = param(1.3, unit="share lost at opposite approach (>1: backfires)", lo=0.0, hi=2.0,
                                  plausible=(1.0, 1.6), source="§49 local preferences; Beardsley et al. 2006")
    mixed_message_penalty: float = param(0.6, unit="share", lo=0.0, hi=1.0, plausible=(0.4, 0.8),
                                         source="§16, §52")
    #: Deciding who does what (§52): an envoy requested where the partner is on the case too waits
    #: coordination_delay_days x (1 - coordination) more days; 0 switches the delay off (docs/ODD.md 7.6).
    coordination_delay_days: float = param(30.0, unit="days at coordination 0", lo=0.0, hi=365.0,
                                           source="§51-52 who does what; judgement")
    leverage_unity: float = param(0.5, unit="share", lo=0.0, hi=10.0, plausible=(0.33, 0.67),
                                  source="§11, §53; range: judgement, ± about a third (assumption)")
    leverage_incentives: float = param(0.4, unit="share", lo=0.0, hi=10.0, plausible=(0.27, 0.53),
                                       source="§53; range: judgement, ± about a third (assumption)")
    #: A single-crisis scenario's regional organisation; a world's regions carry their own (RegionConfig.legitimacy).
    regional_legitimacy: float = param(0.8, unit="share", lo=0.0, hi=10.0, plausible=(0.53, 1.07),
                                       source="§46, §51; range: judgement, ± about a third (assumption)")
    information_value: float = param(0.5, unit="share", lo=0.0, hi=1.0, plausible=(0.33, 0.67),
                                     source="Fey & Ramsay 2010; range: judgement, ± about a third (assumption)")
    resolution_tension: float = param(1.0, unit="tension", lo=0.0, hi=5.0, source="§56 critical moment passed")
    false_alarm_tension: float = param(1.5, unit="tension", lo=0.0, hi=5.0, source="§44; assumption")
    # Help that can fail (docs/ODD.md 7.x); 0 switches each channel off.
    crying_wolf: float = param(
        0.15, unit="warning threshold rise per false alarm (tension)", lo=0.0, hi=5.0, plausible=(0.05, 0.3),
        source="crying wolf: Breznitz 1984; §44 sifting information",
    )
    crying_wolf_attention: float = param(
        0.3, unit="attention lost per false alarm (1/(1+x n))", lo=0.0, hi=10.0, plausible=(0.1, 0.5),
        source="crying wolf: parties discount repeated empty warnings; assumption",
    )
    crying_wolf_memory_days: float = param(365.0, unit="days", lo=1.0, hi=36_500.0, source="assumption")
    moral_hazard: float = param(
        0.2, unit="propensity at full financial incentives", lo=0.0, hi=5.0, plausible=(0.1, 0.3),
        source="Öberg, Möller & Wallensteen 2009: inducements associated with more escalation",
    )
    coercion_backlash: float = param(
        0.25, unit="propensity of hard-liners under coercion", lo=0.0, hi=5.0, plausible=(0.1, 0.4),
        source="spoilers provoked by coercion (Stedman 1997); §42",
    )
    # The range spans 0 on purpose: its sign says which side a mediator leans to, not which way the mechanism works,
    # and no side is known to be favoured across cases; an impartial default is the ideal, not the rule.
    mediator_bias: float = param(
        0.0, unit="-1 opposition .. 0 impartial .. 1 government", lo=-1.0, hi=1.0, plausible=(-0.25, 0.25),
        source="Kydd 2003; Rauchhaus 2006; Svensson 2007 (mediators biased towards the government or the rebels); "
        "range: judgement, a lean to either side of up to a quarter of the scale (assumption)",
    )
    bias_hypothesis: str = param(
        "rauchhaus", unit="hypothesis", choices=("rauchhaus", "kydd"),
        source="Kydd 2003 (bias makes a mediator credible) vs Rauchhaus 2006 (impartial mediators do better)",
    )


#: The behavioural coefficients that carry a plausible range (drawn under parameter uncertainty).
def uncertain_coefficients() -> dict[str, tuple[float, float]]:
    return {f.name: f.metadata["plausible"] for f in fields(DynamicsConfig) if "plausible" in f.metadata}


def coefficient_key(name: str) -> int:
    """The stable key of a coefficient's draw under parameter uncertainty: the CRC-32 of its name. Keyed by name, not
    by its place among the coefficients, so that a coefficient given a range later leaves the others' draws alone."""
    return zlib.crc32(name.encode())


@dataclass
class CostConfig:
    """Money, in US dollars (§8)."""

    envoy_per_day: float = param(
        10_000.0, unit="USD/envoy-day", lo=0.0, hi=1e11, source="assumption (UN DPA travel and staff)"
    )
    mission_per_day: float = param(
        22_000.0, unit="USD/day", lo=0.0, hi=1e11, source="§8: UNOWA < USD 8 million a year"
    )
    statement: float = param(5_000.0, unit="USD per step", lo=0.0, hi=1e11, source="assumption")
    fact_finding: float = param(150_000.0, unit="USD per mission", lo=0.0, hi=1e11, source="assumption")
    coercive_per_day: float = param(30_000.0, unit="USD/day", lo=0.0, hi=1e11, source="assumption")
    false_alarm: float = param(20_000.0, unit="USD per false alarm", lo=0.0, hi=1e11, source="assumption")
    armed_conflict_per_day: float = param(
        450_000.0, unit="USD/day", lo=0.0, hi=1e11, source="Collier & Hoeffler 2004, a quarter of war"
    )
    war_per_day: float = param(
        1_800_000.0, unit="USD/day", lo=0.0, hi=1e11,
        source="Collier & Hoeffler 2004: 2.2 growth points of a USD 30 bn economy",
    )
    war_recovery_years: float = param(
        14.0, unit="years", lo=0.0, hi=100.0, source="§8: 14 years to return to the pre-war growth path"
    )
    recovery_loss_share: float = param(
        0.25, unit="share of the war-time daily loss", lo=0.0, hi=1.0,
        source="assumption: lost growth during recovery averages a quarter of the war-time loss",
    )


@dataclass
class CounterfactualConfig:
    """The twin run: same random numbers, a different policy (§59-60)."""

    enabled: bool = True
    #: Policy fields the twin changes, e.g. {warning_to_action_lag_days: 90}. Empty (the default):
    #: the twin does not intervene at all.
    policy: dict[str, Any] = field(default_factory=dict)


#: The default twin's policy change: nobody acts.
NO_INTERVENTION = {"intervene": False}


def twin_policy(counterfactual: CounterfactualConfig) -> dict[str, Any]:
    """The policy fields the twin changes (the default twin does not intervene)."""
    return dict(counterfactual.policy) or dict(NO_INTERVENTION)


@dataclass
class UncertaintyConfig:
    """Parameter uncertainty, not only Monte Carlo noise: world ``w`` belongs to ensemble member
    ``w % members``, and each member draws every coefficient that has a ``plausible`` range in
    DynamicsConfig uniformly from it (keyed by member: the same member draws the same set in any run)."""

    enabled: bool = param(False, unit="switch", source="Lee et al. 2015; issue: parameter uncertainty")
    members: int = param(20, unit="parameter sets", lo=2, hi=100_000, source="assumption")


@dataclass
class OutputConfig:
    plot: bool = True
    events: bool = True  # keep the per-world event log
    progress: bool = True


#: The repository's configs/ folder: Hydra's config path and home of the scenario presets.
CONFIG_DIR = Path(__file__).resolve().parent.parent / "configs"


def scenario_names(worlds: bool = False) -> list[str]:
    """The scenario presets (configs/scenario/NAME.yaml) a user can choose; never an internal schema.

    Without ``worlds``, the single-crisis presets only (the dashboard's and the lever matrix's): a world
    preset (``scenario.world.countries`` set, e.g. ``world``) runs 150 countries over 21 years."""
    names = sorted(p.stem for p in (CONFIG_DIR / "scenario").glob("*.yaml")
                   if not p.stem.startswith(("_", ".")) and not p.stem.endswith("_schema"))
    return names if worlds else [n for n in names if not _is_world_file(CONFIG_DIR / "scenario" / f"{n}.yaml")]


def _is_world_file(path: Path) -> bool:
    """A world preset is a global package (it also sets the horizon, replicates and levers)."""
    with path.open(encoding="utf-8") as fh:
        return fh.readline().strip() == "# @package _global_"


def preset_extras(name: str) -> dict:
    """What a world preset sets beside its scenario (horizon_days, replicates, policy, output), as a dict."""
    from omegaconf import OmegaConf

    path = CONFIG_DIR / "scenario" / f"{name}.yaml"
    if name not in scenario_names(worlds=True) or not _is_world_file(path):
        return {}
    data = OmegaConf.to_container(OmegaConf.load(path))
    data.pop("scenario", None)
    return data


def load_scenario(name: str) -> ScenarioConfig:
    """A scenario preset from configs/scenario/NAME.yaml, typed and checked against the schema.

    Raises ValueError naming the problem: an unknown name, a file that is not YAML, or a preset
    without sites (which would otherwise run a region with no country at all)."""
    import difflib

    from omegaconf import OmegaConf

    names = scenario_names(worlds=True)
    if name not in names:
        close = difflib.get_close_matches(str(name), names, n=1)
        hint = f" (did you mean {close[0]}?)" if close else ""
        raise ValueError(f"scenario = {name!r} is not a preset{hint}: choose one of {', '.join(names)}")
    path = CONFIG_DIR / "scenario" / f"{name}.yaml"
    try:
        data = OmegaConf.load(path)
        if _is_world_file(path):
            data = data.scenario
        node = OmegaConf.merge(OmegaConf.structured(ScenarioConfig), data or {})
        scenario = OmegaConf.to_object(node)
    except Exception as exc:  # noqa: BLE001 -- a broken preset file: name it, without a stack
        text = " ".join(str(exc).split())
        raise ValueError(f"scenario preset {path} cannot be read: {text}") from None
    if not scenario.sites and not scenario.world.countries:
        raise ValueError(f"scenario preset {path} has no sites: a scenario needs at least one "
                         "(sites: {A: {initial_tension: 1.5, ...}})")
    return scenario


def policy_names() -> list[str]:
    return sorted(p.stem for p in (CONFIG_DIR / "policy").glob("*.yaml"))


def load_policy(name: str):
    """A policy preset from configs/policy/NAME.yaml, as an OmegaConf node to merge onto a policy."""
    from omegaconf import OmegaConf

    path = CONFIG_DIR / "policy" / f"{name}.yaml"
    if name not in policy_names():  # a name, never a path
        raise ValueError(f"policy = {name!r} is not a preset: choose one of {', '.join(policy_names())}")
    return OmegaConf.load(path) or OmegaConf.create({})


@dataclass
class RunConfig:
    #: Python users get the default preset; Hydra composes a preset onto an empty scenario instead.
    scenario: ScenarioConfig = field(default_factory=lambda: load_scenario("generic"))
    policy: PolicyConfig = field(default_factory=PolicyConfig)
    dynamics: DynamicsConfig = field(default_factory=DynamicsConfig)
    costs: CostConfig = field(default_factory=CostConfig)
    counterfactual: CounterfactualConfig = field(default_factory=CounterfactualConfig)
    uncertainty: UncertaintyConfig = field(default_factory=UncertaintyConfig)
    output: OutputConfig = field(default_factory=OutputConfig)
    replicates: int = param(1000, unit="worlds", lo=1, hi=10_000_000, source="Lee et al. 2015")
    seed: int = param(0, unit="integer", lo=0, hi=2**63 - 1, source="-")
    #: Two years: the median UCDP episode lasts two calendar years, and relapse after a settlement or a
    #: wind-down shows in the second year (§56-57). Escalation within the first year is reported too.
    horizon_days: int = param(730, unit="days", lo=1, hi=36_500, source="UCDP/PRIO episode length (docs/validation)")


def register_configs() -> None:
    """Register the schema with Hydra's ConfigStore, so YAML is type-checked against it."""
    from hydra.core.config_store import ConfigStore

    cs = ConfigStore.instance()
    # Only the root schema: an entry in the scenario or policy group would be offered (and accepted) as a
    # choice, e.g. scenario=scenario_schema, an empty region. The presets merge onto this typed root.
    cs.store(name="run_schema", node=RunConfig(scenario=ScenarioConfig()))
    # hydra.run.dir is outputs/${pdsim_path:${scenario.name}}/...: Hydra creates that folder before pdsim
    # can refuse an unsafe name (validation does), so the name is first made safe to be a path part.
    from omegaconf import OmegaConf

    def path_part(name: Any) -> str:
        import re

        return re.sub(r"[^A-Za-z0-9_.-]", "_", str(name)).lstrip(".")[:100] or "_"

    OmegaConf.register_new_resolver("pdsim_path", path_part, replace=True)


def walk_params(obj: Any, prefix: str = ""):
    """Yield (dotted name, value, metadata) for every declared parameter of a dataclass tree."""
    for f in fields(obj):
        value = getattr(obj, f.name)
        name = f"{prefix}{f.name}"
        if is_dataclass(value):
            yield from walk_params(value, name + ".")
        elif isinstance(value, dict) and value and all(is_dataclass(v) for v in value.values()):
            for key, item in value.items():
                yield from walk_params(item, f"{name}.{key}.")
        else:
            yield name, value, dict(f.metadata)
