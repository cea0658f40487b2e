"""The reference a user would otherwise write: one world, one Mesa agent per country and per party.

``pdsim`` holds every agent's state as NumPy arrays over R replicate worlds (sim/agents.py). The honest
yardstick for that design is not pdsim at R = 1 (the same array code, paying NumPy's per-call overhead on
one-element arrays) but a straightforward Mesa 3.5 model of the same rules: Python floats, one ``Agent``
object per country and per party, ``model.random`` (a ``random.Random``) for every draw, and an AgentSet
schedule. This module is that model, kept small, for the benchmark (sim/bench.py) and for the test that
it really follows the same rules (tests/test_bench.py).

Scope: the rules of the **no-intervention twin** in full — triggers and scheduled shocks damped by
infrastructures for peace, spill-over of war along borders, the parties' ordered-logit moves, tension
with reversion toward the (relieved) grievance and noise, phases with fighting that persists
(``held_phase``), hardening, the conflict trap, war-weariness, each conflict's kind (its intractability,
war-cost factor and whether it breaks out as a war), the end and fall-back hazards of armed conflict with a
settlement's relief, and relapse bookkeeping (sim/model.py, sim/agents.py; equations in
docs/ODD.md section 7). The responders' path (warning, lag, ladder, envoys) is not implemented: compare
it with pdsim's twin (``policy.intervene=false``), never with a policy run.

Every coefficient is read from the RunConfig (``dynamics`` and ``scenario``), none is copied. The random
numbers are not pdsim's common random numbers (sim/streams.py), so the two agree in distribution, not
world by world.
"""

from __future__ import annotations

import math
import time

import mesa
from scipy.special import gammaincinv

from sim.config import RunConfig

#: Phase lines on the tension scale, as in sim/agents.py: stable < 1 <= dispute < 2 <= crisis < 3 <= armed < 4 <= war.
CRISIS, ARMED_CONFLICT, WAR, MAX_TENSION = 2.0, 3.0, 4.0, 5.0
DAYS_PER_YEAR = 365
#: Uniform noise of unit variance: U(-sqrt 3, sqrt 3), as sim.model.uniform_noise.
SQRT12 = math.sqrt(12.0)


def phase_of(tension: float) -> int:
    return min(int(tension), 4)


class Party(mesa.Agent):
    """A conflict party (side 0 government, 1 opposition): escalate, hold or conciliate (ordered logit)."""

    def __init__(self, model: ReferenceModel, country: Country, side: int):
        super().__init__(model)
        self.country, self.side = country, side
        self.other: Party | None = None
        self.move = 0
        self.last_move = 0
        self.hardening = 0.0

    def remember(self) -> None:
        self.last_move = self.move

    def choose_move(self) -> None:
        """Propensity from grievance, tension, the other side's last move, the conflict trap, the cost of
        war, war-weariness and fighting, plus logistic noise; escalate above the cut, conciliate below minus it."""
        d, c = self.model.dyn, self.country
        u = self.random.random() or 0.5  # random() may return 0.0; the logit needs (0, 1)
        z = (
            d.weight_grievance * (c.effective_grievance - CRISIS)
            + d.weight_tension * (c.tension - CRISIS)
            + d.weight_reciprocity * self.other.last_move
            + d.conflict_trap * c.war_history
            - d.weight_war_cost * c.war_cost_factor * max(c.tension - ARMED_CONFLICT, 0.0)
            - d.weight_fatigue * c.fatigue
            + d.weight_fighting * (c.phase >= 3)
            + d.party_noise * math.log(u / (1.0 - u))
        )
        cut = d.party_threshold + c.deadlock
        self.move = 1 if z > cut else (-1 if z < -cut else 0)


class Country(mesa.Agent):
    """A country of the region: tension, grievance, phase and the conflict life cycle."""

    def __init__(self, model: ReferenceModel, name: str, site):
        super().__init__(model)
        d, sc = model.dyn, model.scenario
        self.name = name
        self.tension = site.initial_tension
        self.grievance = min(max(site.grievance + sc.grievance_spread * self.random.gauss(0.0, 1.0), 0.0),
                             MAX_TENSION)
        self.infrastructure = site.infrastructure_for_peace
        self.war_history = bool(site.war_history)
        self.local_preference = site.local_preference if site.preference_known else float(
            self.random.random() < site.local_preference)
        self.election_day, self.scheduled_shock, self.deadlock = site.election_day, site.scheduled_shock, site.deadlock
        self.phase = phase_of(self.tension)
        self.effective_grievance = self.grievance
        self.relief = self.fatigue = 0.0
        self.episode = self.episode_day = 0
        # The conflict's kind (sim.model.draw_kind): its end-hazard multiplier, war-cost factor, conventional or not.
        u = self.random.random() or 0.5
        theta = d.intractability_spread
        self.intractability = gammaincinv(1.0 / theta, u) * theta if theta > 0 else 1.0
        self.war_cost_factor = self.intractability ** -d.war_cost_intractability
        self.conventional = u > 1.0 - d.conventional_share and not self.deadlock  # deadlock: no armies for one
        self.been_in_crisis, self.resolved = self.tension >= CRISIS, False
        self.neighbours: list[Country] = []
        self.parties = [Party(model, self, 0), Party(model, self, 1)]
        self.parties[0].other, self.parties[1].other = self.parties[1], self.parties[0]
        self.trigger_rate = sc.trigger_rate_per_year * site.trigger_multiplier / DAYS_PER_YEAR
        self.shift_rate = sc.preference_shift_per_year / DAYS_PER_YEAR
        self.relief_fade = 1.0 - 1.0 / d.relief_memory_days

    def experience_events(self) -> None:
        """A trigger (random, or a scheduled election) shocks tension; wars next door spill over; infrastructures
        for peace damp both the shock and the grievance; a settlement's relief fades; preferences shift."""
        d, day = self.model.dyn, self.model.day
        damping = 1.0 - d.infrastructure_damping * self.infrastructure
        u = self.random.random()
        if self.election_day == day:
            self.tension += d.trigger_shock * self.scheduled_shock * damping
        elif u < self.trigger_rate:
            self.tension += d.trigger_shock * (0.5 + u / self.trigger_rate) * damping  # size uniform 0.5-1.5
        wars = sum(1 for n in self.neighbours if n.phase >= 4)  # yesterday's phases: nobody has moved yet
        self.tension += d.spillover_per_day * wars
        self.effective_grievance = self.grievance * damping - self.relief
        self.relief *= self.relief_fade
        if u > 1.0 - self.shift_rate:
            self.local_preference = float(self.random.random() < 0.5)

    def update_tension(self) -> None:
        d = self.model.dyn
        moves = self.parties[0].move + self.parties[1].move
        noise = (self.random.random() - 0.5) * SQRT12
        t = self.tension + d.move_step * moves + d.reversion * (self.effective_grievance - self.tension) \
            + d.tension_noise * noise
        self.tension = min(max(t, 0.0), MAX_TENSION)
        old = self.phase
        self.phase = self.held_phase(old)
        if self.phase >= 3 > old and self.conventional:  # conventional conflicts break out as wars
            self.tension, self.phase = max(self.tension, WAR), 4
        bloodshed = self.phase >= 3 > old
        for p in self.parties:
            p.hardening += d.hardening_per_day * (self.tension >= CRISIS) + d.hardening_on_bloodshed * bloodshed
            if self.tension < 1.0:
                p.hardening *= 1.0 - d.hardening_decay
        if self.phase >= 4:
            self.war_history = True  # the conflict trap (§29)
        self.count_fighting(old)

    def held_phase(self, old: int) -> int:
        """Fighting persists: armed conflict until tension is below conflict_exit_tension, war until below
        war_exit_tension."""
        d = self.model.dyn
        phase = phase_of(self.tension)
        if old >= 3 and phase < 3 and self.tension >= d.conflict_exit_tension:
            phase = 3
        if old == 4 and phase < 4 and self.tension >= d.war_exit_tension:
            phase = 4
        return phase

    def count_fighting(self, old: int) -> None:
        d = self.model.dyn
        fighting = self.phase >= 3
        if fighting and old < 3:
            self.episode += 1
            self.episode_day = 0
        if fighting:
            self.episode_day += 1
            self.fatigue += (1.0 + (self.phase >= 4)) / DAYS_PER_YEAR
        else:
            self.fatigue *= 1.0 - 1.0 / d.fatigue_memory_days

    def end_or_fall_back(self) -> None:
        """Daily hazards of an armed conflict ending (likelier with war-weariness) or a war falling back."""
        if self.phase < 3:
            return
        d, m = self.model.dyn, self.model
        at_war = self.phase >= 4
        rate = d.end_rate_war_per_year if at_war else d.end_rate_minor_per_year
        p_end = rate * (1.0 + d.settlement_fatigue * self.fatigue) * self.intractability / DAYS_PER_YEAR  # no pressure
        p_fall = d.war_fallback_per_year / DAYS_PER_YEAR if at_war else 0.0
        u = self.random.random()
        if u < p_end:
            self.tension = d.settlement_tension
            for p in self.parties:
                p.hardening *= 1.0 - d.settlement_hardening_relief
            self.relief = d.settlement_grievance_relief
            m.settlements += 1
        elif u < p_end + p_fall:
            self.tension = min(self.tension, 3.5)
            m.fallbacks += 1
        else:
            return
        self.phase = phase_of(self.tension)

    def sustain(self) -> None:
        """Infrastructures for peace decay without engagement; relapses after the critical moment are counted."""
        d, m = self.model.dyn, self.model
        self.infrastructure -= d.infrastructure_decay * self.infrastructure
        if self.been_in_crisis and self.tension < d.resolution_tension:
            self.resolved = True
        if self.resolved and self.tension >= CRISIS:
            m.relapses += 1
            self.resolved = False
        if self.tension >= CRISIS:
            self.been_in_crisis = True


class ReferenceModel(mesa.Model):
    """One world of the scenario under the twin's rules (nobody intervenes), one agent per country and party."""

    country_type = Country

    def __init__(self, config: RunConfig, seed: int = 0):
        super().__init__(rng=seed)
        self.dyn, self.scenario, self.horizon = config.dynamics, config.scenario, config.horizon_days
        self.day = 0
        self.settlements = self.fallbacks = self.relapses = 0
        self.first_escalation: int | None = None
        self.conflict_days = self.war_days = 0  # site-days, as pdsim's conflict_days and war_days
        by_name = {name: self.country_type(self, name, site) for name, site in self.scenario.sites.items()}
        for a, b in self.scenario.borders:
            by_name[a].neighbours.append(by_name[b])
            by_name[b].neighbours.append(by_name[a])
        self.countries = self.agents_by_type[self.country_type]
        self.parties = self.agents_by_type[Party]

    def step(self) -> None:
        self.day += 1
        self.countries.do("experience_events")
        self.parties.do("remember")
        self.parties.shuffle_do("choose_move")  # each reads the other's *last* move: order does not matter
        self.countries.do("update_tension")
        self.countries.do("end_or_fall_back")
        self.countries.do("sustain")
        armed = sum(1 for c in self.countries if c.phase >= 3)
        self.conflict_days += armed
        self.war_days += sum(1 for c in self.countries if c.phase >= 4)
        if armed and self.first_escalation is None:
            self.first_escalation = self.day
        if self.day >= self.horizon:
            self.running = False

    def run(self) -> None:
        while self.running:
            self.step()


def run_reference(config: RunConfig, worlds: int, seed: int = 0, model_type=ReferenceModel) -> dict:
    """``worlds`` independent reference worlds (seeds seed, seed + 1, ...): per-world outcomes and the
    wall time of building and running them."""
    escalated, conflict_days, war_days = [], [], []
    start = time.perf_counter()
    for w in range(worlds):
        m = model_type(config, seed=seed + w)
        m.run()
        escalated.append(m.first_escalation is not None)
        conflict_days.append(m.conflict_days)
        war_days.append(m.war_days)
    return {"escalated": escalated, "conflict_days": conflict_days, "war_days": war_days,
            "seconds": time.perf_counter() - start}
