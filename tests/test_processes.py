"""Unit tests, one process at a time (docs/ODD.md section 7)."""

import functools

import numpy as np
import pytest

from sim.agents import NEVER, Stage
from sim.events import EventKind
from sim.model import PreventiveDiplomacyModel
from sim.results import world_outcomes
from sim.runner import simulate
from tests.conftest import make_config


def model(*overrides, **kw) -> PreventiveDiplomacyModel:
    return PreventiveDiplomacyModel(make_config(*overrides, **kw))


@functools.cache
def life_cycle(overrides: tuple[str, ...] = ()) -> dict:
    """The no-intervention baseline's annual statistics in UCDP terms (generic, 500 worlds x 30 years, seed 3), run
    once per set of overrides: the pattern tests' "on" arms all hold the committed values and share one run."""
    from sim.patterns import configure_baseline, run_baseline

    return run_baseline(configure_baseline(30, 500, 3, overrides=overrides))[1]


# -- events: triggers, spill-over, infrastructure for peace ------------------------------------------
def test_scheduled_election_triggers_every_world():
    m = model("replicates=50", "horizon_days=10", "scenario.sites.A.election_day=4", "scenario.trigger_rate_per_year=0")
    m.run()
    ev = m.events.columns()
    trig = ev["kind"] == EventKind.TRIGGER
    assert set(ev["day"][trig]) == {4}
    assert set(ev["site"][trig]) == {0}
    assert trig.sum() == 50


def test_trigger_multiplier_sets_a_sites_own_rate():
    """A site whose ``trigger_multiplier`` is 3 meets three times as many random triggers as its neighbour at 1
    (world mode's history of conflict, sim.world); the off arm (every site at 1) meets the same number at both. Poisson
    counts over 4,000 worlds x 365 days: the ratio's 95 % interval must hold 3 and exclude 1, and the reverse."""
    from scipy.stats import binomtest

    def ratio(multiplier):
        m = model("replicates=4000", "horizon_days=365", "policy.intervene=false",
                  f"scenario.sites.A.trigger_multiplier={multiplier}")
        m.run()
        ev = m.events.columns()
        trig = ev["kind"] == EventKind.TRIGGER
        a, b = int((ev["site"][trig] == 0).sum()), int((ev["site"][trig] == 1).sum())
        # Given a + b triggers, A's share is binomial with p = r / (r + 1) at rate ratio r: its interval maps to r's.
        low, high = binomtest(a, a + b).proportion_ci(0.95)
        return a / b, low / (1 - low), high / (1 - high)

    on, off = ratio(3), ratio(1)
    assert on[1] <= 3 <= on[2] and on[1] > 1, on
    assert off[1] <= 1 <= off[2] and off[2] < 3, off


def test_war_next_door_spills_over():
    def tension_of_b(with_war: bool):
        m = model("replicates=100", "scenario.trigger_rate_per_year=0")
        if with_war:
            m.tension[0] = 4.5
            m.phase[0] = 4  # at war (the phase, held with hysteresis, is what spills over)
        m.day = 1
        m.experience_events()
        return m.tension[1].copy()

    d = tension_of_b(True) - tension_of_b(False)
    np.testing.assert_allclose(d, make_config().dynamics.spillover_per_day, rtol=1e-5)


@pytest.mark.parametrize("infrastructure", [0.0, 0.5])
def test_infrastructure_for_peace_damps_shocks(infrastructure):
    m = model("replicates=100", "scenario.trigger_rate_per_year=0", "scenario.sites.A.election_day=1",
              f"scenario.sites.A.infrastructure_for_peace={infrastructure}")
    before = m.tension[0].copy()
    m.day = 1
    m.experience_events()
    d = m.dynamics if hasattr(m, "dynamics") else m.dyn
    expected = d.trigger_shock * 1.0 * (1 - d.infrastructure_damping * infrastructure)
    np.testing.assert_allclose(m.tension[0] - before, expected, rtol=1e-5)


@pytest.mark.parametrize(("halted_by", "grows_at"), [("war", {0, 1, 2, 3}), ("armed_conflict", {0, 1, 2}),
                                                   ("nothing", {0, 1, 2, 3, 4})])
def test_engagement_builds_no_infrastructure_for_peace_while_fighting(halted_by, grows_at):
    """Engagement at the envoy rung builds infrastructure for peace (§56, §72) except in the phases that
    ``dynamics.infrastructure_halted_by`` names: by default not in armed conflict (Collier et al. 2003). The UN is
    engaged at site A in every world, A's phase 0-4 by world; one day's growth must appear exactly where building goes
    on. ``nothing`` (the rule before the halt) is the off arm: there it grows in every phase, war included."""
    from sim.agents import ENVOY

    m = model("replicates=5", f"dynamics.infrastructure_halted_by={halted_by}", "dynamics.infrastructure_decay=0",
              "dynamics.infrastructure_war_loss=0")
    m.tension[0] = 3.0  # in crisis: the engagement stays ACTIVE for the day
    m.phase[0] = np.arange(5)
    m.un.stage[0] = Stage.ACTIVE.value
    m.un.rung[0] = ENVOY
    before = m.infrastructure[0].copy()
    m.sustain_or_wind_down()
    grew = {int(w) for w in np.flatnonzero(m.infrastructure[0] > before)}
    assert grew == grows_at, (halted_by, grew)


@pytest.mark.parametrize("loss", [0.005, 0.0])
def test_war_tears_down_infrastructure_for_peace(loss):
    """War destroys the infrastructure for peace (Collier et al. 2003): a share ``dynamics.infrastructure_war_loss``
    a day, at war only. Site A stands at phase 0-4 across worlds, nobody engaged, no ordinary decay: one day's loss
    must appear exactly in the world at war, and be that share. The off arm (0, the rule before) loses nothing."""
    m = model("replicates=5", "policy.intervene=false", "dynamics.infrastructure_decay=0",
              "scenario.sites.A.infrastructure_for_peace=0.4", f"dynamics.infrastructure_war_loss={loss}")
    m.tension[0] = 3.0
    m.phase[0] = np.arange(5)
    before = m.infrastructure[0].copy()
    m.sustain_or_wind_down()
    lost = before - m.infrastructure[0]
    assert {int(w) for w in np.flatnonzero(lost > 0)} == ({4} if loss else set())
    np.testing.assert_allclose(lost[4], loss * 0.4, rtol=1e-5)


# -- parties ---------------------------------------------------------------------------------------
def test_pressure_makes_parties_conciliate():
    m = model("replicates=20000")
    u = m.streams.parties(1)
    m.pressure[...] = 0.0
    m.parties[0].choose_moves(m, u)
    calm = m.moves[0].mean()
    m.pressure[0] = 1.0
    m.parties[0].choose_moves(m, u)
    pressed = m.moves[0].mean()
    assert pressed < calm - 0.2
    # Hardened positions discount pressure: the window for small steps closes (§47).
    m.hardening[0] = 3.0
    m.parties[0].choose_moves(m, u)
    assert pressed + 0.1 < m.moves[0].mean() < calm


def test_escalation_spirals_answer_the_other_side():
    m = model("replicates=20000")
    u = m.streams.parties(1)
    m.last_moves[...] = -1
    m.parties[0].choose_moves(m, u)
    after_conciliation = m.moves[0].mean()
    m.last_moves[...] = 1
    m.parties[0].choose_moves(m, u)
    assert m.moves[0].mean() > after_conciliation + 0.3


def test_hardening_grows_in_crisis_and_jumps_at_bloodshed():
    m = model("replicates=10", "horizon_days=1")
    d = m.dyn
    in_crisis = np.ones((3, 10), bool)
    blood = np.zeros((3, 10), bool)
    blood[0, :5] = True
    m.parties[0].harden(m, in_crisis, np.flatnonzero(blood), np.zeros((3, 10), bool))
    np.testing.assert_allclose(m.hardening[0, 0, :5], d.hardening_per_day + d.hardening_on_bloodshed, rtol=1e-6)
    np.testing.assert_allclose(m.hardening[0, 0, 5:], d.hardening_per_day, rtol=1e-6)


# -- observation and warning -------------------------------------------------------------------------
@pytest.mark.parametrize("early_warning", [0.0, 1.0])
def test_observation_noise_shrinks_with_early_warning(early_warning):
    m = model("replicates=20000", f"policy.early_warning={early_warning}")
    m.observe_and_warn()
    err = (m.observers["un"].signal - m.tension).std()
    expected = m.dyn.observer_noise_un * (1.5 - early_warning)
    assert abs(err / expected - 1) < 0.03


def test_information_sharing_sharpens_the_un_estimate():
    def error(share):
        m = model("replicates=5000", f"policy.information_sharing={share}", "policy.intervene=true")
        for _ in range(30):
            m.observe_and_warn()
        return np.abs(m.un.estimate - m.tension).mean()

    assert error(1.0) < 0.8 * error(0.0)


def test_warning_when_estimate_crosses_threshold_then_lag():
    m = model("replicates=10", "policy.warning_to_action_lag_days=12", "scenario.council_unity=1.0")
    m.day = 5
    m.un.estimate[0, :] = m.dyn.warning_threshold + 0.1
    m.un.estimate[1:, :] = 0.0
    m.un.issue_warnings()
    assert (m.un.stage[0] == Stage.WARNED).all() and (m.un.stage[1:] == Stage.IDLE).all()
    assert (m.un.act_day[0] == 17).all()  # united Council: no delay beyond the lag
    m.day = 16
    m.un.act()
    assert (m.un.stage[0] == Stage.WARNED).all()
    m.day = 17
    m.un.act()
    assert (m.un.stage[0] == Stage.ACTIVE).all() and (m.un.rung[0] == 0).all()


def test_realised_gap_equals_the_lag_with_a_united_council():
    out = world_outcomes(simulate(make_config("replicates=500", "policy.warning_to_action_lag_days=10",
                                              "scenario.council_unity=1.0"))[0])
    gap = out["warning_to_action_days"][np.isfinite(out["warning_to_action_days"])]
    assert gap.size > 100 and (gap == 10).all()


def test_divided_council_adds_delay():
    out = world_outcomes(simulate(make_config("replicates=2000", "policy.warning_to_action_lag_days=10",
                                              "scenario.council_unity=0.0", "scenario.regional_organisation=false"))[0])
    gap = out["warning_to_action_days"][np.isfinite(out["warning_to_action_days"])]
    delay = make_config().dynamics.council_delay_days
    assert gap.min() >= 10 and gap.max() <= 10 + delay
    assert abs(gap.mean() - (10 + delay / 2)) < 1.0


# -- mediators: flexibility, fit, credibility ----------------------------------------------------------
@pytest.mark.parametrize("flexibility", [0.0, 0.5, 1.0])
def test_flexible_mediators_adapt_to_local_preference(flexibility):
    m = model("replicates=4", f"policy.flexibility={flexibility}", "scenario.sites.A.local_preference=1.0")
    med = m.un.mediators[0]
    med.post(np.arange(4), np.zeros(4, dtype=int))
    for _ in range(10):
        med.adapt()
    rate = m.dyn.adaptation_rate * flexibility
    expected = 1 - (1 - m.dyn.default_approach) * (1 - rate) ** 10
    np.testing.assert_allclose(med.approach, expected, rtol=1e-5)


def test_mediator_effect_follows_fit_and_credibility():
    m = model("replicates=2", "scenario.sites.A.local_preference=1.0")
    med = m.un.mediators[0]
    med.post(np.arange(2), np.zeros(2, dtype=int))
    med.set_approach([0], 1.0)  # one fits, one is the opposite approach
    med.set_approach([1], 0.0)
    eff = med.effect()

    def at(name: str, world: int) -> float:  # a coefficient, per world under parameter uncertainty
        return float(np.ravel(m.coef_at(name, np.array([world])))[0])

    expected = ((1 - at("misfit_penalty", 1)) * med.skill[1] * med.credibility[1] * at("envoy_strength", 1)
                / (med.skill[0] * med.credibility[0] * at("envoy_strength", 0)))
    assert eff[1] / eff[0] == pytest.approx(expected, rel=1e-4)
    before = med.credibility.copy()
    setback = np.zeros((3, 2), bool)
    setback[0, 0] = True
    med.update_credibility(np.zeros((3, 2), bool), setback)
    assert med.credibility[0] == pytest.approx(before[0] - m.dyn.credibility_loss, rel=1e-5)
    assert med.credibility[1] == before[1]


# -- coordination ---------------------------------------------------------------------------------------
@pytest.mark.parametrize("coordination", [0.0, 0.5, 1.0])
def test_partners_combine_by_coordination(coordination):
    m = model("replicates=3", f"policy.coordination={coordination}")
    m.un.pressure = np.full((3, 3), 0.4, dtype=np.float32)
    m.regional.pressure = np.full((3, 3), 0.3, dtype=np.float32)
    m.combine_pressure()
    mu = m.dyn.mixed_message_penalty
    expected = max(0.4 + 0.3 * (coordination - mu * (1 - coordination)), 0)
    np.testing.assert_allclose(m.pressure, expected, rtol=1e-5)
    if coordination == 0.0:
        assert (m.pressure < 0.4).all()  # divided attention: worse than the UN alone
    if coordination == 1.0:
        np.testing.assert_allclose(m.pressure, 0.7, rtol=1e-5)


# -- roster queueing ------------------------------------------------------------------------------------
def test_roster_serves_the_worst_looking_request_first_and_queues_the_rest():
    """Triage (§62; Öberg et al. 2009: third parties select the hard cases): the only envoy goes to the waiting
    site with the highest estimated tension, whichever request came first; the other waits its turn."""
    m = model("replicates=1", "policy.roster_size=1", "scenario.regional_organisation=false")
    un = m.un
    un.stage[:2, 0] = Stage.ACTIVE
    un.envoy_ready_day[0, 0], un.envoy_ready_day[1, 0] = 5, 7
    un.estimate[0, 0], un.estimate[1, 0] = 2.1, 2.6  # site 1 asked later but looks worse
    un.waiting[:2, 0] = True  # both requests are ready: the agenda marks them on their ready days
    m.day = 8
    un.deploy()
    assert un.mediators[0].site[0] == 1 and un.has_envoy[1, 0] and not un.has_envoy[0, 0]
    m.day = 9
    un.deploy()
    assert not un.has_envoy[0, 0]  # still queued: the only envoy is busy
    done = np.zeros((3, 1), bool)
    done[1, 0] = True
    un.mediators[0].release(done)
    un.has_envoy[1, 0] = False
    un.stage[1, 0] = Stage.IDLE
    m.day = 10
    un.deploy()
    assert un.mediators[0].site[0] == 0 and un.first_envoy[0, 0] == 10


def test_free_envoys_take_the_worst_looking_sites_in_roster_order():
    """The roster's rule, run for all envoys at once (sim.agents.Envoys): in each world the k-th free envoy takes the
    k-th worst-looking waiting site, a busy envoy is skipped, and the arrivals are logged envoy by envoy."""
    m = model("replicates=2", "policy.roster_size=3", "scenario.regional_organisation=false")
    un = m.un
    un.mediators[1].post(np.array([0]), np.array([0]))  # envoy 1 is busy in world 0 (at site 0)
    un.stage[:, :] = Stage.ACTIVE
    un.estimate[:, 0] = [2.0, 2.5, 2.9]
    un.estimate[:, 1] = [2.2, 2.2, 2.2]
    un.waiting[1:, 0] = True  # world 0: sites 1 and 2 wait; site 2 looks worse
    un.waiting[2, 1] = True  # world 1: only site 2 waits
    m.day = 5
    un.deploy()
    assert [int(med.site[0]) for med in un.mediators] == [2, 0, 1]  # envoy 0 the worst, envoy 2 the next
    assert [int(med.site[1]) for med in un.mediators] == [2, -1, -1]
    assert not un.waiting.any() and un.has_envoy[1:, 0].all() and un.has_envoy[2, 1]
    ev = m.events.columns()
    arrived = ev["kind"] == EventKind.DEPLOYMENT
    assert ev["value"][arrived].tolist() == [0, 0, 2]  # envoy by envoy, each in world order
    places = list(zip(ev["world"][arrived].tolist(), ev["site"][arrived].tolist(), strict=True))
    assert places == [(0, 2), (1, 2), (0, 1)]
    # Released where its engagement winds down, an envoy is free again; the others stay.
    done = np.zeros((3, 2), bool)
    done[2, :] = True
    un.envoys.release(done)
    assert [int(med.site[0]) for med in un.mediators] == [-1, 0, 1] and int(un.mediators[0].site[1]) == -1


def test_agenda_returns_a_day_s_entries_in_the_order_scheduled():
    from sim.agents import Agenda

    agenda = Agenda()
    agenda.add("ready", np.array([7, 5, 7]), np.array([10, 11, 12]), np.zeros(3, dtype=np.int32))
    agenda.add("ready", 7, np.array([13]), np.zeros(1, dtype=np.int32))
    agenda.add("climb", 7, np.array([14]), np.zeros(1, dtype=np.int32))
    assert agenda.pop("ready", 5)[0].tolist() == [11]
    agenda.add("ready", 5, np.array([15]), np.zeros(1, dtype=np.int32))  # its day was taken already: never due
    assert agenda.pop("ready", 6)[0].size == 0
    assert agenda.pop("ready", 7)[0].tolist() == [10, 12, 13]
    assert agenda.pop("climb", 7)[0].tolist() == [14]
    agenda.add("climb", 9, np.array([20, 21]), np.zeros(2, dtype=np.int32))
    agenda.cancel("climb", np.array([20]))
    assert agenda.pop("climb", 9)[0].tolist() == [21]


# -- sustainability and relapse --------------------------------------------------------------------------
def test_engagement_winds_down_exactly_after_sustainability_days():
    m, _ = simulate(make_config("replicates=1000", "horizon_days=365", "policy.sustainability_days=40",
                                "policy.warning_to_action_lag_days=0"))
    ev = m.events.columns()
    key = lambda k: {(w, s, a): d for d, w, s, a in zip(ev["day"][ev["kind"] == k], ev["world"][ev["kind"] == k],  # noqa: E731
                                                           ev["site"][ev["kind"] == k], ev["actor"][ev["kind"] == k],
                                                           strict=True)}
    resolved, wound = key(EventKind.RESOLVED), key(EventKind.WIND_DOWN)
    assert len(wound) > 50
    # Each wind-down comes sustainability_days after the last resolution of that engagement.
    for place, day in list(wound.items())[:200]:
        resolutions = ev["day"][(ev["kind"] == EventKind.RESOLVED) & (ev["world"] == place[0])
                                & (ev["site"] == place[1]) & (ev["actor"] == place[2]) & (ev["day"] <= day)]
        assert day - resolutions.max() == 40
    assert resolved


def test_relapse_is_counted_when_a_resolved_site_returns_to_crisis():
    m = model("replicates=2", "horizon_days=5")
    m.been_in_crisis[0] = True
    m.tension[0] = 0.5
    m.sustain_or_wind_down()
    assert m.resolved[0].all() and (m.relapses == 0).all()
    m.tension[0] = [2.5, 1.5]
    m.sustain_or_wind_down()
    assert list(m.relapses) == [1, 0]


# -- the conflict life cycle: conflicts differ in how readily they end ----------------------------------------
def test_intractability_is_a_mean_one_draw_per_conflict_shared_by_the_twin():
    """Gamma with mean 1 and variance ``intractability_spread``, drawn per (site, world): the same in the policy
    run and its twin, the same world whatever R (nested replicates), and no draw at all when the spread is 0."""
    theta = 1.5
    big = model("replicates=20000", "horizon_days=1", f"dynamics.intractability_spread={theta}")
    z = big.intractability.astype(float)
    assert z.shape == (big.n_sites, 20000)
    assert abs(z.mean() - 1.0) < 4 * np.sqrt(theta / z.size)
    assert abs(z.var() - theta) < 0.1 * theta
    small = model("replicates=300", "horizon_days=1", f"dynamics.intractability_spread={theta}",
                  "policy.intervene=false")
    np.testing.assert_array_equal(small.intractability, big.intractability[:, :300])
    assert model("replicates=5", "horizon_days=1", "dynamics.intractability_spread=0").intractability is None


@pytest.mark.parametrize("mechanism", ["on", "off"])
def test_conflicts_that_differ_in_kind_give_the_record_s_long_tail(mechanism):
    """The record: about half of all episodes last one calendar year, yet one in six lasts seven years or more and
    the mean is twice the median (UCDP/PRIO, docs/validation/ucdp_targets.csv; Fearon 2004; Collier, Hoeffler &
    Soderbom 2004). The model gets the tail because conflicts differ in kind (``intractability_spread``, mean 1, so
    the average end hazard is unchanged). Off: every conflict alike, with every other life-cycle coefficient as
    fitted (war-weariness, ripeness, relief, the war's own end rate, the grievance spread across worlds): then the
    tail and the mean are too short for the record."""
    from sim.config import DynamicsConfig
    from sim.patterns import load_targets, verdict

    assert DynamicsConfig().intractability_spread > 0  # on: the committed spread
    stats = life_cycle(() if mechanism == "on" else ("dynamics.intractability_spread=0.0",))
    targets = load_targets()
    verdicts = {n: verdict(targets[n], stats[n]) for n in ("episode_share_7y_plus", "episode_duration_mean")}
    if mechanism == "on":
        assert set(verdicts.values()) == {"consistent"}, (verdicts, stats["episode_share_7y_plus"])
    else:
        assert "too low" in verdicts.values(), (verdicts, stats["episode_share_7y_plus"])


def test_a_conflict_s_kind_sets_how_it_is_fought():
    """One draw per conflict sets its kind: the ``conventional_share`` that end most readily are the conventional
    ones (their intractability Z above every other conflict's), and the war-cost brake is weighted by Z^-k. Shared
    by the twin and nested in R; no draw when the spread and the share are both 0."""
    theta, share, k = 1.5, 0.2, 0.8
    kind = (f"dynamics.intractability_spread={theta}", f"dynamics.conventional_share={share}",
            f"dynamics.war_cost_intractability={k}")
    big = model("replicates=20000", "horizon_days=1", *kind)
    z, conventional = big.intractability.astype(float), big.conventional
    assert abs(conventional.mean() - share) < 4 * np.sqrt(share * (1 - share) / conventional.size)
    assert z[conventional].min() > z[~conventional].max()  # the most readily ended kind, not a separate draw
    np.testing.assert_allclose(big.war_cost_weight, big.dyn.weight_war_cost * z ** -k, rtol=1e-5)
    small = model("replicates=300", "horizon_days=1", *kind, "policy.intervene=false")
    np.testing.assert_array_equal(small.conventional, conventional[:, :300])
    np.testing.assert_array_equal(small.war_cost_weight, big.war_cost_weight[:, :300])
    none = model("replicates=5", "horizon_days=1", "dynamics.intractability_spread=0", "dynamics.conventional_share=0")
    assert none.intractability is None and none.conventional is None
    assert none.war_cost_weight == none.dyn.weight_war_cost


def test_conventional_conflicts_break_out_as_wars_and_the_others_as_minor_conflict():
    """Where armed conflict breaks out, the conventional conflicts start at the war line; the others keep their
    tension and phase. Every other cell is left alone."""
    m = model("replicates=4000", "horizon_days=1", "dynamics.conventional_share=0.3")
    m.tension[0], m.phase[0] = 3.2, 3  # site 0 breaks out in every world today
    m.tension[1], m.phase[1] = 3.2, 3  # site 1 too, but it is not among today's outbreaks
    m.break_out(np.arange(m.replicates))  # flat cells of site 0
    conventional = m.conventional[0]
    assert 0.25 < conventional.mean() < 0.35
    assert (m.phase[0][conventional] == 4).all() and (m.tension[0][conventional] == 4.0).all()
    assert (m.phase[0][~conventional] == 3).all() and np.allclose(m.tension[0][~conventional], 3.2)
    assert (m.phase[1] == 3).all() and np.allclose(m.tension[1], 3.2)


@pytest.mark.parametrize("mechanism", ["on", "off"])
def test_mediation_bites_where_the_parties_are_war_weary(mechanism):
    """Ripeness (Zartman; Greig; Ruhe 2015): third parties' pull on the end of the fighting grows with the
    parties' war-weariness F, by (1 + mediation_ripeness x F); the hazard of a conflict ending on its own does not
    (the fit to the record puts ``settlement_fatigue`` at 0). Under the same pressure and the same keyed draws, a
    site two years weary settles at the ripe rate, a fresh one at the plain mediated rate. Off
    (``mediation_ripeness=0``): the weary site settles at the fresh rate, not the ripe one."""
    from sim.stats import proportion

    ripeness = 1.0 if mechanism == "on" else 0.0
    m = model("replicates=200000", "horizon_days=1", "dynamics.intractability_spread=0",
              "dynamics.settlement_fatigue=0", f"dynamics.mediation_ripeness={ripeness}")
    d, P, F = m.dyn, 0.3, 2.0
    m.tension[:2], m.phase[:2] = 3.2, 3  # sites 0 and 1 in minor armed conflict in every world
    m.fatigue[0], m.fatigue[1] = F, 0.0  # site 0 two years weary, site 1 fresh
    m.pressure[:2] = P
    m.episode[:2], m.episode_day[:2] = 1, 100
    m.end_or_fall_back()
    settled = np.isclose(m.tension[:2], d.settlement_tension)
    weary, fresh = proportion(settled[0]), proportion(settled[1])
    rate = d.end_rate_minor_per_year / 365.0
    p_fresh = rate * (1 + d.settlement_mediation * P)
    p_ripe = rate * (1 + d.settlement_mediation * P * (1 + 1.0 * F))
    assert fresh["ci_low"] <= p_fresh <= fresh["ci_high"], (fresh, p_fresh)
    if mechanism == "on":
        assert weary["ci_low"] <= p_ripe <= weary["ci_high"] and weary["ci_low"] > p_fresh, (weary, p_ripe)
    else:
        assert weary["ci_high"] < p_ripe, (weary, p_ripe)


def test_a_deadlocked_power_struggle_does_not_open_as_a_conventional_war():
    """Elites without armed followers (``site.deadlock`` > 0, Madagascar) have no armies to open a conventional war
    with: where armed conflict breaks out at a deadlocked site, it starts as minor conflict whatever its kind; the
    other sites keep their kind. Off: the same draws without the deadlock open the conventional ones as wars."""
    kind = ("replicates=4000", "horizon_days=1", "dynamics.conventional_share=0.3")
    deadlocked = model(*kind, "scenario.sites.A.deadlock=1.0")
    free = model(*kind)
    np.testing.assert_array_equal(deadlocked.intractability, free.intractability)  # the same conflicts, same kind
    assert not deadlocked.conventional[0].any() and free.conventional[0].mean() > 0.25
    np.testing.assert_array_equal(deadlocked.conventional[1:], free.conventional[1:])
    for m in (deadlocked, free):
        m.tension[0], m.phase[0] = 3.2, 3
        m.break_out(np.arange(m.replicates))  # armed conflict breaks out at site 0 in every world
    assert (deadlocked.phase[0] == 3).all()
    assert (free.phase[0] == 4).mean() > 0.25


#: The life cycle as fitted before conflicts' kind set how they are fought (git 38ba767, CALIBRATION.md of that
#: commit): the best the model found without the mechanism, so the off arm below is a real attempt to meet the
#: record without it, not the fitted set with one piece pulled out.
FIT_WITHOUT_KIND = ("dynamics.end_rate_minor_per_year=0.431", "dynamics.end_rate_war_per_year=0.00049",
                    "dynamics.war_fallback_per_year=0.622", "dynamics.settlement_fatigue=2.91",
                    "dynamics.weight_fatigue=0.0108", "dynamics.weight_war_cost=2.74", "dynamics.weight_fighting=0.126",
                    "dynamics.conflict_trap=0.292", "dynamics.intractability_spread=1.18",
                    "dynamics.conventional_share=0", "dynamics.war_cost_intractability=0")


@pytest.mark.parametrize("mechanism", ["on", "off"])
def test_conflicts_fought_by_their_kind_give_the_record_s_wars(mechanism):
    """The record: few minor conflicts become wars in a year (6 %), yet one episode in seven is a war in its first
    year (UCDP/PRIO, docs/validation/ucdp_targets.csv): wars mostly break out as wars, and the long conflicts are
    low-intensity insurgencies (Balcells & Kalyvas 2014; Fearon 2004). The model meets both when a conflict's kind
    sets how it is fought. Off: the best life cycle fitted without that (``FIT_WITHOUT_KIND``): its wars grow out of
    minor conflict, so wars in the first year are too rare or minor conflicts become wars too often."""
    from sim.patterns import load_targets, verdict

    stats = life_cycle(() if mechanism == "on" else FIT_WITHOUT_KIND)
    targets = load_targets()
    verdicts = {n: verdict(targets[n], stats[n]) for n in ("share_episodes_war_first_year", "transition_minor_to_war")}
    if mechanism == "on":
        assert set(verdicts.values()) == {"consistent"}, verdicts
    else:
        assert verdicts["share_episodes_war_first_year"] == "too low" or verdicts["transition_minor_to_war"] == \
            "too high", verdicts


#: The life cycle as fitted on 2026-11-30 before the refit that widened the search for the base end rate (git
#: 40feca7): an end hazard that starts low (0.431 a year) and rises steeply with war-weariness (settlement_fatigue
#: 2.91). The best the model found in that box: the off arm below.
FIT_RISING_HAZARD = ("dynamics.end_rate_minor_per_year=0.431", "dynamics.settlement_fatigue=2.91",
                     "dynamics.intractability_spread=1.18", "dynamics.war_fallback_per_year=0.622")


@pytest.mark.parametrize("mechanism", ["on", "off"])
def test_conflicts_that_end_early_give_the_record_s_one_year_episodes(mechanism):
    """The record: about half of all episodes are confined to one calendar year, yet one in six lasts seven years or
    more (UCDP/PRIO, docs/validation/ucdp_targets.csv). The model meets both with a high end hazard from the first
    day and conflicts that differ widely in kind (frailty: the long conflicts are the intractable ones), not with a
    hazard built up by war-weariness. Off: the earlier fit, whose hazard starts low and rises with weariness
    (``FIT_RISING_HAZARD``): its conflicts outlast the calendar year, so one-year episodes are too rare."""
    from sim.patterns import load_targets, verdict

    stats = life_cycle(() if mechanism == "on" else FIT_RISING_HAZARD)
    targets = load_targets()
    verdicts = {n: verdict(targets[n], stats[n]) for n in ("episode_share_1y", "episode_share_7y_plus")}
    if mechanism == "on":
        assert set(verdicts.values()) == {"consistent"}, (verdicts, stats["episode_share_1y"])
    else:
        assert verdicts["episode_share_1y"] == "too low", (verdicts, stats["episode_share_1y"])


# -- costs ---------------------------------------------------------------------------------------------------
def test_costs_are_priced_counts():
    base = ("replicates=500", "horizon_days=200", "seed=2")
    m, _ = simulate(make_config(*base))
    dear, _ = simulate(make_config(*base, "costs.envoy_per_day=20000"))
    a, b = world_outcomes(m), world_outcomes(dear)
    envoy_days = sum(med.deployed_days for r in m.responders for med in r.mediators)
    np.testing.assert_allclose(b["diplomacy_cost"] - a["diplomacy_cost"], envoy_days * 10_000.0)
    c = m.costs
    legacy = c.war_recovery_years * 365 * c.recovery_loss_share * c.war_per_day
    war_cost = (m.conflict_days - m.war_days) * c.armed_conflict_per_day + m.war_days * c.war_per_day
    war_cost = war_cost + legacy * (m.first_war < np.iinfo(np.int32).max)
    np.testing.assert_allclose(a["war_cost"], war_cost)
    assert (a["diplomacy_cost"] > 0).any()


def test_no_intervention_costs_nothing():
    m, _ = simulate(make_config("replicates=300", "horizon_days=200", "policy.intervene=false"))
    out = world_outcomes(m)
    assert (out["diplomacy_cost"] == 0).all()
    assert np.isnan(out["first_warning_day"]).all()
    assert all((r.first_action == NEVER).all() for r in m.responders)


@pytest.mark.parametrize("tool, top", [("statement", 0), ("fact_finding", 1), ("coercive", 2)])
def test_the_tool_ceiling_binds_both_actors(tool, top):
    """policy.tool caps the ladder for the UN and the regional organisation (whose own top is its envoys)."""
    m, _ = simulate(make_config("replicates=300", "horizon_days=200", f"policy.tool={tool}",
                                "policy.warning_to_action_lag_days=0", "scenario.council_unity=0.9"))
    assert m.regional.rung.max() == top
    assert m.un.rung.max() <= {"statement": 0, "fact_finding": 1, "coercive": 4}[tool]


def test_the_war_cost_brake_stays_finite_for_the_most_intractable_conflicts():
    """Under parameter uncertainty the spread of the intractability is drawn up to 4 and the brake's exponent up to 3,
    so some conflicts draw Z near 0 and Z^-k overflows float32: the weight is capped (a brake of 1e30 stops any war)
    so the parties' propensity never turns NaN; the capped conflicts never reach war."""
    import warnings

    with warnings.catch_warnings():
        warnings.simplefilter("error")  # an overflow or an invalid multiplication would raise here
        m = model("replicates=4000", "horizon_days=60", "dynamics.intractability_spread=4",
                  "dynamics.war_cost_intractability=3", "policy.intervene=false")
        m.run()
    weight = m.war_cost_weight
    assert np.isfinite(weight).all() and (weight > 0).all()
    assert (weight == np.float32(1e30)).any()  # some conflicts are capped at this spread
    assert np.isfinite(m.tension).all()
