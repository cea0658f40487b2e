"""Reproducibility and common random numbers (§59-60: the counterfactual twin)."""

import numpy as np

from sim.model import PreventiveDiplomacyModel
from sim.runner import run, simulate
from sim.streams import COUNCIL, RandomStreams
from tests.conftest import make_config

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


def test_policy_and_twin_draw_the_same_numbers():
    """The shared processes' streams end in the same state whatever the policy did (CRN)."""
    policy = PreventiveDiplomacyModel(make_config("replicates=400", "horizon_days=200", "seed=5"))
    twin = PreventiveDiplomacyModel(make_config("replicates=400", "horizon_days=200", "seed=5",
                                                "policy.intervene=false"))
    other = PreventiveDiplomacyModel(make_config("replicates=400", "horizon_days=200", "seed=5",
                                                 "policy.warning_to_action_lag_days=90", "policy.roster_size=9",
                                                 "policy.tool=coercive"))
    for m in (policy, twin, other):
        m.run()
    for name in ("triggers", "parties", "tension"):
        state = policy.streams.states()[name]
        assert twin.streams.states()[name] == state
        assert other.streams.states()[name] == state
    # Two policies that both intervene also share the observation stream.
    assert other.streams.states()["observation"] == policy.streams.states()["observation"]


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
    s1, s2 = RandomStreams(4), RandomStreams(4)
    idx = np.arange(50_000)
    a = s1.keyed_uniform(COUNCIL, 17, idx)
    s2.triggers.random(1000)  # using another stream in between changes nothing
    np.testing.assert_array_equal(s2.keyed_uniform(COUNCIL, 17, idx[::-1]), a[::-1])
    assert not np.array_equal(a, s1.keyed_uniform(COUNCIL, 18, idx))
    assert not np.array_equal(a, RandomStreams(5).keyed_uniform(COUNCIL, 17, idx))
    # Uniform on (0, 1): Kolmogorov-Smirnov distance small, mean and variance right.
    from scipy import stats

    assert stats.kstest(a, "uniform").pvalue > 0.001
    assert a.min() > 0.0 and a.max() < 1.0


def test_adding_envoys_does_not_shift_the_others_draws():
    small = PreventiveDiplomacyModel(make_config("replicates=50", "policy.roster_size=2"))
    large = PreventiveDiplomacyModel(make_config("replicates=50", "policy.roster_size=5"))
    for a, b in zip(small.un.mediators, large.un.mediators[:2], strict=True):
        np.testing.assert_array_equal(a.skill, b.skill)
