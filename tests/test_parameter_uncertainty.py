"""Parameter uncertainty (docs/ODD.md 7.11): every coefficient with a plausible range is drawn once per ensemble
member, and each world applies its own member's draw wherever the coefficient acts (block arithmetic, per-cell
reads, the responders' leverage, the bias of a mediator), in every preset and in world mode."""

from __future__ import annotations

from dataclasses import fields

import numpy as np
import pytest

import sim.model
from sim.agents import Party
from sim.config import DynamicsConfig, coefficient_key, uncertain_coefficients
from sim.levers import preset_overrides
from sim.model import MAX_TENSION, PreventiveDiplomacyModel, uniform_noise16
from sim.runner import configure, run
from sim.streams import PARAMETERS
from tests.conftest import make_config

#: The behavioural coefficients given a range on 30 Nov 2026 (issue 6, item 8); held fixed before.
NEWLY_DRAWN = ("hardening_decay", "settlement_hardening_relief", "tension_noise", "infrastructure_growth",
               "infrastructure_decay", "infrastructure_war_loss", "credibility_gain", "credibility_loss",
               "adaptation_rate", "mediator_credibility", "leverage_unity", "leverage_incentives", "information_value",
               "regional_legitimacy", "mediator_bias")

DEFAULTS = make_config().dynamics


def drawn(*overrides: str, replicates: int = 4, members: int = 4) -> PreventiveDiplomacyModel:
    """A model whose worlds draw their coefficients: world w is member w mod ``members``."""
    return PreventiveDiplomacyModel(make_config("uncertainty.enabled=true", f"uncertainty.members={members}",
                                                f"replicates={replicates}", *overrides))


def differs_from_default(m: PreventiveDiplomacyModel, name: str) -> None:
    """The drawn values are not the default, so a check that holds for them would fail were the default applied."""
    default = getattr(DEFAULTS, name)
    assert np.abs(getattr(m.dyn, name) - default).max() > 1e-3 * (abs(default) or 1.0), name


# -- the ranges and the draws ---------------------------------------------------------------------------------
def test_every_range_has_two_ends_inside_the_allowed_range_around_the_default():
    ranges = uncertain_coefficients()
    assert set(NEWLY_DRAWN) <= set(ranges)
    for f in fields(DynamicsConfig):
        if "plausible" not in f.metadata:
            continue
        lo, hi = f.metadata["plausible"]
        allowed_lo, allowed_hi = f.metadata["range"]
        assert allowed_lo <= lo < hi <= allowed_hi, f.name
        assert lo <= f.default <= hi, f.name
    # No end switches a newly drawn mechanism off; only the bias spans 0 (its sign is a side, not a direction).
    assert all(ranges[n][0] > 0 for n in NEWLY_DRAWN if n != "mediator_bias")
    assert ranges["mediator_bias"][0] < 0 < ranges["mediator_bias"][1]


def test_every_coefficient_with_a_range_is_drawn_once_per_member():
    m = drawn(replicates=40, members=8)
    for name, (lo, hi) in uncertain_coefficients().items():
        v = getattr(m.dyn, name)
        assert isinstance(v, np.ndarray) and v.shape == (40,) and v.dtype == np.float32, name
        assert (v >= np.float32(lo)).all() and (v <= np.float32(hi)).all(), name
        per_member = [np.unique(v[m.member == k]) for k in range(8)]
        assert all(u.size == 1 for u in per_member), name  # one set per member, shared by its worlds
        assert np.unique(np.concatenate(per_member)).size == 8, name  # and a different one in each member
    fixed = PreventiveDiplomacyModel(make_config("replicates=40"))
    assert all(np.ndim(getattr(fixed.dyn, n)) == 0 for n in uncertain_coefficients())  # off: the defaults


def test_a_coefficients_draw_is_keyed_by_its_name_not_by_the_others(monkeypatch):
    """Giving another coefficient a range (or taking one away) leaves a coefficient's draws as they were."""
    m = drawn(replicates=10, members=5)
    lo, hi = uncertain_coefficients()["tension_noise"]
    u = m.streams.address_uniform(PARAMETERS, m.member, 0, coefficient_key("tension_noise"))
    np.testing.assert_array_equal(m.dyn.tension_noise, (lo + (hi - lo) * u).astype(np.float32))
    monkeypatch.setattr(sim.model, "uncertain_coefficients", lambda: {"tension_noise": (lo, hi)})
    alone = drawn(replicates=10, members=5)
    np.testing.assert_array_equal(alone.dyn.tension_noise, m.dyn.tension_noise)
    assert np.ndim(alone.dyn.credibility_loss) == 0  # the others are back at their defaults
    assert len({coefficient_key(n) for n in uncertain_coefficients()}) == len(uncertain_coefficients())


# -- each world applies its own draw ------------------------------------------------------------------------------
def test_an_envoys_credibility_follows_its_worlds_draws():
    """Mediators (sim.agents): a fresh posting's credibility, its gain with progress and its loss on a setback."""
    m = drawn()
    d = m.dyn
    med = m.un.mediators[0]
    med.post(np.arange(4), np.zeros(4, dtype=int))
    np.testing.assert_array_equal(med.credibility, d.mediator_credibility)
    none = np.zeros((m.n_sites, 4), bool)
    setback = none.copy()
    setback[0] = True
    med.update_credibility(none, setback)
    lost = d.mediator_credibility - d.credibility_loss
    np.testing.assert_allclose(med.credibility, lost, rtol=1e-6)
    med.update_credibility(setback, none)  # a day of progress at the same site
    np.testing.assert_allclose(med.credibility, lost + d.credibility_gain * (1 - lost), rtol=1e-6)
    for name in ("mediator_credibility", "credibility_loss", "credibility_gain"):
        differs_from_default(m, name)


def test_leverage_information_and_pressure_follow_each_worlds_draws():
    """The model's leverage (§11, §53) and information (Fey & Ramsay 2010) per (site, world), and the pressure of a
    rung and of an envoy that they scale."""
    m = drawn("scenario.council_unity=0.6", "policy.financial_incentives=0.5", "policy.early_warning=0.4",
              "scenario.sites.A.local_preference=0.0")
    d, S = m.dyn, m.n_sites
    un = np.broadcast_to(0.5 + d.leverage_unity * 0.6 + d.leverage_incentives * 0.5, (S, 4))
    np.testing.assert_allclose(m.un.leverage, un, rtol=1e-6)
    regional = np.broadcast_to(d.regional_legitimacy + 0.5 * d.leverage_incentives * 0.5, (S, 4))
    np.testing.assert_allclose(m.regional.leverage, regional, rtol=1e-6)
    np.testing.assert_allclose(m.information, 1 - d.information_value * 0.6, rtol=1e-6)
    # A statement at site 0 in every world: rung strength x the world's leverage x its tool strength scale.
    m.un.rung[0] = 0
    m.un._refresh_base(np.arange(4))  # site 0's flat cells are the worlds
    np.testing.assert_allclose(m.un.base[0], m.rung_strength[1] * un[0] * d.tool_strength_scale, rtol=1e-6)
    # An envoy at site 0 (its approach fits the preference): strength x credibility x skill x leverage x information.
    med = m.un.mediators[0]
    med.post(np.arange(4), np.zeros(4, dtype=int))
    expected = d.envoy_strength * d.mediator_credibility * med.skill * un[0] * m.information
    np.testing.assert_allclose(med.effect(), expected, rtol=1e-5)
    for name in ("leverage_unity", "leverage_incentives", "regional_legitimacy", "information_value"):
        differs_from_default(m, name)


def test_the_tension_update_applies_each_worlds_noise():
    m = drawn("policy.intervene=false", replicates=6, members=6)
    d = m.dyn
    m.moves[...] = 0
    m.effective_grievance[...] = m.grievance
    before = m.tension.copy()
    noise = uniform_noise16(m.streams.tension_words(m.day).copy())
    m.update_tension()
    drift = before + (m.effective_grievance - before) * d.reversion
    np.testing.assert_allclose(m.tension, np.clip(drift + noise * d.tension_noise, 0, MAX_TENSION), atol=1e-6)
    assert not np.allclose(m.tension, np.clip(drift + noise * DEFAULTS.tension_noise, 0, MAX_TENSION), atol=1e-6)
    differs_from_default(m, "tension_noise")


def test_hardening_and_the_infrastructure_for_peace_follow_each_worlds_draws():
    """Positions soften by the world's decay; a settlement removes the world's share of hardening (a per-cell
    update); the infrastructure decays, and war tears it down, at the world's rates."""
    m = drawn("policy.intervene=false", replicates=6, members=6)
    d, S = m.dyn, m.n_sites
    m.hardening[...] = 1.0
    Party.harden(m, np.zeros((S, 6), bool), np.array([], dtype=np.int64), np.ones((S, 6), bool))
    np.testing.assert_allclose(m.hardening, np.broadcast_to(1 - d.hardening_decay, m.hardening.shape), rtol=1e-6)
    # Armed conflict at site 0 in every world, ending for sure: the settlement's relief of hardening.
    m.hardening[...] = 1.0
    m.phase[...] = 0
    m.phase[0] = 3
    m.dyn.end_rate_minor_per_year = np.full(6, 1e9, dtype=np.float32)
    m.end_or_fall_back()
    assert m.settlements.tolist() == [1] * 6
    np.testing.assert_allclose(m.hardening[0], np.broadcast_to(1 - d.settlement_hardening_relief, (2, 6)), rtol=1e-6)
    assert (m.hardening[1:] == 1.0).all()
    # War at site 0: the infrastructure decays everywhere, and where there is war it is torn down as well.
    m.phase[0] = 4
    m.infrastructure[...] = 0.5
    m.sustain_or_wind_down()
    kept = 0.5 - d.infrastructure_decay * 0.5
    np.testing.assert_allclose(m.infrastructure[0], kept - d.infrastructure_war_loss * kept, rtol=1e-6)
    np.testing.assert_allclose(m.infrastructure[1:], np.broadcast_to(kept, (S - 1, 6)), rtol=1e-6)
    for name in ("hardening_decay", "settlement_hardening_relief", "infrastructure_decay", "infrastructure_war_loss"):
        differs_from_default(m, name)


@pytest.mark.parametrize("hypothesis", ["rauchhaus", "kydd"])
def test_a_mediators_bias_is_drawn_per_world_to_either_side(hypothesis):
    m = drawn(f"dynamics.bias_hypothesis={hypothesis}", replicates=8, members=8)
    b = m.dyn.mediator_bias.astype(np.float64)
    assert (b < 0).any() and (b > 0).any()
    if hypothesis == "kydd":  # the favoured side heeds more, the other as an impartial mediator's
        expected = np.stack([1 + np.maximum(b, 0), 1 + np.maximum(-b, 0)])
    else:  # both sides heed less
        expected = np.stack([1 - np.abs(b) / 2] * 2)
    assert m.side_factor.shape == (1, 2, 8)
    np.testing.assert_allclose(m.side_factor[0], expected, rtol=1e-6)


# -- whole runs ----------------------------------------------------------------------------------------------------
def finite_outcomes(result) -> None:
    for outcomes in (result.outcomes, result.twin_outcomes):
        for name, values in outcomes.items():
            values = np.asarray(values)
            if values.dtype.kind == "f":
                assert not np.isinf(values).any(), name
        for name in ("escalated", "conflict_days", "diplomacy_cost", "war_cost", "final_infrastructure"):
            assert np.isfinite(np.asarray(outcomes[name], dtype=float)).all(), name
    block = result.summary()["parameter_uncertainty"]
    assert np.isfinite([block["escalation"]["estimate"], block["prevented"]["estimate"]]).all()


@pytest.mark.parametrize("preset", ["generic", "kenya_2008", "guinea_2009", "great_lakes_2008", "sudan_2011",
                                    "kyrgyzstan_2010", "madagascar_2009"])
def test_a_short_run_under_uncertainty_is_finite_in_every_preset(preset):
    finite_outcomes(run(configure(*preset_overrides(preset), "replicates=40", "horizon_days=150",
                                  "uncertainty.enabled=true", "uncertainty.members=4", "output.events=false",
                                  "output.plot=false", "output.progress=false"), keep_models=False))


def test_a_short_world_run_under_uncertainty_is_finite():
    finite_outcomes(run(configure("scenario=world", "replicates=4", "horizon_days=365", "uncertainty.enabled=true",
                                  "uncertainty.members=2", "output.events=false", "output.plot=false",
                                  "output.progress=false"), keep_models=False))


def test_stacked_sweep_points_under_uncertainty_get_the_numbers_of_their_own_runs():
    """Levers combined with a drawn coefficient (flexibility x adaptation_rate, coordination x mixed_message_penalty)
    are per world in a stack too (``by_policy``): each point sees its own run's numbers."""
    from sim.sweep.stack import run_stack

    base = ("replicates=60", "horizon_days=150", "uncertainty.enabled=true", "uncertainty.members=3",
            "output.plot=false", "output.progress=false")
    configs = [configure(*base, "policy.flexibility=0.9", "policy.coordination=0.2"),
               configure(*base, "policy.flexibility=0.1", "policy.coordination=0.8")]
    for config, stacked in zip(configs, run_stack(configs), strict=True):
        alone = run(config, keep_models=False)
        for a, s in ((alone.outcomes, stacked.outcomes), (alone.twin_outcomes, stacked.twin_outcomes)):
            assert [k for k in a if not np.array_equal(a[k], s[k], equal_nan=True)] == []
