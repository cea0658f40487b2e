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
from scipy import sparse
from scipy.special import gammaincinv, ndtri

from sim import kernels
from sim.agents import (
    COERCIVE,
    CRISIS,
    ENVOY,
    FLOAT,
    MAX_TENSION,
    NEVER,
    WAR,
    Mediator,
    Observer,
    Party,
    RegionalOrganisation,
    Responder,
    Site,
    UnitedNations,
)
from sim.alloc import keep_freed_memory
from sim.config import DAYS_PER_YEAR, INFRASTRUCTURE_HALT, RunConfig, coefficient_key, uncertain_coefficients
from sim.events import EventKind, EventLog
from sim.streams import (
    GRIEVANCE,
    INTRACTABILITY,
    PARAMETERS,
    PREFERENCE,
    SETTLEMENT,
    RandomStreams,
    first_word,
    first_words,
)

keep_freed_memory()  # a day's temporaries are reused, not faulted in again (sim.alloc)

QUANTILES = (0.05, 0.25, 0.5, 0.75, 0.95)
#: The largest war-cost brake weight of a conflict (``war_cost_by_kind``): finite in float32.
MAX_WAR_COST_WEIGHT = 1e30
#: Coefficients the model reads while it is built (responders' leverage, the information's worth, the bias factor,
#: the first envoys' credibility): drawn per world under parameter uncertainty before that, so they act; set on
#: ``model.dyn`` after construction (as sim.calibrate sets the coefficients it searches), they would not, or only
#: in part.
READ_WHEN_BUILT = frozenset({"leverage_unity", "leverage_incentives", "regional_legitimacy", "information_value",
                             "mediator_bias", "mediator_credibility"})


class PreventiveDiplomacyModel(mesa.Model):
    """Conflict parties, observers, mediators, the UN and a regional organisation in R worlds."""

    #: (day, flat cells in fighting) as ``update_tension`` left them: ``end_or_fall_back`` takes them on that day
    #: (nothing between the two changes a phase) instead of finding them again.
    _fighting: tuple[int, np.ndarray | None] = (-1, None)

    def __init__(self, config: RunConfig, replicates: int | None = None, seed: int | None = None,
                 streams: RandomStreams | None = None, initial: dict[str, np.ndarray] | None = None,
                 policies: list | None = None):
        """``streams``: the run's random numbers, if not the default ``RandomStreams(seed, sites, R)`` (the
        calibration gives blocks of worlds the same numbers, sim.calibrate.BlockStreams). ``initial``: per-world
        starting ``tension`` and ``grievance`` (site, world) in place of the sites' values, before each world's
        grievance draw (the world calibration gives blocks of worlds different baselines, sim.calibrate_world).
        ``policies``: stacked sweep points (sim.sweep.stack), one policy per block of R / len(policies) worlds;
        block k's worlds draw the random numbers of a run of that one policy alone. Read levers with ``lever``."""
        seed = config.seed if seed is None else seed
        super().__init__(rng=seed)
        kernels.start()  # numba's one-time start in this process, with the building, not on the run's first day
        self.config = config
        # Not ``self.scenario``: Mesa 3.5's Model reserves that name for its own Scenario objects (SolaraViz).
        self.scenario_config, self.policy, self.costs = config.scenario, config.policy, config.costs
        R = self.replicates = config.replicates if replicates is None else replicates
        S = self.n_sites = len(self.scenario_config.sites)
        self.horizon = config.horizon_days
        self.day = 0
        self.policies = list(policies) if policies else [self.policy]
        self.block = R // len(self.policies)  # worlds per stacked point (R when not stacked)
        if self.block * len(self.policies) != R:
            raise ValueError(f"{R} worlds do not split into {len(self.policies)} stacked points")
        self._levers: dict = {}
        self.streams = streams if streams is not None else RandomStreams(seed, S, R, block=self.block)
        # Coefficients as float32 scalars: a Python float times a boolean or int8 array would
        # otherwise promote the whole expression to float64 (NumPy 2 promotion rules). Under parameter
        # uncertainty the coefficients with a plausible range become per-world arrays (shape R).
        self.dyn = SimpleNamespace(**{
            k: np.float32(v) if isinstance(v, float) else v for k, v in vars(config.dynamics).items()
        })
        self.member = None
        if config.uncertainty.enabled:
            self.member = np.arange(R) % self.block % config.uncertainty.members
            for name, (lo, hi) in uncertain_coefficients().items():
                # Keyed by (member, coefficient), not by world: worlds of one member share a set. The coefficient's
                # key is its name's (coefficient_key), so one given a range later leaves the others' draws alone.
                u = self.streams.address_uniform(PARAMETERS, self.member, 0, coefficient_key(name))
                setattr(self.dyn, name, (lo + (hi - lo) * u).astype(FLOAT))
        bias = self.dyn.mediator_bias if np.ndim(self.dyn.mediator_bias) else config.dynamics.mediator_bias
        self.side_factor = mediator_bias_factor(bias, config.dynamics.bias_hypothesis)
        self.events = EventLog(config.output.events, R)
        self.rung_strength = np.asarray([0.0, *self.dyn.tool_strength], dtype=FLOAT)

        # (site, world) state blocks; agents hold views of their rows.
        names, sites = list(self.scenario_config.sites), list(self.scenario_config.sites.values())
        col = lambda attr: np.array([[getattr(s, attr)] for s in sites], dtype=FLOAT)  # noqa: E731
        initial = initial or {}
        self.tension = np.asarray(initial.get("tension", np.repeat(col("initial_tension"), R, axis=1)), dtype=FLOAT)
        self.grievance = np.asarray(initial.get("grievance", np.repeat(col("grievance"), R, axis=1)), dtype=FLOAT)
        spread = self.scenario_config.grievance_spread
        if spread > 0 and R:
            worlds, site = np.arange(R), np.arange(S)[:, None]
            z = ndtri(self.streams.address_uniform(GRIEVANCE, worlds[None, :], site))
            self.grievance = np.clip(self.grievance + FLOAT(spread) * z.astype(FLOAT), 0.0, MAX_TENSION)
        self.infrastructure = np.repeat(col("infrastructure_for_peace"), R, axis=1)
        self.local_preference = np.repeat(col("local_preference"), R, axis=1)
        for i, site in enumerate(sites):
            if not site.preference_known:  # outsiders cannot know it: each world draws one (§48-50)
                u = self.streams.address_uniform(PREFERENCE, np.arange(R), i)
                self.local_preference[i] = (u < site.local_preference).astype(FLOAT)
        self.war_history = np.repeat(col("war_history"), R, axis=1).astype(bool)
        # How often each site's triggers come, as a multiple of the scenario's rate (world mode: a history of
        # conflict brings more crises, sim.world), per (site, world); None where every site has the scenario's rate
        # (the day's comparison is then with one word for the whole block).
        multiplier = initial.get("trigger_multiplier", [[s.trigger_multiplier] for s in sites])
        multiplier = np.broadcast_to(np.asarray(multiplier, dtype=np.float64), (S, R))
        self.trigger_multiplier = None if np.all(multiplier == 1.0) else multiplier.copy()
        self._trigger_thresholds: tuple[float | None, np.ndarray | None] = (None, None)
        self.election_day = np.array([s.election_day for s in sites])
        self.scheduled_shock = np.array([s.scheduled_shock for s in sites], dtype=FLOAT)
        deadlock = np.array([[s.deadlock] for s in sites], dtype=FLOAT)
        self.deadlock = deadlock[:, :, None] if deadlock.any() else None  # (site, 1, 1)
        self.no_deadlock = np.zeros(S, dtype=FLOAT)  # the compiled rule's deadlock where there is none
        self.effective_grievance = np.empty((S, R), dtype=FLOAT)
        self.hardening = np.zeros((S, 2, R), dtype=FLOAT)
        self.moves = np.zeros((S, 2, R), dtype=np.int8)
        self.last_moves = np.zeros((S, 2, R), dtype=np.int8)
        self.bloodshed_jump = np.zeros((S, R), dtype=FLOAT)  # hardening's jump where blood is shed today, else 0
        self.logit = np.empty((S, 2, R), dtype=FLOAT)  # the day's log-odds of the parties' noise (the compiled rule)
        self.pressure = np.zeros((S, R), dtype=FLOAT)
        self.engaged = np.zeros((S, R), dtype=bool)  # an envoy's rung reached: incentives on the table
        self.coerced = np.zeros((S, R), dtype=bool)  # coercive measures in force
        # The conflict life cycle: war-weariness, and the ordinal and day of the armed-conflict episode.
        self.fatigue = np.zeros((S, R), dtype=FLOAT)  # years of fighting, decaying in peace
        self.relief = np.zeros((S, R), dtype=FLOAT)  # grievance a settlement addressed, fading
        self.derive_kind()
        self.episode = np.zeros((S, R), dtype=np.int32)
        self.episode_day = np.zeros((S, R), dtype=np.int32)
        self.phase = phase_of(self.tension)
        self.fighting_at_start = self.phase >= 3  # the year before the run counts as active there (onsets)
        self.phase_up = np.zeros((S, R), dtype=bool)
        # (day, (4, site, world) unit noise of the tension and the three observers) when converted together that day.
        self._unit_noise: tuple[int | None, np.ndarray | None] = (None, None)
        # ((trigger rate, shift rate), their crossing words) for the day's rare events (``rare_words``).
        self._rare_words: tuple[tuple | None, tuple[int, int] | None] = (None, None)
        # The region as a Mesa network of countries; spill-over runs along its edges.
        graph = nx.Graph()
        graph.add_nodes_from(range(S))
        graph.add_edges_from((names.index(a), names.index(b)) for a, b in self.scenario_config.borders)
        self.region = Network(graph, random=self.random, layout=None)
        self.sites = [Site(self, i, name, self.region[i]) for i, name in enumerate(names)]
        # Each site's neighbours, read off the network's cells (one source for the dashboard and the model).
        self.neighbour_sites = [[c.coordinate for c in site.cell.neighborhood] for site in self.sites]
        # The same neighbours as a sparse (site x site) matrix: spill-over is one product, whatever the region's size.
        rows = [site for site, neighbours in enumerate(self.neighbour_sites) for _ in neighbours]
        cols = [n for neighbours in self.neighbour_sites for n in neighbours]
        self.borders = sparse.csr_array((np.ones(len(rows), dtype=np.int8), (rows, cols)), shape=(S, S))
        self.parties = [Party(self, site, side) for site in self.sites for side in (0, 1)]

        d, p = self.dyn, self.policy
        self.observers = {
            "un": Observer(self, 1, d.observer_noise_un),
            "regional": Observer(self, 2, d.observer_noise_regional),
            "civil_society": Observer(self, 3, d.observer_noise_civil_society),
        }
        # Fey & Ramsay 2010: what a mediator can tell the parties is worth what its information is.
        # Per world (shape R) where information_value is drawn under parameter uncertainty.
        self.information = 1.0 - d.information_value * (1.0 - p.early_warning)
        on = p.intervene
        self.un = UnitedNations(self, p.roster_size if on else 0, self.un_leverage())
        self.regional = None
        if self.scenario_config.regional_organisation:
            self.regional = self.regional_organisations(on)
        self.responders = [r for r in (self.un, self.regional) if r is not None]
        # World mode: the levers change on 1 January of the reform year (§7).
        world = self.scenario_config.world
        self.reform_day = NEVER
        if world.countries and world.reform_year:
            self.reform_day = (world.reform_year - world.start_year) * DAYS_PER_YEAR + 1

        # Outcome accumulators per world (and per site where it matters).
        self.first_escalation = np.full(R, NEVER, dtype=np.int32)
        self.first_war = np.full(R, NEVER, dtype=np.int32)
        self.site_escalated = np.zeros((S, R), dtype=bool)
        self.conflict_days = np.zeros(R, dtype=np.int32)
        self.war_days = np.zeros(R, dtype=np.int32)
        self.relapses = np.zeros(R, dtype=np.int32)
        self.been_in_crisis = self.tension >= CRISIS
        self.resolved = np.zeros((S, R), dtype=bool)
        self.settlements = np.zeros(R, dtype=np.int32)
        self.fallbacks = np.zeros(R, dtype=np.int32)
        self.onsets = np.zeros(R, dtype=np.int32)
        # Days in armed conflict (war included) and at war per calendar year of the run, for UCDP-style
        # country-years (sim.years). Year y covers days 365 y + 1 .. 365 (y + 1).
        n_years = -(-self.horizon // DAYS_PER_YEAR)
        self.year_conflict_days = np.zeros((n_years, S, R), dtype=np.int16)
        self.year_war_days = np.zeros((n_years, S, R), dtype=np.int16)
        # Crisis-days spent waiting for an envoy (requested and ready, none free: the roster queue, §62-64).
        self.year_waiting_days = np.zeros((n_years, R), dtype=np.int32)

        self.aggregates: dict[str, float] = {}
        self.datacollector = DailyAggregates(
            model_reporters={name: _aggregate(name) for name in AGGREGATES}
        )
        self._any_armed, self._any_war = np.zeros(R, dtype=bool), np.zeros(R, dtype=bool)  # bookkeeping's, daily
        # measure's: the day's regional tension, and the buffers of its quantiles' compiled pass (regional_quantiles)
        self._regional, self._gathered = np.empty(R, dtype=FLOAT), np.empty(R, dtype=FLOAT)
        self._bucket_counts = np.empty(kernels._BUCKETS, dtype=np.int64)
        self._quantile_ranks = quantile_ranks(R)
        armed = self.phase >= 3
        any_armed, any_war = armed.any(axis=0), (self.phase >= 4).any(axis=0)
        counts = (np.count_nonzero(any_armed), np.count_nonzero(any_war),
                  np.count_nonzero(self.first_escalation < NEVER), np.count_nonzero(armed))
        self.measure(any_armed, any_war, counts, 0)

    # -- the schedule ------------------------------------------------------------------------------
    def regional_organisations(self, on: bool) -> RegionalOrganisation:
        """The regional organisations as one actor: a single one for a single-crisis scenario, or one per
        region of a world (``scenario.regions``), each with its own envoys and legitimacy; a site of a
        region without one is not covered (§22-25, §51-55)."""
        return RegionalOrganisation(self, *self.regional_setup(on))

    def regional_setup(self, on: bool) -> tuple:
        """(envoys, leverage, site_region) of the regional organisations under the current policy."""
        d, p, sc = self.dyn, self.policy, self.scenario_config
        incentives = 0.5 * d.leverage_incentives * p.financial_incentives
        if not sc.regions:
            return sc.regional_envoys if on else 0, self.per_site_and_world(d.regional_legitimacy + incentives), None
        regions = list(sc.regions)
        site_region = np.array([regions.index(s.region) if s.region in sc.regions else -1
                                for s in sc.sites.values()])
        legitimacy = np.array([sc.regions[r].legitimacy for r in regions])
        if np.ndim(incentives):  # drawn per world (parameter uncertainty): leverage per (site, world)
            leverage = np.where((site_region >= 0)[:, None], legitimacy[site_region][:, None] + incentives, 0.0)
        else:
            leverage = np.where(site_region >= 0, legitimacy[site_region] + incentives, 0.0)
        envoys = [sc.regions[r].envoys if on else 0 for r in regions]
        return envoys, leverage, site_region

    def un_leverage(self):
        """The UN's leverage with the parties: a united Council and incentives add to it (§11, §53); one value, or
        one per (site, world) where its coefficients are drawn per world."""
        d, p = self.dyn, self.policy
        leverage = 0.5 + d.leverage_unity * self.scenario_config.council_unity + (
            d.leverage_incentives * p.financial_incentives
        )
        return self.per_site_and_world(leverage)

    def per_site_and_world(self, value):
        """A value the same at every site: as is when one value, a (site, world) block when one per world (a
        responder's leverage is one value, one per site, or one per (site, world))."""
        return np.broadcast_to(value, self.tension.shape) if np.ndim(value) else value

    def reform(self) -> None:
        """The levers change (world mode, ``scenario.world.reform``): later warnings, decisions and deployments
        follow the new policy; engagements under way keep their dates. The UN's roster grows or shrinks (an
        envoy already posted finishes its posting)."""
        from dataclasses import replace

        p = self.policy = replace(self.policy, **self.scenario_config.world.reform)
        d = self.dyn
        for obs, base in zip(self.observers.values(), (d.observer_noise_un, d.observer_noise_regional,
                                                          d.observer_noise_civil_society), strict=True):
            obs.noise = obs.base_noise(base)
        self.information = 1.0 - d.information_value * (1.0 - p.early_warning)
        if p.intervene:
            un = self.un
            un.leverage[:] = self.un_leverage()
            while len(un.mediators) < p.roster_size:
                un.mediators.append(Mediator(self, un, len(un.mediators)))
            un.roster = p.roster_size
            if self.regional is not None:
                self.regional.leverage[:] = np.asarray(self.regional_setup(True)[1], dtype=FLOAT)

    def step(self) -> None:
        """Advance every replicate world by one day."""
        self.day += 1
        if self.day == self.reform_day:
            self.reform()
        self.experience_events()
        self.parties_choose_moves()
        self.update_tension()
        self.end_or_fall_back()
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
        d, sc = self.dyn, self.scenario_config
        rate = sc.trigger_rate_per_year / 365.0
        # One uniform per site and world decides the day's rare events: below the trigger rate it is a
        # trigger (and, rescaled, uniform again: the shock's size); above 1 - shift rate the local
        # preference shifts (and, rescaled, picks the new one). A random trigger and a shift never
        # coincide on one day (a scheduled election can).
        shift_rate = sc.preference_shift_per_year / 365.0
        # The uniforms' 32-bit words k compared with the words at which the uniform crosses the rates (``rare_words``):
        # the same cells as comparing the uniforms, which are computed only at the few cells concerned; as k x 2^32
        # with K x 2^32 (they order as k and K do). The largest word, 2^64 - 1, lies above every k x 2^32: a rate
        # that no word crosses triggers every day, and a shift rate of 0 shifts nothing.
        below, above = self.rare_words(rate, shift_rate)
        if self.trigger_multiplier is None:
            below = np.uint64(below << 32) if below < 1 << 32 else _NO_WORD
        else:  # each site at its own rate: the same comparison with a word per (site, world)
            below = self.trigger_thresholds(rate)
        above = np.uint64(above << 32) if above < 1 << 32 else _NO_WORD
        elections = self.election_day == self.day
        # The cells of the triggers and shifts, and the grievance damped by the infrastructures for peace (§56-57,
        # which absorb part of each shock too) less the settlements' relief, fading (a settlement addresses part of
        # the grievance for a while, power-sharing, a new constitution; Walter 2011: many settlements do not hold):
        # one compiled pass over the block (sim.kernels.daily_events).
        n = self.tension.size
        cells, shifted = np.empty(n, dtype=np.intp), np.empty(n, dtype=np.intp)
        n_trigger, n_shifted = kernels.daily_events(
            self.streams.words(self.day)[0], below, above, elections, self.grievance, self.infrastructure,
            d.infrastructure_damping, self.relief, FLOAT(1.0) - FLOAT(1.0) / d.relief_memory_days,
            self.effective_grievance, cells, shifted)
        cells, shifted = cells[:n_trigger], shifted[:n_shifted]
        if cells.size:
            # A random trigger's size is uniform on 0.5-1.5 x trigger_shock; a scheduled event's is the
            # site's own multiple (an election, a referendum, a coup foretold: §35-40). Computed at the few
            # triggered cells only (elementwise, the same arithmetic as on the whole block).
            site, world = np.divmod(cells, self.replicates)
            if self.trigger_multiplier is None:
                rate_at = FLOAT(max(rate, 1e-12))
            else:
                rate_at = np.maximum(rate * self.trigger_multiplier.reshape(-1)[cells], 1e-12).astype(FLOAT)
            size = np.where(elections[site], self.scheduled_shock[site],
                            FLOAT(0.5) + self.streams.trigger_at(cells) / rate_at)
            damping = 1.0 - self.coef_at("infrastructure_damping", world) * self.infrastructure.reshape(-1)[cells]
            self.tension.reshape(-1)[cells] += self.coef_at("trigger_shock", world) * size * damping
            self.events.record_at(self.day, EventKind.TRIGGER, cells)
        at_war = self.phase >= 4
        if at_war.any():  # wars next door: one sparse product over the borders (no BLAS, no loop over sites)
            self.tension += d.spillover_per_day * (self.borders @ at_war.view(np.int8))
        if shifted.size:  # a few cells
            preference = self.local_preference.reshape(-1)
            preference[shifted] = (1.0 - self.streams.trigger_at(shifted)) < 0.5 * shift_rate
            self.events.record_at(self.day, EventKind.PREFERENCE_SHIFT, shifted, 0, preference[shifted])

    def rare_words(self, rate: float, shift_rate: float) -> tuple[int, int]:
        """The daily 32-bit words (sim.streams.trigger_words) at which the day's uniform u stops being below the
        trigger rate (u < rate: k < first) and starts being above 1 - shift rate (k >= second); kept per rates."""
        key = (rate, shift_rate)
        if self._rare_words[0] != key:
            self._rare_words = key, (first_word(lambda u: ~(u < rate)), first_word(lambda u: u > 1.0 - shift_rate))
        return self._rare_words[1]

    def trigger_thresholds(self, rate: float) -> np.ndarray:
        """Per (site, world): the word K x 2^32 below which the day's ``trigger_words_high`` is a trigger at the
        site's own rate (rate x multiplier, compared in float32 as the scalar path compares); kept per rate."""
        if self._trigger_thresholds[0] != rate:
            rates, where = np.unique((rate * self.trigger_multiplier).astype(FLOAT), return_inverse=True)
            words = first_words(lambda u: ~(u < rates), rates.size)
            # A rate of 1 a day or more (no word crosses it) triggers every day: the largest word compares below.
            high = np.where(words < 1 << 32, words.astype(np.uint64) << np.uint64(32), np.uint64(2**64 - 1))
            self._trigger_thresholds = rate, high[where.reshape(self.trigger_multiplier.shape)]
        return self._trigger_thresholds[1]

    # -- 2. Parties --------------------------------------------------------------------------------
    def parties_choose_moves(self) -> None:
        self.last_moves[...] = self.moves
        Party.choose_moves_compiled(self, self.streams.words(self.day)[0])

    def update_tension(self) -> None:
        """Moves, reversion toward the (damped) grievance, noise; then phases and hardening."""
        d = self.dyn
        # move_step x moves + reversion x (grievance - tension) + noise x unit noise, summed in that order, clipped,
        # and the phase of the new tension: one compiled pass (sim.kernels.tension_step, the same float32 sums).
        words, noise = self.streams.words(self.day)[1], None
        if self.policy.intervene:  # the observers' unit noise too (observe_and_warn): all four converted at once
            noise = self._unit_noise[1]
            if noise is None or noise.shape != (4, *words.shape):
                noise = np.empty((4, *words.shape), dtype=FLOAT)
            self._unit_noise = (self.day, noise)
        old = self.phase
        self.phase = np.empty_like(old)
        kernels.tension_step(self.tension, self.phase, self.moves, self.effective_grievance, words, noise, _NOISE16,
                             d.move_step, d.reversion, d.tension_noise)
        # Fighting held (held_phase), conflicts of conventional kind breaking out as wars (break_out), the conflict
        # trap and the count of fighting (count_fighting): one compiled pass (sim.kernels.hold_fighting). Blood is
        # shed where armed conflict breaks out (``onset``): the cells in fighting that were not the day before.
        fighting, onset = self.hold_fighting(old)
        up, down = self.phase > old, self.phase < old
        self.phase_up = up
        self.events.record(self.day, EventKind.PHASE_UP, up, 0, self.phase)
        self.events.record(self.day, EventKind.PHASE_DOWN, down, 0, self.phase)
        Party.harden_compiled(self, onset)
        self._fighting = self.day, fighting  # the life cycle's cells today (end_or_fall_back): phases hold until then

    def hold_fighting(self, old: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """``held_phase``, ``break_out``, the conflict trap (§29: war leaves a trace) and ``count_fighting`` of the
        day, the same numbers in one compiled pass (sim.kernels.hold_fighting); ``self.phase`` is the phase of the
        new tension. Returns the flat cells in armed conflict and those where it broke out today."""
        d = self.dyn
        n = self.phase.size
        fighting, onset = np.empty(n, dtype=np.intp), np.empty(n, dtype=np.intp)
        n_fighting, n_onset = kernels.hold_fighting(
            self.phase, old, self.tension, d.conflict_exit_tension, d.war_exit_tension, self.conventional, FLOAT(WAR),
            self.war_history, self.episode, self.onsets, self.episode_day, self.fatigue,
            FLOAT(1.0) - FLOAT(1.0) / d.fatigue_memory_days, FLOAT(1.0 / DAYS_PER_YEAR), fighting, onset)
        return fighting[:n_fighting], onset[:n_onset]

    def break_out(self, onset: np.ndarray) -> None:
        """Conventional conflicts (``draw_kind``) break out as wars: at the flat cells where armed conflict breaks
        out today, those of conventional kind start at the war line (UCDP/PRIO: one episode in seven is a war in
        its first year; Balcells & Kalyvas 2014)."""
        if self.conventional is None or not onset.size:
            return
        war = onset[self.conventional.reshape(-1)[onset]]
        tension = self.tension.reshape(-1)
        tension[war] = np.maximum(tension[war], FLOAT(WAR))
        self.phase.reshape(-1)[war] = 4

    def held_phase(self, old: np.ndarray, phase: np.ndarray | None = None) -> np.ndarray:
        """The phase from tension, with fighting that persists: once armed conflict has broken out a site
        stays in it until tension falls below ``conflict_exit_tension`` (or the fighting ends, see
        ``end_or_fall_back``); a war stays a war until tension falls below ``war_exit_tension`` (or it falls
        back). UCDP counts conflict-years: a day's lull is not peace. ``phase``: phase_of(tension), if known."""
        phase = phase_of(self.tension) if phase is None else phase
        cells = np.flatnonzero(old >= 3)  # fighting is held only where there was fighting: a few per cent of cells
        if not cells.size:
            return phase
        p, tension = phase.reshape(-1)[cells], self.tension.reshape(-1)[cells]
        # Raised to 3 (then 4) where held: max(phase, 3 x held) is that (phase >= 0), without a masked write.
        held = (p < 3) & (tension >= self.coef_at("conflict_exit_tension", cells=cells))
        np.maximum(p, np.multiply(held.view(np.int8), 3, dtype=np.int8), out=p)
        held = (old.reshape(-1)[cells] == 4) & (p < 4) & (tension >= self.coef_at("war_exit_tension", cells=cells))
        np.maximum(p, np.multiply(held.view(np.int8), 4, dtype=np.int8), out=p)
        phase.reshape(-1)[cells] = p
        return phase

    def count_fighting(self, old_phase: np.ndarray, cells: np.ndarray | None = None,
                       onset: np.ndarray | None = None) -> None:
        """War-weariness grows with each day of fighting (a day of war counts double) and fades in
        peace; a new armed-conflict episode starts when fighting resumes (Zartman; Collier & Hoeffler)."""
        d = self.dyn
        # At the cells in fighting only (a few per cent): the rest of the block would add exact zeros.
        if cells is None:  # the flat cells in fighting, and those where it broke out today
            cells = np.flatnonzero(self.phase >= 3)
            onset = cells[old_phase.reshape(-1)[cells] < 3]
        self.episode.reshape(-1)[onset] += 1
        np.add.at(self.onsets, onset % self.replicates, 1)
        episode_day = self.episode_day.reshape(-1)
        episode_day[onset] = 0
        episode_day[cells] += 1
        # Weariness fades where there is no fighting (x 1 where there is: those cells keep their value) ...
        fatigue = self.fatigue.reshape(-1)
        kept = fatigue[cells]
        self.fatigue *= FLOAT(1.0) - FLOAT(1.0) / d.fatigue_memory_days
        fatigue[cells] = kept
        # ... and grows by a day of fighting, two of war: (1 + at war) x 1/365, as (1 or 2) x a float32 is exact.
        war = self.phase.reshape(-1)[cells] >= 4
        fatigue[cells] += (war + FLOAT(1.0)) * FLOAT(1.0 / DAYS_PER_YEAR)

    # -- 2b. The conflict life cycle -------------------------------------------------------------------
    def fighting_cells(self) -> np.ndarray:
        """The flat (site, world) cells in armed conflict today, as update_tension found them (phases hold until
        end_or_fall_back); found afresh when it has not run today (a test's call)."""
        day, cells = self._fighting
        return cells if day == self.day else np.flatnonzero(self.phase >= 3)

    def end_or_fall_back(self) -> None:
        """Armed conflicts end (settlement, exhaustion, victory) and wars fall back to minor conflict.

        Daily hazards per site in armed conflict, fitted to the UCDP/PRIO annual transitions
        (docs/validation/calibration.csv); war-weariness makes a settlement likelier (a hurting stalemate
        is ripe, Zartman) and so does third parties' pressure (mediation brings agreements, Bercovitch 1996). One keyed
        uniform per site-day of an episode decides, addressed by (world, site, episode, day of episode):
        a policy that delays a war meets the same luck later."""
        cells = self.fighting_cells()
        if not cells.size:
            return
        d = self.dyn
        worlds = cells % self.replicates
        at_war = self.phase.reshape(-1)[cells] >= 4
        rate = np.where(at_war, self.coef_at("end_rate_war_per_year", worlds),
                        self.coef_at("end_rate_minor_per_year", worlds))
        fatigue = self.fatigue.reshape(-1)[cells]
        ripe = 1.0 + self.coef_at("settlement_fatigue", worlds) * fatigue
        # Mediation's pull, stronger where the parties are war-weary: a hurting stalemate is when it bites (Zartman).
        mediated = self.coef_at("settlement_mediation", worlds) * self.pressure.reshape(-1)[cells]
        mediated *= 1.0 + self.coef_at("mediation_ripeness", worlds) * fatigue
        mediated += 1.0
        p_end = rate * ripe * mediated / DAYS_PER_YEAR
        if self.intractability is not None:
            p_end = p_end * self.intractability.reshape(-1)[cells]
        p_fall = at_war * self.coef_at("war_fallback_per_year", worlds) / DAYS_PER_YEAR
        u = self.streams.keyed_uniform(SETTLEMENT, cells, self.episode.reshape(-1)[cells],
                                       self.episode_day.reshape(-1)[cells])
        end, fall = cells[u < p_end], cells[(u >= p_end) & (u < p_end + p_fall)]
        tension, phase = self.tension.reshape(-1), self.phase.reshape(-1)
        if end.size:
            tension[end] = d.settlement_tension
            site, world = np.divmod(end, self.replicates)
            relief = self.coef_at("settlement_hardening_relief", world)
            self.hardening[site, :, world] *= np.reshape(FLOAT(1.0) - relief, (-1, 1))  # (cells, side)
            self.relief.reshape(-1)[end] = self.coef_at("settlement_grievance_relief", world)
            np.add.at(self.settlements, end % self.replicates, 1)
            self.events.record_at(self.day, EventKind.SETTLEMENT, end, 0, phase[end])
        if fall.size:
            tension[fall] = np.minimum(tension[fall], FLOAT(3.5))
            np.add.at(self.fallbacks, fall % self.replicates, 1)
            self.events.record_at(self.day, EventKind.FALLBACK, fall, 0, phase[fall])
        changed = np.concatenate([end, fall])
        phase[changed] = phase_of(tension[changed])

    def derive_kind(self) -> None:
        """Each conflict's kind and the war-cost brake it is fought under, from ``intractability_spread``,
        ``conventional_share``, ``weight_war_cost`` and ``war_cost_intractability``: at construction, and again
        when those coefficients are set on a built model (sim.calibrate's population runs set them per world
        after construction; without this their blocks would all be fought under the config's values)."""
        self.intractability, self.conventional = self.draw_kind()
        self.war_cost_weight = self.war_cost_by_kind()

    def draw_kind(self) -> tuple[np.ndarray | None, np.ndarray | None]:
        """Each conflict's kind, drawn once per (site, world) as one keyed uniform u: the same in the policy run and
        its twin, whatever R, and kept when the conflict recurs. Returns (intractability, conventional):

        - the **intractability** Z, its own multiplier of the end hazards: some kinds of conflict end far less
          readily than others (Fearon 2004: sons-of-the-soil and contraband-financed wars; Collier, Hoeffler &
          Soderbom 2004). Gamma with mean 1 and variance ``intractability_spread``, by the inverse CDF at u, the
          classic frailty of survival analysis (Vaupel et al. 1979): conflicts alike in every observed respect then
          show the long tail of episodes in the UCDP record (one in six lasting seven years or more,
          tests/test_processes.py). None when the spread is 0 (every conflict alike: no multiplication at all);
        - **conventional**: the ``conventional_share`` of conflicts that end most readily (u above 1 - share) break
          out as wars (``break_out``): conventional civil wars are the more lethal and the shorter (Balcells &
          Kalyvas 2014) — except at a deadlocked site (``site.deadlock``), a power struggle of elites without armed
          followers, which has no armies to open a conventional war with. None when the share is 0.

        No draw at all when both are 0."""
        d = self.dyn
        theta, share = d.intractability_spread, d.conventional_share
        if not (np.any(theta > 0) or np.any(share > 0)):
            return None, None
        S, R = self.n_sites, self.replicates
        u = self.streams.address_uniform(INTRACTABILITY, np.arange(R)[None, :], np.arange(S)[:, None])
        z = None
        if np.any(theta > 0):
            theta = np.broadcast_to(np.asarray(theta, dtype=np.float64), (R,))
            shape = 1.0 / np.maximum(theta, 1e-9)
            z = np.where(theta > 0, gammaincinv(shape, u) / shape, 1.0).astype(FLOAT)
        conventional = None
        if np.any(share > 0):
            conventional = u > 1.0 - np.asarray(share, dtype=np.float64)
            if self.deadlock is not None:
                conventional &= self.deadlock[:, :, 0] == 0
        return z, conventional

    def war_cost_by_kind(self):
        """The war-cost brake's weight per conflict, ``weight_war_cost`` x Z^-k (k = ``war_cost_intractability``):
        the conflicts that last are fought at low intensity, those that end readily at high intensity (Balcells &
        Kalyvas 2014; Fearon 2004). The scalar (or per-world) weight itself when there is no link or no Z."""
        d = self.dyn
        k = d.war_cost_intractability
        if self.intractability is None or not np.any(k != 0):
            return d.weight_war_cost
        z = self.intractability.astype(np.float64)
        with np.errstate(divide="ignore", over="ignore"):  # Z = 0 or tiny under a wide drawn spread: see the cap
            weight = np.asarray(d.weight_war_cost, dtype=np.float64) * z ** -np.asarray(k, dtype=np.float64)
        # Capped where float32 would overflow to inf (and 0 x inf to NaN in the propensity): a brake of 1e30 stops
        # any war as surely. At the fitted spread no drawn Z comes near it; wide spreads drawn under parameter
        # uncertainty (up to 4, with k up to 3) do.
        return np.minimum(weight, MAX_WAR_COST_WEIGHT).astype(FLOAT)

    def coef_at(self, name: str, worlds: np.ndarray | None = None, cells: np.ndarray | None = None):
        """A coefficient for the given worlds: a scalar, or its per-world values under uncertainty. ``cells``: flat
        (site, world) indices instead of worlds (their world is taken only for a per-world coefficient)."""
        v = getattr(self.dyn, name)
        if cells is not None and isinstance(v, np.ndarray) and v.ndim:
            worlds = cells % self.replicates
        return self.at(v, worlds)

    def by_policy(self, value_of, key: str | None = None):
        """``value_of(policy)`` for this run: a scalar when every stacked point agrees (always when not
        stacked), else one value per world (shape R); also one per world where ``value_of`` reads a coefficient drawn
        per world (parameter uncertainty). Each point's value comes from the same scalar
        arithmetic as an unstacked run, so stacked worlds see bit-identical numbers. ``key`` caches it in a
        stack; a single run reads its policy afresh (play mode changes it between steps, sim.app.play)."""
        if len(self.policies) == 1:
            return value_of(self.policy)
        if key is not None and key in self._levers:
            return self._levers[key]
        values = [value_of(p) for p in self.policies]
        if any(np.ndim(v) for v in values):  # a coefficient drawn per world too: block k takes point k's worlds
            b = self.block
            value = np.concatenate([np.broadcast_to(v, (self.replicates,))[k * b:(k + 1) * b]
                                    for k, v in enumerate(values)])
        else:
            value = values[0] if all(v == values[0] for v in values[1:]) else np.repeat(np.asarray(values), self.block)
        if key is not None:
            self._levers[key] = value
        return value

    def lever(self, name: str, cells: np.ndarray | None = None):
        """A policy lever: a scalar, or its value per world when stacked points differ in it; with ``cells``
        (flat (site, world) indices, or world indices below R), its value at each of them."""
        v = self._levers[name] if name in self._levers else self.by_policy(lambda p: getattr(p, name), key=name)
        return v if cells is None or not isinstance(v, np.ndarray) else v[np.asarray(cells) % self.replicates]

    @staticmethod
    def at(value, worlds: np.ndarray):
        """A scalar as is, a per-world array (from ``by_policy``) at ``worlds``."""
        return value[worlds] if isinstance(value, np.ndarray) and value.ndim else value

    # -- 3. Observation and warning ----------------------------------------------------------------
    def observe_and_warn(self) -> None:
        if not self.policy.intervene:
            return  # nobody to warn; the observation stream is independent, so skipping it is CRN-safe
        day, noise = self._unit_noise
        # Converted with the tension's today (update_tension), else the observers' words alone.
        noise = noise[1:] if day == self.day else uniform_noise16(self.streams.observation_words(self.day))
        o, share = self.observers, (lambda p: p.information_sharing)
        # No regional organisation, no regional early warning to share.
        partners = [(o["regional"], share)] if self.regional is not None else []
        un_partners = [*partners, (o["civil_society"], share)]
        # Proximity: the regional organisation always hears civil society (§46, §51).
        regional_partners = [(o["civil_society"], lambda p: 1.0), (o["un"], share)]
        if not self.observe_and_pool(noise, un_partners, regional_partners):  # the NumPy rules
            for i, obs in enumerate(self.observers.values()):
                obs.observe(noise[i])
            self.un.pool_signals(o["un"], un_partners)
            if self.regional is not None:
                self.regional.pool_signals(o["regional"], regional_partners)
        for r in self.responders:
            r.issue_warnings()

    def observe_and_pool(self, noise: np.ndarray, un_partners: list, regional_partners: list) -> bool:
        """The observers' signals (Observer.observe) and the responders' pooled estimates (Responder.pool_signals),
        the same numbers in one compiled pass (sim.kernels.observe_and_pool), where every scale and weight is a
        float32 (a scalar or one per world) and the regional organisation hears civil society; returns False, and
        nothing done, otherwise (the NumPy rules then run)."""
        o, regional = self.observers, self.regional
        un_coefs, un_error = self.un.pool_weights(o["un"], un_partners)
        hears_regional = regional is not None
        un_own, *un_weights = un_coefs
        un_regional = un_weights.pop(0) if hears_regional else FLOAT(0.0)
        (un_civil,) = un_weights
        coefficients = [obs.noise for obs in o.values()] + [un_own, un_regional, un_civil, self.dyn.observer_smoothing]
        if hears_regional:
            (regional_own, regional_civil, regional_un), regional_error = regional.pool_weights(o["regional"],
                                                                                               regional_partners)
            coefficients += [regional_own, regional_civil, regional_un]
            if not Responder.heard(regional_civil):
                return False
        else:
            regional_own = regional_civil = regional_un = FLOAT(0.0)
        R = self.replicates
        if not all(isinstance(c, np.float32) or (isinstance(c, np.ndarray) and c.dtype == FLOAT and c.shape == (R,))
                   for c in coefficients):
            return False

        kernels.observe_and_pool(
            self.tension, noise[0], noise[1], noise[2], o["un"].noise, o["regional"].noise, o["civil_society"].noise,
            o["un"].signal, o["regional"].signal, o["civil_society"].signal, self.un.estimate, un_own, un_regional,
            un_civil, hears_regional and Responder.heard(un_regional), Responder.heard(un_civil),
            regional.estimate if hears_regional else None, regional_own, regional_civil, regional_un,
            Responder.heard(regional_un), self.dyn.observer_smoothing)
        self.un.estimate_error = un_error
        if hears_regional:
            regional.estimate_error = regional_error
        return True

    # -- 4./5. Decision, deployment, action ------------------------------------------------------------
    def decide_and_act(self) -> None:
        """Each responder takes the steps due today (lag, ladder, roster); envoys adapt their approach."""
        if not self.policy.intervene:
            return
        if self.policy.budget_usd_per_year > 0 and (self.day - 1) % DAYS_PER_YEAR == 0:
            for r in self.responders:
                r.spent[:] = 0.0  # a new calendar year, new money
        for r in self.responders:
            r.act()
            r.envoys.adapt()

    def partner_of(self, responder):
        """The other responder (the UN's partner is the regional organisation and back); None if it has none."""
        if self.regional is None:
            return None
        return self.regional if responder is self.un else self.un

    def combine_pressure(self) -> None:
        """Partners' efforts add when coordinated; divided, mixed messages cancel part (§16, §52)."""
        if not self.policy.intervene:
            return
        # Inducements come with mediation: on the table wherever an envoy's rung is reached (§53).
        self.engaged = self.un.rung >= ENVOY
        self.coerced = self.un.rung >= COERCIVE
        if self.regional is not None:
            self.engaged |= self.regional.rung >= ENVOY
        if self.regional is None:
            np.multiply(self.un.pressure, self.scenario_config.party_will, out=self.pressure)
            return
        a, b = self.un.pressure, self.regional.pressure
        hi, lo = np.maximum(a, b), np.minimum(a, b)
        lo *= self.by_policy(
            lambda p: p.coordination - self.dyn.mixed_message_penalty * (1.0 - p.coordination), key="coordination")
        np.add(hi, lo, out=self.pressure)
        np.maximum(self.pressure, 0.0, out=self.pressure)
        self.pressure *= self.scenario_config.party_will  # outsiders can only do so much (§41)

    def update_credibility(self) -> None:
        """Envoys gain credibility where the parties conciliate, lose it where a phase is crossed (§61)."""
        if not any(r.envoys.count for r in self.responders):
            return  # no envoy posted anywhere (the twin): nobody's credibility to update
        progress = net_moves(self.moves) < 0
        for r in self.responders:
            r.envoys.update_credibility(progress, self.phase_up)

    # -- 6. Sustainability and relapse -----------------------------------------------------------------
    def sustain_or_wind_down(self) -> None:
        d = self.dyn
        engaged = None
        if self.policy.intervene:
            crisis, calm = self.tension >= CRISIS, self.tension < d.resolution_tension  # tension is settled for the day
            for r in self.responders:
                mine = r.sustain_or_wind_down(calm, crisis)
                engaged = mine if engaged is None else np.logical_or(engaged, mine, out=engaged)
        # Sustained engagement helps national counterparts build infrastructures for peace (§56, §72), but not while
        # the country is fighting (dynamics.infrastructure_halted_by): armed conflict destroys institutions rather
        # than building them (Collier et al. 2003).
        # Nowhere engaged (the twin), growth x 0 would add exact zeros: skipped. Growth, decay and relapses (back
        # into crisis after the critical moment had passed): one compiled pass (sim.kernels.sustain_sites).
        building = engaged if engaged is not None and engaged.any() else None
        halt = INFRASTRUCTURE_HALT[d.infrastructure_halted_by]
        halt = np.int8(5 if halt is None else halt)  # no halt: every phase (0-4) is below 5
        relapse = np.empty_like(self.resolved)
        kernels.sustain_sites(self.tension, self.phase, self.infrastructure, building, halt, d.infrastructure_growth,
                              d.infrastructure_decay, d.resolution_tension, self.resolved, self.been_in_crisis,
                              self.relapses, relapse)
        # War does not only stop the building: it tears down what was built (the same source), so the capacities
        # of the years before a war do not go on damping the grievance under it until it ends.
        if np.any(d.infrastructure_war_loss):
            self.tear_down_at_war(d.infrastructure_war_loss)
        self.events.record(self.day, EventKind.RELAPSE, relapse)

    def tear_down_at_war(self, loss) -> None:
        """I <- I - loss x I where the site is at war, at today's fighting cells only (war is a few per cent of
        the block; elsewhere the block arithmetic would subtract exact zeros), with the block's float32 arithmetic
        (the coefficient is a float32 scalar, or per world under parameter uncertainty)."""
        cells = self.fighting_cells()
        war = cells[self.phase.reshape(-1)[cells] >= 4]
        if war.size:
            infrastructure = self.infrastructure.reshape(-1)
            built = infrastructure[war]
            infrastructure[war] = built - self.at(loss, war % self.replicates) * built

    # -- 7. Bookkeeping ------------------------------------------------------------------------------
    def bookkeeping(self) -> None:
        """The day's outcomes per world: first escalation and war, days in armed conflict and at war (in all and per
        year, per site), crises waiting for an envoy; then the day's aggregates (``measure``). The counts come from
        one compiled pass over the phases (sim.kernels.count_fighting_days)."""
        year = (self.day - 1) // DAYS_PER_YEAR
        any_armed, any_war = self._any_armed, self._any_war
        counts = kernels.count_fighting_days(
            self.phase, self.day, year, self.site_escalated, any_armed, any_war, self.first_escalation,
            self.first_war, NEVER, self.conflict_days, self.war_days, self.year_conflict_days, self.year_war_days)
        waiting = 0  # crises (sites) waiting for an envoy of either actor, each counted once
        if self.policy.intervene:
            queued = self.un.waiting if self.regional is None else self.un.waiting | self.regional.waiting
            waiting = queued.sum(axis=0, dtype=np.int32)
        self.year_waiting_days[year] += waiting
        self.measure(any_armed, any_war, counts, waiting)

    def measure(self, any_armed: np.ndarray, any_war: np.ndarray, counts: tuple[int, int, int, int], waiting) -> None:
        """Per-day aggregates over worlds, computed once and handed to Mesa's DataCollector. ``counts``: the worlds
        with a site in armed conflict, at war, ever escalated, and the (site, world) cells in armed conflict."""
        regional, q = self.regional_quantiles()
        envoys = sum(r.envoys.count for r in self.responders)
        R = self.replicates
        n_armed, n_war, n_escalated, n_cells = counts
        # Shares as count / R: the same correctly rounded quotient as a boolean mean, without a float64 pass.
        self.aggregates = {
            "day": self.day,
            "tension_mean": float(regional.mean()),
            **{f"tension_q{int(p * 100):02d}": float(v) for p, v in zip(QUANTILES, q, strict=True)},
            "share_escalated": n_escalated / R,
            "share_in_conflict": n_armed / R,
            "share_at_war": n_war / R,
            "envoys_deployed": envoys / R,
            "sites_in_conflict": float(n_cells) / R,
            "crises_waiting": float(np.sum(waiting)) / self.replicates,
        }
        self.datacollector.collect(self)
        if len(self.policies) > 1:
            self.measure_blocks(regional, any_armed, any_war, self.phase >= 3, waiting)

    def measure_blocks(self, regional: np.ndarray, any_armed: np.ndarray, any_war: np.ndarray, armed: np.ndarray,
                       waiting) -> None:
        """Stacked points: each block's aggregates, the very numbers ``measure`` gives a run of that point alone
        (a contiguous slice reduces as the whole array did). ``block_series[name][k]``: point k's column."""
        K, B = len(self.policies), self.block
        if not hasattr(self, "block_series"):
            self.block_series = {name: [[] for _ in range(K)] for name in AGGREGATES}
        blocks = regional.reshape(K, B)
        idx = np.minimum((np.asarray(QUANTILES) * B).astype(int), B - 1)
        q = np.partition(blocks, idx, axis=1)[:, idx]
        envoys = np.zeros(K, dtype=np.int64)
        for r in self.responders:
            if r.envoys.count:
                envoys += r.envoys.posted.reshape(-1, K, B).sum(axis=(0, 2))
        columns = {
            "day": [self.day] * K,
            "tension_mean": blocks.mean(axis=1).tolist(),
            **{f"tension_q{int(p * 100):02d}": q[:, i].tolist() for i, p in enumerate(QUANTILES)},
            "share_escalated": (self.first_escalation < NEVER).reshape(K, B).mean(axis=1).tolist(),
            "share_in_conflict": any_armed.reshape(K, B).mean(axis=1).tolist(),
            "share_at_war": any_war.reshape(K, B).mean(axis=1).tolist(),
            "envoys_deployed": [int(n) / B for n in envoys],
            "sites_in_conflict": [float(n) / B for n in armed.reshape(-1, K, B).sum(axis=(0, 2))],
            "crises_waiting": [float(n) / B for n in np.broadcast_to(waiting, (K * B,)).reshape(K, B).sum(axis=1)],
        }
        if missing := set(AGGREGATES) - set(columns):  # a new aggregate needs its per-block rule here
            raise NotImplementedError(f"measure_blocks: no per-point rule for {sorted(missing)}")
        for name, values in columns.items():
            for k, v in enumerate(values):
                self.block_series[name][k].append(v)

    # -- read-outs -----------------------------------------------------------------------------------
    def regional_tension(self) -> np.ndarray:
        """The highest tension in the region, per world."""
        return self.tension.max(axis=0)

    def regional_quantiles(self) -> tuple[np.ndarray, np.ndarray]:
        """``regional_tension()`` and its ``quantiles``, the same values in one compiled pass
        (sim.kernels.regional_quantiles); the regional tension is a buffer that the next day overwrites."""
        regional, q = self._regional, np.empty(len(QUANTILES), dtype=FLOAT)
        if not kernels.regional_quantiles(self.tension, self._quantile_ranks, regional, self._bucket_counts,
                                          self._gathered, q):
            q = quantiles(regional)  # a negative value (or -0.0): the whole array partitioned
        return regional, q

    @property
    def site_names(self) -> list[str]:
        return [s.name for s in self.sites]

    def story(self, world: int = 0, twin: PreventiveDiplomacyModel | None = None) -> str:
        """The event log of one replicate world as prose (sim.story); with ``twin``, the same world's
        counterfactual story follows."""
        from sim.story import story

        return story(self, world, twin=twin)


def mediator_bias_factor(bias, hypothesis: str) -> np.ndarray | None:
    """How much of the third parties' pressure each side heeds under a mediator of bias ``bias``, shape
    (1, 2, 1) for (site, side, world), or (1, 2, R) for a bias drawn per world; None when the mediator is impartial.

    Two hypotheses the literature disagrees on (LITERATURE.md), as a switch: Rauchhaus 2006 — bias
    costs trust, both sides heed less (x (1 - |b|/2)); Kydd 2003 — only a mediator biased toward a
    side is credible when it tells that side to concede, so the favoured side heeds more (x (1 + |b|))
    and the other as before. b > 0 favours the government (side 0)."""
    if np.ndim(bias):  # one bias per world (parameter uncertainty), to either side
        b = np.asarray(bias, dtype=np.float64)
        if hypothesis == "kydd":
            factor = np.stack([1.0 + np.maximum(b, 0.0), 1.0 + np.maximum(-b, 0.0)])
        else:
            factor = np.stack([1.0 - np.abs(b) / 2.0] * 2)
        return factor.astype(FLOAT)[None]
    b = float(bias)
    if b == 0.0:
        return None
    if hypothesis == "kydd":
        favoured = 0 if b > 0 else 1
        factor = [1.0, 1.0]
        factor[favoured] = 1.0 + abs(b)
    else:
        factor = [1.0 - abs(b) / 2.0] * 2
    return np.asarray(factor, dtype=FLOAT).reshape(1, 2, 1)


def net_moves(moves: np.ndarray) -> np.ndarray:
    """The two sides' moves summed per (site, world), -2 .. 2 in int8 (one addition, not a reduction over the axis)."""
    return np.add(moves[:, 0], moves[:, 1], dtype=np.int8)


def phase_of(tension: np.ndarray) -> np.ndarray:
    """Phase index 0 stable .. 4 war: the phase lines sit at whole tension units 1, 2, 3, 4."""
    return np.minimum(tension, FLOAT(4.0)).astype(np.int8)


def uniform_noise(u: np.ndarray) -> np.ndarray:
    """Zero-mean, unit-variance noise from uniforms: U(-sqrt 3, sqrt 3). A uniform costs a quarter of a
    Gaussian draw here; after smoothing and summing over days the difference does not matter."""
    return (u - np.float32(0.5)) * np.float32(2.0 * np.sqrt(3.0))


#: The largest 64-bit word: above every daily word k x 2^32 (experience_events).
_NO_WORD = np.uint64(2**64 - 1)

#: ``uniform_noise``'s scale over 2^16: a power-of-two rescale is exact, so one product rounds as the two did.
_NOISE16 = np.float32(2.0 * np.sqrt(3.0)) * np.float32(2.0**-16)


def uniform_noise16(k: np.ndarray, out: np.ndarray | None = None) -> np.ndarray:
    """``uniform_noise`` of the 16-bit uniforms u = (k + 1/2) / 2^16 (sim.streams), bit for bit, from the words k in
    two passes: k - 32767.5 is 2^16 (u - 1/2) exactly in float32, and (u - 1/2) x 2 sqrt 3 rounds once."""
    out = np.subtract(k, FLOAT(32767.5), out=out, dtype=FLOAT)
    out *= _NOISE16
    return out


def quantile_ranks(n: int) -> np.ndarray:
    """The nearest ranks of the QUANTILES among ``n`` values, ascending."""
    return np.minimum((np.asarray(QUANTILES) * n).astype(int), n - 1)


def quantiles(values: np.ndarray) -> np.ndarray:
    """The QUANTILES of ``values`` (nearest rank; faster than np.quantile here)."""
    idx = quantile_ranks(values.size)
    if values.size >= 4096 and values.dtype == np.float32:
        bits = values.view(np.int32)
        if bits.min() >= 0:  # no negative value, no -0.0: the bits order as the values do
            return bucket_ranks(values, bits, idx)
    return np.partition(values, idx)[idx]  # a partial sort: only the five ranks are placed


def bucket_ranks(values: np.ndarray, bits: np.ndarray, ranks: np.ndarray) -> np.ndarray:
    """The values at ``ranks`` of the sorted non-negative float32 ``values`` (``bits``: their int32 view): a
    histogram of the top 13 bits (exponent and 4 of the mantissa, in value order) says which bucket holds each
    rank, and only those few buckets are partitioned. The same values as a partition of the whole array, at
    half its cost on 10,000 worlds (a day's quantiles took as long as a day's tension update)."""
    bucket = bits >> 19
    counts = np.bincount(bucket)
    end = np.cumsum(counts)  # ranks below the end of each bucket
    held = np.searchsorted(end, ranks, side="right").tolist()  # the bucket holding each rank
    needed = sorted(set(held))
    # The values of the buckets needed, gathered in one pass (not one mask per rank). The buckets order as the values
    # do, so among the gathered values a rank's place is its rank less the values of the buckets left out below it.
    wanted = np.zeros(counts.size, dtype=bool)
    wanted[needed] = True
    sel = values[wanted.take(bucket)]
    shift, kept = {}, 0
    for b in needed:
        n = int(counts[b])
        shift[b] = kept - (int(end[b]) - n)
        kept += n
    place = [r + shift[b] for r, b in zip(ranks.tolist(), held, strict=True)]
    sel.partition(place)
    return sel[place]


#: The per-day aggregates the DataCollector records (tension over the region's highest site).
AGGREGATES = ("day", "tension_mean", *(f"tension_q{int(q * 100):02d}" for q in QUANTILES),
              "share_escalated", "share_in_conflict", "share_at_war", "envoys_deployed", "sites_in_conflict",
              "crises_waiting")


def _aggregate(name: str):
    return lambda m: m.aggregates[name]


class DailyAggregates(mesa.DataCollector):
    """Mesa's DataCollector for the per-day aggregates, which ``measure`` has already computed as Python numbers:
    ``collect`` appends them as they are. Mesa's own deep-copies every reported value (a guard against mutable
    reports that these immutable numbers do not need), which cost more than the day's bookkeeping around it."""

    def collect(self, model):
        if getattr(model, "aggregates", None) is None or self.agent_reporters or self.agenttype_reporters:
            return super().collect(model)
        if hasattr(self, "_collection_steps"):
            self._collection_steps.append(model.time)
        aggregates = model.aggregates
        for var, values in self.model_vars.items():
            values.append(aggregates[var])
