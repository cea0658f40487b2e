"""Reproducibility and common random numbers (§59-60: the counterfactual twin)."""

import numpy as np

from sim.model import PreventiveDiplomacyModel
from sim.runner import run, simulate
from sim.streams import COUNCIL, FUNDING, RandomStreams
from tests.conftest import make_config, outcomes

KEYS = ("escalated", "war", "escalation_day", "conflict_days", "relapses", "diplomacy_cost", "war_cost")


def test_same_config_and_seed_give_identical_numbers():
    cfg = make_config("replicates=300", "horizon_days=200", "seed=11")
    a, b = run(cfg), run(cfg)
    for key in KEYS:
        np.testing.assert_array_equal(a.outcomes[key], b.outcomes[key])
        np.testing.assert_array_equal(a.twin_outcomes[key], b.twin_outcomes[key])
    assert a.timeseries.equals(b.timeseries)
    sa, sb = a.summary(), b.summary()
    for s in (sa, sb):
        s.pop("timestamp"), s.pop("timing")
    assert sa == sb


def test_different_seeds_give_different_worlds():
    a = run(make_config("replicates=300", "horizon_days=200", "seed=1"))
    b = run(make_config("replicates=300", "horizon_days=200", "seed=2"))
    assert not np.array_equal(a.outcomes["escalation_day"], b.outcomes["escalation_day"], equal_nan=True)


def test_one_replicate_is_the_same_code():
    model, _ = simulate(make_config("replicates=1", "horizon_days=100", "seed=3"))
    assert model.tension.shape == (3, 1)
    assert model.day == 100 and not model.running


def test_daily_draws_depend_only_on_seed_world_site_and_day():
    """Counter-based streams: no state, so nothing the policy does can shift them (CRN), and world i
    draws the same numbers whatever R is (nested replicates)."""
    small, large = RandomStreams(5, 3, 1000), RandomStreams(5, 3, 2000)
    for day in (1, 2, 365):
        np.testing.assert_array_equal(large.parties(day)[..., :1000], small.parties(day))
        np.testing.assert_array_equal(large.tension(day)[:, :1000], small.tension(day))
        np.testing.assert_array_equal(large.trigger(day)[:, :1000], small.trigger(day))
        np.testing.assert_array_equal(large.observation(day)[..., :1000], small.observation(day))
    # Asking in another order, or for other days in between, changes nothing.
    fresh = RandomStreams(5, 3, 1000)
    fresh.observation(7)
    np.testing.assert_array_equal(fresh.parties(2), small.parties(2))
    assert not np.array_equal(small.parties(1), small.parties(2))
    assert not np.array_equal(small.parties(1), RandomStreams(6, 3, 1000).parties(1))


def test_daily_uniforms_are_uniform_and_independent_across_purposes():
    from scipy import stats

    s = RandomStreams(3, 3, 20_000)
    parties, tension, trigger = s.parties(10), s.tension(10), s.trigger(10)
    for u in (parties.ravel(), tension.ravel(), trigger.ravel(), s.observation(10).ravel()):
        assert u.min() > 0.0 and u.max() < 1.0
        assert stats.kstest(u, "uniform").pvalue > 0.001
    # The two sides' noise and the tension noise of one cell are uncorrelated.
    assert abs(np.corrcoef(parties[:, 0].ravel(), parties[:, 1].ravel())[0, 1]) < 0.02
    assert abs(np.corrcoef(parties[:, 0].ravel(), tension.ravel())[0, 1]) < 0.02


def test_the_daily_fast_paths_give_the_bits_of_their_definitions():
    """The model reads the day's noise through lookups and word arithmetic (RandomStreams.party_logit, noise_words,
    sim.model.uniform_noise16); each must give, bit for bit, what its definition gives from the uniforms: the
    parties' log(u / (1 - u)) (sim.agents.Party.choose_moves) and uniform_noise(u) of the tension and observers."""
    from sim.model import uniform_noise, uniform_noise16

    s = RandomStreams(5, 3, 4_000)
    u = s.parties(4)
    np.testing.assert_array_equal(s.party_logit(4), np.log(u / (1.0 - u)))
    np.testing.assert_array_equal(uniform_noise16(s.tension_words(4)), uniform_noise(s.tension(4)))
    np.testing.assert_array_equal(uniform_noise16(s.observation_words(4)), uniform_noise(s.observation(4)))
    np.testing.assert_array_equal(s.noise_words(4)[..., 0], s.tension_words(4))
    # Every one of the 65,536 words, not only those a run happens to draw.
    k = np.arange(1 << 16, dtype=np.uint16)
    every = (k + 0.5).astype(np.float32) * np.float32(2.0**-16)
    np.testing.assert_array_equal(uniform_noise16(k), uniform_noise(every))


def test_rare_events_by_words_are_the_cells_of_the_uniforms():
    """The day's triggers and preference shifts are found by comparing the 32-bit words with the words at which the
    uniform crosses each rate (PreventiveDiplomacyModel.rare_words): the same cells as comparing the uniforms, at
    the rates of the presets and at the edges (a rate between two neighbouring uniforms, none, every word)."""
    from sim.streams import first_word, unit32

    s = RandomStreams(3, 3, 20_000)
    u, high = s.trigger(9), s.trigger_words_high(9)
    for rate in (0.0, 1.0 / 365, 6.0 / 365, 52.0 / 365, float(unit32(np.uint32(123_456_789))), 1.0):
        below = first_word(lambda v, r=rate: ~(v < r))
        # The crossing itself: the last word below the rate is below it, the first one is not.
        assert below == 0 or (unit32(np.array([below - 1], dtype=np.uint32)) < rate).all()
        assert below == 1 << 32 or not (unit32(np.array([below], dtype=np.uint32)) < rate).any()
        expected = u < rate
        got = high < np.uint64(below << 32) if below < 1 << 32 else np.ones(u.shape, dtype=bool)
        np.testing.assert_array_equal(got, expected)
        above = first_word(lambda v, r=rate: v > 1.0 - r)
        got = high >= np.uint64(above << 32) if above < 1 << 32 else np.zeros(u.shape, dtype=bool)
        np.testing.assert_array_equal(got, u > 1.0 - rate)
    cells = np.flatnonzero(u.reshape(-1) < 0.01)
    np.testing.assert_array_equal(s.trigger_at(cells), u.reshape(-1)[cells])


def test_rare_words_per_site_are_the_words_of_each_rate():
    """Sites at their own trigger rates (world mode's history, ``trigger_multiplier``): the bisection on all rates at
    once (``first_words``) finds each rate's own crossing word, at the edges too (none, every word), and the model's
    per-(site, world) comparison marks exactly the cells whose uniform is below the site's rate."""
    from sim.streams import first_word, first_words, unit32

    rates = np.array([0.0, 1.0 / 365, 3.7 / 365, float(unit32(np.uint32(123_456_789))), 0.5, 1.0, 2.0],
                     dtype=np.float32)
    words = first_words(lambda v: ~(v < rates), rates.size)
    assert list(words) == [first_word(lambda v, r=r: ~(v < r)) for r in rates]

    m = PreventiveDiplomacyModel(make_config("replicates=5000", "scenario.sites.A.trigger_multiplier=3",
                                             "scenario.sites.C.trigger_multiplier=0"))
    rate = 1.0 / 365
    u, high = m.streams.trigger(9), m.streams.trigger_words_high(9)
    expected = u < (rate * np.array([[3.0], [1.0], [0.0]])).astype(np.float32)
    np.testing.assert_array_equal(high < m.trigger_thresholds(rate), expected)


def test_per_site_trigger_path_at_equal_rates_is_the_scalar_path():
    """Forcing the per-(site, world) trigger comparison with every multiplier 1 changes no outcome: the world's
    history only changes how often triggers come, not which uniforms decide them."""
    scalar = PreventiveDiplomacyModel(make_config("replicates=2000", "horizon_days=365"))
    forced = PreventiveDiplomacyModel(make_config("replicates=2000", "horizon_days=365"))
    assert scalar.trigger_multiplier is None
    forced.trigger_multiplier = np.ones((forced.n_sites, forced.replicates))
    scalar.run()
    forced.run()
    for name in ("tension", "phase", "first_escalation", "first_war", "conflict_days", "onsets", "settlements"):
        np.testing.assert_array_equal(getattr(forced, name), getattr(scalar, name), err_msg=name)


def test_nested_replicates_world_i_is_the_same_world_whatever_r():
    """The first 1,000 worlds of an R = 2,000 run are an R = 1,000 run, outcome for outcome."""
    small = run(make_config("replicates=1000", "horizon_days=365", "seed=4"))
    large = run(make_config("replicates=2000", "horizon_days=365", "seed=4"))
    for key in KEYS + ("warning_to_action_days", "warning_to_envoy_days"):
        np.testing.assert_array_equal(large.outcomes[key][:1000], small.outcomes[key])
        np.testing.assert_array_equal(large.twin_outcomes[key][:1000], small.twin_outcomes[key])


def test_one_more_day_of_lag_shifts_the_realised_gaps_by_one_day():
    """Rare draws (the Council's delay, funding, hand-over) are keyed by the engagement, not the calendar:
    a policy that acts a day later meets the same luck a day later."""
    base = ("replicates=2000", "horizon_days=365", "seed=8", "counterfactual.enabled=false")
    a = outcomes(*base, "policy.warning_to_action_lag_days=14")
    b = outcomes(*base, "policy.warning_to_action_lag_days=15")
    for key, share in (("warning_to_action_days", 0.97), ("warning_to_envoy_days", 0.9)):
        both = np.isfinite(a[key]) & np.isfinite(b[key])
        assert both.sum() > 500, key
        shift = b[key][both] - a[key][both]
        assert np.mean(shift == 1) >= share, (key, np.unique(shift, return_counts=True))


def test_worlds_the_policy_never_touched_are_identical_to_the_twin():
    cfg = ("replicates=2000", "horizon_days=200", "seed=9")
    policy, _ = simulate(make_config(*cfg))
    twin, _ = simulate(make_config(*cfg, "policy.intervene=false"))
    never = np.ones(policy.replicates, dtype=bool)
    for r in policy.responders:
        never &= (r.first_warning == np.iinfo(np.int32).max).all(axis=0)
    assert never.sum() > 20, "the test needs worlds without any warning"
    np.testing.assert_array_equal(policy.tension[:, never], twin.tension[:, never])
    assert not np.array_equal(policy.tension[:, ~never], twin.tension[:, ~never])


def test_keyed_draws_are_addressed_not_sequential():
    s1 = RandomStreams(4, 3, 20_000)
    idx = np.arange(50_000)
    a = s1.keyed_uniform(COUNCIL, idx, 17)
    s1.parties(3)  # using other draws in between changes nothing
    np.testing.assert_array_equal(s1.keyed_uniform(COUNCIL, idx[::-1], 17), a[::-1])
    assert not np.array_equal(a, s1.keyed_uniform(COUNCIL, idx, 18))
    assert not np.array_equal(a, s1.keyed_uniform(FUNDING, idx, 17))
    assert not np.array_equal(a, RandomStreams(5, 3, 20_000).keyed_uniform(COUNCIL, idx, 17))
    # The same (world, site) address gives the same number whatever R: flat indices differ, draws don't.
    other_r = RandomStreams(4, 3, 10_000)
    world, site = np.arange(10_000), np.full(10_000, 2)
    np.testing.assert_array_equal(other_r.keyed_uniform(COUNCIL, site * 10_000 + world, 17),
                                  s1.keyed_uniform(COUNCIL, site * 20_000 + world, 17))
    from scipy import stats

    assert stats.kstest(a, "uniform").pvalue > 0.001
    assert a.min() > 0.0 and a.max() < 1.0


def test_adding_envoys_does_not_shift_the_others_draws():
    small = PreventiveDiplomacyModel(make_config("replicates=50", "policy.roster_size=2"))
    large = PreventiveDiplomacyModel(make_config("replicates=50", "policy.roster_size=5"))
    for a, b in zip(small.un.mediators, large.un.mediators[:2], strict=True):
        np.testing.assert_array_equal(a.skill, b.skill)


def test_the_daily_quantiles_are_those_of_a_full_sort():
    """The day's tension quantiles (sim.model.quantiles: a histogram of the float32 bits, then a partition of the few
    buckets holding the ranks) are the values a full sort puts at those ranks: on tied, zero-heavy and spread-out
    values, with ranks sharing a bucket or each in its own."""
    from sim.model import QUANTILES, quantiles

    rng = np.random.default_rng(4)
    for trial in range(60):
        n = int(rng.integers(4096, 20_000))
        v = (rng.random(n) * [5.0, 1e-3, 4.0][trial % 3]).astype(np.float32)
        if trial % 4 == 1:
            v[: n // 2] = v[0]  # many ties
        if trial % 4 == 2:
            v[: n // 3] = 0.0  # calm worlds at exactly zero
        if trial % 4 == 3:
            v = np.round(v, 1)  # a few distinct values only
        ranks = np.minimum((np.asarray(QUANTILES) * n).astype(int), n - 1)
        np.testing.assert_array_equal(quantiles(v), np.sort(v)[ranks])
