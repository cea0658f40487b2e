"""Compiled daily loops over the model's (site, [side,] world) blocks (numba).

Each kernel is one of the model's rules, as sim.model and sim.agents describe it, fused into one pass over the
worlds of each (site, side) row instead of a NumPy call (and a temporary block) per term. They give the very
bits of the NumPy arithmetic they replace: every term is computed in float32 and added in the same order as
there (float sums depend on it), constants are float32 (no promotion to float64), and nothing is compiled with
``fastmath``. Worlds are the innermost, contiguous loop and its body has no data-dependent branch (a boolean
enters as 0 or 1 times its coefficient, a three-way choice as two comparisons), so the loop vectorises: a loop
over sides innermost, or with ``if`` on the data, measured as slow as NumPy.

A coefficient is a float32 scalar, or one value per world (shape R) under parameter uncertainty; ``at`` reads
either at a world, and numba compiles one specialisation per combination it meets (cached next to this file).
"""

from __future__ import annotations

import numpy as np
from numba import njit, types
from numba.core.errors import TypingError
from numba.extending import overload

F = np.float32
_ZERO, _ONE, _TWO, _THREE, _FOUR, _FIVE = F(0.0), F(1.0), F(2.0), F(3.0), F(4.0), F(5.0)
#: uniform_noise16's constants (sim.model): k - 32767.5 is 2^16 (u - 1/2) exactly, and one product scales it.
_HALF16 = F(32767.5)
#: The daily words' 16-bit fields, as shifts and a mask of the 64-bit words (all uint64: numba would take a mix of
#: unsigned and signed integers to float64).
_LOW16, _S16, _S32, _S48 = np.uint64(0xFFFF), np.uint64(16), np.uint64(32), np.uint64(48)
#: splitmix64's finaliser constants (sim.streams._finalise).
_C1, _C2 = np.uint64(0xBF58476D1CE4E5B9), np.uint64(0x94D049BB133111EB)
_S27, _S30, _S31 = np.uint64(27), np.uint64(30), np.uint64(31)


def at(c, w):
    """A coefficient at world ``w``: the scalar itself, or its per-world value."""
    return c[w] if np.ndim(c) else c


@overload(at, inline="always")
def _at(c, w):
    # float32 only: a float64 coefficient would carry the sum into float64 here, where NumPy rounds the block back to
    # float32 after every in-place term (a different number, silently).
    if (c.dtype if isinstance(c, types.Array) else c) != types.float32:
        raise TypingError(f"a coefficient must be float32 (a scalar or one per world), not {c}")
    if isinstance(c, types.Array):
        return lambda c, w: c[w]
    return lambda c, w: c


def row(c, i):
    """Row ``i`` of a block that has one (a (site, world) block, a (side, world) factor), else the value as it is."""
    return c[i] if np.ndim(c) == 2 or isinstance(c, tuple) else c


@overload(row, inline="always")
def _row(c, i):
    if (isinstance(c, types.Array) and c.ndim == 2) or isinstance(c, types.UniTuple):
        return lambda c, i: c[i]
    return lambda c, i: c


#: Cached next to this file (__pycache__, or numba's user-wide cache where that is not writable): compiled once per
#: machine and signature. error_model="numpy": a division by zero gives inf as in NumPy (no check in the loop).
_OPTIONS = dict(cache=True, nogil=True, boundscheck=False, error_model="numpy")


@njit(**_OPTIONS)
def parties_moves(moves, last_moves, effective_grievance, tension, war_history, war_cost_weight, fatigue, phase,
                  words, logit_table, logit, weight_grievance, weight_tension, weight_reciprocity, conflict_trap,
                  weight_fatigue, weight_fighting, party_noise, threshold, deadlock,
                  pressed, pressure, side_factor, hardening, intervene, carrots, engaged, coerce, backlash,
                  coerced):
    """sim.agents.Party.choose_moves: every party's move in every world, the propensity's terms summed in the order
    of the NumPy rule. ``words``: the day's first (site, world) 64-bit words, whose 16-bit fields 2 and 3 are the
    parties' (their log-odds looked up in ``logit_table`` into the (site, side, world) buffer ``logit``, as
    RandomStreams.party_logit does); ``deadlock``: per site, 0 where none; ``side_factor``: a (side, world) block
    or a pair of scalars; ``pressed``, ``intervene``, ``coerce``: whether the pressure, the carrots and the
    coercion terms are added (where they are skipped, they would add exact zeros)."""
    S, R = tension.shape
    # The log-odds first, in a loop of their own: a table lookup in the fused loop below stops it vectorising
    # (ten times slower). The 16-bit fields are read off the contiguous 64-bit words by shifts: reading them through
    # a strided 16-bit view does not vectorise either.
    for s in range(S):
        for w in range(R):
            logit[s, 0, w] = logit_table[(words[s, w] >> _S32) & _LOW16]
            logit[s, 1, w] = logit_table[words[s, w] >> _S48]
    for s in range(S):
        wcw = row(war_cost_weight, s)
        for side in range(2):
            factor = row(side_factor, side)
            other = 1 - side
            for w in range(R):
                t = tension[s, w]
                site = (effective_grievance[s, w] - _TWO) * at(weight_grievance, w)
                site += (t - _TWO) * at(weight_tension, w)
                z = F(last_moves[s, other, w]) * at(weight_reciprocity, w)
                z += site
                z += F(war_history[s, w]) * at(conflict_trap, w)
                armed = t - _THREE
                z -= (armed if armed > _ZERO else _ZERO) * at(wcw, w)
                z -= fatigue[s, w] * at(weight_fatigue, w)
                z += F(phase[s, w] >= 3) * at(weight_fighting, w)
                heed = hardening[s, side, w] + _ONE
                if pressed:
                    z -= (pressure[s, w] * at(factor, w)) / heed
                z += logit[s, side, w] * at(party_noise, w)
                if intervene:
                    z += (at(carrots, w) * F(engaged[s, w])) / heed
                    if coerce and side == 1:
                        z += at(backlash, w) * F(coerced[s, w])
                cut = at(threshold, w) + deadlock[s]
                moves[s, side, w] = np.int8(z > cut) - np.int8(z < -cut)


@njit(**_OPTIONS)
def tension_step(tension, phase, moves, effective_grievance, words, noise, noise16, move_step, reversion,
                 tension_noise):
    """sim.model.PreventiveDiplomacyModel.update_tension's block arithmetic: tension += move_step x net moves +
    reversion x (grievance - tension) + tension_noise x unit noise, summed in that order, clipped to 0-5; ``phase``
    gets the phase of the new tension (phase_of, before fighting is held). ``words``: the day's (site, world) 64-bit
    words of the second stream, whose four 16-bit fields are the noise words of the tension (the lowest) and of the
    three observers; ``noise``: None, or a (4, site, world) buffer that gets the unit noise of all four (the
    observers read theirs, observe_and_warn)."""
    S, R = tension.shape
    if noise is not None:
        for s in range(S):
            for w in range(R):
                x = words[s, w]
                noise[0, s, w] = (F(x & _LOW16) - _HALF16) * noise16
                noise[1, s, w] = (F((x >> _S16) & _LOW16) - _HALF16) * noise16
                noise[2, s, w] = (F((x >> _S32) & _LOW16) - _HALF16) * noise16
                noise[3, s, w] = (F(x >> _S48) - _HALF16) * noise16
    for s in range(S):
        for w in range(R):
            t = tension[s, w]
            step = F(moves[s, 0, w] + moves[s, 1, w]) * at(move_step, w)
            step += (effective_grievance[s, w] - t) * at(reversion, w)
            step += ((F(words[s, w] & _LOW16) - _HALF16) * noise16) * at(tension_noise, w)
            t += step
            t = _ZERO if t < _ZERO else t
            t = _FIVE if t > _FIVE else t
            tension[s, w] = t
            phase[s, w] = np.int8(t if t < _FOUR else _FOUR)


@njit(**_OPTIONS)
def harden(hardening, tension, jump, hardening_per_day, hardening_decay):
    """sim.agents.Party.harden: h <- (h + hardening_per_day x in crisis + jump) x (1 - hardening_decay x stable),
    ``jump`` the bloodshed jump at the cells where armed conflict broke out today (0 elsewhere)."""
    S, R = tension.shape
    for s in range(S):
        for side in range(2):
            for w in range(R):
                t = tension[s, w]
                step = at(hardening_per_day, w) * F(t >= _TWO)
                step += jump[s, w]
                h = hardening[s, side, w] + step
                hardening[s, side, w] = h * (_ONE - at(hardening_decay, w) * F(t < _ONE))


def cell(c, s, w):
    """A threshold at cell (s, w): the scalar itself, or its value in a (site, world) block."""
    return c[s, w] if np.ndim(c) else c


@overload(cell, inline="always")
def _cell(c, s, w):
    if isinstance(c, types.Array):
        return lambda c, s, w: c[s, w]
    return lambda c, s, w: c


@njit(**_OPTIONS)
def daily_events(words, below, above, elections, grievance, infrastructure, infrastructure_damping, relief,
                 relief_decay, effective_grievance, trigger, shifted):
    """sim.model.PreventiveDiplomacyModel.experience_events's block work in one pass over each site's worlds: the
    cells of the day's triggers (the low 32 bits k of the day's first words, as k x 2^32, below ``below``: a scalar
    or one per (site, world); every cell of a site with an election today) and of shifts in local preference (k x
    2^32 at or above ``above``), compacted in flat order into ``trigger`` and ``shifted`` (S x R long); the
    grievance damped by the infrastructures for peace (grievance x (1 - infrastructure_damping x infrastructure))
    less the settlements' relief, which then fades (x ``relief_decay``: with the relief zero nearly everywhere,
    the NumPy rule skips it where it is zero everywhere, and a zero times a decay >= 0 is that zero). Returns the
    number of triggers and of shifts."""
    S, R = grievance.shape
    for s in range(S):
        for w in range(R):
            damping = _ONE - at(infrastructure_damping, w) * infrastructure[s, w]
            g = grievance[s, w] * damping
            effective_grievance[s, w] = g - relief[s, w]
            relief[s, w] *= at(relief_decay, w)
    # Rare events: flagged in a vectorised pass (1 a trigger, 2 a shift), then the flags searched, a branch that is
    # nearly never taken (a branchless compaction, or one on the words, measured three times slower).
    n_trigger, n_shifted = 0, 0
    flags = np.empty(R, np.uint8)
    for s in range(S):
        election = np.uint8(elections[s])
        for w in range(R):
            k = words[s, w] << _S32
            flags[w] = np.uint8(k < cell(below, s, w)) | election | (np.uint8(k >= above) << np.uint8(1))
        for w in range(R):
            f = flags[w]
            if f:
                if f & 1:
                    trigger[n_trigger] = s * R + w
                    n_trigger += 1
                if f & 2:
                    shifted[n_shifted] = s * R + w
                    n_shifted += 1
    return n_trigger, n_shifted


@njit(**_OPTIONS)
def hold_fighting(phase, old, tension, conflict_exit, war_exit, conventional, war_line, war_history, episode, onsets,
                  episode_day, fatigue, fatigue_decay, fatigue_step, fighting, onset):
    """sim.model.PreventiveDiplomacyModel.update_tension's rules after the tension update, in one pass over each
    site's worlds instead of a NumPy call per rule on the cells in fighting (a fifth of the cells in a war-torn
    year: not few): fighting held (``held_phase``: a conflict until tension falls below ``conflict_exit``, a war
    below ``war_exit``), conflicts of conventional kind breaking out as wars (``break_out``; ``conventional`` None
    where there are none), the conflict trap (``war_history``) and the count of fighting (``count_fighting``: new
    episodes, their days, war-weariness decaying by ``fatigue_decay`` in peace and growing by (1 or 2) x
    ``fatigue_step`` a day of fighting). ``phase``: the phase of the new tension (tension_step's), ``old`` the day
    before's. ``fighting`` and ``onset`` (flat (site, world) cells, S x R long) get the cells in armed conflict and
    those where it broke out today, in flat order (as np.flatnonzero finds them); returns how many of each."""
    S, R = phase.shape
    i3, i4 = np.int8(3), np.int8(4)
    for s in range(S):
        for w in range(R):
            p = phase[s, w]
            o = old[s, w]
            t = tension[s, w]
            held = (o >= i3) & (p < i3) & (t >= at(conflict_exit, w))
            p = i3 if held else p
            held = (o == i4) & (p < i4) & (t >= at(war_exit, w))
            p = i4 if held else p
            armed = p >= i3
            new = armed & (o < i3)
            if conventional is not None:
                war = new & conventional[s, w]
                tension[s, w] = (t if t > war_line else war_line) if war else t
                p = i4 if war else p
            phase[s, w] = p
            at_war = p >= i4
            war_history[s, w] |= at_war
            episode[s, w] += np.int32(new)
            onsets[w] += np.int32(new)
            days = episode_day[s, w]
            episode_day[s, w] = (np.int32(0) if new else days) + np.int32(armed)
            f = fatigue[s, w]
            fatigue[s, w] = f + (F(at_war) + _ONE) * fatigue_step if armed else f * at(fatigue_decay, w)
    # The cells found with a branch: a branchless compaction (each cell written, the count advanced where it belongs)
    # measured three times slower, 40 against 14 us on 30,000 cells a fifth in fighting.
    n_fighting, n_onset = 0, 0
    for s in range(S):
        for w in range(R):
            if phase[s, w] >= i3:
                fighting[n_fighting] = s * R + w
                n_fighting += 1
                if old[s, w] < i3:
                    onset[n_onset] = s * R + w
                    n_onset += 1
    return n_fighting, n_onset


@njit(inline="always")
def _pooled(estimate, own, own_weight, first, first_weight, hears_first, second, second_weight, hears_second,
            smoothing):
    """One cell of Responder.pool_signals: the own signal and the partners' heard ones, weighted and summed in that
    order; the estimate moves toward the sum by ``smoothing``."""
    pooled = own * own_weight
    if hears_first:
        pooled = pooled + first * first_weight
    if hears_second:
        pooled = pooled + second * second_weight
    pooled -= estimate
    pooled *= smoothing
    return estimate + pooled


@njit(**_OPTIONS)
def observe_and_pool(tension, noise_un, noise_regional, noise_civil, scale_un, scale_regional, scale_civil, signal_un,
                     signal_regional, signal_civil, un_estimate, un_own, un_regional, un_civil, un_hears_regional,
                     un_hears_civil, regional_estimate, regional_own, regional_civil, regional_un, regional_hears_un,
                     smoothing):
    """sim.model.PreventiveDiplomacyModel.observe_and_warn's signals and pooling in one pass over each site's
    worlds: each observer's signal (sim.agents.Observer.observe: unit noise x its noise scale + tension), then the
    UN's estimate pooled from its own signal, the regional organisation's and civil society's (x its ``un_*``
    weights; a partner is added only where ``un_hears_*``, as Responder.pool_signals skips a weight of 0), and the
    regional organisation's from its own, civil society's and the UN's (``regional_estimate`` None where there is
    no regional organisation): pooled - estimate, x smoothing, added to the estimate, in that order."""
    S, R = tension.shape
    for s in range(S):
        for w in range(R):
            t = tension[s, w]
            un = noise_un[s, w] * at(scale_un, w) + t
            regional = noise_regional[s, w] * at(scale_regional, w) + t
            civil = noise_civil[s, w] * at(scale_civil, w) + t
            signal_un[s, w] = un
            signal_regional[s, w] = regional
            signal_civil[s, w] = civil
            un_estimate[s, w] = _pooled(un_estimate[s, w], un, at(un_own, w), regional, at(un_regional, w),
                                        un_hears_regional, civil, at(un_civil, w), un_hears_civil, at(smoothing, w))
            if regional_estimate is not None:  # the regional organisation always hears civil society
                regional_estimate[s, w] = _pooled(regional_estimate[s, w], regional, at(regional_own, w), civil,
                                                  at(regional_civil, w), True, un, at(regional_un, w),
                                                  regional_hears_un, at(smoothing, w))


@njit(**_OPTIONS)
def sustain_sites(tension, phase, infrastructure, building, halt, growth, decay, resolution, resolved,
                  been_in_crisis, relapses, relapse):
    """sim.model.PreventiveDiplomacyModel.sustain_or_wind_down's block work after the responders', in one pass over
    each site's worlds: the infrastructures for peace grow where ``building`` (the responders' engagement, None
    where there is none: growth x 0 would add exact zeros) and the phase is below ``halt`` (growth x built x
    (1 - I)), then decay (I - decay x I); relapses, back into crisis (tension >= 2) after tension had fallen below
    ``resolution``: ``relapse`` gets them, ``relapses`` counts them per world."""
    S, R = tension.shape
    for s in range(S):
        for w in range(R):
            i = infrastructure[s, w]
            if building is not None:
                built = building[s, w] & (phase[s, w] < halt)
                i += (at(growth, w) * F(built)) * (_ONE - i)
            i -= at(decay, w) * i
            infrastructure[s, w] = i
            t = tension[s, w]
            crisis = t >= _TWO
            back = resolved[s, w] | (been_in_crisis[s, w] & (t < at(resolution, w)))
            again = back & crisis
            relapse[s, w] = again
            relapses[w] += np.int32(again)
            resolved[s, w] = back & ~again
            been_in_crisis[s, w] |= crisis


@njit(**_OPTIONS)
def daily_words(cells, salts, words):
    """sim.streams.RandomStreams._daily: words[k] = splitmix64's finaliser of (cells + salts[k]), modulo 2^64 (the
    arithmetic of sim.streams._finalise, in one pass instead of eight)."""
    K = salts.shape[0]
    S, R = cells.shape
    for k in range(K):
        salt = salts[k]
        for s in range(S):
            for w in range(R):
                z = cells[s, w] + salt
                z ^= z >> _S30
                z *= _C1
                z ^= z >> _S27
                z *= _C2
                z ^= z >> _S31
                words[k, s, w] = z


@njit(**_OPTIONS)
def count_fighting_days(phase, day, year, site_escalated, any_armed, any_war, first_escalation, first_war, never,
                        conflict_days, war_days, year_conflict_days, year_war_days):
    """sim.model.PreventiveDiplomacyModel.bookkeeping's counts of the day, in one pass over each site's worlds
    (integers: any order gives the same numbers): where each site is in armed conflict (phase >= 3) and at war (4),
    whether each world is, the first days, and the days in conflict and at war per world and per year. Returns the
    worlds with a site in armed conflict, at war, ever escalated, and the (site, world) cells in armed conflict."""
    S, R = phase.shape
    for w in range(R):
        any_armed[w] = False
        any_war[w] = False
    cells = 0
    for s in range(S):
        for w in range(R):
            p = phase[s, w]
            armed = p >= 3
            war = p >= 4
            site_escalated[s, w] |= armed
            any_armed[w] |= armed
            any_war[w] |= war
            conflict_days[w] += np.int32(armed)
            war_days[w] += np.int32(war)
            year_conflict_days[year, s, w] += np.int16(armed)
            year_war_days[year, s, w] += np.int16(war)
            cells += np.int64(armed)
    n_armed, n_war, escalated = 0, 0, 0
    for w in range(R):
        if any_armed[w] and first_escalation[w] == never:
            first_escalation[w] = day
        if any_war[w] and first_war[w] == never:
            first_war[w] = day
        n_armed += np.int64(any_armed[w])
        n_war += np.int64(any_war[w])
        escalated += np.int64(first_escalation[w] < never)
    return n_armed, n_war, escalated, cells


#: The top 13 bits of a non-negative float32 (sign, exponent and 4 of the mantissa): 4,096 buckets in value order.
_BUCKET_SHIFT, _BUCKETS = 19, 1 << 12


@njit(**_OPTIONS)
def regional_quantiles(tension, ranks, regional, counts, gathered, out):
    """sim.model's ``regional_tension`` and ``quantiles`` of a day in two passes over the worlds: ``regional`` gets
    the highest tension of each world (a maximum: the same value whatever the order), and ``out`` the values at the
    nearest ``ranks`` of its sorted values (order statistics: the same values whatever the algorithm), by
    sim.model.bucket_ranks's rule — a histogram of the top 13 bits (``counts``, 4,096 buckets in value order) says
    which buckets hold the ranks, their values are gathered (into ``gathered``, one per world) and only they are
    partitioned. Returns False, ``out`` not set, where a value has its sign bit set (negative, -0.0): their bits do
    not order as the values do, and the caller partitions the whole array instead."""
    S, R = tension.shape
    for w in range(R):
        regional[w] = tension[0, w]
    for s in range(1, S):
        for w in range(R):
            v = tension[s, w]
            m = regional[w]
            regional[w] = v if v > m else m
    bits = regional.view(np.int32)
    counts[:] = 0
    for w in range(R):
        b = bits[w]
        if b < 0:
            return False
        counts[b >> _BUCKET_SHIFT] += 1
    # The bucket holding each rank, and the values below it in the buckets left out of the gathering.
    K = ranks.shape[0]
    held = np.empty(K, np.int64)
    below = 0
    k = 0
    for b in range(_BUCKETS):
        n = counts[b]
        while k < K and ranks[k] < below + n:
            held[k] = b
            k += 1
        below += n
    wanted = np.zeros(_BUCKETS, np.bool_)
    for k in range(K):
        wanted[held[k]] = True
    place = np.empty(K, np.int64)
    kept = 0
    below = 0
    for b in range(_BUCKETS):
        if wanted[b]:
            for k in range(K):
                if held[k] == b:
                    place[k] = ranks[k] - below + kept
            kept += counts[b]
        below += counts[b]
    n = 0
    for w in range(R):
        if wanted[bits[w] >> _BUCKET_SHIFT]:
            gathered[n] = regional[w]
            n += 1
    sel = np.partition(gathered[:n], place)
    for k in range(K):
        out[k] = sel[place[k]]
    return True


_started = False


def start() -> None:
    """Start numba in this process: its first compiled call loads numba's own machinery (0.25-0.4 s here, once per
    process), each further kernel then loads from the cache in a few milliseconds. Called when a model is built and
    in a sweep's fork server (its workers inherit a started numba), so that this one-time cost is part of a
    process's start-up, not of the first day of its first run."""
    global _started
    if not _started:
        daily_words(np.zeros((1, 1), np.uint64), np.zeros(2, np.uint64), np.empty((2, 1, 1), np.uint64))
        _started = True
