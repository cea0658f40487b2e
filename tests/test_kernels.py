"""The compiled daily loops (sim.kernels) give the very bits of the NumPy rules they replace: the parties' moves,
hardening, the tension update, the daily hash and the day's conflict counts, on models mid-run, with scalar
coefficients and with coefficients drawn per world (parameter uncertainty), biased mediators, deadlocked sites,
coercion, and the twin."""

from __future__ import annotations

import numpy as np
import pytest

from sim import kernels
from sim.agents import NEVER, Party
from sim.config import INFRASTRUCTURE_HALT
from sim.levers import preset_overrides
from sim.model import (
    MAX_TENSION,
    PreventiveDiplomacyModel,
    net_moves,
    phase_of,
    quantile_ranks,
    quantiles,
    uniform_noise16,
)
from sim.streams import _finalise
from tests.conftest import make_config

CASES = {
    "policy": (),
    "twin": ("policy.intervene=false",),
    "coercion": ("policy.tool=coercive",),
    "uncertainty": ("uncertainty.enabled=true", "uncertainty.members=4"),
    "per-world bias (kydd)": ("uncertainty.enabled=true", "uncertainty.members=3", "dynamics.bias_hypothesis=kydd"),
    "biased mediator": ("dynamics.mediator_bias=0.4",),
    "alike conflicts": ("dynamics.intractability_spread=0",),  # the war-cost weight a scalar
    "alike, uncertain": ("dynamics.intractability_spread=0", "uncertainty.enabled=true", "uncertainty.members=3"),
    "deadlock": tuple(preset_overrides("madagascar_2009")),
}


def mid_run(overrides: tuple[str, ...], days: int = 90) -> PreventiveDiplomacyModel:
    m = PreventiveDiplomacyModel(make_config("replicates=400", "horizon_days=400", "output.events=false", *overrides))
    for _ in range(days):
        m.step()
    return m


@pytest.mark.parametrize("case", list(CASES))
def test_the_compiled_rule_moves_the_parties_as_the_numpy_rule(case):
    m = mid_run(CASES[case])
    rng = np.random.default_rng(1)
    if m.policy.intervene:  # every term in play: pressure, carrots and coercion in some cells, hardened parties
        m.pressure[...] = rng.random(m.pressure.shape, dtype=np.float32)
        m.engaged[...] = rng.random(m.engaged.shape) < 0.5
        m.coerced[...] = rng.random(m.coerced.shape) < 0.3
        m.hardening[...] = 3 * rng.random(m.hardening.shape, dtype=np.float32)
    Party.choose_moves(m, logit=m.streams.party_logit(m.day))
    reference = m.moves.copy()
    m.moves[...] = 0
    Party.choose_moves_compiled(m, m.streams.words(m.day)[0])
    np.testing.assert_array_equal(m.moves, reference)
    assert np.array_equal(m.logit, m.streams.party_logit(m.day))


@pytest.mark.parametrize("case", ["policy", "uncertainty"])
def test_compiled_hardening_is_the_numpy_rule(case):
    m = mid_run(CASES[case])
    m.tension[0, :50] = 2.5  # some cells in crisis, some stable
    m.tension[1, :50] = 0.5
    bloodshed = np.array([3, 17, m.replicates + 5])
    before = m.hardening.copy()
    Party.harden(m, m.tension >= 2.0, bloodshed, m.tension < 1.0)
    reference, m.hardening[...] = m.hardening.copy(), before
    Party.harden_compiled(m, bloodshed)
    np.testing.assert_array_equal(m.hardening, reference)
    assert not m.bloodshed_jump.any()  # cleared for the next day


@pytest.mark.parametrize("case", ["policy", "twin", "uncertainty"])
def test_the_compiled_tension_update_is_the_numpy_arithmetic(case):
    m = mid_run(CASES[case])
    d, words = m.dyn, m.streams.noise_words(m.day)
    # The NumPy update (sim.model before the kernel): move_step x moves + reversion x (grievance - tension) + noise.
    step = np.multiply(net_moves(m.moves), d.move_step)
    term = np.subtract(m.effective_grievance, m.tension)
    term *= d.reversion
    step += term
    noise = np.moveaxis(uniform_noise16(words), -1, 0)  # (4, site, world): the tension's and the observers'
    step += noise[0] * d.tension_noise
    reference = np.clip(m.tension + step, 0.0, MAX_TENSION)
    phase, buffer = np.empty_like(m.phase), np.empty_like(noise)
    kernels.tension_step(m.tension, phase, m.moves, m.effective_grievance, m.streams.words(m.day)[1], buffer,
                         np.float32(2.0 * np.sqrt(3.0)) * np.float32(2.0**-16), d.move_step, d.reversion,
                         d.tension_noise)
    np.testing.assert_array_equal(m.tension, reference)
    np.testing.assert_array_equal(phase, phase_of(reference))
    np.testing.assert_array_equal(buffer, noise)


FIGHTING_CASES = {
    "policy": CASES["policy"],
    "twin": CASES["twin"],
    "uncertainty": CASES["uncertainty"],
    "kyrgyzstan": tuple(preset_overrides("kyrgyzstan_2010")),
    "no conventional wars": ("dynamics.conventional_share=0",),
}


@pytest.mark.parametrize("case", list(FIGHTING_CASES))
def test_compiled_fighting_is_the_numpy_rules(case):
    m = mid_run(FIGHTING_CASES[case], days=150)
    assert (m.conventional is None) == (case == "no conventional wars")
    rng = np.random.default_rng(4)
    # Every branch in play: fighting held and let go, wars held, new conflicts (of conventional kind, some of them).
    m.tension[...] = (5 * rng.random(m.tension.shape)).astype(np.float32)
    old = rng.integers(0, 5, m.phase.shape).astype(np.int8)
    new_phase = phase_of(m.tension)
    arrays = ("tension", "war_history", "episode", "onsets", "episode_day", "fatigue")
    before = {a: getattr(m, a).copy() for a in arrays}
    # The NumPy rules, as update_tension applied them before the kernel.
    m.phase = m.held_phase(old, new_phase.copy())
    fighting = np.flatnonzero(m.phase >= 3)
    onset = fighting[old.reshape(-1)[fighting] < 3]
    m.break_out(onset)
    m.war_history.reshape(-1)[fighting[m.phase.reshape(-1)[fighting] >= 4]] = True
    m.count_fighting(old, fighting, onset)
    assert onset.size and (m.phase > new_phase).any() and (m.phase == 4).any()
    reference = {a: getattr(m, a).copy() for a in (*arrays, "phase")}
    for a in arrays:
        getattr(m, a)[...] = before[a]
    m.phase = new_phase
    cells, onset_cells = m.hold_fighting(old)
    for a in (*arrays, "phase"):
        np.testing.assert_array_equal(getattr(m, a), reference[a], err_msg=a)
        assert getattr(m, a).tobytes() == reference[a].tobytes(), a
    np.testing.assert_array_equal(cells, fighting)
    np.testing.assert_array_equal(onset_cells, onset)


EVENT_CASES = {
    "policy": CASES["policy"],
    "uncertainty": CASES["uncertainty"],  # infrastructure damping drawn per world
    "sites at their own rates": ("scenario.sites.A.trigger_multiplier=3", "scenario.sites.C.trigger_multiplier=0"),
    "a trigger every day, no shift": ("scenario.trigger_rate_per_year=400", "scenario.preference_shift_per_year=0"),
}


@pytest.mark.parametrize("case", list(EVENT_CASES))
def test_the_compiled_daily_events_are_the_numpy_rules(case):
    m = mid_run(EVENT_CASES[case], days=40)
    assert (m.trigger_multiplier is not None) == (case == "sites at their own rates")
    d, sc, rng = m.dyn, m.scenario_config, np.random.default_rng(5)
    m.infrastructure[...] = rng.random(m.infrastructure.shape, dtype=np.float32)
    m.relief[...] = np.where(rng.random(m.relief.shape) < 0.1, rng.random(m.relief.shape, dtype=np.float32), 0)
    m.election_day[1] = m.day  # an election at site B today
    # The NumPy rules, as experience_events applied them before the kernel.
    rate, shift_rate = sc.trigger_rate_per_year / 365.0, sc.preference_shift_per_year / 365.0
    k = m.streams.trigger_words_high(m.day)
    below, above = m.rare_words(rate, shift_rate)
    if m.trigger_multiplier is None:
        trigger = k < np.uint64(below << 32) if below < 1 << 32 else np.ones(k.shape, dtype=bool)
    else:
        trigger = k < m.trigger_thresholds(rate)
    elections = m.election_day == m.day
    trigger[elections] = True
    shifted = np.flatnonzero(k >= np.uint64(above << 32)) if above < 1 << 32 else np.zeros(0, dtype=np.intp)
    effective = m.grievance * (1.0 - d.infrastructure_damping * m.infrastructure)
    relief = m.relief.copy()
    if relief.any():
        effective -= relief
        relief *= np.float32(1.0) - np.float32(1.0) / d.relief_memory_days
    # The compiled pass, with the thresholds experience_events gives it.
    no_word = np.uint64(2**64 - 1)
    if m.trigger_multiplier is None:
        below = np.uint64(below << 32) if below < 1 << 32 else no_word
    else:
        below = m.trigger_thresholds(rate)
    above = np.uint64(above << 32) if above < 1 << 32 else no_word
    n = m.tension.size
    cells, shifts = np.empty(n, dtype=np.intp), np.empty(n, dtype=np.intp)
    out = np.full_like(effective, np.nan)
    n_trigger, n_shifted = kernels.daily_events(
        m.streams.words(m.day)[0], below, above, elections, m.grievance, m.infrastructure, d.infrastructure_damping,
        m.relief, np.float32(1.0) - np.float32(1.0) / d.relief_memory_days, out, cells, shifts)
    np.testing.assert_array_equal(cells[:n_trigger], np.flatnonzero(trigger))
    np.testing.assert_array_equal(shifts[:n_shifted], shifted)
    assert out.tobytes() == effective.tobytes() and m.relief.tobytes() == relief.tobytes()
    assert n_trigger > m.replicates  # site B's election, and more
    if case.startswith("a trigger every day"):
        assert n_trigger == n and n_shifted == 0


@pytest.mark.parametrize("case", ["policy", "uncertainty", "no regional organisation", "no information sharing"])
def test_the_compiled_observation_and_pooling_are_the_numpy_rules(case):
    overrides = {"no regional organisation": ("scenario.regional_organisation=false",),
                 "no information sharing": ("policy.information_sharing=0",)}.get(case, CASES.get(case))
    m = mid_run(overrides, days=60)
    o, regional = m.observers, m.regional
    assert (regional is None) == (case == "no regional organisation")
    estimates = [r.estimate for r in m.responders]
    before = [a.copy() for a in estimates]
    noise = np.random.default_rng(6).standard_normal((3, *m.tension.shape)).astype(np.float32)
    share = lambda p: p.information_sharing  # noqa: E731
    un_partners = ([(o["regional"], share)] if regional is not None else []) + [(o["civil_society"], share)]
    regional_partners = [(o["civil_society"], lambda p: 1.0), (o["un"], share)]
    # The NumPy rules, as observe_and_warn applied them before the kernel.
    for i, obs in enumerate(o.values()):
        obs.observe(noise[i])
    m.un.pool_signals(o["un"], un_partners)
    if regional is not None:
        regional.pool_signals(o["regional"], regional_partners)
    signals = [obs.signal.copy() for obs in o.values()]
    reference = [a.copy() for a in estimates]
    errors = [np.copy(r.estimate_error) for r in m.responders]
    for a, b in zip(estimates, before, strict=True):
        a[...] = b
    for obs in o.values():
        obs.signal[...] = np.nan
    assert m.observe_and_pool(noise, un_partners, regional_partners)
    for obs, signal in zip(o.values(), signals, strict=True):
        assert obs.signal.tobytes() == signal.tobytes()
    for r, estimate, error in zip(m.responders, reference, errors, strict=True):
        assert r.estimate.tobytes() == estimate.tobytes()
        np.testing.assert_array_equal(r.estimate_error, error)


@pytest.mark.parametrize("halted_by", ["war", "armed_conflict", "nothing", "no one engaged"])
def test_the_compiled_sustaining_pass_is_the_numpy_rules(halted_by):
    overrides = CASES["uncertainty"] if halted_by == "war" else ()
    if halted_by in ("armed_conflict", "nothing"):
        overrides = (f"dynamics.infrastructure_halted_by={halted_by}",)
    m = mid_run(overrides, days=120)
    d, rng = m.dyn, np.random.default_rng(7)
    m.infrastructure[...] = rng.random(m.infrastructure.shape, dtype=np.float32)
    m.resolved[...] = rng.random(m.resolved.shape) < 0.3
    m.been_in_crisis[...] = rng.random(m.resolved.shape) < 0.5
    m.tension[...] = (5 * rng.random(m.tension.shape)).astype(np.float32)
    m.phase[...] = phase_of(m.tension)
    engaged = None if halted_by == "no one engaged" else rng.random(m.tension.shape) < 0.4
    arrays = ("infrastructure", "resolved", "been_in_crisis", "relapses")
    before = {a: getattr(m, a).copy() for a in arrays}
    # The NumPy rules, as sustain_or_wind_down applied them before the kernel (the tear-down at war aside).
    crisis, calm = m.tension >= 2.0, m.tension < d.resolution_tension
    halt = INFRASTRUCTURE_HALT[d.infrastructure_halted_by]
    if engaged is not None:
        building = engaged if halt is None else np.logical_and(engaged, m.phase < halt)
        m.infrastructure += d.infrastructure_growth * building * (1.0 - m.infrastructure)
    m.infrastructure -= d.infrastructure_decay * m.infrastructure
    m.resolved |= m.been_in_crisis & calm
    relapse = m.resolved & crisis
    m.relapses += relapse.sum(axis=0, dtype=np.int32)
    m.resolved &= ~relapse
    m.been_in_crisis |= crisis
    assert relapse.any()
    reference = {a: getattr(m, a).copy() for a in arrays}
    for a in arrays:
        getattr(m, a)[...] = before[a]
    out = np.empty_like(relapse)
    kernels.sustain_sites(m.tension, m.phase, m.infrastructure, engaged, np.int8(5 if halt is None else halt),
                          d.infrastructure_growth, d.infrastructure_decay, d.resolution_tension, m.resolved,
                          m.been_in_crisis, m.relapses, out)
    for a in arrays:
        assert getattr(m, a).tobytes() == reference[a].tobytes(), a
    np.testing.assert_array_equal(out, relapse)


def test_the_compiled_daily_hash_is_splitmix64():
    rng = np.random.default_rng(2)
    cells = rng.integers(0, 2**63, (3, 1000), dtype=np.uint64) * np.uint64(3)
    salts = np.array([2**64 - 5, 12345], dtype=np.uint64)
    words = np.empty((2, 3, 1000), dtype=np.uint64)
    kernels.daily_words(cells, salts, words)
    for k in range(2):
        np.testing.assert_array_equal(words[k], _finalise(cells + salts[k]))


def test_the_compiled_counts_are_the_numpy_counts():
    m = mid_run(("replicates=400", "scenario=kyrgyzstan_2010", "policy=kyrgyzstan_2010"), days=200)
    arrays = ("site_escalated", "first_escalation", "first_war", "conflict_days", "war_days", "year_conflict_days",
              "year_war_days")
    before = {a: getattr(m, a).copy() for a in arrays}
    armed, war = m.phase >= 3, m.phase >= 4
    assert armed.any() and war.any()
    day, year = m.day, 0
    any_armed, any_war = np.ones(m.replicates, bool), np.ones(m.replicates, bool)  # overwritten
    counts = kernels.count_fighting_days(m.phase, day, year, m.site_escalated, any_armed, any_war,
                                         m.first_escalation, m.first_war, NEVER, m.conflict_days, m.war_days,
                                         m.year_conflict_days, m.year_war_days)
    np.testing.assert_array_equal(any_armed, armed.any(axis=0))
    np.testing.assert_array_equal(any_war, war.any(axis=0))
    np.testing.assert_array_equal(m.site_escalated, before["site_escalated"] | armed)
    first = before["first_escalation"]
    np.testing.assert_array_equal(m.first_escalation, np.where(armed.any(axis=0) & (first == NEVER), day, first))
    first = before["first_war"]
    np.testing.assert_array_equal(m.first_war, np.where(war.any(axis=0) & (first == NEVER), day, first))
    np.testing.assert_array_equal(m.conflict_days, before["conflict_days"] + armed.sum(axis=0))
    np.testing.assert_array_equal(m.war_days, before["war_days"] + war.sum(axis=0))
    np.testing.assert_array_equal(m.year_conflict_days[0], before["year_conflict_days"][0] + armed)
    np.testing.assert_array_equal(m.year_war_days[0], before["year_war_days"][0] + war)
    assert counts == (armed.any(axis=0).sum(), war.any(axis=0).sum(), (m.first_escalation < NEVER).sum(),
                      armed.sum())


@pytest.mark.parametrize("case", ["spread", "clustered", "ties", "all zero", "few worlds", "negative"])
def test_the_compiled_regional_quantiles_are_the_partitioned_order_statistics(case):
    rng = np.random.default_rng(3)
    R = 3 if case == "few worlds" else 5000
    tension = (5 * rng.random((3, R))).astype(np.float32)
    if case == "clustered":  # most worlds in one histogram bucket: the ranks' buckets are large
        tension = (3.01 + 0.2 * rng.random((3, R))).astype(np.float32)
    elif case == "ties":
        tension = np.round(tension).astype(np.float32)
    elif case == "all zero":
        tension[...] = 0.0
    elif case == "negative":
        tension[1, 7] = -1.0
        tension[:, 9] = -0.0
    regional, q = np.empty(R, np.float32), np.full(5, np.nan, np.float32)
    ok = kernels.regional_quantiles(tension, quantile_ranks(R), regional, np.empty(kernels._BUCKETS, np.int64),
                                    np.empty(R, np.float32), q)
    np.testing.assert_array_equal(regional, tension.max(axis=0))
    reference = np.partition(regional, quantile_ranks(R))[quantile_ranks(R)]  # sim.model.quantiles's fallback
    if case == "negative":  # a sign bit set: left to the partition of the whole array
        assert not ok and np.isnan(q).all()
    else:
        assert ok
        np.testing.assert_array_equal(q.view(np.int32), reference.view(np.int32))
        np.testing.assert_array_equal(q, quantiles(regional))


def test_a_coefficient_in_float64_is_refused_not_summed_in_another_precision():
    m = mid_run(CASES["twin"], days=2)
    m.dyn.weight_fatigue = np.full(m.replicates, 0.5)  # float64: the NumPy rule would round each term to float32
    with pytest.raises(Exception, match="float32"):
        Party.choose_moves_compiled(m, m.streams.words(m.day)[0])
