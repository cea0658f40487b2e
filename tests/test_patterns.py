"""Pattern-oriented validation against UCDP/PRIO ACD 21.1 (docs/validation/).

(a) the committed targets table is whole, documented and carries denominators and intervals; (b) re-deriving it
from the dataset, when at hand (``../shared/data/ucdp-prio-acd-211.csv``), gives exactly the committed files;
(c) verdicts are two-sided and fail when the model is far off; (d) ``python -m sim.patterns`` runs end to end;
(e) data and model share one pattern: conflict history raises the risk of (re)escalation.
"""

import csv
import importlib.util
import math
from pathlib import Path

import pytest

from sim import patterns
from sim.patterns import COLUMNS, COMPARED, TARGETS_PATH, compare, distance, load_targets, no_intervention, verdict
from sim.stats import paired_difference
from sim.years import Stat

REPO = Path(__file__).resolve().parent.parent
VALIDATION = REPO / "docs" / "validation"
UCDP = REPO.parent / "shared" / "data" / "ucdp-prio-acd-211.csv"
SHARES = (
    "share_conflict_years_at_war", "episode_share_1y", "episode_share_7y_plus", "transition_minor_to_war",
    "transition_war_to_minor", "transition_minor_to_inactive", "transition_war_to_inactive",
    "transition_active_to_inactive", "recurrence_same_conflict_5y", "recurrence_same_conflict_10y",
    "recurrence_share_onsets", "recurrence_share_onsets_2000s", "post_conflict_onset_hazard",
    "share_episodes_ever_war", "share_episodes_war_first_year",
    *(f"share_conflict_years_at_war_{d}s" for d in (1990, 2000, 2010)),
)


@pytest.fixture(scope="module")
def targets():
    return load_targets()


def test_targets_file_has_documented_columns():
    assert TARGETS_PATH == VALIDATION / "ucdp_targets.csv"
    with open(TARGETS_PATH, newline="", encoding="utf-8") as f:
        reader = csv.DictReader(f)
        rows = list(reader)
    assert tuple(reader.fieldnames) == COLUMNS
    assert 30 <= len(rows) <= 60  # 33 single-crisis rows and 15 world_ rows
    assert all(r["target"] and r["unit"] and r["definition"] and r["period"] and r["n"] for r in rows)
    assert len({r["target"] for r in rows}) == len(rows)
    readme = (VALIDATION / "README.md").read_text(encoding="utf-8")
    for needle in ("21.1", "Gleditsch", "39(5)", "Davies", "58(4)", "sha256", "Derived:", "ACTIVE_MIN_DAYS",
                   "Denominators and intervals", "too high"):
        assert needle in readme
    for r in rows:  # every target is documented in the README
        assert f"`{r['target']}`" in readme
    assert set(COMPARED) <= {r["target"] for r in rows}


def test_targets_are_plausible(targets):
    v = {k: t["value"] for k, t in targets.items()}
    for name in SHARES:
        assert 0.0 < v[name] < 1.0, name
    for name, t in targets.items():  # every target carries its denominator and an interval around it
        assert t["n"] >= 1 and t["ci_low"] <= t["value"] <= t["ci_high"], name
    assert v["episode_duration_median"] >= 1
    assert v["episode_duration_mean"] >= v["episode_duration_median"]  # right-skewed durations
    assert 20 <= v["active_conflicts_per_year"] <= 60
    for decade in ("1990s", "2000s", "2010s"):
        assert 10 <= v[f"active_conflicts_per_year_{decade}"] <= 70
        assert 20 <= v[f"onsets_{decade}"] <= 200
        assert v[f"onsets_low_intensity_{decade}"] <= v[f"onsets_{decade}"]
    # The exits from minor conflict and from war are shares of one denominator each.
    assert v["transition_minor_to_war"] + v["transition_minor_to_inactive"] < 1
    assert v["transition_war_to_minor"] + v["transition_war_to_inactive"] < 1
    assert targets["transition_minor_to_war"]["n"] == targets["transition_minor_to_inactive"]["n"]
    # Wars end more often into minor conflict than minor conflicts become wars (year on year).
    assert v["transition_war_to_minor"] > v["transition_minor_to_war"]
    assert v["recurrence_same_conflict_5y"] <= v["recurrence_same_conflict_10y"]
    assert v["share_episodes_war_first_year"] <= v["share_episodes_ever_war"]
    assert v["recurrence_share_onsets"] > 0.5
    assert v["post_conflict_onset_hazard"] > 0.05
    for n in ("episodes_n", "episodes_completed_n", "onsets_recurrence_n"):
        assert v[n] == int(v[n]) and v[n] >= 100


def test_per_year_series_matches_the_targets(targets):
    with open(VALIDATION / "ucdp_years.csv", newline="", encoding="utf-8") as f:
        rows = {int(r["year"]): r for r in csv.DictReader(f)}
    assert min(rows) == 1946 and max(rows) == 2020
    active = [int(rows[y]["active"]) for y in range(1990, 2000)]
    assert sum(active) / 10 == pytest.approx(targets["active_conflicts_per_year_1990s"]["value"])
    assert sum(int(rows[y]["onsets"]) for y in range(2000, 2010)) == targets["onsets_2000s"]["value"]
    assert all(int(r["minor"]) + int(r["war"]) == int(r["active"]) for r in rows.values())


@pytest.mark.skipif(not UCDP.exists(), reason="UCDP/PRIO ACD 21.1 not at ../shared/data (not part of the repo)")
def test_rederiving_gives_committed_tables(tmp_path):
    spec = importlib.util.spec_from_file_location("derive_targets", VALIDATION / "derive_targets.py")
    derive = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(derive)
    assert derive.main([str(UCDP), "--out", str(tmp_path), "--date", "2000-01-01"]) == 0
    for name in ("ucdp_targets.csv", "ucdp_years.csv"):
        assert (tmp_path / name).read_text(encoding="utf-8") == (VALIDATION / name).read_text(encoding="utf-8")
    readme = (VALIDATION / "README.md").read_text(encoding="utf-8")
    assert derive.sha256(UCDP) in readme  # the committed provenance names this very file


def stat(value, half=0.01, n=500):
    return Stat(value, n, value - half, value + half, value * n)


def test_verdicts_are_two_sided_and_can_fail(targets):
    t = targets["transition_minor_to_war"]  # 0.059 [0.039, 0.079]
    assert verdict(t, stat(0.6)) == "too high"
    assert verdict(t, stat(0.002, 0.001)) == "too low"
    assert verdict(t, stat(t["value"])) == "consistent"
    assert verdict(t, Stat(math.nan, 0, math.nan, math.nan)) == "missing"
    assert verdict(t, Stat(0.3, 6, 0.0, 0.8)) == "too few cases"  # a wide interval from 6 cases is no pass
    assert patterns.z_score(t, Stat(0.3, 6, 0.0, 0.8)) == patterns.MISSING_Z
    # Just outside the band fails; the tolerance is what separates the two.
    lo, hi = patterns.band(t, 0.2)
    assert verdict(t, stat(hi + 0.011), 0.2) == "too high"
    assert verdict(t, stat(hi + 0.011), 1.0) == "consistent"


def test_compare_and_distance_on_a_fake_model(targets):
    good = {n: stat(targets[n]["value"]) for n in COMPARED}
    bad = dict(good, transition_war_to_inactive=stat(0.9), episode_duration_mean=stat(1.0, 0.1))
    rows = compare(bad, targets)
    by = {r.target: r.verdict for r in rows}
    assert by["transition_war_to_inactive"] == "too high" and by["episode_duration_mean"] == "too low"
    assert sum(v == "consistent" for v in by.values()) == len(COMPARED) - 2
    assert distance(good, targets) == pytest.approx(0.0)
    assert distance(bad, targets) > 20


def test_patterns_command_writes_the_comparison(tmp_path, capsys, targets):
    out = tmp_path / "patterns.csv"
    assert patterns.main(["--years", "4", "--replicates", "30", "--out", str(out),
                          "scenario.sites.A.grievance=2.6"]) == 0
    with open(out, newline="", encoding="utf-8") as f:
        rows = list(csv.DictReader(f))
    assert [r["target"] for r in rows] == list(COMPARED)
    assert {r["verdict"] for r in rows} <= {"consistent", "too high", "too low", "missing", "too few cases"}
    assert all(float(r["observed"]) == targets[r["target"]]["value"] for r in rows)
    assert int(rows[0]["model_n"]) > 0  # the model produced minor conflict-years to compute transitions from
    assert "consistent" in capsys.readouterr().out


@pytest.mark.parametrize("args, words", [
    (["--replicates", "0"], "--replicates = 0 is out of range"),
    (["--years", "1"], "--years = 1 is out of range"),
    (["policy.flexibilty=0.5"], "flexibilty"),
])
def test_patterns_bad_input_exits_2(args, words, capsys):
    assert patterns.main(args) == 2
    assert words in capsys.readouterr().err


@pytest.mark.parametrize("mechanism", ["on", "off"])
def test_conflict_history_raises_escalation(mechanism):
    """Data and model share it: conflict history raises the risk of (re)escalation (§29; Mueller; UCDP recurrence).
    Same seed for both arms (common random numbers), no intervention. Off: the conflict trap is switched off, so
    history changes nothing and the test's interval must include zero."""
    off = ("dynamics.conflict_trap=0",) if mechanism == "off" else ()
    history = no_intervention(2000, 11, True, *off)
    none = no_intervention(2000, 11, False, *off)
    d = paired_difference(history["escalated"], none["escalated"])
    if mechanism == "on":
        assert d["ci_low"] > 0, d
    else:
        assert d["ci_low"] <= 0 <= d["ci_high"], d
