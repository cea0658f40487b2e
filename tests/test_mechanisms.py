"""The report's claims as mechanism checks (MODEL_GUIDE.md): statistical tests with fixed seeds, paired
comparisons under common random numbers and 95 % intervals that must exclude the null.

Each claim runs twice: with its mechanism on (the interval must exclude "no effect") and with the
mechanism switched off (the same test must then find no effect, or the opposite) — so every test is
seen to fail when the mechanism it checks is absent. An "off" arm removes only the channel under test
and leaves the rest of the model running — the other ways engagement acts (infrastructure built while an
envoy is engaged, inducements' moral hazard, crying wolf, mediation's pull on settlements of fighting
already under way) stay on, so an "off" arm is a real attempt to make the claim fail by another route.
"""

import numpy as np
import pytest

from sim.stats import paired_difference
from tests.conftest import outcomes, paired_mean_difference

R = "replicates=3000"
SWITCH = pytest.mark.parametrize("mechanism", ["on", "off"])
#: The parties ignore third parties' pressure; every other channel of engagement stays on.
NO_EFFECT = ("scenario.party_will=0",)


@SWITCH
def test_escalation_rises_with_warning_to_action_lag(mechanism):
    """§47: the warning-response gap. Off: both ways by which acting sooner helps are cut — the parties ignore
    third parties' pressure, and engagement builds no infrastructure for peace (an envoy engaged sooner builds it
    sooner: with it left on, acting sooner still helps by 0.7 points [0.0, 1.3]); moral hazard and crying wolf
    still act: then acting sooner must not help."""
    off = (*NO_EFFECT, "dynamics.infrastructure_growth=0") if mechanism == "off" else ()
    late = outcomes(R, "policy.warning_to_action_lag_days=60", *off)
    early = outcomes(R, "policy.warning_to_action_lag_days=0", *off)
    d = paired_difference(late["escalated"], early["escalated"])
    if mechanism == "on":
        assert d["ci_low"] > 0, d
    else:  # no benefit left to lose by waiting; the harms (moral hazard, crying wolf) may even favour it
        assert d["ci_low"] <= 0, d


@SWITCH
def test_small_step_early_beats_large_step_late(mechanism):
    """§47: in the critical first year, a statement of concern within days beats a mission three months on.
    (Over two years the mission catches up and overtakes: the claim is about the window, README "Things to
    notice".) Off: the same timing for both — then the larger step wins, as it should."""
    late_lag = 90 if mechanism == "on" else 3
    large_late = outcomes(R, "policy.tool=mission", f"policy.warning_to_action_lag_days={late_lag}")
    small_early = outcomes(R, "policy.tool=statement", "policy.warning_to_action_lag_days=3")
    d = paired_difference(large_late["escalated_within_1y"], small_early["escalated_within_1y"])
    if mechanism == "on":
        assert d["ci_low"] > 0, d
    else:
        assert d["ci_high"] < 0, d


@SWITCH
def test_flexibility_helps_most_where_local_preference_differs(mechanism):
    """§49: the gain from flexibility is larger where the parties prefer indirect talks (the default
    approach is direct). Off: a mismatched approach costs nothing (misfit_penalty 0)."""
    off = ("dynamics.misfit_penalty=0",) if mechanism == "off" else ()

    def gain(preference):
        rigid = outcomes(R, f"scenario.sites.A.local_preference={preference}", "policy.flexibility=0", *off)
        flexible = outcomes(R, f"scenario.sites.A.local_preference={preference}", "policy.flexibility=1", *off)
        return rigid["escalated"].astype(float) - flexible["escalated"].astype(float)

    mean, low, high = paired_mean_difference(gain(1.0), gain(0.0))
    if mechanism == "on":
        assert low > 0, (mean, low, high)
    else:
        assert low <= 0 <= high, (mean, low, high)


@SWITCH
def test_coordinated_partners_beat_a_lone_actor(mechanism):
    """§51-52: UN and regional organisation with a joint mechanism beat the UN alone.
    Off: the partner adds nothing: no weight with the parties, no shared information, no infrastructure."""
    off = ("dynamics.regional_legitimacy=0", "dynamics.leverage_incentives=0", "policy.information_sharing=0",
           "dynamics.infrastructure_growth=0") if mechanism == "off" else ()
    lone = outcomes(R, "scenario.regional_organisation=false", *off)
    together = outcomes(R, "policy.coordination=1", "policy.burden_sharing=0", *off)
    d = paired_difference(lone["escalated"], together["escalated"])
    if mechanism == "on":
        assert d["ci_low"] > 0, d
    else:
        assert d["ci_low"] <= 0, d


@SWITCH
def test_divided_attention_can_do_worse_than_one_actor(mechanism):
    """§16: 'strong but divided international attention' is the hardest case. Two uncoordinated
    actors send mixed messages. Off: mixed messages cost nothing (mixed_message_penalty 0). The other cost of
    division, deciding who does what (next test), is off in both arms so that this one stands alone."""
    off = ("dynamics.mixed_message_penalty=0",) if mechanism == "off" else ()
    alone = ("dynamics.coordination_delay_days=0",)
    divided = outcomes(R, "policy.coordination=0", *alone, *off)
    lone = outcomes(R, "scenario.regional_organisation=false", *alone, *off)
    d = paired_difference(divided["escalated"], lone["escalated"])
    if mechanism == "on":
        assert d["ci_low"] > 0, d
    else:
        assert d["ci_low"] <= 0, d


#: Madagascar under its responders' levers: in crisis from day 0 and a 60-day lag, so the parties have hardened by the
#: time help comes and heed little pressure; what the envoys do there, they do through the infrastructure for peace
#: their engagement builds (docs/ODD.md, section 10).
HARDENED = ("scenario=madagascar_2009", "policy=madagascar_2009")


@SWITCH
def test_deciding_who_does_what_makes_divided_partners_worse_than_one_actor(mechanism):
    """§52: partnership is "hampered by the lack of a joint mechanism to decide, in real time, who does what".
    Divided partners both on the case must first agree who sends the envoy: it arrives later than the lone
    actor's, and two divided actors do worse than one alone even where the parties are too hardened for mixed
    messages to matter. Off: the partners agree at once (coordination_delay_days 0) while mixed messages, the
    regional organisation's legitimacy, information and infrastructure all stay on: then two divided actors are
    no worse than the UN alone."""
    off = ("dynamics.coordination_delay_days=0",) if mechanism == "off" else ()
    divided = outcomes(R, *HARDENED, "policy.coordination=0", *off)
    lone = outcomes(R, *HARDENED, "scenario.regional_organisation=false", *off)
    d = paired_difference(divided["escalated"], lone["escalated"])
    gap, low, high = paired_mean_difference(divided["warning_to_envoy_days"], lone["warning_to_envoy_days"])
    if mechanism == "on":
        assert d["ci_low"] > 0, d
        assert low > 0, (gap, low, high)  # the first envoy comes later than the lone actor's
    else:
        assert d["ci_low"] <= 0, d


RELAPSE_WORLD = ("scenario.trigger_rate_per_year=3", "horizon_days=730")


@SWITCH
def test_winding_down_at_once_raises_relapse(mechanism):
    """§56-57: engagement that recedes once the critical moment passes invites relapse.
    Off: the two channels through which staying acts are cut — the parties ignore pressure and engagement
    builds no infrastructure for peace; triggers, the life cycle and every other mechanism run as before."""
    off = ("scenario.party_will=0", "dynamics.infrastructure_growth=0") if mechanism == "off" else ()
    at_once = outcomes(R, *RELAPSE_WORLD, "policy.sustainability_days=0", *off)
    stays = outcomes(R, *RELAPSE_WORLD, "policy.sustainability_days=365", *off)
    mean, low, high = paired_mean_difference(at_once["relapses"], stays["relapses"])
    if mechanism == "on":
        assert low > 0, (mean, low, high)
    else:  # staying then brings only its harms (inducements' moral hazard): no fewer relapses, or more
        assert low <= 0, (mean, low, high)


@SWITCH
def test_infrastructures_for_peace_lower_relapse(mechanism):
    """§56: national infrastructures for peace damp grievance and shocks.
    Off: infrastructure damps nothing (infrastructure_damping 0)."""
    off = ("dynamics.infrastructure_damping=0",) if mechanism == "off" else ()
    weak = outcomes(R, *RELAPSE_WORLD, "scenario.sites.A.infrastructure_for_peace=0.1", *off)
    strong = outcomes(R, *RELAPSE_WORLD, "scenario.sites.A.infrastructure_for_peace=0.6", *off)
    mean, low, high = paired_mean_difference(weak["relapses"], strong["relapses"])
    if mechanism == "on":
        assert low > 0, (mean, low, high)
    else:
        assert low <= 0 <= high, (mean, low, high)


CLUSTER = [f"scenario.sites.{s}.{f}" for s in "BC" for f in ("initial_tension=1.9", "grievance=2.1")]


@SWITCH
def test_small_roster_delays_response_when_crises_cluster(mechanism):
    """§62: with three crises at once, one envoy makes the others wait.
    Off: one crisis only (the neighbours stay calm), so there is nothing to queue for."""
    cluster = CLUSTER if mechanism == "on" else ["scenario.sites.B.grievance=0.5", "scenario.sites.C.grievance=0.5",
                                                  "scenario.sites.B.initial_tension=0.3",
                                                  "scenario.sites.C.initial_tension=0.3",
                                                  "scenario.trigger_rate_per_year=0"]
    common = (R, "scenario.regional_envoys=0", *cluster)
    small = outcomes(*common, "policy.roster_size=1")
    large = outcomes(*common, "policy.roster_size=6")
    key = "warning_to_envoy_days_all_sites"
    mean, low, high = paired_mean_difference(small[key], large[key])
    if mechanism == "on":
        assert low > 0, (mean, low, high)
    else:
        assert low <= 0 <= high, (mean, low, high)


@SWITCH
def test_prevention_costs_a_small_fraction_of_the_war_it_averts(mechanism):
    """§8: diplomacy costs a small fraction of the war cost it averts. Upper 95 % bound (paired
    bootstrap over worlds) of extra diplomacy cost / war cost averted below 10 %.
    Off: the two channels by which engagement averts war are cut — the parties ignore pressure and
    engagement builds no infrastructure for peace — so little is averted and the claim must fail."""
    off = ("scenario.party_will=0", "dynamics.infrastructure_growth=0") if mechanism == "off" else ()
    policy = outcomes(R, *off)
    twin = outcomes(R, "policy.intervene=false", *off)
    extra = policy["diplomacy_cost"] - twin["diplomacy_cost"]
    averted = twin["war_cost"] - policy["war_cost"]
    rng = np.random.default_rng(0)
    idx = rng.integers(0, extra.size, (1000, extra.size))
    boot_averted = averted[idx].mean(axis=1)
    ratios = np.where(boot_averted > 0, extra[idx].mean(axis=1) / np.maximum(boot_averted, 1e-9), 1e9)
    upper = float(np.quantile(ratios, 0.975))
    if mechanism == "on":
        assert upper < 0.10, upper
    else:
        assert not upper < 0.10, upper
