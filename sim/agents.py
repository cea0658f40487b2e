"""The agents: crisis sites, conflict parties, observers, mediators, the UN and the regional organisation.

Every agent is an ordinary Mesa agent whose state variables are NumPy arrays over the R replicate
worlds (the last axis), so one call of a rule advances all R worlds; R = 1 is the same code.
Site and party state lives in the model's (site, world) blocks and each agent holds *views* of its
rows, so region-wide processes (observation, spill-over, pooling) can run on the block at once.
Equations and sources: docs/ODD.md, section 7 (submodels), named as the methods here.
"""

from __future__ import annotations

from collections.abc import Callable
from enum import IntEnum
from typing import TYPE_CHECKING

import mesa
import numpy as np
from mesa.discrete_space import FixedAgent

from sim import kernels
from sim.events import EventKind
from sim.streams import COUNCIL, FUNDING, HANDOVER, LOGIT16, SKILL

if TYPE_CHECKING:
    from sim.model import PreventiveDiplomacyModel

#: Phase thresholds on the tension scale: stable < 1 <= dispute < 2 <= crisis < 3 <= armed < 4 <= war.
CRISIS, ARMED_CONFLICT, WAR = 2.0, 3.0, 4.0
MAX_TENSION = 5.0
NEVER = np.iinfo(np.int32).max  # "no such day yet"
FLOAT = np.float32  # state precision: ample for a latent 0-5 scale, and half the memory traffic


class Stage(IntEnum):
    """Where an actor's engagement with one site stands. Arrays are compared with ``Stage.X.value``: NumPy reads an
    IntEnum operand as an int64 array and casts the whole int8 block to it (10 us against 1.5 on 30,000 cells)."""

    IDLE = 0  # no warning outstanding
    WARNED = 1  # warning issued, waiting out the warning-to-action lag
    ACTIVE = 2  # on the ground, climbing the tool ladder
    SUSTAINING = 3  # the critical moment passed; staying engaged for `sustainability_days`


class Site(FixedAgent):
    """A country in the region. Rule: tension moves with the parties' moves, triggers and spill-over,
    and reverts towards a grievance level that national infrastructures for peace damp (§29, §35-40, §56).

    Attributes are views of the model's (site, world) blocks: ``tension``, ``grievance``,
    ``infrastructure`` (national infrastructure for peace, 0-1), ``war_history`` (conflict trap, §29).
    """

    def __init__(self, model: PreventiveDiplomacyModel, index: int, name: str, cell):
        super().__init__(model)
        self.index, self.name = index, name
        self.cell = cell
        self.tension = model.tension[index]
        self.grievance = model.grievance[index]
        self.infrastructure = model.infrastructure[index]
        self.war_history = model.war_history[index]
        self.local_preference = model.local_preference[index]


class Party(mesa.Agent):
    """A conflict party (side 0 government, side 1 opposition). Rule: escalate if its propensity
    — grievance, tension, the other side's last move, conflict trap, minus the costs of war, its
    war-weariness and the third parties' pressure discounted by its hardening — exceeds a threshold;
    conciliate if it is below minus the threshold; otherwise hold (Epstein 2002; Fearon 1995; Zartman;
    §41-42, §47). Help can backfire: inducements on the table reward escalation (Öberg et al. 2009) and
    coercion provokes the opposition's hard-liners (§42).
    """

    def __init__(self, model: PreventiveDiplomacyModel, site: Site, side: int):
        super().__init__(model)
        self.site, self.side = site, side
        self.hardening = model.hardening[site.index, side]  # closes the window for small steps
        self.move = model.moves[site.index, side]  # -1 conciliate, 0 hold, +1 escalate

    @staticmethod
    def choose_moves(model: PreventiveDiplomacyModel, u: np.ndarray | None = None,
                     logit: np.ndarray | None = None) -> None:
        """Every party's move in every world at once (the rule above, on the (site, side, world) block).

        Ordered logit: propensity z plus logistic noise of scale ``party_noise``; escalate above the
        threshold, conciliate below minus the threshold. The noise is drawn from one uniform ``u`` per
        party and world by the inverse CDF, log(u / (1 - u)) x scale; ``logit``: that log-odds already
        looked up (``RandomStreams.party_logit``). The model's daily path is ``choose_moves_compiled``, the same
        arithmetic in one compiled pass (tests/test_kernels.py holds the two to the same bits)."""
        m, d = model, model.dyn
        if logit is None:
            logit = np.log(u / (1.0 - u))
        # The propensity is summed term by term in the order of the rule (float sums depend on it): the
        # per-site terms first, in (site, world) blocks, then each further term added in place to one
        # (site, side, world) block. Same arithmetic, a third of the passes and temporaries of one expression.
        site = m.effective_grievance - CRISIS
        site *= d.weight_grievance
        t = m.tension - CRISIS
        t *= d.weight_tension
        site += t
        z = np.multiply(m.last_moves[:, ::-1, :], d.weight_reciprocity)  # the other side's last move
        z += site[:, None, :]
        np.multiply(m.war_history, d.conflict_trap, out=t)
        z += t[:, None, :]
        np.subtract(m.tension, ARMED_CONFLICT, out=t)
        np.maximum(t, 0.0, out=t)
        t *= m.war_cost_weight  # weight_war_cost, per conflict by its kind (Model.war_cost_by_kind)
        z -= t[:, None, :]
        np.multiply(m.fatigue, d.weight_fatigue, out=t)
        z -= t[:, None, :]
        np.multiply(m.phase >= 3, d.weight_fighting, out=t)
        z += t[:, None, :]
        # Third parties' pressure. Where nobody presses anywhere (the twin), pressure / heed is an exact +0 in every
        # cell (heed >= 1), and z - 0 is z: skipped.
        if m.policy.intervene or m.pressure.any():  # (heed and q are used below only when intervening)
            pressure = m.pressure[:, None, :]
            if m.side_factor is not None:  # a biased mediator (Kydd 2003 vs Rauchhaus 2006)
                pressure = pressure * m.side_factor
            heed = m.hardening + 1.0  # hardened parties heed outsiders less
            q = np.divide(pressure, heed)
            z -= q
        logit *= d.party_noise
        z += logit
        if m.policy.intervene:
            # Moral hazard: where incentives are on the table, escalating earns a seat and a price. Hardened
            # parties heed outsiders' carrots as little as their sticks: the pull is discounted alike.
            carrots = (d.moral_hazard * FLOAT(m.policy.financial_incentives)) * m.engaged[:, None, :]
            z += np.divide(carrots, heed, out=q)
            # Coercion provokes the opposition's hard-liners (spoilers). Nowhere coerced (below the coercive rung,
            # the usual case), the term is an exact zero: skipped.
            if m.coerced.any():
                z[:, 1, :] += d.coercion_backlash * m.coerced
        cut = d.party_threshold if m.deadlock is None else d.party_threshold + m.deadlock
        # +1 above the cut, then -1 below minus the cut, straight into the int8 moves (no casts of boolean blocks).
        np.greater(z, cut, out=m.moves.view(bool))
        m.moves -= np.less(z, -cut).view(np.int8)

    @staticmethod
    def choose_moves_compiled(model: PreventiveDiplomacyModel, words: np.ndarray) -> None:
        """``choose_moves`` in one compiled pass (sim.kernels.parties_moves), the model's daily path: the same rule and
        the same bits, from the day's first (site, world) 64-bit words (``RandomStreams.words``)."""
        m, d = model, model.dyn
        intervene = bool(m.policy.intervene)
        pressed = intervene or bool(m.pressure.any())
        side_factor = m.side_factor  # None (impartial: x 1 is exact), one pair, or a pair per world
        if side_factor is None or side_factor.shape[-1] == 1:
            side_factor = (FLOAT(1.0), FLOAT(1.0)) if side_factor is None else tuple(side_factor[0, :, 0])
        else:
            side_factor = side_factor[0]
        carrots = (d.moral_hazard * FLOAT(m.policy.financial_incentives)) if intervene else FLOAT(0.0)
        coerce = intervene and bool(m.coerced.any())
        deadlock = m.no_deadlock if m.deadlock is None else m.deadlock[:, 0, 0]
        kernels.parties_moves(m.moves, m.last_moves, m.effective_grievance, m.tension, m.war_history,
                              m.war_cost_weight, m.fatigue, m.phase, words, LOGIT16, m.logit, d.weight_grievance,
                              d.weight_tension, d.weight_reciprocity, d.conflict_trap, d.weight_fatigue,
                              d.weight_fighting, d.party_noise, d.party_threshold, deadlock, pressed, m.pressure,
                              side_factor, m.hardening, intervene, carrots, m.engaged, coerce, d.coercion_backlash,
                              m.coerced)

    @staticmethod
    def harden(model: PreventiveDiplomacyModel, in_crisis, bloodshed: np.ndarray, stable) -> None:
        """Positions harden each day in crisis and jump when blood is first shed; they soften slowly
        when stable. Hardening divides third parties' pressure: the window for small steps closes.
        ``bloodshed``: the flat (site, world) cells where armed conflict broke out today. The model's daily path is
        ``harden_compiled`` (the same bits)."""
        d = model.dyn
        h = model.hardening
        step = d.hardening_per_day * in_crisis
        if bloodshed.size:  # the jump at those few cells only: elsewhere it added an exact +0
            step.reshape(-1)[bloodshed] += model.coef_at("hardening_on_bloodshed", cells=bloodshed)
        h += step[:, None, :]
        h *= (1.0 - d.hardening_decay * stable)[:, None, :]

    @staticmethod
    def harden_compiled(model: PreventiveDiplomacyModel, bloodshed: np.ndarray) -> None:
        """``harden`` in one compiled pass (sim.kernels.harden), the model's daily path: in crisis and stable read
        off the day's tension, the bloodshed jump at the flat (site, world) cells ``bloodshed``; the same bits."""
        jump = model.bloodshed_jump.reshape(-1)
        if bloodshed.size:
            jump[bloodshed] = model.coef_at("hardening_on_bloodshed", cells=bloodshed)
        d = model.dyn
        kernels.harden(model.hardening, model.tension, model.bloodshed_jump, d.hardening_per_day, d.hardening_decay)
        if bloodshed.size:
            jump[bloodshed] = 0.0


class Observer(mesa.Agent):
    """An early-warning source (UN, regional organisation or civil society). Rule: each day it sees
    every site's tension with zero-mean noise of standard deviation ``noise`` (uniform, see
    ``sim.model.uniform_noise``); better early warning shrinks the noise, hard-to-read crises grow it
    (§44-46)."""

    def __init__(self, model: PreventiveDiplomacyModel, actor: int, noise: float):
        super().__init__(model)
        self.actor = actor
        self.noise = self.base_noise(noise)
        self.signal = np.zeros_like(model.tension)

    def base_noise(self, noise: float) -> float:
        """Its noise under the current policy: better early warning shrinks it (a reform changes it)."""
        m = self.model
        return noise * (1.5 - m.policy.early_warning) * m.scenario_config.warning_difficulty

    @property
    def precision(self) -> float:
        return 1.0 / max(self.noise, 1e-6) ** 2

    def observe(self, noise: np.ndarray) -> None:
        if np.result_type(self.noise, noise) == self.signal.dtype:  # float32 throughout: no temporary needed
            np.multiply(noise, self.noise, out=self.signal)
            self.signal += self.model.tension
        else:
            np.add(self.model.tension, self.noise * noise, out=self.signal)


class Mediator(mesa.Agent):
    """An envoy on a roster. Rule: when deployed, it moves its approach toward the local preference at a
    rate set by flexibility; its effect is tool strength x credibility x fit x leverage x information,
    and credibility is slow to gain and quick to lose (§48-50, §53, §61; Fey & Ramsay 2010).

    An envoy is posted to at most one site per world. It is a handle on its responder's ``Envoys``, where the
    rules run for the whole roster at once: ``site`` (-1: free), ``skill`` and ``deployed_days`` are views of its
    rows there (over the R worlds); ``approach`` and ``credibility`` are read off the sites it is posted to.
    ``worlds`` lists the worlds where it is posted and ``cells`` the flat (site, world) index of its posting there.
    """

    def __init__(self, model: PreventiveDiplomacyModel, responder: Responder, number: int, region: int = -1):
        super().__init__(model)
        self.responder, self.number = responder, number
        self.region = region  # the region it serves (a regional organisation's envoy); -1: anywhere
        self.envoys = responder.envoys
        if number == self.envoys.size:  # a new envoy (a reform's larger roster): its row is added
            self.envoys.add([region])

    site = property(lambda self: self.envoys.site[self.number])
    skill = property(lambda self: self.envoys.skill[self.number])
    deployed_days = property(lambda self: self.envoys.deployed_days[self.number])

    @property
    def approach(self) -> np.ndarray:
        """0 direct .. 1 indirect talks, per world: where it is posted, its approach there; where it is free, the
        default it will open with. A copy: change it with ``set_approach``."""
        return self._at_posting(self.envoys.approach, self.model.dyn.default_approach)

    @property
    def credibility(self) -> np.ndarray:
        """Per world: its credibility where it is posted; where it is free, the fresh credibility of a new posting."""
        return self._at_posting(self.envoys.credibility, self.model.dyn.mediator_credibility)

    def _at_posting(self, block: np.ndarray, free: float) -> np.ndarray:
        out = np.full(self.model.replicates, free, dtype=block.dtype)
        out[self.worlds] = block.reshape(-1)[self.cells]
        return out

    @property
    def deployed(self) -> np.ndarray:
        return self.site >= 0

    @property
    def worlds(self) -> np.ndarray:
        return np.flatnonzero(self.site >= 0)

    @property
    def cells(self) -> np.ndarray:
        worlds = self.worlds
        return self.site[worlds] * self.model.replicates + worlds

    def post(self, worlds: np.ndarray, sites: np.ndarray) -> None:
        """Send this envoy to ``sites`` in ``worlds``, with fresh credibility and the default approach."""
        worlds = np.asarray(worlds)
        self.envoys.post(np.full(worlds.size, self.number), worlds, np.asarray(sites))

    def release(self, wound_down: np.ndarray) -> None:
        """Return to the roster where this envoy's site has wound down (mask S x R)."""
        self.envoys.release(wound_down & (self.envoys.envoy_at == self.number))

    def adapt(self) -> None:
        """Move the approach toward the local preference (flexibility, §48-50)."""
        self.envoys.adapt(self.number)

    def set_approach(self, worlds: np.ndarray, value: float) -> None:
        """Set this envoy's approach (0 direct .. 1 indirect talks) in ``worlds`` where it is posted (play mode's
        choice)."""
        worlds = np.intersect1d(np.asarray(worlds).reshape(-1), self.worlds)
        self.envoys.approach.reshape(-1)[self.site[worlds] * self.model.replicates + worlds] = value

    def effect(self) -> np.ndarray:
        """Pressure its mediation adds on its site's parties in each of ``worlds`` (``Envoys.effect``)."""
        return self.envoys.effect().reshape(-1)[self.cells]

    def update_credibility(self, progress: np.ndarray, setback: np.ndarray) -> None:
        """Credibility: hard to gain, easy to lose (§61). Masks are (site, world)."""
        self.envoys.update_credibility(progress, setback, self.number)


class Envoys:
    """One responder's envoys, held so that the roster's rules are a few array calls a day whatever its size (each
    envoy stays a Mesa agent, a ``Mediator`` handle on these arrays).

    A responder has at most one envoy at a site in a world, so a posting's state lives at its (site, world)
    cell, beside the pressure, preference and progress it works with: ``envoy_at`` (the envoy's number, -1:
    none), ``posted``, ``approach``, ``credibility`` and ``skill_at`` (the posted envoy's skill, 0 where none).
    What belongs to the envoy is (envoy, world): ``site`` (-1: free), ``busy``, ``skill``, ``deployed_days``.

    The daily rules run on whole (site, world) blocks, not on the list of postings: plain block arithmetic costs
    a few microseconds at R = 10,000, less than gathering the postings or a masked (``where=``) operation. Where
    no envoy is posted the approach and credibility blocks hold values no rule reads (a new posting sets its own)
    and the effect is a zero (skill 0)."""

    def __init__(self, model: PreventiveDiplomacyModel, responder: Responder, regions: list[int]):
        self.model, self.responder = model, responder
        S, R = model.tension.shape
        d = model.dyn
        self.envoy_at = np.full((S, R), -1, dtype=np.int32)
        self.posted = np.zeros((S, R), dtype=bool)
        self.count = 0  # postings in all worlds
        self.approach = np.full((S, R), d.default_approach, dtype=FLOAT)  # 0 direct .. 1 indirect talks
        self.credibility = np.full((S, R), d.mediator_credibility, dtype=FLOAT)
        self.skill_at = np.zeros((S, R), dtype=FLOAT)
        self.site = np.full((0, R), -1, dtype=np.int64)
        self.busy = np.zeros((0, R), dtype=bool)
        self.skill = np.zeros((0, R), dtype=FLOAT)
        self.deployed_days = np.zeros((0, R), dtype=np.int32)
        self.region = np.zeros(0, dtype=np.int64)  # the region each envoy serves; -1: anywhere
        self.add(regions)

    @property
    def size(self) -> int:
        return self.region.size

    def add(self, regions: list[int]) -> None:
        """New envoys at the end of the roster, free."""
        m, R = self.model, self.model.replicates
        first, n = self.size, len(regions)
        # Skill varies by envoy and world, keyed by (world, actor, envoy): common random numbers that
        # do not depend on R or on the size of the roster.
        skill = [(0.8 + 0.4 * m.streams.address_uniform(SKILL, np.arange(R), self.responder.actor, i)).astype(FLOAT)
                 for i in range(first, first + n)]
        self.site = np.concatenate([self.site, np.full((n, R), -1, dtype=np.int64)])
        self.busy = np.concatenate([self.busy, np.zeros((n, R), dtype=bool)])
        self.skill = np.concatenate([self.skill, np.reshape(skill, (n, R)).astype(FLOAT)])
        self.deployed_days = np.concatenate([self.deployed_days, np.zeros((n, R), dtype=np.int32)])
        self.region = np.concatenate([self.region, np.asarray(regions, dtype=np.int64)])

    def post(self, envoys: np.ndarray, worlds: np.ndarray, sites: np.ndarray) -> None:
        """Send each of ``envoys`` to its site in its world, with fresh credibility and the default approach."""
        d, R = self.model.dyn, self.model.replicates
        self.site[envoys, worlds] = sites
        self.busy[envoys, worlds] = True
        cells = sites * R + worlds
        self.envoy_at.reshape(-1)[cells] = envoys
        self.posted.reshape(-1)[cells] = True
        self.skill_at.reshape(-1)[cells] = self.skill[envoys, worlds]
        self.credibility.reshape(-1)[cells] = self.model.coef_at("mediator_credibility", cells=cells)
        self.approach.reshape(-1)[cells] = d.default_approach
        self.count = int(np.count_nonzero(self.posted))

    def release(self, wound_down: np.ndarray) -> None:
        """Back to the roster wherever an envoy's site has wound down (mask S x R)."""
        if not self.count:
            return
        cells = np.flatnonzero(wound_down)
        cells = cells[self.posted.reshape(-1)[cells]]
        if cells.size:
            envoys, worlds = self.envoy_at.reshape(-1)[cells], cells % self.model.replicates
            self.site[envoys, worlds] = -1
            self.busy[envoys, worlds] = False
            self.envoy_at.reshape(-1)[cells] = -1
            self.posted.reshape(-1)[cells] = False
            self.skill_at.reshape(-1)[cells] = 0.0
            self.count -= cells.size

    def adapt(self, envoy: int | None = None) -> None:
        """Each posted envoy (or only ``envoy``) moves its approach toward the local preference (flexibility,
        §48-50)."""
        m = self.model
        if not self.count:
            return
        rate = m.by_policy(lambda p: m.dyn.adaptation_rate * p.flexibility, key="adaptation")  # per world if drawn
        was_indirect = self.approach >= 0.5
        step = m.local_preference - self.approach
        step *= rate  # rate x (preference - approach): the same float32 product either way round
        if envoy is None:
            where = self.posted
            self.approach += step
            self.deployed_days += self.busy
        else:
            where = self.envoy_at == envoy
            np.add(self.approach, step, out=self.approach, where=where)
            self.deployed_days[envoy] += self.busy[envoy]
        # Log a change of approach where it crosses the line between direct and indirect talks: envoy by envoy,
        # each envoy's in (site, world) order.
        crossed = self.approach >= 0.5
        crossed ^= was_indirect
        crossed &= where
        if crossed.any():
            cells = np.flatnonzero(crossed)
            cells = cells[np.argsort(self.envoy_at.reshape(-1)[cells], kind="stable")]
            m.events.record_at(m.day, EventKind.APPROACH, cells, self.responder.actor,
                               self.approach.reshape(-1)[cells])

    def effect(self) -> np.ndarray:
        """Pressure each posted envoy's mediation adds on its site's parties (S x R; a zero where none is posted), on
        top of the institution's attention: envoy strength x credibility x skill x fit x leverage x information
        (§47-53, §61). An approach the parties reject costs more than it brings (misfit > 1: the fit turns
        negative and the envoy's presence hardens them; Beardsley et al. 2006)."""
        m = self.model
        misfit = np.subtract(self.approach, m.local_preference)
        np.abs(misfit, out=misfit)
        misfit *= m.dyn.misfit_penalty
        fit = np.subtract(1.0, misfit, out=misfit)
        quality = self.credibility * self.skill_at
        quality *= fit
        quality *= m.dyn.envoy_strength
        quality *= self.responder.leverage_block() * m.information
        return quality

    def update_credibility(self, progress: np.ndarray, setback: np.ndarray, envoy: int | None = None) -> None:
        """Credibility: hard to gain, easy to lose (§61). Masks are (site, world)."""
        if not self.count:
            return
        d = self.model.dyn
        cred = self.credibility
        new = np.subtract(1.0, cred, dtype=cred.dtype)
        new *= d.credibility_gain  # gain x (1 - credibility) x progress, in that order
        new *= progress
        new += cred  # credibility + gain - loss
        new -= np.multiply(setback, d.credibility_loss)
        np.clip(new, 0.05, 1.0, out=new)
        if envoy is None:
            self.credibility = new
        else:
            np.copyto(cred, new, where=self.envoy_at == envoy)


class Agenda:
    """A responder's dated transitions (first step, next rung, envoy ready, wind-down): for each kind, the (day,
    cell, epoch) of every entry in the order they were scheduled, as the rows of one int64 block. A day's due
    cells are one comparison away whatever the spread of the days (a dictionary keyed by day cost a Python step per
    distinct day of every batch: funding delays spread a day's envoy requests over dozens of days). ``pop``
    returns them in the order scheduled; an entry whose day has passed unpopped (scheduled for a day after its kind
    was taken that day) never comes due. Batches scheduled since the last ``pop`` wait in a list until then.

    One (3, n) block rather than three arrays: a few hundred entries are pending on a typical day, so the cost is
    the number of NumPy calls (joining, comparing, gathering), which the block divides by three."""

    def __init__(self):
        self._entries: dict[str, np.ndarray] = {}
        self._new: dict[str, list[np.ndarray]] = {}  # batches scheduled since the last pop, joined at the next

    def add(self, kind: str, days: np.ndarray | int, cells: np.ndarray, epochs: np.ndarray) -> None:
        if cells.size:
            batch = np.empty((3, cells.size), dtype=np.int64)
            batch[0], batch[1], batch[2] = days, cells, epochs
            self._new.setdefault(kind, []).append(batch)

    def _joined(self, kind: str) -> np.ndarray | None:
        entries, new = self._entries.get(kind), self._new.pop(kind, None)
        if new:
            if entries is not None:
                new.insert(0, entries)
            entries = self._entries[kind] = new[0] if len(new) == 1 else np.concatenate(new, axis=1)
        return entries

    def pop(self, kind: str, day: int) -> tuple[np.ndarray, np.ndarray]:
        """The (cells, epochs) of ``kind`` due on ``day``, in the order they were scheduled."""
        entries = self._joined(kind)
        if entries is None:
            return _NO_CELLS, _NO_CELLS
        # Positions, then one gather: cheaper than masking (each mask counts and copies anew).
        hit = (entries[0] == day).nonzero()[0]
        if not hit.size:
            return _NO_CELLS, _NO_CELLS
        if day % 8 == 0:  # now and then, drop the entries whose day has come (their number, not their order, changes)
            self._entries[kind] = entries[:, entries[0] > day]
        cells, epochs = entries[1:].take(hit, axis=1)
        return cells, epochs

    def cancel(self, kind: str, cells: np.ndarray) -> None:
        """Take ``kind`` off at ``cells``, whatever day it was due."""
        if (entries := self._joined(kind)) is not None:
            self._entries[kind] = entries[:, ~np.isin(entries[1], cells)]


class Responder(mesa.Agent):
    """An international actor that warns, decides and acts: the UN or the regional organisation.

    Rule: when its pooled early-warning estimate for a site crosses the threshold it warns; after the
    warning-to-action lag (plus any decision delay) it takes a first small step and climbs the tool
    ladder one rung every ``ladder_days`` up to its ceiling; an envoy rung needs a free envoy from its
    roster; once the critical moment passes it stays engaged for ``sustainability_days`` and winds down
    (§16-17, §44-47, §56-57, §62-64).

    Dated transitions (first step, next rung, envoy ready, wind-down) go into an agenda (``Agenda``), so a
    day's work follows the events due that day rather than every site of every world. Entries carry the
    engagement's epoch; an engagement that has wound down leaves only stale entries behind. Its envoys are
    held in arrays (``Envoys``); each is a Mesa agent (``Mediator``) in ``mediators``.
    """

    actor: int = 0
    top_rung: int = 4

    def __init__(self, model: PreventiveDiplomacyModel, envoys: int | list[int], leverage: float | np.ndarray,
                 site_region: np.ndarray | None = None):
        """``envoys``: the roster, or one roster per region; ``leverage``: one value, one per site, or one per (site,
        world) (a 2-D block: coefficients drawn per world under parameter uncertainty); ``site_region``: each site's
        region (-1: not covered by this actor), for per-region rosters."""
        super().__init__(model)
        S, R = model.tension.shape
        # Leverage with each site's parties (float32, as every coefficient: see PreventiveDiplomacyModel.dyn).
        leverage = np.asarray(leverage, dtype=FLOAT)
        self.leverage = leverage.copy() if leverage.ndim == 2 else np.broadcast_to(leverage, (S,)).copy()
        self.site_region = np.zeros(S, dtype=np.int64) if site_region is None else np.asarray(site_region)
        self.covered = self.site_region >= 0  # sites this actor watches and acts in
        regions = len(envoys) if isinstance(envoys, list) else self.site_region.max(initial=-1) + 1
        self.region_sites = [np.flatnonzero(self.site_region == r) for r in range(regions)]
        self.stage = np.zeros((S, R), dtype=np.int8)
        self.estimate = model.tension.copy()  # smoothed early-warning estimate of tension
        self.estimate_error = 0.0  # its standard error (set by pool_signals)
        self.warn_day = np.full((S, R), NEVER, dtype=np.int32)
        self.act_day = np.full((S, R), NEVER, dtype=np.int32)  # first step on the ground
        self.envoy_ready_day = np.full((S, R), NEVER, dtype=np.int32)
        self.rung = np.full((S, R), -1, dtype=np.int8)
        self.resolved_day = np.full((S, R), NEVER, dtype=np.int32)
        self.has_envoy = np.zeros((S, R), dtype=bool)
        self.waiting = np.zeros((S, R), dtype=bool)  # envoy requested and ready to go, none free yet
        self.epoch = np.zeros((S, R), dtype=np.int32)  # engagements so far at each site
        self.base = np.zeros((S, R), dtype=FLOAT)  # pressure of the rung reached (the institution's attention)
        self.wolf = np.zeros(R, dtype=FLOAT)  # recognised false alarms of this actor in each world, fading
        self.pressure = np.zeros((S, R), dtype=FLOAT)
        self.agenda = Agenda()
        self._pooling = None  # pool_signals' weights and error
        # One roster, or one per region whose envoys serve their own region only; its state is one array each.
        regions = [-1] * envoys if isinstance(envoys, int) else [r for r, n in enumerate(envoys) for _ in range(n)]
        self.envoys = Envoys(model, self, regions)
        self.mediators = [Mediator(model, self, i, region) for i, region in enumerate(regions)]
        self.roster = len(self.mediators)  # envoys that may take a new posting (a reform can change it)
        # The money spent in the current calendar year in each world (policy.budget_usd_per_year).
        self.spent = np.zeros(R, dtype=np.float64)
        # Outcomes: first warning / action / envoy of the run per (site, world).
        self.first_warning = np.full((S, R), NEVER, dtype=np.int32)
        self.first_action = np.full((S, R), NEVER, dtype=np.int32)
        self.first_envoy = np.full((S, R), NEVER, dtype=np.int32)
        # The realised gaps of the engagement that first acted (a warning dropped as a false alarm has none).
        self.first_action_gap = np.full((S, R), NEVER, dtype=np.int32)
        self.first_envoy_gap = np.full((S, R), NEVER, dtype=np.int32)
        # Counters priced at the end of the run (sim.results): days and one-off steps per site.
        self.false_alarms = np.zeros((S, R), dtype=np.int32)
        self.statements = np.zeros((S, R), dtype=np.int32)
        self.fact_findings = np.zeros((S, R), dtype=np.int32)
        self.mission_days = np.zeros((S, R), dtype=np.int32)
        self.coercive_days = np.zeros((S, R), dtype=np.int32)

    # -- the agenda -------------------------------------------------------------------------------
    def schedule(self, days: np.ndarray | int, kind: str, cells: np.ndarray) -> None:
        """Put ``kind`` on the agenda for each flat (site, world) cell on its day."""
        self.agenda.add(kind, days, cells, self.epoch.reshape(-1)[cells])

    def cancel(self, kind: str, cells: np.ndarray) -> None:
        """Take ``kind`` off the agenda at the flat (site, world) ``cells``, whatever day it was due."""
        self.agenda.cancel(kind, np.asarray(cells, dtype=np.int64))

    def reschedule(self, kind: str, cells: np.ndarray, day: int) -> None:
        """Move ``kind`` at ``cells`` to ``day`` (the dashboard's play mode: the room decides when)."""
        self.cancel(kind, cells)
        self.schedule(int(day), kind, np.asarray(cells, dtype=np.int64))

    def due(self, kind: str) -> np.ndarray:
        """The cells where ``kind`` is due today, in engagements still running."""
        cells, epochs = self.agenda.pop(kind, self.model.day)
        return cells[self.epoch.reshape(-1).take(cells) == epochs] if cells.size else cells

    def _cells_mask(self, cells: np.ndarray) -> np.ndarray:
        mask = np.zeros(self.stage.shape, dtype=bool)
        mask.reshape(-1)[cells] = True
        return mask

    def _refresh_base(self, cells: np.ndarray) -> None:
        """Pressure of the rung reached: the attention of the institution (envoys add their own)."""
        m = self.model
        rung = self.rung.reshape(-1)[cells]
        scale = m.coef_at("tool_strength_scale", cells=cells)
        attention = self.attention
        attention = attention.reshape(-1).take(cells) if attention.ndim == 2 else attention.take(cells // m.replicates)
        self.base.reshape(-1)[cells] = m.rung_strength.take(rung + 1) * attention * scale

    # -- 3. Observation and warning -----------------------------------------------------------
    def pool_signals(self, own: Observer, partners: list[tuple[Observer, Callable]]) -> None:
        """Precision-weighted pooling of its own signal with partners', each partner's precision
        weighted by how much of it is shared (0-1, ``share(policy)``); then exponential smoothing."""
        m = self.model
        coefs, error = self.pool_weights(own, partners)
        # In place on the one pooled block (its dtype is already that of every sum below): fewer temporaries.
        pooled = own.signal * coefs[0]
        for c, (o, _) in zip(coefs[1:], partners, strict=True):
            if self.heard(c):
                term = o.signal * c
                pooled = np.add(pooled, term, out=pooled if term.dtype == pooled.dtype else None)
        pooled -= self.estimate
        pooled *= m.dyn.observer_smoothing
        self.estimate += pooled
        self.estimate_error = error

    @staticmethod
    def heard(weight) -> bool:
        """Whether pooling adds a partner's term: always for a weight per world (where it is 0 the term is an exact
        0), for a scalar weight only above 0."""
        return bool(isinstance(weight, np.ndarray) or weight > 0)

    def pool_weights(self, own: Observer, partners: list[tuple[Observer, Callable]]) -> tuple[list, object]:
        """``pooling`` under this run's policy: the weights (own first) and the estimate's standard error, a scalar,
        or one per world for stacked points."""
        m = self.model
        if len(m.policies) == 1:  # from the policy as it is today (play mode may have changed it)
            *coefs, error = self.pooling(own, partners, m.policy)
        else:
            if self._pooling is None:  # per stacked point, as a run of that point computes it
                n = len(partners) + 2
                self._pooling = [m.by_policy(lambda p, i=i: self.pooling(own, partners, p)[i]) for i in range(n)]
            *coefs, error = self._pooling
        return coefs, error

    @staticmethod
    def pooling(own: Observer, partners: list[tuple[Observer, Callable]], policy) -> list:
        """Under one policy: each signal's weight in the pool (own first), then the standard error of the
        smoothed estimate (pooled variance x the EWMA's a / (2 - a))."""
        weights = [own.precision] + [share(policy) * o.precision for o, share in partners]
        total = sum(weights)
        a = own.model.dyn.observer_smoothing
        variance = sum(w * w / o.precision for w, o in zip(weights, [own, *(p[0] for p in partners)], strict=True))
        return [weights[0] / total, *(w / total for w in weights[1:]), np.sqrt(variance / total**2 * a / (2.0 - a))]

    def issue_warnings(self) -> None:
        """Warn where the estimate exceeds the threshold by ``alarm_margin`` standard errors of the
        estimate: an actor with noisier information needs a stronger signal before it acts (it keeps
        its false-alarm rate in check; a Neyman-Pearson detector). The threshold is raised further
        where this actor has cried wolf before (§44-46)."""
        m, day, d = self.model, self.model.day, self.model.dyn
        self.wolf *= FLOAT(1.0) - FLOAT(1.0) / d.crying_wolf_memory_days
        threshold = d.warning_threshold + d.alarm_margin * self.estimate_error + d.crying_wolf * self.wolf
        new = (self.stage == Stage.IDLE.value) & (self.estimate >= threshold)
        if not self.covered.all():
            new &= self.covered[:, None]
        if not new.any():
            return
        cells = np.flatnonzero(new)
        self.stage.reshape(-1)[cells] = Stage.WARNED.value
        self.warn_day.reshape(-1)[cells] = day
        start = day + self.decision_delay(cells)
        self.act_day.reshape(-1)[cells] = start
        self.schedule(start, "start", cells)
        first = self.first_warning.reshape(-1)
        first[cells] = np.minimum(first[cells], day)
        m.events.record_at(day, EventKind.WARNING, cells, self.actor, self.estimate.reshape(-1)[cells])

    def decision_delay(self, cells: np.ndarray) -> np.ndarray:
        """Days from warning to the first step at the newly warned cells: the lever itself; the UN
        adds emergent delays."""
        lag = self.model.lever("warning_to_action_lag_days", cells)
        return lag.astype(np.int32) if isinstance(lag, np.ndarray) else np.full(cells.size, lag, dtype=np.int32)

    # -- 4./5. Decision, deployment and action ---------------------------------------------------
    def deploy_delay(self, cells: np.ndarray) -> np.ndarray:
        """Days to get an envoy on the ground once requested: the 72-hour standby team (§17) plus an
        exponential funding delay that shrinks with funding predictability (§64, §68)."""
        m = self.model
        # Keyed by the engagement, not the calendar: acting a day later meets the same funding luck.
        u = m.streams.keyed_uniform(FUNDING, cells, self.actor, self.epoch.reshape(-1)[cells])
        funding = -np.log1p(-u) * m.dyn.funding_delay_days * (1.0 - m.lever("funding_predictability", cells))
        return (m.dyn.standby_days + np.rint(funding)).astype(np.int32) + self.who_leads_delay(cells)

    def who_leads_delay(self, cells: np.ndarray) -> np.ndarray | int:
        """Days the partners need to decide who sends the envoy (§52: synergy is "hampered by the lack of a
        joint mechanism to decide, in real time, who does what"; MODEL_GUIDE: without it, delay, duplication
        and mixed messages). Only where the other responder is on the case at the site too (warned, acting or
        sustaining): an actor alone has no one to agree with. ``dynamics.coordination_delay_days`` at
        coordination 0, none at coordination 1; deterministic (no draw), so common random numbers are kept."""
        m = self.model
        days = m.dyn.coordination_delay_days
        partner = m.partner_of(self)
        if days <= 0 or partner is None:
            return 0
        busy = partner.stage.reshape(-1)[cells] != Stage.IDLE.value
        # Per stacked point, as its own run computes it (the key "coordination" holds combine_pressure's factor).
        agree = m.by_policy(lambda p: float(np.rint(days * (1.0 - p.coordination))), key="who_leads_days")
        return (busy * m.at(agree, cells % m.replicates)).astype(np.int32)

    def act(self) -> None:
        m, day = self.model, self.model.day
        rung = self.rung.reshape(-1)
        start = self.stand_down_false_alarms(self.due("start"))
        if start.size:
            self.stage.reshape(-1)[start] = Stage.ACTIVE.value
            rung[start] = 0
            self._refresh_base(start)
            self.statements.reshape(-1)[start] += 1
            self.pay(start, m.costs.statement)
            first = self.first_action.reshape(-1)
            new = start[first[start] == NEVER]
            self.first_action_gap.reshape(-1)[new] = day - self.warn_day.reshape(-1)[new]
            first[start] = np.minimum(first[start], day)
            self.schedule(day + m.lever("ladder_days", start), "climb", start)
            m.events.record_at(day, EventKind.FIRST_STEP, start, self.actor, self.warn_day.reshape(-1)[start])
        # Every `ladder_days` the response climbs one rung, up to its ceiling. The envoy rung is not
        # climbed but requested: it is reached when an envoy from the roster arrives (`deploy`).
        climb = self.due("climb")
        if climb.size:
            climb = climb[rung[climb] < self.ceiling]
            self.schedule(day + m.lever("ladder_days", climb), "climb", climb)
            ready = self.envoy_ready_day.reshape(-1)
            request = climb[(rung[climb] + 1 == ENVOY) & (ready[climb] == NEVER)]
            if request.size:
                ready[request] = day + self.deploy_delay(request)
                self.schedule(ready[request], "ready", request)
                m.events.record_at(day, EventKind.ENVOY_REQUEST, request, self.actor, ready[request])
            up = climb[rung[climb] + 1 != ENVOY]
            if (over := self.over_budget) is not None:  # no new mission once the year's money is spent
                up = up[(rung[up] + 1 < MISSION) | ~over[up % m.replicates]]
            rung[up] += 1
            self._refresh_base(up)
            found = up[rung[up] == FACT_FINDING]
            self.fact_findings.reshape(-1)[found] += 1
            self.pay(found, m.costs.fact_finding)
            m.events.record_at(day, EventKind.RUNG, up, self.actor, rung[up])
        ready = self.due("ready")
        if ready.size:
            self.waiting.reshape(-1)[ready] = ~self.has_envoy.reshape(-1)[ready]
        self.deploy()
        self.pressure = self.current_pressure()
        self.count_running_days()

    @property
    def ceiling(self) -> int:
        return min(TOOL_INDEX[self.model.policy.tool], self.top_rung)

    @property
    def over_budget(self) -> np.ndarray | None:
        """Worlds where this actor has spent its money for the year (None: no cap, §62-64)."""
        budget = self.model.policy.budget_usd_per_year
        return self.spent >= budget if budget > 0 else None

    def pay(self, cells: np.ndarray, price: float) -> None:
        """Book a one-off price at each flat (site, world) cell against the year's budget."""
        if cells.size and self.model.policy.budget_usd_per_year > 0:
            np.add.at(self.spent, cells % self.model.replicates, price)

    def stand_down_false_alarms(self, start: np.ndarray) -> np.ndarray:
        """At the first step the facts on the ground are seen: where tension is still low the warning
        was a false alarm. The actor stands down, pays for it, and cries wolf: its next warnings anywhere
        in the region need a stronger signal, and the parties heed it less (§44; crying wolf)."""
        m = self.model
        if not start.size:
            return start
        false = m.tension.reshape(-1)[start] < m.dyn.false_alarm_tension
        if not false.any():
            return start
        cells = start[false]
        self.stage.reshape(-1)[cells] = Stage.IDLE.value
        for arr in (self.warn_day, self.act_day):
            arr.reshape(-1)[cells] = NEVER
        self.epoch.reshape(-1)[cells] += 1
        self.false_alarms.reshape(-1)[cells] += 1
        np.add.at(self.wolf, cells % m.replicates, FLOAT(1.0))
        m.events.record_at(m.day, EventKind.FALSE_ALARM, cells, self.actor, m.tension.reshape(-1)[cells])
        return start[~false]

    def deploy(self) -> None:
        """Roster queueing: free envoys go to waiting sites, the one that looks worst first (triage,
        §17, §62; third parties select the hardest cases, Öberg et al. 2009). Envoys are served in roster
        order: in each world the k-th free envoy (of a region's roster, for a regional envoy) takes the k-th
        worst-looking waiting site (of its region).

        Works on the few worlds where a site is waiting, so its cost follows the queue, not R."""
        worlds = np.flatnonzero(self.waiting.any(axis=0))
        if not worlds.size:
            return
        request = np.where(self.waiting[:, worlds], -self.estimate[:, worlds], np.inf)
        if self.over_budget is not None:  # the year's money is spent: requests wait for the next year
            request[:, self.over_budget[worlds]] = np.inf
        free = self.envoys.site[:self.roster, worlds] < 0  # (envoy, world)
        taken = [self._assign(request, free[members], members, rows)
                 for members, rows in self._roster_groups() if rows is None or rows.size]
        if len(taken) > 1:  # several regions' rosters: back to roster order, as one loop over envoys
            envoy, col, site = (np.concatenate(a) for a in zip(*taken, strict=True))
            order = np.argsort(envoy, kind="stable")
            taken = [(envoy[order], col[order], site[order])]
        if taken and taken[0][0].size:
            envoy, col, site = taken[0]
            self._deploy_envoys(envoy, worlds[col], site)
        left = np.isfinite(request)
        if left.any():
            still = np.zeros_like(self.waiting)
            still[:, worlds] = left
            self.handover(still)

    def _roster_groups(self) -> list[tuple[np.ndarray, np.ndarray | None]]:
        """The envoys that may take a new posting, by the sites they serve: (envoy numbers, their region's sites,
        or None for anywhere), one group per region (the regions' sites do not overlap)."""
        key = (self.roster, self.envoys.size)
        if getattr(self, "_groups_key", None) != key:
            region = self.envoys.region[:self.roster]
            self._groups = [(np.flatnonzero(region == r), None if r < 0 else self.region_sites[r])
                            for r in np.unique(region).tolist()]
            self._groups_key = key
        return self._groups

    @staticmethod
    def _assign(request: np.ndarray, free: np.ndarray, members: np.ndarray, rows: np.ndarray | None):
        """Free envoys ``members`` (``free``: envoy x world) to the waiting sites of ``rows`` (None: every site),
        worst first: the k-th free envoy in a world takes the k-th lowest request (ties to the lower site, as
        repeated argmins would). Marks the taken requests (inf) and returns (envoy, world column, site), envoy by
        envoy and world by world."""
        mine = request if rows is None else request[rows]
        order = np.argsort(mine, axis=0, kind="stable")  # each world's sites, worst-looking first
        rank = np.cumsum(free, axis=0, dtype=np.int64)
        rank -= 1  # the k-th free envoy in its world: 0, 1, ...
        envoy, col = np.nonzero(free & (rank < mine.shape[0]))
        site = order[rank[envoy, col], col]
        ok = np.isfinite(mine[site, col])
        envoy, col, site = members[envoy[ok]], col[ok], site[ok]
        if rows is not None:
            site = rows[site]
        request[site, col] = np.inf
        return envoy, col, site

    def _deploy_envoys(self, envoy: np.ndarray, worlds: np.ndarray, sites: np.ndarray) -> None:
        """Post each envoy to its site in its world: the site's envoy rung is reached."""
        m = self.model
        self.envoys.post(envoy, worlds, sites)
        cells = sites * m.replicates + worlds
        self.waiting.reshape(-1)[cells] = False
        self.has_envoy.reshape(-1)[cells] = True
        rung = self.rung.reshape(-1)
        rung[cells] = np.maximum(rung[cells], ENVOY)
        self._refresh_base(cells)
        first = self.first_envoy.reshape(-1)
        new = cells[first[cells] == NEVER]
        self.first_envoy_gap.reshape(-1)[new] = m.day - self.warn_day.reshape(-1)[new]
        first[cells] = np.minimum(first[cells], m.day)
        m.events.record_at(m.day, EventKind.DEPLOYMENT, cells, self.actor, envoy)

    def handover(self, still_waiting: np.ndarray) -> None:
        """What happens to sites left waiting for an envoy (the UN may hand them to its partner)."""

    def current_pressure(self) -> np.ndarray:
        """Pressure on each site: attention of the rung reached plus its envoys' mediation, discounted
        where this actor has cried wolf (parties heed empty warnings less)."""
        m = self.model
        if self.envoys.count:  # its envoys' mediation, a zero where none is posted (base + 0 is base: base >= +0)
            pressure = self.envoys.effect()
            pressure += self.base
        else:
            pressure = self.base.copy()
        if self.wolf.any():
            pressure /= 1.0 + m.dyn.crying_wolf_attention * self.wolf
        return pressure

    @property
    def attention(self) -> np.ndarray:
        """How much the parties heed the statements and missions of this actor (0-1): per site, or per (site, world)."""
        return self.leverage

    def leverage_block(self) -> np.ndarray:
        """The leverage as a block that broadcasts over (site, world): (S, 1), or (S, R) where drawn per world."""
        return self.leverage if self.leverage.ndim == 2 else self.leverage[:, None]

    def count_running_days(self) -> None:
        """Count mission- and coercion-days (envoys count their own); priced at the end (sim.results).
        The rung is -1 wherever the actor is not engaged."""
        if self.ceiling >= MISSION:
            self.mission_days += self.rung >= MISSION
        if self.ceiling >= COERCIVE:
            self.coercive_days += self.rung >= COERCIVE
        if self.model.policy.budget_usd_per_year > 0:
            self.pay_running_days()

    def pay_running_days(self) -> None:
        """Book the day's envoy-, mission- and coercion-days against the year's budget (sim.results prices the
        same days at the end of the run); a new calendar year brings new money."""
        c = self.model.costs
        if self.envoys.count:  # one envoy-day per posting, added one by one (as many sums as postings in a world)
            np.add.at(self.spent, np.nonzero(self.envoys.posted)[1], c.envoy_per_day)
        if self.ceiling >= MISSION:
            self.spent += (self.rung >= MISSION).sum(axis=0) * c.mission_per_day
        if self.ceiling >= COERCIVE:
            self.spent += (self.rung >= COERCIVE).sum(axis=0) * c.coercive_per_day

    # -- 6. Sustainability ----------------------------------------------------------------------
    def sustain_or_wind_down(self, calm: np.ndarray | None = None, crisis: np.ndarray | None = None) -> np.ndarray:
        """Stay engaged `sustainability_days` after the critical moment passes, then wind down. Returns
        where this actor is engaged at the envoy rung or above (the engagement that builds capacity).
        ``calm``, ``crisis``: tension below the resolution line, at or above the crisis line (if already known)."""
        m, day = self.model, self.model.day
        calm = m.tension < m.dyn.resolution_tension if calm is None else calm
        crisis = m.tension >= CRISIS if crisis is None else crisis
        cells = np.flatnonzero((self.stage == Stage.ACTIVE.value) & calm)  # resolved
        if cells.size:
            self.stage.reshape(-1)[cells] = Stage.SUSTAINING.value
            self.resolved_day.reshape(-1)[cells] = day
            self.schedule(day + m.lever("sustainability_days", cells), "wind_down", cells)
            m.events.record_at(day, EventKind.RESOLVED, cells, self.actor)
        # A relapse during the sustaining period puts the actor back to work.
        relapse = np.flatnonzero((self.stage == Stage.SUSTAINING.value) & crisis)
        if relapse.size:
            self.stage.reshape(-1)[relapse] = Stage.ACTIVE.value
            self.resolved_day.reshape(-1)[relapse] = NEVER
        done = self.due("wind_down")
        if done.size:
            # Only where the resolution that scheduled it still stands (no relapse since).
            still = (self.stage.reshape(-1)[done] == Stage.SUSTAINING.value) & (
                self.resolved_day.reshape(-1)[done] == day - m.lever("sustainability_days", done)
            )
            done = done[still]
        if done.size:
            mask = self._cells_mask(done)
            self.envoys.release(mask)
            self.stage.reshape(-1)[done] = Stage.IDLE.value
            self.rung.reshape(-1)[done] = -1
            for arr in (self.has_envoy, self.waiting):
                arr.reshape(-1)[done] = False
            self.base.reshape(-1)[done] = 0.0
            for arr in (self.warn_day, self.act_day, self.envoy_ready_day, self.resolved_day):
                arr.reshape(-1)[done] = NEVER
            self.epoch.reshape(-1)[done] += 1
            m.events.record_at(day, EventKind.WIND_DOWN, done, self.actor)
        # Only mediation and missions help national counterparts build infrastructures for peace (§56, §72);
        # a statement or a fact-finding visit does not.
        return (self.stage >= Stage.ACTIVE.value) & (self.rung >= ENVOY)


_NO_CELLS = np.zeros(0, dtype=np.int64)


class UnitedNations(Responder):
    """The UN Secretariat and Security Council: the roster of envoys and the full tool ladder.

    Its decision waits on the Council: a divided Council adds up to ``council_delay_days`` (§11, §16);
    unpredictable funding delays deployment beyond the 72-hour standby team (§17, §64); coercive
    measures need a united Council (§42)."""

    actor = 1

    def decision_delay(self, cells: np.ndarray) -> np.ndarray:
        m = self.model
        divided = 1.0 - m.scenario_config.council_unity
        u = m.streams.keyed_uniform(COUNCIL, cells, self.epoch.reshape(-1)[cells])
        extra = np.rint(m.dyn.council_delay_days * divided * u).astype(np.int32)
        return super().decision_delay(cells) + extra

    @property
    def ceiling(self) -> int:
        top = super().ceiling
        # Coercive measures need a Council that can agree (§42).
        return min(top, MISSION) if self.model.scenario_config.council_unity < 0.5 else top

    def handover(self, still_waiting: np.ndarray) -> None:
        """Burden-sharing (§51): a site left waiting may be taken by a free regional envoy."""
        ro = self.model.regional
        if ro is None or np.all(self.model.lever("burden_sharing") <= 0) or not still_waiting.any():
            return
        m = self.model
        flat = np.flatnonzero(still_waiting)
        # Keyed by the engagement and the days it has waited, never the calendar day.
        waited = m.day - self.envoy_ready_day.reshape(-1)[flat]
        u = m.streams.keyed_uniform(HANDOVER, flat, self.epoch.reshape(-1)[flat], waited)
        taken = flat[u < m.lever("burden_sharing", flat)]
        share = np.zeros_like(still_waiting)
        share.reshape(-1)[taken] = True
        ro.accept_handover(share, self.warn_day)


class RegionalOrganisation(Responder):
    """A regional organisation: better local information, legitimacy with the parties, few envoys.
    It climbs the ladder only as far as its own envoys (no Council mission or coercive measures, §51)."""

    actor = 2
    top_rung = 2  # ENVOY

    def accept_handover(self, sites: np.ndarray, warn_day: np.ndarray) -> None:
        """Take UN-queued sites into its own queue, where it is not already engaged: it starts at the
        fact-finding rung with its envoy request ready at once. The engagement's warning is the UN's
        (``warn_day``), so its realised gaps count from the warning that started it."""
        m, day = self.model, self.model.day
        cells = np.flatnonzero(sites & (self.stage == Stage.IDLE.value))
        if not cells.size:
            return
        self.stage.reshape(-1)[cells] = Stage.ACTIVE.value
        self.rung.reshape(-1)[cells] = FACT_FINDING
        self._refresh_base(cells)
        self.warn_day.reshape(-1)[cells] = warn_day.reshape(-1)[cells]
        for arr in (self.act_day, self.envoy_ready_day):
            arr.reshape(-1)[cells] = day
        self.waiting.reshape(-1)[cells] = True
        self.schedule(day + m.lever("ladder_days", cells), "climb", cells)
        first = self.first_action.reshape(-1)
        new = cells[first[cells] == NEVER]
        self.first_action_gap.reshape(-1)[new] = day - self.warn_day.reshape(-1)[new]
        first[cells] = np.minimum(first[cells], day)

TOOL_INDEX = {"statement": 0, "fact_finding": 1, "envoy": 2, "mission": 3, "coercive": 4}
FACT_FINDING, ENVOY, MISSION, COERCIVE = 1, 2, 3, 4
