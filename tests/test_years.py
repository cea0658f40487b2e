"""Per-world years in UCDP terms (sim/years.py): coding, the years table, its files, and the annual statistics
on a hand-built table whose answers are worked out by hand."""

import math
from types import SimpleNamespace

import numpy as np
import pandas as pd
import pytest

from sim import years
from sim.years import MINOR, NONE, WAR, annual_statistics, code_state, years_table

# Two worlds, one site each, 14 years (0 none, 1 minor, 2 war). Worked by hand below.
W0 = [0, 1, 1, 2, 0, 0, 1, 0, 0, 0, 0, 0, 0, 0]
W1 = [1, 2, 2, 1, 0, 0, 0, 0, 0, 0, 0, 1, 0, 0]


def hand_table(rows=(W0, W1)) -> pd.DataFrame:
    recs = [{"world": w, "site": "A", "year": y, "state": years.STATES[s], "days": 365}
            for w, seq in enumerate(rows) for y, s in enumerate(seq)]
    t = pd.DataFrame(recs)
    t["state"] = pd.Categorical(t["state"], categories=list(years.STATES), ordered=True)
    return t


@pytest.fixture(scope="module")
def hand():
    return annual_statistics(hand_table())


def test_coding_thresholds_are_the_named_constants():
    a, w = years.ACTIVE_MIN_DAYS, years.WAR_MIN_DAYS
    conflict = np.array([0, a - 1, a, 365, w, 365])
    war = np.array([0, 0, 0, w - 1, w, 365])
    assert code_state(conflict, war).tolist() == [NONE, NONE, MINOR, MINOR, WAR, WAR]
    # The thresholds are arguments: a stricter active bar turns a minor year into none.
    assert code_state([40], [0], active_min_days=60).tolist() == [NONE]
    assert code_state([100], [50], war_min_days=40).tolist() == [WAR]


def test_transitions_by_hand(hand):
    # From minor: 6 years (W0: t1, t2, t6; W1: t0, t3, t11): 2 to war, 3 end, 1 stays minor.
    assert hand["transition_minor_to_war"].n == 6
    assert hand["transition_minor_to_war"].value == pytest.approx(2 / 6)
    assert hand["transition_minor_to_inactive"].value == pytest.approx(3 / 6)
    # From war: 3 years (W0: t3 -> none; W1: t1 -> war, t2 -> minor).
    assert hand["transition_war_to_minor"].value == pytest.approx(1 / 3)
    assert hand["transition_war_to_inactive"].value == pytest.approx(1 / 3)
    assert hand["transition_active_to_inactive"].value == pytest.approx(4 / 9)
    assert hand["share_conflict_years_at_war"].value == pytest.approx(3 / 9)
    s = hand["transition_minor_to_inactive"]  # 1 of 3 in W0, 2 of 3 in W1: worlds differ
    assert s.ci_low < s.value < s.ci_high  # an interval, clustered by world


def test_durations_by_hand(hand):
    # Episodes: W0 [1-3] (war), [6]; W1 [0-3] (war), [11]; all end before the last year.
    assert hand["episodes_completed_n"].n == 4
    assert hand["episode_duration_median"].value == 2.0
    assert hand["episode_duration_mean"].value == pytest.approx((3 + 1 + 4 + 1) / 4)
    assert hand["episode_share_1y"].value == pytest.approx(0.5)
    assert hand["episode_share_7y_plus"].value == 0.0
    assert hand["share_episodes_ever_war"].value == pytest.approx(0.5)
    assert hand["share_episodes_war_first_year"].value == 0.0


def test_recurrence_and_hazard_by_hand(hand):
    # 5 years: episodes ending <= 8: W0 end 3 (back in 6: yes), W0 end 6 (no), W1 end 3 (no).
    r5 = hand["recurrence_same_conflict_5y"]
    assert (r5.n, r5.value) == (3, pytest.approx(1 / 3))
    # 10 years: episodes ending <= 3: W0 end 3 (back in 6), W1 end 3 (back in 11).
    r10 = hand["recurrence_same_conflict_10y"]
    assert (r10.n, r10.value) == (2, 1.0)
    # Post-conflict hazard: 8 eligible years in each world, one onset in each (W0 t=6, W1 t=11).
    h = hand["post_conflict_onset_hazard"]
    assert (h.n, h.count, h.value) == (16, 2, pytest.approx(0.125))


def test_right_censored_episode_is_not_completed():
    t = hand_table(([0, 1, 1, 0, 0, 1, 1],))  # the second episode is still active in the last year
    s = annual_statistics(t)
    assert s["episodes_completed_n"].n == 1 and s["episodes_n"].n == 2
    assert s["episode_duration_mean"].value == 2.0


def test_partial_last_year_is_left_out():
    t = hand_table(([1, 0, 1],))
    t.loc[t["year"] == 2, "days"] = 100  # the horizon ends 100 days into year 2
    s = annual_statistics(t)
    assert s["transition_minor_to_inactive"].n == 1  # only the pair (0, 1)
    assert s["episodes_n"].n == 1


def fake_model(R=3, S=2, horizon=400, seed=0):
    rng = np.random.default_rng(seed)
    Y = years.n_years(horizon)
    war = rng.integers(0, 120, size=(Y, S, R)).astype(np.int16)
    conflict = (war + rng.integers(0, 200, size=(Y, S, R))).astype(np.int16)
    return SimpleNamespace(year_conflict_days=conflict, year_war_days=war, site_names=["A", "B"][:S],
                           replicates=R, horizon=horizon)


def test_years_table_from_the_model_interface():
    m = fake_model()
    t = years_table(m)
    Y, S, R = m.year_conflict_days.shape
    assert list(t.columns) == list(years.COLUMNS)
    assert len(t) == R * S * Y == 3 * 2 * 2
    row = t[(t["world"] == 2) & (t["site"] == "B") & (t["year"] == 1)].iloc[0]
    assert row["conflict_days"] == m.year_conflict_days[1, 1, 2] and row["war_days"] == m.year_war_days[1, 1, 2]
    assert row["state"] == years.STATES[code_state(row["conflict_days"], row["war_days"])]
    assert t["days"].tolist()[:2] == [365, 35]  # 400 days: the second year is partial
    assert list(t["state"].cat.categories) == ["none", "minor", "war"]
    assert years_table(years.counts_of(m)).equals(t)  # the light stand-in a runner can keep instead


def test_save_years_prefers_attached_counts(tmp_path):
    result = SimpleNamespace(model=None, twin_model=None, years=years.counts_of(fake_model()), twin_years=None)
    written = years.save_years(result, tmp_path)
    assert [p.name for p in written] == ["years.parquet"]
    assert len(pd.read_parquet(written[0])) == 12


def test_years_parquet_written_and_consistent_with_outcomes(tmp_path):
    """A real run writes years.parquet and twin_years.parquet; summed over years and sites, each world's days in
    armed conflict and at war equal its outcomes."""
    from sim.runner import configure, run

    cfg = configure("replicates=60", "horizon_days=400", "seed=3", "output.events=false", "output.plot=false",
                    "output.progress=false", "scenario.sites.A.grievance=2.6")
    result = run(cfg)
    result.save(tmp_path)
    for name, outcomes in (("years", result.outcomes), ("twin_years", result.twin_outcomes)):
        t = pd.read_parquet(tmp_path / f"{name}.parquet")
        assert len(t) == 60 * len(cfg.scenario.sites) * 2
        per_world = t.groupby("world")[["conflict_days", "war_days"]].sum()
        assert np.array_equal(per_world["conflict_days"].to_numpy(), outcomes["conflict_days"])
        assert np.array_equal(per_world["war_days"].to_numpy(), outcomes["war_days"])
        assert t["conflict_days"].max() > 0  # the check above is not 0 == 0
        assert set(t["state"].astype(str)) <= set(years.STATES)


def test_counting_fallback_matches_model_totals():
    """Per-year counts (the model's own, or counted here for a model that keeps none) add up to its totals."""
    from sim.model import PreventiveDiplomacyModel
    from sim.runner import configure

    cfg = configure("replicates=40", "horizon_days=500", "policy.intervene=false", "counterfactual.enabled=false",
                    "output.events=false", "scenario.sites.A.grievance=2.6")
    m = years.run_counting_years(PreventiveDiplomacyModel(cfg))
    conflict, war = years.year_days(m)
    assert conflict.shape == (2, len(cfg.scenario.sites), 40)
    assert np.array_equal(conflict.sum(axis=(0, 1)), m.conflict_days)
    assert np.array_equal(war.sum(axis=(0, 1)), m.war_days)
    assert (conflict >= war).all() and conflict[1].max() <= 135 and conflict.max() <= 365


def test_statistics_missing_when_no_case():
    s = annual_statistics(hand_table(([0, 1, 1, 0, 0],)))  # never at war
    assert s["transition_war_to_minor"].n == 0 and math.isnan(s["transition_war_to_minor"].value)
