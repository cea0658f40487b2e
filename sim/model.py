"""The preventive-diplomacy model: R replicate worlds of one regional crisis, advanced a day at a time.

``step()`` reads as the schedule of docs/ODD.md (section 3): events, the parties' moves, tension,
observation and warning, decision and deployment, third parties' pressure, sustainability and
bookkeeping. State is held in (site, world) NumPy blocks so that one step advances every world.
"""

from __future__ import annotations

from types import SimpleNamespace

import mesa
import networkx as nx
import numpy as np
from mesa.discrete_space import Network

from sim.agents import (
    ARMED_CONFLICT,
    CRISIS,
    FLOAT,
    MAX_TENSION,
    NEVER,
    WAR,
    Observer,
    Party,
    RegionalOrganisation,
    Site,
    UnitedNations,
)
from sim.config import RunConfig
from sim.events import EventKind, EventLog
from sim.streams import RandomStreams

QUANTILES = (0.05, 0.25, 0.5, 0.75, 0.95)


class PreventiveDiplomacyModel(mesa.Model):
    """Conflict parties, observers, mediators, the UN and a regional organisation in R worlds."""

    def __init__(self, config: RunConfig, replicates: int | None = None, seed: int | None = None):
        seed = config.seed if seed is None else seed
        super().__init__(rng=seed)
        self.config = config
        self.scenario, self.policy, self.costs = config.scenario, config.policy, config.costs
        # Coefficients as float32 scalars: a Python float times a boolean or int8 array would
        # otherwise promote the whole expression to float64 (NumPy 2 promotion rules).
        self.dyn = SimpleNamespace(**{
            k: np.float32(v) if isinstance(v, float) else v for k, v in vars(config.dynamics).items()
        })
        R = self.replicates = config.replicates if replicates is None else replicates
        S = self.n_sites = len(self.scenario.sites)
        self.horizon = config.horizon_days
        self.day = 0
        self.streams = RandomStreams(seed)
        self.events = EventLog(config.output.events, R)
        self.rung_strength = np.asarray([0.0, *self.dyn.tool_strength], dtype=FLOAT)

        # (site, world) state blocks; agents hold views of their rows.
        names, sites = list(self.scenario.sites), list(self.scenario.sites.values())
        col = lambda attr: np.array([[getattr(s, attr)] for s in sites], dtype=FLOAT)  # noqa: E731
        self.tension = np.repeat(col("initial_tension"), R, axis=1)
        self.grievance = np.repeat(col("grievance"), R, axis=1)
        self.infrastructure = np.repeat(col("infrastructure_for_peace"), R, axis=1)
        self.local_preference = np.repeat(col("local_preference"), R, axis=1)
        self.war_history = np.repeat(col("war_history"), R, axis=1).astype(bool)
        self.election_day = np.array([s.election_day for s in sites])
        self.effective_grievance = np.empty((S, R), dtype=FLOAT)
        self.hardening = np.zeros((S, 2, R), dtype=FLOAT)
        self.moves = np.zeros((S, 2, R), dtype=np.int8)
        self.last_moves = np.zeros((S, 2, R), dtype=np.int8)
        self.pressure = np.zeros((S, R), dtype=FLOAT)
        self.phase = phase_of(self.tension)
        self.phase_up = np.zeros((S, R), dtype=bool)
        self.neighbours = np.zeros((S, S), dtype=FLOAT)
        borders = [(names.index(a), names.index(b)) for a, b in self.scenario.borders]
        for a, b in borders:
            self.neighbours[a, b] = self.neighbours[b, a] = 1.0

        # The region as a Mesa network of countries (spill-over runs along its edges).
        graph = nx.Graph()
        graph.add_nodes_from(range(S))
        graph.add_edges_from(borders)
        self.region = Network(graph, random=self.random, layout=None)
        self.sites = [Site(self, i, name, self.region[i]) for i, name in enumerate(names)]
        self.parties = [Party(self, site, side) for site in self.sites for side in (0, 1)]

        d, p = self.dyn, self.policy
        self.observers = {
            "un": Observer(self, 1, d.observer_noise_un),
            "regional": Observer(self, 2, d.observer_noise_regional),
            "civil_society": Observer(self, 3, d.observer_noise_civil_society),
        }
        # Fey & Ramsay 2010: what a mediator can tell the parties is worth what its information is.
        self.information = 1.0 - d.information_value * (1.0 - p.early_warning)
        on = p.intervene
        un_leverage = 0.5 + d.leverage_unity * self.scenario.council_unity + (
            d.leverage_incentives * p.financial_incentives
        )
        self.un = UnitedNations(self, p.roster_size if on else 0, un_leverage)
        self.regional = None
        if self.scenario.regional_organisation:
            ro_leverage = d.regional_legitimacy + 0.5 * d.leverage_incentives * p.financial_incentives
            self.regional = RegionalOrganisation(
                self, self.scenario.regional_envoys if on else 0, ro_leverage
            )
        self.responders = [r for r in (self.un, self.regional) if r is not None]

        # Outcome accumulators per world (and per site where it matters).
        self.first_escalation = np.full(R, NEVER, dtype=np.int32)
        self.first_war = np.full(R, NEVER, dtype=np.int32)
        self.site_escalated = np.zeros((S, R), dtype=bool)
        self.conflict_days = np.zeros(R, dtype=np.int32)
        self.war_days = np.zeros(R, dtype=np.int32)
        self.relapses = np.zeros(R, dtype=np.int32)
        self.been_in_crisis = self.tension >= CRISIS
        self.resolved = np.zeros((S, R), dtype=bool)

        self.aggregates: dict[str, float] = {}
        self.datacollector = mesa.DataCollector(
            model_reporters={name: _aggregate(name) for name in AGGREGATES}
        )
        self.measure((self.tension >= ARMED_CONFLICT).any(axis=0), (self.tension >= WAR).any(axis=0))

    # -- the schedule ------------------------------------------------------------------------------
    def step(self) -> None:
        """Advance every replicate world by one day."""
        self.day += 1
        self.experience_events()
        self.parties_choose_moves()
        self.update_tension()
        self.observe_and_warn()
        self.decide_and_act()
        self.combine_pressure()
        self.update_credibility()
        self.sustain_or_wind_down()
        self.bookkeeping()
        if self.day >= self.horizon:
            self.running = False

    def run(self, progress=None) -> None:
        """Run to the horizon; ``progress(day, horizon)`` is called now and then if given."""
        while self.running:
            self.step()
            if progress is not None and (self.day % 30 == 0 or not self.running):
                progress(self.day, self.horizon)

    # -- 1. Events ---------------------------------------------------------------------------------
    def experience_events(self) -> None:
        """Triggers (elections, coups), spill-over from wars next door, shifts in local preference."""
        d, sc, S, R = self.dyn, self.scenario, self.n_sites, self.replicates
        rate = sc.trigger_rate_per_year / 365.0
        # One uniform per site and world decides the day's rare events: below the trigger rate it is a
        # trigger (and, rescaled, uniform again: the shock's size); above 1 - shift rate the local
        # preference shifts (and, rescaled, picks the new one). A random trigger and a shift never
        # coincide on one day (a scheduled election can).
        u = self.streams.uniform("triggers", (S, R), bits=32)
        trigger = u < rate
        elections = self.election_day == self.day
        if elections.any():
            trigger[elections] = True
        # Infrastructures for peace absorb part of each shock (§56-57).
        damping = 1.0 - d.infrastructure_damping * self.infrastructure
        if trigger.any():
            size = np.where(elections[:, None], FLOAT(0.5), u / FLOAT(max(rate, 1e-12)))
            self.tension += np.where(trigger, d.trigger_shock * (0.5 + size) * damping, FLOAT(0.0))
            self.events.record(self.day, EventKind.TRIGGER, trigger)
        at_war = self.tension >= WAR
        if self.n_sites > 1 and at_war.any():
            self.tension += d.spillover_per_day * (self.neighbours @ at_war.astype(FLOAT))
        np.multiply(self.grievance, damping, out=self.effective_grievance)

        shift_rate = sc.preference_shift_per_year / 365.0
        shifted = u > 1.0 - shift_rate
        if shifted.any():
            self.local_preference[shifted] = (1.0 - u[shifted]) < 0.5 * shift_rate
            self.events.record(self.day, EventKind.PREFERENCE_SHIFT, shifted, 0, self.local_preference)

    # -- 2. Parties --------------------------------------------------------------------------------
    def parties_choose_moves(self) -> None:
        self.last_moves[...] = self.moves
        u = self.streams.uniform("parties", (self.n_sites, 2, self.replicates))
        Party.choose_moves(self, u)

    def update_tension(self) -> None:
        """Moves, reversion toward the (damped) grievance, noise; then phases and hardening."""
        d = self.dyn
        u = self.streams.uniform("tension", (self.n_sites, self.replicates))
        self.tension += (
            d.move_step * self.moves.sum(axis=1, dtype=np.int8)
            + d.reversion * (self.effective_grievance - self.tension)
            + d.tension_noise * uniform_noise(u)
        )
        np.clip(self.tension, 0.0, MAX_TENSION, out=self.tension)
        old = self.phase
        self.phase = phase_of(self.tension)
        up, down = self.phase > old, self.phase < old
        self.phase_up = up
        self.events.record(self.day, EventKind.PHASE_UP, up, 0, self.phase)
        self.events.record(self.day, EventKind.PHASE_DOWN, down, 0, self.phase)
        in_crisis = self.tension >= CRISIS
        bloodshed = up & (self.phase >= 3) & (old < 3)
        stable = self.tension < 1.0
        Party.harden(self, in_crisis, bloodshed, stable)
        # War leaves a trace: the conflict trap raises later risk (§29).
        self.war_history |= self.tension >= WAR

    # -- 3. Observation and warning ----------------------------------------------------------------
    def observe_and_warn(self) -> None:
        if not self.policy.intervene:
            return  # nobody to warn; the observation stream is independent, so skipping it is CRN-safe
        u = self.streams.uniform("observation", (3, self.n_sites, self.replicates))
        for obs, z in zip(self.observers.values(), uniform_noise(u), strict=True):
            obs.observe(z)
        o, share = self.observers, self.policy.information_sharing
        # No regional organisation, no regional early warning to share.
        partners = [(o["regional"], share)] if self.regional is not None else []
        self.un.pool_signals(o["un"], [*partners, (o["civil_society"], share)])
        if self.regional is not None:
            # Proximity: the regional organisation always hears civil society (§46, §51).
            self.regional.pool_signals(o["regional"], [(o["civil_society"], 1.0), (o["un"], share)])
        for r in self.responders:
            r.issue_warnings()

    # -- 4./5. Decision, deployment, action ------------------------------------------------------------
    def decide_and_act(self) -> None:
        """Each responder takes the steps due today (lag, ladder, roster); envoys adapt their approach."""
        if not self.policy.intervene:
            return
        for r in self.responders:
            r.act()
            for med in r.mediators:
                med.adapt()

    def combine_pressure(self) -> None:
        """Partners' efforts add when coordinated; divided, mixed messages cancel part (§16, §52)."""
        if not self.policy.intervene:
            return
        if self.regional is None:
            np.multiply(self.un.pressure, self.scenario.party_will, out=self.pressure)
            return
        a, b = self.un.pressure, self.regional.pressure
        hi, lo = np.maximum(a, b), np.minimum(a, b)
        c = self.policy.coordination
        self.pressure[...] = hi + lo * (c - self.dyn.mixed_message_penalty * (1.0 - c))
        np.maximum(self.pressure, 0.0, out=self.pressure)
        self.pressure *= self.scenario.party_will  # outsiders can only do so much (§41)

    def update_credibility(self) -> None:
        """Envoys gain credibility where the parties conciliate, lose it where a phase is crossed (§61)."""
        progress = self.moves.sum(axis=1) < 0
        for r in self.responders:
            for med in r.mediators:
                med.update_credibility(progress, self.phase_up)

    # -- 6. Sustainability and relapse -----------------------------------------------------------------
    def sustain_or_wind_down(self) -> None:
        d = self.dyn
        engaged = np.zeros_like(self.resolved)
        if self.policy.intervene:
            for r in self.responders:
                engaged |= r.sustain_or_wind_down()
        # Sustained engagement helps national counterparts build infrastructures for peace (§56, §72).
        self.infrastructure += d.infrastructure_growth * engaged * (1.0 - self.infrastructure)
        self.infrastructure -= d.infrastructure_decay * self.infrastructure
        # Relapse: back into crisis after the critical moment had passed.
        self.resolved |= self.been_in_crisis & (self.tension < d.resolution_tension)
        relapse = self.resolved & (self.tension >= CRISIS)
        self.relapses += relapse.sum(axis=0, dtype=np.int32)
        self.resolved &= ~relapse
        self.been_in_crisis |= self.tension >= CRISIS
        self.events.record(self.day, EventKind.RELAPSE, relapse)

    # -- 7. Bookkeeping ------------------------------------------------------------------------------
    def bookkeeping(self) -> None:
        armed = self.tension >= ARMED_CONFLICT
        war = self.tension >= WAR
        self.site_escalated |= armed
        any_armed, any_war = armed.any(axis=0), war.any(axis=0)
        self.first_escalation[any_armed & (self.first_escalation == NEVER)] = self.day
        self.first_war[any_war & (self.first_war == NEVER)] = self.day
        self.conflict_days += armed.sum(axis=0, dtype=np.int32)
        self.war_days += war.sum(axis=0, dtype=np.int32)
        self.measure(any_armed, any_war)

    def measure(self, any_armed: np.ndarray, any_war: np.ndarray) -> None:
        """Per-day aggregates over worlds, computed once and handed to Mesa's DataCollector."""
        regional = self.regional_tension()
        q = quantiles(regional)
        envoys = sum(med.worlds.size for r in self.responders for med in r.mediators)
        self.aggregates = {
            "day": self.day,
            "tension_mean": float(regional.mean()),
            **{f"tension_q{int(p * 100):02d}": float(v) for p, v in zip(QUANTILES, q, strict=True)},
            "share_escalated": float((self.first_escalation < NEVER).mean()),
            "share_in_conflict": float(any_armed.mean()),
            "share_at_war": float(any_war.mean()),
            "envoys_deployed": envoys / self.replicates,
        }
        self.datacollector.collect(self)

    # -- read-outs -----------------------------------------------------------------------------------
    def regional_tension(self) -> np.ndarray:
        """The highest tension in the region, per world."""
        return self.tension.max(axis=0)

    def story(self, world: int = 0) -> str:
        """The event log of one replicate world, as text."""
        return self.events.story(world, [s.name for s in self.sites])


def phase_of(tension: np.ndarray) -> np.ndarray:
    """Phase index 0 stable .. 4 war: the phase lines sit at whole tension units 1, 2, 3, 4."""
    return np.minimum(tension, FLOAT(4.0)).astype(np.int8)


def uniform_noise(u: np.ndarray) -> np.ndarray:
    """Zero-mean, unit-variance noise from uniforms: U(-sqrt 3, sqrt 3). A uniform costs a quarter of a
    Gaussian draw here; after smoothing and summing over days the difference does not matter."""
    return (u - np.float32(0.5)) * np.float32(2.0 * np.sqrt(3.0))


def quantiles(values: np.ndarray) -> np.ndarray:
    """The QUANTILES of ``values`` (nearest rank on a full sort: faster than np.quantile here)."""
    ordered = np.sort(values)
    idx = np.minimum((np.asarray(QUANTILES) * ordered.size).astype(int), ordered.size - 1)
    return ordered[idx]


#: The per-day aggregates the DataCollector records (tension over the region's highest site).
AGGREGATES = ("day", "tension_mean", *(f"tension_q{int(q * 100):02d}" for q in QUANTILES),
              "share_escalated", "share_in_conflict", "share_at_war", "envoys_deployed")


def _aggregate(name: str):
    return lambda m: m.aggregates[name]
