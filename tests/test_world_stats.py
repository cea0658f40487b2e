"""World mode, data and statistics: the world's annual statistics (sim/world_stats.py) on a hand-built world whose
answers are worked out by hand; the country table configs/world/countries.csv and its invariants; the world targets
in docs/validation/ (re-derived from UCDP/PRIO when the dataset is at hand); the world figure and its command."""

import csv
import importlib.util
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from sim import patterns, world_stats
from sim.years import STATES, annual_statistics

REPO = Path(__file__).resolve().parent.parent
VALIDATION = REPO / "docs" / "validation"
COUNTRIES = REPO / "configs" / "world" / "countries.csv"
UCDP = REPO.parent / "shared" / "data" / "ucdp-prio-acd-211.csv"
COLUMNS = ["gwno", "name", "region", "neighbours", "conflict_years_1946_1989", "war_years_1946_1989",
           "last_active_year_before_1990", "state_1989"]
needs_data = pytest.mark.skipif(not UCDP.exists(), reason="UCDP/PRIO ACD 21.1 not at ../shared/data (not in the repo)")

# A hand-built world: 2 worlds x 3 countries x 10 years (1990-1999); 0 none, 1 minor, 2 war.
HAND = {
    0: {"A": [0, 1, 1, 2, 0, 0, 0, 0, 0, 0],
        "B": [1, 0, 0, 0, 0, 2, 0, 0, 0, 0],
        "C": [0, 0, 0, 0, 0, 0, 0, 0, 0, 0]},
    1: {"A": [2, 2, 0, 0, 0, 0, 0, 0, 1, 0],
        "B": [0, 0, 0, 0, 0, 0, 0, 0, 0, 0],
        "C": [0, 1, 0, 1, 0, 1, 0, 0, 0, 0]},
}
BEFORE = {"A": "war", "B": "none", "C": "none"}  # 1989: A was fighting, so A's 1990 is no onset
# Crisis-days waiting for an envoy, (years, worlds): world 0 one crisis all of 1990; world 1 two all of 1990 and
# 73 crisis-days (0.2 a day) in 1995.
WAITING = np.zeros((10, 2), dtype=np.int32)
WAITING[0] = (365, 730)
WAITING[5, 1] = 73


def hand_table(worlds=HAND) -> pd.DataFrame:
    recs = [{"world": w, "site": s, "year": y, "state": STATES[code], "days": 365}
            for w, sites in worlds.items() for s, seq in sites.items() for y, code in enumerate(seq)]
    t = pd.DataFrame(recs)
    t["state"] = pd.Categorical(t["state"], categories=list(STATES), ordered=True)
    return t


@pytest.fixture(scope="module")
def hand():
    return world_stats.world_statistics(hand_table(), 1990, WAITING, BEFORE)


def test_countries_in_conflict_and_at_war_by_hand(hand):
    # Active countries per year: world 0 [1,1,1,1,0,1,0,0,0,0] (5 country-years), world 1 [1,2,0,1,0,1,0,0,1,0] (6).
    s = hand["world_countries_in_conflict_per_year_1990s"]
    assert s.value == pytest.approx((0.5 + 0.6) / 2)
    assert s.count == pytest.approx(1.1) and s.n == 20  # sum of the worlds' means; 2 worlds x 10 years
    assert s.ci_low <= s.value <= s.ci_high and s.ci_high - s.ci_low > 0  # the worlds differ
    # At war: world 0 in 1993 (A) and 1995 (B), world 1 in 1990 and 1991 (A): 0.2 a year in both worlds.
    w = hand["world_countries_at_war_per_year_1990s"]
    assert w.value == pytest.approx(0.2) and w.ci_low == pytest.approx(0.2) and w.ci_high == pytest.approx(0.2)
    # Share of country-years at war: 4 war years of 11 active ones, clustered by world.
    share = hand["world_share_country_years_at_war_1990s"]
    assert share.value == pytest.approx(4 / 11) and share.n == 11 and share.count == 4


def test_onsets_by_hand(hand):
    # World 0: A 1991 (minor), B 1990 (minor), B 1995 (war) -> 3 onsets, 2 low-intensity.
    # World 1: A 1990 continues 1989's war (no onset), A 1998, C 1991, 1993, 1995 (all minor) -> 4, 4.
    assert hand["world_country_onsets_1990s"].value == pytest.approx(3.5)
    assert hand["world_country_onsets_1990s"].count == 7
    assert hand["world_country_onsets_low_intensity_1990s"].value == pytest.approx(3.0)
    # Without the year before the run, every country is at peace in 1989: world 1's A in 1990 becomes an onset
    # (at war, so not low-intensity).
    calm = world_stats.world_statistics(hand_table(), 1990)
    assert calm["world_country_onsets_1990s"].count == 8
    assert calm["world_country_onsets_low_intensity_1990s"].count == 6
    with pytest.raises(ValueError, match="before: states must be one of none, minor, war"):
        world_stats.world_statistics(hand_table(), 1990, before={"A": "fighting"})


def test_per_world_values_for_paired_comparisons():
    v = world_stats.world_values(hand_table(), 1990, WAITING, BEFORE)
    assert v["world"].tolist() == [0, 1]
    assert v["world_country_onsets_1990s"].tolist() == [3, 4]
    assert v["world_country_onsets_low_intensity_1990s"].tolist() == [2, 4]
    assert v["world_share_country_years_at_war_1990s"].tolist() == pytest.approx([2 / 5, 2 / 6])
    assert v["world_crises_waiting_per_day_1990s"].tolist() == pytest.approx([0.1, 0.22])
    stats = world_stats.world_statistics(hand_table(), 1990, WAITING, BEFORE)
    for name in v.columns.drop(["world", "world_share_country_years_at_war_1990s"]):
        assert v[name].mean() == pytest.approx(stats[name].value), name


def test_only_periods_the_run_covers(hand):
    assert "world_countries_in_conflict_per_year_2000s" not in hand
    assert "world_country_onsets_1990_2010" not in hand
    # The same ten years starting in 2000 are the 2000s, not the 1990s.
    later = world_stats.world_statistics(hand_table(), 2000)
    assert "world_country_onsets_2000s" in later and "world_country_onsets_1990s" not in later


def test_waiting_for_an_envoy_by_hand(hand):
    # Crises waiting per day over the 1990s: world 0 1/10, world 1 (2 + 0.2)/10.
    s = hand["world_crises_waiting_per_day_1990s"]
    assert s.value == pytest.approx((0.1 + 0.22) / 2)
    series = world_stats.annual_series(hand_table(), 1990, WAITING, BEFORE)
    assert series.loc[series["year"] == 1990, "crises_waiting_mean"].item() == pytest.approx(1.5)
    assert series.loc[series["year"] == 1995, "crises_waiting_mean"].item() == pytest.approx(0.1)
    assert series.loc[series["year"] == 1991, "crises_waiting_mean"].item() == 0
    with pytest.raises(ValueError, match="waiting must have shape"):
        world_stats.world_statistics(hand_table(), 1990, np.zeros((10, 3)))


def test_life_cycle_comes_from_sim_years(hand):
    # Recurrence within 5 years, episodes ending by 1994 (5 years of follow-up): world 0 A [1991-93] no, B [1990]
    # yes (1995); world 1 A [1990-91] no, C [1991] yes, C [1993] yes -> 3 of 5.
    r = hand["recurrence_same_conflict_5y"]
    assert (r.value, r.n) == (pytest.approx(0.6), 5)
    assert hand["recurrence_same_conflict_10y"].n == 0  # no episode has ten years of follow-up
    life = annual_statistics(hand_table())
    for name, stat in life.items():
        mine, theirs = list(hand[name].as_dict().values()), list(stat.as_dict().values())
        assert np.array_equal(mine, theirs, equal_nan=True), name


def test_annual_series_by_hand():
    s = world_stats.annual_series(hand_table(), 1990, before=BEFORE)
    assert s["year"].tolist() == list(range(1990, 2000))
    assert s["countries_in_conflict_mean"].tolist() == pytest.approx([1, 1.5, 0.5, 1, 0, 1, 0, 0, 0.5, 0])
    assert s["countries_at_war_mean"].tolist() == pytest.approx([0.5, 0.5, 0, 0.5, 0, 0.5, 0, 0, 0, 0])
    assert s["country_onsets_mean"].tolist() == pytest.approx([0.5, 1, 0, 0.5, 0, 1, 0, 0, 0.5, 0])
    assert s["country_onsets_low_intensity_mean"].tolist() == pytest.approx([0.5, 1, 0, 0.5, 0, 0.5, 0, 0, 0.5, 0])
    # The band holds the middle 90 % of worlds: 1991 has 1 and 2 countries in conflict.
    row = s[s["year"] == 1991].iloc[0]
    assert 1 <= row["countries_in_conflict_low"] < row["countries_in_conflict_high"] <= 2


def test_partial_last_year_is_left_out():
    t = hand_table()
    t.loc[t["year"] == 9, "days"] = 100
    s = world_stats.annual_series(t, 1990)
    assert s["year"].max() == 1998
    assert "world_country_onsets_1990s" not in world_stats.world_statistics(t, 1990)


def test_compare_world_gives_two_sided_verdicts():
    targets = patterns.load_targets()
    names = [n for n in world_stats.WORLD_TARGETS if n.endswith(("1990s", "2000s"))]

    def at(name, scale):
        v = targets[name]["value"] * scale
        return patterns.Stat(v, 500, v * 0.98, v * 1.02, v)

    good = {n: at(n, 1.0) for n in names}
    rows = world_stats.compare_world(good, targets)
    assert [r.target for r in rows] == names  # only what the run covers; no life cycle given here
    assert {r.verdict for r in rows} == {"consistent"}
    bad = dict(good, world_country_onsets_2000s=at("world_country_onsets_2000s", 3.0),
               world_countries_in_conflict_per_year_1990s=at("world_countries_in_conflict_per_year_1990s", 0.3))
    verdicts = {r.target: r.verdict for r in world_stats.compare_world(bad, targets)}
    assert verdicts["world_country_onsets_2000s"] == "too high"
    assert verdicts["world_countries_in_conflict_per_year_1990s"] == "too low"


# -- the country table ---------------------------------------------------------------------------------------------
@pytest.fixture(scope="module")
def countries():
    return pd.read_csv(COUNTRIES, dtype=str, keep_default_na=False)


def test_country_table_invariants(countries):
    assert list(countries.columns) == COLUMNS
    assert 140 <= len(countries) <= 165
    gw = countries["gwno"].astype(int)
    assert gw.is_unique and countries["name"].is_unique
    assert set(countries["region"]) == {"Africa", "Americas", "Asia", "Europe", "Middle East"}
    assert set(countries["state_1989"]) <= {"none", "minor", "war"}
    nb = {int(g): {int(x) for x in n.split()} for g, n in zip(countries["gwno"], countries["neighbours"], strict=True)}
    for a, ns in nb.items():
        assert a not in ns and ns <= set(nb), a
        for b in ns:
            assert a in nb[b], f"{a} lists {b} as a neighbour but not the other way round"
    years = countries["conflict_years_1946_1989"].astype(int)
    war = countries["war_years_1946_1989"].astype(int)
    last = countries["last_active_year_before_1990"]
    assert ((war >= 0) & (war <= years) & (years <= 44)).all()
    assert ((years == 0) == (last == "")).all()
    assert (last[last != ""].astype(int).between(1946, 1989)).all()
    fighting = countries["state_1989"] != "none"
    assert (last[fighting] == "1989").all()


def test_country_table_holds_well_known_facts(countries):
    by = countries.set_index(countries["gwno"].astype(int))
    # Conflict countries of 1990-2010 (UCDP), incl. states born in the 1990s and Yugoslavia (Serbia) as on 2000-01-01.
    for gw in (490, 625, 700, 345, 372, 850, 840, 100, 520, 451, 780, 531, 702):
        assert gw in by.index, gw
    assert "Sudan" in by.loc[625, "name"] and by.loc[625, "region"] == "Africa"
    assert by.loc[651, "region"] == "Middle East" and by.loc[600, "region"] == "Africa"  # UCDP's regions
    assert by.loc[900 if 900 in by.index else 910, "region"] == "Asia"  # Oceania goes with Asia
    assert {"490", "500", "510"} <= set(by.loc[517, "neighbours"].split())  # Rwanda: DRC, Uganda, Tanzania
    assert by.loc[41, "neighbours"] == "42" and by.loc[780, "neighbours"] == ""  # Haiti; Sri Lanka (island)
    assert by.loc[92, "state_1989"] == "war" and by.loc[2, "state_1989"] == "none"  # El Salvador; USA
    assert 740 not in by.index and 626 not in by.index  # Japan (no neighbour, no conflict); South Sudan (2011)


def test_country_table_is_readable_by_the_world_scenario():
    world = pytest.importorskip("sim.world")
    if not hasattr(world, "read_countries"):
        pytest.skip("sim.world has no read_countries")
    countries = world.read_countries("countries.csv")
    assert len(countries) == len(pd.read_csv(COUNTRIES))


def _load(name):
    spec = importlib.util.spec_from_file_location(name, VALIDATION / f"{name}.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


@needs_data
def test_country_table_rederived_from_data(tmp_path):
    derive = _load("derive_countries")
    out = tmp_path / "countries.csv"
    assert derive.main([str(UCDP), "--out", str(out)]) == 0
    assert out.read_text(encoding="utf-8") == COUNTRIES.read_text(encoding="utf-8")
    # Every location of a type 3-4 conflict 1946-2010 is a country of the world (predecessors mapped).
    loc = derive.load_locations(UCDP)
    listed = set(pd.read_csv(COUNTRIES)["gwno"])
    assert set(loc.loc[loc["year"] <= 2010, "gwno"]) <= listed


# -- the world targets -----------------------------------------------------------------------------------------
def test_world_targets_match_the_per_year_series():
    t = patterns.load_targets()
    years = pd.read_csv(VALIDATION / "ucdp_years.csv").set_index("year")
    for a, b, tag in world_stats.PERIODS:
        y = years.loc[a:b]
        assert y["countries_active"].mean() == pytest.approx(t[f"world_countries_in_conflict_per_year_{tag}"]["value"],
                                                             abs=0.006)
        assert y["countries_war"].mean() == pytest.approx(t[f"world_countries_at_war_per_year_{tag}"]["value"],
                                                          abs=0.006)
        assert y["country_onsets"].sum() == t[f"world_country_onsets_{tag}"]["value"]
        assert y["country_onsets_low_intensity"].sum() == t[f"world_country_onsets_low_intensity_{tag}"]["value"]
        share = t[f"world_share_country_years_at_war_{tag}"]
        assert share["value"] == pytest.approx(y["countries_war"].sum() / y["countries_active"].sum(), abs=1e-4)
        assert share["n"] == y["countries_active"].sum()
    assert (years["countries_war"] <= years["countries_active"]).all()
    assert (years["countries_active"] <= years["active"]).all()  # a country can hold several conflicts
    assert (years["country_onsets_low_intensity"] <= years["country_onsets"]).all()
    # The record's decline the decade experiment asks about: fewer countries in conflict and fewer onsets.
    assert t["world_countries_in_conflict_per_year_2000s"]["ci_high"] < \
        t["world_countries_in_conflict_per_year_1990s"]["ci_low"]
    assert t["world_country_onsets_2000s"]["value"] < t["world_country_onsets_1990s"]["value"]


@needs_data
def test_world_targets_rederived_from_data():
    derive = _load("derive_targets")
    df = derive.load(UCDP)
    rows = derive.world_rows(df)
    with open(VALIDATION / "ucdp_targets.csv", newline="", encoding="utf-8") as f:
        committed = [r for r in csv.DictReader(f) if r["target"].startswith("world_")]
    assert [r["target"] for r in rows] == [r["target"] for r in committed] == list(world_stats.WORLD_TARGETS)
    for new, old in zip(rows, committed, strict=True):
        assert derive.format_value(new["value"]) == old["value"] and str(new["n"]) == old["n"], old["target"]


# -- the figure ------------------------------------------------------------------------------------------------
def test_world_figure_and_command(tmp_path, capsys):
    from sim.analysis import world

    files = world.world_figure(hand_table(), tmp_path / "world.png", before=BEFORE)
    assert all(f.exists() and f.stat().st_size > 5000 for f in files)
    years = tmp_path / "years.parquet"
    hand_table().to_parquet(years)
    assert world.main([str(years), "--before", "none", "--out", str(tmp_path / "cli.png")]) == 0
    assert (tmp_path / "cli.png").exists() and (tmp_path / "cli.pdf").exists()
    assert world.main([str(tmp_path / "nope.parquet")]) == 2
    assert "nope.parquet: no such file" in capsys.readouterr().err
    assert world.main([str(years), "--start-year", "3000"]) == 2
    assert "--start-year = 3000 is out of range" in capsys.readouterr().err
    assert world.main([str(years), "--waiting", str(tmp_path / "none.npy")]) == 2
    assert "--waiting" in capsys.readouterr().err
    (tmp_path / "junk.parquet").write_text("not parquet")
    assert world.main([str(tmp_path / "junk.parquet")]) == 2
    assert "not a readable Parquet file" in capsys.readouterr().err


def test_world_command_footer_names_the_runs_seed(tmp_path):
    """The standalone command reads seed and version from the years file's own metadata (every result file carries
    them), so its figure's footer says which run it shows; a table written without them gives none."""
    import json

    import pyarrow as pa
    import pyarrow.parquet as pq

    from sim.analysis import world

    table = pa.Table.from_pandas(hand_table(), preserve_index=False)
    meta = {b"pdsim": json.dumps({"version": "9.9", "seed": 7, "timestamp": "t", "config": {}})}
    pq.write_table(table.replace_schema_metadata(meta), tmp_path / "years.parquet")
    assert world.run_provenance(tmp_path / "years.parquet") == {"seed": 7, "version": "9.9"}
    pq.write_table(table, tmp_path / "bare.parquet")
    assert world.run_provenance(tmp_path / "bare.parquet") == {}
